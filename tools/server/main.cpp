// tessera-server: an OpenAI-compatible HTTP server over the public LLM API
// (tessera_llm.h), Tessera's reference inference engine.
//
//   tessera-server -m SmolLM2-135M-Instruct.Q4_1.gguf --port 8080 --parallel 4
//   curl -N http://127.0.0.1:8080/v1/chat/completions \
//     -d '{"messages": [{"role": "user", "content": "Hi"}], "stream": true}'
//
// Threads: httplib's pool serves connections; one engine thread owns the
// batch (tools/server/engine.h); the main thread waits for SIGINT or SIGTERM
// and then stops the listener, cancels what is in flight, frees everything
// and exits 0. Exit codes: 0 after a signal, 1 when the model, the device or
// the port fails, 2 on usage errors.
#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tessera/tessera.h"
#include "tessera/tessera_llm.h"
#include "tools/common/cli.h"
#include "tools/server/engine.h"
#include "tools/server/metrics.h"
#include "tools/server/options.h"
#include "tools/server/routes.h"
#include "tools/server/server_git.h"

namespace {

using tessera_server::ServerOptions;

// SIGINT and SIGTERM are blocked in every thread and taken with sigwait by
// the main thread: nothing runs in a signal handler, so shutdown may lock,
// join and free like any other code.
sigset_t shutdown_signals() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGTERM);
  return s;
}

// Asked between weights while the model loads: a signal then ends the load.
int32_t signal_pending(void* flag) {
  const sigset_t s = shutdown_signals();
  timespec zero{0, 0};
  if (sigtimedwait(&s, nullptr, &zero) > 0) static_cast<std::atomic<bool>*>(flag)->store(true);
  return static_cast<std::atomic<bool>*>(flag)->load() ? 1 : 0;
}

struct ContextDeleter {
  void operator()(tsr_context* c) const { tsr_context_destroy(c); }
};
struct ModelDeleter {
  void operator()(tsr_llm* m) const { tsr_llm_free(m); }
};

std::string url_host(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;  // IPv6 literals go in brackets
}

}  // namespace

int main(int argc, char** argv) {
  if (tessera_tools::version_asked(argc, argv))
    return tessera_tools::print_version("tessera-server", TSR_SERVER_GIT_COMMIT);
  ServerOptions o;
  if (const int rc = tessera_server::parse_options(argc, argv, &o); rc >= 0) return rc;
  if (FILE* f = std::fopen(o.model.c_str(), "rb")) {
    std::fclose(f);
  } else {
    std::fprintf(stderr, "tessera-server: cannot read model '%s': %s\n", o.model.c_str(),
                 std::strerror(errno));
    return 1;
  }

  // Before any thread starts, so that every thread inherits the mask.
  const sigset_t signals = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A client that disconnects makes a write fail with EPIPE, not kill us.
  signal(SIGPIPE, SIG_IGN);
  std::atomic<bool> stopping{false};
  std::atomic<int> open_streams{0};

  std::vector<const char*> plugins;
  for (const std::string& p : o.plugins) plugins.push_back(p.c_str());
  tsr_context_options co{sizeof co, o.threads, plugins.data(), static_cast<int32_t>(plugins.size())};
  tsr_context* raw_ctx = nullptr;
  if (tsr_context_create(&co, &raw_ctx) != TSR_OK) {
    std::fprintf(stderr, "tessera-server: context: %s\n", tsr_last_error());
    return 1;
  }
  std::unique_ptr<tsr_context, ContextDeleter> ctx(raw_ctx);

  std::vector<std::string> names;
  for (const std::string& d : o.devices) {
    if (d == "auto")
      tessera_tools::auto_devices(ctx.get(), &names);
    else
      names.push_back(d);
  }
  std::vector<const char*> devices;
  for (const std::string& d : names) devices.push_back(d.c_str());
  tsr_llm_options lo{sizeof lo};
  lo.devices = devices.empty() ? nullptr : devices.data();
  lo.n_devices = static_cast<int32_t>(devices.size());
  lo.n_ctx = o.ctx;
  lo.should_abort = signal_pending;
  lo.abort_user = &stopping;
  tsr_llm* raw_model = nullptr;
  const tsr_status_code load = tsr_llm_load(ctx.get(), o.model.c_str(), &lo, &raw_model);
  if (load == TSR_ERR_ABORTED && stopping.load()) {
    std::fprintf(stderr, "tessera-server: stopped by a signal while loading the model\n");
    return 0;
  }
  if (load != TSR_OK) {
    std::fprintf(stderr, "tessera-server: load '%s': %s\n", o.model.c_str(), tsr_last_error());
    return 1;
  }
  std::unique_ptr<tsr_llm, ModelDeleter> model(raw_model);
  tsr_llm_info info{sizeof info};
  tsr_llm_get_info(model.get(), &info);

  tessera_server::Metrics metrics;
  std::string error;
  tessera_server::EngineConfig ec{o.parallel, o.queue, o.kv_blocks, o.prompt_cache};
  std::unique_ptr<tessera_server::Engine> engine =
      tessera_server::Engine::create(model.get(), ec, &metrics, &error);
  if (!engine) {
    std::fprintf(stderr, "tessera-server: batch of %d sequences: %s\n", o.parallel, error.c_str());
    return 1;
  }

  httplib::Server svr;
  // Every running and queued request holds a connection thread while it
  // waits for its tokens; a few more answer /health and /metrics meanwhile.
  // Capped: past the cap, connections wait in httplib's own queue for a
  // thread (still served, only later).
  constexpr size_t kMaxThreads = 512;
  const size_t threads =
      std::min(kMaxThreads, static_cast<size_t>(o.parallel) + static_cast<size_t>(o.queue) + 4);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_payload_max_length(static_cast<size_t>(o.max_body));
  // Streamed chunks are small: without TCP_NODELAY each could wait for the
  // client's delayed ACK.
  svr.set_tcp_nodelay(true);
  tessera_server::ServerContext sc;
  sc.model = model.get();
  sc.engine = engine.get();
  sc.metrics = &metrics;
  sc.alias = o.alias;
  sc.created = static_cast<int64_t>(std::time(nullptr));
  sc.max_body = o.max_body;
  sc.slots = o.parallel;
  sc.queue = o.queue;
  sc.stopping = &stopping;
  sc.open_streams = &open_streams;
  tessera_server::register_routes(svr, sc);

  int port = o.port;
  if (port == 0) {
    port = svr.bind_to_any_port(o.host);
  } else if (!svr.bind_to_port(o.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    std::fprintf(stderr, "tessera-server: cannot listen on %s port %d: %s\n", o.host.c_str(), o.port,
                 std::strerror(errno));
    return 1;
  }
  std::fprintf(stderr, "tessera-server: %s (%s, n_ctx %d), %d slots, queue %d, alias \"%s\"\n",
               o.model.c_str(), info.architecture, info.n_ctx, o.parallel, o.queue, o.alias.c_str());
  // The socket is listening (bound and in listen state) from here on: tests wait for this line.
  std::printf("tessera-server: listening on http://%s:%d\n", url_host(o.host).c_str(), port);
  std::fflush(stdout);

  std::atomic<bool> listener_done{false}, listener_failed{false};
  const pthread_t main_thread = pthread_self();
  std::thread listener([&] {
    svr.listen_after_bind();
    listener_done.store(true);
    // The listener ended on its own (accept failed): wake the main thread.
    if (!stopping.load()) {
      listener_failed.store(true);
      pthread_kill(main_thread, SIGTERM);
    }
  });

  int sig = 0;
  sigwait(&signals, &sig);
  stopping.store(true);
  if (!listener_failed.load())
    std::fprintf(stderr, "tessera-server: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  // Waiting and running requests end first (503, or an error event in a
  // stream), so the connection threads the listener joins can return; and
  // streams get a moment to send their last events, since stopping the
  // listener cuts every stream still writing.
  engine->shutdown_and_wait();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (open_streams.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  // stop() does nothing before the listener runs, and must be called once.
  while (!listener_done.load() && !svr.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!listener_done.load()) svr.stop();
  listener.join();
  engine.reset();
  model.reset();
  ctx.reset();
  if (listener_failed.load()) {
    std::fprintf(stderr, "tessera-server: the listener stopped accepting connections\n");
    return 1;
  }
  return 0;
}
