// The op-contract checks that device backends share when they answer
// supports_op: what a node must be for kernels that take any strides and
// f32/f16/bf16 floats to compute it exactly as tsr_op documents (arity,
// dtype sets, shapes, broadcasting, parameter ranges, block contiguity).
// Each returns false with a short reason ("q4_1 weights"). A backend checks
// its own limits (binding sizes, grid and shared-memory limits) after these;
// the CPU backend, which has its own dtype paths, does not use them.
#pragma once

#include <string>

#include "tessera/tessera_backend.h"

namespace tsr::ops {

bool is_float_dtype(int32_t dt);  // f32, f16, bf16
bool is_block_dtype(int32_t dt);  // q8_0, q4_0, q4_1
// The GGUF block formats of model weights: q8_0, q4_0, q4_1, q5_0, q5_1,
// q2_K..q6_K (not q8_K, which only holds activations).
bool is_weight_block_dtype(int32_t dt);

// Which block formats a backend has kernels for: the checks below that read
// or write blocks take it (default is_block_dtype), so a backend that adds
// q5_0 or the k-quants passes its own and the contract checks stay shared.
using BlockDtypes = bool (*)(int32_t dt);

// add, sub, mul, div, scale, silu, gelu, softcap, swiglu, geglu
bool elementwise_supported(const tsr_node_desc& n, std::string& reason);
// rms_norm, layer_norm
bool norm_supported(const tsr_node_desc& n, std::string& reason);
bool softmax_supported(const tsr_node_desc& n, std::string& reason);
// freq_factors: the backend's kernel reads the optional input 2 (a node
// with it is refused otherwise).
bool rope_supported(const tsr_node_desc& n, std::string& reason, bool freq_factors = false);
// head dims 1..max_head_dim; the kv length's step value index below
// n_step_values; sliding_window: the kernel honours ip[2] (a node with a
// window is refused otherwise).
bool attention_supported(const tsr_node_desc& n, int64_t max_head_dim, int64_t n_step_values,
                         std::string& reason, bool sliding_window = false);
// q, k, v and the output as attention's (head dims 1..max_head_dim), pos and
// seq i32 [n_tokens], block_table i32 [max_blocks, n_rows], the block size
// ip[0] dividing the pool's rows, ip[1] 0, a window ip[2] >= 0. The integer
// inputs' values are the kernel's to guard (they live in device memory).
bool paged_attention_supported(const tsr_node_desc& n, int64_t max_head_dim, std::string& reason);
// Weights f32/f16/bf16 or blocks (whole and contiguous in dim 0), x
// f32/f16/bf16, every stride a multiple of its element (block: 2 bytes, the
// kernels read blocks as 16-bit words).
bool matmul_supported(const tsr_node_desc& n, std::string& reason, BlockDtypes blocks = is_block_dtype);
bool get_rows_supported(const tsr_node_desc& n, std::string& reason, BlockDtypes blocks = is_block_dtype);
bool set_rows_supported(const tsr_node_desc& n, std::string& reason, BlockDtypes blocks = is_block_dtype);
bool cpy_supported(const tsr_node_desc& n, std::string& reason, BlockDtypes blocks = is_block_dtype);
bool concat_supported(const tsr_node_desc& n, std::string& reason);
bool argmax_supported(const tsr_node_desc& n, std::string& reason);

}  // namespace tsr::ops
