// The certificate tessera-conformance prints with --model: who was tested
// (device, driver, Tessera version and commit), the op matrix, the model
// gate, and one verdict. A device is certified when no op case failed and
// the model gate passed; unsupported ops are listed, not hidden (a partial
// backend can be certified for what it runs, with the CPU running the rest).
#pragma once

#include <string>
#include <vector>

#include "tessera/tessera_backend.h"
#include "tools/conformance/conformance.h"
#include "tools/conformance/model_gate.h"

namespace tsr::conformance {

struct Certificate {
  std::string device;  // "example:0"
  std::string origin;  // the plugin file, or "built-in"
  tsr_device_props props{};
  const std::vector<CaseResult>* ops = nullptr;
  const ModelGateResult* model = nullptr;
  ModelThresholds thresholds;
};

bool certified(const Certificate& c);
std::string format_certificate(const Certificate& c);
// {"certificate": {...}, "conformance": <results_json>, "model": {...}}
std::string certificate_json(const Certificate& c);

}  // namespace tsr::conformance
