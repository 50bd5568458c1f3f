# Row kernels: rms_norm/layer_norm (one kernel, KU(0) selects), softmax, rope.
tessera_vk_kernel(norm norm.comp)
tessera_vk_kernel(softmax softmax.comp)
tessera_vk_kernel(rope rope.comp)
