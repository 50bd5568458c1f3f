# Fused attention (dtypes, head dim, heads per workgroup and workgroup size
# are specialization constants). attention_sg combines the invocations'
# slices with subgroup arithmetic (chosen when the device has it).
tessera_vk_kernel(attention attention.comp)
tessera_vk_kernel(attention_sg attention.comp DEFINES SUBGROUP)
# paged_attention: the same source with the pool-row mapping (PAGED).
tessera_vk_kernel(paged_attention attention.comp DEFINES PAGED)
tessera_vk_kernel(paged_attention_sg attention.comp DEFINES PAGED SUBGROUP)
