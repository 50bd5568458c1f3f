// Access from C API handles to the C++ objects behind them, for Tessera's own
// tests and tools. Not installed; not part of the public API.
#pragma once

#include "core/executor.h"
#include "core/graph.h"
#include "core/registry.h"
#include "tessera/tessera.h"

namespace tsr {
const Graph& graph_of(const tsr_graph* g);
const CompiledModel& model_of(const tsr_model* m);
Registry& registry_of(tsr_context* ctx);
}  // namespace tsr
