// The batch and its KV cache: the two places where the server meets the
// library's KV memory. The batch's sequences share one paged KV pool
// (tsr_llm_batch_create_ex): --kv-blocks sizes it (0: room for every slot's
// whole context), and its use feeds the /metrics gauges.
#pragma once

#include <cstdint>
#include <string>

#include "tessera/tessera_llm.h"

namespace tessera_server {

// A batch of n_seq sequences; kv_blocks > 0 sizes the shared KV pool.
// nullptr with *error (the library's message) on failure.
tsr_llm_batch* create_batch(tsr_llm* model, int32_t n_seq, int32_t kv_blocks, std::string* error);

struct KvUsage {
  int64_t tokens = 0;                           // tokens in the caches of all sequences
  int64_t blocks_in_use = 0, blocks_total = 0;  // the shared pool
  int64_t blocks_shared = 0;                    // held by several slots (a shared prompt prefix)
};

// Called by the thread that owns the batch.
KvUsage read_kv_usage(const tsr_llm_batch* batch, int32_t n_seq);

}  // namespace tessera_server
