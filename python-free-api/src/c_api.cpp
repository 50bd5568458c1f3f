// The C API: thin glue from tessera.h to core. Every entry point catches
// everything, so no exception crosses into C, and records the message of a
// failure in a thread-local string for tsr_last_error().
#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "backends/builtin_backends.h"
#include "core/communicator.h"
#include "core/executor.h"
#include "core/graph.h"
#include "core/registry.h"
#include "core/shared_state.h"
#include "core/shared_weights.h"
#include "ops/op_schema.h"
#include "python-free-api/src/api_util.h"
#include "python-free-api/src/c_api_internal.h"
#include "tessera/kit/dtype.h"
#include "tessera/tessera.h"

struct tsr_context_s {
  std::unique_ptr<tsr::Registry> registry;
  // After the registry, so it is destroyed first: its device communicators
  // (NCCL) belong to the registry's devices. Models go before the context.
  std::unique_ptr<tsr::Communicator> comm;
  std::string comm_about;
  // Declared after the registry so it is destroyed first: its buffers belong
  // to the registry's devices.
  std::unique_ptr<tsr::SharedStates> shared_states = std::make_unique<tsr::SharedStates>();
  std::unique_ptr<tsr::SharedWeights> shared_weights = std::make_unique<tsr::SharedWeights>();
  mutable std::recursive_mutex mu;  // see lock_context
};
struct tsr_graph_s {
  tsr_context* ctx = nullptr;
  tsr::Graph graph;
};
struct tsr_model_s {
  tsr_context* ctx = nullptr;
  std::unique_ptr<tsr::CompiledModel> model;
};

namespace tsr {
const Graph& graph_of(const tsr_graph* g) { return g->graph; }
const CompiledModel& model_of(const tsr_model* m) { return *m->model; }
Registry& registry_of(tsr_context* ctx) { return *ctx->registry; }
std::unique_lock<std::recursive_mutex> lock_context(const tsr_context* ctx) {
  return std::unique_lock<std::recursive_mutex>(ctx->mu);
}
}  // namespace tsr

namespace {

using tsr::capi::guarded;
using tsr::capi::null_arg;

tsr::Result<tsr::TensorDesc> leaf_desc(const char* where, const char* name, int32_t dtype, int32_t rank,
                                       const int64_t* ne) {
  if (!ne) return null_arg(where, "ne");
  auto d = tsr::make_desc(dtype, rank, ne);
  if (!d.is_ok())
    return tsr::Status(d.status().code(), fmt::format("[{}] '{}': {}", where, name, d.status().message()));
  return d;
}

}  // namespace

extern "C" {

TSR_API const char* tsr_version(void) { return "0.1.0"; }
TSR_API const char* tsr_last_error(void) { return tsr::capi::last_error().c_str(); }

TSR_API const char* tsr_status_name(tsr_status_code code) {
  switch (code) {
    case TSR_OK:
      return "ok";
    case TSR_ERR_INVALID_ARGUMENT:
      return "invalid argument";
    case TSR_ERR_UNSUPPORTED:
      return "unsupported";
    case TSR_ERR_OUT_OF_MEMORY:
      return "out of memory";
    case TSR_ERR_NOT_FOUND:
      return "not found";
    case TSR_ERR_ABI_MISMATCH:
      return "ABI mismatch";
    case TSR_ERR_IO:
      return "I/O error";
    case TSR_ERR_DEVICE:
      return "device error";
    case TSR_ERR_INTERNAL:
      return "internal error";
  }
  return "unknown status";
}

TSR_API const char* tsr_dtype_name(int32_t dtype) {
  const tsr::DtypeTraits* t = tsr::dtype_traits(dtype);
  return t ? t->name : nullptr;
}

TSR_API const char* tsr_op_name(int32_t op) {
  const tsr::ops::OpInfo* i = tsr::ops::op_info(op);
  return i ? i->name : nullptr;
}

TSR_API tsr_status_code tsr_context_create(const tsr_context_options* options, tsr_context** out_ctx) {
  return guarded("context_create", [&]() -> tsr::Status {
    if (!out_ctx) return null_arg("context_create", "out_ctx");
    tsr_context_options opt{};
    if (options) std::memcpy(&opt, options, std::min<size_t>(options->struct_size, sizeof(opt)));
    if (opt.n_threads < 0)
      return tsr::invalid_arg("[context_create] n_threads is {}, must be >= 0", opt.n_threads);
    if (opt.n_plugins < 0 || (opt.n_plugins > 0 && !opt.plugin_paths))
      return tsr::invalid_arg("[context_create] {} plugins but plugin_paths is null", opt.n_plugins);
    tsr_backend_options bo{sizeof(tsr_backend_options), opt.n_threads};
    auto ctx = std::make_unique<tsr_context_s>();
    ctx->registry = std::make_unique<tsr::Registry>(bo);
    for (const tsr_backend_iface* b : tsr::builtin_backends())
      TSR_RETURN_IF_ERROR(ctx->registry->add_backend(b, "built-in"));
    for (int32_t i = 0; i < opt.n_plugins; ++i) {
      if (!opt.plugin_paths[i]) return tsr::invalid_arg("[context_create] plugin path {} is null", i);
      TSR_RETURN_IF_ERROR(ctx->registry->load_plugin(opt.plugin_paths[i]));
    }
    *out_ctx = ctx.release();
    return {};
  });
}

TSR_API void tsr_context_destroy(tsr_context* ctx) { delete ctx; }

TSR_API int32_t tsr_context_note_count(const tsr_context* ctx) {
  if (!ctx) return 0;
  auto lock = tsr::lock_context(ctx);
  ctx->registry->start_all();  // notes are about every backend
  return static_cast<int32_t>(ctx->registry->notes().size());
}

TSR_API const char* tsr_context_note(const tsr_context* ctx, int32_t index) {
  if (!ctx || index < 0 || index >= tsr_context_note_count(ctx)) return nullptr;
  auto lock = tsr::lock_context(ctx);
  return ctx->registry->notes()[static_cast<size_t>(index)].c_str();
}

TSR_API tsr_status_code tsr_context_load_plugin(tsr_context* ctx, const char* path) {
  return guarded("load_plugin", [&]() -> tsr::Status {
    if (!ctx) return null_arg("load_plugin", "ctx");
    if (!path) return null_arg("load_plugin", "path");
    auto lock = tsr::lock_context(ctx);
    return ctx->registry->load_plugin(path);
  });
}

TSR_API int32_t tsr_device_count(const tsr_context* ctx) {
  if (!ctx) return 0;
  auto lock = tsr::lock_context(ctx);
  ctx->registry->start_all();  // a listing opens every backend's driver
  return static_cast<int32_t>(ctx->registry->devices().size());
}

TSR_API tsr_status_code tsr_device_get_info(const tsr_context* ctx, int32_t index,
                                            tsr_device_info* out_info) {
  return guarded("device_info", [&]() -> tsr::Status {
    if (!ctx) return null_arg("device_info", "ctx");
    if (!out_info) return null_arg("device_info", "out_info");
    auto lock = tsr::lock_context(ctx);
    ctx->registry->start_all();
    const auto& devs = ctx->registry->devices();
    if (index < 0 || index >= static_cast<int32_t>(devs.size()))
      return tsr::make_error(TSR_ERR_NOT_FOUND, "[device_info] index {} outside [0, {})", index, devs.size());
    tsr_device_info info{};
    info.struct_size = sizeof(info);
    std::snprintf(info.name, sizeof(info.name), "%s", devs[index].name.c_str());
    std::snprintf(info.backend, sizeof(info.backend), "%s", devs[index].backend->name().c_str());
    info.props = devs[index].props;
    std::memcpy(out_info, &info,
                std::min<size_t>(out_info->struct_size ? out_info->struct_size : sizeof(info), sizeof(info)));
    return {};
  });
}

TSR_API tsr_status_code tsr_device_find(const tsr_context* ctx, const char* name, int32_t* out_index) {
  return guarded("device_find", [&]() -> tsr::Status {
    if (!ctx || !name || !out_index)
      return null_arg("device_find", !ctx ? "ctx" : !name ? "name" : "out_index");
    auto lock = tsr::lock_context(ctx);
    auto r = ctx->registry->find_device(name);
    if (!r.is_ok()) return r.status();
    *out_index = r.value();
    return {};
  });
}

TSR_API tsr_status_code tsr_graph_create(tsr_context* ctx, tsr_graph** out_graph) {
  return guarded("graph_create", [&]() -> tsr::Status {
    if (!ctx || !out_graph) return null_arg("graph_create", !ctx ? "ctx" : "out_graph");
    auto g = std::make_unique<tsr_graph_s>();
    g->ctx = ctx;
    *out_graph = g.release();
    return {};
  });
}

TSR_API void tsr_graph_destroy(tsr_graph* graph) { delete graph; }

TSR_API tsr_status_code tsr_graph_input(tsr_graph* g, const char* name, int32_t dtype, int32_t rank,
                                        const int64_t* ne, tsr_tensor* out_tensor) {
  return guarded("graph_input", [&]() -> tsr::Status {
    if (!g || !out_tensor) return null_arg("graph_input", !g ? "graph" : "out_tensor");
    const char* n = name ? name : "input";
    auto d = leaf_desc("graph_input", n, dtype, rank, ne);
    if (!d.is_ok()) return d.status();
    auto v = g->graph.add_input(n, d.value());
    if (!v.is_ok()) return v.status();
    *out_tensor = v.value();
    return {};
  });
}

TSR_API tsr_status_code tsr_graph_weight(tsr_graph* g, const char* name, int32_t dtype, int32_t rank,
                                         const int64_t* ne, const void* data, uint64_t size,
                                         tsr_tensor* out_tensor) {
  return guarded("graph_weight", [&]() -> tsr::Status {
    if (!g || !out_tensor) return null_arg("graph_weight", !g ? "graph" : "out_tensor");
    const char* n = name ? name : "weight";
    auto d = leaf_desc("graph_weight", n, dtype, rank, ne);
    if (!d.is_ok()) return d.status();
    if (size > static_cast<uint64_t>(INT64_MAX))
      return tsr::invalid_arg("[graph_weight] '{}': size {} too large", n, size);
    auto v = g->graph.add_weight(n, d.value(), data, static_cast<int64_t>(size));
    if (!v.is_ok()) return v.status();
    *out_tensor = v.value();
    return {};
  });
}

TSR_API tsr_status_code tsr_graph_state(tsr_graph* g, const char* name, int32_t dtype, int32_t rank,
                                        const int64_t* ne, tsr_tensor* out_tensor) {
  return guarded("graph_state", [&]() -> tsr::Status {
    if (!g || !out_tensor) return null_arg("graph_state", !g ? "graph" : "out_tensor");
    const char* n = name ? name : "state";
    auto d = leaf_desc("graph_state", n, dtype, rank, ne);
    if (!d.is_ok()) return d.status();
    auto v = g->graph.add_state(n, d.value());
    if (!v.is_ok()) return v.status();
    *out_tensor = v.value();
    return {};
  });
}

TSR_API tsr_status_code tsr_graph_shared_state(tsr_graph* g, const char* name, int32_t dtype, int32_t rank,
                                               const int64_t* ne, tsr_tensor* out_tensor) {
  return guarded("graph_shared_state", [&]() -> tsr::Status {
    if (!g || !out_tensor || !name)
      return null_arg("graph_shared_state", !g ? "graph" : !name ? "name" : "out_tensor");
    auto d = leaf_desc("graph_shared_state", name, dtype, rank, ne);
    if (!d.is_ok()) return d.status();
    auto v = g->graph.add_state(name, d.value(), /*shared=*/true);
    if (!v.is_ok()) return v.status();
    *out_tensor = v.value();
    return {};
  });
}

TSR_API tsr_status_code tsr_context_reset_shared_state(tsr_context* ctx, const char* name) {
  return guarded("reset_shared_state", [&]() -> tsr::Status {
    if (!ctx) return null_arg("reset_shared_state", "ctx");
    auto lock = tsr::lock_context(ctx);
    return ctx->shared_states->reset(name ? name : "");
  });
}

TSR_API tsr_status_code tsr_context_read_shared_state(tsr_context* ctx, const char* name, uint64_t offset,
                                                      void* dst, uint64_t size) {
  return guarded("read_shared_state", [&]() -> tsr::Status {
    if (!ctx || !name || (!dst && size > 0))
      return null_arg("read_shared_state", !ctx ? "ctx" : !name ? "name" : "dst");
    auto lock = tsr::lock_context(ctx);
    return ctx->shared_states->read(name, offset, dst, size);
  });
}

TSR_API tsr_status_code tsr_context_write_shared_state(tsr_context* ctx, const char* name, uint64_t offset,
                                                       const void* src, uint64_t size) {
  return guarded("write_shared_state", [&]() -> tsr::Status {
    if (!ctx || !name || (!src && size > 0))
      return null_arg("write_shared_state", !ctx ? "ctx" : !name ? "name" : "src");
    auto lock = tsr::lock_context(ctx);
    return ctx->shared_states->write(name, offset, src, size);
  });
}

TSR_API tsr_status_code tsr_graph_op(tsr_graph* g, int32_t op, const tsr_tensor* inputs, int32_t n_inputs,
                                     const tsr_op_params* params, tsr_tensor* out_tensor) {
  return guarded("graph_op", [&]() -> tsr::Status {
    if (!g || !out_tensor) return null_arg("graph_op", !g ? "graph" : "out_tensor");
    if (n_inputs < 0 || n_inputs > TSR_MAX_INPUTS)
      return tsr::invalid_arg("[graph_op] {} inputs, must be 0..{}", n_inputs, TSR_MAX_INPUTS);
    if (n_inputs > 0 && !inputs) return null_arg("graph_op", "inputs");
    std::vector<tsr::ValueId> in(inputs, inputs + n_inputs);
    tsr_op_params p{};
    if (params) p = *params;
    auto v = g->graph.add_node(op, in, p);
    if (!v.is_ok()) return v.status();
    *out_tensor = v.value();
    return {};
  });
}

TSR_API tsr_status_code tsr_graph_output(tsr_graph* g, tsr_tensor t) {
  return guarded("graph_output", [&]() -> tsr::Status {
    if (!g) return null_arg("graph_output", "graph");
    return g->graph.mark_output(t);
  });
}

TSR_API tsr_status_code tsr_graph_set_device(tsr_graph* g, const char* device) {
  return guarded("graph_set_device", [&]() -> tsr::Status {
    if (!g) return null_arg("graph_set_device", "graph");
    g->graph.set_device(device ? device : "");
    return tsr::Status::ok();
  });
}

TSR_API tsr_status_code tsr_graph_tensor_desc(const tsr_graph* g, tsr_tensor t, tsr_tensor_desc* out_desc) {
  return guarded("graph_tensor_desc", [&]() -> tsr::Status {
    if (!g || !out_desc) return null_arg("graph_tensor_desc", !g ? "graph" : "out_desc");
    if (!g->graph.valid_value(t)) return tsr::invalid_arg("[graph_tensor_desc] tensor id {} not in graph", t);
    *out_desc = g->graph.value(t).desc;
    return {};
  });
}

TSR_API int32_t tsr_graph_node_count(const tsr_graph* g) {
  return g ? static_cast<int32_t>(g->graph.nodes().size()) : 0;
}

TSR_API tsr_status_code tsr_context_open_comm(tsr_context* ctx, const tsr_comm_options* options) {
  return guarded("open_comm", [&]() -> tsr::Status {
    if (!ctx) return null_arg("open_comm", "ctx");
    tsr_comm_options opt{};
    if (options) std::memcpy(&opt, options, std::min<size_t>(options->struct_size, sizeof(opt)));
    auto lock = tsr::lock_context(ctx);
    if (ctx->comm)
      return tsr::invalid_arg("[open_comm] the context already has a communicator ({})", ctx->comm_about);
    auto c = tsr::Communicator::open(opt.name ? opt.name : "mpi", opt.timeout_seconds);
    if (!c.is_ok()) return c.status();
    ctx->comm = std::move(c.value());
    ctx->comm_about = ctx->comm->describe();
    return {};
  });
}

TSR_API int32_t tsr_context_comm_rank(const tsr_context* ctx) {
  return ctx && ctx->comm ? ctx->comm->rank() : 0;
}
TSR_API int32_t tsr_context_comm_size(const tsr_context* ctx) {
  return ctx && ctx->comm ? ctx->comm->size() : 1;
}
TSR_API const char* tsr_context_comm_describe(const tsr_context* ctx) {
  return ctx ? ctx->comm_about.c_str() : "";
}

TSR_API tsr_status_code tsr_context_all_gather(tsr_context* ctx, const void* send, void* recv,
                                               uint64_t bytes_per_rank) {
  return guarded("all_gather", [&]() -> tsr::Status {
    if (!ctx || ((!send || !recv) && bytes_per_rank))
      return null_arg("all_gather", !ctx ? "ctx" : !send ? "send" : "recv");
    auto lock = tsr::lock_context(ctx);
    if (!ctx->comm) {
      if (bytes_per_rank) std::memmove(recv, send, bytes_per_rank);
      return {};
    }
    // Bytes travel as i32 words where they can (MPI has no unsized type
    // here); an odd tail goes in a padded copy.
    const uint64_t words = (bytes_per_rank + 3) / 4;
    const int32_t n = ctx->comm->size();
    std::vector<int32_t> in(words, 0), out(words * n);
    if (bytes_per_rank) std::memcpy(in.data(), send, bytes_per_rank);
    TSR_RETURN_IF_ERROR(ctx->comm->all_gather_host(in.data(), out.data(), words, TSR_DTYPE_I32));
    for (int32_t r = 0; r < n; ++r)
      std::memcpy(static_cast<unsigned char*>(recv) + r * bytes_per_rank, out.data() + r * words,
                  bytes_per_rank);
    return {};
  });
}

TSR_API tsr_status_code tsr_context_broadcast(tsr_context* ctx, void* buf, uint64_t bytes, int32_t root) {
  return guarded("broadcast", [&]() -> tsr::Status {
    if (!ctx || (!buf && bytes)) return null_arg("broadcast", !ctx ? "ctx" : "buf");
    auto lock = tsr::lock_context(ctx);
    const int32_t n = ctx->comm ? ctx->comm->size() : 1;
    if (root < 0 || root >= n) return tsr::invalid_arg("[broadcast] root {} is not a rank of {}", root, n);
    return ctx->comm ? ctx->comm->broadcast_host(buf, bytes, root) : tsr::Status::ok();
  });
}

TSR_API void tsr_context_comm_abort(tsr_context* ctx, int32_t code) {
  if (ctx && ctx->comm) ctx->comm->abort(code);
}

TSR_API tsr_status_code tsr_compile(tsr_context* ctx, const tsr_graph* g, const tsr_compile_options* options,
                                    tsr_model** out_model) {
  return guarded("compile", [&]() -> tsr::Status {
    if (!ctx || !g || !out_model) return null_arg("compile", !ctx ? "ctx" : !g ? "graph" : "out_model");
    if (g->ctx != ctx) return tsr::invalid_arg("[compile] the graph belongs to another context");
    tsr_compile_options opt{};
    if (options) std::memcpy(&opt, options, std::min<size_t>(options->struct_size, sizeof(opt)));
    if (opt.n_devices < 0 || (opt.n_devices > 0 && !opt.devices))
      return tsr::invalid_arg("[compile] {} devices but the list is null", opt.n_devices);
    tsr::CompileOptions co;
    for (int32_t i = 0; i < opt.n_devices; ++i) {
      if (!opt.devices[i]) return tsr::invalid_arg("[compile] device name {} is null", i);
      co.devices.emplace_back(opt.devices[i]);
    }
    co.strict = (opt.flags & TSR_COMPILE_STRICT) != 0;
    co.transfer_cost = (opt.flags & TSR_COMPILE_NO_TRANSFER_COST) == 0;
    co.shared_states = ctx->shared_states.get();
    co.shared_weights = ctx->shared_weights.get();
    co.comm = ctx->comm.get();
    auto lock = tsr::lock_context(ctx);
    auto m = tsr::CompiledModel::compile(*ctx->registry, g->graph, co);
    if (!m.is_ok()) return m.status();
    auto model = std::make_unique<tsr_model_s>();
    model->ctx = ctx;
    model->model = std::move(m.value());
    *out_model = model.release();
    return {};
  });
}

TSR_API void tsr_model_destroy(tsr_model* m) {
  if (!m) return;
  auto lock = tsr::lock_context(m->ctx);  // frees device memory
  delete m;
}

TSR_API tsr_status_code tsr_model_set_input(tsr_model* m, tsr_tensor t, const void* data, uint64_t size) {
  return guarded("set_input", [&]() -> tsr::Status {
    if (!m) return null_arg("set_input", "model");
    if (size > static_cast<uint64_t>(INT64_MAX))
      return tsr::invalid_arg("[set_input] size {} too large", size);
    auto lock = tsr::lock_context(m->ctx);
    return m->model->set_input(t, data, static_cast<int64_t>(size));
  });
}

TSR_API tsr_status_code tsr_model_execute(tsr_model* m, const int64_t* step_params, int32_t n_step_params) {
  return guarded("execute", [&]() -> tsr::Status {
    if (!m) return null_arg("execute", "model");
    auto lock = tsr::lock_context(m->ctx);
    return m->model->execute(step_params, n_step_params);
  });
}

TSR_API tsr_status_code tsr_model_set_abort_callback(tsr_model* m, int32_t (*should_abort)(void* user),
                                                     void* user) {
  return guarded("set_abort_callback", [&]() -> tsr::Status {
    if (!m) return null_arg("set_abort_callback", "model");
    auto lock = tsr::lock_context(m->ctx);
    m->model->set_abort(should_abort, user);
    return {};
  });
}

TSR_API tsr_status_code tsr_model_get_output(tsr_model* m, tsr_tensor t, void* dst, uint64_t size) {
  return guarded("get_output", [&]() -> tsr::Status {
    if (!m) return null_arg("get_output", "model");
    if (size > static_cast<uint64_t>(INT64_MAX))
      return tsr::invalid_arg("[get_output] size {} too large", size);
    auto lock = tsr::lock_context(m->ctx);
    return m->model->get_output(t, dst, static_cast<int64_t>(size));
  });
}

TSR_API const char* tsr_model_placement(const tsr_model* m) {
  return m ? m->model->placement_report().c_str() : "";
}

TSR_API tsr_status_code tsr_model_get_stats(const tsr_model* m, tsr_model_stats* out_stats) {
  return guarded("model_stats", [&]() -> tsr::Status {
    if (!m || !out_stats) return null_arg("model_stats", !m ? "model" : "out_stats");
    auto lock = tsr::lock_context(m->ctx);
    const tsr::ModelStats& s = m->model->stats();
    tsr_model_stats r{};
    r.struct_size = sizeof(r);
    r.n_nodes = s.n_nodes;
    r.n_fallbacks = s.n_fallbacks;
    r.n_copies = s.n_copies;
    r.activation_peak_bytes = static_cast<uint64_t>(s.activation_peak_bytes);
    r.activation_total_bytes = static_cast<uint64_t>(s.activation_total_bytes);
    r.weight_bytes = static_cast<uint64_t>(s.weight_bytes);
    r.state_bytes = static_cast<uint64_t>(s.state_bytes);
    r.last_execute_seconds = s.last_execute_seconds;
    const size_t n = out_stats->struct_size ? std::min<size_t>(out_stats->struct_size, sizeof(r)) : sizeof(r);
    std::memcpy(out_stats, &r, n);
    return {};
  });
}

}  // extern "C"
