// Running one case: data from the case's seed, a one-node graph compiled
// strictly for the device, the same node run by ops::reference on host
// memory, and the comparison.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>

#include "core/executor.h"
#include "core/graph.h"
#include "ops/op_schema.h"
#include "tessera/kit/dtype.h"
#include "tessera/kit/tensor.h"
#include "tools/conformance/conformance.h"

namespace tsr::conformance {
namespace {

using HostData = OperandData;

}  // namespace

// Generates an operand's contiguous data: floats drawn in f32 and converted
// with the dtype's from_float, or the integer fills.
Result<OperandData> make_operand_data(const Operand& o, std::mt19937& rng) {
  HostData h;
  auto d = make_desc(o.dtype, static_cast<int32_t>(o.ne.size()), o.ne.data());
  if (!d.is_ok()) return make_error(d.status().code(), "operand '{}': {}", o.name, d.status().message());
  h.desc = d.value();
  const int64_t n = n_elements(h.desc);
  h.bytes.resize(n_bytes_contiguous(h.desc));
  if (o.dtype == TSR_DTYPE_I32) {
    std::vector<int32_t> v(n);
    switch (o.fill) {
      case Fill::kIds: {
        std::uniform_int_distribution<int32_t> u(0, static_cast<int32_t>(o.range - 1));
        for (auto& x : v) x = u(rng);
        break;
      }
      case Fill::kPermutation: {
        std::vector<int32_t> all(o.range);
        std::iota(all.begin(), all.end(), 0);
        std::shuffle(all.begin(), all.end(), rng);
        if (n > o.range) return invalid_arg("operand '{}': {} distinct ids from {}", o.name, n, o.range);
        std::copy(all.begin(), all.begin() + n, v.begin());
        break;
      }
      case Fill::kPositions:
        for (int64_t i = 0; i < n; ++i) v[i] = static_cast<int32_t>(o.range - n + i);
        break;
      default:
        return invalid_arg("operand '{}': not an integer fill", o.name);
    }
    std::memcpy(h.bytes.data(), v.data(), h.bytes.size());
    return h;
  }
  std::vector<float> f(n);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  switch (o.fill) {
    case Fill::kNormal:
      for (auto& x : f) x = normal(rng) * o.scale;
      break;
    case Fill::kDenominator:
      for (auto& x : f) {
        const float r = normal(rng);
        x = (r < 0 ? -1.0f : 1.0f) * (0.5f + std::fabs(normal(rng))) * o.scale;
      }
      break;
    case Fill::kPositive:
      for (auto& x : f) x = (1.0f + std::fabs(normal(rng))) * o.scale;
      break;
    case Fill::kCausalMask: {
      const int64_t ne0 = o.ne[0], ne1 = o.ne.size() > 1 ? o.ne[1] : 1;
      for (int64_t i = 0; i < ne1; ++i)
        for (int64_t j = 0; j < ne0; ++j) f[i * ne0 + j] = j <= i + ne0 - ne1 ? 0.0f : -INFINITY;
      break;
    }
    default:
      return invalid_arg("operand '{}': not a float fill", o.name);
  }
  const DtypeTraits* t = dtype_traits(o.dtype);
  if (!t || !t->from_float) return invalid_arg("operand '{}': dtype cannot be produced from f32", o.name);
  t->from_float(f.data(), h.bytes.data(), n);
  return h;
}

// Output as floats: to_float, or the i32 values (argmax) as floats.
std::vector<float> as_floats(const TensorDesc& d, const std::vector<uint8_t>& bytes) {
  const int64_t n = n_elements(d);
  std::vector<float> f(n);
  if (d.dtype == TSR_DTYPE_I32) {
    std::vector<int32_t> v(n);
    std::memcpy(v.data(), bytes.data(), n * sizeof(int32_t));
    for (int64_t i = 0; i < n; ++i) f[i] = static_cast<float>(v[i]);
  } else {
    dtype_traits(d.dtype)->to_float(bytes.data(), f.data(), n);
  }
  return f;
}

std::string list_str(const int64_t* v, int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) s += fmt::format("{}{}", i ? ", " : "", v[i]);
  return s + "]";
}

std::string params_str(const tsr_op_params& p) {
  std::string s;
  int ni = TSR_MAX_IPARAMS, nf = TSR_MAX_FPARAMS;
  while (ni > 0 && p.i[ni - 1] == 0) --ni;
  while (nf > 0 && p.f[nf - 1] == 0.0f) --nf;
  if (ni > 0) s += "; ip " + list_str(p.i, ni);
  if (nf > 0) {
    s += "; fp [";
    for (int i = 0; i < nf; ++i) s += fmt::format("{}{:g}", i ? ", " : "", p.f[i]);
    s += "]";
  }
  return s;
}

namespace {

// "q f32 [64, 4, 5] nb [4, 256, 1024] +0; ... -> f32 [64, 4, 5]; ip [1, 0, 16]; fp [0.125]; step [150]":
// what a vendor needs to reproduce a failing case without reading the suite.
std::string describe_node(const Case& c, const std::vector<TensorDesc>& in, const Graph& g,
                          const std::vector<ValueId>& operands, const TensorDesc& out) {
  std::string s;
  for (size_t i = 0; i < in.size(); ++i) {
    const TensorDesc& d = in[i];
    s += fmt::format("{}{} {} nb {} +{}", i ? "; " : "", c.inputs[i].name, desc_str(d),
                     list_str(d.nb, std::max(1, d.rank)), g.value(operands[i]).root_offset);
  }
  s += " -> " + desc_str(out) + params_str(c.params);
  if (!c.step.empty()) s += "; step " + list_str(c.step.data(), static_cast<int>(c.step.size()));
  return s;
}

// Flat element index of a contiguous tensor as "(i0, i1, i2, i3)".
std::string coordinates(const TensorDesc& d, int64_t flat) {
  int64_t idx[TSR_MAX_DIMS];
  for (int k = 0; k < TSR_MAX_DIMS; ++k) {
    const int64_t n = std::max<int64_t>(1, d.ne[k]);
    idx[k] = flat % n;
    flat /= n;
  }
  return fmt::format("({}, {}, {}, {})", idx[0], idx[1], idx[2], idx[3]);
}

CaseResult fail(CaseResult r, std::string msg) {
  r.outcome = Outcome::kFail;
  r.message = std::move(msg);
  return r;
}

}  // namespace

CaseResult run_case(Registry& registry, const std::string& device, const Case& c) {
  if (c.subgraph) return run_subgraph_case(registry, device, c);
  const auto t0 = std::chrono::steady_clock::now();
  CaseResult r;
  r.c = &c;
  r.tol = tolerance_for(c);
  std::mt19937 rng(c.seed);

  // Data for every operand; kept alive for the model (weights are borrowed).
  std::vector<HostData> data;
  for (const Operand& o : c.inputs) {
    auto h = make_operand_data(o, rng);
    if (!h.is_ok()) return fail(r, "[case] " + h.status().message());
    data.push_back(std::move(h.value()));
  }

  // Graph: leaves, their views, the node under test.
  Graph g;
  std::vector<ValueId> leaves, operands;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const Operand& o = c.inputs[i];
    auto id = o.weight ? g.add_weight(o.name, data[i].desc, data[i].bytes.data(),
                                      static_cast<int64_t>(data[i].bytes.size()))
                       : g.add_input(o.name, data[i].desc);
    if (!id.is_ok()) return fail(r, "[case] " + id.status().message());
    leaves.push_back(id.value());
    ValueId v = id.value();
    for (const ViewOp& view : o.views) {
      auto vv = g.add_node(view.op, {v}, view.params);
      if (!vv.is_ok()) return fail(r, "[case] view of '" + o.name + "': " + vv.status().message());
      v = vv.value();
    }
    operands.push_back(v);
  }
  auto out = g.add_node(c.op, operands, c.params);
  if (!out.is_ok()) return fail(r, "[case] " + out.status().message());
  if (Status s = g.mark_output(out.value()); !s.is_ok()) return fail(r, "[case] " + s.message());

  // Expected output: the reference over the descriptors and offsets the node sees.
  const Value& ov = g.value(out.value());
  auto out_desc = make_desc(ov.desc.dtype, ov.desc.rank, ov.desc.ne);
  if (!out_desc.is_ok()) return fail(r, "[case] " + out_desc.status().message());
  std::vector<TensorDesc> in_desc;
  std::vector<const void*> in_ptr;
  for (size_t i = 0; i < operands.size(); ++i) {
    const Value& v = g.value(operands[i]);
    const size_t leaf = std::find(leaves.begin(), leaves.end(), v.root) - leaves.begin();
    in_desc.push_back(v.desc);
    in_ptr.push_back(data[leaf].bytes.data() + v.root_offset);
  }
  r.detail = describe_node(c, in_desc, g, operands, out_desc.value());
  std::vector<uint8_t> expected(n_bytes_contiguous(out_desc.value()));
  const tsr_step_params step{sizeof(tsr_step_params), static_cast<int32_t>(c.step.size()), c.step.data()};
  if (Status s =
          ops::reference(c.op, in_desc.data(), in_ptr.data(), static_cast<int>(in_desc.size()),
                         out_desc.value(), expected.data(), c.params, c.step.empty() ? nullptr : &step);
      !s.is_ok())
    return fail(r, "[reference] " + s.message());

  // The device.
  CompileOptions opt;
  opt.devices = {device};
  opt.strict = true;
  auto model = CompiledModel::compile(registry, g, opt);
  if (!model.is_ok()) {
    if (model.status().code() == TSR_ERR_UNSUPPORTED) {
      r.outcome = Outcome::kUnsupported;
      r.message = model.status().message();
      return r;
    }
    return fail(r, "[compile] " + model.status().message());
  }
  CompiledModel& m = *model.value();
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    if (c.inputs[i].weight) continue;
    if (Status s = m.set_input(leaves[i], data[i].bytes.data(), static_cast<int64_t>(data[i].bytes.size()));
        !s.is_ok())
      return fail(r, s.message());
  }
  if (Status s = m.execute(c.step.data(), static_cast<int32_t>(c.step.size())); !s.is_ok())
    return fail(r, s.message());
  std::vector<uint8_t> got(expected.size());
  if (Status s = m.get_output(out.value(), got.data(), static_cast<int64_t>(got.size())); !s.is_ok())
    return fail(r, s.message());

  const std::vector<float> y = as_floats(out_desc.value(), got);
  const std::vector<float> ref = as_floats(out_desc.value(), expected);
  r.cmp = compare(y.data(), ref.data(), static_cast<int64_t>(y.size()), r.tol);
  r.outcome = r.cmp.pass ? Outcome::kPass : Outcome::kFail;
  r.message = r.cmp.message;
  if (r.cmp.first_mismatch >= 0) r.first_mismatch_at = coordinates(out_desc.value(), r.cmp.first_mismatch);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace tsr::conformance
