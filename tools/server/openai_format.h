// The JSON objects of OpenAI's API that the server answers with: chat
// completions and text completions, whole and as streamed chunks, and the
// model list. Bytes that are not UTF-8 come out as U+FFFD, never as an
// exception.
#pragma once

#include <cstdint>
#include <string>

#include "tools/server/job.h"
#include "tools/server/request.h"

namespace tessera_server {

// What every object of one response shares.
struct ResponseMeta {
  Endpoint endpoint = Endpoint::kChat;
  std::string id;       // "chatcmpl-..." or "cmpl-...", the same in every chunk
  int64_t created = 0;  // Unix seconds
  std::string model;
};
ResponseMeta new_response_meta(Endpoint endpoint, const std::string& model);

// "chat.completion" or "text_completion" with the whole text, finish_reason and usage.
std::string full_response(const ResponseMeta& m, const std::string& text, const Outcome& outcome);

// Streamed chunks ("chat.completion.chunk" or "text_completion"). With
// include_usage every chunk has "usage": null and chunk_usage ends the stream.
std::string chunk_start(const ResponseMeta& m, bool include_usage);  // chat only: the assistant role
std::string chunk_text(const ResponseMeta& m, const std::string& text, bool include_usage);
std::string chunk_finish(const ResponseMeta& m, const std::string& finish_reason, bool include_usage);
std::string chunk_usage(const ResponseMeta& m, const Usage& usage);

// GET /v1/models and GET /v1/models/{id}.
std::string model_object(const std::string& model, int64_t created);
std::string model_list(const std::string& model, int64_t created);

}  // namespace tessera_server
