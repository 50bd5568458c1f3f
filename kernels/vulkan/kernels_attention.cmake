# Fused attention (dtypes, head dim, heads per workgroup and workgroup size
# are specialization constants). attention_sg combines the invocations'
# slices with subgroup arithmetic (chosen when the device has it).
tessera_vk_kernel(attention attention.comp)
tessera_vk_kernel(attention_sg attention.comp DEFINES SUBGROUP)
