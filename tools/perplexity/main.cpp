// tessera-perplexity: perplexity of a model over a text file, chunked the way
// llama.cpp's llama-perplexity chunks (so the numbers compare), and the KL
// divergence of this run's distributions against a reference saved by
// another device or build. Uses only the public C API.
//
//   tessera-perplexity -m M.gguf -f text.txt [--device D] [-c 512] [--chunks N]
//                      [--save-reference F] [--kl-divergence F] [--json F]
//
// Chunking (llama-perplexity's): the whole text is tokenized once (with BOS
// when the model adds one); chunk i is tokens [i n_ctx, (i+1) n_ctx), its
// first token replaced by BOS when the model adds one, evaluated from an
// empty cache; only the second half is scored: the logits at positions
// n_ctx/2 .. n_ctx-2 predict the token after them (n_ctx/2 - 1 per chunk).
// PPL = exp(mean NLL). Exit codes: 0 ok, 1 runtime error, 2 usage error.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tessera/tessera.h"
#include "tessera/tessera_llm.h"
#include "tools/common/cli.h"
#include "tools/perplexity/perplexity_git.h"
#include "tools/perplexity/reference_file.h"
#include "tools/perplexity/scoring.h"

namespace {

using tessera_tools::json_escape;
using tessera_tools::parse_int;
namespace ppl = tessera_tools::ppl;

struct Args {
  std::string model, text_file, save_ref, kl_ref, json;
  std::vector<std::string> devices, plugins;
  int64_t n_ctx = 512, max_chunks = 0, threads = 0, batch = 0;
};

int usage() {
  std::fprintf(stderr,
               "usage: tessera-perplexity -m MODEL -f TEXT [--device NAME]... [--plugin PATH]... [-c N_CTX]\n"
               "                          [--chunks N] [--threads T] [--batch N] [--save-reference FILE]\n"
               "                          [--kl-divergence FILE] [--json FILE]\n"
               "  -c N_CTX             tokens per chunk (default 512, llama-perplexity's)\n"
               "  --chunks N           score at most N chunks (default: all whole chunks)\n"
               "  --save-reference F   save the tokens and every scored distribution (f32) to F\n"
               "  --kl-divergence F    compare with a reference saved by --save-reference: mean/max\n"
               "                       KL divergence, its quantiles and top-1 agreement\n"
               "  --json FILE          write the results as one JSON object\n");
  return 2;
}

int parse_args(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "-h" || k == "--help") return usage();
    if (i + 1 >= argc) {
      std::fprintf(stderr, "tessera-perplexity: %s needs a value\n", k.c_str());
      return usage();
    }
    const char* v = argv[++i];
    bool ok = true;
    if (k == "-m" || k == "--model") {
      a->model = v;
    } else if (k == "-f" || k == "--file") {
      a->text_file = v;
    } else if (k == "--device") {
      a->devices.push_back(v);
    } else if (k == "--plugin") {
      a->plugins.push_back(v);
    } else if (k == "-c" || k == "--ctx") {
      ok = parse_int(v, 4, 1 << 20, &a->n_ctx);
    } else if (k == "--chunks") {
      ok = parse_int(v, 0, 1 << 30, &a->max_chunks);
    } else if (k == "--threads") {
      ok = parse_int(v, 0, 4096, &a->threads);
    } else if (k == "--batch") {
      ok = parse_int(v, 1, 1 << 20, &a->batch);
    } else if (k == "--save-reference") {
      a->save_ref = v;
    } else if (k == "--kl-divergence") {
      a->kl_ref = v;
    } else if (k == "--json") {
      a->json = v;
    } else {
      std::fprintf(stderr, "tessera-perplexity: unknown option %s\n", k.c_str());
      return usage();
    }
    if (!ok) {
      std::fprintf(stderr, "tessera-perplexity: bad value '%s' for %s\n", v, k.c_str());
      return 2;
    }
  }
  if (a->model.empty() || a->text_file.empty()) return usage();
  return 0;
}

int fail(const char* what, const std::string& msg) {
  std::fprintf(stderr, "tessera-perplexity: %s: %s\n", what, msg.c_str());
  return 1;
}

// Holds the C API objects; frees them in order.
struct Engine {
  tsr_context* ctx = nullptr;
  tsr_llm* model = nullptr;
  tsr_llm_session* session = nullptr;
  ~Engine() {
    tsr_llm_session_free(session);
    tsr_llm_free(model);
    tsr_context_destroy(ctx);
  }
};

struct Result {
  int32_t n_tokens = 0, n_chunks = 0, n_scored = 0;
  double ppl = 0, ppl_stderr = 0;  // stderr by the delta method on mean NLL
  ppl::Stats kl;
  int64_t same_top1 = 0;
  double ref_ppl = 0;
  bool has_kl = false;
};

int run(const Args& a) {
  std::ifstream in(a.text_file, std::ios::binary);
  if (!in) return fail("text", "cannot read '" + a.text_file + "': " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();

  Engine e;
  std::vector<const char*> plugin_paths;
  for (const std::string& p : a.plugins) plugin_paths.push_back(p.c_str());
  tsr_context_options co{sizeof co, static_cast<int32_t>(a.threads), plugin_paths.data(),
                         static_cast<int32_t>(plugin_paths.size())};
  if (tsr_context_create(&co, &e.ctx) != TSR_OK) return fail("context", tsr_last_error());
  std::vector<const char*> devices;
  for (const std::string& d : a.devices) devices.push_back(d.c_str());
  tsr_llm_options lo{sizeof lo};
  lo.devices = devices.empty() ? nullptr : devices.data();
  lo.n_devices = static_cast<int32_t>(devices.size());
  lo.n_ctx = static_cast<int32_t>(a.n_ctx);
  lo.n_batch = static_cast<int32_t>(a.batch ? a.batch : a.n_ctx);
  if (tsr_llm_load(e.ctx, a.model.c_str(), &lo, &e.model) != TSR_OK) return fail("load", tsr_last_error());
  tsr_llm_info info{sizeof info};
  tsr_llm_get_info(e.model, &info);
  tsr_llm_sampling sp{sizeof sp, 0.0f};
  if (tsr_llm_session_create(e.model, &sp, &e.session) != TSR_OK) return fail("session", tsr_last_error());

  // Tokenize once; BOS only if the model's metadata asks for it.
  int32_t n = 0;
  tsr_llm_tokenize(e.model, text.data(), static_cast<int64_t>(text.size()), 1, 0, nullptr, 0, &n);
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  if (tsr_llm_tokenize(e.model, text.data(), static_cast<int64_t>(text.size()), 1, 0, tokens.data(), n, &n) !=
      TSR_OK)
    return fail("tokenize", tsr_last_error());
  int32_t bos_probe[2], n_probe = 0;
  tsr_llm_tokenize(e.model, "", 0, 1, 0, bos_probe, 2, &n_probe);
  const bool add_bos = n_probe == 1;
  const int32_t n_ctx = static_cast<int32_t>(a.n_ctx);
  int32_t n_chunks = static_cast<int32_t>(tokens.size() / n_ctx);
  if (a.max_chunks > 0) n_chunks = std::min<int32_t>(n_chunks, static_cast<int32_t>(a.max_chunks));
  if (n_chunks == 0)
    return fail("text", "'" + a.text_file + "' has " + std::to_string(tokens.size()) +
                            " tokens, fewer than one chunk of " + std::to_string(n_ctx) + " (-c)");
  const int32_t first = n_ctx / 2, n_scored = n_ctx - 1 - first;

  ppl::ReferenceHeader hdr{info.n_vocab, n_ctx, n_chunks, n_scored, {}};
  std::vector<int32_t> chunk_tokens;
  for (int32_t c = 0; c < n_chunks; ++c) {
    std::vector<int32_t> t(tokens.begin() + c * n_ctx, tokens.begin() + (c + 1) * n_ctx);
    if (add_bos) t[0] = bos_probe[0];
    hdr.tokens.insert(hdr.tokens.end(), t.begin(), t.end());
  }

  std::string err;
  ppl::ReferenceReader ref;
  Result r;
  if (!a.kl_ref.empty()) {
    if (!ref.open(a.kl_ref, &err)) return fail("reference", err);
    const ppl::ReferenceHeader& rh = ref.header();
    if (rh.n_vocab != hdr.n_vocab || rh.n_ctx != hdr.n_ctx || rh.n_chunks != hdr.n_chunks)
      return fail("reference", "'" + a.kl_ref + "' holds n_vocab " + std::to_string(rh.n_vocab) + ", n_ctx " +
                                   std::to_string(rh.n_ctx) + ", " + std::to_string(rh.n_chunks) +
                                   " chunks; this run has " + std::to_string(hdr.n_vocab) + ", " +
                                   std::to_string(hdr.n_ctx) + ", " + std::to_string(hdr.n_chunks));
    if (rh.tokens != hdr.tokens)
      return fail("reference", "'" + a.kl_ref + "' was made from other tokens (another text or tokenizer)");
    r.has_kl = true;
  }
  ppl::ReferenceWriter writer;
  if (!a.save_ref.empty() && !writer.open(a.save_ref, hdr, &err)) return fail("reference", err);

  std::vector<float> logp(static_cast<size_t>(info.n_vocab)), ref_logp(logp.size());
  double nll = 0.0, nll2 = 0.0, ref_nll = 0.0;
  int64_t count = 0;
  for (int32_t c = 0; c < n_chunks; ++c) {
    const int32_t* t = hdr.tokens.data() + static_cast<size_t>(c) * n_ctx;
    if (tsr_llm_session_reset(e.session) != TSR_OK || tsr_llm_session_eval(e.session, t, n_ctx, 1) != TSR_OK)
      return fail("eval", tsr_last_error());
    const float* logits = nullptr;
    int32_t rows = 0;
    if (tsr_llm_session_logits(e.session, &logits, &rows) != TSR_OK || rows != n_ctx)
      return fail("logits", tsr_last_error());
    for (int32_t j = first; j < n_ctx - 1; ++j) {
      ppl::log_softmax(logits + static_cast<size_t>(j) * info.n_vocab, info.n_vocab, logp.data());
      // The next token of the original text (position j + 1 is never the BOS slot).
      const double v = -logp[static_cast<size_t>(t[j + 1])];
      nll += v;
      nll2 += v * v;
      ++count;
      if (writer.open_ok() && !writer.write_row(logp.data(), &err)) return fail("reference", err);
      if (r.has_kl) {
        if (!ref.read_row(ref_logp.data(), &err)) return fail("reference", err);
        const ppl::KlPoint k = ppl::kl_divergence(ref_logp.data(), logp.data(), info.n_vocab);
        r.kl.add(k.kl);
        r.same_top1 += k.same_top1;
        ref_nll += -ref_logp[static_cast<size_t>(t[j + 1])];
      }
    }
    std::fprintf(stderr, "[%d/%d] running PPL %.4f\n", c + 1, n_chunks,
                 std::exp(nll / static_cast<double>(count)));
  }
  if (writer.open_ok() && !writer.close(&err)) return fail("reference", err);

  r.n_tokens = static_cast<int32_t>(tokens.size());
  r.n_chunks = n_chunks;
  r.n_scored = static_cast<int32_t>(count);
  const double mean = nll / static_cast<double>(count);
  const double var = std::max(0.0, nll2 / static_cast<double>(count) - mean * mean);
  r.ppl = std::exp(mean);
  r.ppl_stderr = r.ppl * std::sqrt(var / static_cast<double>(count - 1 > 0 ? count - 1 : 1));
  if (r.has_kl) r.ref_ppl = std::exp(ref_nll / static_cast<double>(count));

  std::printf("model %s, %d tokens, %d chunks of %d, %d scored\n", a.model.c_str(), r.n_tokens, r.n_chunks,
              n_ctx, r.n_scored);
  std::printf("PPL = %.4f +/- %.4f\n", r.ppl, r.ppl_stderr);
  if (r.has_kl) {
    std::printf("reference PPL = %.4f, ln(PPL / reference PPL) = %.4g\n", r.ref_ppl,
                std::log(r.ppl / r.ref_ppl));
    std::printf("KL divergence: mean %.4g +/- %.2g, max %.4g, 99%% %.4g, 95%% %.4g, median %.4g\n",
                r.kl.mean(), r.kl.stderr_of_mean(), r.kl.max(), r.kl.quantile(0.99), r.kl.quantile(0.95),
                r.kl.quantile(0.5));
    std::printf("same top-1: %.3f%% (%lld of %d)\n", 100.0 * r.same_top1 / r.n_scored,
                static_cast<long long>(r.same_top1), r.n_scored);
  }
  if (!a.json.empty()) {
    std::FILE* f = std::fopen(a.json.c_str(), "w");
    if (!f) return fail("json", "cannot write '" + a.json + "': " + std::strerror(errno));
    std::fprintf(
        f,
        "{\"model\": \"%s\", \"text\": \"%s\", \"placement\": \"%s\", \"n_tokens\": %d, \"n_ctx\": %d, "
        "\"n_chunks\": %d, \"n_scored\": %d, \"ppl\": %.9g, \"ppl_stderr\": %.9g",
        json_escape(a.model).c_str(), json_escape(a.text_file).c_str(),
        json_escape(tsr_llm_placement(e.model)).c_str(), r.n_tokens, n_ctx, r.n_chunks, r.n_scored, r.ppl,
        r.ppl_stderr);
    if (r.has_kl)
      std::fprintf(f,
                   ", \"reference_ppl\": %.9g, \"kl_mean\": %.9g, \"kl_stderr\": %.9g, \"kl_max\": %.9g, "
                   "\"kl_p99\": %.9g, \"kl_p95\": %.9g, \"kl_median\": %.9g, \"same_top1\": %.9g",
                   r.ref_ppl, r.kl.mean(), r.kl.stderr_of_mean(), r.kl.max(), r.kl.quantile(0.99),
                   r.kl.quantile(0.95), r.kl.quantile(0.5), static_cast<double>(r.same_top1) / r.n_scored);
    std::fprintf(f, ", \"tokens\": [");
    for (size_t i = 0; i < hdr.tokens.size(); ++i) std::fprintf(f, "%s%d", i ? ", " : "", hdr.tokens[i]);
    std::fprintf(f, "]}\n");
    std::fclose(f);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (tessera_tools::version_asked(argc, argv))
    return tessera_tools::print_version("tessera-perplexity", TSR_PERPLEXITY_GIT_COMMIT);
  Args a;
  if (const int rc = parse_args(argc, argv, &a)) return rc;
  return run(a);
}
