// Conformance suite: every op over a table of cases, run on one device and
// compared with the ops/ reference. A vendor certifies a backend op by op with
// it (tessera-conformance --plugin libmybackend.so --device mine).
//
// A case is one graph: its operands enter as inputs (activations) or weights
// (matmul weights, get_rows tables: the in-place weight path), optionally
// pass through view ops (permute, view) so the node sees strided inputs, then
// feed exactly one compute node whose output is compared with
// ops::reference run on host memory with the descriptors the node sees.
// Subgraph cases (below) go past what core's planner produces: in-place
// outputs, strided and offset outputs, minimum-alignment offsets and
// multi-node blocks run several times, built on the backend's table directly.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/registry.h"
#include "tessera/tessera_types.h"

namespace tsr::conformance {

// ---- comparison (compare.cpp) ---------------------------------------------

struct Tolerance {
  double nmse = 0.0;     // sum((y-ref)^2) / sum(ref^2) must not exceed this
  double max_rel = 0.0;  // max |y-ref| must not exceed max_rel * max|ref|
  bool exact = false;    // every element bit-equal as float (argmax, copies)
  const char* why = "";  // the reasoning, printed with --list
};

struct CompareResult {
  bool pass = false;
  double nmse = 0.0;
  double max_abs_err = 0.0;
  int64_t max_err_index = -1;
  int64_t first_mismatch = -1;  // first element out of tolerance; -1 if none
  int64_t n_nonfinite = 0;      // y non-finite where ref is finite (or classes differ)
  std::string message;          // why it failed; empty on pass
};

// Compares n values of y (device) with ref. A non-finite y where ref is
// finite fails; where ref is non-finite, y must be the same kind (NaN, +inf,
// -inf). Finite pairs enter the NMSE and max-error metrics.
CompareResult compare(const float* y, const float* ref, int64_t n, const Tolerance& tol);

// ---- cases (cases_*.cpp) ----------------------------------------------------

enum class Fill {
  kNormal,       // normal(0, 1) * scale
  kDenominator,  // random sign * (0.5 + |normal|) * scale: safe divisor
  kPositive,     // (1 + |normal|) * scale: frequency factors
  kIds,          // i32 uniform in [0, range)
  kPermutation,  // i32 distinct values from [0, range) in random order
  kPositions,    // i32 range - n + i: the last n positions of a sequence of length range
  kCausalMask,   // mask [ne0, ne1]: row i sees columns j <= i + ne0 - ne1, else -inf
};

// A metadata op applied to an operand in the graph (TSR_OP_PERMUTE/VIEW/RESHAPE).
struct ViewOp {
  int32_t op = TSR_OP_VIEW;
  tsr_op_params params{};
};

struct Operand {
  std::string name;
  int32_t dtype = TSR_DTYPE_F32;
  std::vector<int64_t> ne;  // the leaf's shape, innermost first
  bool weight = false;      // add_weight (host memory used in place) instead of add_input
  Fill fill = Fill::kNormal;
  float scale = 1.0f;
  int64_t range = 0;  // for the integer fills
  std::vector<ViewOp> views;
};

struct Subgraph;

struct Case {
  int32_t op = TSR_OP_NONE;  // the node under test; TSR_OP_NONE for a multi-node block
  std::string row;           // matrix row: "add", "matmul x=f16", "cpy from f32"
  int32_t column = 0;        // matrix column: the dtype the row varies
  std::string name;          // "odd_288x7_transposed_x"
  std::vector<Operand> inputs;
  tsr_op_params params{};
  std::vector<int64_t> step;  // step parameters passed to execute
  uint32_t seed = 0;          // filled in by all_cases() from the case's identity
  // Set for cases that place every tensor themselves and call the backend's
  // table directly (subgraph cases below); inputs/params/step are then unused.
  std::shared_ptr<const Subgraph> subgraph;
};

// ---- subgraph cases (cases_subgraph*.cpp, runner_subgraph.cpp) -------------
//
// What core's planner happens to produce today (contiguous outputs at
// 256-byte offsets, a fresh node array per model) is narrower than what the
// ABI allows, so a backend can pass the graph cases above and still break on
// a legal subgraph. These cases build the tsr_subgraph themselves: buffers
// allocated through the backend's table, tensors at chosen offsets with chosen
// strides, outputs aliasing input 0, several nodes prepared once and executed
// several times with new data and new step values. The same nodes run on host
// copies of the buffers through ops::reference, and every checked buffer is
// compared whole after every execution (so writes outside an output count).

// A tensor placed by the case: which buffer, byte offset, layout.
struct Placed {
  int32_t buffer = 0;
  uint64_t offset = 0;
  tsr_tensor_desc desc{};
};

struct SubgraphNode {
  int32_t op = TSR_OP_NONE;
  std::string label;  // "q = matmul(wq, n)": names the node in failure reports
  std::vector<Placed> inputs;
  Placed output;
  tsr_op_params params{};
};

// Writes a buffer's bytes before an execution, given that execution's step values.
using BufferFill = std::function<void(std::mt19937& rng, const std::vector<int64_t>& step, uint8_t* bytes)>;

struct SubgraphBuffer {
  std::string name;
  uint64_t size = 0;
  uint32_t flags = TSR_BUFFER_ACTIVATIONS;
  BufferFill fill;
  bool refill = true;        // false: filled before the first execution only (KV cache, weights)
  int32_t check_dtype = -1;  // >= 0: compared whole, read as this dtype, after every execution
};

struct Subgraph {
  std::vector<SubgraphBuffer> buffers;
  std::vector<SubgraphNode> nodes;
  std::vector<std::vector<int64_t>> runs;  // the step values of each execution, in order
  Tolerance tol;
};

// In-place aliasing, strided/offset outputs, minimum-alignment offsets
// (single nodes) and multi-node blocks.
std::vector<Case> subgraph_cases();
std::vector<Case> block_cases();

// Runs a subgraph case (run_case dispatches here when c.subgraph is set).
struct CaseResult;
CaseResult run_subgraph_case(Registry& registry, const std::string& device, const Case& c);

// An operand's contiguous data from its fill (runner.cpp): desc and bytes.
struct OperandData {
  tsr_tensor_desc desc{};
  std::vector<uint8_t> bytes;
};
Result<OperandData> make_operand_data(const Operand& o, std::mt19937& rng);
// n_elements(d) values of contiguous bytes as floats (i32 values converted).
std::vector<float> as_floats(const tsr_tensor_desc& d, const std::vector<uint8_t>& bytes);
// "[4, 256, 1024]"
std::string list_str(const int64_t* v, int n);
// "; ip [1, 0]; fp [0.125]" for the non-zero trailing-trimmed parameters.
std::string params_str(const tsr_op_params& p);

// Every case, in matrix order. Seeds are a hash of op, row, column and name,
// so a case keeps its data when others are added.
std::vector<Case> all_cases();
std::vector<Case> matmul_cases();
std::vector<Case> elementwise_cases();
std::vector<Case> norm_cases();  // rms_norm, layer_norm, rope, softmax
std::vector<Case> attention_cases();
std::vector<Case> paged_attention_cases();
std::vector<Case> data_cases();  // get_rows, set_rows, cpy, concat, argmax

// The tolerance of a case: one table, per op and per precision (tolerance.cpp).
Tolerance tolerance_for(const Case& c);

// Builders for the case tables.
Operand act(std::string name, int32_t dtype, std::vector<int64_t> ne, float scale = 1.0f);
Operand weight(std::string name, int32_t dtype, std::vector<int64_t> ne, float scale = 1.0f);
Operand ints(std::string name, std::vector<int64_t> ne, Fill fill, int64_t range);
tsr_op_params iparams(std::initializer_list<int64_t> ip, std::initializer_list<float> fp = {});
// Input dim i becomes output dim p[i].
ViewOp permute(int64_t p0, int64_t p1, int64_t p2 = 2, int64_t p3 = 3);
// A sub-block of a contiguous leaf of dtype with shape base_ne: shape ne, the
// leaf's strides, starting at element offset (i0, i1) of the leaf.
ViewOp slice(int32_t dtype, const std::vector<int64_t>& base_ne, const std::vector<int64_t>& ne,
             int64_t i0 = 0, int64_t i1 = 0);
// A general view of a scalar-dtype leaf: shape ne, strides nb1..nb3 given in
// elements (nb0 is one element), starting offset elements into the leaf.
ViewOp strided(int32_t dtype, const std::vector<int64_t>& ne, const std::vector<int64_t>& nb_elems,
               int64_t offset);
// Magnitude variants of the same case: "normal" (x1), "large" (x1e3), "tiny" (x1e-4).
struct Magnitude {
  const char* name;
  float scale;
};
inline constexpr Magnitude kMagnitudes[] = {{"normal", 1.0f}, {"large", 1e3f}, {"tiny", 1e-4f}};

// ---- running (runner.cpp) -----------------------------------------------------

enum class Outcome { kPass, kFail, kUnsupported };

struct CaseResult {
  const Case* c = nullptr;
  Outcome outcome = Outcome::kFail;
  CompareResult cmp;
  Tolerance tol;
  std::string message;  // unsupported reason, error, or comparison failure
  double seconds = 0.0;
  // What the node saw, for failure reports: each input's dtype, shape,
  // byte strides and byte offset into its buffer, the output's shape, the
  // non-zero parameters and the step values.
  std::string detail;
  std::string first_mismatch_at;  // the first mismatch as output coordinates "(i0, i1, i2, i3)", or ""
};

// Runs one case on device (a registry device name), strict: no fallback.
CaseResult run_case(Registry& registry, const std::string& device, const Case& c);

// Dtype columns of the matrix, in order.
const std::vector<int32_t>& matrix_columns();
// The op x dtype matrix as text; cells: pass, FAIL, unsup (every case
// unsupported), "passed/total" when some cases are unsupported and none
// failed, blank where not applicable.
std::string format_matrix(const std::vector<CaseResult>& results);
// One case as text: outcome, op row, dtype, case name, metrics, and the failure message.
std::string format_result(const CaseResult& r);
// JSON with the device, its props and every case result.
std::string results_json(const std::string& device, const tsr_device_props& props,
                         const std::vector<CaseResult>& results);

}  // namespace tsr::conformance
