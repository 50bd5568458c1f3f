// libFuzzer target: Tokenizer::apply_chat_template over a vocabulary whose
// tokenizer.chat_template, general.architecture and BOS come from the input,
// with messages, add_generation_prompt and the template name from the input
// too. Input (fuzz_input.h):
//
//   u8    vocabulary: even = qwen2 byte-level BPE, odd = SentencePiece (fuzz_vocabs.h)
//   u8    BOS: < 0x40 the vocabulary's, < 0x80 none, 0xff one past the last
//         token (refused by from_vocab), else token 0x80..0xfe - 0x80
//   u8    bit 0: add_generation_prompt; bits 1-2: the name: 0 or 3 none (the
//         template or the architecture decides), 1 chat_template_names()[u8 % n],
//         2 any text (str8)
//   str16 tokenizer.chat_template; str8 general.architecture
//   u8    message count (mod 17); each: u8 role (< 0xf0: system, user,
//         assistant, tool by value mod 4; else str8), str16 content
//
// Only tessera::Error may be thrown. A rendered conversation must end with
// its generation prompt when one was asked for, hold every message's text
// when rendered as ChatML (the one template that copies content untrimmed),
// and encode (parse_special) without error.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "models/tokenizer.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_vocabs.h"

namespace {

using tessera::Error;
using tessera::models::ChatMessage;
using tessera::models::Tokenizer;
using tessera::models::TokenizerVocab;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "ERROR: fuzz_chat_template: %s\n", what.c_str());
  std::abort();
}

bool ends_with(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

void check_rendered(const Tokenizer& tok, const std::string& out, const std::vector<ChatMessage>& messages,
                    bool add_generation_prompt, const std::string& name) {
  if (add_generation_prompt && !ends_with(out, "<|im_start|>assistant\n") &&
      !ends_with(out, "<start_of_turn>model\n") &&
      !ends_with(out, "<|start_header_id|>assistant<|end_header_id|>\n\n"))
    fail("add_generation_prompt, but the output does not end with a generation prompt");
  if (name == "chatml")
    for (const ChatMessage& m : messages)
      if (out.find(m.content) == std::string::npos)
        fail("a message's content is missing from the ChatML output");
  for (int32_t id : tok.encode(out, true, true))
    if (id < 0 || id >= tok.n_vocab()) fail("encode of the rendered text gave id " + std::to_string(id));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tessera_fuzz::FuzzInput in(data, size);
  TokenizerVocab v = in.u8() % 2 == 0 ? tessera_fuzz::qwen2_vocab() : tessera_fuzz::spm_vocab();
  const uint8_t bos = in.u8();
  if (bos == 0xff)
    v.bos = static_cast<int32_t>(v.tokens.size());
  else if (bos >= 0x80)
    v.bos = bos - 0x80;
  else if (bos >= 0x40)
    v.bos = -1;
  const uint8_t flags = in.u8();
  const bool add_generation_prompt = flags & 1;
  std::string name;
  switch (flags >> 1 & 3) {
    case 1: {
      const auto& names = Tokenizer::chat_template_names();
      name = names[in.u8() % names.size()];
      break;
    }
    case 2:
      name = in.str8();
      break;
    default:
      break;
  }
  v.chat_template = in.str16();
  v.architecture = in.str8();
  std::vector<ChatMessage> messages(in.u8() % 17);
  for (ChatMessage& m : messages) {
    static const char* const kRoles[] = {"system", "user", "assistant", "tool"};
    const uint8_t r = in.u8();
    m.role = r < 0xf0 ? std::string(kRoles[r % 4]) : std::string(in.str8());
    m.content = in.str16();
  }

  try {
    const auto tok = Tokenizer::from_vocab(std::move(v));
    const std::string out = tok->apply_chat_template(messages, add_generation_prompt, name);
    check_rendered(*tok, out, messages, add_generation_prompt, name);
  } catch (const Error& e) {
    if (e.code() != TSR_ERR_INVALID_ARGUMENT && e.code() != TSR_ERR_UNSUPPORTED)
      fail(std::string("unexpected error code: ") + e.what());
  }
  return 0;
}
