# Row kernels: rms_norm/layer_norm (one kernel, KU(0) selects), softmax, rope.
# The _sg variants reduce with subgroup arithmetic (chosen when the device has it).
tessera_vk_kernel(norm norm.comp)
tessera_vk_kernel(norm_sg norm.comp DEFINES SUBGROUP)
tessera_vk_kernel(softmax softmax.comp)
tessera_vk_kernel(softmax_sg softmax.comp DEFINES SUBGROUP)
tessera_vk_kernel(rope rope.comp)
