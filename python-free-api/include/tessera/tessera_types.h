/* Tessera — types shared by the public C API (tessera.h) and the backend ABI
 * (tessera_backend.h). Plain C, no allocation, no functions.
 *
 * Dimension order follows GGUF/ggml: ne[0] is the innermost (fastest varying,
 * contiguous) dimension. A shape comment `[n_embd, n_tokens]` means
 * ne[0] = n_embd, ne[1] = n_tokens. Strides nb[] are in bytes; for block
 * formats (q4_0 ... q6_K) nb[0] is the byte size of one block and ne[0]
 * must be a multiple of the block's element count.
 */
#ifndef TESSERA_TYPES_H
#define TESSERA_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TSR_MAX_DIMS 4
#define TSR_MAX_INPUTS 6
#define TSR_MAX_IPARAMS 16
#define TSR_MAX_FPARAMS 8

/* Status codes: OK is 0. Every failing call also leaves a message that names
 * the operation and the values involved. */
typedef enum tsr_status_code {
  TSR_OK = 0,
  TSR_ERR_INVALID_ARGUMENT = 1, /* bad shape, dtype, index, name, parameter */
  TSR_ERR_UNSUPPORTED = 2,      /* a device cannot run what was asked */
  TSR_ERR_OUT_OF_MEMORY = 3,
  TSR_ERR_NOT_FOUND = 4,    /* unknown device, backend, tensor or file */
  TSR_ERR_ABI_MISMATCH = 5, /* plugin built against another ABI */
  TSR_ERR_IO = 6,           /* file or dlopen failure */
  TSR_ERR_DEVICE = 7,       /* the device or driver reported a failure */
  TSR_ERR_INTERNAL = 8,     /* a bug in Tessera: please report it */
  TSR_ERR_ABORTED = 9       /* the caller's abort callback asked to stop */
} tsr_status_code;

/* Data types. The numeric values are GGUF's tensor type ids, so a GGUF tensor
 * type maps to a Tessera dtype without a table and block formats are
 * byte-compatible with GGUF (weights are used in place). */
typedef enum tsr_dtype {
  TSR_DTYPE_F32 = 0,
  TSR_DTYPE_F16 = 1,
  TSR_DTYPE_Q4_0 = 2, /* 32 elements: f16 scale d, 16 bytes of nibbles */
  TSR_DTYPE_Q4_1 = 3, /* 32 elements: f16 d, f16 m, 16 bytes of nibbles */
  TSR_DTYPE_Q5_0 = 6, /* 32 elements: f16 d, 32 high bits, 16 bytes of nibbles */
  TSR_DTYPE_Q5_1 = 7, /* 32 elements: f16 d, f16 m, 32 high bits, 16 bytes of nibbles */
  TSR_DTYPE_Q8_0 = 8, /* 32 elements: f16 scale d, 32 int8 */
  /* k-quants: 256-element super-blocks, GGUF's layouts (see tessera/kit/quant.h). */
  TSR_DTYPE_Q2_K = 10, /* 84 bytes */
  TSR_DTYPE_Q3_K = 11, /* 110 bytes */
  TSR_DTYPE_Q4_K = 12, /* 144 bytes */
  TSR_DTYPE_Q5_K = 13, /* 176 bytes */
  TSR_DTYPE_Q6_K = 14, /* 210 bytes */
  TSR_DTYPE_Q8_K = 15, /* 292 bytes: f32 d, 256 int8, 16 int16 sums */
  TSR_DTYPE_I8 = 24,
  TSR_DTYPE_I32 = 26,
  TSR_DTYPE_BF16 = 30,
  TSR_DTYPE_COUNT = 40 /* upper bound of ids; not every id below is a dtype */
} tsr_dtype;

/* Operations. Inputs are listed in order; shapes use the ne[] order above.
 * Unless stated otherwise float inputs may be f32, f16 or bf16 and the output
 * has the dtype of input 0. "ip" are the integer parameters, "fp" the float
 * parameters of tsr_op_params. */
typedef enum tsr_op {
  TSR_OP_NONE = 0,
  /* get_rows(table [ne0, n_rows], ids i32 [a, b, c]) -> f32 [ne0, a, b, c].
   * table may be any dtype including block formats. */
  TSR_OP_GET_ROWS = 1,
  /* matmul(w [K, M, B2w, B3w], x [K, N, B2, B3]) -> f32 [M, N, B2, B3]:
   * out[m, n] = sum_k w[k, m] * x[k, n]. B2 % B2w == 0 and B3 % B3w == 0
   * (w broadcasts over batches, as grouped-query attention needs).
   * w: f32, f16, bf16 or a block format, q8_K excepted (block formats need
   * contiguous dim 0); which block formats a device computes with is its
   * supports_op answer;
   * x: f32, f16, bf16, any strides (a transposed view is legal). */
  TSR_OP_MATMUL = 2,
  /* Element-wise a (op) b with numpy-style broadcasting per dim (equal, or
   * one side 1). Output shape is the per-dim max, dtype of a. */
  TSR_OP_ADD = 3,
  TSR_OP_SUB = 4,
  TSR_OP_MUL = 5,
  TSR_OP_DIV = 6,
  /* scale(x) = x * fp[0] + fp[1]. */
  TSR_OP_SCALE = 7,
  /* rms_norm(x) over dim 0: x / sqrt(mean(x^2) + fp[0]). */
  TSR_OP_RMS_NORM = 8,
  /* layer_norm(x) over dim 0: (x - mean) / sqrt(var + fp[0]). */
  TSR_OP_LAYER_NORM = 9,
  /* rope(x [head_dim, n_head, n_tokens, 1], pos i32 [n_tokens]).
   * ip[0] n_rot (even, <= head_dim; dims past n_rot pass through),
   * ip[1] mode: TSR_ROPE_NORMAL rotates pairs (2i, 2i+1), TSR_ROPE_NEOX
   * rotates pairs (i, i + n_rot/2). fp[0] freq_base, fp[1] freq_scale (0 -> 1).
   * theta_i = pos * freq_scale * freq_base^(-2i/n_rot) / ff[i], where ff is
   * the optional input 2, freq_factors f32 [n_rot/2] (1 when absent; Llama
   * 3's rope_freqs). */
  TSR_OP_ROPE = 10,
  /* softmax(x [ne0, ne1, ne2, ne3], optional mask [ne0, ne1', 1, 1]) over
   * dim 0 of x * fp[0] + mask (fp[0] == 0 means 1). mask is f32 or f16, its
   * dim 1 is >= ne1 (only the first ne1 rows are read); -INF masks out. */
  TSR_OP_SOFTMAX = 11,
  TSR_OP_SILU = 12, /* x * sigmoid(x) */
  TSR_OP_GELU = 13, /* 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))) */
  /* swiglu(gate, up) = silu(gate) * up; same shapes. */
  TSR_OP_SWIGLU = 14,
  /* attention(q [D, n_head, n_tokens, 1], k [D, n_kv_head, kv_size, 1],
   *           v [D, n_kv_head, kv_size, 1], pos i32 [n_tokens])
   *   -> f32 [D, n_head, n_tokens, 1].
   * k, v: f32 or f16, usually views of a KV cache. n_head % n_kv_head == 0;
   * query head h reads kv head h / (n_head / n_kv_head).
   * fp[0] scale (0 -> 1/sqrt(D)). ip[0] causal (query at position p sees kv
   * rows 0..p). ip[1] index of the step parameter holding the valid kv length,
   * or -1 for kv_size. ip[2] sliding window W (0: none; needs causal): the
   * query at position p sees kv rows j with p - W < j <= p only (Gemma's local
   * layers). pos is required (and read) only when causal. */
  TSR_OP_ATTENTION = 15,
  /* set_rows(dst [ne0, n_rows, ...], src [ne0, n, ...], idx i32 [n]):
   * dst row idx[i] = src row i (converted to dst's dtype, which may be a block
   * format). The output aliases dst: it is dst after the write. */
  TSR_OP_SET_ROWS = 16,
  /* cpy(x) -> contiguous copy in dtype ip[0]; quantizes to block formats and
   * dequantizes from them. With ip[0] == x's dtype this is "contiguous". */
  TSR_OP_CPY = 17,
  /* Metadata ops: the output aliases input 0; core folds them into the
   * strides of their consumers, so backends never see them.
   * reshape: ip[0..3] new ne (x must be contiguous).
   * view: ip[0..3] ne, ip[4..6] nb[1..3], ip[7] byte offset.
   * permute: ip[0..3]: input dim i becomes output dim ip[i]. */
  TSR_OP_RESHAPE = 18,
  TSR_OP_VIEW = 19,
  TSR_OP_PERMUTE = 20,
  /* concat(a, b) along dim ip[0]; same dtype, other dims equal. */
  TSR_OP_CONCAT = 21,
  /* argmax(x [ne0, ne1, ne2, ne3]) -> i32 [ne1, ne2, ne3, 1] over dim 0;
   * the first maximum wins. */
  TSR_OP_ARGMAX = 22,
  /* softcap(x) = fp[0] * tanh(x / fp[0]), fp[0] > 0 (Gemma's logit capping). */
  TSR_OP_SOFTCAP = 23,
  /* geglu(gate, up) = gelu(gate) * up (tanh form as TSR_OP_GELU); same shapes. */
  TSR_OP_GEGLU = 24,
  /* paged_attention(q [D, n_head, N, 1], k [D, n_kv_head, P, 1],
   *                 v [D, n_kv_head, P, 1], pos i32 [N], seq i32 [N],
   *                 block_table i32 [B, n_rows])  -> f32 [D, n_head, N, 1].
   * Causal attention over a flat batch of N tokens from several sequences
   * whose KV rows live in fixed-size blocks of one shared pool (a paged KV
   * cache): token t belongs to sequence row seq[t] of block_table and sits at
   * position pos[t] >= 0; it sees its sequence's logical rows j <= pos[t]
   * (with ip[2] = W > 0 only pos[t] - W < j), and logical row j is pool row
   * block_table[j / ip[0], seq[t]] * ip[0] + j % ip[0].
   * ip[0] block size (> 0, divides P); ip[1] reserved, 0; ip[2] sliding
   * window W as for attention; fp[0] scale (0 -> 1/sqrt(D)). k, v f32 or f16,
   * GQA as attention. Only the blocks a token's rows fall in are read.
   * Bad values in the integer inputs (seq outside [0, n_rows), pos < 0 or
   * >= B * ip[0], a block id outside [0, P / ip[0])) are run-time errors
   * naming the token on the reference and the CPU backend; a device backend
   * that cannot report them must still never read outside k and v. */
  TSR_OP_PAGED_ATTENTION = 25,
  /* Collectives between the ranks of a tensor-parallel job. Core runs them
   * through the context's communicator (tessera_comm.h, tsr_context_open_comm);
   * backends are never asked about them. ip[0] = R, the world size the graph
   * was built for (>= 1): a compile refuses a graph whose R differs from the
   * communicator's size, and R = 1 needs no communicator (a copy). Input
   * contiguous.
   * all_reduce(x f32) -> f32, same shape: the element-wise sum of every
   * rank's x (the row-parallel matmul's partial sums), the same bits on
   * every rank. */
  TSR_OP_ALL_REDUCE = 26,
  /* all_gather(x [a, b, c, 1]) -> [a, b, c, R], same dtype (f32, f16, i32):
   * rank r's x at index r of dim 3 (the column-parallel output's shards). */
  TSR_OP_ALL_GATHER = 27,
  TSR_OP_COUNT = 28
} tsr_op;

enum { TSR_ROPE_NORMAL = 0, TSR_ROPE_NEOX = 2 };

/* A tensor's layout. Unused dims have ne = 1 and a stride continuing the
 * layout; rank is kept for printing and for the public API. */
typedef struct tsr_tensor_desc {
  int32_t dtype; /* tsr_dtype */
  int32_t rank;  /* 1..TSR_MAX_DIMS */
  int64_t ne[TSR_MAX_DIMS];
  int64_t nb[TSR_MAX_DIMS];
} tsr_tensor_desc;

/* Op parameters, meaning per op as documented on tsr_op. Unused entries are
 * zero. */
typedef struct tsr_op_params {
  int64_t i[TSR_MAX_IPARAMS];
  float f[TSR_MAX_FPARAMS];
} tsr_op_params;

#ifdef __cplusplus
}
#endif

#endif /* TESSERA_TYPES_H */
