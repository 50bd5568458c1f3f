// Host tensors for the op tests: build inputs from float or int lists, run an
// op through infer + reference into a contiguous output, read results back.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "ops/op_schema.h"
#include "tessera/kit/dtype.h"
#include "tessera/kit/tensor.h"

namespace tsr::ops::test {

struct HostTensor {
  TensorDesc desc{};
  std::vector<uint8_t> bytes;
  const void* data() const { return bytes.data(); }
  void* data() { return bytes.data(); }
};

inline TensorDesc desc_of(int32_t dtype, std::initializer_list<int64_t> ne) {
  Result<TensorDesc> r = make_desc(dtype, ne);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.value();
}

// Contiguous tensor of a float or block dtype holding values (through from_float).
inline HostTensor make_tensor(int32_t dtype, std::initializer_list<int64_t> ne,
                              const std::vector<float>& values) {
  HostTensor t;
  t.desc = desc_of(dtype, ne);
  EXPECT_EQ(static_cast<int64_t>(values.size()), n_elements(t.desc));
  t.bytes.resize(n_bytes_contiguous(t.desc));
  dtype_traits(dtype)->from_float(values.data(), t.bytes.data(), static_cast<int64_t>(values.size()));
  return t;
}

inline HostTensor make_f32(std::initializer_list<int64_t> ne, const std::vector<float>& values) {
  return make_tensor(TSR_DTYPE_F32, ne, values);
}

inline HostTensor make_i32(std::initializer_list<int64_t> ne, const std::vector<int32_t>& values) {
  HostTensor t;
  t.desc = desc_of(TSR_DTYPE_I32, ne);
  EXPECT_EQ(static_cast<int64_t>(values.size()), n_elements(t.desc));
  t.bytes.resize(values.size() * sizeof(int32_t));
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

// The same bytes described by another layout (a view: transposed, sliced).
inline HostTensor with_desc(const HostTensor& base, const TensorDesc& d) {
  HostTensor t = base;
  t.desc = d;
  return t;
}

// Every element of a contiguous tensor as float.
inline std::vector<float> to_floats(const HostTensor& t) {
  std::vector<float> v(n_elements(t.desc));
  dtype_traits(t.desc.dtype)->to_float(t.bytes.data(), v.data(), static_cast<int64_t>(v.size()));
  return v;
}

inline std::vector<int32_t> to_i32(const HostTensor& t) {
  std::vector<int32_t> v(n_elements(t.desc));
  std::memcpy(v.data(), t.bytes.data(), v.size() * sizeof(int32_t));
  return v;
}

inline tsr_op_params params(std::initializer_list<int64_t> ip = {}, std::initializer_list<float> fp = {}) {
  tsr_op_params p{};
  int k = 0;
  for (int64_t v : ip) p.i[k++] = v;
  k = 0;
  for (float v : fp) p.f[k++] = v;
  return p;
}

// Runs op on the inputs into a fresh contiguous output of the inferred shape.
inline Result<HostTensor> run_op(int32_t op, const std::vector<const HostTensor*>& ins,
                                 const tsr_op_params& p = params(), const tsr_step_params* step = nullptr) {
  std::vector<TensorDesc> descs;
  std::vector<const void*> ptrs;
  for (const HostTensor* t : ins) {
    descs.push_back(t->desc);
    ptrs.push_back(t->data());
  }
  const int n = static_cast<int>(ins.size());
  int64_t offset = -1;
  Result<TensorDesc> inferred = infer(op, descs.data(), n, p, &offset);
  if (!inferred.is_ok()) return inferred.status();
  const TensorDesc& d = inferred.value();
  HostTensor out;
  Result<TensorDesc> contiguous = make_desc(d.dtype, d.rank, d.ne);
  if (!contiguous.is_ok()) return contiguous.status();
  out.desc = contiguous.value();
  out.bytes.resize(n_bytes_contiguous(out.desc));
  Status s = reference(op, descs.data(), ptrs.data(), n, out.desc, out.data(), p, step);
  if (!s.is_ok()) return s;
  return out;
}

// Runs op and returns the output as floats, failing the test on an error.
inline std::vector<float> run_floats(int32_t op, const std::vector<const HostTensor*>& ins,
                                     const tsr_op_params& p = params(),
                                     const tsr_step_params* step = nullptr) {
  Result<HostTensor> r = run_op(op, ins, p, step);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? to_floats(r.value()) : std::vector<float>{};
}

inline std::string infer_error(int32_t op, const std::vector<TensorDesc>& descs,
                               const tsr_op_params& p = params()) {
  int64_t offset = 0;
  Result<TensorDesc> r = infer(op, descs.data(), static_cast<int>(descs.size()), p, &offset);
  EXPECT_FALSE(r.is_ok()) << "expected " << op_name(op) << " to be rejected";
  return r.is_ok() ? std::string() : r.status().message();
}

#define EXPECT_FLOATS_NEAR(expected, actual, tol)                                              \
  do {                                                                                         \
    const std::vector<float> e_ = (expected), a_ = (actual);                                   \
    ASSERT_EQ(e_.size(), a_.size());                                                           \
    for (size_t i_ = 0; i_ < e_.size(); ++i_) EXPECT_NEAR(e_[i_], a_[i_], tol) << "at " << i_; \
  } while (0)

}  // namespace tsr::ops::test
