// A small JSON reader for test expectation files (objects, arrays, strings
// with all escapes including surrogate pairs, numbers, true/false/null).
// Throws std::runtime_error with the byte offset on malformed input.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tsr::test {

struct Json {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json> object;

  const Json& operator[](const std::string& key) const {
    const auto it = object.find(key);
    if (kind != kObject || it == object.end()) throw std::runtime_error("json: no key '" + key + "'");
    return it->second;
  }
  static Json parse(std::string_view text) {
    size_t pos = 0;
    Json v = parse_value(text, pos);
    skip(text, pos);
    if (pos != text.size()) fail(pos, "trailing characters");
    return v;
  }

 private:
  [[noreturn]] static void fail(size_t pos, const char* what) {
    throw std::runtime_error("json: " + std::string(what) + " at byte " + std::to_string(pos));
  }
  static void skip(std::string_view t, size_t& p) {
    while (p < t.size() && (t[p] == ' ' || t[p] == '\n' || t[p] == '\r' || t[p] == '\t')) ++p;
  }
  static void expect(std::string_view t, size_t& p, char c) {
    skip(t, p);
    if (p >= t.size() || t[p] != c) fail(p, "unexpected character");
    ++p;
  }
  static uint32_t hex4(std::string_view t, size_t& p) {
    if (p + 4 > t.size()) fail(p, "short \\u escape");
    const uint32_t v = static_cast<uint32_t>(std::strtoul(std::string(t.substr(p, 4)).c_str(), nullptr, 16));
    p += 4;
    return v;
  }
  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  static std::string parse_string(std::string_view t, size_t& p) {
    expect(t, p, '"');
    std::string out;
    while (p < t.size() && t[p] != '"') {
      if (t[p] != '\\') {
        out += t[p++];
        continue;
      }
      if (++p >= t.size()) fail(p, "bad escape");
      const char e = t[p++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          uint32_t cp = hex4(t, p);
          if (cp >= 0xD800 && cp < 0xDC00 && t.substr(p, 2) == "\\u") {
            p += 2;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(t, p) - 0xDC00);
          }
          put_utf8(out, cp);
          break;
        }
        default:
          out += e;  // \" \\ \/
      }
    }
    expect(t, p, '"');
    return out;
  }
  static Json parse_value(std::string_view t, size_t& p) {
    skip(t, p);
    if (p >= t.size()) fail(p, "unexpected end");
    Json v;
    const char c = t[p];
    if (c == '{') {
      v.kind = kObject;
      ++p;
      skip(t, p);
      if (p < t.size() && t[p] == '}') return ++p, v;
      do {
        std::string key = parse_string(t, p);
        expect(t, p, ':');
        v.object[key] = parse_value(t, p);
        skip(t, p);
      } while (p < t.size() && t[p] == ',' && ++p);
      expect(t, p, '}');
    } else if (c == '[') {
      v.kind = kArray;
      ++p;
      skip(t, p);
      if (p < t.size() && t[p] == ']') return ++p, v;
      do {
        v.array.push_back(parse_value(t, p));
        skip(t, p);
      } while (p < t.size() && t[p] == ',' && ++p);
      expect(t, p, ']');
    } else if (c == '"') {
      v.kind = kString;
      v.string = parse_string(t, p);
    } else if (t.substr(p, 4) == "true" || t.substr(p, 5) == "false") {
      v.kind = kBool;
      v.boolean = t[p] == 't';
      p += v.boolean ? 4 : 5;
    } else if (t.substr(p, 4) == "null") {
      p += 4;
    } else {
      char* end = nullptr;
      const std::string rest(t.substr(p, 64));
      v.kind = kNumber;
      v.number = std::strtod(rest.c_str(), &end);
      if (end == rest.c_str()) fail(p, "bad value");
      p += static_cast<size_t>(end - rest.c_str());
    }
    return v;
  }
};

}  // namespace tsr::test
