// A parsed request's prompt as tokens: chat messages through the model's
// chat template, or a completion prompt as text or token ids. Runs on the
// HTTP thread (tokenizing and the templates take no lock, tessera_llm.h), so
// a prompt that cannot be served is refused before it is queued.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tessera/tessera_llm.h"
#include "tools/server/api_error.h"
#include "tools/server/request.h"

namespace tessera_server {

// Sets *out to the prompt's tokens; refuses an empty prompt, a token id
// outside the vocabulary and a prompt longer than n_ctx.
std::optional<ApiError> prompt_tokens(const tsr_llm* model, const ParsedRequest& request,
                                      std::vector<int32_t>* out);

}  // namespace tessera_server
