#include "tools/perplexity/reference_file.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace tessera_tools::ppl {
namespace {

constexpr char kMagic[8] = {'T', 'S', 'R', 'P', 'P', 'L', 'R', '1'};
// Bounds that keep a corrupt header from asking for absurd allocations.
constexpr int32_t kMaxVocab = 1 << 22, kMaxCtx = 1 << 20, kMaxChunks = 1 << 20;

std::string io_error(const std::string& path, const char* what) {
  return "reference file '" + path + "': " + what + (errno ? std::string(": ") + std::strerror(errno) : "");
}

}  // namespace

ReferenceWriter::~ReferenceWriter() {
  if (f_) std::fclose(f_);
}

bool ReferenceWriter::open(const std::string& path, const ReferenceHeader& h, std::string* error) {
  path_ = path;
  errno = 0;
  f_ = std::fopen(path.c_str(), "wb");
  if (!f_) {
    *error = io_error(path, "cannot create");
    return false;
  }
  const int32_t sizes[4] = {h.n_vocab, h.n_ctx, h.n_chunks, h.n_scored};
  const bool ok = std::fwrite(kMagic, 1, 8, f_) == 8 && std::fwrite(sizes, 4, 4, f_) == 4 &&
                  std::fwrite(h.tokens.data(), 4, h.tokens.size(), f_) == h.tokens.size();
  if (!ok) *error = io_error(path, "write failed");
  n_vocab_ = static_cast<size_t>(h.n_vocab);
  return ok;
}

bool ReferenceWriter::write_row(const float* logp, std::string* error) {
  if (std::fwrite(logp, 4, n_vocab_, f_) != n_vocab_) {
    *error = io_error(path_, "write failed");
    return false;
  }
  return true;
}

bool ReferenceWriter::close(std::string* error) {
  const bool ok = std::fclose(f_) == 0;
  f_ = nullptr;
  if (!ok) *error = io_error(path_, "close failed");
  return ok;
}

ReferenceReader::~ReferenceReader() {
  if (f_) std::fclose(f_);
}

bool ReferenceReader::open(const std::string& path, std::string* error) {
  path_ = path;
  errno = 0;
  f_ = std::fopen(path.c_str(), "rb");
  if (!f_) {
    *error = io_error(path, "cannot open");
    return false;
  }
  errno = 0;
  char magic[8];
  int32_t s[4];
  if (std::fread(magic, 1, 8, f_) != 8 || std::memcmp(magic, kMagic, 8) != 0) {
    *error = "reference file '" + path + "' is not a tessera-perplexity reference (no TSRPPLR1 header)";
    return false;
  }
  if (std::fread(s, 4, 4, f_) != 4) {
    *error = "reference file '" + path + "': header truncated";
    return false;
  }
  h_.n_vocab = s[0], h_.n_ctx = s[1], h_.n_chunks = s[2], h_.n_scored = s[3];
  if (h_.n_vocab <= 0 || h_.n_vocab > kMaxVocab || h_.n_ctx <= 1 || h_.n_ctx > kMaxCtx || h_.n_chunks <= 0 ||
      h_.n_chunks > kMaxChunks || h_.n_scored <= 0 || h_.n_scored >= h_.n_ctx) {
    *error = "reference file '" + path + "': impossible sizes n_vocab " + std::to_string(h_.n_vocab) +
             ", n_ctx " + std::to_string(h_.n_ctx) + ", n_chunks " + std::to_string(h_.n_chunks) +
             ", n_scored " + std::to_string(h_.n_scored);
    return false;
  }
  const uint64_t n_tok = static_cast<uint64_t>(h_.n_chunks) * static_cast<uint64_t>(h_.n_ctx);
  const uint64_t want =
      24 + 4 * n_tok +
      4ull * static_cast<uint64_t>(h_.n_vocab) * h_.n_scored * static_cast<uint64_t>(h_.n_chunks);
  if (std::fseek(f_, 0, SEEK_END) != 0 || static_cast<uint64_t>(std::ftell(f_)) != want) {
    *error = "reference file '" + path + "' is " + std::to_string(std::ftell(f_)) +
             " bytes, its header implies " + std::to_string(want);
    return false;
  }
  std::fseek(f_, 24, SEEK_SET);
  h_.tokens.resize(n_tok);
  if (std::fread(h_.tokens.data(), 4, n_tok, f_) != n_tok) {
    *error = io_error(path, "read failed");
    return false;
  }
  n_vocab_ = static_cast<size_t>(h_.n_vocab);
  return true;
}

bool ReferenceReader::read_row(float* out, std::string* error) {
  if (std::fread(out, 4, n_vocab_, f_) != n_vocab_) {
    *error = io_error(path_, "read failed");
    return false;
  }
  return true;
}

}  // namespace tessera_tools::ppl
