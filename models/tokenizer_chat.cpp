// Chat templates. A GGUF carries its template as Jinja source
// (tokenizer.chat_template); rather than interpret Jinja, the families below
// are recognised by their marker tokens and rendered by hand, reproducing
// their published templates' output exactly (each renderer quotes the
// template it follows). Which one applies is never guessed: a name the caller
// gives, else the file's template when it is one of these, else the
// architecture's when the architecture alone determines it; anything else is
// an error that names what was found.
#include <algorithm>
#include <optional>

#include "models/tokenizer_impl.h"

namespace tessera::models {
namespace {

enum class ChatKind { kChatML, kGemma, kLlama3 };

struct ChatFormat {
  ChatKind kind;
  std::string default_system;  // ChatML: the system turn added when the first message is not one
};

// Index = ChatKind.
const std::vector<std::string> kNames = {"chatml", "gemma", "llama3"};

std::string known_names() {
  std::string out;
  for (const std::string& n : kNames) out += (out.empty() ? "" : ", ") + n;
  return out;
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// Python's str.isspace(), which Jinja's trim filter (str.strip) uses.
bool is_python_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
         cp == 0x205f || cp == 0x3000;
}

std::string trim(std::string_view s) {
  const std::vector<detail::Utf8Char> chars = detail::utf8_chars(s);
  size_t b = 0, e = chars.size();
  while (b < e && is_python_space(chars[b].cp)) ++b;
  while (e > b && is_python_space(chars[e - 1].cp)) --e;
  if (b == e) return "";
  return std::string(s.substr(chars[b].offset, chars[e - 1].offset + chars[e - 1].len - chars[b].offset));
}

// The default system message of a ChatML template, "" when it has none: a
// literal '<|im_start|>system\n...<|im_end|>' that the template emits when the
// first message is not a system one (SmolLM2-Instruct, Qwen2.5).
std::string chatml_default_system(std::string_view tmpl) {
  if (!contains(tmpl, "messages[0]['role']") && !contains(tmpl, "messages[0].role") &&
      !contains(tmpl, "messages[0][\"role\"]"))
    return "";
  const std::string_view head = "<|im_start|>system";
  for (size_t at = tmpl.find(head); at != std::string_view::npos; at = tmpl.find(head, at + 1)) {
    std::string_view rest = tmpl.substr(at + head.size());
    if (rest.substr(0, 1) == "\n")
      rest.remove_prefix(1);
    else if (rest.substr(0, 2) == "\\n")  // the newline as an escape inside the Jinja string literal
      rest.remove_prefix(2);
    else
      continue;
    const size_t end = rest.find("<|im_end|>");
    if (end == std::string_view::npos) continue;
    const std::string_view text = rest.substr(0, end);
    // A literal, not an expression such as '<|im_start|>system\n' + message['content'].
    if (text.empty() || text.find_first_of("{}'\"+\\") != std::string_view::npos) continue;
    return std::string(text);
  }
  return "";
}

// The format of a file's template, or nullopt when it is none of ours.
std::optional<ChatFormat> recognise(std::string_view tmpl) {
  if (contains(tmpl, "<|im_start|>")) return ChatFormat{ChatKind::kChatML, chatml_default_system(tmpl)};
  if (contains(tmpl, "<start_of_turn>")) return ChatFormat{ChatKind::kGemma, ""};
  // Llama 3.1 and later open with a system turn holding "Cutting Knowledge
  // Date" and today's date; rendering them as Llama 3 would drop it.
  if (contains(tmpl, "<|start_header_id|>") && !contains(tmpl, "Cutting Knowledge Date"))
    return ChatFormat{ChatKind::kLlama3, ""};
  return std::nullopt;
}

// The published template of an architecture that has exactly one; "llama"
// has none (SmolLM2's ChatML, Llama 2's [INST], Llama 3's headers).
std::optional<ChatFormat> for_architecture(std::string_view arch) {
  if (arch == "gemma3") return ChatFormat{ChatKind::kGemma, ""};
  if (arch == "qwen2" || arch == "qwen3" || arch == "qwen2moe" || arch == "qwen3moe")
    return ChatFormat{ChatKind::kChatML, ""};
  return std::nullopt;
}

// {% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' +
// message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if
// add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}
// with, in SmolLM2's and Qwen's, a default system turn first.
std::string render_chatml(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                          const std::string& default_system) {
  std::string out;
  if (!messages.empty() && messages[0].role != "system" && !default_system.empty())
    out += "<|im_start|>system\n" + default_system + "<|im_end|>\n";
  for (const ChatMessage& m : messages) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  if (add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

// Gemma 3 (google/gemma-3-*-it, text content):
//   {{ bos_token }}
//   {%- if messages[0]['role'] == 'system' -%}
//       {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
//       {%- set loop_messages = messages[1:] -%}
//   {%- else -%} {%- set first_user_prefix = "" -%} {%- set loop_messages = messages -%} {%- endif -%}
//   {%- for message in loop_messages -%}
//       {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
//           {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
//       {%- endif -%}
//       {%- if (message['role'] == 'assistant') -%} {%- set role = "model" -%}
//       {%- else -%} {%- set role = message['role'] -%} {%- endif -%}
//       {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
//       {{ message['content'] | trim }}
//       {{ '<end_of_turn>\n' }}
//   {%- endfor -%}
//   {%- if add_generation_prompt -%} {{'<start_of_turn>model\n'}} {%- endif -%}
std::string render_gemma(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                         const std::string& bos) {
  std::string out = bos;
  std::string first_user_prefix;
  size_t first = 0;
  if (!messages.empty() && messages[0].role == "system") {
    first_user_prefix = messages[0].content + "\n\n";  // not trimmed: the template does not
    first = 1;
  }
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const size_t index0 = i - first;
    if ((m.role == "user") != (index0 % 2 == 0))
      throw Error(TSR_ERR_INVALID_ARGUMENT,
                  "[tokenizer] chat template gemma: message " + std::to_string(i) + " has role " +
                      detail::quoted(m.role) + ": conversation roles must alternate user/assistant/user/...");
    out += "<start_of_turn>" + (m.role == "assistant" ? std::string("model") : m.role) + "\n";
    if (index0 == 0) out += first_user_prefix;
    out += trim(m.content) + "<end_of_turn>\n";
  }
  if (add_generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

// Llama 3 (meta-llama/Meta-Llama-3-*-Instruct):
//   {% set loop_messages = messages %}{% for message in loop_messages %}{% set content =
//   '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim +
//   '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}
//   {% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{%
//   endif %}
std::string render_llama3(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                          const std::string& bos) {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i == 0) out += bos;
    out += "<|start_header_id|>" + messages[i].role + "<|end_header_id|>\n\n" + trim(messages[i].content) +
           "<|eot_id|>";
  }
  if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

}  // namespace

const std::vector<std::string>& Tokenizer::chat_template_names() { return kNames; }

std::string Tokenizer::apply_chat_template(const std::vector<ChatMessage>& messages,
                                           bool add_generation_prompt, std::string_view name) const {
  std::optional<ChatFormat> format;
  if (!name.empty()) {
    const auto it = std::find(kNames.begin(), kNames.end(), name);
    if (it == kNames.end())
      throw Error(TSR_ERR_INVALID_ARGUMENT, "[tokenizer] chat template name " + detail::quoted(name) +
                                                " is not known (known: " + known_names() + ")");
    format = ChatFormat{static_cast<ChatKind>(it - kNames.begin()), ""};
  } else if (!chat_template_.empty()) {
    format = recognise(chat_template_);
    if (!format)
      throw Error(TSR_ERR_UNSUPPORTED, "[tokenizer] chat template " + detail::quoted(chat_template_, 60) +
                                           " (tokenizer.chat_template) is not one Tessera renders; name "
                                           "the one to use instead (" +
                                           known_names() + ")");
  } else {
    format = for_architecture(architecture_);
    if (!format)
      throw Error(
          TSR_ERR_UNSUPPORTED,
          "[tokenizer] the model has no chat template (tokenizer.chat_template) and its architecture " +
              detail::quoted(architecture_) +
              " (general.architecture) does not determine one; name "
              "the one to use (" +
              known_names() + ")");
  }
  const std::string bos = bos_ >= 0 ? tokens_[bos_] : "";  // Jinja's bos_token
  switch (format->kind) {
    case ChatKind::kChatML:
      return render_chatml(messages, add_generation_prompt, format->default_system);
    case ChatKind::kGemma:
      return render_gemma(messages, add_generation_prompt, bos);
    case ChatKind::kLlama3:
      return render_llama3(messages, add_generation_prompt, bos);
  }
  return "";
}

}  // namespace tessera::models
