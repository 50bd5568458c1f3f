// A small JSON value with a reader and a writer: enough for tessera-bench's
// own result files (objects keep their key order, so written files read in
// the order the schema documents).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera_bench {

class Json {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Json() = default;
  Json(std::nullptr_t) {}
  Json(bool b) : type_(Type::kBool), bool_(b) {}
  Json(double d) : type_(Type::kNumber), number_(d) {}
  Json(int v) : type_(Type::kNumber), number_(v) {}
  Json(int64_t v) : type_(Type::kNumber), number_(static_cast<double>(v)) {}
  Json(uint64_t v) : type_(Type::kNumber), number_(static_cast<double>(v)) {}
  Json(const char* s) : type_(Type::kString), string_(s) {}
  Json(std::string s) : type_(Type::kString), string_(std::move(s)) {}
  static Json array() {
    Json j;
    j.type_ = Type::kArray;
    return j;
  }
  static Json object() {
    Json j;
    j.type_ = Type::kObject;
    return j;
  }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool boolean() const { return bool_; }
  double number() const { return number_; }
  const std::string& string() const { return string_; }
  const std::vector<Json>& items() const { return items_; }
  const std::vector<std::pair<std::string, Json>>& members() const { return members_; }

  // Object access: find returns nullptr when absent (or not an object).
  const Json* find(std::string_view key) const;
  // Sets (replacing) a member; keeps first-insertion order.
  Json& set(std::string key, Json value);
  // Appends to an array.
  Json& push(Json value);

  // Convenience lookups with defaults for absent or mistyped members.
  double num(std::string_view key, double fallback = 0) const;
  std::string str(std::string_view key, const std::string& fallback = "") const;

  // Compact when indent < 0, else pretty with that many spaces per level.
  std::string dump(int indent = -1) const;

  // Throws nothing: on malformed text returns false with *err naming the
  // byte offset and what was expected.
  static bool parse(std::string_view text, Json* out, std::string* err);

 private:
  void dump_to(std::string& o, int indent, int level) const;

  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

// Shortest text that reads back as the same double; "null" for NaN/Inf.
std::string json_number(double v);
// A JSON string literal with quotes.
std::string json_quote(std::string_view s);

}  // namespace tessera_bench
