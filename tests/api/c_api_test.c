/* The public C API exercised from plain C: devices, graph building, bad
 * graphs, compile, execute, outputs, strict placement. Expected values are
 * computed here by plain loops, independently of the library. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tessera/tessera.h"
#include "tessera/tessera_llm.h" /* the LLM header compiles as C11 too */

static int failures = 0;
static int checks = 0;

#define CHECK(cond, ...)                                                 \
  do {                                                                   \
    ++checks;                                                            \
    if (!(cond)) {                                                       \
      ++failures;                                                        \
      fprintf(stderr, "%s:%d: FAILED: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                      \
      fprintf(stderr, "\n");                                             \
    }                                                                    \
  } while (0)

static void test_devices(tsr_context* ctx) {
  CHECK(tsr_device_count(ctx) >= 2, "device count %d", tsr_device_count(ctx));
  int32_t idx = -1;
  CHECK(tsr_device_find(ctx, "cpu", &idx) == TSR_OK, "%s", tsr_last_error());
  tsr_device_info info;
  info.struct_size = sizeof(info);
  CHECK(tsr_device_get_info(ctx, idx, &info) == TSR_OK, "%s", tsr_last_error());
  CHECK(strcmp(info.name, "cpu:0") == 0, "name %s", info.name);
  CHECK(info.props.type == TSR_DEVICE_TYPE_CPU, "type %d", info.props.type);
  CHECK(tsr_device_find(ctx, "null:0", &idx) == TSR_OK, "%s", tsr_last_error());
  CHECK(tsr_device_find(ctx, "warp:7", &idx) == TSR_ERR_NOT_FOUND, "unknown device accepted");
  CHECK(strstr(tsr_last_error(), "warp:7") != NULL, "message: %s", tsr_last_error());
  CHECK(tsr_device_get_info(ctx, 1000, &info) == TSR_ERR_NOT_FOUND, "index 1000 accepted");
}

static void test_bad_graphs(tsr_context* ctx) {
  tsr_graph* g = NULL;
  CHECK(tsr_graph_create(ctx, &g) == TSR_OK, "%s", tsr_last_error());
  const int64_t a_ne[2] = {4, 576}, b_ne[2] = {577, 1};
  tsr_tensor a, b, out = -7;
  CHECK(tsr_graph_input(g, "a", TSR_DTYPE_F32, 2, a_ne, &a) == TSR_OK, "%s", tsr_last_error());
  CHECK(tsr_graph_input(g, "b", TSR_DTYPE_F32, 2, b_ne, &b) == TSR_OK, "%s", tsr_last_error());
  tsr_tensor ab[2] = {a, b};
  CHECK(tsr_graph_op(g, TSR_OP_MATMUL, ab, 2, NULL, &out) == TSR_ERR_INVALID_ARGUMENT, "bad matmul accepted");
  CHECK(strstr(tsr_last_error(), "[matmul]") && strstr(tsr_last_error(), "[4, 576]") &&
            strstr(tsr_last_error(), "[577, 1]"),
        "message: %s", tsr_last_error());
  CHECK(out == -7, "out written on failure");
  CHECK(tsr_graph_op(g, TSR_OP_SILU, ab, 2, NULL, &out) == TSR_ERR_INVALID_ARGUMENT,
        "silu with 2 inputs accepted");
  CHECK(strstr(tsr_last_error(), "silu") != NULL, "message: %s", tsr_last_error());
  CHECK(tsr_graph_input(g, "q", 77, 2, a_ne, &out) == TSR_ERR_INVALID_ARGUMENT, "dtype 77 accepted");
  CHECK(strstr(tsr_last_error(), "77") != NULL, "message: %s", tsr_last_error());
  tsr_op_params p;
  memset(&p, 0, sizeof(p));
  p.i[0] = 4;
  p.i[1] = 600;
  p.i[2] = 1;
  p.i[3] = 1; /* view [4, 600] of a [4, 576] tensor */
  p.i[4] = 16;
  p.i[5] = 16 * 600;
  p.i[6] = 16 * 600;
  CHECK(tsr_graph_op(g, TSR_OP_VIEW, &a, 1, &p, &out) == TSR_ERR_INVALID_ARGUMENT,
        "view out of range accepted");
  CHECK(strstr(tsr_last_error(), "view") != NULL, "message: %s", tsr_last_error());
  tsr_tensor bogus = 12345;
  CHECK(tsr_graph_op(g, TSR_OP_SILU, &bogus, 1, NULL, &out) == TSR_ERR_INVALID_ARGUMENT, "bogus id accepted");
  CHECK(tsr_graph_op(g, 999, &a, 1, NULL, &out) == TSR_ERR_INVALID_ARGUMENT, "op 999 accepted");
  CHECK(tsr_graph_op(NULL, TSR_OP_SILU, &a, 1, NULL, &out) == TSR_ERR_INVALID_ARGUMENT,
        "null graph accepted");
  tsr_graph_destroy(g);
}

/* y = silu(W x + bias) with W [K, M] (ne order), x [K, N]. */
static void test_compile_execute(tsr_context* ctx) {
  enum { K = 37, M = 5, N = 3 };
  static float w[M * K], x[N * K], bias[M], y[M * N], expect[M * N];
  for (int i = 0; i < M * K; ++i) w[i] = (float)((i * 7) % 11 - 5) / 8.0f;
  for (int i = 0; i < N * K; ++i) x[i] = (float)((i * 5) % 13 - 6) / 10.0f;
  for (int i = 0; i < M; ++i) bias[i] = 0.25f * (float)i - 0.5f;
  for (int n = 0; n < N; ++n)
    for (int m = 0; m < M; ++m) {
      double acc = 0;
      for (int k = 0; k < K; ++k) acc += (double)w[m * K + k] * x[n * K + k];
      acc += bias[m];
      expect[n * M + m] = (float)(acc / (1.0 + exp(-acc)));
    }

  tsr_graph* g = NULL;
  CHECK(tsr_graph_create(ctx, &g) == TSR_OK, "%s", tsr_last_error());
  const int64_t w_ne[2] = {K, M}, x_ne[2] = {K, N}, b_ne[1] = {M};
  tsr_tensor tw, tx, tb, mm, sum, out;
  CHECK(tsr_graph_weight(g, "w", TSR_DTYPE_F32, 2, w_ne, w, sizeof(w), &tw) == TSR_OK, "%s",
        tsr_last_error());
  CHECK(tsr_graph_weight(g, "w_short", TSR_DTYPE_F32, 2, w_ne, w, sizeof(w) - 4, &out) ==
            TSR_ERR_INVALID_ARGUMENT,
        "short weight accepted");
  CHECK(tsr_graph_input(g, "x", TSR_DTYPE_F32, 2, x_ne, &tx) == TSR_OK, "%s", tsr_last_error());
  CHECK(tsr_graph_weight(g, "bias", TSR_DTYPE_F32, 1, b_ne, bias, sizeof(bias), &tb) == TSR_OK, "%s",
        tsr_last_error());
  tsr_tensor in1[2] = {tw, tx};
  CHECK(tsr_graph_op(g, TSR_OP_MATMUL, in1, 2, NULL, &mm) == TSR_OK, "%s", tsr_last_error());
  tsr_tensor in2[2] = {mm, tb};
  CHECK(tsr_graph_op(g, TSR_OP_ADD, in2, 2, NULL, &sum) == TSR_OK, "%s", tsr_last_error());
  CHECK(tsr_graph_op(g, TSR_OP_SILU, &sum, 1, NULL, &out) == TSR_OK, "%s", tsr_last_error());
  tsr_tensor_desc d;
  CHECK(tsr_graph_tensor_desc(g, out, &d) == TSR_OK && d.ne[0] == M && d.ne[1] == N, "out shape [%lld, %lld]",
        (long long)d.ne[0], (long long)d.ne[1]);
  CHECK(tsr_graph_output(g, out) == TSR_OK, "%s", tsr_last_error());

  const char* cpu[1] = {"cpu"};
  tsr_compile_options co = {sizeof(co), cpu, 1, TSR_COMPILE_STRICT};
  tsr_model* m = NULL;
  CHECK(tsr_compile(ctx, g, &co, &m) == TSR_OK, "%s", tsr_last_error());
  if (m) {
    CHECK(tsr_model_set_input(m, tx, x, sizeof(x) - 1) == TSR_ERR_INVALID_ARGUMENT, "short input accepted");
    CHECK(tsr_model_set_input(m, tx, x, sizeof(x)) == TSR_OK, "%s", tsr_last_error());
    CHECK(tsr_model_execute(m, NULL, 0) == TSR_OK, "%s", tsr_last_error());
    CHECK(tsr_model_get_output(m, out, y, sizeof(y)) == TSR_OK, "%s", tsr_last_error());
    double max_err = 0;
    for (int i = 0; i < M * N; ++i) max_err = fmax(max_err, fabs(y[i] - expect[i]));
    CHECK(max_err < 1e-5, "max abs error %g", max_err);
    CHECK(tsr_model_get_output(m, mm, y, sizeof(float) * M * N) == TSR_ERR_INVALID_ARGUMENT,
          "reading a non-output activation accepted");
    CHECK(strstr(tsr_model_placement(m), "cpu:0") != NULL, "placement: %s", tsr_model_placement(m));
    tsr_model_stats st;
    st.struct_size = sizeof(st);
    CHECK(tsr_model_get_stats(m, &st) == TSR_OK && st.n_nodes == 3 && st.n_fallbacks == 0,
          "nodes %d fallbacks %d", st.n_nodes, st.n_fallbacks);
    tsr_model_destroy(m);
  }

  /* The null device runs nothing: strict compile must refuse, non-strict falls back. */
  const char* nul[1] = {"null"};
  tsr_compile_options strict = {sizeof(strict), nul, 1, TSR_COMPILE_STRICT};
  m = NULL;
  CHECK(tsr_compile(ctx, g, &strict, &m) == TSR_ERR_UNSUPPORTED, "strict compile on null accepted");
  CHECK(m == NULL, "model written on failure");
  CHECK(strstr(tsr_last_error(), "null:0") && strstr(tsr_last_error(), "strict"), "message: %s",
        tsr_last_error());
  tsr_compile_options lax = {sizeof(lax), nul, 1, 0};
  CHECK(tsr_compile(ctx, g, &lax, &m) == TSR_OK, "%s", tsr_last_error());
  if (m) {
    CHECK(strstr(tsr_model_placement(m), "fallback") != NULL, "placement: %s", tsr_model_placement(m));
    tsr_model_stats st;
    st.struct_size = sizeof(st);
    CHECK(tsr_model_get_stats(m, &st) == TSR_OK && st.n_fallbacks == 3, "fallbacks %d", st.n_fallbacks);
    CHECK(tsr_model_set_input(m, tx, x, sizeof(x)) == TSR_OK, "%s", tsr_last_error());
    CHECK(tsr_model_execute(m, NULL, 0) == TSR_OK, "%s", tsr_last_error());
    CHECK(tsr_model_get_output(m, out, y, sizeof(y)) == TSR_OK, "%s", tsr_last_error());
    CHECK(fabs(y[0] - expect[0]) < 1e-5, "fallback result %g vs %g", y[0], expect[0]);
    tsr_model_destroy(m);
  }
  const char* unknown[1] = {"tpu:3"};
  tsr_compile_options bad = {sizeof(bad), unknown, 1, 0};
  CHECK(tsr_compile(ctx, g, &bad, &m) == TSR_ERR_NOT_FOUND, "unknown device accepted");
  CHECK(strstr(tsr_last_error(), "tpu:3") != NULL, "message: %s", tsr_last_error());
  tsr_graph_destroy(g);
}

/* Edge sizes (found by fuzz_graph_api; the ASan + UBSan build checks the
 * first two, which were undefined behaviour, and the third, which aborted
 * there): an empty tensor runs and reads back with null pointers for its 0
 * bytes; a tensor larger than the host is refused at compile with a status. */
static void test_edge_sizes(tsr_context* ctx) {
  tsr_graph* g = NULL;
  CHECK(tsr_graph_create(ctx, &g) == TSR_OK, "%s", tsr_last_error());
  const int64_t empty_ne[2] = {0, 3};
  tsr_tensor x, y;
  tsr_op_params to_f16;
  memset(&to_f16, 0, sizeof(to_f16));
  to_f16.i[0] = TSR_DTYPE_F16;
  CHECK(tsr_graph_input(g, "empty", TSR_DTYPE_F32, 2, empty_ne, &x) == TSR_OK, "%s", tsr_last_error());
  CHECK(tsr_graph_op(g, TSR_OP_CPY, &x, 1, &to_f16, &y) == TSR_OK, "%s", tsr_last_error());
  CHECK(tsr_graph_output(g, y) == TSR_OK, "%s", tsr_last_error());
  tsr_model* m = NULL;
  CHECK(tsr_compile(ctx, g, NULL, &m) == TSR_OK, "%s", tsr_last_error());
  if (m) {
    CHECK(tsr_model_set_input(m, x, NULL, 0) == TSR_OK, "%s", tsr_last_error());
    CHECK(tsr_model_execute(m, NULL, 0) == TSR_OK, "%s", tsr_last_error());
    CHECK(tsr_model_get_output(m, y, NULL, 0) == TSR_OK, "%s", tsr_last_error());
    tsr_model_destroy(m);
  }
  tsr_graph_destroy(g);

  CHECK(tsr_graph_create(ctx, &g) == TSR_OK, "%s", tsr_last_error());
  const int64_t huge_ne[1] = {(int64_t)1 << 40}; /* 4 TiB of f32 */
  CHECK(tsr_graph_input(g, "huge", TSR_DTYPE_F32, 1, huge_ne, &x) == TSR_OK, "%s", tsr_last_error());
  CHECK(tsr_graph_op(g, TSR_OP_SILU, &x, 1, NULL, &y) == TSR_OK, "%s", tsr_last_error());
  CHECK(tsr_graph_output(g, y) == TSR_OK, "%s", tsr_last_error());
  m = NULL;
  CHECK(tsr_compile(ctx, g, NULL, &m) == TSR_ERR_OUT_OF_MEMORY, "a 4 TiB tensor compiled");
  CHECK(m == NULL, "model written on failure");
  CHECK(strstr(tsr_last_error(), "bytes") != NULL, "message: %s", tsr_last_error());
  tsr_graph_destroy(g);
}

int main(void) {
  tsr_context* ctx = NULL;
  if (tsr_context_create(NULL, &ctx) != TSR_OK) {
    fprintf(stderr, "context: %s\n", tsr_last_error());
    return 1;
  }
  test_devices(ctx);
  test_bad_graphs(ctx);
  test_compile_execute(ctx);
  test_edge_sizes(ctx);
  tsr_context_destroy(ctx);
  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures ? 1 : 0;
}
