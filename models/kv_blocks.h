// The block pool of a paged KV cache: n_blocks fixed-size blocks, each with
// a reference count. A sequence's block table lists the blocks holding its
// rows in order; a block listed by several tables (a shared prompt prefix)
// has a count above one and is copied before any of them writes into it
// (copy on write, done by the batch). Host-side bookkeeping only: the rows
// themselves live in the pool tensors on the device.
#pragma once

#include <cstdint>
#include <vector>

namespace tessera::models {

class KvBlockPool {
 public:
  explicit KvBlockPool(int32_t n_blocks);

  int32_t n_blocks() const { return static_cast<int32_t>(refs_.size()); }
  int32_t n_free() const { return static_cast<int32_t>(free_.size()); }
  int32_t n_used() const { return n_blocks() - n_free(); }
  // Blocks listed by more than one table (kept as a count: engines read it
  // every step for their metrics).
  int32_t n_shared() const { return n_shared_; }
  int32_t refs(int32_t block) const { return refs_[block]; }

  // A free block with count 1. The caller checks n_free() first (asserted).
  int32_t take();
  // One more table lists block (which is in use).
  void share(int32_t block);
  // One table fewer lists block; at zero it is free again.
  void release(int32_t block);
  // Releases every block of a table and clears it.
  void release_all(std::vector<int32_t>& table);

 private:
  std::vector<int32_t> refs_;
  // Last freed first: a block just released is likely still in cache.
  std::vector<int32_t> free_;
  int32_t n_shared_ = 0;
};

}  // namespace tessera::models
