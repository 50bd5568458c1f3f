tessera_vk_kernel(copy copy.comp)
tessera_vk_kernel(argmax argmax.comp)
