/* Builds y = x * 2 + 1 on the CPU through the installed C API. */
#include <stdio.h>
#include <tessera/tessera.h>

int main(void) {
  tsr_context* ctx = NULL;
  tsr_graph* g = NULL;
  tsr_model* m = NULL;
  const int64_t ne[1] = {5};
  float x[5] = {0, 1, 2, 3, 4}, y[5] = {0};
  tsr_tensor tx, ty;
  tsr_op_params p = {{0}, {2.0f, 1.0f}};
  if (tsr_context_create(NULL, &ctx) || tsr_graph_create(ctx, &g) ||
      tsr_graph_input(g, "x", TSR_DTYPE_F32, 1, ne, &tx) || tsr_graph_op(g, TSR_OP_SCALE, &tx, 1, &p, &ty) ||
      tsr_graph_output(g, ty) || tsr_compile(ctx, g, NULL, &m) || tsr_model_set_input(m, tx, x, sizeof(x)) ||
      tsr_model_execute(m, NULL, 0) || tsr_model_get_output(m, ty, y, sizeof(y))) {
    fprintf(stderr, "consumer: %s\n", tsr_last_error());
    return 1;
  }
  for (int i = 0; i < 5; ++i) {
    if (y[i] != x[i] * 2 + 1) {
      fprintf(stderr, "consumer: y[%d] = %g, expected %g\n", i, y[i], x[i] * 2 + 1);
      return 1;
    }
  }
  printf("consumer (C): tessera %s, %d devices, y = x*2+1 ok\n", tsr_version(), tsr_device_count(ctx));
  tsr_model_destroy(m);
  tsr_graph_destroy(g);
  tsr_context_destroy(ctx);
  return 0;
}
