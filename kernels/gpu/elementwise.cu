// add, sub, mul, div, scale, silu, gelu, swiglu: one kernel, the op in ku[0].
// Each thread computes one output element; inputs broadcast per dim (ne 1).
// The output may be input 0 itself (in-place): each element is read before
// it is written, by the same thread.
#include "kernels/gpu/tensor_access.h"

namespace tsr::gpu {

// tsr_op values of the ops served here.
enum : int64_t { kAdd = 3, kSub = 4, kMul = 5, kDiv = 6, kScale = 7, kSilu = 12, kGelu = 13, kSwiglu = 14 };

TSR_DEV float silu(float x) { return x / (1.0f + expf(-x)); }

TSR_DEV float gelu(float x) {
  const float c = 0.7978845608028654f;  // sqrt(2/pi)
  return 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)));
}

TSR_KERNEL(tsr_elementwise) {
  const GpuTensor& o = a.t[kOutSlot];
  const int64_t i = flat_thread();
  if (i >= a.ku[1]) return;
  int64_t c[4];
  unflatten(i, o.ne, c);
  const GpuTensor& x = a.t[0];
  const float va = load_f(x, offset_of(x, x.ne[0] == 1 ? 0 : c[0], x.ne[1] == 1 ? 0 : c[1],
                                       x.ne[2] == 1 ? 0 : c[2], x.ne[3] == 1 ? 0 : c[3]));
  const int64_t op = a.ku[0];
  float vb = 0.0f;
  if (op == kAdd || op == kSub || op == kMul || op == kDiv || op == kSwiglu) {
    const GpuTensor& y = a.t[1];
    vb = load_f(y, offset_of(y, y.ne[0] == 1 ? 0 : c[0], y.ne[1] == 1 ? 0 : c[1], y.ne[2] == 1 ? 0 : c[2],
                             y.ne[3] == 1 ? 0 : c[3]));
  }
  float r = 0.0f;
  switch (op) {
    case kAdd:
      r = va + vb;
      break;
    case kSub:
      r = va - vb;
      break;
    case kMul:
      r = va * vb;
      break;
    case kDiv:
      r = va / vb;
      break;
    case kScale:
      r = va * a.fp[0] + a.fp[1];
      break;
    case kSilu:
      r = silu(va);
      break;
    case kGelu:
      r = gelu(va);
      break;
    default:
      r = silu(va) * vb;
      break;  // swiglu
  }
  store_f(o, offset_of(o, c[0], c[1], c[2], c[3]), r);
}

}  // namespace tsr::gpu
