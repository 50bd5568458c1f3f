// Running a compiled model: inputs in, segments and transfers in order,
// outputs out.
#include <chrono>
#include <cstring>

#include "core/executor_impl.h"

namespace tsr {

Status CompiledModel::set_input(ValueId v, const void* data, int64_t size) {
  if (!graph_.valid_value(v)) return invalid_arg("[set_input] tensor id {} not in the graph", v);
  const Value& val = graph_.value(v);
  if (val.kind != ValueKind::kInput || val.root != v)
    return invalid_arg("[set_input] '{}' is a {}, not an input", val.name, value_kind_name(val.kind));
  const int64_t need = n_bytes_contiguous(val.desc);
  if (size != need)
    return invalid_arg("[set_input] '{}' is {} = {} bytes, got {} bytes", val.name, desc_str(val.desc), need,
                       size);
  if (!data && size) return invalid_arg("[set_input] '{}': data is null", val.name);
  const int32_t d = impl_->home[v];
  DeviceState* ds = impl_->device_state(d);
  const Storage& st = impl_->storage.at({v, d});
  tsr_error err{};
  if (ds->iface->buffer_write(ds->queue, st.buffer, st.offset, data, size, &err) != TSR_OK ||
      ds->iface->queue_finish(ds->queue, &err) != TSR_OK)
    return make_error(TSR_ERR_DEVICE, "[set_input] '{}' on {}: {}", val.name, registry_.devices()[d].name,
                      backend_error(err, "buffer_write"));
  return {};
}

Status CompiledModel::execute(const int64_t* step_params, int32_t n_step_params) {
  if (n_step_params < 0 || (n_step_params > 0 && !step_params))
    return invalid_arg("[execute] {} step parameters but the array is null", n_step_params);
  const auto t0 = std::chrono::steady_clock::now();
  Impl& im = *impl_;
  const auto& devs = registry_.devices();
  const tsr_step_params params{sizeof(tsr_step_params), n_step_params, step_params, should_abort_,
                               abort_user_};
  tsr_error err{};
  for (size_t si = 0; si < im.segments.size(); ++si) {
    Segment& s = im.segments[si];
    if (should_abort_ && should_abort_(abort_user_))
      return make_error(TSR_ERR_ABORTED, "[execute] aborted by the caller before segment {} of {}", si,
                        im.segments.size());
    for (int32_t ti : s.transfers_before) {
      const Transfer& t = im.transfers[ti];
      DeviceState* src = im.device_state(t.from);
      DeviceState* dst = im.device_state(t.to);
      const Storage& from = im.storage.at({t.root, t.from});
      const Storage& to = im.replicas.at({t.version, t.to});
      const int64_t bytes = n_bytes_contiguous(graph_.value(t.root).desc);
      if (src->iface->queue_finish(src->queue, &err) != TSR_OK)
        return make_error(TSR_ERR_DEVICE, "[execute] {}: {}", devs[t.from].name,
                          backend_error(err, "queue_finish"));
      // Staging through host memory works for every pair of backends; a
      // host-visible source is read directly.
      const unsigned char* host = static_cast<const unsigned char*>(src->iface->buffer_host_ptr(from.buffer));
      if (host) {
        host += from.offset;
      } else {
        im.staging.resize(bytes);
        if (src->iface->buffer_read(src->queue, from.buffer, from.offset, im.staging.data(), bytes, &err) !=
                TSR_OK ||
            src->iface->queue_finish(src->queue, &err) != TSR_OK)
          return make_error(TSR_ERR_DEVICE, "[execute] copy from {}: {}", devs[t.from].name,
                            backend_error(err, "buffer_read"));
        host = im.staging.data();
      }
      if (dst->iface->buffer_write(dst->queue, to.buffer, to.offset, host, bytes, &err) != TSR_OK ||
          dst->iface->queue_finish(dst->queue, &err) != TSR_OK)
        return make_error(TSR_ERR_DEVICE, "[execute] copy to {}: {}", devs[t.to].name,
                          backend_error(err, "buffer_write"));
    }
    if (s.collective) {
      TSR_RETURN_IF_ERROR(run_collective(im, registry_, s));
      continue;
    }
    DeviceState* ds = im.device_state(s.device);
    if (const tsr_status_code rc = ds->iface->execute(s.prepared, ds->queue, &params, &err); rc != TSR_OK)
      return make_error(rc == TSR_ERR_ABORTED ? TSR_ERR_ABORTED : TSR_ERR_DEVICE, "[execute] {}: {}",
                        devs[s.device].name, backend_error(err, "execute"));
  }
  for (DeviceState& ds : im.devices) {
    if (ds.iface->queue_finish(ds.queue, &err) != TSR_OK)
      return make_error(TSR_ERR_DEVICE, "[execute] {}: {}", devs[ds.device].name,
                        backend_error(err, "queue_finish"));
  }
  stats_.last_execute_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {};
}

Status CompiledModel::get_output(ValueId v, void* dst, int64_t size) {
  if (!graph_.valid_value(v)) return invalid_arg("[get_output] tensor id {} not in the graph", v);
  const Value& val = graph_.value(v);
  const int64_t need = n_bytes_contiguous(val.desc);
  if (size != need)
    return invalid_arg("[get_output] '{}' is {} = {} bytes, got {} bytes", val.name, desc_str(val.desc), need,
                       size);
  if (!dst && size) return invalid_arg("[get_output] '{}': destination is null", val.name);
  const ValueId r = val.root;
  const Value& root = graph_.value(r);
  const bool readable = val.is_output || root.kind == ValueKind::kState || root.kind == ValueKind::kInput ||
                        root.kind == ValueKind::kWeight;
  if (!readable)
    return invalid_arg("[get_output] '{}' was not marked as an output; its memory is reused during execution",
                       val.name);
  const int64_t span = n_bytes_spanned(val.desc);
  const unsigned char* base = nullptr;
  if (root.kind == ValueKind::kWeight) {
    base = static_cast<const unsigned char*>(root.data) + val.root_offset;
  } else {
    const int32_t d = impl_->home[r];
    DeviceState* ds = impl_->device_state(d);
    const Storage& st = impl_->storage.at({r, d});
    impl_->staging.resize(span);
    tsr_error err{};
    if (ds->iface->buffer_read(ds->queue, st.buffer, st.offset + val.root_offset, impl_->staging.data(), span,
                               &err) != TSR_OK ||
        ds->iface->queue_finish(ds->queue, &err) != TSR_OK)
      return make_error(TSR_ERR_DEVICE, "[get_output] '{}' on {}: {}", val.name, registry_.devices()[d].name,
                        backend_error(err, "buffer_read"));
    base = impl_->staging.data();
  }
  return copy_to_contiguous(val.desc, base, dst);
}

}  // namespace tsr
