// The HTTP routes of tessera-server and the handlers every response goes
// through: errors as OpenAI-style JSON (unknown routes and oversized bodies
// included), no exception out of any handler, every request counted.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "tessera/tessera_llm.h"
#include "tools/server/engine.h"
#include "tools/server/metrics.h"

namespace tessera_server {

struct ServerContext {
  const tsr_llm* model = nullptr;
  Engine* engine = nullptr;
  Metrics* metrics = nullptr;
  std::string alias;                            // the model's name in the API
  int64_t created = 0;                          // when the model was loaded (Unix seconds)
  int64_t max_body = 0;                         // --max-body, for the 413 message
  int32_t slots = 0, queue = 0;                 // --parallel and --queue, for the 503 message
  const std::atomic<bool>* stopping = nullptr;  // set once shutdown began
  std::atomic<int>* open_streams = nullptr;     // streamed responses not yet ended
};

// Registers the routes and handlers on svr; ctx must outlive it.
void register_routes(httplib::Server& svr, const ServerContext& ctx);

}  // namespace tessera_server
