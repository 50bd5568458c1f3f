/* Tessera GGUF reader — public C API.
 *
 * Opens a GGUF file (versions 2 and 3) by memory-mapping it and validates all
 * of it before any tensor data is touched: magic, version, counts, string and
 * array lengths (against the bytes left in the file), tensor ranks and dims
 * (no overflow of element or byte counts), tensor types, alignment, offsets and
 * sizes. A corrupt or truncated file gives TSR_ERR_INVALID_ARGUMENT (or
 * TSR_ERR_IO when it cannot be read) with a message naming the field, its
 * byte offset and the values; never a crash, a hang or a huge allocation.
 *
 * Tensor data stays in the mapping: a tensor's data pointer can be handed to
 * tsr_graph_weight() and is used in place on the CPU. The mapping lives until
 * tsr_gguf_close().
 *
 *   tsr_gguf* f;
 *   if (tsr_gguf_open("model.gguf", &f) != TSR_OK) puts(tsr_last_error());
 *   int64_t n_embd;
 *   tsr_gguf_get_int(f, "llama.embedding_length", &n_embd);
 *   tsr_gguf_tensor t;
 *   tsr_gguf_find_tensor(f, "token_embd.weight", &t);
 *   tsr_gguf_close(f);
 *
 * Threading: a tsr_gguf is immutable after open; any thread may read it.
 */
#ifndef TESSERA_GGUF_H
#define TESSERA_GGUF_H

#include "tessera.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tsr_gguf_s tsr_gguf;

/* GGUF metadata value types (numbering from the GGUF specification). */
typedef enum tsr_gguf_type {
  TSR_GGUF_UINT8 = 0,
  TSR_GGUF_INT8 = 1,
  TSR_GGUF_UINT16 = 2,
  TSR_GGUF_INT16 = 3,
  TSR_GGUF_UINT32 = 4,
  TSR_GGUF_INT32 = 5,
  TSR_GGUF_FLOAT32 = 6,
  TSR_GGUF_BOOL = 7,
  TSR_GGUF_STRING = 8,
  TSR_GGUF_ARRAY = 9,
  TSR_GGUF_UINT64 = 10,
  TSR_GGUF_INT64 = 11,
  TSR_GGUF_FLOAT64 = 12
} tsr_gguf_type;

/* A string inside the mapping: not NUL-terminated. */
typedef struct tsr_gguf_string {
  const char* data;
  uint64_t size;
} tsr_gguf_string;

typedef struct tsr_gguf_tensor {
  tsr_gguf_string name;
  int32_t n_dims;
  int64_t ne[TSR_MAX_DIMS]; /* ne[0] innermost; unused dims are 1 */
  int32_t ggml_type;        /* GGUF tensor type id; equals a tsr_dtype where Tessera computes with it */
  int32_t tessera_dtype;    /* 1 if ggml_type is a dtype Tessera computes with (tsr_dtype), else 0 */
  uint64_t offset;          /* from the start of the file */
  uint64_t size;            /* bytes */
  const void* data;         /* inside the mapping */
} tsr_gguf_tensor;

/* Opens and validates path. On failure nothing is kept open. */
TSR_API tsr_status_code tsr_gguf_open(const char* path, tsr_gguf** out_file);
/* Validates a GGUF image already in memory (borrowed; must outlive the handle).
 * name (may be NULL) is used in messages. Tensor data pointers are aligned to
 * the file's alignment only if data is. */
TSR_API tsr_status_code tsr_gguf_open_memory(const void* data, uint64_t size, const char* name,
                                             tsr_gguf** out_file);
TSR_API void tsr_gguf_close(tsr_gguf* f); /* accepts NULL */

/* 0 for a NULL handle (so are tsr_gguf_metadata_count and tsr_gguf_tensor_count). */
TSR_API uint32_t tsr_gguf_version(const tsr_gguf* f);
TSR_API uint64_t tsr_gguf_alignment(const tsr_gguf* f);

/* Metadata, in file order. */
TSR_API int64_t tsr_gguf_metadata_count(const tsr_gguf* f);
TSR_API tsr_status_code tsr_gguf_metadata_key(const tsr_gguf* f, int64_t index, tsr_gguf_string* out_key,
                                              tsr_gguf_type* out_type);
/* Index of a key, or TSR_ERR_NOT_FOUND. Keys containing NUL bytes cannot be
 * found by name; list them with tsr_gguf_metadata_key. */
TSR_API tsr_status_code tsr_gguf_find_key(const tsr_gguf* f, const char* key, int64_t* out_index);

/* Typed getters by key. Integers of any width (and bool) convert to int64 when
 * the value fits; floats of either width to double. A missing key gives
 * TSR_ERR_NOT_FOUND, another type TSR_ERR_INVALID_ARGUMENT, both naming the key. */
TSR_API tsr_status_code tsr_gguf_get_int(const tsr_gguf* f, const char* key, int64_t* out_value);
TSR_API tsr_status_code tsr_gguf_get_float(const tsr_gguf* f, const char* key, double* out_value);
TSR_API tsr_status_code tsr_gguf_get_string(const tsr_gguf* f, const char* key, tsr_gguf_string* out_value);

/* Arrays: element type and length; nested arrays are reached by index. */
TSR_API tsr_status_code tsr_gguf_get_array(const tsr_gguf* f, const char* key, tsr_gguf_type* out_elem_type,
                                           uint64_t* out_length);
TSR_API tsr_status_code tsr_gguf_array_string(const tsr_gguf* f, const char* key, uint64_t index,
                                              tsr_gguf_string* out_value);
TSR_API tsr_status_code tsr_gguf_array_int(const tsr_gguf* f, const char* key, uint64_t index,
                                           int64_t* out_value);
TSR_API tsr_status_code tsr_gguf_array_float(const tsr_gguf* f, const char* key, uint64_t index,
                                             double* out_value);

/* Any value, decoded: for generic readers (tessera-gguf) and nested arrays. */
typedef struct tsr_gguf_value {
  tsr_gguf_type type;
  tsr_gguf_type elem_type; /* TSR_GGUF_ARRAY: type of the elements */
  uint64_t length;         /* TSR_GGUF_ARRAY: number of elements */
  uint64_t u64;            /* unsigned integers and bool (0/1) */
  int64_t i64;             /* signed integers */
  double f64;              /* float32, float64 */
  tsr_gguf_string str;     /* TSR_GGUF_STRING */
} tsr_gguf_value;

/* The value under key (depth 0), or an element of it: path[0] indexes the
 * key's array, path[1] the array found there, and so on (depth indices, at
 * most 8). An index out of range or a path through a non-array gives
 * TSR_ERR_INVALID_ARGUMENT; a missing key TSR_ERR_NOT_FOUND. */
TSR_API tsr_status_code tsr_gguf_get_value(const tsr_gguf* f, const char* key, const uint64_t* path,
                                           int32_t depth, tsr_gguf_value* out_value);

/* Tensors, in file order. */
TSR_API int64_t tsr_gguf_tensor_count(const tsr_gguf* f);
TSR_API tsr_status_code tsr_gguf_get_tensor(const tsr_gguf* f, int64_t index, tsr_gguf_tensor* out_tensor);
TSR_API tsr_status_code tsr_gguf_find_tensor(const tsr_gguf* f, const char* name,
                                             tsr_gguf_tensor* out_tensor);
/* "q4_K", "f32", ... for any GGUF tensor type id; NULL if unknown. */
TSR_API const char* tsr_gguf_type_name(int32_t ggml_type);

#ifdef __cplusplus
}
#endif

#endif /* TESSERA_GGUF_H */
