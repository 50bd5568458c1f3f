# Element-wise ops (kit/src/shader_elementwise.cpp): one kernel, the op in KU.
tessera_cl_kernel(elementwise elementwise.cl)
