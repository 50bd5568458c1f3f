// The tolerance table: one place, per op and per precision, with the reason
// for every number. Tolerances are set from the error a correct backend may
// legitimately add, never widened to make a failing backend pass.
//
// Background numbers (u = unit roundoff, one rounding of a value gives a
// relative error uniform in [-u, u], i.e. an NMSE of about u^2 / 3):
//   f32  u = 2^-24 = 6e-8   -> NMSE per rounding ~1e-15
//   f16  u = 2^-11 = 4.9e-4 -> NMSE per rounding ~8e-8
//   bf16 u = 2^-8  = 3.9e-3 -> NMSE per rounding ~5e-6
//   q8_0 activations (what quantized matmul kernels do to x): step d = amax/127,
//        amax of 32 normals ~2.1 sigma, error rms d/sqrt(12) -> NMSE ~2.3e-5
// max_rel bounds a single element (10x the rms error the NMSE allows, relative
// to max|ref|): it catches one wildly wrong element that NMSE would average away.
#include <algorithm>
#include <cmath>

#include "tessera/kit/dtype.h"
#include "tessera/kit/op_families.h"
#include "tools/conformance/conformance.h"

namespace tsr::conformance {
namespace {

// Precision class: 0 f32 (and i32), 1 f16, 2 bf16, 3 q8_0, 4 the other
// block formats (q4_0 ... q6_K).
int precision(int32_t dtype) {
  switch (dtype) {
    case TSR_DTYPE_F16:
      return 1;
    case TSR_DTYPE_BF16:
      return 2;
    case TSR_DTYPE_Q8_0:
      return 3;
    default: {
      const DtypeTraits* t = dtype_traits(dtype);
      return t && t->is_quantized ? 4 : 0;
    }
  }
}

Tolerance nmse(double v, const char* why) { return Tolerance{v, 10.0 * std::sqrt(v), false, why}; }
Tolerance exact(const char* why) { return Tolerance{0.0, 0.0, true, why}; }

// The lowest precision among the float/block operands of the case.
int worst_precision(const Case& c) {
  int p = 0;
  for (const Operand& o : c.inputs) p = std::max(p, precision(o.dtype));
  return p;
}

// Element-wise, norms, softmax: computed in f32 (or better) and rounded once
// into the output dtype, which is the dtype of input 0.
Tolerance pointwise(int p) {
  switch (p) {
    case 0:
      return nmse(1e-10,
                  "f32: rms relative error 1e-5 allows fast exp/tanh/rsqrt approximations "
                  "(~1e-6 relative) and any summation order, not a wrong formula");
    case 1:
      return nmse(1e-6,
                  "f16 output: one rounding is ~8e-8; 1e-6 allows an f16 intermediate or a "
                  "table-based activation, not an error of more than ~2 ulp everywhere");
    default:
      return nmse(5e-5, "bf16 output: one rounding is ~5e-6; 5e-5 allows a bf16 intermediate");
  }
}

}  // namespace

Tolerance tolerance_for(const Case& c) {
  if (c.subgraph) return c.subgraph->tol;  // set by the case builder from this table
  const int p = worst_precision(c);
  // Element-wise ops, norms and softmax (the kit's op families): the output
  // dtype is input 0's; a mixed f32 + f16 case is held to the output's
  // precision.
  const kit::OpFamily family = kit::op_family(c.op);
  if (family == kit::OpFamily::elementwise || family == kit::OpFamily::norm ||
      family == kit::OpFamily::softmax)
    return pointwise(precision(c.inputs[0].dtype));
  switch (c.op) {
    case TSR_OP_ARGMAX:
      return exact("an index: the first maximum of the same decoded values, no rounding involved");
    case TSR_OP_CONCAT:
      return exact("a copy: no arithmetic");
    case TSR_OP_GET_ROWS:
      if (p <= 2) return exact("f32/f16/bf16 -> f32 is exact in IEEE arithmetic");
      return nmse(1e-12,
                  "dequantization d*q (+m): an fma or another operation order may round "
                  "differently in the last f32 bit");
    case TSR_OP_CPY:
    case TSR_OP_SET_ROWS: {
      // The output dtype decides: a conversion into a float format is one
      // correctly rounded operation (exact); into a block format the scale is
      // rounded to f16 and elements to integers, where another order of the
      // same arithmetic may flip a near-tie by one step.
      const int32_t out = c.op == TSR_OP_CPY ? static_cast<int32_t>(c.params.i[0]) : c.inputs[0].dtype;
      if (c.op == TSR_OP_CPY && out == c.inputs[0].dtype) return exact("same dtype: a copy of the bits");
      if (out == TSR_DTYPE_Q8_0)
        return nmse(1e-6,
                    "q8_0 output: a flipped near-tie costs one step (~2e-2 sigma), NMSE ~4e-4 per "
                    "element; 1e-6 allows ~0.25% flips, a wrong rounding rule flips ~50%");
      if (out == TSR_DTYPE_Q4_0 || out == TSR_DTYPE_Q4_1)
        return Tolerance{2e-4, 0.3, false,
                         "q4 output: a flipped near-tie costs one step (~0.28 sigma), NMSE ~8e-2 per "
                         "element; 2e-4 allows ~0.25% flips; max error: one step of the block"};
      if (precision(c.inputs[0].dtype) >= 3)
        return nmse(1e-12, "dequantization: last-bit differences of d*q (+m) only");
      return exact("float -> float conversion is correctly rounded (round to nearest even)");
    }
    case TSR_OP_ROPE:
      if (p == 0)
        return nmse(1e-8,
                    "f32: angles pos * base^(-2i/n_rot) computed in f32 (or by a running "
                    "product, as ggml does) carry ~pos * 1e-7 rad of error for pos < 256");
      return pointwise(p);
    case TSR_OP_MATMUL:
      switch (p) {
        case 0:
          return nmse(1e-8,
                      "f32: f32 accumulation over K <= 300 in any order or blocking gives ~1e-12; "
                      "1e-8 refuses a silent drop to bf16/tf32 compute");
        case 1:
          return nmse(1e-5,
                      "f16: a kernel may round the other operand to f16 (~8e-8) and accumulate "
                      "in f16 pairs; 1e-5 still catches one missing K term (1/K ~ 3e-3)");
        case 2:
          return nmse(1e-4, "bf16: rounding the other operand to bf16 gives ~5e-6; 20x margin");
        default:
          return nmse(1e-4,
                      "block weights: compared with the reference over the same quantized "
                      "weights; a kernel may quantize x to q8_0 (NMSE ~2.3e-5), 4x margin");
      }
    case TSR_OP_ATTENTION:
    case TSR_OP_PAGED_ATTENTION:
      if (p == 0) return nmse(1e-8, "f32 kv: two f32 reductions and an exp per score; ~1e-12 expected");
      return nmse(1e-5,
                  "f16 kv: a kernel may round q and the probabilities to f16 before the dot "
                  "products (~1e-7 each), as flash-attention kernels do; 1e-5 leaves 50x");
    default:
      return nmse(1e-10, "f32 default");
  }
}

}  // namespace tsr::conformance
