// Plugin loading through the public API: the null backend built as a plugin
// loads and registers its device; files that are not plugins, or plugins of
// another ABI version, are refused with a message naming the file.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tessera/tessera.h"

namespace {

struct Ctx {
  tsr_context* ctx = nullptr;
  Ctx() { EXPECT_EQ(tsr_context_create(nullptr, &ctx), TSR_OK) << tsr_last_error(); }
  ~Ctx() { tsr_context_destroy(ctx); }
};

bool has_device(tsr_context* ctx, const char* name) {
  int32_t idx = -1;
  return tsr_device_find(ctx, name, &idx) == TSR_OK;
}

TEST(Plugin, null_plugin_loads_and_registers_its_device) {
  Ctx c;
  EXPECT_FALSE(has_device(c.ctx, "null_plugin:0"));
  ASSERT_EQ(tsr_context_load_plugin(c.ctx, TSR_NULL_PLUGIN_PATH), TSR_OK) << tsr_last_error();
  EXPECT_TRUE(has_device(c.ctx, "null_plugin:0"));
  EXPECT_TRUE(has_device(c.ctx, "null_plugin"));
}

TEST(Plugin, loading_the_same_plugin_twice_is_refused) {
  Ctx c;
  ASSERT_EQ(tsr_context_load_plugin(c.ctx, TSR_NULL_PLUGIN_PATH), TSR_OK) << tsr_last_error();
  EXPECT_EQ(tsr_context_load_plugin(c.ctx, TSR_NULL_PLUGIN_PATH), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("already registered from the same file"), std::string::npos)
      << tsr_last_error();
}

// The clash used to read the name from the library after dlclose (SIGSEGV).
TEST(Plugin, plugin_named_like_a_builtin_backend_is_refused_naming_both) {
  Ctx c;
  EXPECT_EQ(tsr_context_load_plugin(c.ctx, TSR_CPU_NAMED_PLUGIN_PATH), TSR_ERR_INVALID_ARGUMENT);
  const std::string msg = tsr_last_error();
  EXPECT_NE(msg.find(TSR_CPU_NAMED_PLUGIN_PATH), std::string::npos) << msg;
  EXPECT_NE(msg.find("'cpu' is already registered from built-in"), std::string::npos) << msg;
  // The context is intact: the built-in cpu device still serves a lookup.
  EXPECT_TRUE(has_device(c.ctx, "cpu:0"));
  EXPECT_FALSE(has_device(c.ctx, "cpu:1"));
}

TEST(Plugin, two_files_with_one_backend_name_are_refused_naming_both) {
  Ctx c;
  ASSERT_EQ(tsr_context_load_plugin(c.ctx, TSR_ACME_A_PLUGIN_PATH), TSR_OK) << tsr_last_error();
  EXPECT_EQ(tsr_context_load_plugin(c.ctx, TSR_ACME_B_PLUGIN_PATH), TSR_ERR_INVALID_ARGUMENT);
  const std::string msg = tsr_last_error();
  EXPECT_NE(msg.find(TSR_ACME_B_PLUGIN_PATH), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::string("'acme' is already registered from ") + TSR_ACME_A_PLUGIN_PATH),
            std::string::npos)
      << msg;
  EXPECT_TRUE(has_device(c.ctx, "acme:0"));
  EXPECT_FALSE(has_device(c.ctx, "acme:1"));
}

TEST(Plugin, wrong_abi_version_is_refused_with_both_versions) {
  Ctx c;
  EXPECT_EQ(tsr_context_load_plugin(c.ctx, TSR_BAD_ABI_PLUGIN_PATH), TSR_ERR_ABI_MISMATCH);
  const std::string msg = tsr_last_error();
  EXPECT_NE(msg.find(TSR_BAD_ABI_PLUGIN_PATH), std::string::npos) << msg;
  EXPECT_NE(msg.find("999"), std::string::npos) << msg;
  EXPECT_NE(msg.find("version " + std::to_string(TSR_BACKEND_ABI_VERSION)), std::string::npos) << msg;
  EXPECT_FALSE(has_device(c.ctx, "future"));
}

TEST(Plugin, null_required_entry_is_refused_by_name) {
  Ctx c;
  EXPECT_EQ(tsr_context_load_plugin(c.ctx, TSR_NULL_ENTRY_PLUGIN_PATH), TSR_ERR_INVALID_ARGUMENT);
  const std::string msg = tsr_last_error();
  EXPECT_NE(msg.find("required entry 'create' of the interface table is null"), std::string::npos) << msg;
  EXPECT_NE(msg.find("holey"), std::string::npos) << msg;
  EXPECT_FALSE(has_device(c.ctx, "holey"));
}

// Core orders work by queue_finish and never calls the event entries, so a
// backend may leave all four null (tessera_backend.h).
TEST(Plugin, plugin_without_events_loads_and_opens_its_device) {
  Ctx c;
  ASSERT_EQ(tsr_context_load_plugin(c.ctx, TSR_NO_EVENTS_PLUGIN_PATH), TSR_OK) << tsr_last_error();
  EXPECT_TRUE(has_device(c.ctx, "no_events:0"));
}

TEST(Plugin, plugin_with_half_of_the_event_entries_is_refused_naming_them) {
  Ctx c;
  EXPECT_EQ(tsr_context_load_plugin(c.ctx, TSR_HALF_EVENTS_PLUGIN_PATH), TSR_ERR_INVALID_ARGUMENT);
  const std::string msg = tsr_last_error();
  EXPECT_NE(
      msg.find("2 of the four event entries (event_create, event_destroy, event_record, event_wait) are set"),
      std::string::npos)
      << msg;
  EXPECT_NE(msg.find("half_events"), std::string::npos) << msg;
  EXPECT_FALSE(has_device(c.ctx, "half_events"));
}

TEST(Plugin, bare_file_name_loads_from_the_current_directory) {
  const std::filesystem::path plugin(TSR_NULL_PLUGIN_PATH);
  const std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(plugin.parent_path());
  Ctx c;
  const tsr_status_code rc = tsr_context_load_plugin(c.ctx, plugin.filename().c_str());
  std::filesystem::current_path(cwd);
  EXPECT_EQ(rc, TSR_OK) << tsr_last_error();
  EXPECT_TRUE(has_device(c.ctx, "null_plugin:0"));
}

TEST(Plugin, library_without_entry_symbol_is_refused) {
  Ctx c;
  EXPECT_EQ(tsr_context_load_plugin(c.ctx, TSR_NOT_A_PLUGIN_PATH), TSR_ERR_NOT_FOUND);
  const std::string msg = tsr_last_error();
  EXPECT_NE(msg.find("not a Tessera backend plugin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tsr_backend_entry"), std::string::npos) << msg;
}

TEST(Plugin, non_library_file_is_refused) {
  const std::string path = testing::TempDir() + "/not_a_library.so";
  std::ofstream(path) << "this is text, not ELF\n";
  Ctx c;
  EXPECT_EQ(tsr_context_load_plugin(c.ctx, path.c_str()), TSR_ERR_IO);
  const std::string msg = tsr_last_error();
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a loadable shared library"), std::string::npos) << msg;
  std::remove(path.c_str());
}

TEST(Plugin, missing_file_is_refused) {
  Ctx c;
  EXPECT_EQ(tsr_context_load_plugin(c.ctx, "/nonexistent/libtessera_warp.so"), TSR_ERR_IO);
  EXPECT_NE(std::string(tsr_last_error()).find("/nonexistent/libtessera_warp.so"), std::string::npos);
}

TEST(Plugin, context_options_load_plugins_or_fail_whole) {
  const char* paths[] = {TSR_NULL_PLUGIN_PATH, TSR_BAD_ABI_PLUGIN_PATH};
  tsr_context_options o{sizeof(o), 1, paths, 2};
  tsr_context* ctx = reinterpret_cast<tsr_context*>(0x1);
  EXPECT_EQ(tsr_context_create(&o, &ctx), TSR_ERR_ABI_MISMATCH);
  EXPECT_EQ(ctx, reinterpret_cast<tsr_context*>(0x1)) << "out_ctx written on failure";
  o.n_plugins = 1;
  ASSERT_EQ(tsr_context_create(&o, &ctx), TSR_OK) << tsr_last_error();
  EXPECT_TRUE(has_device(ctx, "null_plugin:0"));
  tsr_context_destroy(ctx);
}

}  // namespace
