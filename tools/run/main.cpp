// tessera-run: generate text with a llama-family GGUF model, using only the
// public C API (tessera.h, tessera_llm.h).
//
//   tessera-run -m SmolLM2-135M-Instruct.Q4_1.gguf -p "What is the capital of France?" --chat
//   tessera-run -m Llama-3.2-1B-Instruct.gguf -p "Hi" --chat-template llama3
//
// stdout carries the generated text only (flushed per token), or with --json
// one JSON object; progress and statistics go to stderr. Exit codes: 0 ok,
// 1 runtime error (model, device, prompt too long), 2 usage error.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tessera/tessera.h"
#include "tessera/tessera_llm.h"
#include "tools/common/cli.h"
#include "tools/common/layer_split.h"
#include "tools/run/chat.h"
#include "tools/run/interactive.h"
#include "tools/run/run_git.h"

namespace {

using tessera_tools::json_escape;
using tessera_tools::parse_double;
using tessera_tools::parse_int;

void usage(FILE* f) {
  std::fprintf(
      f,
      "usage: tessera-run -m MODEL (-p PROMPT | -f FILE | --prompt-tokens 1,2,3 | -i) [-n N] [--chat]\n"
      "                   [--system TEXT]\n"
      "                   [--chat-template NAME] [--device NAME]... [--threads T] [--seed S] [--temp T]\n"
      "                   [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--repeat-last-n N]\n"
      "                   [--ctx N] [--batch N] [--ignore-eos] [--json] [--dump-logits FILE]\n"
      "                   [--plugin PATH]... [--split-layers SPEC] [--tensor-parallel [--comm NAME]\n"
      "                   [--comm-timeout S]]\n"
      "  -n N               tokens to generate (default 128); -1: until an end token or a full context\n"
      "  -f FILE            the prompt is the file's text\n"
      "  -i, --interactive  a conversation: one user message per line on stdin, replies on stdout; the\n"
      "                     chat template is applied per turn and the KV cache kept across turns\n"
      "  --version          print the version and the commit this tool was built from\n"
      "  --chat             apply the model's chat template to the prompt (with --system): the file's\n"
      "                     tokenizer.chat_template, else its architecture's (gemma3, qwen2, qwen3)\n"
      "  --chat-template NAME\n"
      "                     --chat with this template instead: chatml, gemma or llama3\n"
      "  --device NAME      device in preference order (default cpu); repeatable; 'auto' = every\n"
      "                     GPU/accelerator present, then the CPU; %%r in NAME is the rank of a\n"
      "                     --tensor-parallel job (cuda:%%r: rank r on cuda:r)\n"
      "  --temp T           0 = greedy (default 0.8); --top-k 40, --top-p 0.95, --min-p 0.05 by default\n"
      "  --prompt-tokens    token ids fed directly, without the tokenizer\n"
      "  --plugin PATH      load a backend plugin (repeatable); its devices can then be named\n"
      "  --dump-logits FILE raw little-endian f32 [n_prompt, n_vocab]: the logits of every prompt token\n"
      "  --ignore-eos       keep generating past end-of-generation tokens (benchmarks)\n"
      "  --split-layers SPEC pipeline split: DEVICE=N,... gives each device the next N layers, an entry\n"
      "                     without =N the layers left (e.g. vulkan:0=15,cpu:0); the embedding goes\n"
      "                     with the first layer, the output with the last\n"
      "  --tensor-parallel  split every layer over the ranks of the job (mpirun -np N tessera-run ...):\n"
      "                     each process computes its slice, all of them the same tokens; rank 0 prints\n"
      "  --comm NAME        the communicator for --tensor-parallel: mpi (default) or a library's path\n"
      "  --comm-timeout S   fail when another rank does not answer for S seconds (default 60)\n"
      "  --strict           fail to load when a node cannot run on the named devices (no fallback)\n"
      "  --placement        print where every node of the decode graph runs, and why a node fell back\n"
      "  --no-transfer-cost place every node on the first named device supporting it, even where the\n"
      "                     copies around it cost more than it saves (default: such nodes stay on the CPU)\n"
      "  --json             print one JSON object (tokens, text, timings) instead of the text\n");
}

struct Args {
  std::string model, prompt, system, dump_logits, chat_template;
  bool has_prompt = false, chat = false, json = false, strict = false, placement = false, interactive = false;
  bool no_transfer_cost = false;
  bool tensor_parallel = false;
  std::string comm = "mpi";
  double comm_timeout = 0.0;
  std::string split_layers;
  std::vector<std::string> devices, plugins;
  std::vector<int32_t> prompt_tokens;
  bool has_prompt_tokens = false;
  int64_t n_predict = 128, threads = 0, ctx = 0, batch = 0, top_k = 40, repeat_last_n = 64;
  uint64_t seed = 0;
  bool has_seed = false;
  bool ignore_eos = false;
  double temp = 0.8, top_p = 0.95, min_p = 0.05, repeat_penalty = 1.0;
};

bool parse_tokens(const std::string& s, std::vector<int32_t>* out) {
  size_t i = 0;
  while (i <= s.size()) {
    const size_t j = std::min(s.find(',', i), s.size());
    int64_t v;
    if (!parse_int(s.substr(i, j - i).c_str(), 0, INT32_MAX, &v)) return false;
    out->push_back(static_cast<int32_t>(v));
    i = j + 1;
  }
  return !out->empty();
}

// The options followed by a value.
bool takes_value(const std::string& k) {
  static const char* const kValued[] = {"-m",
                                        "--model",
                                        "-p",
                                        "--prompt",
                                        "-f",
                                        "--file",
                                        "--system",
                                        "--chat-template",
                                        "--device",
                                        "--split-layers",
                                        "--comm",
                                        "--comm-timeout",
                                        "--plugin",
                                        "--dump-logits",
                                        "--prompt-tokens",
                                        "-n",
                                        "--n-predict",
                                        "--threads",
                                        "-t",
                                        "--ctx",
                                        "-c",
                                        "--batch",
                                        "-b",
                                        "--top-k",
                                        "--repeat-last-n",
                                        "--seed",
                                        "-s",
                                        "--temp",
                                        "--top-p",
                                        "--min-p",
                                        "--repeat-penalty"};
  return std::find(std::begin(kValued), std::end(kValued), k) != std::end(kValued);
}

bool read_file(const char* path, std::string* out) {
  FILE* f = std::fopen(path, "rb");
  if (!f) return false;
  char buf[1 << 16];
  size_t n;
  out->clear();
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->append(buf, n);
  const bool ok = !std::ferror(f);
  std::fclose(f);
  return ok;
}

// Returns 0 on success, else the exit code (2: usage).
int parse_args(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "-h" || k == "--help") {
      usage(stdout);
      std::exit(0);
    }
    if (k == "--chat") {
      a->chat = true;
      continue;
    }
    if (k == "--json") {
      a->json = true;
      continue;
    }
    if (k == "--strict") {
      a->strict = true;
      continue;
    }
    if (k == "--tensor-parallel") {
      a->tensor_parallel = true;
      continue;
    }
    if (k == "--placement") {
      a->placement = true;
      continue;
    }
    if (k == "--no-transfer-cost") {
      a->no_transfer_cost = true;
      continue;
    }
    if (k == "--ignore-eos") {
      a->ignore_eos = true;
      continue;
    }
    if (k == "-i" || k == "--interactive") {
      a->interactive = true;
      continue;
    }
    if (!takes_value(k)) {
      std::fprintf(stderr, "tessera-run: unknown option %s\n", k.c_str());
      usage(stderr);
      return 2;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "tessera-run: %s needs a value\n", k.c_str());
      return 2;
    }
    const char* v = argv[++i];
    bool ok = true;
    if (k == "-m" || k == "--model") {
      a->model = v;
    } else if (k == "-p" || k == "--prompt") {
      a->prompt = v;
      a->has_prompt = true;
    } else if (k == "-f" || k == "--file") {
      ok = read_file(v, &a->prompt);
      if (!ok) {
        std::fprintf(stderr, "tessera-run: cannot read prompt file '%s': %s\n", v, std::strerror(errno));
        return 1;
      }
      a->has_prompt = true;
    } else if (k == "--system") {
      a->system = v;
    } else if (k == "--chat-template") {
      a->chat_template = v;  // the library checks the name (an unknown one lists the known ones)
      a->chat = true;
    } else if (k == "--device") {
      a->devices.push_back(v);
    } else if (k == "--plugin") {
      a->plugins.push_back(v);
    } else if (k == "--split-layers") {
      a->split_layers = v;
    } else if (k == "--comm") {
      a->comm = v;
    } else if (k == "--comm-timeout") {
      ok = parse_double(v, 0.001, 86400.0, &a->comm_timeout);
    } else if (k == "--dump-logits") {
      a->dump_logits = v;
    } else if (k == "--prompt-tokens") {
      ok = parse_tokens(v, &a->prompt_tokens);
      a->has_prompt_tokens = true;
    } else if (k == "-n" || k == "--n-predict") {
      ok = parse_int(v, -1, 1 << 30, &a->n_predict);
    } else if (k == "--threads" || k == "-t") {
      ok = parse_int(v, 0, 4096, &a->threads);
    } else if (k == "--ctx" || k == "-c") {
      ok = parse_int(v, 0, 1 << 24, &a->ctx);
    } else if (k == "--batch" || k == "-b") {
      ok = parse_int(v, 1, 1 << 20, &a->batch);
    } else if (k == "--top-k") {
      ok = parse_int(v, 0, 1 << 30, &a->top_k);
    } else if (k == "--repeat-last-n") {
      ok = parse_int(v, -1, 1 << 30, &a->repeat_last_n);
    } else if (k == "--seed" || k == "-s") {
      int64_t s;
      ok = parse_int(v, 0, INT64_MAX, &s);
      a->seed = static_cast<uint64_t>(s);
      a->has_seed = true;
    } else if (k == "--temp") {
      ok = parse_double(v, 0.0, 100.0, &a->temp);
    } else if (k == "--top-p") {
      ok = parse_double(v, 0.0, 1.0, &a->top_p);
    } else if (k == "--min-p") {
      ok = parse_double(v, 0.0, 1.0, &a->min_p);
    } else if (k == "--repeat-penalty") {
      ok = parse_double(v, 0.0, 100.0, &a->repeat_penalty);
    }
    if (!ok) {
      std::fprintf(stderr, "tessera-run: bad value '%s' for %s\n", v, k.c_str());
      return 2;
    }
  }
  if (a->model.empty()) {
    std::fprintf(stderr, "tessera-run: -m MODEL is required\n");
    usage(stderr);
    return 2;
  }
  if (a->interactive) {
    if (a->has_prompt || a->has_prompt_tokens || a->json || !a->dump_logits.empty()) {
      std::fprintf(stderr,
                   "tessera-run: -i reads its prompts from stdin: no -p, -f, --prompt-tokens, --json or "
                   "--dump-logits with it\n");
      return 2;
    }
    a->chat = true;  // every turn goes through the chat template
    return 0;
  }
  if (a->has_prompt == a->has_prompt_tokens) {
    std::fprintf(stderr, "tessera-run: give exactly one of -p PROMPT, -f FILE and --prompt-tokens (or -i)\n");
    usage(stderr);
    return 2;
  }
  if (!a->system.empty() && !a->chat) {
    std::fprintf(stderr,
                 "tessera-run: --system needs --chat (or --chat-template, or -i): without a chat "
                 "template there is nowhere to put it\n");
    return 2;
  }
  if (a->chat && a->has_prompt_tokens) {
    std::fprintf(stderr, "tessera-run: --chat and --chat-template need -p (a text prompt)\n");
    return 2;
  }
  return 0;
}

void progress_bar(float f, void*) {
  const int width = 30, done = static_cast<int>(f * width + 0.5f);
  std::fprintf(stderr, "\rloading [%.*s%*s] %3d%%", done, "##############################", width - done, "",
               static_cast<int>(f * 100.0f + 0.5f));
  if (f >= 1.0f) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t utf8_len(const std::string& s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  return n;
}

int fail(const char* what) {
  std::fprintf(stderr, "tessera-run: %s: %s\n", what, tsr_last_error());
  return 1;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (tessera_tools::version_asked(argc, argv))
    return tessera_tools::print_version("tessera-run", TSR_RUN_GIT_COMMIT);
  Args a;
  if (const int rc = parse_args(argc, argv, &a)) return rc;
  if (FILE* f = std::fopen(a.model.c_str(), "rb")) {
    std::fclose(f);
  } else {
    std::fprintf(stderr, "tessera-run: cannot read model '%s': %s\n", a.model.c_str(), std::strerror(errno));
    return 1;
  }
  if (a.tensor_parallel && a.interactive) {
    // mpirun gives stdin to rank 0 only: the other ranks could not follow.
    std::fprintf(stderr, "tessera-run: --tensor-parallel runs a prompt, not --interactive\n");
    return 2;
  }
  if (!a.has_seed) a.seed = std::random_device{}();

  std::vector<const char*> plugin_paths;
  for (const std::string& p : a.plugins) plugin_paths.push_back(p.c_str());
  tsr_context_options co{sizeof co, static_cast<int32_t>(a.threads), plugin_paths.data(),
                         static_cast<int32_t>(plugin_paths.size())};
  tsr_context* ctx = nullptr;
  if (tsr_context_create(&co, &ctx) != TSR_OK) return fail("context");
  if (a.tensor_parallel) {
    const tsr_comm_options cmo{sizeof cmo, a.comm.c_str(), a.comm_timeout};
    if (tsr_context_open_comm(ctx, &cmo) != TSR_OK) {
      const int rc = fail("--tensor-parallel");
      tsr_context_destroy(ctx);
      return rc;
    }
  }
  // Ranks sample alike only from one seed: rank 0's, unless one was given.
  if (a.tensor_parallel && !a.has_seed && tsr_context_broadcast(ctx, &a.seed, sizeof a.seed, 0) != TSR_OK) {
    const int rc = fail("--tensor-parallel");
    tsr_context_destroy(ctx);
    return rc;
  }
  // Every rank generates the same tokens; rank 0 alone prints them.
  const bool quiet = tsr_context_comm_rank(ctx) != 0;

  std::vector<std::string> names;
  for (std::string d : a.devices) {
    // One GPU per rank on one machine: cuda:%r is cuda:0 on rank 0, cuda:1 on rank 1.
    for (size_t at = d.find("%r"); at != std::string::npos; at = d.find("%r"))
      d.replace(at, 2, std::to_string(tsr_context_comm_rank(ctx)));
    if (d == "auto") {
      tessera_tools::auto_devices(ctx, &names);
    } else {
      names.push_back(d);
    }
  }
  std::vector<const char*> devices;
  for (const std::string& d : names) devices.push_back(d.c_str());
  tsr_llm_options lo{sizeof lo};
  lo.devices = devices.empty() ? nullptr : devices.data();
  lo.n_devices = static_cast<int32_t>(devices.size());
  std::vector<std::string> layer_names;
  std::vector<const char*> layer_devices;
  if (!a.split_layers.empty()) {
    std::string err;
    const int64_t n_layer = tessera_tools::gguf_layer_count(a.model, &err);
    if (n_layer < 0 || !tessera_tools::expand_layer_split(a.split_layers, n_layer, &layer_names, &err)) {
      std::fprintf(stderr, "tessera-run: --split-layers: %s\n", err.c_str());
      tsr_context_destroy(ctx);
      return 2;
    }
    for (const std::string& d : layer_names) layer_devices.push_back(d.c_str());
    lo.layer_devices = layer_devices.data();
    lo.n_layer_devices = static_cast<int32_t>(layer_devices.size());
  }
  lo.tensor_parallel = a.tensor_parallel ? 1 : 0;
  lo.n_ctx = static_cast<int32_t>(a.ctx);
  lo.n_batch = static_cast<int32_t>(a.batch);
  if (a.strict) lo.compile_flags |= TSR_COMPILE_STRICT;
  if (a.no_transfer_cost) lo.compile_flags |= TSR_COMPILE_NO_TRANSFER_COST;
  // The bar redraws itself with carriage returns: only a terminal shows it as
  // one line; a redirected log would get every frame.
  const bool show_progress = isatty(fileno(stderr));
  lo.progress = show_progress ? progress_bar : nullptr;
  const auto t_load = std::chrono::steady_clock::now();
  tsr_llm* model = nullptr;
  if (tsr_llm_load(ctx, a.model.c_str(), &lo, &model) != TSR_OK) {
    if (show_progress) std::fprintf(stderr, "\n");
    const int rc = fail("load");
    // The other ranks may be waiting for this one: end them now.
    if (a.tensor_parallel) tsr_context_comm_abort(ctx, rc);
    tsr_context_destroy(ctx);
    return rc;
  }
  const double load_seconds = seconds_since(t_load);
  if (a.placement) std::fprintf(stderr, "placement of the decode graph:\n%s", tsr_llm_placement(model));
  tsr_llm_info info{sizeof info};
  tsr_llm_get_info(model, &info);

  int rc = 0;
  tsr_llm_session* session = nullptr;
  tessera_run::Output out;
  out.stream = !a.json && !quiet;
  // -1: as many as the context holds (generation stops when it is full).
  const int32_t max_new = a.n_predict < 0 ? INT32_MAX : static_cast<int32_t>(a.n_predict);
  bool interactive_done = false;
  tsr_llm_stats st{sizeof st};
  std::vector<int32_t> prompt = a.prompt_tokens;
  double prefill_seconds = 0.0;
  do {
    if (a.has_prompt) {
      std::string text = a.prompt;
      if (a.chat) {
        std::vector<tessera_run::Message> messages;
        if (!a.system.empty()) messages.push_back({"system", a.system});
        messages.push_back({"user", a.prompt});
        if (!tessera_run::render_chat(model, a.chat_template, messages, &text)) {
          rc = 1;
          break;
        }
      }
      if (!tessera_run::tokenize(model, text, a.chat, &prompt)) {
        rc = 1;
        break;
      }
    }
    tsr_llm_sampling sp{sizeof sp};
    sp.temperature = static_cast<float>(a.temp);
    sp.top_k = static_cast<int32_t>(a.top_k);
    sp.top_p = static_cast<float>(a.top_p);
    sp.min_p = static_cast<float>(a.min_p);
    sp.repeat_penalty = static_cast<float>(a.repeat_penalty);
    sp.repeat_last_n = static_cast<int32_t>(a.repeat_last_n);
    sp.seed = a.seed;
    sp.ignore_eos = a.ignore_eos ? 1 : 0;
    if (tsr_llm_session_create(model, &sp, &session) != TSR_OK) {
      rc = fail("session");
      break;
    }
    if (a.interactive) {
      tessera_run::InteractiveOptions io;
      io.system = a.system;
      io.chat_template = a.chat_template;
      io.max_new = max_new;
      rc = tessera_run::run_interactive(model, session, io);
      interactive_done = true;
      break;
    }
    const int32_t n_prompt = static_cast<int32_t>(prompt.size());
    if (!a.dump_logits.empty()) {
      // Every prompt position's logits, then generation continues from them.
      const auto t0 = std::chrono::steady_clock::now();
      if (tsr_llm_session_eval(session, prompt.data(), n_prompt, 1) != TSR_OK) {
        rc = fail("eval");
        break;
      }
      prefill_seconds = seconds_since(t0);
      const float* logits = nullptr;
      int32_t rows = 0;
      tsr_llm_session_logits(session, &logits, &rows);
      const size_t count = static_cast<size_t>(rows) * info.n_vocab;
      FILE* f = quiet ? nullptr : std::fopen(a.dump_logits.c_str(), "wb");
      if (quiet) {
        // rank 0 writes the file
      } else if (!f || std::fwrite(logits, sizeof(float), count, f) != count || std::fclose(f) != 0) {
        std::fprintf(stderr, "tessera-run: cannot write %s: %s\n", a.dump_logits.c_str(),
                     std::strerror(errno));
        rc = 1;
        break;
      }
      if (tsr_llm_generate(session, nullptr, 0, max_new, tessera_run::on_token, &out, &st) != TSR_OK) {
        rc = fail("generate");
        break;
      }
      st.n_prompt = n_prompt;
      st.prefill_seconds = prefill_seconds;
      st.prefill_tokens_per_second = prefill_seconds > 0 ? n_prompt / prefill_seconds : 0.0;
    } else if (tsr_llm_generate(session, prompt.data(), n_prompt, max_new, tessera_run::on_token, &out,
                                &st) != TSR_OK) {
      rc = fail("generate");
      break;
    }
  } while (false);

  if (rc == 0 && !interactive_done && !quiet) {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const double peak_mib = static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is KiB on Linux
    // The placement's summary line: nodes per device, fallbacks, copies.
    const std::string placement = tsr_llm_placement(model);
    // Plus every node that fell back, with each device's reason: a user who
    // named a device sees what did not run there and why.
    std::string summary, fallbacks;
    for (size_t b = 0; b < placement.size();) {
      const size_t e = std::min(placement.find('\n', b), placement.size());
      const std::string line = placement.substr(b, e - b);
      if (line.find(" nodes") != std::string::npos && line.find("fallbacks") != std::string::npos)
        summary = line;
      else if (line.find("(fallback: ") != std::string::npos)
        fallbacks += "  " + line + "\n";
      b = e + 1;
    }
    if (a.json) {
      std::printf("{\"model\": \"%s\", \"architecture\": \"%s\", \"n_vocab\": %d, \"n_ctx\": %d, ",
                  json_escape(a.model).c_str(), json_escape(info.architecture).c_str(), info.n_vocab,
                  info.n_ctx);
      std::printf("\"seed\": %llu, \"load_seconds\": %.6f, \"n_prompt\": %d, \"prefill_seconds\": %.6f, ",
                  static_cast<unsigned long long>(a.seed), load_seconds, st.n_prompt, st.prefill_seconds);
      std::printf("\"prefill_tokens_per_second\": %.3f, \"n_generated\": %d, \"decode_seconds\": %.6f, ",
                  st.prefill_tokens_per_second, st.n_generated, st.decode_seconds);
      std::printf("\"decode_tokens_per_second\": %.3f, \"peak_rss_mib\": %.1f, \"placement\": \"%s\", ",
                  st.decode_tokens_per_second, peak_mib, json_escape(summary).c_str());
      std::printf("\"finish_reason\": \"%s\", \"ranks\": %d, ", tsr_llm_finish_reason_name(st.finish_reason),
                  tsr_context_comm_size(ctx));
      std::printf("\"prompt_tokens\": [");
      for (size_t i = 0; i < prompt.size(); ++i) std::printf("%s%d", i ? ", " : "", prompt[i]);
      std::printf("], \"tokens\": [");
      for (size_t i = 0; i < out.tokens.size(); ++i) std::printf("%s%d", i ? ", " : "", out.tokens[i]);
      std::printf("], \"text\": \"%s\"}\n", json_escape(out.text).c_str());
    } else {
      std::printf("\n");
      std::fflush(stdout);
    }
    if (st.finish_reason == TSR_LLM_FINISH_CONTEXT_FULL)
      std::fprintf(stderr,
                   "tessera-run: the context is full (n_ctx %d): generation stopped after %d tokens; --ctx N "
                   "allows a longer one\n",
                   info.n_ctx, st.n_generated);
    std::fprintf(stderr, "load:     %.3f s (%s, %d layers, n_ctx %d)\n", load_seconds, info.architecture,
                 info.n_layer, info.n_ctx);
    std::fprintf(stderr, "prefill:  %d tokens in %.3f s, %.1f tokens/s\n", st.n_prompt, st.prefill_seconds,
                 st.prefill_tokens_per_second);
    std::fprintf(stderr, "decode:   %d tokens in %.3f s, %.1f tokens/s\n", st.n_generated, st.decode_seconds,
                 st.decode_tokens_per_second);
    std::fprintf(stderr, "peak RSS: %.1f MiB\n", peak_mib);
    if (a.tensor_parallel) std::fprintf(stderr, "tensor parallel: %s\n", tsr_context_comm_describe(ctx));
    std::fprintf(stderr, "placement (decode graph): %s\n%s", summary.c_str(), fallbacks.c_str());
  }
  tsr_llm_session_free(session);
  tsr_llm_free(model);
  if (rc != 0 && a.tensor_parallel) tsr_context_comm_abort(ctx, rc);
  tsr_context_destroy(ctx);
  return rc;
}
