# Row kernels: rms_norm/layer_norm (one kernel, KU(0) selects), softmax, rope.
# norm and softmax share the workgroup reductions of reduce.cl (a PRELUDE:
# inserted after blocks.cl). Only the shared-memory reductions are ported:
# the Vulkan _sg variants use subgroup arithmetic, which OpenCL 1.2 lacks
# (the host reports no subgroups, so the encoders never ask for them).
tessera_cl_kernel(norm norm.cl PRELUDE reduce.cl)
tessera_cl_kernel(softmax softmax.cl PRELUDE reduce.cl)
tessera_cl_kernel(rope rope.cl)
