#include "cuda_blas.h"

#include <cublas_api.h>
#include <dlfcn.h>

#include "tessera/tessera_types.h"

namespace tsr::cuda {

struct Blas::Fns {
  decltype(&::cublasCreate_v2) create = nullptr;
  decltype(&::cublasDestroy_v2) destroy = nullptr;
  decltype(&::cublasSetStream_v2) set_stream = nullptr;
  decltype(&::cublasSetWorkspace_v2) set_workspace = nullptr;
  // Overloaded in C++ by a legacy cudaDataType/compute wrapper: typed here.
  cublasStatus_t (*gemm)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*,
                         const void*, cudaDataType, int, long long, const void*, cudaDataType, int, long long,
                         const void*, void*, cudaDataType, int, long long, int, cublasComputeType_t,
                         cublasGemmAlgo_t) = nullptr;
  decltype(&::cublasGetStatusName) status_name = nullptr;
};

namespace {

// Opens libcublas once per process; it stays loaded (it carries its own CUDA
// runtime, whose state does not survive unloading).
const Blas::Fns* load_fns(std::string* why) {
  static std::string s_why;
  static const Blas::Fns* s_fns = [] {
    void* h = dlopen("libcublas.so.13", RTLD_NOW | RTLD_LOCAL);
    if (!h) h = dlopen("libcublas.so.12", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      s_why = "libcublas.so.13/.12 not found: matmul uses Tessera's own kernels";
      return static_cast<const Blas::Fns*>(nullptr);
    }
    static Blas::Fns f;
    f.create = reinterpret_cast<decltype(f.create)>(dlsym(h, "cublasCreate_v2"));
    f.destroy = reinterpret_cast<decltype(f.destroy)>(dlsym(h, "cublasDestroy_v2"));
    f.set_stream = reinterpret_cast<decltype(f.set_stream)>(dlsym(h, "cublasSetStream_v2"));
    f.set_workspace = reinterpret_cast<decltype(f.set_workspace)>(dlsym(h, "cublasSetWorkspace_v2"));
    f.gemm = reinterpret_cast<decltype(f.gemm)>(dlsym(h, "cublasGemmStridedBatchedEx"));
    f.status_name = reinterpret_cast<decltype(f.status_name)>(dlsym(h, "cublasGetStatusName"));
    if (!f.create || !f.destroy || !f.set_stream || !f.set_workspace || !f.gemm) {
      s_why = "libcublas lacks cublasCreate_v2/SetStream_v2/SetWorkspace_v2/GemmStridedBatchedEx";
      return static_cast<const Blas::Fns*>(nullptr);
    }
    return static_cast<const Blas::Fns*>(&f);
  }();
  if (!s_fns) *why = s_why;
  return s_fns;
}

}  // namespace

std::unique_ptr<Blas> Blas::open(std::string* why) {
  const Fns* f = load_fns(why);
  if (!f) return nullptr;
  cublasHandle_t handle = nullptr;
  const cublasStatus_t st = f->create(&handle);
  if (st != CUBLAS_STATUS_SUCCESS) {
    *why = "cublasCreate failed: " + std::string(f->status_name ? f->status_name(st) : "error") + " (" +
           std::to_string(static_cast<int>(st)) + ")";
    return nullptr;
  }
  std::unique_ptr<Blas> b(new Blas);
  b->fn_ = f;
  b->handle_ = handle;
  return b;
}

Blas::~Blas() {
  if (handle_) fn_->destroy(static_cast<cublasHandle_t>(handle_));
}

Status Blas::gemm(const gpu::GemmDesc& g, CUstream s) {
  auto h = static_cast<cublasHandle_t>(handle_);
  auto check = [&](cublasStatus_t st, const char* what) -> Status {
    if (st == CUBLAS_STATUS_SUCCESS) return Status::ok();
    return make_error(TSR_ERR_DEVICE, "[matmul] {} failed: {} ({})", what,
                      fn_->status_name ? fn_->status_name(st) : "cuBLAS error", static_cast<int>(st));
  };
  TSR_RETURN_IF_ERROR(check(fn_->set_stream(h, reinterpret_cast<cudaStream_t>(s)), "cublasSetStream"));
  TSR_RETURN_IF_ERROR(check(fn_->set_workspace(h, reinterpret_cast<void*>(g.workspace), g.workspace_bytes),
                            "cublasSetWorkspace"));
  cudaDataType_t type = CUDA_R_32F;
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  if (g.dtype == TSR_DTYPE_F16) {
    type = CUDA_R_16F;
  } else if (g.dtype == TSR_DTYPE_BF16) {
    type = CUDA_R_16BF;
  }
  const float alpha = 1.0f, beta = 0.0f;
  // out (m x n) = w^T (m x k) * x (k x n), all column-major: w is stored
  // k x m with leading dimension ldw.
  return check(
      fn_->gemm(h, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(g.m), static_cast<int>(g.n),
                static_cast<int>(g.k), &alpha, reinterpret_cast<const void*>(g.w), type,
                static_cast<int>(g.ldw), g.stride_w, reinterpret_cast<const void*>(g.x), type,
                static_cast<int>(g.ldx), g.stride_x, &beta, reinterpret_cast<void*>(g.out), CUDA_R_32F,
                static_cast<int>(g.ldo), g.stride_o, static_cast<int>(g.batch), compute, CUBLAS_GEMM_DEFAULT),
      "cublasGemmStridedBatchedEx");
}

}  // namespace tsr::cuda
