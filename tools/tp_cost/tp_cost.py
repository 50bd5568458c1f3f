#!/usr/bin/env python3
"""Cost on paper for Tessera's tensor parallelism (Megatron-style, over MPI).

Predicts per-token decode latency and prefill throughput for R ranks from a
model shape, a device model (roofline, or calibrated from a measured 1-rank
decode rate) and a link model (latency + bandwidth per collective). Standard
library only. See README.md beside this file for the formulas and what is not
modeled.

  tp_cost.py --preset smollm2-135m --measured-1rank-tps 118.2 --link loopback-tcp --check 184.3
  tp_cost.py --preset llama3-70b --link nvlink4 --bandwidth 4.8e12 --peak-flops 989e12 --ranks 1,2,4,8
"""
import argparse
import json
import math
import os
import sys
from dataclasses import dataclass

F32 = 4  # activations and collectives are f32
KV_BYTES = 2  # KV cache is f16 by default (models/decoder.h)
QBLOCK = 32  # FFN splits in units of ffn_down's quant blocks (decoder_shard.cpp)


@dataclass(frozen=True)
class Shape:
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_ff: int
    n_vocab: int
    bpw: float  # bytes per weight of the layers' matmuls
    out_bpw: float  # bytes per weight of the output matrix (often a different quant)
    note: str


# Q4_1: 32 weights in 20 bytes = 0.625; Q8_0: 34/32 = 1.0625;
# Q4_K: 144/256 = 0.5625; Q6_K: 210/256 = 0.8203125; f16: 2.
PRESETS = {
    "smollm2-135m": Shape(576, 30, 9, 3, 64, 1536, 49152, 0.625, 1.0625,
                          "Q4_1 layers; tied output = token_embd, Q8_0 in SmolLM2-135M-Instruct.Q4_1.gguf"),
    "llama3-8b": Shape(4096, 32, 32, 8, 128, 14336, 128256, 0.5625, 0.8203125,
                       "Q4_K_M-ish: Q4_K layers, Q6_K output"),
    "llama3-70b": Shape(8192, 80, 64, 8, 128, 28672, 128256, 0.5625, 0.8203125,
                        "Q4_K_M-ish: Q4_K layers, Q6_K output"),
}

# (bandwidth bytes/s per direction, latency s per message). Rough figures, not
# measurements, except where the README says so.
LINKS = {
    # Measured on the 2-core CI machine (Open MPI 4.1.4, 2 ranks): host
    # all_gather of 2304 B / 98 KiB / 1 MiB per rank through
    # tsr_context_all_gather took 7.5 / 103 / 617 us over btl=self,tcp on lo
    # (as the tests run it) and 2.2 / 94 / 519 us over btl=self,vader.
    "loopback-tcp": (1.7e9, 6e-6),
    "shm": (2.0e9, 1e-6),
    "nvlink4": (450e9, 3e-6),
    "pcie5": (50e9, 8e-6),
    "ib-ndr": (50e9, 5e-6),
}

# Graph nodes per layer by group, counted from models/decoder_blocks.cpp
# (reshapes included, though they may cost nothing): 25 in all.
NODES = {"norms": 4, "qkv": 5, "rope+kv_write": 7, "attention": 1, "o_proj": 2,
         "ffn_gate_up": 3, "ffn_down": 1, "residual": 2}
NODES_PER_LAYER_COUNTED = sum(NODES.values())
TOP_NODES = {"embedding": 1, "output_norm": 3, "output": 1}  # view + rms_norm + mul


@dataclass
class Op:
    """One op group on the slowest rank: bytes moved, FLOPs, node launches."""
    group: str
    weight_bytes: float
    other_bytes: float  # activations and KV cache
    flops: float
    nodes: float
    repeat: int  # n_layer for per-layer groups, 1 for the top-level ones


@dataclass
class Split:
    """What the slowest rank of R holds. None fields: R cannot run this model."""
    ranks: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_vocab: int  # output rows computed on this rank
    split_output: bool
    error: str = ""


def max_shard(n, ranks, unit=1):
    """Largest slice of shard_range(n / unit) over the ranks, times unit, and the smallest."""
    units = n // unit
    sizes = [(units * (r + 1)) // ranks - (units * r) // ranks for r in range(ranks)]
    return max(sizes) * unit, min(sizes) * unit


def split_for(s, ranks):
    # Mirrors decoder_shard.cpp: whole KV-head groups, FFN in quant-block units,
    # vocabulary only when R divides it. Every collective waits for the slowest
    # rank, so the largest shard sets the pace (SmolLM2's 3 KV heads over 2
    # ranks: 1 and 2, so one rank does 2/3 of attention). With fewer KV heads
    # than ranks, the ranks sharing a KV head each keep it and split its q heads.
    group = s.n_head // s.n_head_kv
    if s.n_head_kv >= ranks:
        kv_max, _ = max_shard(s.n_head_kv, ranks)
        q_max = kv_max * group
    elif ranks % s.n_head_kv == 0 and group % (ranks // s.n_head_kv) == 0:
        kv_max, q_max = 1, group // (ranks // s.n_head_kv)
    else:
        return Split(ranks, 0, 0, 0, 0, False,
                     f"{s.n_head} heads over {s.n_head_kv} KV heads cannot be shared evenly by {ranks} ranks")
    unit = QBLOCK if s.n_ff % QBLOCK == 0 else 1
    ff_max, _ = max_shard(s.n_ff, ranks, unit)
    split_out = ranks > 1 and s.n_vocab % ranks == 0
    vocab = s.n_vocab // ranks if split_out else s.n_vocab
    return Split(ranks, q_max, kv_max, ff_max, vocab, split_out)


def matmul(group, k, m, n_tok, bpw, nodes, repeat):
    """[m, k] weights times [k, n_tok] f32: weights read once per step."""
    return Op(group, k * m * bpw, F32 * n_tok * (k + m), 2.0 * k * m * n_tok, nodes, repeat)


def layer_ops(s, sp, n_tok, kv_avg, kv_rows):
    """Per-layer op groups on the slowest rank. kv_avg: keys each query attends
    (causal); kv_rows: cache rows read per step."""
    E, L = s.n_embd, s.n_layer
    qd, kvd = sp.n_head * s.head_dim, sp.n_head_kv * s.head_dim
    ops = [
        # Replicated: two rms_norm+mul pairs on the whole residual stream.
        Op("norms", 0, 2 * (4 * F32 * E * n_tok + F32 * E), 2 * 4.0 * E * n_tok, NODES["norms"], L),
        matmul("qkv", E, qd + 2 * kvd, n_tok, s.bpw, NODES["qkv"], L),
        # Rope on q and k, K/V rows into the cache: local to the rank's heads.
        Op("rope+kv_write", 0, 2 * F32 * n_tok * (qd + kvd) + 2 * KV_BYTES * kvd * n_tok,
           6.0 * n_tok * (qd + kvd), NODES["rope+kv_write"], L),
        # QK^T and PV (2 FLOPs a multiply-add each) plus ~5 for softmax per score;
        # the rank's K and V cache rows read once per step.
        Op("attention", 0, 2 * KV_BYTES * kvd * kv_rows + 2 * F32 * qd * n_tok,
           (4.0 * s.head_dim + 5.0) * sp.n_head * n_tok * kv_avg, NODES["attention"], L),
        matmul("o_proj", qd, E, n_tok, s.bpw, NODES["o_proj"], L),
        matmul("ffn_gate_up", E, 2 * sp.n_ff, n_tok, s.bpw, NODES["ffn_gate_up"], L),
        matmul("ffn_down", sp.n_ff, E, n_tok, s.bpw, NODES["ffn_down"], L),
        Op("residual", 0, 2 * 3 * F32 * E * n_tok, 2.0 * E * n_tok, NODES["residual"], L),
    ]
    # swiglu rides with gate/up: read two [n_ff] rows, write one.
    ops[5].other_bytes += 3 * F32 * sp.n_ff * n_tok
    ops[5].flops += 5.0 * sp.n_ff * n_tok
    return ops


def top_ops(s, sp, n_tok):
    """Once per step: embedding rows (replicated), output norm and the output
    matmul on the last row only (decoder_graph.cpp projects one logit row)."""
    E = s.n_embd
    return [
        Op("embedding", 0, n_tok * E * s.out_bpw + F32 * E * n_tok, 0, TOP_NODES["embedding"], 1),
        Op("output_norm", 0, 4 * F32 * E + F32 * E, 4.0 * E, TOP_NODES["output_norm"], 1),
        matmul("output", E, sp.n_vocab, 1, s.out_bpw, TOP_NODES["output"], 1),
    ]


def all_reduce_s(m, ranks, bw, lat):
    """(ring, recursive doubling) seconds for an all_reduce of m bytes."""
    if ranks == 1:
        return 0.0, 0.0
    ring = 2 * (ranks - 1) / ranks * m / bw + 2 * (ranks - 1) * lat
    rd = math.ceil(math.log2(ranks)) * (lat + m / bw)
    return ring, rd


def all_gather_s(m_rank, ranks, bw, lat):
    """Ring all_gather: every rank ends with R * m_rank bytes."""
    if ranks == 1:
        return 0.0
    return (ranks - 1) / ranks * ranks * m_rank / bw + (ranks - 1) * lat


def staging_s(in_bytes, out_bytes, args):
    """Device->host before and host->device after a collective (GPU devices)."""
    if args.staging_bw <= 0:
        return 0.0
    return (in_bytes + out_bytes) / args.staging_bw + 2 * args.staging_latency


def op_seconds(op, bw, peak, node_s):
    """Roofline per op group plus its node launches, for all its repeats."""
    t_mem = (op.weight_bytes + op.other_bytes) / bw
    t_flop = op.flops / peak if peak else 0.0
    return op.repeat * (max(t_mem, t_flop) + op.nodes * node_s)


def step_cost(s, sp, n_tok, kv_avg, kv_rows, dev, args):
    """Seconds of one step (n_tok tokens) on the slowest rank, broken down."""
    bw, peak = dev
    node_s = args.fixed_overhead_us * 1e-6 * args.nodes_per_layer / NODES_PER_LAYER_COUNTED
    top_node_s = args.fixed_overhead_us * 1e-6
    ops = layer_ops(s, sp, n_tok, kv_avg, kv_rows)
    groups = {op.group: op_seconds(op, bw, peak, node_s) for op in ops}
    groups.update({op.group: op_seconds(op, bw, peak, top_node_s) for op in top_ops(s, sp, n_tok)})
    overhead = sum(op.repeat * op.nodes for op in ops) * node_s + sum(TOP_NODES.values()) * top_node_s
    R, lbw, lat = sp.ranks, args.link_bw, args.link_latency
    m_ar = F32 * s.n_embd * n_tok
    ring, rd = all_reduce_s(m_ar, R, lbw, lat)
    n_ar = 2 * s.n_layer if R > 1 else 0
    m_ag = F32 * sp.n_vocab  # one logit row per rank
    ag = all_gather_s(m_ag, R, lbw, lat) if sp.split_output else 0.0
    # The embedding table is split by columns when each rank's share is whole
    # quant blocks; its lookups are then joined by one more all_gather.
    split_emb = R > 1 and s.n_embd % R == 0 and (s.n_embd // R) % QBLOCK == 0
    m_emb = F32 * (s.n_embd // R) * n_tok
    ag_emb = all_gather_s(m_emb, R, lbw, lat) if split_emb else 0.0
    n_coll = n_ar + (1 if sp.split_output else 0) + (1 if split_emb else 0)
    link = n_ar * min(ring, rd) + ag + ag_emb
    stage = n_ar * staging_s(m_ar, m_ar, args)
    if sp.split_output:
        stage += staging_s(m_ag, R * m_ag, args)
    if split_emb:
        stage += staging_s(m_emb, R * m_emb, args)
    coll_nodes = n_coll * top_node_s  # each collective is a node of its own
    comm = link + stage + coll_nodes
    total = sum(groups.values()) + comm
    return {
        "seconds": total, "compute_s": total - overhead - comm, "overhead_s": overhead,
        "comm_s": comm, "link_s": link, "staging_s": stage, "n_collectives": n_coll,
        "all_reduce_bytes": m_ar, "all_reduce_ring_s": ring, "all_reduce_rd_s": rd,
        "all_gather_bytes_per_rank": m_ag if sp.split_output else 0, "all_gather_s": ag,
        "weight_bytes": sum(op.repeat * op.weight_bytes for op in ops + top_ops(s, sp, n_tok)),
        "bytes": sum(op.repeat * (op.weight_bytes + op.other_bytes) for op in ops + top_ops(s, sp, n_tok)),
        "flops": sum(op.repeat * op.flops for op in ops + top_ops(s, sp, n_tok)),
        "groups_s": groups,
    }


def calibrate_bandwidth(s, args):
    """Effective bytes/s from a measured 1-rank decode rate: decode is taken as
    weight-bandwidth bound, so what the step spends beyond node overhead is
    its bytes over the bandwidth (compute and cache effects fold into it)."""
    sp = split_for(s, 1)
    probe = step_cost(s, sp, 1, args.kv_len, args.kv_len, (1.0, None), args)
    t_step = 1.0 / args.measured_1rank_tps
    t_mem = t_step - probe["overhead_s"]
    if t_mem <= 0:
        sys.exit(f"tp_cost: the node overhead alone ({probe['overhead_s'] * 1e3:.3f} ms) exceeds the "
                 f"measured step ({t_step * 1e3:.3f} ms): lower --fixed-overhead-us")
    return probe["bytes"] / t_mem


def calibrate_peak(s, bw, args):
    """Effective FLOP/s from a measured 1-rank prefill rate: the peak at which
    the modeled 1-rank prefill step takes the measured time. The step time
    falls as the peak rises, so bisect (on a log scale)."""
    sp = split_for(s, 1)
    P = args.prefill
    t_meas = P / args.measured_1rank_prefill_tps

    def step(peak):
        return step_cost(s, sp, P, (P + 1) / 2, P, (bw, peak), args)["seconds"]

    lo, hi = 1e6, 1e18
    if step(hi) >= t_meas:
        sys.exit("tp_cost: the measured prefill is at least as fast as bandwidth and node overhead "
                 "allow: cannot calibrate a peak from it")
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if step(mid) > t_meas else (lo, mid)
    return hi


def predict(s, dev, args, n_tok, kv_avg, kv_rows):
    rows = []
    base = None
    for R in args.ranks:
        sp = split_for(s, R)
        if sp.error:
            rows.append({"ranks": R, "error": sp.error})
            continue
        c = step_cost(s, sp, n_tok, kv_avg, kv_rows, dev, args)
        c.update(ranks=R, tokens_per_s=n_tok / c["seconds"], comm_share=c["comm_s"] / c["seconds"])
        if R == 1:
            base = c["seconds"]
        rows.append(c)
    if base is None:  # no R=1 row asked for: still give speedups against it
        base = step_cost(s, split_for(s, 1), n_tok, kv_avg, kv_rows, dev, args)["seconds"]
    for c in rows:
        if "seconds" in c:
            c["speedup"] = base / c["seconds"]
    return rows


def fmt_table(title, rows, n_tok):
    out = [title, f"{'R':>3} {'ms/step':>9} {'ms/token':>9} {'tokens/s':>10} {'speedup':>8} "
                  f"{'comm %':>7} {'ovh %':>6} {'weights/rank MiB':>17}"]
    for c in rows:
        if "error" in c:
            out.append(f"{c['ranks']:>3}  not runnable: {c['error']}")
            continue
        out.append(f"{c['ranks']:>3} {c['seconds'] * 1e3:9.3f} {c['seconds'] * 1e3 / n_tok:9.4f} "
                   f"{c['tokens_per_s']:10.1f} {c['speedup']:8.2f} {100 * c['comm_share']:7.1f} "
                   f"{100 * c['overhead_s'] / c['seconds']:6.1f} {c['weight_bytes'] / 2**20:17.1f}")
    return "\n".join(out)


def fmt_groups(rows):
    """Decode seconds per op group (all layers together), per R."""
    ok = [c for c in rows if "seconds" in c]
    head = f"{'group':<14}" + "".join(f" {'R=' + str(c['ranks']) + ' us':>11}" for c in ok)
    lines = ["decode time by op group (slowest rank, all layers, node overhead included):", head]
    for g in ok[0]["groups_s"] if ok else []:
        lines.append(f"{g:<14}" + "".join(f" {c['groups_s'][g] * 1e6:11.1f}" for c in ok))
    lines.append(f"{'collectives':<14}" + "".join(f" {c['comm_s'] * 1e6:11.1f}" for c in ok))
    for c in ok:
        if c["ranks"] > 1:
            lines.append(f"  R={c['ranks']}: {c['n_collectives']} collectives/step; all_reduce of "
                         f"{c['all_reduce_bytes']} B: ring {c['all_reduce_ring_s'] * 1e6:.1f} us, recursive "
                         f"doubling {c['all_reduce_rd_s'] * 1e6:.1f} us (min used); all_gather "
                         f"{c['all_gather_bytes_per_rank']} B/rank: {c['all_gather_s'] * 1e6:.1f} us")
    return "\n".join(lines)


def check(s, dev, args):
    """The R=2 decode prediction beside a measured rate, and the per-collective
    cost that would make the model match it (everything else held)."""
    c = step_cost(s, split_for(s, 2), 1, args.kv_len, args.kv_len, dev, args)
    pred_tps = 1.0 / c["seconds"]
    t_meas = 1.0 / args.check
    implied = (t_meas - (c["seconds"] - c["comm_s"])) / c["n_collectives"]
    return {"predicted_tps": pred_tps, "measured_tps": args.check, "measured_over_predicted": args.check / pred_tps,
            "predicted_per_collective_us": c["comm_s"] / c["n_collectives"] * 1e6,
            "implied_per_collective_us": implied * 1e6}


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Cost on paper for Tessera tensor parallelism: predicted decode/prefill speed for R ranks.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="smollm2-135m", help="model shape")
    ap.add_argument("--bytes-per-weight", type=float, help="layer matmul weights (default: the preset's; "
                    "0.625 Q4_1, 0.5625 Q4_K, 1.0625 Q8_0, 2.0 f16); also the output's unless given")
    ap.add_argument("--output-bytes-per-weight", type=float, help="output matrix (default: the preset's)")
    ap.add_argument("--bandwidth", type=float, help="device memory bandwidth, bytes/s")
    ap.add_argument("--peak-flops", type=float, help="device peak FLOP/s (default: none, bandwidth only)")
    ap.add_argument("--measured-1rank-tps", type=float,
                    help="measured 1-rank decode tokens/s: derive an effective bandwidth from it")
    ap.add_argument("--measured-1rank-prefill-tps", type=float,
                    help="measured 1-rank prefill tokens/s for --prefill P: derive an effective FLOP/s")
    ap.add_argument("--fixed-overhead-us", type=float, default=2.0, help="launch overhead per graph node, us")
    ap.add_argument("--nodes-per-layer", type=float, default=NODES_PER_LAYER_COUNTED,
                    help="graph nodes per layer at 1 rank (collectives are counted on top)")
    ap.add_argument("--link", choices=sorted(LINKS), default="loopback-tcp", help="link preset")
    ap.add_argument("--link-bw", type=float, help="link bandwidth bytes/s (overrides the preset)")
    ap.add_argument("--link-latency", type=float, help="link latency s per message (overrides the preset)")
    ap.add_argument("--staging-bw", type=float, default=0.0,
                    help="host staging copy bytes/s around each collective (GPU devices); 0: none (CPU)")
    ap.add_argument("--staging-latency", type=float, default=10e-6,
                    help="per staging copy and sync, s (only with --staging-bw)")
    ap.add_argument("--kv-len", type=int, default=64, help="KV length L each decoded token attends")
    ap.add_argument("--prefill", type=int, default=128, help="prefill P tokens from position 0 (0: skip)")
    ap.add_argument("--ranks", default="1,2,4,8", help="comma-separated rank counts")
    ap.add_argument("--check", type=float, metavar="MEASURED_2RANK_TPS",
                    help="print the R=2 decode prediction beside this measured tokens/s")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = ap.parse_args(argv)
    try:
        args.ranks = [int(x) for x in args.ranks.split(",") if x.strip()]
    except ValueError:
        ap.error(f"--ranks: not a list of integers: {args.ranks}")
    if not args.ranks or min(args.ranks) < 1:
        ap.error("--ranks: give positive integers")
    if (args.bandwidth is None) == (args.measured_1rank_tps is None):
        ap.error("give exactly one of --bandwidth and --measured-1rank-tps")
    if args.measured_1rank_prefill_tps and not args.prefill:
        ap.error("--measured-1rank-prefill-tps needs --prefill P")
    bw, lat = LINKS[args.link]
    args.link_bw = args.link_bw or bw
    args.link_latency = lat if args.link_latency is None else args.link_latency
    return args


def build_shape(args):
    s = PRESETS[args.preset]
    bpw = args.bytes_per_weight or s.bpw
    out_bpw = args.output_bytes_per_weight or (args.bytes_per_weight or s.out_bpw)
    note = s.note if bpw == s.bpw and out_bpw == s.out_bpw else "bytes per weight as given"
    return Shape(s.n_embd, s.n_layer, s.n_head, s.n_head_kv, s.head_dim, s.n_ff, s.n_vocab, bpw, out_bpw, note)


def main(argv=None):
    args = parse_args(argv)
    s = build_shape(args)
    bw = args.bandwidth or calibrate_bandwidth(s, args)
    peak = args.peak_flops
    if args.measured_1rank_prefill_tps:
        peak = calibrate_peak(s, bw, args)
    dev = (bw, peak)
    decode = predict(s, dev, args, 1, args.kv_len, args.kv_len)
    prefill = predict(s, dev, args, args.prefill, (args.prefill + 1) / 2, args.prefill) if args.prefill else []
    chk = check(s, dev, args) if args.check else None
    if args.json:
        print(json.dumps({"preset": args.preset, "shape": s.__dict__, "bandwidth": bw, "peak_flops": peak,
                          "calibrated_from_tps": args.measured_1rank_tps, "link": args.link,
                          "link_bw": args.link_bw, "link_latency": args.link_latency,
                          "staging_bw": args.staging_bw, "fixed_overhead_us": args.fixed_overhead_us,
                          "kv_len": args.kv_len, "prefill_tokens": args.prefill,
                          "decode": decode, "prefill": prefill, "check": chk}, indent=1))
        return 0
    src = f"calibrated from {args.measured_1rank_tps} tokens/s at 1 rank" if args.measured_1rank_tps else "given"
    print(f"model {args.preset}: n_embd {s.n_embd}, {s.n_layer} layers, {s.n_head}/{s.n_head_kv} heads, "
          f"n_ff {s.n_ff}, n_vocab {s.n_vocab}; {s.bpw} B/weight, output {s.out_bpw} B/weight ({s.note})")
    print(f"device: {bw / 1e9:.2f} GB/s ({src}), peak "
          f"{'%.1f TFLOP/s' % (peak / 1e12) if peak else 'not modeled'}; {args.fixed_overhead_us} us/node, "
          f"{args.nodes_per_layer:g} nodes/layer")
    print(f"link {args.link}: {args.link_bw / 1e9:g} GB/s, {args.link_latency * 1e6:g} us; staging "
          f"{'%g GB/s' % (args.staging_bw / 1e9) if args.staging_bw else 'none (host memory)'}")
    print()
    print(fmt_table(f"decode (1 token/step, KV length {args.kv_len}):", decode, 1))
    print()
    print(fmt_groups(decode))
    if prefill:
        print()
        print(fmt_table(f"prefill ({args.prefill} tokens/step from position 0):", prefill, args.prefill))
        if not peak:
            print("  (no --peak-flops: prefill is treated as bandwidth-bound, which it is not; "
                  "give --peak-flops or --measured-1rank-prefill-tps)")
    if chk:
        print()
        print(f"check R=2 decode: predicted {chk['predicted_tps']:.1f} tokens/s, measured "
              f"{chk['measured_tps']:.1f}, measured/predicted {chk['measured_over_predicted']:.2f}")
        print(f"  per collective: modeled {chk['predicted_per_collective_us']:.1f} us; "
              f"{chk['implied_per_collective_us']:.1f} us would match the measurement")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # piped into head: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
