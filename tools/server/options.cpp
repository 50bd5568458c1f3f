#include "tools/server/options.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "tools/common/cli.h"

namespace tessera_server {

namespace {

using tessera_tools::parse_int;

void usage(FILE* f) {
  std::fprintf(
      f,
      "usage: tessera-server -m MODEL [--host H] [--port P] [--parallel N] [--queue N] [--max-body BYTES]\n"
      "                      [--ctx N] [--kv-blocks N] [--no-prompt-cache] [--alias NAME] [--device NAME]... "
      "[--plugin PATH]...\n"
      "                      [--threads T]\n"
      "An OpenAI-compatible HTTP server: POST /v1/chat/completions, POST /v1/completions (streaming as\n"
      "server-sent events with \"stream\": true), GET /v1/models, GET /health, GET /metrics (Prometheus).\n"
      "  -m, --model PATH   GGUF model file (required)\n"
      "  --host H           address to listen on (default 127.0.0.1)\n"
      "  --port P           TCP port (default 8080); 0 picks a free one. Once accepting, stdout gets\n"
      "                     the one line 'tessera-server: listening on http://HOST:PORT'\n"
      "  --parallel N       requests generated at once: the sequences of one batch (default 4)\n"
      "  --queue N          requests that may wait for a free sequence (default 64); beyond them the\n"
      "                     server answers 503\n"
      "  --max-body BYTES   largest request body (default 1048576); larger ones get 413\n"
      "  --ctx N            context length of each sequence (default: the model's, at most 2048)\n"
      "  --kv-blocks N      blocks in the shared KV cache pool (default: the library's)\n"
      "  --no-prompt-cache  compute every prompt whole; by default a prompt starting like one a\n"
      "                     slot holds (a chat's earlier turns, a shared system prompt) reuses\n"
      "                     its KV rows\n"
      "  --alias NAME       the model's name in the API (default: the file name without .gguf)\n"
      "  --device NAME      device in preference order (default cpu); repeatable; 'auto' = every\n"
      "                     GPU/accelerator present, then the CPU\n"
      "  --plugin PATH      load a backend plugin (repeatable); its devices can then be named\n"
      "  --threads T        CPU threads (default: the library's choice)\n"
      "  --version          print the version and the commit this server was built from\n"
      "SIGINT or SIGTERM stops the server: it stops listening, cancels what is in flight and exits 0.\n");
}

bool takes_value(const std::string& k) {
  static const char* const kValued[] = {"-m",       "--model",    "--host",     "--port",  "--parallel",
                                        "--queue",  "--max-body", "--ctx",      "--alias", "--device",
                                        "--plugin", "--threads",  "--kv-blocks"};
  return std::find(std::begin(kValued), std::end(kValued), k) != std::end(kValued);
}

}  // namespace

std::string file_stem(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string ext = ".gguf";
  if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
    name.resize(name.size() - ext.size());
  return name;
}

int parse_options(int argc, char** argv, ServerOptions* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "-h" || k == "--help") {
      usage(stdout);
      return 0;
    }
    if (k == "--no-prompt-cache") {
      o->prompt_cache = false;
      continue;
    }
    if (!takes_value(k)) {
      std::fprintf(stderr, "tessera-server: unknown option %s\n", k.c_str());
      usage(stderr);
      return 2;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "tessera-server: %s needs a value\n", k.c_str());
      return 2;
    }
    const char* v = argv[++i];
    int64_t n = 0;
    bool ok = true;
    if (k == "-m" || k == "--model") {
      o->model = v;
    } else if (k == "--host") {
      o->host = v;
      ok = !o->host.empty();
    } else if (k == "--alias") {
      o->alias = v;
      ok = !o->alias.empty();
    } else if (k == "--device") {
      o->devices.push_back(v);
    } else if (k == "--plugin") {
      o->plugins.push_back(v);
    } else if (k == "--port") {
      ok = parse_int(v, 0, 65535, &n);
      o->port = static_cast<int32_t>(n);
    } else if (k == "--parallel") {
      ok = parse_int(v, 1, 256, &n);
      o->parallel = static_cast<int32_t>(n);
    } else if (k == "--queue") {
      ok = parse_int(v, 0, 1 << 16, &n);
      o->queue = static_cast<int32_t>(n);
    } else if (k == "--max-body") {
      ok = parse_int(v, 1, int64_t{1} << 32, &n);
      o->max_body = n;
    } else if (k == "--ctx") {
      ok = parse_int(v, 0, 1 << 24, &n);
      o->ctx = static_cast<int32_t>(n);
    } else if (k == "--kv-blocks") {
      ok = parse_int(v, 0, 1 << 24, &n);
      o->kv_blocks = static_cast<int32_t>(n);
    } else if (k == "--threads") {
      ok = parse_int(v, 0, 4096, &n);
      o->threads = static_cast<int32_t>(n);
    }
    if (!ok) {
      std::fprintf(stderr, "tessera-server: bad value '%s' for %s\n", v, k.c_str());
      return 2;
    }
  }
  if (o->model.empty()) {
    std::fprintf(stderr, "tessera-server: -m MODEL is required\n");
    usage(stderr);
    return 2;
  }
  if (o->alias.empty()) o->alias = file_stem(o->model);
  return -1;
}

}  // namespace tessera_server
