// Host allocation failure injection for the reliability tests: this header
// replaces the global operator new/delete of the test executable (and so of
// every library and plugin it loads, whose calls resolve to the
// executable's), counting the allocations made while counting is on and
// failing the one the test asks for, as a process out of memory would
// (std::bad_alloc, or nullptr for the nothrow forms). Include it in exactly
// one source file of a test executable.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace tessera::test::host_fault {

// Counting is per thread: only the thread that calls the library counts.
// Other threads are the CPU pool's workers (which run kernels, allocating
// nothing) and drivers' own threads, such as lavapipe's LLVM compiler, which
// abort on a failed allocation: a driver's robustness is not the test's.
inline thread_local bool g_counting = false;
inline std::atomic<int64_t> g_count{0};
inline std::atomic<int64_t> g_fail_at{0};  // 1-based; 0: none

// Resets the count; the nth allocation counted from now fails (0: none).
inline void arm(int64_t n) {
  g_count.store(0);
  g_fail_at.store(n);
}
// The number of allocations counted since arm; stops failing.
inline int64_t disarm() {
  g_fail_at.store(0);
  return g_count.load();
}
// Runs f with counting on: allocations by the test's own code between the
// library calls it makes are neither counted nor failed.
template <typename F>
auto counted(F&& f) {
  struct On {
    On() { g_counting = true; }
    ~On() { g_counting = false; }
  } on;
  return f();
}

inline bool should_fail() {
  if (!g_counting) return false;
  return g_count.fetch_add(1, std::memory_order_relaxed) + 1 == g_fail_at.load(std::memory_order_relaxed);
}

inline void* allocate(std::size_t n, std::size_t align) {
  if (should_fail()) return nullptr;
  if (n == 0) n = 1;
  if (align <= alignof(std::max_align_t)) return std::malloc(n);
  return std::aligned_alloc(align, (n + align - 1) / align * align);
}

}  // namespace tessera::test::host_fault

void* operator new(std::size_t n) {
  if (void* p = tessera::test::host_fault::allocate(n, 0)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = tessera::test::host_fault::allocate(n, static_cast<std::size_t>(a))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return ::operator new(n, a); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return tessera::test::host_fault::allocate(n, 0);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return tessera::test::host_fault::allocate(n, 0);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return tessera::test::host_fault::allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return tessera::test::host_fault::allocate(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
