// The kernel emulator: runs kernels/gpu/*.cu, compiled by the host compiler
// with TSR_GPU_EMU, on the CPU. It exists so the one kernel source that nvcc
// and hipcc compile is executed and checked in CI, where no GPU is present:
// every GPU thread is a fiber, blocks run one after another, __syncthreads
// and warp shuffles are real barriers among the fibers, and the warp size is
// a launch parameter (32 or 64), so a kernel that assumes 32 fails here.
// It checks logic (indexing, reductions, barriers), not speed or memory
// ordering between blocks. Test-only: it is never part of libtessera.
#pragma once

#include <stdint.h>

#include <string>

namespace tsr::gpu {
struct KArgs;
}

namespace tsr::gpu::emu {

// What a kernel's thread-index functions read (gpu_runtime.h).
struct ThreadCtx {
  uint32_t tid = 0;
  uint32_t bdim = 0;
  uint32_t bid[3] = {0, 0, 0};
  uint32_t gdim[3] = {1, 1, 1};
  uint32_t warp = 32;
};

ThreadCtx& cur();
void block_barrier();
// v as passed by lane src of the caller's warp.
float shfl(float v, uint32_t src);

using KernelFn = void (*)(const KArgs&);

// A kernel's static registration under its name (TSR_KERNEL does this).
struct Registration {
  Registration(const char* name, KernelFn fn);
};
KernelFn find_kernel(const char* name);

// Runs fn for every thread of grid x block on the calling thread. False with
// a message when the launch breaks a GPU limit or a block deadlocks (some
// threads wait at a barrier that the others never reach).
//
// Threads run in order until they wait at a barrier; reverse runs them (and
// the blocks) from the last to the first. A kernel that reads another
// thread's shared-memory write without a barrier between sees that write in
// one order and not in the other, so running a suite both ways catches
// missing barriers that one fixed order hides.
bool launch(KernelFn fn, const uint32_t grid[3], uint32_t block, uint32_t warp_size, const KArgs& args,
            std::string* error, bool reverse = false);

}  // namespace tsr::gpu::emu
