// Tensor descriptors: dtype, shape and byte strides (see tessera_types.h for
// the dimension order). Plain functions over tsr_tensor_desc so the same
// struct crosses the C API and the backend ABI unchanged.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "tessera/kit/status.h"
#include "tessera/tessera_types.h"

namespace tsr {

using TensorDesc = tsr_tensor_desc;

// Contiguous descriptor. ne lists rank dims, innermost first. Fails (with the
// dims in the message) on an unknown dtype, rank outside 1..4, a negative dim,
// a dim 0 not a multiple of the block size, or a byte size overflowing int64.
Result<TensorDesc> make_desc(int32_t dtype, int32_t rank, const int64_t* ne);
Result<TensorDesc> make_desc(int32_t dtype, std::initializer_list<int64_t> ne);

int64_t n_elements(const TensorDesc& d);
// The element count as a launch size: unsigned, 0 when any dim is negative
// or 0.
uint64_t element_count(const TensorDesc& d);
// ceil(a / b), b > 0: blocks of b covering a.
constexpr uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
// Bytes spanned from the first to one past the last element (views included).
int64_t n_bytes_spanned(const TensorDesc& d);
// Bytes of the contiguous layout of the same shape and dtype.
int64_t n_bytes_contiguous(const TensorDesc& d);
bool is_contiguous(const TensorDesc& d);
// Rows (dims 1..3) contiguous in dim 0: nb[0] is the element/block size.
bool rows_contiguous(const TensorDesc& d);
bool same_shape(const TensorDesc& a, const TensorDesc& b);

// "[4, 576]" (rank dims) and "f32 [4, 576]".
std::string shape_str(const TensorDesc& d);
std::string desc_str(const TensorDesc& d);

// Copies a tensor laid out as d (src points at its first element) into dst in
// the contiguous layout of the same shape. Fails for a block format whose dim 0
// is not contiguous.
Status copy_to_contiguous(const TensorDesc& d, const void* src, void* dst);

// Byte offset of element (i0, i1, i2, i3). For block formats i0 counts
// elements and must be a multiple of the block size.
int64_t byte_offset(const TensorDesc& d, int64_t i0, int64_t i1, int64_t i2, int64_t i3);

}  // namespace tsr
