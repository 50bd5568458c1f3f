# Fused attention, one variant per kv dtype (the kv loads are the inner loops).
tessera_vk_kernel(attention_kv_f32 attention.comp)
tessera_vk_kernel(attention_kv_f16 attention.comp DEFINES KV_F16)
