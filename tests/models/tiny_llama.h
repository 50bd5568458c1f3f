// A tiny random llama GGUF for the LLM tests, written from the GGUF
// specification: 2 layers, grouped-query attention, a byte-level BPE
// vocabulary (the 256 GPT-2 byte symbols, two merges, ChatML specials), a
// q8_0 token embedding tied to the output, one f16 matrix and f32 elsewhere.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tessera/kit/half.h"

namespace tessera::test {

struct TinyLlamaConfig {
  int64_t n_embd = 64, n_head = 4, n_head_kv = 2, n_ff = 96, n_layer = 2, n_ctx_train = 512;
  uint32_t seed = 7;
  std::set<std::string> skip_tensors;  // leave these out (error tests)
  std::string bad_type_tensor;         // write this one as q8_1, which Tessera does not compute with
  // tokenizer.chat_template; empty: the key is left out.
  std::string chat_template =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
      "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% "
      "endif %}";
};

namespace tiny_detail {

// f16 conversion is core's (exact, round to nearest even).
using tsr::f16_to_f32;
using tsr::f32_to_f16;

struct Buf {
  std::vector<uint8_t> b;
  template <typename T>
  void put(T v) {
    const size_t n = b.size();
    b.resize(n + sizeof(T));
    std::memcpy(b.data() + n, &v, sizeof(T));
  }
  void str(const std::string& s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
  }
};

// The GPT-2 byte-to-symbol table as UTF-8 strings.
inline std::vector<std::string> byte_symbols() {
  std::vector<std::string> out(256);
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    const uint32_t cp = printable ? static_cast<uint32_t>(b) : 256u + static_cast<uint32_t>(n++);
    std::string s;
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else {
      s += static_cast<char>(0xc0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    }
    out[b] = s;
  }
  return out;
}

}  // namespace tiny_detail

// Writes the model to path; returns false if the file cannot be written.
inline bool write_tiny_llama(const std::string& path, const TinyLlamaConfig& c = {}) {
  using namespace tiny_detail;
  std::mt19937 rng(c.seed);
  Buf kv;
  uint64_t n_kv = 0;
  auto key = [&](const std::string& k, uint32_t type) {
    kv.str(k);
    kv.put<uint32_t>(type);
    ++n_kv;
  };
  auto u32 = [&](const std::string& k, uint32_t v) {
    key(k, 4);
    kv.put<uint32_t>(v);
  };
  auto f32 = [&](const std::string& k, float v) {
    key(k, 6);
    kv.put<float>(v);
  };
  auto str = [&](const std::string& k, const std::string& v) {
    key(k, 8);
    kv.str(v);
  };
  auto strs = [&](const std::string& k, const std::vector<std::string>& v) {
    key(k, 9);
    kv.put<uint32_t>(8);
    kv.put<uint64_t>(v.size());
    for (const auto& s : v) kv.str(s);
  };
  std::vector<std::string> tokens = byte_symbols();
  tokens.push_back("he");
  tokens.push_back("ll");
  const std::vector<std::string> specials = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  tokens.insert(tokens.end(), specials.begin(), specials.end());
  const int64_t n_vocab = static_cast<int64_t>(tokens.size());
  std::vector<int32_t> types(tokens.size(), 1);
  for (size_t i = tokens.size() - specials.size(); i < tokens.size(); ++i) types[i] = 3;

  str("general.architecture", "llama");
  str("general.name", "tiny-llama-test");
  u32("llama.block_count", static_cast<uint32_t>(c.n_layer));
  u32("llama.context_length", static_cast<uint32_t>(c.n_ctx_train));
  u32("llama.embedding_length", static_cast<uint32_t>(c.n_embd));
  u32("llama.feed_forward_length", static_cast<uint32_t>(c.n_ff));
  u32("llama.attention.head_count", static_cast<uint32_t>(c.n_head));
  u32("llama.attention.head_count_kv", static_cast<uint32_t>(c.n_head_kv));
  f32("llama.rope.freq_base", 10000.0f);
  f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  u32("llama.rope.dimension_count", static_cast<uint32_t>(c.n_embd / c.n_head));
  str("tokenizer.ggml.model", "gpt2");
  str("tokenizer.ggml.pre", "smollm");
  strs("tokenizer.ggml.tokens", tokens);
  key("tokenizer.ggml.token_type", 9);
  kv.put<uint32_t>(5);
  kv.put<uint64_t>(types.size());
  for (int32_t t : types) kv.put<int32_t>(t);
  strs("tokenizer.ggml.merges", {"h e", "l l"});
  const uint32_t eot = static_cast<uint32_t>(n_vocab - 3);
  u32("tokenizer.ggml.bos_token_id", eot);
  u32("tokenizer.ggml.eos_token_id", eot + 2);
  if (!c.chat_template.empty()) str("tokenizer.chat_template", c.chat_template);

  struct T {
    std::string name;
    uint32_t type;
    std::vector<uint64_t> dims;
    std::vector<uint8_t> data;
  };
  std::vector<T> tensors;
  auto add = [&](const std::string& name, std::vector<uint64_t> dims, uint32_t type, float stddev,
                 float mean) {
    if (c.skip_tensors.count(name)) return;
    uint64_t n = 1;
    for (uint64_t d : dims) n *= d;
    std::normal_distribution<float> dist(mean, stddev);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    if (name == c.bad_type_tensor) type = 9;  // q8_1
    T t{name, type, std::move(dims), {}};
    Buf b;
    if (type == 0) {
      for (float x : v) b.put<float>(x);
    } else if (type == 1) {
      for (float x : v) b.put<uint16_t>(f32_to_f16(x));
    } else if (type == 8) {  // q8_0: f16 d, 32 x int8
      for (uint64_t i = 0; i < n; i += 32) {
        float amax = 0.0f;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[i + j]));
        const uint16_t dh = f32_to_f16(amax / 127.0f);
        const float d = f16_to_f32(dh);
        b.put<uint16_t>(dh);
        for (int j = 0; j < 32; ++j)
          b.put<int8_t>(static_cast<int8_t>(d == 0.0f ? 0 : std::lround(v[i + j] / d)));
      }
    } else {  // q8_1 bytes (36 per 32): content irrelevant, it is refused
      b.b.assign(n / 32 * 36, 0);
    }
    t.data = std::move(b.b);
    tensors.push_back(std::move(t));
  };
  const int64_t E = c.n_embd, hd = c.n_embd / c.n_head, kvd = hd * c.n_head_kv;
  const float s_e = 1.0f / std::sqrt(static_cast<float>(E)),
              s_f = 1.0f / std::sqrt(static_cast<float>(c.n_ff));
  add("token_embd.weight", {static_cast<uint64_t>(E), static_cast<uint64_t>(n_vocab)}, 8, 0.05f, 0.0f);
  add("output_norm.weight", {static_cast<uint64_t>(E)}, 0, 0.1f, 1.0f);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const auto e = static_cast<uint64_t>(E), k = static_cast<uint64_t>(kvd),
               f = static_cast<uint64_t>(c.n_ff);
    add(p + "attn_norm.weight", {e}, 0, 0.1f, 1.0f);
    add(p + "attn_q.weight", {e, e}, l == 0 ? 1 : 0, s_e, 0.0f);
    add(p + "attn_k.weight", {e, k}, 0, s_e, 0.0f);
    add(p + "attn_v.weight", {e, k}, 0, s_e, 0.0f);
    add(p + "attn_output.weight", {e, e}, 0, s_e, 0.0f);
    add(p + "ffn_norm.weight", {e}, 0, 0.1f, 1.0f);
    add(p + "ffn_gate.weight", {e, f}, 0, s_e, 0.0f);
    add(p + "ffn_up.weight", {e, f}, 0, s_e, 0.0f);
    add(p + "ffn_down.weight", {f, e}, 0, s_f, 0.0f);
  }

  const uint64_t align = 32;
  Buf out;
  out.b = {'G', 'G', 'U', 'F'};
  out.put<uint32_t>(3);
  out.put<uint64_t>(tensors.size());
  out.put<uint64_t>(n_kv);
  out.b.insert(out.b.end(), kv.b.begin(), kv.b.end());
  uint64_t offset = 0;
  std::vector<uint64_t> offsets;
  for (const T& t : tensors) {
    out.str(t.name);
    out.put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) out.put<uint64_t>(d);
    out.put<uint32_t>(t.type);
    out.put<uint64_t>(offset);
    offsets.push_back(offset);
    offset += (t.data.size() + align - 1) / align * align;
  }
  out.b.resize((out.b.size() + align - 1) / align * align, 0);
  const size_t data_start = out.b.size();
  out.b.resize(data_start + offset, 0);
  for (size_t i = 0; i < tensors.size(); ++i)
    std::memcpy(out.b.data() + data_start + offsets[i], tensors[i].data.data(), tensors[i].data.size());

  FILE* fp = std::fopen(path.c_str(), "wb");
  if (!fp) return false;
  const bool ok = std::fwrite(out.b.data(), 1, out.b.size(), fp) == out.b.size();
  return std::fclose(fp) == 0 && ok;
}

}  // namespace tessera::test
