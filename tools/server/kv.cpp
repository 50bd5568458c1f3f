#include "tools/server/kv.h"

namespace tessera_server {

bool kv_pool_supported() { return false; }

tsr_llm_batch* create_batch(tsr_llm* model, int32_t n_seq, int32_t kv_blocks, std::string* error) {
  if (kv_blocks > 0) {
    *error = "--kv-blocks " + std::to_string(kv_blocks) +
             ": this library has no shared KV pool (each sequence holds its own n_ctx cache)";
    return nullptr;
  }
  tsr_llm_batch* b = nullptr;
  if (tsr_llm_batch_create(model, n_seq, &b) != TSR_OK) {
    *error = tsr_last_error();
    return nullptr;
  }
  return b;
}

KvUsage read_kv_usage(const tsr_llm_batch* batch, int32_t n_seq) {
  KvUsage u;
  for (int32_t s = 0; s < n_seq; ++s) {
    int32_t n = 0;
    if (tsr_llm_batch_n_past(batch, s, &n) == TSR_OK) u.tokens += n;
  }
  return u;
}

}  // namespace tessera_server
