#include "tools/server/text_stream.h"

namespace tessera_server {

TextStream::~TextStream() { tsr_llm_stop_matcher_free(matcher_); }

bool TextStream::init(const std::vector<std::string>& stop, std::string* error) {
  if (stop.empty()) return true;
  std::vector<const char*> s;
  for (const std::string& x : stop) s.push_back(x.c_str());
  if (tsr_llm_stop_matcher_create(s.data(), static_cast<int32_t>(s.size()), &matcher_) != TSR_OK) {
    *error = tsr_last_error();
    return false;
  }
  return true;
}

std::string TextStream::complete_utf8(const char* text, size_t len, bool all) {
  held_.append(text, len);
  size_t keep = 0;  // bytes at the end that start an unfinished character
  if (!all) {
    // A character is at most 4 bytes: look back at most 3 for its lead byte.
    for (size_t back = 1; back <= 3 && back <= held_.size(); ++back) {
      const auto c = static_cast<unsigned char>(held_[held_.size() - back]);
      if ((c & 0xc0) == 0x80) continue;  // a continuation byte: keep looking
      const size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
      if (need > back) keep = back;
      break;
    }
  }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string TextStream::feed(const char* piece, int32_t len, bool* stopped) {
  *stopped = false;
  if (!matcher_) return complete_utf8(piece, static_cast<size_t>(len), false);
  const char* text = nullptr;
  int32_t n = 0, stop = 0;
  if (tsr_llm_stop_matcher_feed(matcher_, piece, len, &text, &n, &stop) != TSR_OK) {
    // Cannot happen for a live matcher and a valid piece; show the piece
    // rather than lose it.
    return complete_utf8(piece, static_cast<size_t>(len), false);
  }
  *stopped = stop != 0;
  return complete_utf8(text, static_cast<size_t>(n), *stopped);
}

std::string TextStream::flush() {
  const char* text = nullptr;
  int32_t n = 0;
  if (matcher_ && tsr_llm_stop_matcher_flush(matcher_, &text, &n) == TSR_OK)
    return complete_utf8(text, static_cast<size_t>(n), true);
  return complete_utf8("", 0, true);
}

}  // namespace tessera_server
