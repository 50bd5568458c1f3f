#include "tools/server/kv.h"

namespace tessera_server {

tsr_llm_batch* create_batch(tsr_llm* model, int32_t n_seq, int32_t kv_blocks, std::string* error) {
  tsr_llm_batch_options o{sizeof o};
  o.n_seq = n_seq;
  o.n_kv_blocks = kv_blocks;  // 0: room for every sequence's whole context
  tsr_llm_batch* b = nullptr;
  if (tsr_llm_batch_create_ex(model, &o, &b) != TSR_OK) {
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
  tsr_llm_kv_usage k{sizeof k};
  if (tsr_llm_batch_kv_usage(batch, &k) == TSR_OK) {
    u.blocks_in_use = k.n_used;
    u.blocks_shared = k.n_shared;
    u.blocks_total = k.n_blocks;
  }
  return u;
}

}  // namespace tessera_server
