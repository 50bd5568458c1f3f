# argmax over dim 0 (the Vulkan one is listed in kernels_data.cmake with copy).
tessera_cl_kernel(argmax argmax.cl)
