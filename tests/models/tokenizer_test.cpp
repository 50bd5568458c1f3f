// Tokenizer behaviour on small hand-built vocabularies: BPE merge order,
// pre-tokenization, special tokens, SentencePiece scores and byte fallback,
// chat templates, and the errors for malformed tokenizer metadata (through a
// GGUF image built in memory). The SmolLM2 oracle is in tokenizer_oracle_test.
#include "models/tokenizer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

#include "models/tokenizer_impl.h"
#include "tests/models/tokenizer_test_util.h"

namespace tessera::models {
namespace {

using Ids = std::vector<int32_t>;

// A byte-level vocabulary: the 256 byte symbols (GPT-2 spelling), then extra
// tokens, then special ones (control type).
TokenizerVocab bpe_vocab(const std::vector<std::string>& merges,
                         const std::vector<std::string>& specials = {}) {
  TokenizerVocab v = test::byte_level_vocab();
  for (const std::string& m : merges) {
    const size_t sp = m.find(' ');
    v.tokens.push_back(m.substr(0, sp) + m.substr(sp + 1));
  }
  v.merges = merges;
  v.token_types.assign(v.tokens.size(), 1);
  for (const std::string& s : specials) {
    v.tokens.push_back(s);
    v.token_types.push_back(3);
  }
  return v;
}

std::vector<std::string> pieces(const Tokenizer& t, const Ids& ids) {
  std::vector<std::string> out;
  for (int32_t id : ids) out.push_back(t.token_to_piece(id));
  return out;
}

std::vector<std::string> pre_tokens(std::string_view text, detail::PreTokenizer kind) {
  std::vector<std::string_view> words;
  detail::pre_tokenize(text, kind, words);
  return {words.begin(), words.end()};
}

using S = std::vector<std::string>;

TEST(Tokenizer, bpe_applies_merges_by_rank_not_position) {
  // "b c" ranks before "a b": abc -> a + bc -> abc.
  auto t = Tokenizer::from_vocab(bpe_vocab({"b c", "a bc", "a b"}));
  EXPECT_EQ(pieces(*t, t->encode("abc", false, false)), S({"abc"}));
  // With "a b" first the result is ab + c (no "ab c" merge).
  t = Tokenizer::from_vocab(bpe_vocab({"a b", "b c", "a bc"}));
  EXPECT_EQ(pieces(*t, t->encode("abc", false, false)), S({"ab", "c"}));
}

TEST(Tokenizer, bpe_merges_equal_ranks_leftmost_first) {
  auto t = Tokenizer::from_vocab(bpe_vocab({"a a"}));
  EXPECT_EQ(pieces(*t, t->encode("aaa", false, false)), S({"aa", "a"}));
  EXPECT_EQ(pieces(*t, t->encode("aaaaa", false, false)), S({"aa", "aa", "a"}));
}

TEST(Tokenizer, bpe_decodes_every_byte_back) {
  auto t = Tokenizer::from_vocab(bpe_vocab({"h i"}));
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);  // not valid UTF-8: still round trips
  EXPECT_EQ(t->decode(t->encode(all, false, false)), all);
  EXPECT_EQ(t->encode(" ", false, false), Ids({t->token_id("\xC4\xA0")}));  // space is U+0120
}

TEST(Tokenizer, gpt2_pre_tokenizer_follows_the_regex) {
  using detail::PreTokenizer;
  EXPECT_EQ(pre_tokens("Hello world's 42 apples!!", PreTokenizer::kGpt2),
            S({"Hello", " world", "'s", " 42", " apples", "!!"}));
  // \s+(?!\S) leaves the last space to prefix the next word; at the end it takes all.
  EXPECT_EQ(pre_tokens("a   b  ", PreTokenizer::kGpt2), S({"a", "  ", " b", "  "}));
  EXPECT_EQ(pre_tokens("x\n\ny", PreTokenizer::kGpt2), S({"x", "\n", "\n", "y"}));
  EXPECT_EQ(pre_tokens("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC", PreTokenizer::kGpt2),
            S({"caf\xC3\xA9", " \xE6\x97\xA5\xE6\x9C\xAC"}));
  // smollm isolates every digit first; the space before one stands alone.
  EXPECT_EQ(pre_tokens("ab 123x", PreTokenizer::kGpt2Digits), S({"ab", " ", "1", "2", "3", "x"}));
}

TEST(Tokenizer, llama3_and_qwen2_pre_tokenizers_group_digits_and_newlines) {
  using detail::PreTokenizer;
  EXPECT_EQ(pre_tokens("12345 (x) I'M\n\n  y", PreTokenizer::kLlama3),
            S({"123", "45", " (", "x", ")", " I", "'M", "\n\n", " ", " y"}));
  EXPECT_EQ(pre_tokens("123", PreTokenizer::kQwen2), S({"1", "2", "3"}));
  EXPECT_THROW(detail::pre_tokenizer_for("no-such-pre"), Error);
}

TEST(Tokenizer, special_tokens_are_matched_verbatim_only_when_parsing_special) {
  auto t = Tokenizer::from_vocab(bpe_vocab({"h i"}, {"<|im_start|>", "<|im_start|>x"}));
  const int32_t start = t->token_id("<|im_start|>"), start_x = t->token_id("<|im_start|>x");
  const int32_t hi = t->token_id("hi");
  EXPECT_EQ(t->encode("hi<|im_start|>hi", false, true), Ids({hi, start, hi}));
  EXPECT_EQ(t->encode("<|im_start|>xhi", false, true), Ids({start_x, hi}));  // the longest match wins
  const Ids plain = t->encode("<|im_start|>", false, false);
  EXPECT_EQ(plain.size(), 12u);  // one byte symbol each
  EXPECT_EQ(t->decode(plain), "<|im_start|>");
  EXPECT_EQ(t->decode({hi, start, hi}), "hi<|im_start|>hi");
}

TEST(Tokenizer, user_defined_tokens_are_always_matched) {
  TokenizerVocab v = bpe_vocab({"h i"});
  v.tokens.push_back("<tool>");
  v.token_types.push_back(4);
  auto t = Tokenizer::from_vocab(std::move(v));
  EXPECT_EQ(t->encode("hi<tool>", false, false), Ids({t->token_id("hi"), t->token_id("<tool>")}));
}

TEST(Tokenizer, bos_is_added_only_when_the_model_asks) {
  TokenizerVocab v = bpe_vocab({"h i"}, {"<s>", "</s>"});
  v.bos = v.tokens.size() - 2;
  v.eos = v.tokens.size() - 1;
  v.add_bos = true;
  auto t = Tokenizer::from_vocab(v);
  EXPECT_EQ(t->encode("hi", true, false), Ids({v.bos, t->token_id("hi")}));
  EXPECT_EQ(t->encode("hi", false, false), Ids({t->token_id("hi")}));
  v.add_bos = false;
  t = Tokenizer::from_vocab(v);
  EXPECT_EQ(t->encode("hi", true, false), Ids({t->token_id("hi")}));
  EXPECT_TRUE(t->is_end_of_generation(v.eos));
  EXPECT_FALSE(t->is_end_of_generation(v.bos));
}

// SentencePiece: "▁" pieces with scores, and <0xNN> tokens for the rest.
TokenizerVocab spm_vocab() {
  TokenizerVocab v;
  v.model = "llama";
  const std::pair<const char*, float> pieces[] = {{"<unk>", 0},
                                                  {"<s>", 0},
                                                  {"</s>", 0},
                                                  {"\xE2\x96\x81", -1},
                                                  {"h", -2},
                                                  {"i", -2},
                                                  {"e", -2},
                                                  {"l", -2},
                                                  {"o", -2},
                                                  {"\xE2\x96\x81h", -3},
                                                  {"he", -1.5},
                                                  {"ll", -1},
                                                  {"hell", -0.5},
                                                  {"hello", -0.2},
                                                  {"\xE2\x96\x81hello", -0.1},
                                                  {"hi", -4},
                                                  {"lo", -1.2}};
  for (const auto& [text, score] : pieces) {
    v.tokens.push_back(text);
    v.scores.push_back(score);
    v.token_types.push_back(v.tokens.size() <= 3 ? (v.tokens.size() == 1 ? 2 : 3) : 1);
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    v.tokens.push_back(name);
    v.scores.push_back(0);
    v.token_types.push_back(6);
  }
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  v.add_bos = true;
  v.add_space_prefix = true;
  return v;
}

TEST(Tokenizer, spm_merges_highest_score_first_and_falls_back_to_bytes) {
  auto t = Tokenizer::from_vocab(spm_vocab());
  EXPECT_EQ(pieces(*t, t->encode("hello", false, false)), S({" hello"}));
  // "☃" (E2 98 83) is in no piece: three byte tokens.
  const Ids ids = t->encode("hi \xE2\x98\x83", true, false);
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(pieces(*t, Ids(ids.begin() + 1, ids.end())), S({" h", "i", " ", "\xE2", "\x98", "\x83"}));
  EXPECT_EQ(t->decode(t->encode("hello hi \xE2\x98\x83!", false, false)), "hello hi \xE2\x98\x83!");
  EXPECT_EQ(t->decode(Ids(ids.begin() + 1, ids.end())), "hi \xE2\x98\x83");
}

TEST(Tokenizer, spm_adds_the_space_prefix_after_special_tokens) {
  auto t = Tokenizer::from_vocab(spm_vocab());
  EXPECT_EQ(pieces(*t, t->encode("</s>hello", false, true)), S({"</s>", " hello"}));
}

TEST(Tokenizer, spm_matches_user_defined_space_runs_after_escaping_spaces) {
  // Gemma's vocabulary has runs of spaces as user-defined tokens, written
  // with plain spaces by the GGUF converter; SentencePiece matches them in
  // the text whose spaces it has spelled "▁", literal "▁" included.
  TokenizerVocab v = spm_vocab();
  v.add_space_prefix = false;
  v.tokens.push_back("  ");
  v.scores.push_back(-1000);
  v.token_types.push_back(4);
  auto t = Tokenizer::from_vocab(v);
  const int32_t two = t->token_id("  ");
  EXPECT_EQ(t->encode("h  i", false, false), Ids({t->token_id("h"), two, t->token_id("i")}));
  EXPECT_EQ(t->encode("h\xE2\x96\x81 i", false, false), Ids({t->token_id("h"), two, t->token_id("i")}));
  EXPECT_EQ(pieces(*t, t->encode("hi h", false, false)), S({"hi", " h"}));  // no dummy prefix
  EXPECT_EQ(t->decode(t->encode("  hello  ", false, false)), "  hello  ");
}

TEST(Tokenizer, bos_written_in_the_text_is_not_added_twice) {
  auto t = Tokenizer::from_vocab(spm_vocab());  // add_bos: BOS is <s> (1)
  EXPECT_EQ(t->encode("<s>hello", true, true), Ids({1, t->token_id("\xE2\x96\x81hello")}));
  EXPECT_EQ(t->encode("hello<s>", true, true).front(), 1);
  EXPECT_EQ(t->encode("hello<s>", true, true).size(), 3u);  // BOS, hello, <s>
  // Not parsed as a special token, "<s>" is text and BOS is still added.
  EXPECT_EQ(t->encode("<s>", true, false).front(), 1);
  EXPECT_GT(t->encode("<s>", true, false).size(), 1u);
}

const char* kSmolTemplate =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ "
    "'<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' "
    "}}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + "
    "'\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

TEST(Tokenizer, chatml_template_renders_turns_and_the_default_system_message) {
  TokenizerVocab v = bpe_vocab({"h i"});
  v.chat_template = kSmolTemplate;
  auto t = Tokenizer::from_vocab(v);
  EXPECT_EQ(
      t->apply_chat_template({{"user", "hi"}}, true),
      "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
      "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(t->apply_chat_template({{"system", "S"}, {"user", "U"}}, false),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n");
  // Plain ChatML: no default system message.
  v.chat_template =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
      "'<|im_end|>\\n'}}{% endfor %}";
  t = Tokenizer::from_vocab(v);
  EXPECT_EQ(t->apply_chat_template({{"user", "U"}}, true),
            "<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n");
}

TEST(Tokenizer, unknown_chat_template_is_refused_by_name) {
  TokenizerVocab v = bpe_vocab({"h i"});
  v.chat_template = "{{ bos_token }}{% for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}";
  auto t = Tokenizer::from_vocab(v);
  try {
    t->apply_chat_template({{"user", "x"}}, true);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), TSR_ERR_UNSUPPORTED);
    EXPECT_NE(std::string(e.what()).find("{{ bos_token }}{% for m in messages %}[INST]"), std::string::npos)
        << e.what();
  }
}

// Error code and a message holding every part of `parts`.
void expect_invalid(TokenizerVocab v, std::vector<std::string> parts) {
  try {
    Tokenizer::from_vocab(std::move(v));
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), TSR_ERR_INVALID_ARGUMENT) << e.what();
    for (const std::string& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(Tokenizer, malformed_vocabularies_are_rejected_naming_key_and_values) {
  TokenizerVocab v = bpe_vocab({"h i"});
  v.token_types.pop_back();
  expect_invalid(v, {"tokenizer.ggml.token_type", "256", "257"});
  v = spm_vocab();
  v.scores.push_back(0);
  expect_invalid(v, {"tokenizer.ggml.scores", std::to_string(v.scores.size())});
  expect_invalid(bpe_vocab({"hi"}), {"tokenizer.ggml.merges[0]", "'hi'"});
  expect_invalid(bpe_vocab({"h  i"}), {"tokenizer.ggml.merges[0]"});
  v = bpe_vocab({"h i"});
  v.merges.push_back("h zz");
  expect_invalid(v, {"tokenizer.ggml.merges[1]", "'zz'"});
  v = bpe_vocab({"h i"});
  v.model = "wordpiece";
  expect_invalid(v, {"tokenizer.ggml.model", "'wordpiece'"});
  v = bpe_vocab({"h i"});
  v.eos = 5000;
  expect_invalid(v, {"tokenizer.ggml.eos_token_id", "5000"});
  v.tokens.clear();
  expect_invalid(v, {"tokenizer.ggml.tokens"});
}

// A GGUF v3 image with no tensors and the given metadata, written from the
// GGUF specification.
class GgufImage {
 public:
  void string(const std::string& key, const std::string& v) {
    head(key, 8);
    str(v);
  }
  void u32(const std::string& key, uint32_t v) {
    head(key, 4);
    put(v);
  }
  void strings(const std::string& key, const std::vector<std::string>& v) {
    head(key, 9);
    put<uint32_t>(8);
    put<uint64_t>(v.size());
    for (const std::string& s : v) str(s);
  }
  void ints(const std::string& key, const std::vector<int32_t>& v) {
    head(key, 9);
    put<uint32_t>(5);
    put<uint64_t>(v.size());
    for (int32_t x : v) put(x);
  }
  void floats(const std::string& key, const std::vector<float>& v) {
    head(key, 9);
    put<uint32_t>(6);
    put<uint64_t>(v.size());
    for (float x : v) put(x);
  }
  // Opens the image; the caller closes the handle.
  tsr_gguf* open() {
    std::vector<uint8_t> header;
    const auto append = [&](const void* p, size_t n) {
      header.insert(header.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n);
    };
    const uint32_t magic_version[] = {0x46554747u, 3};  // "GGUF", v3
    const uint64_t counts[] = {0, n_kv_};
    append(magic_version, sizeof magic_version);
    append(counts, sizeof counts);
    image_ = header;
    image_.insert(image_.end(), kv_.begin(), kv_.end());
    tsr_gguf* f = nullptr;
    EXPECT_EQ(tsr_gguf_open_memory(image_.data(), image_.size(), "test.gguf", &f), TSR_OK)
        << tsr_last_error();
    return f;
  }

 private:
  template <typename T>
  void put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    kv_.insert(kv_.end(), p, p + sizeof v);
  }
  void str(const std::string& s) {
    put<uint64_t>(s.size());
    kv_.insert(kv_.end(), s.begin(), s.end());
  }
  void head(const std::string& key, uint32_t type) {
    ++n_kv_;
    str(key);
    put(type);
  }
  std::vector<uint8_t> kv_, image_;
  uint64_t n_kv_ = 0;
};

TEST(Tokenizer, reads_the_vocabulary_from_gguf_metadata) {
  GgufImage g;
  g.string("tokenizer.ggml.model", "llama");
  g.strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "\xE2\x96\x81hi", "\xE2\x96\x81", "h", "i", "hi"});
  g.floats("tokenizer.ggml.scores", {0, 0, -1, -2, -3, -3, -1.5f});
  g.ints("tokenizer.ggml.token_type", {2, 3, 1, 1, 1, 1, 1});
  g.u32("tokenizer.ggml.bos_token_id", 1);
  g.string("tokenizer.chat_template", "<|im_start|>");
  g.string("general.architecture", "gemma3");
  tsr_gguf* f = g.open();
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(Tokenizer::read_vocab(f).architecture, "gemma3");  // picks a chat template when there is none
  auto t = Tokenizer::from_gguf(f);
  tsr_gguf_close(f);
  EXPECT_EQ(t->bos(), 1);
  EXPECT_EQ(t->eot(), -1);
  EXPECT_EQ(t->encode("hi", true, false), Ids({1, 2}));  // add_bos_token defaults to true for llama
  EXPECT_EQ(t->decode({1, 2}), "<s>hi");
}

TEST(Tokenizer, gguf_without_tokens_or_with_mismatched_arrays_is_rejected) {
  GgufImage g;
  g.string("tokenizer.ggml.model", "gpt2");
  tsr_gguf* f = g.open();
  ASSERT_NE(f, nullptr);
  try {
    Tokenizer::from_gguf(f);
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), TSR_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.tokens is missing"), std::string::npos) << e.what();
  }
  tsr_gguf_close(f);

  GgufImage h;
  h.string("tokenizer.ggml.model", "llama");
  h.strings("tokenizer.ggml.tokens", {"a", "b"});
  h.floats("tokenizer.ggml.scores", {0, 0, 0});
  f = h.open();
  ASSERT_NE(f, nullptr);
  try {
    Tokenizer::from_gguf(f);
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), TSR_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.scores has 3 entries, tokenizer.ggml.tokens 2"),
              std::string::npos)
        << e.what();
  }
  tsr_gguf_close(f);
}

TEST(Tokenizer, long_words_encode_in_bounded_time) {
  auto t = Tokenizer::from_vocab(bpe_vocab({"a a", "aa aa", "aaaa aaaa"}));
  const std::string word(1 << 20, 'a');  // one 1 MiB pre-token
  const auto t0 = std::chrono::steady_clock::now();
  const Ids ids = t->encode(word, false, false);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(ids.size(), word.size() / 8);
  EXPECT_LT(s, 5.0);
}

}  // namespace
}  // namespace tessera::models
