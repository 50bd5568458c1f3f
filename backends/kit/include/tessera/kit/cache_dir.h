// Where a backend keeps what it compiled (pipeline caches, program binaries).
#pragma once

#include <string>
#include <string_view>

namespace tsr::kit {

// $XDG_CACHE_HOME/tessera/<subdir>, else $HOME/.cache/tessera/<subdir>; ""
// when neither variable is set (no cache).
std::string user_cache_dir(std::string_view subdir);

// The cache location a backend uses, from its environment variable
// `env_var`: "off" means none (""), another value is the location itself,
// unset or empty gives `fallback`.
std::string cache_location(const char* env_var, const std::string& fallback);

}  // namespace tsr::kit
