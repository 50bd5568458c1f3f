// A backend plugin ("evil") that breaks the ABI's rules on request, for
// plugin_misbehave_test. It works as a small host-memory backend (one
// device, scale on contiguous f32) until $TSR_MISBEHAVE names one of its
// entries and a way to fail there ("entry:mode", read at every call):
//   error    returns TSR_ERR_DEVICE with a message that does not name the entry
//   silent   returns TSR_ERR_DEVICE with no message
//   long     returns TSR_ERR_DEVICE with a message filling the buffer, no NUL
//   badcode  returns 77, not a tsr_status_code
//   null     returns TSR_OK without writing its out handle
//   throw    throws a C++ exception out of the entry
//   huge     (device_count) reports INT32_MAX devices
//   slow     (any) sleeps $TSR_MISBEHAVE_SLOW_MS (default 1500) first, then works
// Void entries can only throw; int and pointer entries throw or return 0/NULL.
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tessera/tessera_backend.h"

struct tsr_bk_instance_s {
  int unused;
};
struct tsr_bk_device_s {
  int unused;
};
struct tsr_bk_buffer_s {
  std::vector<unsigned char> data;
};
struct tsr_bk_queue_s {
  int unused;
};
struct tsr_bk_event_s {
  int unused;
};
struct tsr_bk_prepared_s {
  std::vector<tsr_subgraph_node> nodes;
};

namespace {

// The mode asked for entry, or "" when it is to behave.
std::string mode_for(const char* entry) {
  const char* e = std::getenv("TSR_MISBEHAVE");
  if (!e) return "";
  const std::string spec = e;
  const size_t colon = spec.find(':');
  if (colon == std::string::npos || spec.compare(0, colon, entry) != 0) return "";
  std::string mode = spec.substr(colon + 1);
  if (mode == "slow") {
    const char* ms = std::getenv("TSR_MISBEHAVE_SLOW_MS");
    std::this_thread::sleep_for(std::chrono::milliseconds(ms ? std::atoi(ms) : 1500));
    return "";
  }
  if (mode == "throw")
    throw std::runtime_error(std::string("misbehaving plugin threw on purpose in ") + entry);
  return mode;
}

// The failure a status entry returns for mode; TSR_OK to go on (mode "" or
// "null", which the entry handles).
tsr_status_code fail(const std::string& mode, tsr_error* err) {
  if (mode.empty() || mode == "null") return TSR_OK;
  if (mode == "badcode") return static_cast<tsr_status_code>(77);
  if (err) {
    if (mode == "long")
      std::memset(err->message, 'x', sizeof err->message);
    else if (mode == "silent")
      err->message[0] = '\0';
    else
      std::snprintf(err->message, sizeof err->message, "the misbehaving plugin failed on purpose");
  }
  return TSR_ERR_DEVICE;
}

#define MISBEHAVE(entry, err)                                           \
  const std::string mode = mode_for(entry);                             \
  if (tsr_status_code rc_ = fail(mode, err); rc_ != TSR_OK) return rc_; \
  const bool give_null = mode == "null"

tsr_status_code evil_create(const tsr_backend_options*, tsr_bk_instance* out, tsr_error* err) {
  MISBEHAVE("create", err);
  *out = give_null ? nullptr : new tsr_bk_instance_s{};
  return TSR_OK;
}
void evil_destroy(tsr_bk_instance inst) {
  delete inst;  // first: a throwing destroy must not also leak
  mode_for("destroy");
}
int32_t evil_device_count(tsr_bk_instance) {
  const std::string mode = mode_for("device_count");
  if (mode == "huge") return INT32_MAX;
  return mode.empty() ? 1 : 0;
}
tsr_status_code evil_device_open(tsr_bk_instance, int32_t, tsr_bk_device* out, tsr_error* err) {
  MISBEHAVE("device_open", err);
  *out = give_null ? nullptr : new tsr_bk_device_s{};
  return TSR_OK;
}
void evil_device_close(tsr_bk_device d) {
  delete d;
  mode_for("device_close");
}
tsr_status_code evil_device_props(tsr_bk_device, tsr_device_props* p, tsr_error* err) {
  MISBEHAVE("device_props", err);
  const uint32_t size = p->struct_size;
  std::memset(p, 0, size);
  p->struct_size = size;
  // Strings without their NUL: core must cut them at the field's end.
  std::memset(p->name, 'E', sizeof p->name);
  std::memset(p->vendor, 'V', sizeof p->vendor);
  std::snprintf(p->driver, sizeof p->driver, "misbehaving plugin");
  p->type = TSR_DEVICE_TYPE_OTHER;
  p->host_visible = 1;
  return TSR_OK;
}
tsr_status_code evil_buffer_alloc(tsr_bk_device, uint64_t size, uint32_t, tsr_bk_buffer* out,
                                  tsr_error* err) {
  MISBEHAVE("buffer_alloc", err);
  if (give_null) {
    *out = nullptr;
    return TSR_OK;
  }
  auto* b = new tsr_bk_buffer_s{};
  b->data.resize(size);
  *out = b;
  return TSR_OK;
}
void evil_buffer_free(tsr_bk_buffer b) {
  delete b;
  mode_for("buffer_free");
}
void* evil_buffer_host_ptr(tsr_bk_buffer b) {
  if (!mode_for("buffer_host_ptr").empty()) return nullptr;
  return b->data.data();
}
tsr_status_code evil_buffer_write(tsr_bk_queue, tsr_bk_buffer b, uint64_t off, const void* src, uint64_t size,
                                  tsr_error* err) {
  MISBEHAVE("buffer_write", err);
  (void)give_null;
  if (off > b->data.size() || size > b->data.size() - off) return fail("error", err);
  if (size) std::memcpy(b->data.data() + off, src, size);
  return TSR_OK;
}
tsr_status_code evil_buffer_read(tsr_bk_queue, tsr_bk_buffer b, uint64_t off, void* dst, uint64_t size,
                                 tsr_error* err) {
  MISBEHAVE("buffer_read", err);
  (void)give_null;
  if (off > b->data.size() || size > b->data.size() - off) return fail("error", err);
  if (size) std::memcpy(dst, b->data.data() + off, size);
  return TSR_OK;
}
tsr_status_code evil_queue_create(tsr_bk_device, tsr_bk_queue* out, tsr_error* err) {
  MISBEHAVE("queue_create", err);
  *out = give_null ? nullptr : new tsr_bk_queue_s{};
  return TSR_OK;
}
void evil_queue_destroy(tsr_bk_queue q) {
  delete q;
  mode_for("queue_destroy");
}
tsr_status_code evil_queue_finish(tsr_bk_queue, tsr_error* err) {
  MISBEHAVE("queue_finish", err);
  (void)give_null;
  return TSR_OK;
}
bool contiguous_f32(const tsr_tensor_desc& t) {
  int64_t stride = 4;
  for (int i = 0; i < TSR_MAX_DIMS; ++i) {
    if (t.ne[i] > 1 && t.nb[i] != stride) return false;
    stride *= t.ne[i];
  }
  return t.dtype == TSR_DTYPE_F32;
}

int32_t evil_supports_op(tsr_bk_device, const tsr_node_desc* node, char* reason, size_t reason_len) {
  const std::string mode = mode_for("supports_op");
  const bool ok = node->op == TSR_OP_SCALE && contiguous_f32(node->inputs[0]) && contiguous_f32(node->output);
  if (mode == "long" && reason && reason_len) {
    std::memset(reason, 'r', reason_len);  // no NUL
    return 0;
  }
  if (!mode.empty()) return 0;
  if (!ok && reason && reason_len) std::snprintf(reason, reason_len, "only contiguous f32 scale");
  return ok ? 1 : 0;
}
tsr_status_code evil_prepare(tsr_bk_device, const tsr_subgraph* g, tsr_bk_prepared* out, tsr_error* err) {
  MISBEHAVE("prepare", err);
  if (give_null) {
    *out = nullptr;
    return TSR_OK;
  }
  auto* p = new tsr_bk_prepared_s{};
  p->nodes.assign(g->nodes, g->nodes + g->n_nodes);
  *out = p;
  return TSR_OK;
}
tsr_status_code evil_execute(tsr_bk_prepared p, tsr_bk_queue, const tsr_step_params*, tsr_error* err) {
  MISBEHAVE("execute", err);
  (void)give_null;
  for (const tsr_subgraph_node& n : p->nodes) {
    const tsr_node_desc& d = n.desc;
    int64_t count = 1;
    for (int i = 0; i < TSR_MAX_DIMS; ++i) count *= d.output.ne[i];
    const auto* x = reinterpret_cast<const float*>(n.inputs[0].buffer->data.data() + n.inputs[0].offset);
    auto* y = reinterpret_cast<float*>(n.output.buffer->data.data() + n.output.offset);
    for (int64_t i = 0; i < count; ++i) y[i] = x[i] * d.params.f[0] + d.params.f[1];
  }
  return TSR_OK;
}
void evil_release_prepared(tsr_bk_prepared p) {
  delete p;
  mode_for("release_prepared");
}
const char* evil_instance_note(tsr_bk_instance) {
  mode_for("instance_note");
  return nullptr;
}

const tsr_backend_iface kIface = [] {
  tsr_backend_iface t{};
  t.struct_size = sizeof t;
  t.abi_version = TSR_BACKEND_ABI_VERSION;
  t.name = "evil";
  t.create = evil_create;
  t.destroy = evil_destroy;
  t.device_count = evil_device_count;
  t.device_open = evil_device_open;
  t.device_close = evil_device_close;
  t.device_props = evil_device_props;
  t.buffer_alloc = evil_buffer_alloc;
  t.buffer_free = evil_buffer_free;
  t.buffer_host_ptr = evil_buffer_host_ptr;
  t.buffer_write = evil_buffer_write;
  t.buffer_read = evil_buffer_read;
  t.queue_create = evil_queue_create;
  t.queue_destroy = evil_queue_destroy;
  t.queue_finish = evil_queue_finish;
  t.supports_op = evil_supports_op;
  t.prepare = evil_prepare;
  t.execute = evil_execute;
  t.release_prepared = evil_release_prepared;
  t.instance_note = evil_instance_note;
  return t;
}();

}  // namespace

extern "C" TSR_BACKEND_EXPORT tsr_status_code tsr_backend_entry(uint32_t, const tsr_backend_iface** out,
                                                                tsr_error*) {
  *out = &kIface;
  return TSR_OK;
}
