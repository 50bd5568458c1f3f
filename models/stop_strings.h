// Stop strings over streamed text: text is shown as soon as it can no longer
// be the start of a stop string, and a completed stop string ends the stream
// with the text before it. Pieces may split a stop string anywhere (a token
// boundary falls where the tokenizer put it, even inside a UTF-8 character).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tessera::models {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);
  // Appends piece. Returns the text now safe to show (it can no longer begin
  // a stop string); *stopped is set when a stop string completed: the text
  // returned then ends just before it, and what follows is dropped.
  std::string feed(std::string_view piece, bool* stopped);
  // The text held back at the end of the stream (no stop string came).
  std::string flush();
  void reset() { held_.clear(); }
  bool empty() const { return stops_.empty(); }

 private:
  std::vector<std::string> stops_;
  std::string held_;
};

}  // namespace tessera::models
