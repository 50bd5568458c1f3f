// Programs: each kernel variant is built for the device from the embedded
// OpenCL C sources with the dispatch's constants as defines (as Vulkan
// specializes a pipeline), once per (kernel, constants). Built binaries are
// kept on disk, keyed by device, driver and the exact sources and options,
// so a second run skips the driver's compiler.
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "cl_embedded.h"
#include "cl_internal.h"

namespace tsr::cl {
namespace {

constexpr char kMagic[] = "tessera-opencl-binary 2\n";
// Error messages hold 512 bytes (tsr_error): a few lines, each cut short.
constexpr int kLogLines = 3;
constexpr size_t kLogLineChars = 120;

const char* source_text(std::string_view name) {
  for (const EmbeddedSource& s : embedded_sources())
    if (name == s.name) return s.text;
  return nullptr;
}

uint64_t fnv1a(std::string_view s, uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// The build log's lines that say "error" (else its first lines), at most kLogLines.
std::string first_errors(const std::string& log) {
  std::istringstream in(log);
  std::string line, errors, head;
  int n_err = 0, n_head = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.size() > kLogLineChars) line = line.substr(0, kLogLineChars) + "...";
    if (line.find("error") != std::string::npos && n_err < kLogLines) {
      errors += "\n  " + line;
      ++n_err;
    }
    if (n_head < kLogLines) {
      head += "\n  " + line;
      ++n_head;
    }
  }
  return n_err ? errors : head.empty() ? " (empty build log)" : head;
}

std::string build_log(const Fns& fn, cl_program p, cl_device_id dev) {
  size_t n = 0;
  if (fn.clGetProgramBuildInfo(p, dev, CL_PROGRAM_BUILD_LOG, 0, nullptr, &n) != CL_SUCCESS || n == 0)
    return "";
  std::string log(n, '\0');
  fn.clGetProgramBuildInfo(p, dev, CL_PROGRAM_BUILD_LOG, n, log.data(), nullptr);
  return log;
}

// File layout: kMagic, the key line, the binary's size line, the binary.
std::vector<unsigned char> read_binary(const std::string& path, const std::string& key) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  std::string magic(sizeof kMagic - 1, '\0'), stored, size_line;
  if (!f.read(magic.data(), static_cast<std::streamsize>(magic.size())) || magic != kMagic) return {};
  if (!std::getline(f, stored) || stored != key) return {};  // a hash collision or a foreign file
  if (!std::getline(f, size_line)) return {};
  std::vector<unsigned char> bin(std::istreambuf_iterator<char>(f), {});
  if (size_line != std::to_string(bin.size())) return {};  // cut short (a full disk, a crash)
  return bin;
}

// Best effort: a read-only home or a full disk only costs build time. Each
// writer has a temporary file of its own (pid and count), renamed into place
// only when complete, so concurrent processes never tear a file.
void write_binary(const std::string& path, const std::string& key, const std::vector<unsigned char>& bin) {
  if (bin.empty()) return;
  static std::atomic<uint64_t> count{0};
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string tmp = fmt::format("{}.{}.{}.tmp", path, static_cast<long>(getpid()), count++);
  {
    std::ofstream f(tmp, std::ios::binary);
    f << kMagic << key << '\n' << bin.size() << '\n';
    f.write(reinterpret_cast<const char*>(bin.data()), static_cast<std::streamsize>(bin.size()));
    f.close();
    if (!f) {
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

std::vector<unsigned char> program_binary(const Fns& fn, cl_program p) {
  size_t size = 0;
  if (fn.clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, nullptr) != CL_SUCCESS || size == 0)
    return {};
  std::vector<unsigned char> bin(size);
  unsigned char* ptr = bin.data();
  if (fn.clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof ptr, &ptr, nullptr) != CL_SUCCESS) return {};
  return bin;
}

}  // namespace

Result<cl_program> DeviceState::program(std::string_view kernel, const SpecConstants& spec) {
  auto key = std::make_tuple(std::string(kernel), spec);
  if (auto it = programs.find(key); it != programs.end()) return it->second;
  const EmbeddedKernel* k = nullptr;
  for (const EmbeddedKernel& e : embedded_kernels())
    if (kernel == e.name) k = &e;
  if (!k) return make_error(TSR_ERR_INTERNAL, "[opencl] no embedded kernel named '{}'", kernel);
  std::vector<const char*> texts;
  for (const char* file : {"common.cl", "blocks.cl", k->prelude, k->file}) {
    if (!*file) continue;
    const char* t = source_text(file);
    if (!t)
      return make_error(TSR_ERR_INTERNAL, "[opencl] kernel '{}' needs {}, which is not embedded", kernel,
                        file);
    texts.push_back(t);
  }
  std::string options = std::string("-cl-std=CL1.2") + k->defines;
  for (int i = 0; i < 4; ++i) options += fmt::format(" -DSPEC{}={}u", i, spec[static_cast<size_t>(i)]);
  for (int s = 0; s < kSlots; ++s)
    options += fmt::format(" -DDT_SLOT{}={}u", s, spec[static_cast<size_t>(4 + s)]);
  if (const char* extra = std::getenv("TESSERA_OPENCL_BUILD_OPTIONS"); extra && *extra)
    options += std::string(" ") + extra;

  uint64_t h = fnv1a(options);
  for (const char* t : texts) h = fnv1a(t, h);
  const std::string cache_key =
      fmt::format("{}|{}|{}|{}|{:016x}", info.name, info.platform_version, info.driver_version, kernel, h);
  const std::string path =
      cache_dir.empty() ? "" : fmt::format("{}/{:016x}.bin", cache_dir, fnv1a(cache_key));

  cl_program p = nullptr;
  cl_int r = CL_SUCCESS;
  const cl_device_id dev = info.id;
  if (!path.empty()) {
    std::vector<unsigned char> bin = read_binary(path, cache_key);
    if (!bin.empty()) {
      const unsigned char* ptr = bin.data();
      const size_t size = bin.size();
      cl_int status = CL_SUCCESS;
      p = fn->clCreateProgramWithBinary(ctx, 1, &dev, &size, &ptr, &status, &r);
      // A binary the driver no longer takes is rebuilt from source.
      if (p && (r != CL_SUCCESS || status != CL_SUCCESS ||
                fn->clBuildProgram(p, 1, &dev, options.c_str(), nullptr, nullptr) != CL_SUCCESS)) {
        fn->clReleaseProgram(p);
        p = nullptr;
      }
    }
  }
  if (!p) {
    p = fn->clCreateProgramWithSource(ctx, static_cast<cl_uint>(texts.size()), texts.data(), nullptr, &r);
    TSR_RETURN_IF_ERROR(check(r, "clCreateProgramWithSource"));
    r = fn->clBuildProgram(p, 1, &dev, options.c_str(), nullptr, nullptr);
    if (r != CL_SUCCESS) {
      const std::string log = build_log(*fn, p, dev);
      fn->clReleaseProgram(p);
      return make_error(
          r == CL_BUILD_PROGRAM_FAILURE ? TSR_ERR_UNSUPPORTED : TSR_ERR_DEVICE,
          "[opencl] building kernel '{}' for {} failed ({}); build log:{}\n  (build options: {})", kernel,
          info.name, error_name(r), first_errors(log), options);
    }
    if (!path.empty()) write_binary(path, cache_key, program_binary(*fn, p));
  }
  programs.emplace(std::move(key), p);
  return p;
}

}  // namespace tsr::cl
