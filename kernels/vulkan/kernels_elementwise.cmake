tessera_vk_kernel(elementwise elementwise.comp)
