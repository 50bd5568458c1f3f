// llama: SmolLM2, Llama 2 and Llama 3. Pre-norm layers, SwiGLU, no biases.
// llama.cpp's converter permutes the Q/K rows of llama checkpoints so that
// rotated pairs are adjacent: NORMAL RoPE (llama_model_rope_type for
// LLM_ARCH_LLAMA is LLAMA_ROPE_TYPE_NORM). Llama 3.1+ files carry
// rope_freqs.weight, per-pair frequency factors that the loader finds
// (decoder_load.cpp) and the graph passes to rope.
#include "models/arch.h"

namespace tessera::models {

void read_llama(const GgufMeta&, DecoderHParams& hp) { hp.rope_mode = TSR_ROPE_NORMAL; }

}  // namespace tessera::models
