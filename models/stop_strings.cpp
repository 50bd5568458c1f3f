#include "models/stop_strings.h"

#include <algorithm>

namespace tessera::models {

StopMatcher::StopMatcher(std::vector<std::string> stops) {
  for (std::string& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));
}

std::string StopMatcher::feed(std::string_view piece, bool* stopped) {
  held_.append(piece);
  *stopped = false;
  // The earliest complete stop string wins.
  size_t at = std::string::npos;
  for (const std::string& s : stops_) at = std::min(at, held_.find(s));
  if (at != std::string::npos) {
    *stopped = true;
    std::string out = held_.substr(0, at);
    held_.clear();
    return out;
  }
  // Hold the longest tail of the text that is a proper prefix of a stop
  // string: it may complete with the next piece.
  size_t hold = 0;
  for (const std::string& s : stops_)
    for (size_t n = std::min(s.size() - 1, held_.size()); n > hold; --n)
      if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
  std::string out = held_.substr(0, held_.size() - hold);
  held_.erase(0, held_.size() - hold);
  return out;
}

std::string StopMatcher::flush() {
  std::string out;
  out.swap(held_);
  return out;
}

}  // namespace tessera::models
