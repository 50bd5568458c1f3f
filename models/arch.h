// The architecture files: each reads the keys only its architecture has and
// sets the features its layers use, after decoder_load.cpp has read the keys
// every decoder shares (sizes, head counts, eps, RoPE base and scaling).
#pragma once

#include "models/decoder.h"

namespace tessera::models {

void read_llama(const GgufMeta& m, DecoderHParams& hp);   // arch_llama.cpp: SmolLM2, Llama 2/3
void read_qwen2(const GgufMeta& m, DecoderHParams& hp);   // arch_qwen.cpp
void read_qwen3(const GgufMeta& m, DecoderHParams& hp);   // arch_qwen.cpp
void read_gemma3(const GgufMeta& m, DecoderHParams& hp);  // arch_gemma3.cpp

}  // namespace tessera::models
