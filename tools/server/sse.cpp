#include "tools/server/sse.h"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "tools/server/api_error.h"

namespace tessera_server {

namespace {

// How long the provider waits for the engine before it returns to httplib,
// which then checks the connection. A disconnect is noticed by the next
// write at the latest.
constexpr std::chrono::milliseconds kPoll{100};

bool send_event(httplib::DataSink& sink, const std::string& data) {
  const std::string event = "data: " + data + "\n\n";
  return sink.write(event.data(), event.size());
}

struct StreamState {
  std::shared_ptr<Job> job;
  ResponseMeta meta;
  bool include_usage = false;
  bool started = false;
};

}  // namespace

void stream_response(httplib::Response& res, std::shared_ptr<Job> job, const ResponseMeta& meta,
                     bool include_usage, std::atomic<int>* open_streams) {
  open_streams->fetch_add(1);
  auto st = std::make_shared<StreamState>();
  st->job = std::move(job);
  st->meta = meta;
  st->include_usage = include_usage;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [st](size_t /*offset*/, httplib::DataSink& sink) {
        RequestChannel& ch = st->job->channel;
        // A write that fails means the client is gone: cancel, and tell
        // httplib to drop the connection.
        const auto gone = [&] {
          ch.cancel();
          return false;
        };
        if (!st->started) {
          st->started = true;
          // Chat streams open with the assistant's role, as OpenAI's do.
          if (st->meta.endpoint == Endpoint::kChat &&
              !send_event(sink, chunk_start(st->meta, st->include_usage)))
            return gone();
        }
        std::vector<std::string> pieces;
        Outcome outcome;
        const bool done = ch.wait(kPoll, &pieces, &outcome);
        for (const std::string& p : pieces)
          if (!send_event(sink, chunk_text(st->meta, p, st->include_usage))) return gone();
        if (!done) return sink.is_writable() ? true : gone();
        if (outcome.error) {
          // Headers (200) are out: a failure mid-stream is an error event, as OpenAI sends one.
          if (!send_event(sink, error_body(*outcome.error))) return gone();
        } else {
          if (!send_event(sink, chunk_finish(st->meta, outcome.finish_reason, st->include_usage)))
            return gone();
          if (st->include_usage && !send_event(sink, chunk_usage(st->meta, outcome.usage))) return gone();
        }
        if (!send_event(sink, "[DONE]")) return gone();
        sink.done();
        return true;
      },
      // Called when the response is destroyed; not a success when the
      // connection broke before the stream ended (or before it began).
      [st, open_streams](bool success) {
        if (!success) st->job->channel.cancel();
        open_streams->fetch_sub(1);
      });
}

}  // namespace tessera_server
