// JSON reading and writing for tessera-bench result files.
#include "tools/bench/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "tools/common/cli.h"

namespace tessera_bench {

std::string json_quote(std::string_view s) {
  std::string o(1, '"');
  o += tessera_tools::json_escape(s);
  o += '"';
  return o;
}

const Json* Json::find(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const auto& [k, v] : members_)
    if (k == key) return &v;
  return nullptr;
}

Json& Json::set(std::string key, Json value) {
  type_ = Type::kObject;
  for (auto& [k, v] : members_)
    if (k == key) return v = std::move(value);
  members_.emplace_back(std::move(key), std::move(value));
  return members_.back().second;
}

Json& Json::push(Json value) {
  type_ = Type::kArray;
  items_.push_back(std::move(value));
  return items_.back();
}

double Json::num(std::string_view key, double fallback) const {
  const Json* j = find(key);
  return j && j->is_number() ? j->number() : fallback;
}

std::string Json::str(std::string_view key, const std::string& fallback) const {
  const Json* j = find(key);
  return j && j->is_string() ? j->string() : fallback;
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  // Integral values up to 2^53 print without exponent or fraction.
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void Json::dump_to(std::string& o, int indent, int level) const {
  auto newline = [&](int lv) {
    if (indent < 0) return;
    o += '\n';
    o.append(static_cast<size_t>(indent * lv), ' ');
  };
  switch (type_) {
    case Type::kNull:
      o += "null";
      break;
    case Type::kBool:
      o += bool_ ? "true" : "false";
      break;
    case Type::kNumber:
      o += json_number(number_);
      break;
    case Type::kString:
      o += json_quote(string_);
      break;
    case Type::kArray: {
      // Arrays of scalars stay on one line: samples and the like.
      bool scalars = true;
      for (const Json& j : items_) scalars = scalars && !j.is_array() && !j.is_object();
      o += '[';
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i) o += indent >= 0 && scalars ? ", " : ",";
        if (!scalars) newline(level + 1);
        items_[i].dump_to(o, indent, level + 1);
      }
      if (!scalars && !items_.empty()) newline(level);
      o += ']';
      break;
    }
    case Type::kObject:
      o += '{';
      for (size_t i = 0; i < members_.size(); ++i) {
        if (i) o += ',';
        newline(level + 1);
        o += json_quote(members_[i].first);
        o += indent >= 0 ? ": " : ":";
        members_[i].second.dump_to(o, indent, level + 1);
      }
      if (!members_.empty()) newline(level);
      o += '}';
      break;
  }
}

std::string Json::dump(int indent) const {
  std::string o;
  dump_to(o, indent, 0);
  return o;
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}

  bool document(Json* out) {
    if (!value(out, 0)) return false;
    skip_ws();
    if (pos_ != t_.size()) return fail("end of input");
    return true;
  }
  std::string error() const { return error_; }

 private:
  bool fail(const char* expected) {
    if (error_.empty()) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "malformed JSON at byte %zu: expected %s", pos_, expected);
      error_ = buf;
    }
    return false;
  }
  void skip_ws() {
    while (pos_ < t_.size() && (t_[pos_] == ' ' || t_[pos_] == '\n' || t_[pos_] == '\r' || t_[pos_] == '\t'))
      ++pos_;
  }
  bool literal(std::string_view word) {
    if (t_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool value(Json* out, int depth) {
    if (depth > 64) return fail("nesting depth <= 64");
    skip_ws();
    if (pos_ >= t_.size()) return fail("a value");
    const char c = t_[pos_];
    if (c == '{') return object(out, depth);
    if (c == '[') return array(out, depth);
    if (c == '"') {
      std::string s;
      if (!string(&s)) return false;
      *out = Json(std::move(s));
      return true;
    }
    if (literal("true")) return *out = Json(true), true;
    if (literal("false")) return *out = Json(false), true;
    if (literal("null")) return *out = Json(), true;
    return number(out);
  }

  bool number(Json* out) {
    const size_t start = pos_;
    if (pos_ < t_.size() && t_[pos_] == '-') ++pos_;
    auto digits = [&] {
      const size_t s = pos_;
      while (pos_ < t_.size() && t_[pos_] >= '0' && t_[pos_] <= '9') ++pos_;
      return pos_ > s;
    };
    if (!digits()) return pos_ = start, fail("a value");
    if (pos_ < t_.size() && t_[pos_] == '.' && (++pos_, !digits())) return fail("digits after '.'");
    if (pos_ < t_.size() && (t_[pos_] == 'e' || t_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < t_.size() && (t_[pos_] == '+' || t_[pos_] == '-')) ++pos_;
      if (!digits()) return fail("exponent digits");
    }
    const std::string text(t_.substr(start, pos_ - start));
    *out = Json(std::strtod(text.c_str(), nullptr));
    return true;
  }

  static void put_utf8(std::string& s, uint32_t cp) {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xc0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xe0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      s += static_cast<char>(0xf0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  bool hex4(uint32_t* out) {
    if (pos_ + 4 > t_.size()) return fail("4 hex digits");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = t_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v |= c - 'A' + 10;
      else
        return fail("4 hex digits");
    }
    *out = v;
    return true;
  }

  bool string(std::string* out) {
    ++pos_;  // opening quote
    std::string s;
    while (true) {
      if (pos_ >= t_.size()) return fail("closing '\"'");
      const char c = t_[pos_++];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) return --pos_, fail("no control characters in strings");
      if (c != '\\') {
        s += c;
        continue;
      }
      if (pos_ >= t_.size()) return fail("an escape");
      const char e = t_[pos_++];
      switch (e) {
        case '"':
          s += '"';
          break;
        case '\\':
          s += '\\';
          break;
        case '/':
          s += '/';
          break;
        case 'b':
          s += '\b';
          break;
        case 'f':
          s += '\f';
          break;
        case 'n':
          s += '\n';
          break;
        case 'r':
          s += '\r';
          break;
        case 't':
          s += '\t';
          break;
        case 'u': {
          uint32_t cp;
          if (!hex4(&cp)) return false;
          if (cp >= 0xd800 && cp < 0xdc00) {
            uint32_t lo;
            if (!literal("\\u") || !hex4(&lo) || lo < 0xdc00 || lo >= 0xe000)
              return fail("a low surrogate escape");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          put_utf8(s, cp);
          break;
        }
        default:
          return --pos_, fail("a valid escape");
      }
    }
    *out = std::move(s);
    return true;
  }

  bool array(Json* out, int depth) {
    ++pos_;
    Json a = Json::array();
    skip_ws();
    if (pos_ < t_.size() && t_[pos_] == ']') return ++pos_, *out = std::move(a), true;
    while (true) {
      Json v;
      if (!value(&v, depth + 1)) return false;
      a.push(std::move(v));
      skip_ws();
      if (pos_ < t_.size() && t_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < t_.size() && t_[pos_] == ']') break;
      return fail("',' or ']'");
    }
    ++pos_;
    *out = std::move(a);
    return true;
  }

  bool object(Json* out, int depth) {
    ++pos_;
    Json o = Json::object();
    skip_ws();
    if (pos_ < t_.size() && t_[pos_] == '}') return ++pos_, *out = std::move(o), true;
    while (true) {
      skip_ws();
      if (pos_ >= t_.size() || t_[pos_] != '"') return fail("a member name");
      std::string key;
      if (!string(&key)) return false;
      skip_ws();
      if (pos_ >= t_.size() || t_[pos_] != ':') return fail("':'");
      ++pos_;
      Json v;
      if (!value(&v, depth + 1)) return false;
      o.set(std::move(key), std::move(v));
      skip_ws();
      if (pos_ < t_.size() && t_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < t_.size() && t_[pos_] == '}') break;
      return fail("',' or '}'");
    }
    ++pos_;
    *out = std::move(o);
    return true;
  }

  std::string_view t_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

bool Json::parse(std::string_view text, Json* out, std::string* err) {
  Parser p(text);
  Json v;
  if (!p.document(&v)) {
    if (err) *err = p.error();
    return false;
  }
  *out = std::move(v);
  return true;
}

}  // namespace tessera_bench
