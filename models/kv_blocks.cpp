#include "models/kv_blocks.h"

#include <cassert>

namespace tessera::models {

KvBlockPool::KvBlockPool(int32_t n_blocks) : refs_(n_blocks, 0) {
  free_.reserve(n_blocks);
  for (int32_t b = n_blocks - 1; b >= 0; --b) free_.push_back(b);  // block 0 is taken first
}

int32_t KvBlockPool::take() {
  assert(!free_.empty() && "take() without a free block: the caller checks n_free()");
  const int32_t b = free_.back();
  free_.pop_back();
  refs_[b] = 1;
  return b;
}

void KvBlockPool::share(int32_t block) {
  assert(refs_[block] > 0 && "sharing a free block");
  if (++refs_[block] == 2) ++n_shared_;
}

void KvBlockPool::release(int32_t block) {
  assert(refs_[block] > 0 && "releasing a free block");
  if (--refs_[block] == 0) free_.push_back(block);
  if (refs_[block] == 1) --n_shared_;
}

void KvBlockPool::release_all(std::vector<int32_t>& table) {
  for (auto it = table.rbegin(); it != table.rend(); ++it) release(*it);
  table.clear();
}

}  // namespace tessera::models
