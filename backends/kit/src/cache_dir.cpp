#include "tessera/kit/cache_dir.h"

#include <cstdlib>
#include <filesystem>

namespace tsr::kit {

std::string user_cache_dir(std::string_view subdir) {
  std::filesystem::path dir;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    dir = x;
  else if (const char* h = std::getenv("HOME"); h && *h)
    dir = std::filesystem::path(h) / ".cache";
  else
    return "";
  return (dir / "tessera" / subdir).string();
}

std::string cache_location(const char* env_var, const std::string& fallback) {
  const char* env = std::getenv(env_var);
  if (env && std::string_view(env) == "off") return "";
  if (env && *env) return env;
  return fallback;
}

}  // namespace tsr::kit
