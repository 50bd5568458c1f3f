#include "tools/run/interactive.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <vector>

#include "tools/run/chat.h"

namespace tessera_run {

int run_interactive(tsr_llm* model, tsr_llm_session* session, const InteractiveOptions& options) {
  std::vector<Message> messages;
  if (!options.system.empty()) messages.push_back({"system", options.system});
  std::vector<int32_t> cached;  // the tokens in the session's cache, in order
  const bool prompt = isatty(fileno(stdin));
  std::string line;
  for (int turn = 1;; ++turn) {
    if (prompt) std::fprintf(stderr, "> ");
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) {
      --turn;
      continue;
    }
    messages.push_back({"user", line});
    std::string text;
    std::vector<int32_t> tokens;
    if (!render_chat(model, options.chat_template, messages, &text) || !tokenize(model, text, true, &tokens))
      return 1;
    if (tokens.empty()) {
      std::fprintf(stderr, "tessera-run: the chat template rendered no tokens\n");
      return 1;
    }
    // The rendering of the earlier turns is what the cache holds, up to
    // where a template renders an old turn differently once a new one
    // follows (an end-of-turn token after the reply): keep the common
    // prefix and feed the rest. At least one token is fed, for its logits.
    size_t keep = 0;
    while (keep < cached.size() && keep < tokens.size() && cached[keep] == tokens[keep]) ++keep;
    keep = std::min(keep, tokens.size() - 1);
    if (tsr_llm_session_truncate(session, static_cast<int32_t>(keep)) != TSR_OK) {
      std::fprintf(stderr, "tessera-run: truncate: %s\n", tsr_last_error());
      return 1;
    }
    Output out;
    tsr_llm_stats st{sizeof st};
    const int32_t n_new = static_cast<int32_t>(tokens.size() - keep);
    if (tsr_llm_generate(session, tokens.data() + keep, n_new, options.max_new, on_token, &out, &st) !=
        TSR_OK) {
      std::fprintf(stderr, "\ntessera-run: generate: %s\n", tsr_last_error());
      return 1;
    }
    std::printf("\n");
    std::fflush(stdout);
    cached.assign(tokens.begin(), tokens.end());
    // An end token is not fed; on a full context the last token is not
    // cached either.
    const size_t fed = out.tokens.size() - (st.finish_reason == TSR_LLM_FINISH_CONTEXT_FULL ? 1 : 0);
    cached.insert(cached.end(), out.tokens.begin(), out.tokens.begin() + static_cast<std::ptrdiff_t>(fed));
    messages.push_back({"assistant", out.text});
    std::fprintf(stderr, "[turn %d: %d new prompt tokens after %zu cached, %d generated, %s]\n", turn, n_new,
                 keep, st.n_generated, tsr_llm_finish_reason_name(st.finish_reason));
    if (st.finish_reason == TSR_LLM_FINISH_CONTEXT_FULL) {
      std::fprintf(stderr, "tessera-run: the context is full; --ctx N allows a longer conversation\n");
      return 0;
    }
  }
  return 0;
}

}  // namespace tessera_run
