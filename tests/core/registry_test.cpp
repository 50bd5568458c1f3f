// The registry's answer for a device that does not exist names the devices
// that do, and the backend's own note on why it has none.
#include "core/registry.h"

#include <gtest/gtest.h>

#include "backends/cpu/cpu_backend.h"

namespace tsr {
namespace {

int32_t no_devices(tsr_bk_instance) { return 0; }
const char* widget_note(tsr_bk_instance) { return "no widget driver: libwidget.so.3 not found"; }

TEST(Registry, unknown_device_names_the_available_ones_and_the_backends_note) {
  tsr_backend_iface widget = *tsr_cpu_backend_iface();  // a real table, with no devices and a note
  widget.name = "widget";
  widget.device_count = no_devices;
  widget.instance_note = widget_note;
  tsr_backend_options bo{sizeof(bo), 1};
  Registry reg(bo);
  ASSERT_TRUE(reg.add_backend(tsr_cpu_backend_iface(), "built-in").is_ok());
  ASSERT_TRUE(reg.add_backend(&widget, "test").is_ok());
  const auto r = reg.find_device("widget:0");
  ASSERT_FALSE(r.is_ok());
  const std::string msg = r.status().message();
  EXPECT_NE(msg.find("unknown device 'widget:0'; available: cpu:0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("widget: no devices (no widget driver: libwidget.so.3 not found)"), std::string::npos)
      << msg;
  // Another backend's note is not this device's reason.
  const std::string other = reg.find_device("warp:0").status().message();
  EXPECT_EQ(other.find("widget"), std::string::npos) << other;
}

}  // namespace
}  // namespace tsr
