// Writes the tiny random llama GGUF of the LLM tests (tests/models/tiny_llama.h)
// to argv[1], for the tessera-bench e2e test.
#include <cstdio>

#include "tests/models/tiny_llama.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_tiny_model OUT.gguf\n");
    return 2;
  }
  if (!tessera::test::write_tiny_llama(argv[1])) {
    std::fprintf(stderr, "write_tiny_model: cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
