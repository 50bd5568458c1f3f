// tessera-info: lists the backends and devices this build and its plugins see.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tessera/tessera.h"
#include "tools/common/cli.h"
#include "tools/info/info_git.h"

static const char* type_name(int32_t t) {
  switch (t) {
    case TSR_DEVICE_TYPE_CPU:
      return "cpu";
    case TSR_DEVICE_TYPE_GPU_DISCRETE:
      return "discrete gpu";
    case TSR_DEVICE_TYPE_GPU_INTEGRATED:
      return "integrated gpu";
    case TSR_DEVICE_TYPE_ACCELERATOR:
      return "accelerator";
    case TSR_DEVICE_TYPE_TEST:
      return "test device";
    default:
      return "other";
  }
}

int main(int argc, char** argv) {
  if (tessera_tools::version_asked(argc, argv))
    return tessera_tools::print_version("tessera-info", TSR_INFO_GIT_COMMIT);
  std::vector<const char*> plugins;
  bool all = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--plugin") == 0 && i + 1 < argc) {
      plugins.push_back(argv[++i]);
    } else if (std::strcmp(argv[i], "--all") == 0) {
      all = true;
    } else {
      std::fprintf(stderr,
                   "usage: tessera-info [--plugin PATH]... [--all]\n"
                   "  --plugin PATH  load a backend plugin first (repeatable)\n"
                   "  --all          list test devices too (the null backend)\n");
      return 2;
    }
  }
  tsr_context_options o{sizeof(o), 0, plugins.data(), static_cast<int32_t>(plugins.size())};
  tsr_context* ctx = nullptr;
  if (tsr_context_create(&o, &ctx) != TSR_OK) {
    std::fprintf(stderr, "tessera-info: %s\n", tsr_last_error());
    return 1;
  }
  std::printf("Tessera %s, backend ABI %u\n", tsr_version(), TSR_BACKEND_ABI_VERSION);
  const int32_t n = tsr_device_count(ctx);
  // Test devices are counted and named on one line unless --all lists them.
  std::vector<tsr_device_info> shown;
  std::string hidden;
  int n_hidden = 0;
  for (int32_t i = 0; i < n; ++i) {
    tsr_device_info info{};
    info.struct_size = sizeof(info);
    if (tsr_device_get_info(ctx, i, &info) != TSR_OK) continue;
    if (!all && info.props.type == TSR_DEVICE_TYPE_TEST)
      hidden += std::string(n_hidden++ ? ", " : "") + info.name;
    else
      shown.push_back(info);
  }
  std::printf("%zu device%s", shown.size(), shown.size() == 1 ? "" : "s");
  if (n_hidden > 0)
    std::printf(" (and %d test device%s, %s: --all lists %s)", n_hidden, n_hidden == 1 ? "" : "s",
                hidden.c_str(), n_hidden == 1 ? "it" : "them");
  std::printf("\n");
  for (const tsr_device_info& info : shown) {
    std::printf("  %-14s %s | vendor %s | driver %s | %s | memory %.1f GiB", info.name, info.props.name,
                info.props.vendor, info.props.driver, type_name(info.props.type),
                info.props.memory_bytes / (1024.0 * 1024.0 * 1024.0));
    if (info.props.peak_flops > 0) std::printf(" | peak %.1f GFLOP/s", info.props.peak_flops / 1e9);
    if (info.props.peak_bandwidth > 0) std::printf(" | %.1f GB/s", info.props.peak_bandwidth / 1e9);
    std::printf("\n");
    // details: "key: value" lines from the backend, shown indented
    const char* d = info.props.details;
    while (*d) {
      const char* nl = std::strchr(d, '\n');
      const int len = nl ? static_cast<int>(nl - d) : static_cast<int>(std::strlen(d));
      if (len > 0) std::printf("      %.*s\n", len, d);
      d += len + (nl ? 1 : 0);
    }
  }
  for (int32_t i = 0; i < tsr_context_note_count(ctx); ++i)
    std::printf("note: %s\n", tsr_context_note(ctx, i));
  tsr_context_destroy(ctx);
  return 0;
}
