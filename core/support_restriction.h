// A test-only narrowing of what devices accept, so placement and speed with
// a partial backend (say an f32 plugin running a few element-wise ops) can be
// measured on the real models with any full backend standing in for it.
//
//   TESSERA_TEST_RESTRICT_OPS="gpuemu:0=add,mul,rms_norm,silu,matmul"
//
// limits the named device (one entry per device, separated by ';') to the
// listed ops with every input and the output f32; other devices are not
// affected, and a device the backend refuses stays refused. Unset (the
// normal case), nothing is restricted. An unknown op name makes every node
// refused on that device with a reason naming it, so a typo shows in
// `tessera-run --placement` rather than silently allowing nothing.
#pragma once

#include <map>
#include <set>
#include <string>

#include "tessera/tessera_backend.h"

namespace tsr {

class SupportRestriction {
 public:
  // Reads TESSERA_TEST_RESTRICT_OPS.
  static SupportRestriction from_env();
  static SupportRestriction parse(const std::string& spec);
  // False (and *reason set) when `device` is restricted and `node` is outside it.
  bool allows(const std::string& device, const tsr_node_desc& node, std::string* reason) const;

 private:
  std::map<std::string, std::set<int32_t>> ops_;  // device name -> allowed ops
  std::map<std::string, std::string> error_;      // device name -> unknown op name
};

}  // namespace tsr
