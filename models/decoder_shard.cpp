#include "models/decoder_shard.h"

#include <cstring>
#include <string>

#include "tessera/kit/dtype.h"

namespace tessera::models {
namespace {

std::string tag(const TensorParallel& tp) {
  return "@tp" + std::to_string(tp.rank) + "/" + std::to_string(tp.size);
}

// Rows [r.begin, r.end) of a 2-D weight, or elements of a 1-D one: a
// contiguous part of the tensor, used in place in the file.
GgufWeight rows_of(const GgufWeight& w, ShardRange r, const TensorParallel& tp) {
  if (!w.present()) return w;
  GgufWeight s = w;
  const int dim = w.n_dims == 1 ? 0 : 1;
  const int64_t outer = w.n_dims == 1 ? w.ne[0] : w.ne[1] * w.ne[2] * w.ne[3];
  const uint64_t unit = w.size / static_cast<uint64_t>(outer);  // bytes of one row (one element when 1-D)
  s.data = static_cast<const uint8_t*>(w.data) + static_cast<uint64_t>(r.begin) * unit;
  s.ne[dim] = r.size();
  s.size = unit * static_cast<uint64_t>(r.size());
  s.name = w.name + tag(tp);
  return s;
}

// Columns [c.begin, c.end) of every row of a 2-D weight, copied into memory
// `owned` keeps: rows of block formats split only on whole blocks.
GgufWeight cols_of(const GgufWeight& w, ShardRange c, const TensorParallel& tp,
                   std::vector<std::unique_ptr<uint8_t[]>>& owned) {
  const tsr::DtypeTraits* t = tsr::dtype_traits(w.dtype);
  if (!t || c.begin % t->block_size != 0 || c.end % t->block_size != 0)
    throw Error(TSR_ERR_UNSUPPORTED,
                "[tensor parallel] " + w.name + " (" + std::string(tsr::dtype_name(w.dtype)) + ", " +
                    std::to_string(w.ne[0]) + " columns): rank " + std::to_string(tp.rank) + " of " +
                    std::to_string(tp.size) + " would take columns " + std::to_string(c.begin) + ".." +
                    std::to_string(c.end) + ", not whole " + std::to_string(t ? t->block_size : 0) +
                    "-element blocks: this model cannot be split over " + std::to_string(tp.size) + " ranks");
  const int64_t rows = w.ne[1] * w.ne[2] * w.ne[3];
  const uint64_t row = w.size / static_cast<uint64_t>(rows);
  const uint64_t off = static_cast<uint64_t>(c.begin / t->block_size * t->block_bytes);
  const uint64_t len = static_cast<uint64_t>(c.size() / t->block_size * t->block_bytes);
  owned.push_back(std::make_unique<uint8_t[]>(len * static_cast<uint64_t>(rows)));
  uint8_t* dst = owned.back().get();
  for (int64_t i = 0; i < rows; ++i)
    std::memcpy(dst + static_cast<uint64_t>(i) * len, static_cast<const uint8_t*>(w.data) + i * row + off,
                len);
  GgufWeight s = w;
  s.data = dst;
  s.ne[0] = c.size();
  s.size = len * static_cast<uint64_t>(rows);
  s.name = w.name + tag(tp);
  return s;
}

ShardRange times(ShardRange r, int64_t k) { return {r.begin * k, r.end * k}; }

}  // namespace

ShardRange shard_range(int64_t n, int rank, int ranks) { return {n * rank / ranks, n * (rank + 1) / ranks}; }

std::unique_ptr<ShardedDecoder> shard_decoder(const DecoderHParams& hp, const DecoderWeights& w,
                                              const TensorParallel& tp) {
  if (tp.size < 1 || tp.rank < 0 || tp.rank >= tp.size)
    throw Error(TSR_ERR_INVALID_ARGUMENT,
                "[tensor parallel] rank " + std::to_string(tp.rank) + " of " + std::to_string(tp.size));
  auto s = std::make_unique<ShardedDecoder>();
  s->hp = hp;
  s->w = w;
  s->hp.tp = tp;
  if (tp.size == 1) return s;
  // Attention splits along whole KV-head groups: each rank's q heads read
  // only its own KV heads, so its cache holds only those. With fewer KV
  // heads than ranks, each KV head's group of q heads is split over
  // R / n_head_kv ranks, each of which keeps (and computes) that KV head.
  const int64_t group = hp.n_head / hp.n_head_kv;
  ShardRange kv, q_heads;
  if (hp.n_head_kv >= tp.size) {
    kv = shard_range(hp.n_head_kv, tp.rank, tp.size);
    q_heads = times(kv, group);
  } else {
    const int64_t per_kv = tp.size / hp.n_head_kv;  // ranks sharing one KV head
    if (tp.size % hp.n_head_kv != 0 || group % per_kv != 0)
      throw Error(
          TSR_ERR_UNSUPPORTED,
          "[tensor parallel] " + hp.arch + " has " + std::to_string(hp.n_head) + " heads over " +
              std::to_string(hp.n_head_kv) + " KV heads: " + std::to_string(tp.size) +
              " ranks cannot share them evenly (use a number of ranks that divides the KV heads, or a "
              "multiple of them that divides the " +
              std::to_string(group) + " heads per KV head)");
    const int64_t k = tp.rank / per_kv, part = group / per_kv;
    kv = {k, k + 1};
    q_heads = {k * group + (tp.rank % per_kv) * part, k * group + (tp.rank % per_kv + 1) * part};
  }
  const ShardRange q_rows = times(q_heads, hp.head_dim), kv_rows = times(kv, hp.head_dim);
  s->hp.n_head = q_heads.size();
  s->hp.n_head_kv = kv.size();
  for (DecoderLayerWeights& L : s->w.layers) {
    L.wq = rows_of(L.wq, q_rows, tp);
    L.wk = rows_of(L.wk, kv_rows, tp);
    L.wv = rows_of(L.wv, kv_rows, tp);
    L.bq = rows_of(L.bq, q_rows, tp);
    L.bk = rows_of(L.bk, kv_rows, tp);
    L.bv = rows_of(L.bv, kv_rows, tp);
    L.wo = cols_of(L.wo, q_rows, tp, s->owned);
    // The FFN splits in units of ffn_down's blocks, so its column slices
    // stay whole blocks.
    const tsr::DtypeTraits* t = tsr::dtype_traits(L.ffn_down.dtype);
    const int64_t unit = t && hp.n_ff % t->block_size == 0 ? t->block_size : 1;
    const ShardRange ff = times(shard_range(hp.n_ff / unit, tp.rank, tp.size), unit);
    L.ffn_gate = rows_of(L.ffn_gate, ff, tp);
    L.ffn_up = rows_of(L.ffn_up, ff, tp);
    L.ffn_down = cols_of(L.ffn_down, ff, tp, s->owned);
    s->hp.n_ff = ff.size();
  }
  // The output matrix by vocabulary rows when they divide evenly (all_gather
  // takes equal parts); a tied one from the whole table in the file.
  if (w.tied_output) {
    s->w.output = w.tok_embd;
    s->w.tied_output = false;
  }
  if (hp.n_vocab % tp.size == 0) {
    s->w.output = rows_of(s->w.output, shard_range(hp.n_vocab, tp.rank, tp.size), tp);
    s->hp.tp.split_output = true;
  }
  // The embedding table by columns when each rank's share is whole blocks:
  // every rank looks its tokens up in its columns and all_gather joins them
  // (a device then holds 1/R of the table). Else it stays whole.
  const tsr::DtypeTraits* et = tsr::dtype_traits(w.tok_embd.dtype);
  if (et && hp.n_embd % tp.size == 0 && (hp.n_embd / tp.size) % et->block_size == 0) {
    const int64_t part = hp.n_embd / tp.size;
    s->w.tok_embd = cols_of(w.tok_embd, {part * tp.rank, part * (tp.rank + 1)}, tp, s->owned);
    s->hp.tp.split_embedding = true;
  }
  return s;
}

}  // namespace tessera::models
