// Building subgraph cases: buffers that tensors are appended to at chosen
// offsets and strides, each buffer filled with random background values and
// then with its tensors' own fills (ids, positions, divisors).
#pragma once

#include <string>
#include <vector>

#include "tools/conformance/conformance.h"

namespace tsr::conformance {

// Writes the contiguous bytes of a tensor of to's shape into the strided
// layout `to` at dst (scalar dtypes).
void scatter_contiguous(const uint8_t* src, const tsr_tensor_desc& to, uint8_t* dst);

class SubgraphLayout {
 public:
  // A new buffer; check_dtype >= 0 compares it whole after every execution
  // (its background is then drawn in that dtype, otherwise in f32).
  int32_t add_buffer(std::string name, uint32_t flags, bool refill, int32_t check_dtype = -1);
  // Places a tensor of shape ne at the first 64-byte boundary past the
  // buffer's end plus `shift` bytes. Rows are `row_pad` elements longer than
  // ne[0] and each dim >= 2 starts `dim_pad` elements after the previous one
  // ends (0, 0: contiguous). fill gives the values (its ne is ignored).
  Placed place(int32_t buffer, const Operand& fill, int64_t shift = 0, int64_t row_pad = 0,
               int64_t dim_pad = 0);
  // Like place, but the positions are the last n of a sequence whose length
  // is step value 0 of each run (a decode step's token positions).
  Placed place_positions(int32_t buffer, int64_t n);
  // A view of t: another shape and strides over the same bytes.
  static Placed view(const Placed& t, std::vector<int64_t> ne, std::vector<int64_t> nb_bytes,
                     uint64_t offset = 0);
  void add_node(int32_t op, std::string label, std::vector<Placed> inputs, Placed output,
                const tsr_op_params& params = {});
  // The finished subgraph: buffers sized and given their fill functions.
  Subgraph finish(std::vector<std::vector<int64_t>> runs, const Tolerance& tol);

 private:
  struct Region {
    Placed at;
    Operand fill;
    bool positions_from_step = false;
  };
  struct Buffer {
    SubgraphBuffer b;
    std::vector<Region> regions;
  };
  std::vector<Buffer> buffers_;
  std::vector<SubgraphNode> nodes_;
};

}  // namespace tsr::conformance
