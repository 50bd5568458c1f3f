// cuBLAS for the CUDA backend's dense f32/f16/bf16 GEMMs, opened at run time
// (libcublas.so.13, else .12) once per process and kept, like the driver:
// without it, matmul runs on Tessera's own kernels. Internal to backends/cuda.
#pragma once

#include <cuda.h>

#include <memory>
#include <string>

#include "gpu_driver.h"

namespace tsr::cuda {

class Blas {
 public:
  // nullptr with *why when libcublas is missing or fails to start.
  static std::unique_ptr<Blas> open(std::string* why);
  ~Blas();
  Blas(const Blas&) = delete;
  Blas& operator=(const Blas&) = delete;

  // Runs g on stream s with g's workspace (capturable: with a workspace
  // given, cuBLAS allocates nothing during a graph capture).
  Status gemm(const gpu::GemmDesc& g, CUstream s);

  struct Fns;

 private:
  Blas() = default;
  const Fns* fn_ = nullptr;  // process-wide: the library is opened once and kept
  void* handle_ = nullptr;   // one per device (its primary context)
};

}  // namespace tsr::cuda
