// OpenCL C kernels embedded at build time (kernels/opencl/kernels.cmake):
// the source files as text, and the kernel variants built from them.
#pragma once

#include <span>

namespace tsr::cl {

struct EmbeddedSource {
  const char* name;  // "common.cl"
  const char* text;
};

// One kernel variant: the program is common.cl, blocks.cl, the prelude (if
// any) and the kernel's file, built with its defines plus the dispatch's
// SPEC and DT_SLOT constants.
struct EmbeddedKernel {
  const char* name;     // "matmul_vec_q4_K"
  const char* file;     // "matmul_vec.cl"
  const char* prelude;  // "reduce.cl" or ""
  const char* defines;  // " -DW_BLOCK=DT_Q4_K" or ""
};

std::span<const EmbeddedSource> embedded_sources();
std::span<const EmbeddedKernel> embedded_kernels();

}  // namespace tsr::cl
