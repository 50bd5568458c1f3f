// Sweep lists on the command line, as llama-bench writes them: comma-separated
// items, each a number or a range "first-last" (step 1), "first-last+step" or
// "first-last*factor". Bounded so that a typo cannot ask for millions of runs.
#include <string>

#include "tools/bench/bench.h"

namespace tessera_bench {
namespace {

constexpr size_t kMaxListValues = 1024;

bool parse_item(const std::string& item, int64_t lo, int64_t hi, std::vector<int64_t>* out,
                std::string* why) {
  // A range's dash follows a digit (no negative values are accepted anyway).
  const size_t dash = item.find('-', 1);
  if (dash == std::string::npos) {
    int64_t v;
    if (!parse_int(item.c_str(), lo, hi, &v))
      return *why =
                 "not a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]: '" + item + "'",
             false;
    out->push_back(v);
    return true;
  }
  const size_t op = item.find_first_of("+*", dash + 1);
  int64_t first, last, step = 1;
  const bool mul = op != std::string::npos && item[op] == '*';
  if (!parse_int(item.substr(0, dash).c_str(), lo, hi, &first) ||
      !parse_int(item.substr(dash + 1, op == std::string::npos ? std::string::npos : op - dash - 1).c_str(),
                 lo, hi, &last) ||
      (op != std::string::npos && !parse_int(item.substr(op + 1).c_str(), mul ? 2 : 1, 1 << 20, &step)))
    return *why = "bad range '" + item + "' (first-last, first-last+step or first-last*factor, values in [" +
                  std::to_string(lo) + ", " + std::to_string(hi) + "])",
           false;
  if (last < first) return *why = "range '" + item + "' ends before it starts", false;
  if (mul && first == 0) return *why = "range '" + item + "' multiplies from 0", false;
  for (int64_t v = first; v <= last; v = mul ? v * step : v + step) {
    if (out->size() >= kMaxListValues)
      return *why = "more than " + std::to_string(kMaxListValues) + " values", false;
    out->push_back(v);
  }
  return true;
}

}  // namespace

bool parse_int_list(const std::string& text, int64_t lo, int64_t hi, std::vector<int64_t>* out,
                    std::string* why) {
  std::vector<int64_t> values;
  size_t i = 0;
  while (i <= text.size()) {
    const size_t j = std::min(text.find(',', i), text.size());
    if (!parse_item(text.substr(i, j - i), lo, hi, &values, why)) return false;
    if (values.size() > kMaxListValues)
      return *why = "more than " + std::to_string(kMaxListValues) + " values", false;
    i = j + 1;
  }
  // Each value once, in the order given.
  for (int64_t v : values) {
    bool seen = false;
    for (int64_t u : *out) seen = seen || u == v;
    if (!seen) out->push_back(v);
  }
  return true;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= text.size()) {
    const size_t j = std::min(text.find(',', i), text.size());
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace tessera_bench
