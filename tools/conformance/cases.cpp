// Builders shared by the case tables, and the table of all cases.
#include <string_view>

#include "tessera/kit/dtype.h"
#include "tools/conformance/conformance.h"

namespace tsr::conformance {
namespace {

// FNV-1a: a case's seed depends only on its identity.
uint32_t fnv1a(std::string_view s, uint32_t h = 2166136261u) {
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 16777619u;
  }
  return h;
}

}  // namespace

Operand act(std::string name, int32_t dtype, std::vector<int64_t> ne, float scale) {
  Operand o;
  o.name = std::move(name);
  o.dtype = dtype;
  o.ne = std::move(ne);
  o.scale = scale;
  return o;
}

Operand weight(std::string name, int32_t dtype, std::vector<int64_t> ne, float scale) {
  Operand o = act(std::move(name), dtype, std::move(ne), scale);
  o.weight = true;
  return o;
}

Operand ints(std::string name, std::vector<int64_t> ne, Fill fill, int64_t range) {
  Operand o = act(std::move(name), TSR_DTYPE_I32, std::move(ne));
  o.fill = fill;
  o.range = range;
  return o;
}

tsr_op_params iparams(std::initializer_list<int64_t> ip, std::initializer_list<float> fp) {
  tsr_op_params p{};
  int k = 0;
  for (int64_t v : ip) p.i[k++] = v;
  k = 0;
  for (float v : fp) p.f[k++] = v;
  return p;
}

ViewOp permute(int64_t p0, int64_t p1, int64_t p2, int64_t p3) {
  return ViewOp{TSR_OP_PERMUTE, iparams({p0, p1, p2, p3})};
}

ViewOp slice(int32_t dtype, const std::vector<int64_t>& base_ne, const std::vector<int64_t>& ne, int64_t i0,
             int64_t i1) {
  const DtypeTraits* t = dtype_traits(dtype);
  int64_t nb[TSR_MAX_DIMS];
  nb[0] = t->block_bytes;
  nb[1] = base_ne[0] / t->block_size * t->block_bytes;
  for (int k = 2; k < TSR_MAX_DIMS; ++k)
    nb[k] = nb[k - 1] * (k - 1 < static_cast<int>(base_ne.size()) ? base_ne[k - 1] : 1);
  ViewOp v;
  v.op = TSR_OP_VIEW;
  for (size_t k = 0; k < ne.size(); ++k) v.params.i[k] = ne[k];
  for (int k = 1; k < TSR_MAX_DIMS; ++k) v.params.i[3 + k] = k < static_cast<int>(ne.size()) ? nb[k] : 0;
  v.params.i[7] = i0 / t->block_size * nb[0] + i1 * nb[1];
  return v;
}

ViewOp strided(int32_t dtype, const std::vector<int64_t>& ne, const std::vector<int64_t>& nb_elems,
               int64_t offset) {
  const int64_t es = dtype_traits(dtype)->block_bytes;
  ViewOp v;
  v.op = TSR_OP_VIEW;
  for (size_t k = 0; k < ne.size(); ++k) v.params.i[k] = ne[k];
  for (size_t k = 0; k < nb_elems.size(); ++k) v.params.i[4 + k] = nb_elems[k] * es;
  v.params.i[7] = offset * es;
  return v;
}

std::vector<Case> all_cases() {
  std::vector<Case> all;
  for (auto* family : {matmul_cases, elementwise_cases, norm_cases, attention_cases, paged_attention_cases,
                       data_cases, subgraph_cases, block_cases}) {
    std::vector<Case> part = family();
    for (Case& c : part) all.push_back(std::move(c));
  }
  for (Case& c : all) {
    uint32_t h = fnv1a(c.row);
    h = fnv1a(dtype_name(c.column), h);
    c.seed = fnv1a(c.name, h);
  }
  return all;
}

}  // namespace tsr::conformance
