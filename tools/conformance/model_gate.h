// The model-level gate of tessera-conformance (--model FILE.gguf): a real
// model run on the device under test against the same model on the CPU.
// Op cases prove each kernel on its own; the gate proves they compose: the
// in-place reuse, views, KV-cache state and step values of a real decode.
//
// What is compared (thresholds in ModelThresholds, documented in
// docs/backend-guide.md):
//   - prompt logits: for each prompt position, KL(cpu || device) of the
//     next-token distributions, and whether both put their maximum on the
//     same token (top-1 agreement);
//   - greedy generation: N tokens on each device, each fed its own choice.
//     They must be identical, except that a divergence at a near tie of the
//     CPU's logits (the two tokens within tie_margin) ends the comparison
//     without failing: rounding may legitimately pick either there.
// The device model may fall back to the CPU for nodes the device does not
// support (that is how partial backends run models), with the transfer-cost
// model off so that every node the device supports runs there; the gate first
// tries a strict load and reports whether the device ran the whole model or
// which node it refused, and how the decode graph was placed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tsr::conformance {

struct ModelThresholds {
  double mean_kl = 1e-3;     // mean over prompt positions, nats
  double max_kl = 5e-2;      // worst position, nats
  double min_top1 = 0.98;    // share of prompt positions with the same argmax
  double tie_margin = 0.05;  // logit gap below which a greedy divergence is a tie
};

struct ModelGateOptions {
  std::string model_path;
  std::string device;                // the device under test, e.g. "vulkan:0"
  std::vector<std::string> plugins;  // loaded into the gate's context
  std::string prompt;                // empty: a built-in English paragraph
  int32_t n_greedy = 16;
  int32_t n_threads = 0;
  ModelThresholds thresholds;
};

struct ModelGateResult {
  bool ran = false;            // false: the gate could not run (error says why)
  bool pass = false;           // every threshold met
  std::string error;           // load/eval failure, or empty
  std::string model;           // file name and architecture
  bool strict = false;         // the device ran every node of the decode graph
  std::string strict_refusal;  // why a strict load failed (the node it names)
  std::string placement;       // the placement summary line of the device model's decode graph
  int32_t device_nodes = 0;    // decode-graph nodes on the device (0 fails the gate)
  int32_t n_prompt = 0;
  double mean_kl = 0.0, max_kl = 0.0, top1 = 0.0;
  int32_t greedy_same = 0;  // greedy tokens identical before the first divergence
  bool greedy_tie = false;  // the first divergence was a near tie on the CPU
  std::vector<int32_t> greedy_cpu, greedy_device;
  std::vector<std::string> failures;  // one line per threshold missed
};

ModelGateResult run_model_gate(const ModelGateOptions& options);

// Text and JSON (an object) of a gate result.
std::string format_model_result(const ModelGateResult& r, const ModelThresholds& t);
std::string model_result_json(const ModelGateResult& r, const ModelThresholds& t);

}  // namespace tsr::conformance
