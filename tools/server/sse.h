// Streaming a job's output as server-sent events in OpenAI's format: one
// "data: {chunk}\n\n" event per piece of text, a last chunk with the
// finish_reason (then the usage chunk when asked for), and "data: [DONE]\n\n".
// A client that goes away cancels the job: the engine frees its slot before
// its next step.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>

#include "tools/server/job.h"
#include "tools/server/openai_format.h"

namespace tessera_server {

// open_streams counts the streams not yet ended (shutdown lets them end
// before it closes the connections).
void stream_response(httplib::Response& res, std::shared_ptr<Job> job, const ResponseMeta& meta,
                     bool include_usage, std::atomic<int>* open_streams);

}  // namespace tessera_server
