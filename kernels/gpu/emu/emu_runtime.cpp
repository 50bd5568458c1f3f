// Fibers for the kernel emulator; see emu_runtime.h. A fiber is started once
// with setcontext (makecontext gives it its stack) and from then on switches
// with _setjmp/_longjmp, which, unlike swapcontext, make no system call to
// save and restore the signal mask: a block's threads switch at every
// barrier and shuffle, so this is most of the emulator's cost.
#include "gpu/emu/emu_runtime.h"

#include <setjmp.h>
#include <ucontext.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "gpu/kernel_args.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(__SANITIZE_THREAD__)
#define TSR_EMU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSR_EMU_TSAN 1
#endif
#endif
#if defined(TSR_EMU_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace tsr::gpu::emu {
namespace {

constexpr size_t kStackBytes = 128 * 1024;

enum class State { kRun, kBlockWait, kWarpWait, kDone };

struct Fiber {
  ucontext_t ctx;  // the start: entry() on this fiber's stack
  jmp_buf jb;      // where it continues after a switch out
  bool started = false;
  ThreadCtx tc;
  State st = State::kRun;
  uint32_t parity = 0;   // which exchange buffer this lane's next shuffle uses
  void* tsan = nullptr;  // ThreadSanitizer's fiber (TSR_EMU_TSAN)
};

struct Block {
  jmp_buf main;  // the scheduler, where every switch out of a fiber lands
  std::vector<Fiber> fibers;
  char* stacks = nullptr;      // kStackBytes per thread, from stack_memory()
  std::vector<float> xchg[2];  // per-thread shuffle values, double-buffered
  uint32_t current = 0;
  KernelFn fn = nullptr;
  const KArgs* args = nullptr;
  void* tsan_main = nullptr;  // ThreadSanitizer's fiber of the scheduler (TSR_EMU_TSAN)
};

// The running block and thread. Plain globals: launch() runs one block at a
// time in the process, under its lock.
Block* g_block = nullptr;
ThreadCtx* g_ctx = nullptr;

// AddressSanitizer must be told about every stack switch, or it reports the
// fibers' stacks as overflows of the scheduler's.
#if defined(__SANITIZE_ADDRESS__)
const void* g_main_bottom = nullptr;
size_t g_main_size = 0;
void to_fiber_begin(void** fake, const Fiber& f) {
  __sanitizer_start_switch_fiber(fake, f.ctx.uc_stack.ss_sp, f.ctx.uc_stack.ss_size);
}
void to_fiber_end(void* fake) { __sanitizer_finish_switch_fiber(fake, nullptr, nullptr); }
void to_main_begin(void** fake) { __sanitizer_start_switch_fiber(fake, g_main_bottom, g_main_size); }
void in_fiber(void* fake) { __sanitizer_finish_switch_fiber(fake, &g_main_bottom, &g_main_size); }
#elif defined(TSR_EMU_TSAN)
// ThreadSanitizer must be told too: each GPU thread is a TSan fiber, and a
// switch (flags 0) orders everything before it with everything after, as
// the one OS thread running them does.
void to_fiber_begin(void**, const Fiber& f) { __tsan_switch_to_fiber(f.tsan, 0); }
void to_fiber_end(void*) {}
void to_main_begin(void**) { __tsan_switch_to_fiber(g_block->tsan_main, 0); }
void in_fiber(void*) {}
#else
void to_fiber_begin(void**, const Fiber&) {}
void to_fiber_end(void*) {}
void to_main_begin(void**) {}
void in_fiber(void*) {}
#endif

// TSan's fibers of a launch, created before its first block and destroyed
// after its last (no-ops without TSan).
void create_tsan_fibers(Block& b) {
#if defined(TSR_EMU_TSAN)
  b.tsan_main = __tsan_get_current_fiber();
  for (Fiber& f : b.fibers) f.tsan = __tsan_create_fiber(0);
#else
  (void)b;
#endif
}
void destroy_tsan_fibers(Block& b) {
#if defined(TSR_EMU_TSAN)
  for (Fiber& f : b.fibers) __tsan_destroy_fiber(f.tsan);
#else
  (void)b;
#endif
}

Fiber& me() { return g_block->fibers[g_block->current]; }

// Fiber stacks for n threads, kept across launches (under launch()'s lock):
// fresh stacks per launch cost a mapping and page faults every time.
char* stack_memory(uint32_t n) {
  static std::vector<char> memory;
  const size_t need = static_cast<size_t>(n) * kStackBytes;
  if (memory.size() < need) memory.resize(need);
  return memory.data();
}

void yield(State st) {
  Fiber& f = me();
  f.st = st;
  void* fake = nullptr;
  to_main_begin(&fake);
  if (_setjmp(f.jb) == 0) _longjmp(g_block->main, 1);
  in_fiber(fake);
}

[[noreturn]] void entry() {
  in_fiber(nullptr);
  g_block->fn(*g_block->args);
  me().st = State::kDone;
  to_main_begin(nullptr);  // this fiber's stack is done with
  _longjmp(g_block->main, 1);
}

std::map<std::string, KernelFn>& registry() {
  static std::map<std::string, KernelFn> r;
  return r;
}

// Releases the fibers whose barrier everyone it waits for has reached.
bool release(Block& b, uint32_t warp) {
  bool released = false;
  const auto n = static_cast<uint32_t>(b.fibers.size());
  bool all_block = true, any_block = false;
  for (const Fiber& f : b.fibers) {
    if (f.st == State::kDone) continue;
    all_block = all_block && f.st == State::kBlockWait;
    any_block = any_block || f.st == State::kBlockWait;
  }
  if (all_block && any_block) {
    for (Fiber& f : b.fibers)
      if (f.st == State::kBlockWait) f.st = State::kRun;
    return true;
  }
  for (uint32_t w0 = 0; w0 < n; w0 += warp) {
    const uint32_t w1 = std::min(n, w0 + warp);
    bool all = true, any = false;
    for (uint32_t i = w0; i < w1; ++i) {
      const State s = b.fibers[i].st;
      if (s == State::kDone) continue;
      all = all && s == State::kWarpWait;
      any = any || s == State::kWarpWait;
    }
    if (all && any) {
      for (uint32_t i = w0; i < w1; ++i)
        if (b.fibers[i].st == State::kWarpWait) b.fibers[i].st = State::kRun;
      released = true;
    }
  }
  return released;
}

bool run_block(Block& b, uint32_t warp, bool reverse, std::string* error) {
  const auto n = static_cast<uint32_t>(b.fibers.size());
  ucontext_t start;
  getcontext(&start);  // once: a copy is a valid base for makecontext
  for (uint32_t t = 0; t < n; ++t) {
    Fiber& f = b.fibers[t];
    f.st = State::kRun;
    f.parity = 0;
    f.started = false;
    f.ctx = start;
    f.ctx.uc_stack.ss_sp = b.stacks + static_cast<size_t>(t) * kStackBytes;
    f.ctx.uc_stack.ss_size = kStackBytes;
    f.ctx.uc_link = nullptr;  // entry() never returns
    makecontext(&f.ctx, reinterpret_cast<void (*)()>(entry), 0);
  }
  for (;;) {
    bool ran = false;
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t t = reverse ? n - 1 - i : i;
      if (b.fibers[t].st != State::kRun) continue;
      b.current = t;
      g_ctx = &b.fibers[t].tc;
      Fiber& f = b.fibers[t];
      void* fake = nullptr;
      to_fiber_begin(&fake, f);
      if (_setjmp(b.main) == 0) {
        if (!f.started) {
          f.started = true;
          setcontext(&f.ctx);
        }
        _longjmp(f.jb, 1);
      }
      to_fiber_end(fake);
      ran = true;
    }
    bool done = true;
    for (const Fiber& f : b.fibers) done = done && f.st == State::kDone;
    if (done) return true;
    if (!release(b, warp) && !ran) {
      *error = "a block deadlocked: its threads wait at barriers that the others never reach";
      return false;
    }
  }
}

}  // namespace

ThreadCtx& cur() { return *g_ctx; }

void block_barrier() { yield(State::kBlockWait); }

float shfl(float v, uint32_t src) {
  Fiber& f = me();
  const uint32_t w = f.tc.warp;
  const uint32_t base = f.tc.tid / w * w;
  std::vector<float>& x = g_block->xchg[f.parity];
  x[f.tc.tid] = v;
  f.parity ^= 1u;
  yield(State::kWarpWait);
  const uint32_t from = base + src % w;
  return from < x.size() ? x[from] : 0.0f;
}

Registration::Registration(const char* name, KernelFn fn) { registry()[name] = fn; }

KernelFn find_kernel(const char* name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : it->second;
}

bool launch(KernelFn fn, const uint32_t grid[3], uint32_t block, uint32_t warp_size, const KArgs& args,
            std::string* error, bool reverse) {
  if (block == 0 || block > 1024 || grid[0] == 0 || grid[1] == 0 || grid[2] == 0 || grid[0] > 0x7fffffffu ||
      grid[1] > 65535 || grid[2] > 65535) {
    *error = "launch of " + std::to_string(grid[0]) + "x" + std::to_string(grid[1]) + "x" +
             std::to_string(grid[2]) + " blocks of " + std::to_string(block) +
             " threads is past a GPU's limits (block <= 1024, grid y, z <= 65535)";
    return false;
  }
  static std::mutex one_at_a_time;  // blocks share the kernels' static shared arrays and g_block
  std::lock_guard<std::mutex> lock(one_at_a_time);
  Block b;
  b.fn = fn;
  b.args = &args;
  b.fibers.resize(block);
  b.stacks = stack_memory(block);
  b.xchg[0].assign(block, 0.0f);
  b.xchg[1].assign(block, 0.0f);
  Block* saved = g_block;
  g_block = &b;
  create_tsan_fibers(b);
  bool ok = true;
  const uint64_t n_blocks = static_cast<uint64_t>(grid[0]) * grid[1] * grid[2];
  for (uint64_t i = 0; i < n_blocks && ok; ++i) {
    const uint64_t flat = reverse ? n_blocks - 1 - i : i;
    const uint32_t x = static_cast<uint32_t>(flat % grid[0]);
    const uint32_t y = static_cast<uint32_t>(flat / grid[0] % grid[1]);
    const uint32_t z = static_cast<uint32_t>(flat / grid[0] / grid[1]);
    for (uint32_t t = 0; t < block; ++t)
      b.fibers[t].tc = ThreadCtx{t, block, {x, y, z}, {grid[0], grid[1], grid[2]}, warp_size};
    ok = run_block(b, warp_size, reverse, error);
  }
  destroy_tsan_fibers(b);
  g_block = saved;
  return ok;
}

}  // namespace tsr::gpu::emu
