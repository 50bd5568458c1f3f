#include "core/support_restriction.h"

#include <fmt/format.h>

#include <cstdlib>
#include <sstream>

#include "ops/op_schema.h"

namespace tsr {

SupportRestriction SupportRestriction::from_env() {
  const char* spec = std::getenv("TESSERA_TEST_RESTRICT_OPS");
  return spec ? parse(spec) : SupportRestriction{};
}

SupportRestriction SupportRestriction::parse(const std::string& spec) {
  SupportRestriction r;
  std::istringstream entries(spec);
  for (std::string entry; std::getline(entries, entry, ';');) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    const std::string device = entry.substr(0, eq);
    std::set<int32_t>& ops = r.ops_[device];
    std::istringstream names(entry.substr(eq + 1));
    for (std::string name; std::getline(names, name, ',');) {
      const int32_t op = ops::op_from_name(name);
      if (op < 0)
        r.error_[device] = name;
      else
        ops.insert(op);
    }
  }
  return r;
}

bool SupportRestriction::allows(const std::string& device, const tsr_node_desc& node,
                                std::string* reason) const {
  auto it = ops_.find(device);
  if (it == ops_.end()) return true;
  auto err = error_.find(device);
  if (err != error_.end()) {
    *reason = fmt::format("TESSERA_TEST_RESTRICT_OPS names unknown op '{}'", err->second);
    return false;
  }
  if (!it->second.count(node.op)) {
    *reason = fmt::format("{} is not in TESSERA_TEST_RESTRICT_OPS", ops::op_name(node.op));
    return false;
  }
  bool f32 = node.output.dtype == TSR_DTYPE_F32;
  for (int32_t i = 0; i < node.n_inputs; ++i) f32 = f32 && node.inputs[i].dtype == TSR_DTYPE_F32;
  if (!f32) *reason = "TESSERA_TEST_RESTRICT_OPS allows f32 only";
  return f32;
}

}  // namespace tsr
