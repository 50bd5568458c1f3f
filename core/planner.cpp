#include "core/planner.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace tsr {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// check_plan failures are planner bugs, not bad input.
template <typename... Args>
Status fail(fmt::format_string<Args...> f, Args&&... args) {
  return Status(TSR_ERR_INTERNAL, fmt::format(f, std::forward<Args>(args)...));
}

bool is_power_of_two(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

bool lifetimes_intersect(int64_t a_first, int64_t a_last, int64_t b_first, int64_t b_last) {
  return std::max(a_first, b_first) <= std::min(a_last, b_last);
}

// An in-place chain (a buffer, the one that took over its storage, the one
// that took over that one's, ...) placed as one rectangle in (time, bytes).
struct Unit {
  std::vector<int32_t> members;  // buffer indices, source before taker
  int64_t size = 0;              // max member size
  int32_t first_use = 0;         // union of member lifetimes (contiguous: each
  int32_t last_use = 0;          // taker starts where its source ends)
  int64_t offset = 0;
};

struct Placed {
  int64_t offset;
  int64_t end;  // offset + size
  int32_t first_use;
  int32_t last_use;
};

Status validate(const std::vector<PlanBuffer>& buffers, int64_t alignment) {
  if (!is_power_of_two(alignment))
    return invalid_arg("[planner] alignment {} is not a positive power of two", alignment);
  const int64_t n = static_cast<int64_t>(buffers.size());
  if (n > std::numeric_limits<int32_t>::max())
    return invalid_arg("[planner] {} buffers: more than int32 can index", n);
  for (int64_t i = 0; i < n; ++i) {
    const PlanBuffer& b = buffers[i];
    if (b.size < 0) return invalid_arg("[planner] buffer {}: negative size {}", i, b.size);
    if (b.first_use > b.last_use)
      return invalid_arg("[planner] buffer {}: first_use {} > last_use {}", i, b.first_use, b.last_use);
    if (b.inplace_source != -1 && (b.inplace_source < 0 || b.inplace_source >= n))
      return invalid_arg("[planner] buffer {}: inplace_source {} is not -1 or a buffer index in 0..{}", i,
                         b.inplace_source, n - 1);
    if (b.inplace_source == i)
      return invalid_arg("[planner] buffer {}: inplace_source {} names the buffer itself", i,
                         b.inplace_source);
  }
  return Status::ok();
}

// Decides which in-place requests are honoured (see PlanBuffer::inplace_source).
// Lower-indexed takers win a contested source. Refusing a source that took over
// storage at its only step keeps non-neighbours of a chain from ever being live
// together, which also rules out cycles.
std::vector<int32_t> resolve_inplace(const std::vector<PlanBuffer>& buffers) {
  const int32_t n = static_cast<int32_t>(buffers.size());
  std::vector<int32_t> inplace_of(n, -1);
  std::vector<bool> taken(n, false);
  for (int32_t i = 0; i < n; ++i) {
    const int32_t s = buffers[i].inplace_source;
    if (s < 0 || taken[s]) continue;
    const PlanBuffer& src = buffers[s];
    const PlanBuffer& dst = buffers[i];
    if (src.last_use != dst.first_use || dst.size > src.size) continue;
    if (inplace_of[s] != -1 && src.first_use == src.last_use) continue;
    inplace_of[i] = s;
    taken[s] = true;
  }
  return inplace_of;
}

std::vector<Unit> make_units(const std::vector<PlanBuffer>& buffers, const std::vector<int32_t>& inplace_of) {
  const int32_t n = static_cast<int32_t>(buffers.size());
  std::vector<int32_t> taker(n, -1);
  for (int32_t i = 0; i < n; ++i)
    if (inplace_of[i] >= 0) taker[inplace_of[i]] = i;
  std::vector<Unit> units;
  for (int32_t head = 0; head < n; ++head) {
    if (inplace_of[head] != -1) continue;  // not a chain head
    Unit u;
    u.first_use = buffers[head].first_use;
    u.last_use = buffers[head].last_use;
    for (int32_t b = head; b != -1; b = taker[b]) {
      u.members.push_back(b);
      u.size = std::max(u.size, buffers[b].size);
      u.first_use = std::min(u.first_use, buffers[b].first_use);
      u.last_use = std::max(u.last_use, buffers[b].last_use);
    }
    units.push_back(std::move(u));
  }
  return units;
}

// Lowest multiple of alignment >= v, or -1 on overflow.
int64_t align_up(int64_t v, int64_t alignment) {
  if (v > kInt64Max - (alignment - 1)) return -1;
  return (v + alignment - 1) & ~(alignment - 1);
}

// Best fit over the placed units whose lifetimes intersect u's. placed is
// sorted by offset. Returns the offset, or an error on int64 overflow.
Result<int64_t> best_fit(const Unit& u, const std::vector<Placed>& placed, int64_t alignment) {
  int64_t best = -1;
  int64_t best_gap = kInt64Max;
  int64_t cursor = 0;  // lowest aligned offset above every conflicting unit seen so far
  for (const Placed& p : placed) {
    if (!lifetimes_intersect(u.first_use, u.last_use, p.first_use, p.last_use)) continue;
    if (p.offset >= cursor) {
      const int64_t gap = p.offset - cursor;
      if (gap >= u.size && gap < best_gap) {
        best = cursor;
        best_gap = gap;
      }
    }
    const int64_t next = align_up(p.end, alignment);
    if (next < 0)
      return invalid_arg("[planner] arena size overflows int64 placing buffer {} ({} bytes)", u.members[0],
                         u.size);
    cursor = std::max(cursor, next);
  }
  const int64_t offset = best >= 0 ? best : cursor;
  if (offset > kInt64Max - u.size)
    return invalid_arg("[planner] arena size overflows int64 placing buffer {} ({} bytes at offset {})",
                       u.members[0], u.size, offset);
  return offset;
}

// Max over steps of the bytes live, where a taker counts from the step after
// its handover (its bytes at that step are its source's).
int64_t max_live_bytes(const std::vector<PlanBuffer>& buffers, const std::vector<int32_t>& inplace_of) {
  std::vector<std::pair<int64_t, int64_t>> events;  // (step, +size or -size)
  events.reserve(buffers.size() * 2);
  for (size_t i = 0; i < buffers.size(); ++i) {
    const PlanBuffer& b = buffers[i];
    const int64_t start = int64_t{b.first_use} + (inplace_of[i] >= 0 ? 1 : 0);
    const int64_t stop = int64_t{b.last_use} + 1;  // int64: last_use may be INT32_MAX
    if (b.size == 0 || start >= stop) continue;
    events.emplace_back(start, b.size);
    events.emplace_back(stop, -b.size);
  }
  std::sort(events.begin(), events.end());  // at one step, releases sort before allocations
  int64_t live = 0, peak = 0;
  for (const auto& [step, delta] : events) {
    live += delta;  // cannot overflow: live bytes of a valid plan fit in the arena
    peak = std::max(peak, live);
  }
  return peak;
}

}  // namespace

Result<Plan> plan_memory(const std::vector<PlanBuffer>& buffers, int64_t alignment) {
  TSR_RETURN_IF_ERROR(validate(buffers, alignment));
  Plan plan;
  plan.alignment = alignment;
  plan.inplace_of = resolve_inplace(buffers);
  plan.offsets.assign(buffers.size(), 0);

  std::vector<Unit> units = make_units(buffers, plan.inplace_of);
  // Largest first; ties by first use then index, so plans are deterministic.
  std::sort(units.begin(), units.end(), [](const Unit& a, const Unit& b) {
    if (a.size != b.size) return a.size > b.size;
    if (a.first_use != b.first_use) return a.first_use < b.first_use;
    return a.members[0] < b.members[0];
  });

  std::vector<Placed> placed;  // sorted by offset
  placed.reserve(units.size());
  for (Unit& u : units) {
    if (u.size == 0) continue;  // occupies nothing: offset 0
    Result<int64_t> offset = best_fit(u, placed, alignment);
    if (!offset.is_ok()) return offset.status();
    u.offset = offset.value();
    const Placed p{u.offset, u.offset + u.size, u.first_use, u.last_use};
    auto pos = std::upper_bound(placed.begin(), placed.end(), p,
                                [](const Placed& a, const Placed& b) { return a.offset < b.offset; });
    placed.insert(pos, p);
    plan.arena_size = std::max(plan.arena_size, p.end);
  }
  for (const Unit& u : units)
    for (int32_t b : u.members) plan.offsets[b] = u.offset;

  for (size_t i = 0; i < buffers.size(); ++i) {
    // Saturate: a report figure, and disjoint lifetimes may sum past int64.
    const int64_t s = buffers[i].size;
    plan.total_size = plan.total_size > kInt64Max - s ? kInt64Max : plan.total_size + s;
    if (plan.inplace_of[i] >= 0) ++plan.n_inplace;
  }
  plan.max_live_bytes = max_live_bytes(buffers, plan.inplace_of);
  return plan;
}

Status check_plan(const std::vector<PlanBuffer>& buffers, const Plan& plan) {
  const size_t n = buffers.size();
  if (plan.offsets.size() != n || plan.inplace_of.size() != n)
    return fail("[planner] check: {} buffers but {} offsets and {} inplace_of entries", n,
                plan.offsets.size(), plan.inplace_of.size());
  if (!is_power_of_two(plan.alignment))
    return fail("[planner] check: alignment {} is not a positive power of two", plan.alignment);
  if (plan.arena_size < 0) return fail("[planner] check: negative arena size {}", plan.arena_size);

  std::vector<int32_t> taker(n, -1);
  int32_t n_inplace = 0;
  for (size_t i = 0; i < n; ++i) {
    const PlanBuffer& b = buffers[i];
    const int64_t off = plan.offsets[i];
    if (off < 0 || off % plan.alignment != 0)
      return fail("[planner] check: buffer {} offset {} is negative or not a multiple of {}", i, off,
                  plan.alignment);
    if (b.size < 0 || off > plan.arena_size || b.size > plan.arena_size - off)
      return fail("[planner] check: buffer {} (offset {}, size {}) does not fit the arena of {} bytes", i,
                  off, b.size, plan.arena_size);
    const int32_t s = plan.inplace_of[i];
    if (s == -1) continue;
    if (s != b.inplace_source || s < 0 || static_cast<size_t>(s) >= n)
      return fail("[planner] check: buffer {} placed in place of {} but its inplace_source is {}", i, s,
                  b.inplace_source);
    const PlanBuffer& src = buffers[s];
    if (src.last_use != b.first_use || b.size > src.size || plan.offsets[s] != off)
      return fail(
          "[planner] check: buffer {} (size {}, live [{}, {}], offset {}) cannot take over buffer {} "
          "(size {}, live [{}, {}], offset {})",
          i, b.size, b.first_use, b.last_use, off, s, src.size, src.first_use, src.last_use, plan.offsets[s]);
    if (taker[s] != -1)
      return fail("[planner] check: buffers {} and {} both took over buffer {}", taker[s], i, s);
    taker[s] = static_cast<int32_t>(i);
    ++n_inplace;
  }
  if (n_inplace != plan.n_inplace)
    return fail("[planner] check: plan reports {} in-place buffers, inplace_of has {}", plan.n_inplace,
                n_inplace);

  for (size_t i = 0; i < n; ++i) {
    const PlanBuffer& a = buffers[i];
    if (a.size == 0) continue;
    const int64_t a_off = plan.offsets[i];
    for (size_t j = i + 1; j < n; ++j) {
      const PlanBuffer& b = buffers[j];
      if (b.size == 0) continue;
      if (!lifetimes_intersect(a.first_use, a.last_use, b.first_use, b.last_use)) continue;
      const int64_t b_off = plan.offsets[j];
      if (std::max(a_off, b_off) >= std::min(a_off + a.size, b_off + b.size)) continue;
      // A legal in-place pair (verified above) meets only at the handover step.
      const bool pair =
          plan.inplace_of[j] == static_cast<int32_t>(i) || plan.inplace_of[i] == static_cast<int32_t>(j);
      const int64_t shared_first = std::max(a.first_use, b.first_use);
      const int64_t shared_last = std::min(a.last_use, b.last_use);
      if (pair && shared_first == shared_last) continue;
      return fail(
          "[planner] check: buffers {} and {} overlap: {} is [{}, {}) live [{}, {}], {} is [{}, {}) live "
          "[{}, {}]",
          i, j, i, a_off, a_off + a.size, a.first_use, a.last_use, j, b_off, b_off + b.size, b.first_use,
          b.last_use);
    }
  }
  return Status::ok();
}

}  // namespace tsr
