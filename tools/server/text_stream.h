// Turns a request's token pieces into text that is safe to send: a stop
// string is never shown, not even its first half before the token that
// completes it (tsr_llm_stop_matcher holds such text back), and a UTF-8
// character split across tokens is sent whole, so every streamed chunk is
// valid JSON text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/tessera_llm.h"

namespace tessera_server {

class TextStream {
 public:
  TextStream() = default;
  ~TextStream();
  TextStream(const TextStream&) = delete;
  TextStream& operator=(const TextStream&) = delete;

  // Sets the stop strings (none: text passes straight through). On failure
  // *error has the library's message.
  bool init(const std::vector<std::string>& stop, std::string* error);
  // One token's bytes in; the text that can be shown now out (maybe empty).
  // *stopped becomes true when a stop string completed: the text returned
  // then ends just before it, and nothing more may be fed.
  std::string feed(const char* piece, int32_t len, bool* stopped);
  // The end of generation without a stop string: whatever was held back.
  std::string flush();

 private:
  // Appends text to the held bytes and returns the longest prefix that ends
  // on a UTF-8 character boundary (everything when all).
  std::string complete_utf8(const char* text, size_t len, bool all);

  tsr_llm_stop_matcher* matcher_ = nullptr;
  std::string held_;  // the start of a UTF-8 character whose other bytes are still to come
};

}  // namespace tessera_server
