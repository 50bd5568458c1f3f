#include "tessera/kit/tensor.h"

#include <fmt/format.h>

#include <cstring>
#include <limits>

#include "tessera/kit/dtype.h"

namespace tsr {

Result<TensorDesc> make_desc(int32_t dtype, int32_t rank, const int64_t* ne) {
  const DtypeTraits* t = dtype_traits(dtype);
  if (!t) return invalid_arg("[tensor] unknown dtype id {}", dtype);
  if (rank < 1 || rank > TSR_MAX_DIMS)
    return invalid_arg("[tensor] rank {} outside 1..{}", rank, TSR_MAX_DIMS);
  TensorDesc d{};
  d.dtype = dtype;
  d.rank = rank;
  for (int i = 0; i < TSR_MAX_DIMS; ++i) d.ne[i] = i < rank ? ne[i] : 1;
  for (int i = 0; i < rank; ++i)
    if (ne[i] < 0) return invalid_arg("[tensor] negative dim {} = {} in {}", i, ne[i], shape_str(d));
  if (d.ne[0] % t->block_size != 0)
    return invalid_arg("[tensor] {} dim 0 = {} is not a multiple of the block size {}", t->name, d.ne[0],
                       t->block_size);
  // Guard every product against int64 overflow: shapes come from user input.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max() / 2;
  d.nb[0] = t->block_bytes;
  // Checked before the row's size is computed: the product itself would
  // overflow (undefined behaviour) for a dim 0 near 2^63 (found by fuzz_graph_api).
  if (t->block_bytes != 0 && d.ne[0] / t->block_size > kMax / t->block_bytes)
    return invalid_arg("[tensor] size of {} {} overflows", t->name, shape_str(d));
  int64_t stride = d.ne[0] / t->block_size * t->block_bytes;
  for (int i = 1; i < TSR_MAX_DIMS; ++i) {
    d.nb[i] = stride;
    if (d.ne[i] != 0 && stride > kMax / d.ne[i])
      return invalid_arg("[tensor] size of {} {} overflows", t->name, shape_str(d));
    stride *= d.ne[i];
  }
  // The element count too, as n_elements multiplies it (dim 0 first): a
  // block format keeps 256 elements in as few as 84 bytes, so a byte size
  // that fits can hide a count that overflows (found by fuzz_graph_api).
  int64_t count = 1;
  for (int i = 0; i < TSR_MAX_DIMS; ++i)
    if (__builtin_mul_overflow(count, d.ne[i], &count))
      return invalid_arg("[tensor] element count of {} {} overflows", t->name, shape_str(d));
  return d;
}

Result<TensorDesc> make_desc(int32_t dtype, std::initializer_list<int64_t> ne) {
  return make_desc(dtype, static_cast<int32_t>(ne.size()), ne.begin());
}

int64_t n_elements(const TensorDesc& d) { return d.ne[0] * d.ne[1] * d.ne[2] * d.ne[3]; }

uint64_t element_count(const TensorDesc& d) {
  uint64_t n = 1;
  for (int i = 0; i < TSR_MAX_DIMS; ++i) n *= static_cast<uint64_t>(d.ne[i] > 0 ? d.ne[i] : 0);
  return n;
}

int64_t n_bytes_spanned(const TensorDesc& d) {
  const DtypeTraits* t = dtype_traits(d.dtype);
  if (!t) return 0;
  for (int i = 0; i < TSR_MAX_DIMS; ++i)
    if (d.ne[i] == 0) return 0;
  int64_t last = (d.ne[0] / t->block_size - 1) * d.nb[0];
  for (int i = 1; i < TSR_MAX_DIMS; ++i) last += (d.ne[i] - 1) * d.nb[i];
  return last + t->block_bytes;
}

int64_t n_bytes_contiguous(const TensorDesc& d) {
  const DtypeTraits* t = dtype_traits(d.dtype);
  if (!t) return 0;
  return n_elements(d) / t->block_size * t->block_bytes;
}

bool rows_contiguous(const TensorDesc& d) {
  const DtypeTraits* t = dtype_traits(d.dtype);
  return t && (d.nb[0] == t->block_bytes || d.ne[0] == t->block_size);
}

bool is_contiguous(const TensorDesc& d) {
  const DtypeTraits* t = dtype_traits(d.dtype);
  if (!t) return false;
  int64_t stride = t->block_bytes;
  for (int i = 0; i < TSR_MAX_DIMS; ++i) {
    const int64_t n = i == 0 ? d.ne[0] / t->block_size : d.ne[i];
    if (n != 1 && d.nb[i] != stride) return false;
    stride *= n;
  }
  return true;
}

bool same_shape(const TensorDesc& a, const TensorDesc& b) {
  for (int i = 0; i < TSR_MAX_DIMS; ++i)
    if (a.ne[i] != b.ne[i]) return false;
  return true;
}

std::string shape_str(const TensorDesc& d) {
  std::string s = "[";
  const int rank = d.rank >= 1 && d.rank <= TSR_MAX_DIMS ? d.rank : TSR_MAX_DIMS;
  for (int i = 0; i < rank; ++i) s += fmt::format("{}{}", i ? ", " : "", d.ne[i]);
  return s + "]";
}

std::string desc_str(const TensorDesc& d) { return fmt::format("{} {}", dtype_name(d.dtype), shape_str(d)); }

int64_t byte_offset(const TensorDesc& d, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  const DtypeTraits* t = dtype_traits(d.dtype);
  const int64_t block = t ? t->block_size : 1;
  return i0 / block * d.nb[0] + i1 * d.nb[1] + i2 * d.nb[2] + i3 * d.nb[3];
}

Status copy_to_contiguous(const TensorDesc& d, const void* src_v, void* dst_v) {
  const DtypeTraits* t = dtype_traits(d.dtype);
  if (!t) return invalid_arg("[copy] unknown dtype id {}", d.dtype);
  const auto* src = static_cast<const unsigned char*>(src_v);
  auto* dst = static_cast<unsigned char*>(dst_v);
  const int64_t row_bytes = d.ne[0] / t->block_size * t->block_bytes;
  // An empty tensor has nothing to copy, and its source and destination may
  // be null (tsr_model_get_output accepts a null dst for 0 bytes): memcpy
  // must not see them, even for 0 bytes (found by fuzz_graph_api).
  if (n_elements(d) == 0) return {};
  const bool row_contig = d.nb[0] == t->block_bytes || d.ne[0] <= t->block_size;
  if (!row_contig && t->block_size != 1)
    return invalid_arg("[copy] {} with a strided dim 0 cannot be read", desc_str(d));
  for (int64_t i3 = 0; i3 < d.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < d.ne[2]; ++i2)
      for (int64_t i1 = 0; i1 < d.ne[1]; ++i1) {
        const unsigned char* s = src + i1 * d.nb[1] + i2 * d.nb[2] + i3 * d.nb[3];
        if (row_contig) {
          std::memcpy(dst, s, row_bytes);
        } else {
          for (int64_t i0 = 0; i0 < d.ne[0]; ++i0)
            std::memcpy(dst + i0 * t->block_bytes, s + i0 * d.nb[0], t->block_bytes);
        }
        dst += row_bytes;
      }
  return {};
}

}  // namespace tsr
