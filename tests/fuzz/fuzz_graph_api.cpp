// libFuzzer target: the public C graph API (tessera.h) driven by a byte
// stream decoded into calls: leaves with any dtype, rank and dims, ops with
// any id, inputs and parameters, outputs, device placement, then compile
// (for the CPU, or the null device, whose every node falls back to the CPU);
// when that succeeds, every input set from the input's bytes, one execution
// and every output read back. One context for the whole run
// (LLVMFuzzerInitialize); it must stay usable whatever a program did.
//
// Input (fuzz_input.h):
//   u8  flags: bit 0 strict, bit 1 no transfer cost (compile); bit 2: the
//       first input is given one byte too few (refused; it keeps its zeros)
//   u8  device list (kDeviceLists)
//   u8  step parameters: n = value mod 5 (0xff: 2 with a null array), each a param value
//   commands until 0xff or the end, at most kMaxCommands (see run_command);
//   the bytes after 0xff fill inputs and weights (a fixed pattern when none).
//
// Values: dims, ranks, dtypes and parameters are mostly small and valid,
// some huge, negative or out of range (decode_dim and friends), so both the
// computation and the refusals are exercised.
//
// Checked on every call: the status is one tessera.h defines and never
// TSR_ERR_INTERNAL ("a bug in Tessera"); a failure leaves a message and its
// out-parameter untouched, a success no message; a leaf with a rank outside
// 1..4 or a negative dim is refused. The fuzzer compiles only graphs whose
// tensors are all small (<= kMaxCompileBytes) or beyond any machine's memory
// (>= kHugeBytes, which compile must refuse or leave unallocated): a tensor
// of a few GiB is a legitimate request that libFuzzer's malloc limit would
// report. It executes only graphs whose estimated work is small.
//
// scripts/fuzz.sh runs it with ASAN_OPTIONS=allocator_may_return_null=1: the
// null backend (plain C, the template vendors copy) hands calloc the size
// core asks for, and a huge tensor placed there must come back as
// TSR_ERR_OUT_OF_MEMORY, as it does outside AddressSanitizer, whose
// allocator otherwise ends the process on such a request.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "tessera/tessera.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using tessera_fuzz::FuzzInput;

constexpr int kMaxCommands = 48;
constexpr uint8_t kEndOfProgram = 0xff;
constexpr double kMaxCompileBytes = 4.0 * (1 << 20);
constexpr double kHugeBytes = 1099511627776.0;  // 1 TiB
constexpr double kMaxWork = 4.0 * (1 << 20);    // element-steps of one execution

tsr_context* g_ctx = nullptr;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "ERROR: fuzz_graph_api: %s\n", what.c_str());
  std::abort();
}

// Every status must be one tessera.h lists, never INTERNAL; a failure leaves a
// message, a success none.
bool ok(tsr_status_code rc, const char* call) {
  if (rc < TSR_OK || rc > TSR_ERR_ABORTED) fail(std::string(call) + " returned status " + std::to_string(rc));
  if (rc == TSR_ERR_INTERNAL) fail(std::string(call) + " returned TSR_ERR_INTERNAL: " + tsr_last_error());
  if (rc != TSR_OK && tsr_last_error()[0] == '\0') fail(std::string(call) + " failed without a message");
  if (rc == TSR_OK && tsr_last_error()[0] != '\0') fail(std::string(call) + " succeeded with a message");
  return rc == TSR_OK;
}

constexpr int64_t kOddValues[] = {-1,
                                  -2,
                                  std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max(),
                                  int64_t{1} << 31,
                                  (int64_t{1} << 31) - 1,
                                  int64_t{1} << 32,
                                  int64_t{1} << 40,
                                  int64_t{1} << 50,
                                  int64_t{1} << 62,
                                  std::numeric_limits<int32_t>::min(),
                                  -(int64_t{1} << 40),
                                  int64_t{1} << 20,
                                  (int64_t{1} << 20) + 1,
                                  3 * (int64_t{1} << 61),
                                  0};

// A dim: 1..8 mostly, block-size multiples and a few larger ones sometimes,
// else an odd value (kOddValues) or any int64.
int64_t decode_dim(FuzzInput& in) {
  static constexpr int64_t kSizes[] = {0, 16, 32, 64,  96,  128, 256,  512,
                                       0, 24, 48, 100, 127, 255, 1024, 2048};
  const uint8_t b = in.u8();
  if (b < 0xc0) return 1 + b % 8;
  if (b < 0xd0) return kSizes[b - 0xc0];
  if (b < 0xf0) return kOddValues[b % 16];
  return static_cast<int64_t>(in.u64());
}

// An integer parameter: 0..15 mostly, else a dim.
int64_t decode_param(FuzzInput& in) {
  const uint8_t b = in.u8();
  if (b < 0x80) return b % 16;
  if (b < 0xa0) return 4 * (b % 32);  // byte strides and offsets of f32 views
  return decode_dim(in);
}

float decode_float(FuzzInput& in) {
  static constexpr float kFloats[] = {0,    1,  -1,     0.5f,  2,  1e-5f, 1e-6f,  10000,
                                      1e6f, 30, 0.125f, -0.5f, 50, 1e30f, -1e30f, 3};
  const uint8_t b = in.u8();
  if (b < 0xe0) return kFloats[b % 16];
  return in.f32();  // any bits: NaN, infinities, denormals
}

int32_t decode_rank(FuzzInput& in) {
  static constexpr int32_t kOdd[] = {
      0, -1, 5, 100, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), 8, 0};
  const uint8_t b = in.u8();
  return b < 0xf0 ? 1 + b % 4 : kOdd[b % 8];
}

constexpr int32_t kDtypes[] = {TSR_DTYPE_F32,  TSR_DTYPE_F16,  TSR_DTYPE_Q4_0, TSR_DTYPE_Q4_1,
                               TSR_DTYPE_Q5_0, TSR_DTYPE_Q5_1, TSR_DTYPE_Q8_0, TSR_DTYPE_Q2_K,
                               TSR_DTYPE_Q3_K, TSR_DTYPE_Q4_K, TSR_DTYPE_Q5_K, TSR_DTYPE_Q6_K,
                               TSR_DTYPE_Q8_K, TSR_DTYPE_I8,   TSR_DTYPE_I32,  TSR_DTYPE_BF16};

int32_t decode_dtype(FuzzInput& in) {
  const uint8_t b = in.u8();
  if (b < 0x80) return TSR_DTYPE_F32;
  if (b < 0xa0) return TSR_DTYPE_F16;
  if (b < 0xb0) return TSR_DTYPE_I32;
  if (b < 0xf0) return kDtypes[b % 16];
  return static_cast<int32_t>(in.u32());  // mostly not a dtype
}

// Block size and bytes per block of each dtype, read from the library at
// start-up (the contiguous layout of a leaf), to size inputs and outputs.
struct BlockInfo {
  int64_t size = 0, bytes = 0;
};
BlockInfo g_blocks[TSR_DTYPE_COUNT];

double contiguous_bytes(const tsr_tensor_desc& d) {
  if (d.dtype < 0 || d.dtype >= TSR_DTYPE_COUNT || g_blocks[d.dtype].size == 0) return 0;
  double elements = 1;
  for (int k = 0; k < TSR_MAX_DIMS; ++k) elements *= static_cast<double>(std::max<int64_t>(d.ne[k], 0));
  return elements / static_cast<double>(g_blocks[d.dtype].size) *
         static_cast<double>(g_blocks[d.dtype].bytes);
}

double element_count(const tsr_tensor_desc& d) {
  double n = 1;
  for (int k = 0; k < TSR_MAX_DIMS; ++k) n *= static_cast<double>(std::max<int64_t>(d.ne[k], 0));
  return n;
}

enum class Kind { kInput, kWeight, kState, kOp };

struct Tensor {
  tsr_tensor id;
  Kind kind;
  int32_t op;  // kOp: the op; for the work estimate
  tsr_tensor_desc desc;
  tsr_tensor_desc in0;  // kOp: input 0's desc
};

// One program: its graph, its tensors and the bytes weights borrow.
struct Program {
  tsr_graph* graph = nullptr;
  std::vector<Tensor> tensors;
  std::vector<tsr_tensor> outputs;
  std::vector<std::vector<uint8_t>> weight_data;  // must outlive the graph and the model
  std::string_view pool;                          // bytes that fill inputs and weights
  int n_named = 0;

  ~Program() { tsr_graph_destroy(graph); }

  void fill(uint8_t* dst, size_t n) const {
    for (size_t i = 0; i < n; ++i)
      dst[i] = pool.empty() ? static_cast<uint8_t>(i * 37 + 11) : static_cast<uint8_t>(pool[i % pool.size()]);
  }
};

tsr_tensor decode_ref(FuzzInput& in, const Program& p) {
  static constexpr tsr_tensor kOdd[] = {-1, 12345, std::numeric_limits<int32_t>::min(),
                                        std::numeric_limits<int32_t>::max()};
  const uint8_t b = in.u8();
  if (b < 0xf0) return p.tensors.empty() ? b : p.tensors[b % p.tensors.size()].id;
  if (b < 0xf4) return kOdd[b % 4];
  return static_cast<tsr_tensor>(p.tensors.size() + b % 4);  // just past the last
}

void record(Program& p, tsr_tensor id, Kind kind, int32_t op, const tsr_tensor_desc* in0) {
  tsr_tensor_desc d{};
  if (!ok(tsr_graph_tensor_desc(p.graph, id, &d), "graph_tensor_desc")) fail("a new tensor has no desc");
  p.tensors.push_back({id, kind, op, d, in0 ? *in0 : tsr_tensor_desc{}});
}

// A leaf: dtype, rank, four dims (rank of them used). A rank outside 1..4 or
// a negative dim in use must be refused.
void add_leaf(FuzzInput& in, Program& p, Kind kind) {
  const int32_t dtype = decode_dtype(in);
  const int32_t rank = decode_rank(in);
  int64_t ne[TSR_MAX_DIMS];
  for (int64_t& n : ne) n = decode_dim(in);
  const std::string name = "t" + std::to_string(p.n_named++);
  const bool must_refuse =
      rank < 1 || rank > TSR_MAX_DIMS ||
      std::any_of(ne, ne + std::clamp(rank, 0, TSR_MAX_DIMS), [](int64_t n) { return n < 0; });
  tsr_tensor t = -77;
  tsr_status_code rc;
  const char* call;
  if (kind == Kind::kInput) {
    call = "graph_input";
    rc = tsr_graph_input(p.graph, name.c_str(), dtype, rank, ne, &t);
  } else if (kind == Kind::kState) {
    call = "graph_state";
    rc = tsr_graph_state(p.graph, name.c_str(), dtype, rank, ne, &t);
  } else {
    // The size a weight needs is that of an input of the same shape (when
    // one can be declared); the data is then that many bytes, or a size
    // off by the mode's amount, which must be refused.
    call = "graph_weight";
    const uint8_t mode = in.u8();
    tsr_graph* scratch = nullptr;
    if (!ok(tsr_graph_create(g_ctx, &scratch), "graph_create")) fail("graph_create failed");
    tsr_tensor probe = -1;
    double need = 0;
    if (tsr_graph_input(scratch, "probe", dtype, rank, ne, &probe) == TSR_OK) {
      tsr_tensor_desc d{};
      if (ok(tsr_graph_tensor_desc(scratch, probe, &d), "graph_tensor_desc")) need = contiguous_bytes(d);
    }
    tsr_graph_destroy(scratch);
    static constexpr int64_t kOff[] = {0, 0, 0, 0, 0, 0, -1, 1, -4, 4, -18, 1 << 20, -(1 << 30), 0, 0, 0};
    const int64_t size =
        std::max<int64_t>(0, static_cast<int64_t>(std::min(need, kMaxCompileBytes)) + kOff[mode % 16]);
    std::vector<uint8_t>& bytes = p.weight_data.emplace_back(static_cast<size_t>(size));
    p.fill(bytes.data(), bytes.size());
    // A null pointer for an empty weight: the library must refuse it, not read it.
    rc = tsr_graph_weight(p.graph, name.c_str(), dtype, rank, ne, bytes.empty() ? nullptr : bytes.data(),
                          static_cast<uint64_t>(size), &t);
    if (rc == TSR_OK && static_cast<double>(size) != need)
      fail("graph_weight accepted " + std::to_string(size) + " bytes for a tensor of " +
           std::to_string(need));
  }
  if (!ok(rc, call)) {
    if (t != -77) fail(std::string(call) + " wrote its out-parameter on failure");
    return;
  }
  if (must_refuse) fail(std::string(call) + " accepted rank " + std::to_string(rank) + " or a negative dim");
  record(p, t, kind, -1, nullptr);
}

void add_op(FuzzInput& in, Program& p) {
  const uint8_t ob = in.u8();
  const int32_t op = ob < 0xf0 ? ob % (TSR_OP_COUNT + 1) : static_cast<int32_t>(in.u32());
  const uint8_t nb = in.u8();
  static constexpr int32_t kOddCounts[] = {0, 7, -1, 100, std::numeric_limits<int32_t>::min(), 8, 6, 0};
  const int32_t n_inputs = nb < 0xf8 ? 1 + nb % 6 : kOddCounts[nb % 8];
  tsr_tensor inputs[8];
  for (int i = 0; i < 8; ++i) inputs[i] = i < std::clamp(n_inputs, 0, 8) ? decode_ref(in, p) : -1;
  tsr_op_params params{};
  const uint16_t imask = in.u16();
  const uint8_t fmask = in.u8();
  for (int i = 0; i < TSR_MAX_IPARAMS; ++i)
    if (imask >> i & 1) params.i[i] = decode_param(in);
  for (int i = 0; i < TSR_MAX_FPARAMS; ++i)
    if (fmask >> i & 1) params.f[i] = decode_float(in);
  const uint8_t how = in.u8();
  const tsr_op_params* pp = how % 8 == 0 ? nullptr : &params;  // null: all zero
  const tsr_tensor* ip = how % 8 == 1 ? nullptr : inputs;      // null with inputs: refused
  tsr_tensor out = -77;
  const tsr_status_code rc = tsr_graph_op(p.graph, op, ip, n_inputs, pp, &out);
  if (!ok(rc, "graph_op")) {
    if (out != -77) fail("graph_op wrote its out-parameter on failure");
    return;
  }
  if (!ip && n_inputs > 0) fail("graph_op accepted a null input list");
  tsr_tensor_desc in0{};
  for (const Tensor& t : p.tensors)
    if (n_inputs > 0 && t.id == inputs[0]) in0 = t.desc;
  record(p, out, Kind::kOp, op, &in0);
}

void set_device(FuzzInput& in, Program& p) {
  static const char* const kNames[] = {nullptr, "", "cpu", "cpu:0", "null", "null:0", "nope:3", "cpu:1"};
  const uint8_t b = in.u8();
  const std::string any(b < 0xf0 ? std::string_view() : in.str8());
  (void)ok(tsr_graph_set_device(p.graph, b < 0xf0 ? kNames[b % 8] : any.c_str()), "graph_set_device");
}

// Commands: 0 input, 1 weight, 2 state, 3-5 op, 6 output, 7 set_device (by
// value mod 8).
void run_command(uint8_t cmd, FuzzInput& in, Program& p) {
  switch (cmd % 8) {
    case 0:
      add_leaf(in, p, Kind::kInput);
      break;
    case 1:
      add_leaf(in, p, Kind::kWeight);
      break;
    case 2:
      add_leaf(in, p, Kind::kState);
      break;
    case 3:
    case 4:
    case 5:
      add_op(in, p);
      break;
    case 6: {
      const tsr_tensor t = decode_ref(in, p);
      if (ok(tsr_graph_output(p.graph, t), "graph_output")) p.outputs.push_back(t);
      break;
    }
    case 7:
      set_device(in, p);
      break;
  }
}

// Element-steps of one execution, roughly: each node's output elements times
// the length of what it reduces over (input 0's dim 0 or its whole size for
// the ops that scan input 0).
double estimated_work(const Program& p) {
  double work = 0;
  for (const Tensor& t : p.tensors) {
    if (t.kind != Kind::kOp) continue;
    double per = 1;
    switch (t.op) {
      case TSR_OP_MATMUL:
      case TSR_OP_SOFTMAX:
      case TSR_OP_RMS_NORM:
      case TSR_OP_LAYER_NORM:
      case TSR_OP_ARGMAX:
        per = std::max<double>(1, static_cast<double>(t.in0.ne[0]));
        break;
      case TSR_OP_ATTENTION:
      case TSR_OP_PAGED_ATTENTION:
        per = std::max<double>(1, element_count(t.in0));
        break;
      default:
        break;
    }
    work += std::max<double>(1, element_count(t.desc)) * per + element_count(t.in0);
  }
  return work;
}

void run_model(const Program& p, tsr_model* m, bool short_first, const int64_t* steps, int32_t n_steps) {
  bool first = true;
  for (const Tensor& t : p.tensors) {
    if (t.kind != Kind::kInput) continue;
    const double bytes = contiguous_bytes(t.desc);
    if (bytes > kMaxCompileBytes) {
      uint8_t one = 0;
      if (ok(tsr_model_set_input(m, t.id, &one, 1), "model_set_input"))
        fail("model_set_input accepted 1 byte for a huge input");
      continue;
    }
    std::vector<uint8_t> data(static_cast<size_t>(bytes));
    p.fill(data.data(), data.size());
    const bool short_size = short_first && first && !data.empty();
    first = false;
    const tsr_status_code rc = tsr_model_set_input(m, t.id, data.data(), data.size() - (short_size ? 1 : 0));
    if (ok(rc, "model_set_input") && short_size) fail("model_set_input accepted a short buffer");
  }
  (void)ok(tsr_model_execute(m, steps, n_steps), "model_execute");
  std::vector<uint8_t> out;
  for (tsr_tensor id : p.outputs) {
    for (const Tensor& t : p.tensors) {
      if (t.id != id) continue;
      const double bytes = contiguous_bytes(t.desc);
      if (bytes > kMaxCompileBytes) continue;
      out.assign(static_cast<size_t>(bytes), 0);
      (void)ok(tsr_model_get_output(m, id, out.data(), out.size()), "model_get_output");
      break;
    }
  }
  tsr_model_stats st{};
  st.struct_size = sizeof st;
  (void)ok(tsr_model_get_stats(m, &st), "model_get_stats");
  (void)tsr_model_placement(m);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  tsr_context_options o{};
  o.struct_size = sizeof o;
  o.n_threads = 2;  // more than one: the kernels' work splitting is exercised too
  if (tsr_context_create(&o, &g_ctx) != TSR_OK) {
    std::fprintf(stderr, "ERROR: fuzz_graph_api: tsr_context_create: %s\n", tsr_last_error());
    std::exit(1);
  }
  // Each dtype's block: a leaf [256] has nb[0] = bytes per block, nb[1] = the row.
  tsr_graph* g = nullptr;
  if (tsr_graph_create(g_ctx, &g) != TSR_OK) std::exit(1);
  for (int32_t dt : kDtypes) {
    const int64_t ne[1] = {256};
    tsr_tensor t;
    tsr_tensor_desc d{};
    if (tsr_graph_input(g, "probe", dt, 1, ne, &t) != TSR_OK || tsr_graph_tensor_desc(g, t, &d) != TSR_OK) {
      std::fprintf(stderr, "ERROR: fuzz_graph_api: dtype %d: %s\n", dt, tsr_last_error());
      std::exit(1);
    }
    g_blocks[dt] = {256 * d.nb[0] / d.nb[1], d.nb[0]};
  }
  tsr_graph_destroy(g);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  const uint8_t flags = in.u8();
  static const std::vector<const char*> kDeviceLists[] = {{},       {"cpu"},  {"cpu:0"},      {"null", "cpu"},
                                                          {"null"}, {"nope"}, {"cpu", "cpu"}, {"null:0"}};
  const std::vector<const char*>& devices = kDeviceLists[in.u8() % 8];
  const uint8_t sb = in.u8();
  int64_t steps[4] = {};
  const int32_t n_steps = sb == 0xff ? 2 : sb % 5;
  for (int32_t i = 0; i < std::min(n_steps, 4); ++i) steps[i] = decode_param(in);

  Program p;
  if (!ok(tsr_graph_create(g_ctx, &p.graph), "graph_create")) fail("graph_create failed");
  for (int i = 0; i < kMaxCommands && !in.empty(); ++i) {
    const uint8_t cmd = in.u8();
    if (cmd == kEndOfProgram) break;
    run_command(cmd, in, p);
  }
  p.pool = in.rest();
  (void)tsr_graph_node_count(p.graph);

  bool small = true, mid = false;
  for (const Tensor& t : p.tensors) {
    const double bytes = contiguous_bytes(t.desc);
    small = small && bytes <= kMaxCompileBytes;
    mid = mid || (bytes > kMaxCompileBytes && bytes < kHugeBytes);
  }
  if (mid) return 0;

  tsr_compile_options co{};
  co.struct_size = sizeof co;
  co.devices = devices.empty() ? nullptr : devices.data();
  co.n_devices = static_cast<int32_t>(devices.size());
  co.flags = flags & 3;
  tsr_model* m = reinterpret_cast<tsr_model*>(&co);  // a sentinel: must stay untouched on failure
  if (!ok(tsr_compile(g_ctx, p.graph, &co, &m), "compile")) {
    if (m != reinterpret_cast<tsr_model*>(&co)) fail("compile wrote its out-parameter on failure");
    return 0;
  }
  if (small && estimated_work(p) <= kMaxWork)
    run_model(p, m, flags & 4, sb == 0xff ? nullptr : steps, n_steps);
  tsr_model_destroy(m);
  return 0;
}
