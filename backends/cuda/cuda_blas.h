// cuBLAS for the CUDA backend's dense f32/f16/bf16 GEMMs, opened at run time
// (libcublas.so.13, else .12) like the driver: without it, matmul runs on
// Tessera's own kernels. Internal to backends/cuda.
#pragma once

#include <cuda.h>

#include <memory>
#include <string>

#include "backends/gpu/gpu_driver.h"

namespace tsr::cuda {

class Blas {
 public:
  // nullptr with *why when libcublas is missing or fails to start.
  static std::unique_ptr<Blas> open(std::string* why);
  ~Blas();
  Blas(const Blas&) = delete;
  Blas& operator=(const Blas&) = delete;

  // Runs g on stream s (capturable: the workspace is fixed, so cuBLAS
  // allocates nothing during a graph capture). workspace is device memory
  // of workspace_bytes owned by the caller.
  Status gemm(const gpu::GemmDesc& g, CUstream s, CUdeviceptr workspace, size_t workspace_bytes);

 private:
  Blas() = default;
  struct Fns;
  void* lib_ = nullptr;
  void* handle_ = nullptr;
  std::unique_ptr<Fns> fn_;
};

}  // namespace tsr::cuda
