// Access from C API handles to the C++ objects behind them, for Tessera's own
// tests and tools. Not installed; not part of the public API.
#pragma once

#include <mutex>

#include "core/executor.h"
#include "core/graph.h"
#include "core/registry.h"
#include "tessera/tessera.h"

namespace tsr {
const Graph& graph_of(const tsr_graph* g);
const CompiledModel& model_of(const tsr_model* m);
Registry& registry_of(tsr_context* ctx);
// The context's lock. Every C API call that starts backends, touches device
// memory or runs a model holds it, so the objects of one context run one call
// at a time from any number of threads (and backends see the serialised calls
// tessera_backend.h promises). Recursive: the LLM layer calls the graph API.
[[nodiscard]] std::unique_lock<std::recursive_mutex> lock_context(const tsr_context* ctx);
}  // namespace tsr
