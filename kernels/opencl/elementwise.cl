// Element-wise ops, one output element per work-item, 256 per workgroup. OP
// (SPEC0, a tsr_op id) selects the op, so each op is its own program without
// branches. Inputs: a (slot 0), b (slot 1, binary ops, swiglu and geglu); b
// broadcasts per dim (its ne is 1 or equal). The output may alias a.
// The formulas and their numerics are kernels/vulkan/elementwise.comp's.

#define OP SPEC0

// tsr_op ids
#define OP_ADD 3u
#define OP_SUB 4u
#define OP_MUL 5u
#define OP_DIV 6u
#define OP_SCALE 7u
#define OP_SILU 12u
#define OP_GELU 13u
#define OP_SWIGLU 14u
#define OP_SOFTCAP 23u
#define OP_GEGLU 24u

inline float silu(float x) { return x / (1.0f + exp(-x)); }

// x * sigmoid(2u): never subtracts (see elementwise.comp).
inline float gelu(float x) {
  const float u = 0.7978845608028654f * (x + 0.044715f * x * x * x);
  return x / (1.0f + exp(-2.0f * u));
}

// tanh through exp with a Taylor series below 1/8 (see elementwise.comp).
inline float tanh_exp(float y) {
  const float a = fabs(y);
  float t;
  if (a < 0.125f) {
    const float a2 = a * a;
    t = a * (1.0f + a2 * (-1.0f / 3.0f + a2 * (2.0f / 15.0f + a2 * (-17.0f / 315.0f))));
  } else {
    const float e = exp(-2.0f * a);
    t = (1.0f - e) / (1.0f + e);
  }
  return y < 0.0f ? -t : t;
}

__kernel void tsr_main(TSR_ARGS) {
  const uint g = flat_group();
  const uint n = g * 256u + (uint)get_local_id(0);
  if (g >= N_GROUPS || n >= KU(0)) return;
  const uint4 i = unflatten(TOUT, n);
  const uint4 ia = i % TNE(0);
  const float a = load_at(0, ia);
  float r;
  if (OP == OP_SCALE) {
    r = a * FP(0) + FP(1);
  } else if (OP == OP_SILU) {
    r = silu(a);
  } else if (OP == OP_GELU) {
    r = gelu(a);
  } else if (OP == OP_SOFTCAP) {
    r = FP(0) * tanh_exp(a / FP(0));
  } else {
    const uint4 ib = i % TNE(1);
    const float b = load_at(1, ib);
    if (OP == OP_ADD) r = a + b;
    else if (OP == OP_SUB) r = a - b;
    else if (OP == OP_MUL) r = a * b;
    else if (OP == OP_DIV) r = a / b;
    else if (OP == OP_GEGLU) r = gelu(a) * b;
    else r = silu(a) * b;  // OP_SWIGLU
  }
  store_at(TOUT, i, r);
}
