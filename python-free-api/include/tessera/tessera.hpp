// Tessera C++ wrapper: header-only RAII types over tessera.h. Errors become
// tessera::Error exceptions carrying the status code and tsr_last_error()'s
// message; nothing here adds behaviour beyond the C API.
//
//   tessera::Context ctx;
//   tessera::Graph g(ctx);
//   auto x = g.input("x", TSR_DTYPE_F32, {64, 4});
//   auto y = g.silu(x);                       // f32 [64, 4]
//   g.output(y);
//   tessera::Model m(ctx, g, {"cpu"});
//   m.set_input(x, data);
//   m.execute();
//   std::vector<float> out = m.output<float>(y, 64 * 4);
#pragma once

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tessera.h"

namespace tessera {

class Error : public std::runtime_error {
 public:
  Error(tsr_status_code code, const std::string& msg) : std::runtime_error(msg), code_(code) {}
  tsr_status_code code() const { return code_; }

 private:
  tsr_status_code code_;
};

inline void check(tsr_status_code rc) {
  if (rc != TSR_OK) throw Error(rc, tsr_last_error());
}

// Unique owner of a C handle, released by Destroy. Non-copyable, movable.
template <typename T, void (*Destroy)(T*)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(T* p) : p_(p) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  T* get() const { return p_; }
  void reset() {
    if (p_) Destroy(p_);
    p_ = nullptr;
  }

 private:
  T* p_ = nullptr;
};

class Context {
 public:
  explicit Context(int n_threads = 0, const std::vector<std::string>& plugins = {}) {
    std::vector<const char*> paths;
    for (const auto& p : plugins) paths.push_back(p.c_str());
    tsr_context_options o{sizeof(o), n_threads, paths.data(), static_cast<int32_t>(paths.size())};
    tsr_context* c = nullptr;
    check(tsr_context_create(&o, &c));
    h_ = Handle<tsr_context, tsr_context_destroy>(c);
  }
  tsr_context* get() const { return h_.get(); }
  void load_plugin(const std::string& path) { check(tsr_context_load_plugin(get(), path.c_str())); }
  std::vector<tsr_device_info> devices() const {
    std::vector<tsr_device_info> r(tsr_device_count(get()));
    for (size_t i = 0; i < r.size(); ++i) {
      r[i].struct_size = sizeof(tsr_device_info);
      check(tsr_device_get_info(get(), static_cast<int32_t>(i), &r[i]));
    }
    return r;
  }
  // Joins the job's ranks through a communicator ("mpi"); see tsr_context_open_comm.
  void open_comm(const std::string& name = "mpi", double timeout_seconds = 0) {
    tsr_comm_options o{sizeof(o), name.c_str(), timeout_seconds};
    check(tsr_context_open_comm(get(), &o));
  }
  int comm_rank() const { return tsr_context_comm_rank(get()); }
  int comm_size() const { return tsr_context_comm_size(get()); }

 private:
  Handle<tsr_context, tsr_context_destroy> h_;
};

class Graph {
 public:
  explicit Graph(const Context& ctx) : Graph(ctx.get()) {}
  // On a context owned elsewhere (a library handed a tsr_context*).
  explicit Graph(tsr_context* ctx) {
    tsr_graph* g = nullptr;
    check(tsr_graph_create(ctx, &g));
    h_ = Handle<tsr_graph, tsr_graph_destroy>(g);
  }
  tsr_graph* get() const { return h_.get(); }

  tsr_tensor input(const std::string& name, tsr_dtype dt, std::vector<int64_t> ne) {
    tsr_tensor t;
    check(tsr_graph_input(get(), name.c_str(), dt, static_cast<int32_t>(ne.size()), ne.data(), &t));
    return t;
  }
  // data is borrowed; see tsr_graph_weight.
  tsr_tensor weight(const std::string& name, tsr_dtype dt, std::vector<int64_t> ne, const void* data,
                    uint64_t size) {
    tsr_tensor t;
    check(tsr_graph_weight(get(), name.c_str(), dt, static_cast<int32_t>(ne.size()), ne.data(), data, size,
                           &t));
    return t;
  }
  tsr_tensor state(const std::string& name, tsr_dtype dt, std::vector<int64_t> ne) {
    tsr_tensor t;
    check(tsr_graph_state(get(), name.c_str(), dt, static_cast<int32_t>(ne.size()), ne.data(), &t));
    return t;
  }
  // See tsr_graph_shared_state.
  tsr_tensor shared_state(const std::string& name, tsr_dtype dt, std::vector<int64_t> ne) {
    tsr_tensor t;
    check(tsr_graph_shared_state(get(), name.c_str(), dt, static_cast<int32_t>(ne.size()), ne.data(), &t));
    return t;
  }
  tsr_tensor op(tsr_op op, std::initializer_list<tsr_tensor> in, const tsr_op_params& p = {}) {
    tsr_tensor t;
    check(tsr_graph_op(get(), op, in.begin(), static_cast<int32_t>(in.size()), &p, &t));
    return t;
  }
  void output(tsr_tensor t) { check(tsr_graph_output(get(), t)); }
  // Nodes added from now on run on `device` ("" : the compile's preference list).
  void set_device(const std::string& device) { check(tsr_graph_set_device(get(), device.c_str())); }
  tsr_tensor_desc desc(tsr_tensor t) const {
    tsr_tensor_desc d;
    check(tsr_graph_tensor_desc(get(), t, &d));
    return d;
  }

  // One helper per op; parameters as documented on tsr_op.
  tsr_tensor get_rows(tsr_tensor table, tsr_tensor ids) { return op(TSR_OP_GET_ROWS, {table, ids}); }
  tsr_tensor matmul(tsr_tensor w, tsr_tensor x) { return op(TSR_OP_MATMUL, {w, x}); }
  tsr_tensor add(tsr_tensor a, tsr_tensor b) { return op(TSR_OP_ADD, {a, b}); }
  tsr_tensor sub(tsr_tensor a, tsr_tensor b) { return op(TSR_OP_SUB, {a, b}); }
  tsr_tensor mul(tsr_tensor a, tsr_tensor b) { return op(TSR_OP_MUL, {a, b}); }
  tsr_tensor div(tsr_tensor a, tsr_tensor b) { return op(TSR_OP_DIV, {a, b}); }
  tsr_tensor scale(tsr_tensor x, float s, float bias = 0.0f) {
    tsr_op_params p{};
    p.f[0] = s;
    p.f[1] = bias;
    return op(TSR_OP_SCALE, {x}, p);
  }
  tsr_tensor rms_norm(tsr_tensor x, float eps) { return op(TSR_OP_RMS_NORM, {x}, fparam(eps)); }
  tsr_tensor layer_norm(tsr_tensor x, float eps) { return op(TSR_OP_LAYER_NORM, {x}, fparam(eps)); }
  tsr_tensor rope(tsr_tensor x, tsr_tensor pos, int n_rot, int mode, float freq_base,
                  float freq_scale = 1.0f) {
    return op(TSR_OP_ROPE, {x, pos}, rope_params(n_rot, mode, freq_base, freq_scale));
  }
  // With per-pair frequency factors f32 [n_rot / 2] (Llama 3's rope_freqs).
  tsr_tensor rope(tsr_tensor x, tsr_tensor pos, tsr_tensor freq_factors, int n_rot, int mode, float freq_base,
                  float freq_scale = 1.0f) {
    return op(TSR_OP_ROPE, {x, pos, freq_factors}, rope_params(n_rot, mode, freq_base, freq_scale));
  }
  tsr_tensor softmax(tsr_tensor x, float scale = 1.0f) { return op(TSR_OP_SOFTMAX, {x}, fparam(scale)); }
  tsr_tensor softmax(tsr_tensor x, tsr_tensor mask, float scale) {
    return op(TSR_OP_SOFTMAX, {x, mask}, fparam(scale));
  }
  tsr_tensor silu(tsr_tensor x) { return op(TSR_OP_SILU, {x}); }
  tsr_tensor gelu(tsr_tensor x) { return op(TSR_OP_GELU, {x}); }
  tsr_tensor swiglu(tsr_tensor gate, tsr_tensor up) { return op(TSR_OP_SWIGLU, {gate, up}); }
  tsr_tensor geglu(tsr_tensor gate, tsr_tensor up) { return op(TSR_OP_GEGLU, {gate, up}); }
  tsr_tensor softcap(tsr_tensor x, float cap) { return op(TSR_OP_SOFTCAP, {x}, fparam(cap)); }
  // kv_len_param: index of the step parameter holding the valid KV length, or -1.
  // window: sliding window length (0: none; causal only).
  tsr_tensor attention(tsr_tensor q, tsr_tensor k, tsr_tensor v, tsr_tensor pos, bool causal,
                       int kv_len_param = -1, float scale = 0.0f, int64_t window = 0) {
    tsr_op_params p{};
    p.f[0] = scale;
    p.i[0] = causal ? 1 : 0;
    p.i[1] = kv_len_param;
    p.i[2] = window;
    return op(TSR_OP_ATTENTION, {q, k, v, pos}, p);
  }
  // Causal attention of a flat token batch over a paged KV pool (see
  // TSR_OP_PAGED_ATTENTION): block_size rows per block.
  tsr_tensor paged_attention(tsr_tensor q, tsr_tensor k_pool, tsr_tensor v_pool, tsr_tensor pos,
                             tsr_tensor seq, tsr_tensor block_table, int64_t block_size, float scale = 0.0f,
                             int64_t window = 0) {
    tsr_op_params p{};
    p.f[0] = scale;
    p.i[0] = block_size;
    p.i[2] = window;
    return op(TSR_OP_PAGED_ATTENTION, {q, k_pool, v_pool, pos, seq, block_table}, p);
  }
  tsr_tensor set_rows(tsr_tensor dst, tsr_tensor src, tsr_tensor idx) {
    return op(TSR_OP_SET_ROWS, {dst, src, idx});
  }
  tsr_tensor cast(tsr_tensor x, tsr_dtype to) {
    tsr_op_params p{};
    p.i[0] = to;
    return op(TSR_OP_CPY, {x}, p);
  }
  tsr_tensor contiguous(tsr_tensor x) { return cast(x, static_cast<tsr_dtype>(desc(x).dtype)); }
  tsr_tensor reshape(tsr_tensor x, std::vector<int64_t> ne) {
    tsr_op_params p{};
    for (size_t i = 0; i < 4; ++i) p.i[i] = i < ne.size() ? ne[i] : 1;
    return op(TSR_OP_RESHAPE, {x}, p);
  }
  tsr_tensor permute(tsr_tensor x, int a0, int a1, int a2, int a3) {
    tsr_op_params p{};
    p.i[0] = a0;
    p.i[1] = a1;
    p.i[2] = a2;
    p.i[3] = a3;
    return op(TSR_OP_PERMUTE, {x}, p);
  }
  tsr_tensor transpose(tsr_tensor x) { return permute(x, 1, 0, 2, 3); }
  // ne (up to 4 dims), nb[1..3] byte strides, byte offset into x.
  tsr_tensor view(tsr_tensor x, std::vector<int64_t> ne, std::vector<int64_t> nb, int64_t offset) {
    tsr_op_params p{};
    for (size_t i = 0; i < 4; ++i) p.i[i] = i < ne.size() ? ne[i] : 1;
    for (size_t i = 0; i < 3; ++i) p.i[4 + i] = i < nb.size() ? nb[i] : 0;
    p.i[7] = offset;
    return op(TSR_OP_VIEW, {x}, p);
  }
  tsr_tensor concat(tsr_tensor a, tsr_tensor b, int dim) {
    tsr_op_params p{};
    p.i[0] = dim;
    return op(TSR_OP_CONCAT, {a, b}, p);
  }
  tsr_tensor argmax(tsr_tensor x) { return op(TSR_OP_ARGMAX, {x}); }
  // Collectives over `world` ranks (the context's communicator's size).
  tsr_tensor all_reduce(tsr_tensor x, int64_t world) { return op(TSR_OP_ALL_REDUCE, {x}, iparam(world)); }
  tsr_tensor all_gather(tsr_tensor x, int64_t world) { return op(TSR_OP_ALL_GATHER, {x}, iparam(world)); }

 private:
  static tsr_op_params iparam(int64_t i) {
    tsr_op_params p{};
    p.i[0] = i;
    return p;
  }
  static tsr_op_params fparam(float f) {
    tsr_op_params p{};
    p.f[0] = f;
    return p;
  }
  static tsr_op_params rope_params(int n_rot, int mode, float freq_base, float freq_scale) {
    tsr_op_params p{};
    p.i[0] = n_rot;
    p.i[1] = mode;
    p.f[0] = freq_base;
    p.f[1] = freq_scale;
    return p;
  }
  Handle<tsr_graph, tsr_graph_destroy> h_;
};

class Model {
 public:
  Model(const Context& ctx, const Graph& g, const std::vector<std::string>& devices = {"cpu"},
        bool strict = false)
      : Model(ctx.get(), g, devices, strict) {}
  Model(tsr_context* ctx, const Graph& g, const std::vector<std::string>& devices = {"cpu"},
        bool strict = false)
      : Model(ctx, g, devices, CompileFlags{strict ? static_cast<uint32_t>(TSR_COMPILE_STRICT) : 0u}) {}
  struct CompileFlags {
    uint32_t value;  // TSR_COMPILE_*
  };
  Model(tsr_context* ctx, const Graph& g, const std::vector<std::string>& devices, CompileFlags flags) {
    std::vector<const char*> names;
    for (const auto& d : devices) names.push_back(d.c_str());
    tsr_compile_options o{sizeof(o), names.data(), static_cast<int32_t>(names.size()), flags.value};
    tsr_model* m = nullptr;
    check(tsr_compile(ctx, g.get(), &o, &m));
    h_ = Handle<tsr_model, tsr_model_destroy>(m);
  }
  tsr_model* get() const { return h_.get(); }

  template <typename T>
  void set_input(tsr_tensor t, const std::vector<T>& data) {
    check(tsr_model_set_input(get(), t, data.data(), data.size() * sizeof(T)));
  }
  void execute(const std::vector<int64_t>& step_params = {}) {
    check(tsr_model_execute(get(), step_params.data(), static_cast<int32_t>(step_params.size())));
  }
  // Reads an output of element type T (its contiguous layout, byte size / sizeof(T) elements).
  template <typename T>
  std::vector<T> output(tsr_tensor t, size_t n_elements) {
    std::vector<T> r(n_elements);
    check(tsr_model_get_output(get(), t, r.data(), r.size() * sizeof(T)));
    return r;
  }
  std::string placement() const { return tsr_model_placement(get()); }
  tsr_model_stats stats() const {
    tsr_model_stats s{};
    s.struct_size = sizeof(s);
    check(tsr_model_get_stats(get(), &s));
    return s;
  }

 private:
  Handle<tsr_model, tsr_model_destroy> h_;
};

}  // namespace tessera
