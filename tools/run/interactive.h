// tessera-run -i: a conversation on stdin and stdout that keeps the session's
// KV cache across turns.
#pragma once

#include <string>

#include "tessera/tessera_llm.h"

namespace tessera_run {

struct InteractiveOptions {
  std::string system;         // a system message first, when not empty
  std::string chat_template;  // empty: the model's own
  int32_t max_new = 0;        // tokens per reply
};

// Reads one user message per line until end of input ("> " on stderr when
// stdin is a terminal), renders the whole conversation with the chat
// template, feeds the session only the tokens past what its cache already
// holds (truncating it back to the common prefix first), and streams the
// reply. Returns the exit code: 0 at end of input, 1 on a library error.
int run_interactive(tsr_llm* model, tsr_llm_session* session, const InteractiveOptions& options);

}  // namespace tessera_run
