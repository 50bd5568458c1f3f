// add, sub, mul, div, scale, silu, gelu, softcap and the gated swiglu and
// geglu: one kernel, the op in ku[0]. Each thread computes one output
// element; inputs broadcast per dim (ne 1). The output may be input 0 itself
// (in-place): each element is read before it is written, by the same thread.
#include "gpu/tensor_access.h"

namespace tsr::gpu {

// tsr_op values of the ops served here.
enum : int64_t {
  kAdd = 3,
  kSub = 4,
  kMul = 5,
  kDiv = 6,
  kScale = 7,
  kSilu = 12,
  kGelu = 13,
  kSwiglu = 14,
  kSoftcap = 23,
  kGeglu = 24,
};

TSR_DEV bool has_second_input(int64_t op) {
  return op == kAdd || op == kSub || op == kMul || op == kDiv || op == kSwiglu || op == kGeglu;
}

TSR_DEV float silu(float x) { return x / (1.0f + expf(-x)); }

// 0.5 x (1 + tanh(z)) written as x * sigmoid(2z), z = sqrt(2/pi) (x + 0.044715 x^3):
// 1 + tanh(z) cancels for negative x (at x = -6 it keeps ~3 of tanhf's
// digits), the sigmoid form does not. Large |x| saturates cleanly: x^3 may
// overflow to +-inf, and expf(-2z) is then 0 (result x) or inf (result -0).
TSR_DEV float gelu(float x) {
  const float k = 0.7978845608028654f;  // sqrt(2/pi)
  const float z = k * x * (1.0f + 0.044715f * x * x);
  return x / (1.0f + expf(-2.0f * z));
}

// cap * tanh(x / cap). The device tanhf (and std::tanh on the emulator) is
// accurate near 0 (odd, returns x for tiny x) and saturates to +-1 without
// overflow, which an exp-based (1 - e) / (1 + e) form would not.
TSR_DEV float softcap(float x, float cap) { return cap * tanhf(x / cap); }

// Element c of t, broadcasting dims of size 1.
TSR_DEV float load_broadcast(const GpuTensor& t, const int64_t* c) {
  return load_f(t, offset_of(t, t.ne[0] == 1 ? 0 : c[0], t.ne[1] == 1 ? 0 : c[1], t.ne[2] == 1 ? 0 : c[2],
                             t.ne[3] == 1 ? 0 : c[3]));
}

TSR_KERNEL(tsr_elementwise) {
  const GpuTensor& o = a.t[kOutSlot];
  const int64_t i = flat_thread();
  if (i >= a.ku[1]) return;
  int64_t c[4];
  unflatten(i, o.ne, c);
  const int64_t op = a.ku[0];
  const float va = load_broadcast(a.t[0], c);
  const float vb = has_second_input(op) ? load_broadcast(a.t[1], c) : 0.0f;
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
    case kSoftcap:
      r = softcap(va, a.fp[0]);
      break;
    case kSwiglu:
      r = silu(va) * vb;
      break;
    default:  // kGeglu
      r = gelu(va) * vb;
      break;
  }
  store_f(o, offset_of(o, c[0], c[1], c[2], c[3]), r);
}

}  // namespace tsr::gpu
