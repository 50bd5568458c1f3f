// Memory planner: offsets for the buffers of one arena from their lifetimes.
//
// A pure algorithm over plain structs, independent of the graph IR: the
// executor describes each activation of one device's pool as a PlanBuffer
// (size, first and last step it is live, and optionally a buffer whose
// storage it may take over in place) and gets back one offset per buffer.
//
// Algorithm: TFLite's "greedy by size" with best fit. In-place chains are
// resolved first and each chain becomes one unit (max size of its members,
// union of their lifetimes). Units are placed in decreasing size; each takes
// the smallest gap, among the already placed units whose lifetimes intersect
// its own, that fits it, or goes above them all when no gap fits.
//
// Cost: O(n^2) in the number of buffers (a few thousand plan in milliseconds).
//
// Thread safety: the functions are pure; call them from any thread.
//
// Example:
//   std::vector<tsr::PlanBuffer> bufs = {
//       {.size = 4096, .first_use = 0, .last_use = 1},   // 0: x
//       {.size = 4096, .first_use = 1, .last_use = 2,    // 1: silu(x), in place
//        .inplace_source = 0},
//       {.size = 1024, .first_use = 2, .last_use = 3}};  // 2: matmul out
//   tsr::Result<tsr::Plan> plan = tsr::plan_memory(bufs);
//   if (!plan.is_ok()) return plan.status();
//   // allocate plan.value().arena_size bytes aligned to 64; buffer i lives at
//   // base + plan.value().offsets[i].
//   TSR_RETURN_IF_ERROR(tsr::check_plan(bufs, plan.value()));  // debug builds
#pragma once

#include <cstdint>
#include <vector>

#include "tessera/kit/status.h"

namespace tsr {

// One buffer to place. Steps are indices in execution order; only their order
// matters (any int32 value is accepted).
struct PlanBuffer {
  int64_t size = 0;       // bytes, >= 0; a 0-byte buffer gets an offset but occupies nothing
  int32_t first_use = 0;  // live on the closed interval [first_use, last_use]
  int32_t last_use = 0;
  // Index of another buffer whose storage this one may take over, or -1. Taken
  // only when source.last_use == first_use, size <= source.size, no
  // lower-indexed buffer took the source already, and the source did not
  // itself take over storage at its only step (first_use == last_use): so only
  // neighbours in a chain are ever live together. Otherwise this buffer gets a
  // slot of its own (Plan::inplace_of says which happened). The caller marks
  // only ops where reading and writing one address is safe.
  int32_t inplace_source = -1;
};

struct Plan {
  std::vector<int64_t> offsets;     // per buffer, a multiple of alignment
  std::vector<int32_t> inplace_of;  // per buffer: source whose storage it took, or -1
  int64_t arena_size = 0;           // bytes needed: max over buffers of offset + size
  int64_t alignment = 64;           // the arena base must be aligned to this
  // For reports.
  int64_t total_size = 0;      // sum of all buffer sizes (what one slot each would need)
  int32_t n_inplace = 0;       // buffers placed in their source's storage
  int64_t max_live_bytes = 0;  // max over steps of live bytes, storage shared in place counted once
};

// Places buffers in one arena. alignment is a power of two (bytes).
// Errors (TSR_ERR_INVALID_ARGUMENT, message names the buffer and values): a
// negative size, first_use > last_use, an inplace_source that is not another
// buffer's index, a bad alignment, an arena size overflowing int64.
Result<Plan> plan_memory(const std::vector<PlanBuffer>& buffers, int64_t alignment = 64);

// Verifies a plan without trusting the planner: one offset per buffer, aligned
// and >= 0; every buffer inside [0, arena_size); no two buffers with
// intersecting lifetimes overlap in [offset, offset + size), except a source
// and the buffer that took it over, which share one offset and whose lifetimes
// meet only at the handover step; every in-place claim legal. O(n^2): meant for
// debug builds and tests. Returns TSR_ERR_INTERNAL naming the offending buffers.
Status check_plan(const std::vector<PlanBuffer>& buffers, const Plan& plan);

}  // namespace tsr
