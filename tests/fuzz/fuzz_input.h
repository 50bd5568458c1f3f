// A cursor over a fuzzer's input for the structured targets (tokenizer, chat
// template, graph API): fixed-width little-endian fields and length-prefixed
// strings, read front to back. Reading past the end gives zeros and empty
// strings, so every input decodes to something and a short input is simply
// a short program. make_seeds.py writes seeds in the same layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace tessera_fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  size_t left() const { return size_ - pos_; }

  uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  // Low part first; each read is its own statement (the operands of | are unsequenced).
  uint16_t u16() {
    const uint16_t lo = u8();
    return static_cast<uint16_t>(lo | (u8() << 8));
  }
  uint32_t u32() {
    const uint32_t lo = u16();
    return lo | (static_cast<uint32_t>(u16()) << 16);
  }
  uint64_t u64() {
    const uint64_t lo = u32();
    return lo | (static_cast<uint64_t>(u32()) << 32);
  }
  float f32() {
    const uint32_t bits = u32();
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }

  // The next n bytes (fewer at the end of the input).
  std::string_view bytes(size_t n) {
    n = n < left() ? n : left();
    const std::string_view s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }
  // A string of one length byte and that many bytes.
  std::string_view str8() { return bytes(u8()); }
  // A string of a 16-bit length and that many bytes.
  std::string_view str16() { return bytes(u16()); }
  // Everything not read yet.
  std::string_view rest() { return bytes(left()); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace tessera_fuzz
