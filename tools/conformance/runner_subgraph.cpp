// Running a subgraph case: its buffers allocated through the device's own
// table, its nodes prepared once and executed once per run with that run's
// step values, the same nodes run on host copies of the buffers through
// ops::reference, and every checked buffer compared whole after every run.
#include <fmt/format.h>

#include <chrono>
#include <cstring>

#include "ops/op_schema.h"
#include "tessera/kit/dtype.h"
#include "tessera/kit/tensor.h"
#include "tools/conformance/conformance.h"
#include "tools/conformance/subgraph_layout.h"

namespace tsr::conformance {
namespace {

// The device-side objects of one case, released whatever happens.
struct DeviceObjects {
  const tsr_backend_iface& f;
  tsr_bk_queue queue = nullptr;
  std::vector<tsr_bk_buffer> buffers;
  tsr_bk_prepared prepared = nullptr;
  explicit DeviceObjects(const tsr_backend_iface& iface) : f(iface) {}
  DeviceObjects(const DeviceObjects&) = delete;
  DeviceObjects& operator=(const DeviceObjects&) = delete;
  ~DeviceObjects() {
    if (prepared) f.release_prepared(prepared);
    for (tsr_bk_buffer b : buffers)
      if (b) f.buffer_free(b);
    if (queue) f.queue_destroy(queue);
  }
};

tsr_node_desc node_desc(const SubgraphNode& n) {
  tsr_node_desc d{};
  d.struct_size = sizeof(d);
  d.op = n.op;
  d.n_inputs = static_cast<int32_t>(n.inputs.size());
  for (size_t i = 0; i < n.inputs.size(); ++i) d.inputs[i] = n.inputs[i].desc;
  d.output = n.output.desc;
  d.params = n.params;
  return d;
}

std::string placed_str(const Subgraph& sg, const Placed& p) {
  return fmt::format("{} nb {} @{}+{}", desc_str(p.desc), list_str(p.desc.nb, std::max(1, p.desc.rank)),
                     sg.buffers[p.buffer].name, p.offset);
}

// Every node with its tensors' shapes, strides, buffers and offsets, its
// parameters, and the step values of every run: enough to rebuild the case.
std::string describe(const Subgraph& sg) {
  std::string s;
  for (size_t i = 0; i < sg.nodes.size(); ++i) {
    const SubgraphNode& n = sg.nodes[i];
    s += fmt::format("{}#{} {} [{}]: ", i ? "\n            " : "", i, n.label, ops::op_name(n.op));
    for (size_t k = 0; k < n.inputs.size(); ++k) s += (k ? ", " : "") + placed_str(sg, n.inputs[k]);
    s += " -> " + placed_str(sg, n.output) + params_str(n.params);
  }
  s += fmt::format("\n            {} runs, new data each", sg.runs.size());
  if (!sg.runs.empty() && !sg.runs[0].empty()) {
    s += ", step values";
    for (const std::vector<int64_t>& v : sg.runs) s += " " + list_str(v.data(), static_cast<int>(v.size()));
  }
  return s;
}

// One node on the host copies. The reference writes a contiguous temporary
// that is then scattered into the output's layout, so an output aliasing an
// input or strided like no graph output is computed exactly as documented.
// set_rows writes into input 0 by definition.
Status reference_node(const SubgraphNode& n, std::vector<std::vector<uint8_t>>& host,
                      const tsr_step_params* step) {
  std::vector<TensorDesc> in;
  std::vector<const void*> ptr;
  for (const Placed& p : n.inputs) {
    in.push_back(p.desc);
    ptr.push_back(host[p.buffer].data() + p.offset);
  }
  uint8_t* out = host[n.output.buffer].data() + n.output.offset;
  const int n_in = static_cast<int>(in.size());
  if (n.op == TSR_OP_SET_ROWS)
    return ops::reference(n.op, in.data(), ptr.data(), n_in, n.output.desc, out, n.params, step);
  auto contiguous = make_desc(n.output.desc.dtype, n.output.desc.rank, n.output.desc.ne);
  if (!contiguous.is_ok()) return contiguous.status();
  std::vector<uint8_t> tmp(n_bytes_contiguous(contiguous.value()));
  TSR_RETURN_IF_ERROR(
      ops::reference(n.op, in.data(), ptr.data(), n_in, contiguous.value(), tmp.data(), n.params, step));
  scatter_contiguous(tmp.data(), n.output.desc, out);
  return Status();
}

// Where byte `byte` of buffer b lies: the last node output covering it, with
// its coordinates, or a note that no node writes there.
std::string locate(const Subgraph& sg, int32_t b, uint64_t byte) {
  for (size_t i = sg.nodes.size(); i-- > 0;) {
    const Placed& o = sg.nodes[i].output;
    if (o.buffer != b) continue;
    const TensorDesc& d = o.desc;
    const int64_t es = dtype_traits(d.dtype)->block_bytes;
    for (int64_t i3 = 0; i3 < d.ne[3]; ++i3)
      for (int64_t i2 = 0; i2 < d.ne[2]; ++i2)
        for (int64_t i1 = 0; i1 < d.ne[1]; ++i1)
          for (int64_t i0 = 0; i0 < d.ne[0]; ++i0) {
            const uint64_t at = o.offset + i0 * d.nb[0] + i1 * d.nb[1] + i2 * d.nb[2] + i3 * d.nb[3];
            if (byte >= at && byte < at + es)
              return fmt::format("({}, {}, {}, {}) of node #{} {} (byte {} of '{}')", i0, i1, i2, i3, i,
                                 sg.nodes[i].label, byte, sg.buffers[b].name);
          }
  }
  return fmt::format("byte {} of '{}', which no node writes (the device wrote outside its outputs)", byte,
                     sg.buffers[b].name);
}

CaseResult finish(CaseResult r, Outcome o, std::string msg, std::chrono::steady_clock::time_point t0) {
  r.outcome = o;
  r.message = std::move(msg);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace

CaseResult run_subgraph_case(Registry& registry, const std::string& device, const Case& c) {
  const auto t0 = std::chrono::steady_clock::now();
  const Subgraph& sg = *c.subgraph;
  CaseResult r;
  r.c = &c;
  r.tol = sg.tol;
  r.detail = describe(sg);
  auto dev = registry.find_device(device);
  if (!dev.is_ok()) return finish(r, Outcome::kFail, dev.status().message(), t0);
  const Device& d = registry.devices()[dev.value()];
  const tsr_backend_iface& f = d.backend->iface();

  // Every node must be supported; one refusal makes the case unsupported.
  for (size_t i = 0; i < sg.nodes.size(); ++i) {
    const tsr_node_desc nd = node_desc(sg.nodes[i]);
    char reason[256] = "";
    if (!f.supports_op(d.handle, &nd, reason, sizeof(reason)))
      return finish(r, Outcome::kUnsupported,
                    fmt::format("node #{} {} ({}): {}", i, sg.nodes[i].label, ops::op_name(sg.nodes[i].op),
                                reason[0] ? reason : "no reason given"),
                    t0);
  }

  DeviceObjects obj(f);
  tsr_error err{};
  if (f.queue_create(d.handle, &obj.queue, &err) != TSR_OK)
    return finish(r, Outcome::kFail, backend_error(err, "queue_create"), t0);
  std::vector<std::vector<uint8_t>> host;
  for (const SubgraphBuffer& b : sg.buffers) {
    host.emplace_back(b.size);
    obj.buffers.push_back(nullptr);
    if (f.buffer_alloc(d.handle, b.size, b.flags, &obj.buffers.back(), &err) != TSR_OK)
      return finish(r, Outcome::kFail, backend_error(err, "buffer_alloc " + b.name), t0);
  }

  // Our own node array, zeroed right after prepare: the ABI does not keep
  // it valid past prepare, and a backend that kept the pointer reads nodes
  // of op TSR_OP_NONE with no buffers instead of silently working.
  std::vector<tsr_subgraph_node> nodes(sg.nodes.size());
  for (size_t i = 0; i < sg.nodes.size(); ++i) {
    const SubgraphNode& n = sg.nodes[i];
    nodes[i].desc = node_desc(n);
    for (size_t k = 0; k < n.inputs.size(); ++k)
      nodes[i].inputs[k] = {obj.buffers[n.inputs[k].buffer], n.inputs[k].offset, n.inputs[k].desc};
    nodes[i].output = {obj.buffers[n.output.buffer], n.output.offset, n.output.desc};
  }
  const tsr_subgraph graph{sizeof(tsr_subgraph), static_cast<int32_t>(nodes.size()), nodes.data()};
  if (tsr_status_code s = f.prepare(d.handle, &graph, &obj.prepared, &err); s != TSR_OK)
    return finish(r, Outcome::kFail, backend_error(err, "prepare"), t0);
  std::memset(static_cast<void*>(nodes.data()), 0, nodes.size() * sizeof(tsr_subgraph_node));

  std::mt19937 rng(c.seed);
  for (size_t run = 0; run < sg.runs.size(); ++run) {
    const std::vector<int64_t>& values = sg.runs[run];
    const tsr_step_params step{sizeof(tsr_step_params), static_cast<int32_t>(values.size()), values.data()};
    const std::string when = fmt::format(
        "run {} of {}{}", run + 1, sg.runs.size(),
        values.empty() ? "" : " (step " + list_str(values.data(), static_cast<int>(values.size())) + ")");
    for (size_t b = 0; b < sg.buffers.size(); ++b) {
      if (run > 0 && !sg.buffers[b].refill) continue;
      sg.buffers[b].fill(rng, values, host[b].data());
      if (f.buffer_write(obj.queue, obj.buffers[b], 0, host[b].data(), host[b].size(), &err) != TSR_OK)
        return finish(r, Outcome::kFail,
                      when + ": " + backend_error(err, "buffer_write " + sg.buffers[b].name), t0);
    }
    if (f.execute(obj.prepared, obj.queue, &step, &err) != TSR_OK ||
        f.queue_finish(obj.queue, &err) != TSR_OK)
      return finish(
          r, Outcome::kFail,
          when + ": " + backend_error(err, "execute") +
              " (the node array given to prepare was zeroed when prepare returned: the ABI keeps it "
              "valid only during prepare, so a backend copies what it needs)",
          t0);
    for (const SubgraphNode& n : sg.nodes)
      if (Status s = reference_node(n, host, &step); !s.is_ok())
        return finish(r, Outcome::kFail, when + ": [reference] " + s.message(), t0);

    for (size_t b = 0; b < sg.buffers.size(); ++b) {
      const SubgraphBuffer& sb = sg.buffers[b];
      if (sb.check_dtype < 0) continue;
      std::vector<uint8_t> got(sb.size);
      if (f.buffer_read(obj.queue, obj.buffers[b], 0, got.data(), got.size(), &err) != TSR_OK ||
          f.queue_finish(obj.queue, &err) != TSR_OK)
        return finish(r, Outcome::kFail, when + ": " + backend_error(err, "buffer_read " + sb.name), t0);
      const int64_t es = dtype_traits(sb.check_dtype)->block_bytes;
      const int64_t n = static_cast<int64_t>(sb.size) / es;
      auto whole = make_desc(sb.check_dtype, 1, &n);
      const std::vector<float> y = as_floats(whole.value(), got);
      const std::vector<float> ref = as_floats(whole.value(), host[b]);
      r.cmp = compare(y.data(), ref.data(), n, r.tol);
      if (!r.cmp.pass) {
        if (r.cmp.first_mismatch >= 0)
          r.first_mismatch_at = locate(sg, static_cast<int32_t>(b), r.cmp.first_mismatch * es);
        return finish(r, Outcome::kFail, fmt::format("{}: buffer '{}': {}", when, sb.name, r.cmp.message),
                      t0);
      }
    }
  }
  return finish(r, Outcome::kPass, "", t0);
}

}  // namespace tsr::conformance
