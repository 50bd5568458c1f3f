/* An out-of-tree Tessera backend: one device on host memory, f32 only.
 *
 * This is the file a vendor copies. It uses nothing but the installed public
 * header tessera/tessera_backend.h, and shows every rule a certified backend
 * follows:
 *   - tensors are (buffer, byte offset, ne[], nb[]): inputs AND outputs may be
 *     strided views at any offset the ABI allows (a multiple of the element
 *     size), so kernels address elements through nb[], never by assuming a
 *     contiguous or 64-byte-aligned layout;
 *   - an element-wise output may be exactly input 0's memory (in-place reuse
 *     planned by core): each output element is written after the inputs at
 *     the same index were read;
 *   - prepare copies what it needs: the tsr_subgraph and its node array belong
 *     to core and are not valid after prepare returns;
 *   - supports_op is honest: anything this file does not compute exactly as
 *     tsr_op documents is refused with a reason;
 *   - errors are status codes with a message starting with the operation.
 *
 * Ops: add, mul (numpy-style broadcasting), scale, silu, rms_norm, matmul
 * (f32 weights, batch broadcasting), rope (normal and neox, partial
 * rotation, without freq_factors). Execution is synchronous on the calling
 * thread, so queues and events have nothing to wait for.
 *
 * EXAMPLE_BUG selects a deliberately broken variant, built only by Tessera's
 * own tests to prove that the conformance suite catches each mistake (see
 * README.md); a real backend has none of these. 0 is the correct backend.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessera/tessera_backend.h"

#ifndef EXAMPLE_BUG
#define EXAMPLE_BUG 0
#endif
/* The deliberately broken variants. */
#define BUG_INPLACE_BINARY 1    /* add/mul first copy b into the output: wrong when it aliases a */
#define BUG_EPS_IGNORED 2       /* rms_norm uses eps 1e-5 whatever the node says */
#define BUG_CONTIGUOUS_OUTPUT 3 /* outputs written as if contiguous (output strides ignored) */
#define BUG_ALIGNED_OFFSETS 4   /* output offsets rounded down to 64 bytes */
#define BUG_KEEPS_NODES 5       /* prepare keeps core's node pointer instead of a copy */
#define BUG_STALE_PACKED_X 6    /* matmul packs x once per prepared graph and reuses it */
#define BUG_ROPE_SCALE_NEOX 7   /* rope applies freq_scale on the neox path only */

#ifndef EXAMPLE_NAME
#define EXAMPLE_NAME "example"
#endif

/* ---- handles ------------------------------------------------------------ */

struct tsr_bk_instance_s {
  int unused;
};
struct tsr_bk_device_s {
  int32_t index;
};
struct tsr_bk_buffer_s {
  uint8_t* data;
  uint64_t size;
  int owned; /* 0 for buffer_wrap_host: the caller's memory */
};
struct tsr_bk_queue_s {
  int unused;
};
struct tsr_bk_event_s {
  int unused;
};
struct tsr_bk_prepared_s {
  int32_t n_nodes;
  const tsr_subgraph_node* nodes; /* our own copy (see prepare) */
  tsr_subgraph_node* owned;
#if EXAMPLE_BUG == BUG_STALE_PACKED_X
  float* packed_x[64]; /* per node, packed on the first execution */
#endif
};

#define FAIL(err, code, ...)                                                \
  do {                                                                      \
    if (err) snprintf((err)->message, sizeof((err)->message), __VA_ARGS__); \
    return (code);                                                          \
  } while (0)

/* ---- instance and device ---------------------------------------------------- */

static tsr_status_code ex_create(const tsr_backend_options* options, tsr_bk_instance* out_instance,
                                 tsr_error* err) {
  (void)options;
  tsr_bk_instance inst = calloc(1, sizeof(*inst));
  if (!inst) FAIL(err, TSR_ERR_OUT_OF_MEMORY, "[create] out of host memory");
  *out_instance = inst;
  return TSR_OK;
}

static void ex_destroy(tsr_bk_instance instance) { free(instance); }

static int32_t ex_device_count(tsr_bk_instance instance) {
  (void)instance;
  return 1;
}

static tsr_status_code ex_device_open(tsr_bk_instance instance, int32_t index, tsr_bk_device* out_device,
                                      tsr_error* err) {
  (void)instance;
  if (index != 0) FAIL(err, TSR_ERR_NOT_FOUND, "[device_open] no device %d (there is one)", index);
  tsr_bk_device dev = calloc(1, sizeof(*dev));
  if (!dev) FAIL(err, TSR_ERR_OUT_OF_MEMORY, "[device_open] out of host memory");
  dev->index = index;
  *out_device = dev;
  return TSR_OK;
}

static void ex_device_close(tsr_bk_device device) { free(device); }

static tsr_status_code ex_device_props(tsr_bk_device device, tsr_device_props* out_props, tsr_error* err) {
  (void)device;
  (void)err;
  /* Core set struct_size: write only the fields its struct has. */
  const uint32_t size = out_props->struct_size;
  snprintf(out_props->name, sizeof(out_props->name), "Example host device");
  snprintf(out_props->vendor, sizeof(out_props->vendor), "Acme (example)");
  snprintf(out_props->driver, sizeof(out_props->driver), "example 1.0");
  out_props->type = TSR_DEVICE_TYPE_CPU;
  out_props->memory_bytes = 0;
  out_props->peak_flops = 0.0;
  out_props->peak_bandwidth = 0.0;
  out_props->host_visible = 1;
  if (size >= offsetof(tsr_device_props, details) + sizeof(out_props->details))
    snprintf(out_props->details, sizeof(out_props->details),
             "ops: add mul scale silu rms_norm matmul rope (f32)\n");
  return TSR_OK;
}

/* ---- buffers ------------------------------------------------------------------ */

static tsr_status_code ex_buffer_alloc(tsr_bk_device device, uint64_t size, uint32_t flags,
                                       tsr_bk_buffer* out_buffer, tsr_error* err) {
  (void)device;
  (void)flags; /* host memory serves every kind of buffer */
  tsr_bk_buffer b = calloc(1, sizeof(*b));
  /* The ABI promises 64-byte alignment; aligned_alloc needs a multiple of it. */
  const uint64_t rounded = (size + 63u) & ~(uint64_t)63u;
  if (b && rounded >= size) b->data = aligned_alloc(64, rounded ? rounded : 64);
  if (!b || !b->data) {
    free(b);
    FAIL(err, TSR_ERR_OUT_OF_MEMORY, "[buffer_alloc] %llu bytes: out of host memory",
         (unsigned long long)size);
  }
  b->size = size;
  b->owned = 1;
  *out_buffer = b;
  return TSR_OK;
}

static tsr_status_code ex_buffer_wrap_host(tsr_bk_device device, void* host, uint64_t size,
                                           tsr_bk_buffer* out_buffer, tsr_error* err) {
  (void)device;
  tsr_bk_buffer b = calloc(1, sizeof(*b));
  if (!b) FAIL(err, TSR_ERR_OUT_OF_MEMORY, "[buffer_wrap_host] out of host memory");
  b->data = host;
  b->size = size;
  b->owned = 0;
  *out_buffer = b;
  return TSR_OK;
}

static void ex_buffer_free(tsr_bk_buffer buffer) {
  if (!buffer) return;
  if (buffer->owned) free(buffer->data);
  free(buffer);
}

static void* ex_buffer_host_ptr(tsr_bk_buffer buffer) { return buffer->data; }

static int in_range(tsr_bk_buffer b, uint64_t offset, uint64_t size) {
  return offset <= b->size && size <= b->size - offset;
}

static tsr_status_code ex_buffer_write(tsr_bk_queue queue, tsr_bk_buffer buffer, uint64_t offset,
                                       const void* src, uint64_t size, tsr_error* err) {
  (void)queue;
  if (!in_range(buffer, offset, size))
    FAIL(err, TSR_ERR_INVALID_ARGUMENT, "[buffer_write] %llu bytes at %llu exceed the buffer's %llu",
         (unsigned long long)size, (unsigned long long)offset, (unsigned long long)buffer->size);
  memcpy(buffer->data + offset, src, size);
  return TSR_OK;
}

static tsr_status_code ex_buffer_read(tsr_bk_queue queue, tsr_bk_buffer buffer, uint64_t offset, void* dst,
                                      uint64_t size, tsr_error* err) {
  (void)queue;
  if (!in_range(buffer, offset, size))
    FAIL(err, TSR_ERR_INVALID_ARGUMENT, "[buffer_read] %llu bytes at %llu exceed the buffer's %llu",
         (unsigned long long)size, (unsigned long long)offset, (unsigned long long)buffer->size);
  memcpy(dst, buffer->data + offset, size);
  return TSR_OK;
}

/* ---- queues and events: work is done when execute returns ---------------------- */

static tsr_status_code ex_queue_create(tsr_bk_device device, tsr_bk_queue* out_queue, tsr_error* err) {
  (void)device;
  tsr_bk_queue q = calloc(1, sizeof(*q));
  if (!q) FAIL(err, TSR_ERR_OUT_OF_MEMORY, "[queue_create] out of host memory");
  *out_queue = q;
  return TSR_OK;
}

static void ex_queue_destroy(tsr_bk_queue queue) { free(queue); }

static tsr_status_code ex_queue_finish(tsr_bk_queue queue, tsr_error* err) {
  (void)queue;
  (void)err;
  return TSR_OK;
}

static tsr_status_code ex_event_create(tsr_bk_device device, tsr_bk_event* out_event, tsr_error* err) {
  (void)device;
  tsr_bk_event e = calloc(1, sizeof(*e));
  if (!e) FAIL(err, TSR_ERR_OUT_OF_MEMORY, "[event_create] out of host memory");
  *out_event = e;
  return TSR_OK;
}

static void ex_event_destroy(tsr_bk_event event) { free(event); }

static tsr_status_code ex_event_record(tsr_bk_queue queue, tsr_bk_event event, tsr_error* err) {
  (void)queue;
  (void)event;
  (void)err;
  return TSR_OK;
}

static tsr_status_code ex_event_wait(tsr_bk_event event, tsr_error* err) {
  (void)event;
  (void)err;
  return TSR_OK;
}

/* ---- op support ------------------------------------------------------------------ */

static const char* op_label(int32_t op) {
  switch (op) {
    case TSR_OP_ADD:
      return "add";
    case TSR_OP_MUL:
      return "mul";
    case TSR_OP_SCALE:
      return "scale";
    case TSR_OP_SILU:
      return "silu";
    case TSR_OP_RMS_NORM:
      return "rms_norm";
    case TSR_OP_MATMUL:
      return "matmul";
    case TSR_OP_ROPE:
      return "rope";
    default:
      return NULL;
  }
}

/* f32 with every stride a multiple of 4 bytes (the kernels load floats). */
static int f32_desc(const tsr_tensor_desc* d) {
  if (d->dtype != TSR_DTYPE_F32) return 0;
  for (int k = 0; k < TSR_MAX_DIMS; ++k)
    if (d->nb[k] % 4 != 0) return 0;
  return 1;
}

static int32_t ex_supports_op(tsr_bk_device device, const tsr_node_desc* node, char* reason,
                              size_t reason_len) {
  (void)device;
  const char* why = NULL;
  if (!op_label(node->op)) {
    why = "op not implemented (example: add mul scale silu rms_norm matmul rope)";
  } else if (!f32_desc(&node->output)) {
    why = "f32 only";
  } else if (node->op == TSR_OP_ROPE && node->n_inputs != 2) {
    why = "rope with freq_factors (input 2) not implemented";
  } else {
    for (int i = 0; i < node->n_inputs; ++i) {
      /* rope's positions are i32; everything else is f32. */
      const int is_pos = node->op == TSR_OP_ROPE && i == 1;
      if (is_pos ? node->inputs[i].dtype != TSR_DTYPE_I32 : !f32_desc(&node->inputs[i])) why = "f32 only";
    }
  }
  if (why && reason && reason_len) snprintf(reason, reason_len, "%s", why);
  return why == NULL;
}

/* ---- kernels ----------------------------------------------------------------------- */

/* A tensor as the kernels address it: first byte, shape, byte strides. */
typedef struct View {
  uint8_t* base;
  int64_t ne[TSR_MAX_DIMS];
  int64_t nb[TSR_MAX_DIMS];
} View;

static View make_view(const tsr_tensor_ref* t) {
  View v;
  v.base = t->buffer->data + t->offset;
  for (int k = 0; k < TSR_MAX_DIMS; ++k) {
    v.ne[k] = t->desc.ne[k];
    v.nb[k] = t->desc.nb[k];
  }
  return v;
}

static View output_view(const tsr_tensor_ref* t) {
  View v = make_view(t);
#if EXAMPLE_BUG == BUG_CONTIGUOUS_OUTPUT
  v.nb[0] = 4;
  for (int k = 1; k < TSR_MAX_DIMS; ++k) v.nb[k] = v.nb[k - 1] * v.ne[k - 1];
#elif EXAMPLE_BUG == BUG_ALIGNED_OFFSETS
  v.base = t->buffer->data + (t->offset & ~(uint64_t)63u);
#endif
  return v;
}

/* Element (i0, i1, i2, i3); a dim of size 1 broadcasts (index 0). */
static float* at(const View* v, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  const int64_t i[TSR_MAX_DIMS] = {i0, i1, i2, i3};
  int64_t off = 0;
  for (int k = 0; k < TSR_MAX_DIMS; ++k) off += (v->ne[k] == 1 ? 0 : i[k]) * v->nb[k];
  return (float*)(v->base + off);
}

#define FOR_EACH(o)                              \
  for (int64_t i3 = 0; i3 < (o).ne[3]; ++i3)     \
    for (int64_t i2 = 0; i2 < (o).ne[2]; ++i2)   \
      for (int64_t i1 = 0; i1 < (o).ne[1]; ++i1) \
        for (int64_t i0 = 0; i0 < (o).ne[0]; ++i0)

/* out may be exactly a's memory: each element reads a and b before writing. */
static void run_binary(int32_t op, const View* a, const View* b, const View* o) {
#if EXAMPLE_BUG == BUG_INPLACE_BINARY
  /* Broken: start from b, then combine with a; a was already overwritten
   * when the output aliases it. */
  FOR_EACH(*o) { *at(o, i0, i1, i2, i3) = *at(b, i0, i1, i2, i3); }
  FOR_EACH(*o) {
    float* y = at(o, i0, i1, i2, i3);
    const float x = *at(a, i0, i1, i2, i3);
    *y = op == TSR_OP_ADD ? x + *y : x * *y;
  }
#else
  FOR_EACH(*o) {
    const float x = *at(a, i0, i1, i2, i3), y = *at(b, i0, i1, i2, i3);
    *at(o, i0, i1, i2, i3) = op == TSR_OP_ADD ? x + y : x * y;
  }
#endif
}

static void run_unary(int32_t op, const tsr_op_params* p, const View* x, const View* o) {
  FOR_EACH(*o) {
    const float v = *at(x, i0, i1, i2, i3);
    *at(o, i0, i1, i2, i3) = op == TSR_OP_SILU ? v / (1.0f + expf(-v)) : v * p->f[0] + p->f[1];
  }
}

static void run_rms_norm(const tsr_op_params* p, const View* x, const View* o) {
#if EXAMPLE_BUG == BUG_EPS_IGNORED
  const double eps = 1e-5;
#else
  const double eps = p->f[0];
#endif
  for (int64_t i3 = 0; i3 < o->ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < o->ne[2]; ++i2)
      for (int64_t i1 = 0; i1 < o->ne[1]; ++i1) {
        double sq = 0.0;
        for (int64_t i0 = 0; i0 < x->ne[0]; ++i0) {
          const double v = *at(x, i0, i1, i2, i3);
          sq += v * v;
        }
        const float inv = (float)(1.0 / sqrt(sq / (double)x->ne[0] + eps));
        for (int64_t i0 = 0; i0 < o->ne[0]; ++i0) *at(o, i0, i1, i2, i3) = *at(x, i0, i1, i2, i3) * inv;
      }
}

/* out[m, n, b2, b3] = sum_k w[k, m, b2 / r2, b3 / r3] * x[k, n, b2, b3]. */
static void run_matmul(const tsr_tensor_ref* wr, const View* x, const View* o) {
  const View w = make_view(wr);
  const int64_t r2 = x->ne[2] / w.ne[2], r3 = x->ne[3] / w.ne[3];
  for (int64_t b3 = 0; b3 < o->ne[3]; ++b3)
    for (int64_t b2 = 0; b2 < o->ne[2]; ++b2)
      for (int64_t n = 0; n < o->ne[1]; ++n)
        for (int64_t m = 0; m < o->ne[0]; ++m) {
          const uint8_t* wp = w.base + m * w.nb[1] + (b2 / r2) * w.nb[2] + (b3 / r3) * w.nb[3];
          const uint8_t* xp = x->base + n * x->nb[1] + b2 * x->nb[2] + b3 * x->nb[3];
          double acc = 0.0;
          for (int64_t k = 0; k < x->ne[0]; ++k)
            acc += (double)*(const float*)(wp + k * w.nb[0]) * *(const float*)(xp + k * x->nb[0]);
          *at(o, m, n, b2, b3) = (float)acc;
        }
}

/* rope(x [head_dim, n_head, n_tokens], pos i32 [n_tokens]) as tessera_types.h
 * defines it: pair i of the first n_rot dims turns by
 * pos * freq_scale * freq_base^(-2i / n_rot); the other dims pass through. */
static void run_rope(const tsr_op_params* p, const View* x, const tsr_tensor_ref* pos_ref, const View* o) {
  const int64_t n_rot = p->i[0];
  const int neox = p->i[1] == TSR_ROPE_NEOX;
  const double base = p->f[0];
#if EXAMPLE_BUG == BUG_ROPE_SCALE_NEOX
  /* Broken: the scale is applied where the neox path computes its angles
   * and forgotten on the normal path. */
  const double scale = neox && p->f[1] != 0.0f ? p->f[1] : 1.0;
#else
  const double scale = p->f[1] == 0.0f ? 1.0 : p->f[1];
#endif
  const View pos = make_view(pos_ref);
  for (int64_t i3 = 0; i3 < o->ne[3]; ++i3)
    for (int64_t t = 0; t < o->ne[2]; ++t) {
      const double at_pos = *(const int32_t*)(pos.base + t * pos.nb[0]);
      for (int64_t h = 0; h < o->ne[1]; ++h) {
        for (int64_t d = n_rot; d < o->ne[0]; ++d) *at(o, d, h, t, i3) = *at(x, d, h, t, i3);
        for (int64_t i = 0; i < n_rot / 2; ++i) {
          const double theta = at_pos * scale * pow(base, -2.0 * (double)i / (double)n_rot);
          const int64_t j0 = neox ? i : 2 * i, j1 = neox ? i + n_rot / 2 : 2 * i + 1;
          const double x0 = *at(x, j0, h, t, i3), x1 = *at(x, j1, h, t, i3);
          *at(o, j0, h, t, i3) = (float)(x0 * cos(theta) - x1 * sin(theta));
          *at(o, j1, h, t, i3) = (float)(x0 * sin(theta) + x1 * cos(theta));
        }
      }
    }
}

static void run_node(const tsr_subgraph_node* n) {
  const View o = output_view(&n->output);
  const View a = make_view(&n->inputs[0]);
  switch (n->desc.op) {
    case TSR_OP_ADD:
    case TSR_OP_MUL: {
      const View b = make_view(&n->inputs[1]);
      run_binary(n->desc.op, &a, &b, &o);
      break;
    }
    case TSR_OP_SCALE:
    case TSR_OP_SILU:
      run_unary(n->desc.op, &n->desc.params, &a, &o);
      break;
    case TSR_OP_RMS_NORM:
      run_rms_norm(&n->desc.params, &a, &o);
      break;
    case TSR_OP_MATMUL: {
      const View x = make_view(&n->inputs[1]);
      run_matmul(&n->inputs[0], &x, &o);
      break;
    }
    case TSR_OP_ROPE:
      run_rope(&n->desc.params, &a, &n->inputs[1], &o);
      break;
  }
}

#if EXAMPLE_BUG == BUG_STALE_PACKED_X
/* Broken: packs matmul's x into a contiguous copy on the first execution of a
 * prepared graph and reuses that copy afterwards, as one may for weights; x
 * is an activation, so every later execution computes with stale data. */
static void run_matmul_packed_once(tsr_bk_prepared p, int32_t i, const tsr_subgraph_node* n) {
  View x = make_view(&n->inputs[1]);
  float** slot = &p->packed_x[i % 64];
  if (!*slot && (*slot = malloc(sizeof(float) * (size_t)(x.ne[0] * x.ne[1] * x.ne[2] * x.ne[3])))) {
    float* d = *slot;
    FOR_EACH(x) { *d++ = *at(&x, i0, i1, i2, i3); }
  }
  x.base = (uint8_t*)*slot;
  x.nb[0] = 4;
  for (int k = 1; k < TSR_MAX_DIMS; ++k) x.nb[k] = x.nb[k - 1] * x.ne[k - 1];
  const View o = output_view(&n->output);
  run_matmul(&n->inputs[0], &x, &o);
}
#endif

/* ---- prepare and execute -------------------------------------------------------------- */

/* Bytes from a tensor's first element to one past its last. */
static uint64_t span_bytes(const tsr_tensor_desc* d) {
  uint64_t span = 4;
  for (int k = 0; k < TSR_MAX_DIMS; ++k) {
    if (d->ne[k] == 0) return 0;
    span += (uint64_t)(d->ne[k] - 1) * (uint64_t)d->nb[k];
  }
  return span;
}

static tsr_status_code check_ref(const tsr_tensor_ref* t, int32_t node, const char* what, int input,
                                 tsr_error* err) {
  if (!t->buffer)
    FAIL(err, TSR_ERR_INVALID_ARGUMENT, "[prepare] node %d: %s %d has no buffer", node, what, input);
  if (t->offset % 4 != 0)
    FAIL(err, TSR_ERR_INVALID_ARGUMENT, "[prepare] node %d: %s %d offset %llu is not a multiple of 4", node,
         what, input, (unsigned long long)t->offset);
  if (!in_range(t->buffer, t->offset, span_bytes(&t->desc)))
    FAIL(err, TSR_ERR_INVALID_ARGUMENT, "[prepare] node %d: %s %d spans %llu bytes at %llu, buffer has %llu",
         node, what, input, (unsigned long long)span_bytes(&t->desc), (unsigned long long)t->offset,
         (unsigned long long)t->buffer->size);
  return TSR_OK;
}

static tsr_status_code ex_prepare(tsr_bk_device device, const tsr_subgraph* graph,
                                  tsr_bk_prepared* out_prepared, tsr_error* err) {
  for (int32_t i = 0; i < graph->n_nodes; ++i) {
    const tsr_subgraph_node* n = &graph->nodes[i];
    char reason[128] = "";
    if (!ex_supports_op(device, &n->desc, reason, sizeof(reason)))
      FAIL(err, TSR_ERR_UNSUPPORTED, "[prepare] node %d (op %d): %s", i, n->desc.op, reason);
    tsr_status_code s = check_ref(&n->output, i, "output", 0, err);
    for (int k = 0; s == TSR_OK && k < n->desc.n_inputs; ++k)
      s = check_ref(&n->inputs[k], i, "input", k, err);
    if (s != TSR_OK) return s;
  }
  tsr_bk_prepared p = calloc(1, sizeof(*p));
  if (!p) FAIL(err, TSR_ERR_OUT_OF_MEMORY, "[prepare] out of host memory");
  p->n_nodes = graph->n_nodes;
#if EXAMPLE_BUG == BUG_KEEPS_NODES
  p->nodes = graph->nodes; /* broken: core's array is not ours to keep */
#else
  /* The node array is core's and valid only during this call: copy it. */
  p->owned = malloc(sizeof(tsr_subgraph_node) * (size_t)(graph->n_nodes ? graph->n_nodes : 1));
  if (!p->owned) {
    free(p);
    FAIL(err, TSR_ERR_OUT_OF_MEMORY, "[prepare] out of host memory");
  }
  memcpy(p->owned, graph->nodes, sizeof(tsr_subgraph_node) * (size_t)graph->n_nodes);
  p->nodes = p->owned;
#endif
  *out_prepared = p;
  return TSR_OK;
}

static tsr_status_code ex_execute(tsr_bk_prepared prepared, tsr_bk_queue queue, const tsr_step_params* params,
                                  tsr_error* err) {
  (void)queue;
  (void)params; /* none of these ops reads step values */
  for (int32_t i = 0; i < prepared->n_nodes; ++i) {
    const tsr_subgraph_node* n = &prepared->nodes[i];
    if (!op_label(n->desc.op))
      FAIL(err, TSR_ERR_INTERNAL, "[execute] node %d: op %d was not prepared", i, n->desc.op);
#if EXAMPLE_BUG == BUG_STALE_PACKED_X
    if (n->desc.op == TSR_OP_MATMUL) {
      run_matmul_packed_once(prepared, i, n);
      continue;
    }
#endif
    run_node(n);
  }
  return TSR_OK;
}

static void ex_release_prepared(tsr_bk_prepared prepared) {
  if (!prepared) return;
  free(prepared->owned);
#if EXAMPLE_BUG == BUG_STALE_PACKED_X
  for (int i = 0; i < 64; ++i) free(prepared->packed_x[i]);
#endif
  free(prepared);
}

/* ---- the table and the entry point ------------------------------------------------------- */

static const tsr_backend_iface kIface = {
    .struct_size = sizeof(tsr_backend_iface),
    .abi_version = TSR_BACKEND_ABI_VERSION,
    .name = EXAMPLE_NAME,
    .create = ex_create,
    .destroy = ex_destroy,
    .device_count = ex_device_count,
    .device_open = ex_device_open,
    .device_close = ex_device_close,
    .device_props = ex_device_props,
    .buffer_alloc = ex_buffer_alloc,
    .buffer_free = ex_buffer_free,
    .buffer_host_ptr = ex_buffer_host_ptr,
    .buffer_write = ex_buffer_write,
    .buffer_read = ex_buffer_read,
    .queue_create = ex_queue_create,
    .queue_destroy = ex_queue_destroy,
    .queue_finish = ex_queue_finish,
    .event_create = ex_event_create,
    .event_destroy = ex_event_destroy,
    .event_record = ex_event_record,
    .event_wait = ex_event_wait,
    .supports_op = ex_supports_op,
    .prepare = ex_prepare,
    .execute = ex_execute,
    .release_prepared = ex_release_prepared,
    .buffer_wrap_host = ex_buffer_wrap_host,
    .instance_note = NULL,
    .device_comm = NULL,
};

TSR_BACKEND_EXPORT tsr_status_code tsr_backend_entry(uint32_t host_abi_version,
                                                     const tsr_backend_iface** out_iface, tsr_error* err) {
  if (host_abi_version != TSR_BACKEND_ABI_VERSION)
    FAIL(err, TSR_ERR_ABI_MISMATCH, "[" EXAMPLE_NAME "] built for backend ABI %u, host has %u",
         TSR_BACKEND_ABI_VERSION, host_abi_version);
  *out_iface = &kIface;
  return TSR_OK;
}
