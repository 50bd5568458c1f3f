// A second process for llm_state_test: loads MODEL, restores a session from
// STATE and prints the N greedy tokens it generates with no new prompt, one
// line, space-separated. Exit 1 with the error on stderr on any failure.
#include <cstdio>
#include <cstdlib>

#include "tessera/tessera_llm.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: llm_state_tool MODEL STATE N\n");
    return 2;
  }
  tsr_context* ctx = nullptr;
  tsr_llm* m = nullptr;
  tsr_llm_session* s = nullptr;
  tsr_llm_sampling sp{};
  sp.struct_size = sizeof sp;
  auto print = [](int32_t token, const char*, int32_t, void*) -> int32_t {
    std::printf("%d ", token);
    return 0;
  };
  const bool ok =
      tsr_context_create(nullptr, &ctx) == TSR_OK && tsr_llm_load(ctx, argv[1], nullptr, &m) == TSR_OK &&
      tsr_llm_session_create(m, &sp, &s) == TSR_OK && tsr_llm_session_load_file(s, argv[2]) == TSR_OK &&
      tsr_llm_generate(s, nullptr, 0, std::atoi(argv[3]), print, nullptr, nullptr) == TSR_OK;
  if (!ok) std::fprintf(stderr, "llm_state_tool: %s\n", tsr_last_error());
  std::printf("\n");
  tsr_llm_session_free(s);
  tsr_llm_free(m);
  tsr_context_destroy(ctx);
  return ok ? 0 : 1;
}
