# One option per backend, each AUTO by default: on when its toolkit is found.
# Every option ends in one configure line saying what was decided and why.

include(${CMAKE_CURRENT_LIST_DIR}/TesseraProbePackage.cmake)

set(TESSERA_BACKEND_SUMMARY "")

macro(tessera_backend_option name doc)
  set(TESSERA_${name} AUTO CACHE STRING "${doc} (AUTO, ON, OFF)")
  set_property(CACHE TESSERA_${name} PROPERTY STRINGS AUTO ON OFF)
endmacro()

# tessera_backend_decide(NAME FOUND REASON [IMPLEMENTED])
# Sets TESSERA_WITH_<NAME> and records a summary line. ON without the toolkit
# is a configure error; AUTO follows what was found.
function(tessera_backend_decide name found reason implemented)
  set(mode "${TESSERA_${name}}")
  if(mode STREQUAL "OFF")
    set(on OFF)
    set(why "disabled by TESSERA_${name}=OFF")
  elseif(NOT found)
    if(mode STREQUAL "ON")
      message(FATAL_ERROR "TESSERA_${name}=ON but ${reason}")
    endif()
    set(on OFF)
    set(why "${reason}")
  elseif(NOT implemented)
    set(on OFF)
    set(why "${reason}, but this backend is not in the tree yet")
  else()
    set(on ON)
    set(why "${reason}")
  endif()
  set(TESSERA_WITH_${name} ${on} PARENT_SCOPE)
  set(TESSERA_BACKEND_SUMMARY "${TESSERA_BACKEND_SUMMARY}${name}=${on} (${why}); " PARENT_SCOPE)
endfunction()

tessera_backend_option(ONEDNN "oneDNN GEMM for the CPU backend")
tessera_backend_option(VULKAN "Vulkan backend")
tessera_backend_option(OPENCL "OpenCL backend")
tessera_backend_option(CUDA "CUDA backend")
tessera_backend_option(HIP "HIP backend")
tessera_backend_option(MPI "MPI communicator for tensor parallelism")

# oneDNN's package config pulls in dependencies of its own (OpenCL on
# Debian) with REQUIRED, so a partial install would stop the configure: it
# is probed in a child cmake first and only then found here.
set(_tessera_dnnl_why "")
if(NOT TESSERA_ONEDNN STREQUAL "OFF")
  tessera_probe_config_package(dnnl _tessera_dnnl_usable _tessera_dnnl_why)
  if(_tessera_dnnl_usable)
    find_package(dnnl CONFIG QUIET)
  endif()
endif()
if(dnnl_FOUND)
  tessera_backend_decide(ONEDNN TRUE "oneDNN ${dnnl_VERSION} found" TRUE)
elseif(_tessera_dnnl_why AND NOT _tessera_dnnl_why MATCHES "Could not find a package configuration file")
  tessera_backend_decide(ONEDNN FALSE
    "oneDNN's CMake package is installed but unusable: ${_tessera_dnnl_why} (apt-get install ocl-icd-opencl-dev opencl-headers)" TRUE)
else()
  tessera_backend_decide(ONEDNN FALSE "oneDNN not found (apt-get install libdnnl-dev)" TRUE)
endif()

# Vulkan: only the headers and glslc are needed at build time; the loader
# (libvulkan.so.1) is opened at run time, so a build runs where it is missing.
if(NOT TESSERA_VULKAN STREQUAL "OFF")
  find_path(TESSERA_VULKAN_INCLUDE_DIR vulkan/vulkan.h)
  find_program(TESSERA_GLSLC glslc)
endif()
if(TESSERA_VULKAN_INCLUDE_DIR AND TESSERA_GLSLC)
  tessera_backend_decide(VULKAN TRUE "Vulkan headers in ${TESSERA_VULKAN_INCLUDE_DIR}, glslc at ${TESSERA_GLSLC}" TRUE)
elseif(TESSERA_VULKAN_INCLUDE_DIR)
  tessera_backend_decide(VULKAN FALSE "glslc not found (apt-get install glslc)" TRUE)
else()
  tessera_backend_decide(VULKAN FALSE "Vulkan headers not found (apt-get install libvulkan-dev)" TRUE)
endif()

# OpenCL: only the headers are needed at build time; the ICD loader
# (libOpenCL.so.1) is opened at run time and the kernels are built from
# embedded OpenCL C by each device's driver.
if(NOT TESSERA_OPENCL STREQUAL "OFF")
  find_path(TESSERA_OPENCL_INCLUDE_DIR CL/cl.h)
endif()
if(TESSERA_OPENCL_INCLUDE_DIR)
  tessera_backend_decide(OPENCL TRUE "OpenCL headers in ${TESSERA_OPENCL_INCLUDE_DIR}" TRUE)
else()
  tessera_backend_decide(OPENCL FALSE "OpenCL headers not found (apt-get install opencl-headers)" TRUE)
endif()

# CUDA and HIP: kernels/gpu is compiled offline (nvcc, hipcc) into images
# embedded in the library; the drivers (libcuda, libamdhip64) and cuBLAS are
# opened at run time, so a build runs, listing no such device, where they
# are missing. Only the toolkit's headers and compiler are needed here.
set(TESSERA_CUDA_ARCHITECTURES "90" CACHE STRING
    "CUDA architectures for kernels/gpu (SASS for each, PTX for the last): e.g. 80;90")
set(TESSERA_HIP_ARCHITECTURES "gfx90a;gfx1030" CACHE STRING "AMD GPU targets for kernels/gpu")
if(NOT TESSERA_CUDA STREQUAL "OFF")
  find_package(CUDAToolkit QUIET)
endif()
if(CUDAToolkit_FOUND AND CUDAToolkit_NVCC_EXECUTABLE AND EXISTS ${CUDAToolkit_NVCC_EXECUTABLE})
  tessera_backend_decide(CUDA TRUE
    "CUDA ${CUDAToolkit_VERSION}, nvcc at ${CUDAToolkit_NVCC_EXECUTABLE}, architectures ${TESSERA_CUDA_ARCHITECTURES}" TRUE)
else()
  tessera_backend_decide(CUDA FALSE "no CUDA toolkit (nvcc, cuda.h) found" TRUE)
endif()

if(NOT TESSERA_HIP STREQUAL "OFF")
  find_program(TESSERA_HIPCC hipcc)
  find_path(TESSERA_HIP_INCLUDE_DIR hip/hip_runtime_api.h PATHS /opt/rocm/include)
endif()
if(TESSERA_HIPCC AND TESSERA_HIP_INCLUDE_DIR)
  tessera_backend_decide(HIP TRUE "hipcc at ${TESSERA_HIPCC}, targets ${TESSERA_HIP_ARCHITECTURES}" TRUE)
elseif(TESSERA_HIPCC)
  tessera_backend_decide(HIP FALSE "HIP headers not found (apt-get install libamdhip64-dev)" TRUE)
else()
  tessera_backend_decide(HIP FALSE "hipcc not found (apt-get install hipcc libamdhip64-dev)" TRUE)
endif()

# MPI: the communicator library links MPI; libtessera never does (it opens
# the communicator at run time), so a build without MPI still runs alone.
if(NOT TESSERA_MPI STREQUAL "OFF")
  find_package(MPI QUIET COMPONENTS C)
endif()
if(MPI_C_FOUND)
  tessera_backend_decide(MPI TRUE "MPI ${MPI_C_VERSION} found (${MPI_C_LIB_NAMES})" TRUE)
else()
  tessera_backend_decide(MPI FALSE "MPI not found (apt-get install libopenmpi-dev openmpi-bin)" TRUE)
endif()

function(tessera_print_backend_summary)
  message(STATUS "Tessera backends: CPU=ON (always); NULL=ON (always); ${TESSERA_BACKEND_SUMMARY}")
endfunction()
