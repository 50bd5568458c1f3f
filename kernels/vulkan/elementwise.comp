#version 450
// Element-wise ops, one output element per invocation. OP (specialization
// constant 0) selects the op, so each op is its own pipeline without
// branches. Inputs: a (slot 0), b (slot 1, binary ops and swiglu); b
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

float silu(float x) { return x / (1.0 + exp(-x)); }

// tanh through exp: stays finite where a driver's tanh may overflow to NaN.
float gelu(float x) {
  const float u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  return 0.5 * x * (2.0 - 2.0 / (exp(2.0 * u) + 1.0));
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
  } else {
    const float b = load_at(1, i % TNE(1));
    if (OP == OP_ADD) r = a + b;
    else if (OP == OP_SUB) r = a - b;
    else if (OP == OP_MUL) r = a * b;
    else if (OP == OP_DIV) r = a / b;
    else r = silu(a) * b;  // OP_SWIGLU
  }
  store_at(TOUT, i, r);
}
