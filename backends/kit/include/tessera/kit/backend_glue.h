// Glue between the backend ABI's C table and a C++ backend, written once
// for every backend built on the kit:
//
//  - TSR_KIT_HANDLE_CASTS: impl(h) and handle(p) between the ABI's opaque
//    handles and the backend's own six object types;
//  - TSR_KIT_DECLARE_ENTRIES: declarations of the entries a backend defines
//    under fixed names in one namespace (buffer, queue, event, and the bodies
//    of the graph entries);
//  - open_entry, props_entry: device_open and device_props around the
//    backend's own opening and filling;
//  - supports_entry, prepare_entry, execute_entry: the graph
//    entries from Status-returning functions, behind the exception guard,
//    with the argument checks every backend needs done before them;
//  - check_node, check_step_params: the prepare- and execute-time checks of
//    one node and of the step values;
//  - check_transfer, TSR_KIT_TRANSFER_ENTRIES: buffer_write and buffer_read
//    over one copy function of the backend's, with their argument checks;
//  - TSR_KIT_BACKEND_IFACE: the whole table, every entry labelled.
//
//   namespace acme {
//   struct Instance; struct Device; struct Buffer; struct Queue; struct Event; struct Prepared;
//   TSR_KIT_HANDLE_CASTS(Instance, Device, Buffer, Queue, Event, Prepared)
//   TSR_KIT_DECLARE_ENTRIES()
//   ...  // define them, and create, destroy, device_count, device_open,
//        // device_close, device_props, instance_note
//   const tsr_backend_iface kIface =
//       TSR_KIT_BACKEND_IFACE("acme", create, /*buffer_wrap_host=*/nullptr, instance_note);
//   }
//
// The macros name the backend's functions unqualified, so they resolve in
// the namespace where the macro stands.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "tessera/kit/abi_guard.h"
#include "tessera/kit/status.h"
#include "tessera/tessera_backend.h"

namespace tsr::kit {

// The checks prepare_entry makes before the backend sees the graph: the
// arguments are not null, the node array is there when n_nodes > 0, every
// node's n_inputs is within 0..TSR_MAX_INPUTS.
Status check_subgraph(tsr_bk_device device, const tsr_subgraph* graph, const tsr_bk_prepared* out_prepared);

// "[prepare] node i (op): reason" as TSR_ERR_UNSUPPORTED.
Status node_unsupported(int i, int32_t op, const std::string& reason);

// The size in bytes of a backend's buffer.
using BufferSize = uint64_t (*)(tsr_bk_buffer buffer);

// The checks of node i before the backend encodes it: supports(reason) says
// yes (else TSR_ERR_UNSUPPORTED with the reason), the output and every input
// with elements have a buffer, and each tensor lies inside its buffer's size
// bytes. Every message names the node, its op and the tensor.
Status check_node_buffers(int i, const tsr_subgraph_node& node, BufferSize size);
template <class Supports>
Status check_node(int i, const tsr_subgraph_node& node, BufferSize size, Supports&& supports) {
  std::string reason;
  if (!supports(reason)) return node_unsupported(i, node.desc.op, reason);
  return check_node_buffers(i, node, size);
}

// execute's step values: at most max_values, values set when n_values > 0,
// n_values not negative, each within [min, max] (a device whose kernels read
// 32-bit step values refuses larger ones here rather than wrapping them).
Status check_step_params(const tsr_step_params* params, int max_values, int64_t min, int64_t max);

// True when the caller asked execute to stop (tsr_step_params.should_abort,
// read only when the core that built params has the field).
inline bool abort_requested(const tsr_step_params* params) {
  constexpr size_t need = offsetof(tsr_step_params, abort_user) + sizeof(void*);
  return params && params->struct_size >= need && params->should_abort &&
         params->should_abort(params->abort_user) != 0;
}

// supports_op: null arguments are answered "no", exceptions "no" with
// "internal error"; Supports gives the answer and the reason.
template <bool (*Supports)(tsr_bk_device device, const tsr_node_desc& node, std::string& reason)>
int32_t supports_entry(tsr_bk_device device, const tsr_node_desc* node, char* reason, size_t reason_len) {
  return guarded_supports(reason, reason_len, [&](std::string& why) {
    if (!device || !node) {
      why = "null argument";
      return false;
    }
    if (node->n_inputs < 0 || node->n_inputs > TSR_MAX_INPUTS) {
      why = std::to_string(node->n_inputs) + " inputs";
      return false;
    }
    return Supports(device, *node, why);
  });
}

template <Status (*Prepare)(tsr_bk_device device, const tsr_subgraph* graph, tsr_bk_prepared* out_prepared)>
tsr_status_code prepare_entry(tsr_bk_device device, const tsr_subgraph* graph, tsr_bk_prepared* out_prepared,
                              tsr_error* err) {
  return guarded("prepare", err, [&] {
    TSR_RETURN_IF_ERROR(check_subgraph(device, graph, out_prepared));
    return Prepare(device, graph, out_prepared);
  });
}

template <Status (*Execute)(tsr_bk_prepared prepared, tsr_bk_queue queue, const tsr_step_params* params)>
tsr_status_code execute_entry(tsr_bk_prepared prepared, tsr_bk_queue queue, const tsr_step_params* params,
                              tsr_error* err) {
  return guarded("execute", err, [&] {
    if (!prepared || !queue) return Status(invalid_arg("[execute] null argument"));
    return Execute(prepared, queue, params);
  });
}

// device_open: checks the arguments and that index is one of backend's count
// devices, makes a Device (a
// backend type) and lets open(Device&) fill it; the handle is the Device.
template <class Device, class Open>
tsr_status_code open_entry(std::string_view backend, tsr_bk_instance instance, int32_t index, int32_t count,
                           tsr_bk_device* out_device, tsr_error* err, Open&& open) {
  return guarded("device_open", err, [&]() -> Status {
    if (!instance || !out_device) return invalid_arg("[device_open] null argument");
    if (index < 0 || index >= count)
      return make_error(TSR_ERR_NOT_FOUND, "[device_open] {} device {} out of range [0, {})", backend, index,
                        count);
    auto dev = std::make_unique<Device>();
    TSR_RETURN_IF_ERROR(open(*dev));
    *out_device = reinterpret_cast<tsr_bk_device>(dev.release());
    return Status::ok();
  });
}

// device_props: checks the arguments, then fill() writes *out.
template <class Fill>
tsr_status_code props_entry(tsr_bk_device device, tsr_device_props* out, tsr_error* err, Fill&& fill) {
  return guarded("device_props", err, [&]() -> Status {
    if (!device || !out) return invalid_arg("[device_props] null argument");
    return fill();
  });
}

// The checks of buffer_write and buffer_read: a host pointer for a copy of
// more than nothing, and [offset, offset + size) inside the buffer's bytes.
inline Status check_transfer(const char* op, uint64_t buffer_bytes, uint64_t offset, uint64_t size,
                             const void* host) {
  if (!host && size) return invalid_arg("[{}] null host pointer", op);
  if (offset > buffer_bytes || size > buffer_bytes - offset)
    return invalid_arg("[{}] {} bytes at offset {} exceed the {} byte buffer", op, size, offset,
                       buffer_bytes);
  return Status::ok();
}

}  // namespace tsr::kit

// impl(tsr_bk_xxx) -> the backend's type, handle(type*) -> tsr_bk_xxx. The
// ABI's handles are the backend's own types in its own namespace (not the
// global tsr_bk_*_s structs), so backends linked into one library never
// define one type twice.
#define TSR_KIT_HANDLE_CASTS(Instance, Device, Buffer, Queue, Event, Prepared)                \
  inline Instance* impl(tsr_bk_instance h) { return reinterpret_cast<Instance*>(h); }         \
  inline Device* impl(tsr_bk_device h) { return reinterpret_cast<Device*>(h); }               \
  inline Buffer* impl(tsr_bk_buffer h) { return reinterpret_cast<Buffer*>(h); }               \
  inline Queue* impl(tsr_bk_queue h) { return reinterpret_cast<Queue*>(h); }                  \
  inline Event* impl(tsr_bk_event h) { return reinterpret_cast<Event*>(h); }                  \
  inline Prepared* impl(tsr_bk_prepared h) { return reinterpret_cast<Prepared*>(h); }         \
  inline tsr_bk_instance handle(Instance* p) { return reinterpret_cast<tsr_bk_instance>(p); } \
  inline tsr_bk_device handle(Device* p) { return reinterpret_cast<tsr_bk_device>(p); }       \
  inline tsr_bk_buffer handle(Buffer* p) { return reinterpret_cast<tsr_bk_buffer>(p); }       \
  inline tsr_bk_queue handle(Queue* p) { return reinterpret_cast<tsr_bk_queue>(p); }          \
  inline tsr_bk_event handle(Event* p) { return reinterpret_cast<tsr_bk_event>(p); }          \
  inline tsr_bk_prepared handle(Prepared* p) { return reinterpret_cast<tsr_bk_prepared>(p); }

// The buffer, queue and event entries, in table order.
#define TSR_KIT_MEMORY_ENTRIES(X) \
  X(buffer_alloc)                 \
  X(buffer_free)                  \
  X(buffer_host_ptr)              \
  X(buffer_write)                 \
  X(buffer_read)                  \
  X(queue_create)                 \
  X(queue_destroy) X(queue_finish) X(event_create) X(event_destroy) X(event_record) X(event_wait)

// Declares entry `name` with the type of tsr_backend_iface's member.
#define TSR_KIT_DECLARE_ENTRY(name) std::remove_pointer_t<decltype(tsr_backend_iface::name)> name;
// The entries a backend defines in its namespace under these names: the
// memory entries with the ABI's signatures, release_prepared, and the bodies
// of supports_op, prepare and execute that the kit's adapters call (the
// adapters check the arguments and catch exceptions first).
#define TSR_KIT_DECLARE_ENTRIES()                                                                     \
  TSR_KIT_MEMORY_ENTRIES(TSR_KIT_DECLARE_ENTRY)                                                       \
  void release_prepared(tsr_bk_prepared prepared);                                                    \
  bool supports_on_device(tsr_bk_device device, const tsr_node_desc& node, std::string& reason);      \
  ::tsr::Status prepare_graph(tsr_bk_device device, const tsr_subgraph* graph, tsr_bk_prepared* out); \
  ::tsr::Status execute_graph(tsr_bk_prepared prepared, tsr_bk_queue queue, const tsr_step_params* params);
#define TSR_KIT_LABELLED_ENTRY(name) .name = name,

// The backend's table: name, create, wrap_host and note (buffer_wrap_host and
// instance_note, each may be nullptr) are given; every other entry is the
// function of its name in scope (TSR_KIT_DECLARE_ENTRIES), with supports_op,
// prepare and execute through the kit's adapters.
// buffer_write and buffer_read, behind the exception guard, over the
// backend's own
//   Status transfer_fn(tsr_bk_queue, tsr_bk_buffer, uint64_t offset, char* host, uint64_t size,
//                      bool upload, const char* op);
#define TSR_KIT_TRANSFER_ENTRIES(transfer_fn)                                                              \
  tsr_status_code buffer_write(tsr_bk_queue queue, tsr_bk_buffer buffer, uint64_t offset, const void* src, \
                               uint64_t size, tsr_error* err) {                                            \
    return ::tsr::guarded("buffer_write", err, [&] {                                                       \
      return transfer_fn(queue, buffer, offset, const_cast<char*>(static_cast<const char*>(src)), size,    \
                         true, "buffer_write");                                                            \
    });                                                                                                    \
  }                                                                                                        \
  tsr_status_code buffer_read(tsr_bk_queue queue, tsr_bk_buffer buffer, uint64_t offset, void* dst,        \
                              uint64_t size, tsr_error* err) {                                             \
    return ::tsr::guarded("buffer_read", err, [&] {                                                        \
      return transfer_fn(queue, buffer, offset, static_cast<char*>(dst), size, false, "buffer_read");      \
    });                                                                                                    \
  }

#define TSR_KIT_BACKEND_IFACE(backend_name, create_fn, wrap_host, note)                                     \
  tsr_backend_iface {                                                                                       \
    .struct_size = sizeof(tsr_backend_iface), .abi_version = TSR_BACKEND_ABI_VERSION, .name = backend_name, \
    .create = create_fn, .destroy = destroy, .device_count = device_count, .device_open = device_open,      \
    .device_close = device_close, .device_props = device_props,                                             \
    TSR_KIT_MEMORY_ENTRIES(TSR_KIT_LABELLED_ENTRY).supports_op =                                            \
        ::tsr::kit::supports_entry<supports_on_device>,                                                     \
    .prepare = ::tsr::kit::prepare_entry<prepare_graph>,                                                    \
    .execute = ::tsr::kit::execute_entry<execute_graph>, .release_prepared = release_prepared,              \
    .buffer_wrap_host = wrap_host, .instance_note = note, .device_comm = nullptr,                           \
  }
