// The reference file of tessera-perplexity --save-reference / --kl-divergence:
// the tokens that were scored and, per scored position, the reference
// device's log-probabilities over the whole vocabulary as f32: 4 bytes per
// vocabulary entry and scored token (150 MB for SmolLM2 over 1530 scored
// tokens). Not f16: its rounding of a log-probability near -1 (~5e-4) is
// larger than the KL divergence between two good devices (~1e-5), which it
// would drown in noise.
//
// Layout, little-endian: "TSRPPLR1", int32 n_vocab, n_ctx, n_chunks,
// n_scored (per chunk), int32 tokens[n_chunks * n_ctx], then
// n_chunks * n_scored rows of n_vocab f32.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace tessera_tools::ppl {

struct ReferenceHeader {
  int32_t n_vocab = 0, n_ctx = 0, n_chunks = 0, n_scored = 0;
  std::vector<int32_t> tokens;  // n_chunks * n_ctx, as evaluated
};

class ReferenceWriter {
 public:
  ~ReferenceWriter();
  // False with *error naming the file.
  bool open(const std::string& path, const ReferenceHeader& h, std::string* error);
  bool write_row(const float* logp, std::string* error);
  bool close(std::string* error);
  bool open_ok() const { return f_ != nullptr; }

 private:
  std::FILE* f_ = nullptr;
  std::string path_;
  size_t n_vocab_ = 0;
};

class ReferenceReader {
 public:
  ~ReferenceReader();
  // Reads and checks the header: the sizes must be positive, bounded, and
  // the file exactly as long as they imply.
  bool open(const std::string& path, std::string* error);
  const ReferenceHeader& header() const { return h_; }
  // Next row as f32 log-probabilities into out[n_vocab].
  bool read_row(float* out, std::string* error);

 private:
  std::FILE* f_ = nullptr;
  std::string path_;
  ReferenceHeader h_;
  size_t n_vocab_ = 0;
};

}  // namespace tessera_tools::ppl
