// The header-only C++ wrapper against the installed library.
#include <cstdio>
#include <tessera/tessera.hpp>
#include <tessera/tessera_llm.hpp>  // installed and self-contained (compiled, not run here)

int main() {
  try {
    tessera::Context ctx;
    tessera::Graph g(ctx);
    auto a = g.input("a", TSR_DTYPE_F32, {3});
    auto b = g.input("b", TSR_DTYPE_F32, {3});
    auto c = g.mul(a, b);
    g.output(c);
    tessera::Model m(ctx, g, {"cpu"}, true);
    m.set_input(a, std::vector<float>{1, 2, 3});
    m.set_input(b, std::vector<float>{4, 5, 6});
    m.execute();
    auto out = m.output<float>(c, 3);
    if (out[0] != 4 || out[1] != 10 || out[2] != 18) {
      std::fprintf(stderr, "consumer (C++): wrong result %g %g %g\n", out[0], out[1], out[2]);
      return 1;
    }
    std::printf("consumer (C++): a*b ok on %s\n", ctx.devices()[0].name);
    return 0;
  } catch (const tessera::Error& e) {
    std::fprintf(stderr, "consumer (C++): %s\n", e.what());
    return 1;
  }
}
