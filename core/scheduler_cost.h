// The scheduler's transfer-cost pass (rules and formula in core/scheduler.h):
// keeps runs of compute nodes on the fallback device when copies would cost
// more than the preferred device saves. Internal to core/scheduler.cpp.
#pragma once

#include <vector>

#include "core/scheduler.h"

namespace tsr {

// base[i]: the node whose value node i shows: i itself for compute nodes and
// leaves, the base of its input for a view, the view itself for a view of -1.
std::vector<int32_t> value_bases(const std::vector<ScheduleNode>& nodes);

// Moves runs of compute nodes in *placement (device, kept, kept_runs, n_kept)
// to options.fallback where they are cheaper there. Views and leaves are not
// placed yet; `supports` is asked only about the fallback, at most once per
// node, and only for nodes whose run is a candidate.
void keep_costly_runs(const std::vector<ScheduleNode>& nodes, const std::vector<int32_t>& base,
                      const ScheduleOptions& options, const SupportsFn& supports, Placement* placement);

}  // namespace tsr
