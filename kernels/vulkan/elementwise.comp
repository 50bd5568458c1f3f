#version 450
// Element-wise ops, one output element per invocation. OP (specialization
// constant 0) selects the op, so each op is its own pipeline without
// branches. Inputs: a (slot 0), b (slot 1, binary ops, swiglu and geglu); b
// broadcasts per dim (its ne is 1 or equal). The output may alias a.
#include "common.glsl"

layout(local_size_x = 256) in;
layout(constant_id = 0) const uint OP = 0;

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

float silu(float x) { return x / (1.0 + exp(-x)); }

// gelu(x) = 0.5 x (1 + tanh(u)) = x * sigmoid(2u): silu's form, through exp
// rather than a driver's tanh (which may overflow to NaN). 1 + tanh(u) taken
// as 2 - 2 / (e^2u + 1) would cancel where gelu is small (x < -3: most digits
// lost); x / (1 + e^-2u) never subtracts, and is -0 where e^-2u overflows.
float gelu(float x) {
  const float u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  return x / (1.0 + exp(-2.0 * u));
}

// tanh(y) through exp, for softcap, whose small outputs must keep their
// relative accuracy: (1 - e) / (1 + e) with e = e^-2|y| <= 1 cannot
// overflow, but 1 - e cancels for small |y|, so below 1/8 the odd Taylor
// series to y^7 is used instead (relative error < 2e-9).
float tanh_exp(float y) {
  const float a = abs(y);
  float t;
  if (a < 0.125) {
    const float a2 = a * a;
    t = a * (1.0 + a2 * (-1.0 / 3.0 + a2 * (2.0 / 15.0 + a2 * (-17.0 / 315.0))));
  } else {
    const float e = exp(-2.0 * a);
    t = (1.0 - e) / (1.0 + e);
  }
  return y < 0.0 ? -t : t;
}

void main() {
  const uint n = flat_group() * 256u + gl_LocalInvocationID.x;
  if (flat_group() >= N_GROUPS || n >= KU(0)) return;
  const uvec4 i = unflatten(TOUT, n);
  const float a = load_at(0, i % TNE(0));
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
    const float b = load_at(1, i % TNE(1));
    if (OP == OP_ADD) r = a + b;
    else if (OP == OP_SUB) r = a - b;
    else if (OP == OP_MUL) r = a * b;
    else if (OP == OP_DIV) r = a / b;
    else if (OP == OP_GEGLU) r = gelu(a) * b;
    else r = silu(a) * b;  // OP_SWIGLU
  }
  store_at(TOUT, i, r);
}
