// tessera-bench: the types its parts share. The tool sits on the public C API
// (tessera.h, tessera_llm.h) exactly as an outside user would.
//
// Parts, one concept per file:
//   workloads.cpp     the catalogue of op workloads (LLM layer shapes) with
//                     their documented FLOP and byte counts
//   graphs.cpp        one workload -> a graph through the C API, with
//                     deterministic pseudo-random data
//   runner.cpp        compile strictly for one device, warm up, time
//   stats.cpp         summaries of runs: median, mean, stddev, 95% interval;
//                     speed ratios with Welch intervals
//   probe_native.cpp  CPU peaks: STREAM triad and an FMA-throughput loop
//   probe_cache.cpp   CPU memory roofs: the triad inside each cache level
//   roofline.cpp      each device's peaks and roofs: declared, native probe or
//                     op probe; the roof a workload is measured against
//   stamp.cpp         what every result file is stamped with
//   json.cpp          a small JSON value, reader and writer
//   output.cpp        the schema: table, JSON and CSV writers
//   sweep.cpp         list and range options (-t 1,2 -p 64-512*2)
//   ops.cpp           the ops subcommand: devices, peaks, the workload loop
//   e2e.cpp           prefill / decode tokens per second through tessera_llm.h
//   llama_bench.cpp   llama-bench's JSON / JSONL read as result files
//   comparison.cpp    merging result files: sources, rows, references, ratios
//   compare.cpp       the compare subcommand: table and CSV
//   report.cpp        the report subcommand: a static HTML page
//   svg.cpp           the charts compare and report write
//   main.cpp          command line
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tessera/tessera.h"
#include "tessera/tessera_llm.h"
#include "tools/bench/json.h"
#include "tools/common/cli.h"

namespace tessera_bench {

// Owning pointers over the C API's destroy functions.
template <typename T, void (*Destroy)(T*)>
struct Deleter {
  void operator()(T* p) const { Destroy(p); }
};
using ContextPtr = std::unique_ptr<tsr_context, Deleter<tsr_context, tsr_context_destroy>>;
using GraphPtr = std::unique_ptr<tsr_graph, Deleter<tsr_graph, tsr_graph_destroy>>;
using ModelPtr = std::unique_ptr<tsr_model, Deleter<tsr_model, tsr_model_destroy>>;
using LlmPtr = std::unique_ptr<tsr_llm, Deleter<tsr_llm, tsr_llm_free>>;
using SessionPtr = std::unique_ptr<tsr_llm_session, Deleter<tsr_llm_session, tsr_llm_session_free>>;

// "[what] message of tsr_last_error()".
std::string api_error(const char* what);

// ---- Workloads (workloads.cpp) ----------------------------------------------

enum class Kind { kMatmul, kAttention, kRmsNorm, kRope, kSoftmax, kAdd };

struct Workload {
  std::string name;   // unique, e.g. "matvec q4_1 smollm2.ffn_up 576x1536"
  std::string op;     // "matvec", "matmul", "gemm", "attention", "rms_norm", ...
  std::string dtype;  // weight / KV / activation dtype the name refers to
  std::string suite;  // "smollm2", "llama3-8b", "qwen2-7b", "common"
  Kind kind = Kind::kMatmul;
  std::vector<std::pair<std::string, int64_t>> shape;  // written as the "shape" object

  // matmul: w [K, M] of wtype, x f32 [K, N] -> f32 [M, N]
  int32_t wtype = TSR_DTYPE_F32;
  int64_t K = 0, M = 0, N = 0;
  // attention: q f32 [D, H, T], k/v f16 [D, Hkv, S], causal, positions S-T .. S-1
  // rope: x f32 [D, H, T]; rms_norm / softmax / add: x f32 [cols, rows]
  int64_t D = 0, H = 0, Hkv = 0, T = 0, S = 0;
  int64_t cols = 0, rows = 0;
  float rope_base = 10000.0f;

  double flop = 0;      // documented FLOP count of one execution
  double bytes = 0;     // documented minimum bytes moved by one execution
  uint64_t memory = 0;  // bytes the workload holds (host data + device copies)
};

// Workloads of a suite ("smollm2", "llama3-8b", "qwen2-7b", "all"); every
// suite includes the common ones ("gemm f32 1024"). Empty for an unknown suite.
std::vector<Workload> catalogue(const std::string& suite);
bool is_suite(const std::string& suite);
// Probe workloads for devices without a native probe: the best GB/s of the
// bandwidth probes and the best GFLOP/s of the FLOP probes become the peaks.
std::vector<Workload> bandwidth_probe_workloads();
std::vector<Workload> flops_probe_workloads();

// ---- Graphs (graphs.cpp) ------------------------------------------------------

// A workload's graph and the data it borrows (weights must outlive models).
struct BuiltGraph {
  GraphPtr graph;
  std::vector<std::vector<uint8_t>> weights;
  std::vector<std::pair<tsr_tensor, std::vector<uint8_t>>> inputs;
  tsr_tensor output = -1;
};

// On failure returns false with *err set (the C API's message).
bool build_graph(tsr_context* ctx, const Workload& w, BuiltGraph* out, std::string* err);

// ---- Timing and running (runner.cpp) --------------------------------------------

struct TimingOptions {
  double min_time = 0.5;          // seconds of timed runs, at least
  int reps = 5;                   // timed runs, at least
  int max_runs = 1000;            // timed runs, at most
  double warmup = 0.1;            // seconds of warm-up after the first run
  int threads = 0;                // the context's CPU worker threads, recorded in each result
  double noise_threshold = 0.05;  // a result whose relative standard deviation exceeds it is noisy
};

// ---- Statistics (stats.cpp) -------------------------------------------------------

struct Summary {
  std::vector<double> samples;  // in run order
  double median = 0, min = 0, max = 0, p10 = 0, p90 = 0;
  double spread = 0;  // (p90 - p10) / median
  double mean = 0, stddev = 0;
  double cv = 0;     // stddev / mean: the noise measure --noise-threshold checks
  double gmean = 0;  // geometric mean
  // 95% interval of the geometric mean: a Student-t interval on the logs of
  // the samples, mapped back (always positive); 0, 0 with one sample.
  double ci95_low = 0, ci95_high = 0;
};
Summary summarize(std::vector<double> samples);
// The two-sided 95% quantile of Student's t with df degrees of freedom.
double t_quantile_975(double df);

// How much faster one set of runs is than a baseline's: the ratio of the
// geometric means of their times (above 1 = faster than the baseline) with a
// Welch 95% interval on log times. overlap: the two sets' own 95% intervals
// overlap, so the difference is not established.
struct SpeedRatio {
  double ratio = 0;  // 0: no samples on one side
  double low = 0, high = 0;
  bool has_interval = false;  // both sides have two or more runs
  bool overlap = false;
};
SpeedRatio speed_ratio(const std::vector<double>& base_seconds, const std::vector<double>& seconds);

// One memory roof of a device: the bandwidth its kernels can reach while the
// data they touch fits in one level of the memory hierarchy.
struct MemoryRoof {
  std::string level;      // "L1", "L2", "L3", "DRAM" (CPU); probe sizes on other devices
  uint64_t capacity = 0;  // the most bytes served from this level, all threads together; 0 = unbounded
  double gbps = 0;
};

struct DeviceRecord {
  int32_t index = -1;
  std::string name, backend, description, vendor, driver, details;
  uint64_t memory_bytes = 0;
  double peak_gflops = 0, peak_gbps = 0;
  std::string peak_source;  // "declared", "probe:native", "probe:op", combinations joined by '+'
  int threads = 0;          // the CPU worker threads the peaks were measured with
  // Ascending capacity, the last unbounded (its gbps = peak_gbps); empty when
  // only the single peak_gbps is known.
  std::vector<MemoryRoof> roofs;
};

struct OpResult {
  const Workload* w = nullptr;
  std::string device, backend;
  std::string status = "ok";  // ok | unsupported | skipped | error
  std::string reason;
  int threads = 0;  // CPU worker threads of the context
  Summary t;
  bool noisy = false;  // relative standard deviation of the runs above the threshold
  double gflops = 0, gbps = 0, roofline_share = 0;
  // The memory roof the share is taken against: the smallest level holding
  // the workload's bytes (empty: the single peak_gbps).
  std::string roof_level;
  double roof_gbps = 0;
};

// Compiles w strictly for the device, warms up and times it. budget: the
// most bytes a workload may hold on this device (larger: "skipped").
OpResult run_workload(tsr_context* ctx, const DeviceRecord& dev, const Workload& w, const TimingOptions& o,
                      uint64_t budget);
// Fills gflops, gbps, roofline_share and the roof from the timing and the
// device's peaks (roofline.cpp).
void derive_rates(const DeviceRecord& dev, OpResult* r);

// ---- Peaks (probe_native.cpp, roofline.cpp) -------------------------------------

double native_triad_gbps(int threads);  // STREAM triad, GB/s
double native_fma_gflops(int threads);  // f32 FMA throughput, GFLOP/s
// STREAM-triad bandwidth inside each cache level and in DRAM on `threads`
// threads, ascending capacity, DRAM last (probe_cache.cpp).
std::vector<MemoryRoof> native_memory_roofs(int threads);
const char* native_simd_name();  // "avx512f", "avx2+fma" or "scalar"
// The bandwidth probes of bandwidth_probe_workloads() at a smaller working
// set: each moves at most max_bytes (workloads.cpp); an op probe's cache roofs.
std::vector<Workload> bandwidth_probe_workloads(uint64_t max_bytes);

// Reads every device's info and fills the peaks (declared, or probed).
bool describe_device(tsr_context* ctx, int32_t index, DeviceRecord* out, std::string* err);
// Fills the peaks the backend does not declare by probing (when probe), and
// peak_source (empty when nothing is known).
void measure_peaks(tsr_context* ctx, DeviceRecord* dev, int threads, bool probe);

// ---- Stamps and output (stamp.cpp, output.cpp) ----------------------------------

struct RunStamp {
  std::string subcommand, command_line;
  int threads = 0;
};
Json run_json(const RunStamp& s);
// "2026-12-07T04:17:06Z": the time now, UTC, as result files write it.
std::string utc_now_iso8601();
Json device_json(const DeviceRecord& d);
Json op_result_json(const OpResult& r);

struct E2eResult {
  std::string device, backend, model, test;
  int n_prompt = 0, n_gen = 0, threads = 0, n_batch = 0;
  Summary t;               // seconds per run
  Summary tps_summary;     // tokens per second per run (written: median, min, max, mean, ...)
  int fallback_nodes = 0;  // decode-graph nodes that ran on a device other than the one benchmarked
  bool noisy = false;      // relative standard deviation of the runs above the threshold
};
Json e2e_result_json(const E2eResult& r);

// The whole file: {"schema", "run", "devices", "results"}.
Json document(const RunStamp& s, const std::vector<DeviceRecord>& devices, std::vector<Json> results);
bool write_json_file(const std::string& path, const Json& doc, std::string* err);
bool write_csv_file(const std::string& path, const Json& doc, std::string* err);
// Writes the files asked for (an empty path: none); false after printing
// "tessera-bench <sub>: cannot write ..." to stderr.
bool write_outputs(const char* sub, const Json& doc, const std::string& json_path,
                   const std::string& csv_path);
// Text for HTML and SVG (text and attribute values): & < > " ' escaped, the
// control characters XML does not allow replaced by U+FFFD (the strings come
// from result files, which are user input).
std::string xml_escape(std::string_view s);
// "[i]": how a source is named in tables, charts and reports.
std::string source_tag(size_t i);
// RFC 4180 quoting when s holds a comma, quote or line break.
std::string csv_escape(const std::string& s);

// After a run: "N of M rows noisy" on stderr when any was (their rows are
// marked in the table and "noisy": true in the files).
void report_noise(const char* sub, int noisy, int rows, double threshold);
void print_op_header();
void print_op_row(const OpResult& r);
void print_device(const DeviceRecord& d);
void print_e2e_header();
void print_e2e_row(const E2eResult& r);

// ---- Command line (main.cpp) ------------------------------------------------------

using tessera_tools::parse_double;
using tessera_tools::parse_int;
// A sweep list (sweep.cpp): comma-separated numbers and ranges
// "first-last", "first-last+step", "first-last*factor", each value in
// [lo, hi], at most 1024 values; repeats dropped, order kept. Appends to
// *out; false with *why on bad text.
bool parse_int_list(const std::string& text, int64_t lo, int64_t hi, std::vector<int64_t>* out,
                    std::string* why);
// "a,b,,c" -> {"a", "b", "c"}.
std::vector<std::string> split_list(const std::string& text);
// Prints "tessera-bench <sub>: msg" and a usage hint to stderr; returns 2.
int usage_error(const char* sub, const std::string& msg);
// Creates the context (threads: CPU workers, 0 = all cores) with the backend
// plugins given (a vendor's out-of-tree backend) and resolves device names
// ("cpu", "vulkan:0"; none = every device). Returns 0, or the exit code after
// printing why (1: the library or a plugin failed, 2: unknown device).
int open_devices(const char* sub, int threads, const std::vector<std::string>& plugins,
                 const std::vector<std::string>& names, ContextPtr* ctx, std::vector<DeviceRecord>* out);
// The worker threads a run uses: threads, or the hardware's when 0.
int effective_threads(int threads);

// ---- Subcommands --------------------------------------------------------------

int ops_main(int argc, char** argv, const std::string& command_line);
int e2e_main(int argc, char** argv, const std::string& command_line);
int compare_main(int argc, char** argv);
// The comparison as a static HTML page, DIR/index.html, and its charts (report.cpp).
int report_main(int argc, char** argv, const std::string& command_line);

// llama-bench's results (-o json or -o jsonl) as a tessera-bench/1 document
// of e2e results (llama_bench.cpp). False: the text is not llama-bench's
// (the caller reports its own error). True with *err empty: converted, *format
// = "llama-bench JSON" or "llama-bench JSONL"; true with *err set: it is
// llama-bench's but malformed.
bool read_llama_bench(std::string_view text, Json* doc, std::string* format, std::string* err);

// ---- Comparison (comparison.cpp) ---------------------------------------------------

// One column of a comparison: an (engine, device, threads, host) of one
// result file.
struct ChartSource {
  std::string label;                 // "tessera cpu:0 t=2 @host"
  Json device;                       // the file's record of the device (null when absent)
  std::vector<const Json*> results;  // its results, owned by the loaded document
  std::string engine, device_name, host, path;
  int threads = 0;  // 0: not recorded
};

struct ResultFile {
  std::string path, format;  // format: "tessera-bench/1", "llama-bench JSON", "llama-bench JSONL"
  Json doc;                  // as tessera-bench/1
};
// Reads a tessera-bench/1 file or llama-bench's JSON/JSONL output; false
// with *err naming the file and the problem.
bool load_result_file(const std::string& path, ResultFile* out, std::string* err);

struct CompareCell {
  const Json* result = nullptr;  // null: the source has no such row
  bool ok = false;
  std::string status;           // "ok", or an op's status (unsupported, skipped, error)
  double value = 0;             // ops: median seconds; e2e: median tokens/s
  double low = 0, high = 0;     // 95% interval of the (geometric) mean, value's unit; 0, 0: none
  std::vector<double> seconds;  // per-run times
  bool noisy = false;
  int reference = -1;  // the source its ratio is against (-1: none)
  SpeedRatio ratio;    // speed against the reference (above 1 = faster)
};
struct CompareRow {
  std::string key, kind;  // kind "op" or "e2e"
  std::vector<CompareCell> cells;
};
// Points into its own documents: built in place, never copied or moved.
struct Comparison {
  Comparison() = default;
  Comparison(const Comparison&) = delete;
  Comparison& operator=(const Comparison&) = delete;
  std::vector<ResultFile> files;
  std::vector<ChartSource> sources;
  std::vector<CompareRow> rows;  // op rows, then e2e rows, in order of appearance
  std::vector<int> baseline;     // the sources --baseline matched; empty when none was given
};
// Loads the files and merges them. baseline: "" = each row against the first
// source that has it; else a file (as given, or its name) or a device
// ("cpu", "vulkan:0") or engine ("llama.cpp"), a thread count "t=2" or a
// host "@name", or several of these separated by spaces, all to match
// ("cpu t=1"): the sources it matches are the baseline, each other source
// compared with the one of the same thread count (else the first). False with *err for an unreadable file or
// a baseline that matches nothing.
bool build_comparison(const std::vector<std::string>& paths, const std::string& baseline, Comparison* out,
                      std::string* err);
// "12.3 (x1.45 1.30-1.62)" style text of a cell: value (ops in ms), its ratio
// and interval, '~' when the intervals overlap, '!' when noisy.
std::string cell_text(const CompareRow& row, size_t source);

// The charts as (name, SVG text), in the order a report shows them: "ops",
// "e2e", "roofline", ... (svg.cpp).
std::vector<std::pair<std::string, std::string>> render_svgs(const std::vector<ChartSource>& sources);
// PREFIX-<name>.svg for each chart; false with *err when a file cannot be
// written.
bool write_svgs(const std::string& prefix, const std::vector<ChartSource>& sources, std::string* err);

}  // namespace tessera_bench
