// Chat templates. A GGUF carries its template as Jinja source
// (tokenizer.chat_template); rather than interpret Jinja, the families below
// are recognised by their marker tokens and rendered by hand, reproducing
// their templates' output exactly. Anything else is refused, naming it.
#include <algorithm>

#include "models/tokenizer_impl.h"

namespace tessera::models {
namespace {

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
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

}  // namespace

std::string Tokenizer::apply_chat_template(const std::vector<ChatMessage>& messages,
                                           bool add_generation_prompt) const {
  const std::string& t = chat_template_;
  std::string out;
  if (contains(t, "<|im_start|>")) {  // ChatML
    const std::string system = chatml_default_system(t);
    if (!messages.empty() && messages[0].role != "system" && !system.empty())
      out += "<|im_start|>system\n" + system + "<|im_end|>\n";
    for (const ChatMessage& m : messages) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
    if (add_generation_prompt) out += "<|im_start|>assistant\n";
    return out;
  }
  if (contains(t, "<start_of_turn>")) {  // Gemma: no system role; it prefixes the first user turn
    std::string prefix;
    size_t first = 0;
    if (!messages.empty() && messages[0].role == "system") {
      prefix = std::string(trim(messages[0].content)) + "\n\n";
      first = 1;
    }
    for (size_t i = first; i < messages.size(); ++i) {
      const ChatMessage& m = messages[i];
      out += "<start_of_turn>" + (m.role == "assistant" ? std::string("model") : m.role) + "\n";
      if (i == first) out += prefix;
      out += std::string(trim(m.content)) + "<end_of_turn>\n";
    }
    if (add_generation_prompt) out += "<start_of_turn>model\n";
    return out;
  }
  if (contains(t, "<|start_header_id|>")) {  // Llama 3
    for (const ChatMessage& m : messages)
      out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + std::string(trim(m.content)) +
             "<|eot_id|>";
    if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
    return out;
  }
  if (t.empty())
    throw Error(TSR_ERR_UNSUPPORTED, "[tokenizer] the model has no chat template (tokenizer.chat_template)");
  throw Error(TSR_ERR_UNSUPPORTED, "[tokenizer] chat template " + detail::quoted(t, 60) +
                                       " is not supported (known: ChatML, Gemma, Llama 3)");
}

}  // namespace tessera::models
