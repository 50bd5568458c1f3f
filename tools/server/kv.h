// The batch and its KV cache: the two places where the server meets the
// library's KV memory. Creating the batch sizes the cache; reading its use
// feeds the /metrics gauges.
//
// The library is gaining a paged KV cache shared by a batch's sequences
// (tsr_llm_batch_create_ex with tsr_llm_batch_options.n_kv_blocks,
// tsr_llm_batch_kv_usage). Until tessera_llm.h declares them, each sequence
// owns a whole n_ctx cache, the use is reported as tokens held, and
// --kv-blocks is refused; wiring them is a change to kv.cpp alone.
#pragma once

#include <cstdint>
#include <string>

#include "tessera/tessera_llm.h"

namespace tessera_server {

// True when this build's library has a shared, block-allocated KV pool.
bool kv_pool_supported();

// A batch of n_seq sequences; kv_blocks > 0 sizes the shared KV pool (only
// when kv_pool_supported()). nullptr with *error on failure.
tsr_llm_batch* create_batch(tsr_llm* model, int32_t n_seq, int32_t kv_blocks, std::string* error);

struct KvUsage {
  int64_t tokens = 0;                           // tokens in the caches of all sequences
  int64_t blocks_in_use = 0, blocks_total = 0;  // 0 total: no shared pool
};

// Called by the thread that owns the batch.
KvUsage read_kv_usage(const tsr_llm_batch* batch, int32_t n_seq);

}  // namespace tessera_server
