#include "tools/server/routes.h"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tools/server/api_error.h"
#include "tools/server/openai_format.h"
#include "tools/server/prompt.h"
#include "tools/server/request.h"
#include "tools/server/sse.h"

namespace tessera_server {

namespace {

// Completions default to 16 tokens as OpenAI's legacy endpoint does; chat
// has no default limit there, so a chat request runs until an end token or
// a full context.
constexpr int32_t kCompletionDefaultMaxTokens = 16;
constexpr std::chrono::milliseconds kPoll{250};

const char* const kChatPath = "/v1/chat/completions";
const char* const kCompletionPath = "/v1/completions";

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(error_body(e), "application/json");
}

// The endpoint label of a request in /metrics: the route, never the raw
// path, so unknown paths cannot grow the label set without bound.
std::string endpoint_label(const httplib::Request& req) {
  for (const char* p : {kChatPath, kCompletionPath, "/v1/models", "/health", "/metrics"})
    if (req.path == p) return p;
  if (req.path.rfind("/v1/models/", 0) == 0) return "/v1/models/{id}";
  return "other";
}

// Runs a handler so that nothing escapes it: an exception becomes a 500.
template <class F>
httplib::Server::Handler guarded(F f) {
  return [f](const httplib::Request& req, httplib::Response& res) {
    try {
      f(req, res);
    } catch (const std::exception& e) {
      send_error(
          res, ApiError{500, std::string("[server] ") + req.path + ": " + e.what(), "server_error", "", ""});
    } catch (...) {
      send_error(res, ApiError{500, "[server] " + req.path + ": unknown failure", "server_error", "", ""});
    }
  };
}

tsr_llm_sampling sampling_for(const ParsedRequest& p) {
  tsr_llm_sampling s{sizeof s};
  s.temperature = p.temperature;
  s.top_p = p.top_p;
  // top_p 0 keeps only the most likely token, as OpenAI reads it; the
  // library reads 0 as "off", so say greedy outright.
  if (p.top_p == 0.0f) s.temperature = 0.0f;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  s.seed = p.seed ? *p.seed : rng();
  return s;
}

void handle_generation(const ServerContext& ctx, Endpoint endpoint, const httplib::Request& req,
                       httplib::Response& res) {
  auto job = std::make_shared<Job>();  // its arrival time starts the time to first token
  const std::string op = endpoint_op(endpoint);
  if (ctx.stopping->load())
    return send_error(
        res, ApiError{503, "[" + op + "] the server is shutting down", "server_error", "", "shutting_down"});
  ParsedRequest p;
  if (auto e = parse_request(endpoint, req.body, ctx.alias, &p)) return send_error(res, *e);
  if (auto e = prompt_tokens(ctx.model, p, &job->prompt)) return send_error(res, *e);
  job->max_tokens = p.max_tokens > 0
                        ? p.max_tokens
                        : (endpoint == Endpoint::kCompletion ? kCompletionDefaultMaxTokens : INT32_MAX);
  job->sampling = sampling_for(p);
  job->stop = p.stop;

  switch (ctx.engine->submit(job)) {
    case Engine::Admission::kAccepted:
      break;
    case Engine::Admission::kQueueFull:
      return send_error(res, ApiError{503,
                                      "[" + op + "] the server is full: all " + std::to_string(ctx.slots) +
                                          " slots are busy and the queue of " + std::to_string(ctx.queue) +
                                          " is full (--parallel " + std::to_string(ctx.slots) + ", --queue " +
                                          std::to_string(ctx.queue) + "); retry later",
                                      "server_error", "", "queue_full"});
    case Engine::Admission::kStopping:
      return send_error(res, ApiError{503, "[" + op + "] the server is shutting down", "server_error", "",
                                      "shutting_down"});
  }

  const ResponseMeta meta = new_response_meta(endpoint, ctx.alias);
  if (p.stream) return stream_response(res, job, meta, p.include_usage, ctx.open_streams);

  std::string text;
  std::vector<std::string> pieces;
  Outcome outcome;
  bool done = false;
  while (!done) {
    done = job->channel.wait(kPoll, &pieces, &outcome);
    for (const std::string& s : pieces) text += s;
    pieces.clear();
  }
  if (outcome.error) return send_error(res, *outcome.error);
  res.set_content(full_response(meta, text, outcome), "application/json");
}

std::string describe_body_limit(const httplib::Request& req, int64_t max_body) {
  const std::string len = req.get_header_value("Content-Length");
  // httplib parses a form-encoded body (curl -d without a Content-Type sends
  // one) into parameters and refuses one past its own, smaller limit.
  const bool form = req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0;
  if (form && !len.empty() && std::strtoll(len.c_str(), nullptr, 10) <= max_body)
    return "[http] the request body is " + len +
           " bytes sent as application/x-www-form-urlencoded, which is limited to 8192 bytes; send it with "
           "Content-Type: application/json";
  return "[http] the request body is " +
         (len.empty() ? std::string("larger than the limit") : len + " bytes") +
         "; this server takes at most " + std::to_string(max_body) + " bytes (--max-body)";
}

}  // namespace

void register_routes(httplib::Server& svr, const ServerContext& ctx) {
  const ServerContext* c = &ctx;
  svr.Post(kChatPath, guarded([c](const httplib::Request& q, httplib::Response& r) {
             handle_generation(*c, Endpoint::kChat, q, r);
           }));
  svr.Post(kCompletionPath, guarded([c](const httplib::Request& q, httplib::Response& r) {
             handle_generation(*c, Endpoint::kCompletion, q, r);
           }));
  svr.Get("/v1/models", guarded([c](const httplib::Request&, httplib::Response& r) {
            r.set_content(model_list(c->alias, c->created), "application/json");
          }));
  svr.Get("/v1/models/(.+)", guarded([c](const httplib::Request& q, httplib::Response& r) {
            const std::string id = q.matches[1];
            if (id != c->alias)
              return send_error(
                  r, ApiError{404,
                              "[models] model \"" + id + "\" is not served here; this server serves \"" +
                                  c->alias + "\"",
                              "invalid_request_error", "model", "model_not_found"});
            r.set_content(model_object(c->alias, c->created), "application/json");
          }));
  svr.Get("/health", guarded([c](const httplib::Request&, httplib::Response& r) {
            if (c->stopping->load())
              return send_error(r, ApiError{503, "[health] the server is shutting down", "server_error", "",
                                            "shutting_down"});
            r.set_content("{\"status\":\"ok\"}", "application/json");
          }));
  svr.Get("/metrics", guarded([c](const httplib::Request&, httplib::Response& r) {
            r.set_content(c->metrics->render(c->engine->gauges()),
                          "text/plain; version=0.0.4; charset=utf-8");
          }));

  // Every error response without a body gets one: unknown routes (404),
  // bodies past --max-body (413), requests httplib could not parse (400).
  svr.set_error_handler(
      httplib::Server::HandlerWithResponse([c](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        ApiError e{res.status, "", "invalid_request_error", "", ""};
        if (res.status == 404) {
          e.message = "[http] no route " + req.method + " " + req.path;
          e.code = "unknown_url";
        } else if (res.status == 413) {
          e.message = describe_body_limit(req, c->max_body);
          e.code = "request_too_large";
        } else if (res.status == 400) {
          // httplib refused the request before routing it.
          e.message = "[http] " + req.method + " " + req.path +
                      ": the request is malformed (a body needs a Content-Length header or chunked encoding)";
          e.code = "malformed_request";
        } else {
          e.message = "[http] " + req.method + " " + req.path + ": status " + std::to_string(res.status);
          if (res.status >= 500) e.type = "server_error";
        }
        res.set_content(error_body(e), "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  svr.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown failure";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, ApiError{500, "[server] " + req.path + ": " + what, "server_error", "", ""});
  });
  svr.set_logger([c](const httplib::Request& req, const httplib::Response& res) {
    c->metrics->count_request(endpoint_label(req), res.status);
  });
}

}  // namespace tessera_server
