// SubgraphLayout: placing tensors in buffers and filling them per run.
#include "tools/conformance/subgraph_layout.h"

#include <cstring>

#include "tessera/kit/dtype.h"
#include "tessera/kit/tensor.h"

namespace tsr::conformance {
namespace {

uint64_t align64(uint64_t v) { return (v + 63u) & ~uint64_t{63}; }

}  // namespace

void scatter_contiguous(const uint8_t* src, const tsr_tensor_desc& to, uint8_t* dst) {
  const int64_t es = dtype_traits(to.dtype)->block_bytes;
  int64_t k = 0;
  for (int64_t i3 = 0; i3 < to.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < to.ne[2]; ++i2)
      for (int64_t i1 = 0; i1 < to.ne[1]; ++i1)
        for (int64_t i0 = 0; i0 < to.ne[0]; ++i0, k += es)
          std::memcpy(dst + i0 * to.nb[0] + i1 * to.nb[1] + i2 * to.nb[2] + i3 * to.nb[3], src + k, es);
}

int32_t SubgraphLayout::add_buffer(std::string name, uint32_t flags, bool refill, int32_t check_dtype) {
  Buffer b;
  b.b.name = std::move(name);
  b.b.flags = flags;
  b.b.refill = refill;
  b.b.check_dtype = check_dtype;
  buffers_.push_back(std::move(b));
  return static_cast<int32_t>(buffers_.size() - 1);
}

Placed SubgraphLayout::place(int32_t buffer, const Operand& fill, int64_t shift, int64_t row_pad,
                             int64_t dim_pad) {
  Buffer& b = buffers_[buffer];
  const int64_t es = dtype_traits(fill.dtype)->block_bytes;
  Placed p;
  p.buffer = buffer;
  p.offset = align64(b.b.size) + shift;
  p.desc.dtype = fill.dtype;
  p.desc.rank = static_cast<int32_t>(fill.ne.size());
  for (int k = 0; k < TSR_MAX_DIMS; ++k) p.desc.ne[k] = k < p.desc.rank ? fill.ne[k] : 1;
  p.desc.nb[0] = es;
  p.desc.nb[1] = (p.desc.ne[0] + row_pad) * es;
  for (int k = 2; k < TSR_MAX_DIMS; ++k) p.desc.nb[k] = p.desc.nb[k - 1] * p.desc.ne[k - 1] + dim_pad * es;
  b.b.size = p.offset + n_bytes_spanned(p.desc);
  b.regions.push_back({p, fill, false});
  return p;
}

Placed SubgraphLayout::place_positions(int32_t buffer, int64_t n) {
  Placed p = place(buffer, ints("pos", {n}, Fill::kPositions, 0));
  buffers_[buffer].regions.back().positions_from_step = true;
  return p;
}

Placed SubgraphLayout::view(const Placed& t, std::vector<int64_t> ne, std::vector<int64_t> nb_bytes,
                            uint64_t offset) {
  Placed v = t;
  v.offset += offset;
  v.desc.rank = static_cast<int32_t>(ne.size());
  for (int k = 0; k < TSR_MAX_DIMS; ++k) {
    v.desc.ne[k] = k < v.desc.rank ? ne[k] : 1;
    if (k < static_cast<int>(nb_bytes.size()))
      v.desc.nb[k] = nb_bytes[k];
    else if (k > 0)
      v.desc.nb[k] = v.desc.nb[k - 1] * v.desc.ne[k - 1];
  }
  return v;
}

void SubgraphLayout::add_node(int32_t op, std::string label, std::vector<Placed> inputs, Placed output,
                              const tsr_op_params& params) {
  nodes_.push_back({op, std::move(label), std::move(inputs), output, params});
}

Subgraph SubgraphLayout::finish(std::vector<std::vector<int64_t>> runs, const Tolerance& tol) {
  Subgraph sg;
  for (Buffer& buf : buffers_) {
    buf.b.size = align64(buf.b.size);
    const int32_t bg_dtype = buf.b.check_dtype >= 0 ? buf.b.check_dtype : TSR_DTYPE_F32;
    const uint64_t size = buf.b.size;
    std::vector<Region> regions = buf.regions;
    // Background first, so bytes no tensor covers (row padding, alignment
    // gaps) hold values a stray write would change.
    buf.b.fill = [size, bg_dtype, regions](std::mt19937& rng, const std::vector<int64_t>& step,
                                           uint8_t* bytes) {
      Operand bg =
          act("background", bg_dtype, {static_cast<int64_t>(size) / dtype_traits(bg_dtype)->block_bytes});
      if (auto d = make_operand_data(bg, rng); d.is_ok()) std::memcpy(bytes, d.value().bytes.data(), size);
      for (const Region& r : regions) {
        Operand o = r.fill;
        o.ne.assign(r.at.desc.ne, r.at.desc.ne + std::max(1, r.at.desc.rank));
        if (r.positions_from_step) o.range = step.empty() ? o.ne[0] : step[0];
        if (auto d = make_operand_data(o, rng); d.is_ok())
          scatter_contiguous(d.value().bytes.data(), r.at.desc, bytes + r.at.offset);
      }
    };
    sg.buffers.push_back(buf.b);
  }
  sg.nodes = nodes_;
  sg.runs = std::move(runs);
  sg.tol = tol;
  return sg;
}

}  // namespace tsr::conformance
