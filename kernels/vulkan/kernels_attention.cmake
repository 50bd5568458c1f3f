# Fused attention (dtypes, head dim, heads per workgroup and workgroup size
# are specialization constants).
tessera_vk_kernel(attention attention.comp)
