// The OpenCL ICD loader, opened at run time. libtessera does not link
// libOpenCL: a machine without OpenCL still runs Tessera, and the OpenCL
// backend then lists no devices and says why (tessera-info).
#pragma once

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include <string>

namespace tsr::cl {

// Every entry point the backend calls (all OpenCL 1.2 core). X(name).
#define TSR_CL_FUNCS(X)        \
  X(clGetPlatformIDs)          \
  X(clGetPlatformInfo)         \
  X(clGetDeviceIDs)            \
  X(clGetDeviceInfo)           \
  X(clCreateContext)           \
  X(clReleaseContext)          \
  X(clCreateCommandQueue)      \
  X(clReleaseCommandQueue)     \
  X(clCreateBuffer)            \
  X(clReleaseMemObject)        \
  X(clEnqueueWriteBuffer)      \
  X(clEnqueueReadBuffer)       \
  X(clCreateProgramWithSource) \
  X(clCreateProgramWithBinary) \
  X(clBuildProgram)            \
  X(clGetProgramBuildInfo)     \
  X(clGetProgramInfo)          \
  X(clReleaseProgram)          \
  X(clCreateKernel)            \
  X(clReleaseKernel)           \
  X(clSetKernelArg)            \
  X(clGetKernelWorkGroupInfo)  \
  X(clEnqueueNDRangeKernel)    \
  X(clFlush)                   \
  X(clFinish)                  \
  X(clWaitForEvents)           \
  X(clReleaseEvent)            \
  X(clGetEventProfilingInfo)

struct Fns {
#define TSR_CL_MEMBER(name) decltype(&::name) name = nullptr;
  TSR_CL_FUNCS(TSR_CL_MEMBER)
#undef TSR_CL_MEMBER
};

// Opens the ICD loader (TESSERA_OPENCL_LOADER, else libOpenCL.so.1) and
// fills every entry. False with a reason when there is no usable loader.
bool load_loader(Fns* fns, std::string* reason);

// "CL_OUT_OF_RESOURCES" etc.; "error -N" for codes without a name here.
std::string error_name(cl_int e);

}  // namespace tsr::cl
