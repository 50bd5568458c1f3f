// Chat templates: each one's exact rendering, which one applies (a name, the
// file's template, the architecture) and the errors when none does. The
// expected strings are written by hand from the published Jinja templates
// quoted in models/tokenizer_chat.cpp, not taken from Tessera's output.
#include <gtest/gtest.h>

#include <algorithm>

#include "models/tokenizer.h"
#include "models/tokenizer_impl.h"
#include "tests/models/tokenizer_test_util.h"

namespace tessera::models {
namespace {

using Ids = std::vector<int32_t>;

// A byte-level vocabulary (GPT-2 byte symbols, no merges beyond one) with
// the chat markers of all three families as control tokens.
TokenizerVocab chat_vocab(const std::string& bos_text, const std::string& architecture,
                          const std::string& chat_template = "") {
  TokenizerVocab v = test::byte_level_vocab();
  v.tokens.push_back("hi");
  v.merges = {"h i"};
  v.token_types.assign(v.tokens.size(), 1);
  for (const char* s : {"<|im_start|>", "<|im_end|>", "<bos>", "<start_of_turn>", "<end_of_turn>",
                        "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}) {
    v.tokens.push_back(s);
    v.token_types.push_back(3);
    if (s == bos_text) v.bos = static_cast<int32_t>(v.tokens.size() - 1);
  }
  v.add_bos = v.bos >= 0;
  v.architecture = architecture;
  v.chat_template = chat_template;
  return v;
}

// Error code and a message holding every part of `parts`.
void expect_error(const Tokenizer& t, const std::vector<ChatMessage>& messages, std::string_view name,
                  tsr_status_code code, const std::vector<std::string>& parts) {
  try {
    t.apply_chat_template(messages, true, name);
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    for (const std::string& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(ChatTemplate, gemma_prefixes_the_system_text_to_the_first_user_turn) {
  auto t = Tokenizer::from_vocab(chat_vocab("<bos>", "gemma3"));  // no template: the architecture's
  // The system text is not trimmed, message contents are; assistant is "model".
  EXPECT_EQ(
      t->apply_chat_template(
          {{"system", "You are brief. "}, {"user", "  Hi\n"}, {"assistant", "Hello!"}, {"user", "2+2?"}},
          true),
      "<bos><start_of_turn>user\nYou are brief. \n\nHi<end_of_turn>\n"
      "<start_of_turn>model\nHello!<end_of_turn>\n"
      "<start_of_turn>user\n2+2?<end_of_turn>\n"
      "<start_of_turn>model\n");
  EXPECT_EQ(t->apply_chat_template({{"user", "Hi"}}, false), "<bos><start_of_turn>user\nHi<end_of_turn>\n");
  // The template raises when roles do not alternate user/assistant.
  expect_error(*t, {{"user", "a"}, {"user", "b"}}, "", TSR_ERR_INVALID_ARGUMENT, {"message 1", "alternate"});
  expect_error(*t, {{"system", "s"}, {"assistant", "a"}}, "", TSR_ERR_INVALID_ARGUMENT, {"'assistant'"});
}

TEST(ChatTemplate, gemma_bos_is_not_doubled_when_encoding) {
  auto t = Tokenizer::from_vocab(chat_vocab("<bos>", "gemma3"));
  const int32_t bos = t->token_id("<bos>");
  const Ids ids = t->encode(t->apply_chat_template({{"user", "hi"}}, true), /*add_bos=*/true, true);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), bos), 1);
  EXPECT_EQ(ids[0], bos);
  EXPECT_EQ(ids[1], t->token_id("<start_of_turn>"));
}

TEST(ChatTemplate, qwen_architectures_use_plain_chatml) {
  for (const char* arch : {"qwen2", "qwen3"}) {
    auto t = Tokenizer::from_vocab(chat_vocab("", arch));
    // Contents are not trimmed in ChatML; no default system turn without a template.
    EXPECT_EQ(t->apply_chat_template({{"system", "S"}, {"user", " Hi "}}, true),
              "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\n Hi <|im_end|>\n<|im_start|>assistant\n")
        << arch;
  }
}

TEST(ChatTemplate, llama3_writes_bos_before_the_first_message_only) {
  auto t = Tokenizer::from_vocab(chat_vocab("<|begin_of_text|>", "llama"));
  EXPECT_EQ(t->apply_chat_template({{"system", " Be brief. "}, {"user", "Hi"}, {"assistant", "Hello"}}, true,
                                   "llama3"),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  // No messages: the loop never runs, so no bos_token.
  EXPECT_EQ(t->apply_chat_template({}, true, "llama3"), "<|start_header_id|>assistant<|end_header_id|>\n\n");
  const int32_t bos = t->token_id("<|begin_of_text|>");
  const Ids ids = t->encode(t->apply_chat_template({{"user", "hi"}}, true, "llama3"), true, true);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), bos), 1);
  EXPECT_EQ(ids[0], bos);
}

const char* kLlama3Template =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + "
    "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% "
    "endif %}";

TEST(ChatTemplate, the_files_template_wins_over_the_architecture) {
  auto t = Tokenizer::from_vocab(chat_vocab("<|begin_of_text|>", "qwen2", kLlama3Template));
  EXPECT_EQ(t->apply_chat_template({{"user", "Hi"}}, false),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
}

TEST(ChatTemplate, a_name_wins_over_the_files_template) {
  const std::string smol =
      "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ "
      "'<|im_start|>system\nYou are SmolLM<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + "
      "'\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}";
  auto t = Tokenizer::from_vocab(chat_vocab("", "llama", smol));
  EXPECT_EQ(t->apply_chat_template({{"user", "Hi"}}, false),
            "<|im_start|>system\nYou are SmolLM<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
  // The named template is the plain published one: no default system turn.
  EXPECT_EQ(t->apply_chat_template({{"user", "Hi"}}, false, "chatml"), "<|im_start|>user\nHi<|im_end|>\n");
  EXPECT_EQ(t->apply_chat_template({{"user", "Hi"}}, false, "gemma"),
            "<start_of_turn>user\nHi<end_of_turn>\n")
      << "no BOS in this vocabulary: bos_token is empty";
}

TEST(ChatTemplate, llama_without_a_template_is_an_error_naming_the_architecture) {
  auto t = Tokenizer::from_vocab(chat_vocab("<|begin_of_text|>", "llama"));
  expect_error(*t, {{"user", "x"}}, "", TSR_ERR_UNSUPPORTED,
               {"no chat template", "tokenizer.chat_template", "'llama'", "chatml, gemma, llama3"});
  t = Tokenizer::from_vocab(chat_vocab("", ""));
  expect_error(*t, {{"user", "x"}}, "", TSR_ERR_UNSUPPORTED, {"architecture ''"});
}

TEST(ChatTemplate, unknown_templates_and_names_are_errors) {
  // Llama 3.1's template opens with a dated system turn that Llama 3's lacks.
  const std::string llama31 =
      "{{- bos_token }}\n{%- if not date_string is defined %}\n    {%- set date_string = \"26 Jul 2024\" "
      "%}\n{%- endif %}\n{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n{{- \"Cutting "
      "Knowledge Date: December 2023\\n\" }}";
  auto t = Tokenizer::from_vocab(chat_vocab("<|begin_of_text|>", "llama", llama31));
  expect_error(
      *t, {{"user", "x"}}, "", TSR_ERR_UNSUPPORTED,
      {"'{{- bos_token }}\\n{%- if not date_string is defined %}\\n    {%'...", "chatml, gemma, llama3"});
  EXPECT_EQ(t->apply_chat_template({{"user", "x"}}, false, "llama3"),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nx<|eot_id|>");
  expect_error(*t, {{"user", "x"}}, "vicuna", TSR_ERR_INVALID_ARGUMENT,
               {"'vicuna'", "not known", "chatml, gemma, llama3"});
  EXPECT_EQ(Tokenizer::chat_template_names(), std::vector<std::string>({"chatml", "gemma", "llama3"}));
}

}  // namespace
}  // namespace tessera::models
