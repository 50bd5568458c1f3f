// tessera-server's command line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tessera_server {

struct ServerOptions {
  std::string model;               // -m, required
  std::string alias;               // --alias; default: the model file's stem
  std::string host = "127.0.0.1";  // --host
  int32_t port = 8080;             // --port; 0 = an ephemeral port
  std::vector<std::string> devices, plugins;
  int32_t threads = 0;         // --threads: the context's CPU threads (0 = the library's default)
  int32_t parallel = 4;        // --parallel: slots of the batch
  int32_t queue = 64;          // --queue: requests waiting beyond the slots
  int64_t max_body = 1 << 20;  // --max-body: bytes
  int32_t ctx = 0;             // --ctx: n_ctx per slot (0 = the library's default)
  int32_t kv_blocks = 0;       // --kv-blocks: KV pool size in blocks (0 = the library's default)
  bool prompt_cache = true;    // --no-prompt-cache turns it off
};

// Parses argv into *out. Returns -1 when the server should run, else the exit
// code: 0 after --help, 2 after a usage error (with a message on stderr).
int parse_options(int argc, char** argv, ServerOptions* out);

// "SmolLM2-135M-Instruct.Q4_1" for ".../SmolLM2-135M-Instruct.Q4_1.gguf".
std::string file_stem(const std::string& path);

}  // namespace tessera_server
