// tessera-cublas-gemm: cuBLAS itself on the shapes tessera-bench times, so
// scripts/gpu-check.sh can quote Tessera's GEMM as a ratio to the vendor
// library on the same GPU in the same run. Prints one JSON object:
//   {"device": "...", "results": [{"name": "gemm f32 1024", "median_ms": ..,
//    "gflops": ..}, ...]}
// Exit 0, or 1 with a message when there is no CUDA device.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

bool ok(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::fprintf(stderr, "tessera-cublas-gemm: %s: %s\n", what, cudaGetErrorString(e));
  return false;
}

// Median milliseconds of one n x n x n GEMM (the median of 11 timed batches
// of `inner` calls, after a warm-up).
double time_gemm(cublasHandle_t h, int n, cudaDataType type, const void* a, const void* b, float* c) {
  const float alpha = 1.0f, beta = 0.0f;
  auto run = [&] {
    cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &alpha, a, type, n, b, type, n, &beta, c, CUDA_R_32F,
                 n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  };
  for (int i = 0; i < 5; ++i) run();
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  const int inner = 20;
  std::vector<double> ms;
  for (int r = 0; r < 11; ++r) {
    cudaEventRecord(e0);
    for (int i = 0; i < inner; ++i) run();
    cudaEventRecord(e1);
    cudaEventSynchronize(e1);
    float t = 0;
    cudaEventElapsedTime(&t, e0, e1);
    ms.push_back(t / inner);
  }
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main() {
  int count = 0;
  if (!ok(cudaGetDeviceCount(&count), "cudaGetDeviceCount") || count == 0) return 1;
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  cublasHandle_t h = nullptr;
  if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) {
    std::fprintf(stderr, "tessera-cublas-gemm: cublasCreate failed\n");
    return 1;
  }
  std::printf("{\"device\": \"%s\", \"results\": [", prop.name);
  const struct {
    const char* name;
    int n;
    cudaDataType type;
    size_t es;
  } cases[] = {{"gemm f32 1024", 1024, CUDA_R_32F, 4},
               {"gemm f32 4096", 4096, CUDA_R_32F, 4},
               {"gemm f16 4096", 4096, CUDA_R_16F, 2}};
  bool first = true;
  for (const auto& c : cases) {
    const size_t elems = static_cast<size_t>(c.n) * c.n;
    void *a = nullptr, *b = nullptr;
    float* out = nullptr;
    if (!ok(cudaMalloc(&a, elems * c.es), "cudaMalloc") || !ok(cudaMalloc(&b, elems * c.es), "cudaMalloc") ||
        !ok(cudaMalloc(&out, elems * 4), "cudaMalloc"))
      return 1;
    cudaMemset(a, 0, elems * c.es);
    cudaMemset(b, 0, elems * c.es);
    const double ms = time_gemm(h, c.n, c.type, a, b, out);
    const double gflops = 2.0 * c.n * double(c.n) * c.n / (ms * 1e-3) / 1e9;
    std::printf("%s{\"name\": \"%s\", \"median_ms\": %.5f, \"gflops\": %.1f}", first ? "" : ", ", c.name, ms,
                gflops);
    first = false;
    cudaFree(a);
    cudaFree(b);
    cudaFree(out);
  }
  std::printf("]}\n");
  cublasDestroy(h);
  return 0;
}
