"""`python -m liif bench`: how fast the engine is, against the paper's own algorithm on the same weights.

For each workload and encoder it times the fast engine (fp32 and the `auto` precision) and the plain
reference path (`liif/core/reference.py`: full 580-input MLP per query, queries in chunks of 30000, the
authors' algorithm), in the same process: warm-up, then the median of several runs. It reports
encoder and decoder time, peak memory, output megapixels per second, achieved GFLOP/s against the
model's FLOP count, and the speed-up and max abs difference of the fast path over the reference.
"""

import json
import statistics
import time
from dataclasses import asdict, dataclass

import torch
from torch import nn

from liif.core import geometry
from liif.core.model import LIIF, LIIFConfig
from liif.core.reference import query_reference
from liif.render.engine import Upscaler, pick_device


@dataclass
class Workload:
    name: str
    in_size: int  # square input, pixels per side
    scale: int
    window: int = 0  # magnifier: render only a window of this many input pixels per side


WORKLOADS = [
    Workload("profile photo 64->x8", 64, 8),
    Workload("128->x4", 128, 4),
    Workload("256->x8", 256, 8),
    # The magnifier: a 128x128-pixel window of the x32 render of a 256x256 input (4x4 input pixels).
    Workload("magnifier 256, 128px window at x32", 256, 32, window=4),
]
QUICK = [Workload("quick 32->x4", 32, 4)]


# -- FLOP counts (a multiply-add is 2 FLOPs) --------------------------------------------------------


def encoder_flops(encoder: nn.Module, h: int, w: int) -> float:
    total = 0
    for m in encoder.modules():
        if isinstance(m, nn.Conv2d):
            total += 2 * m.in_channels * m.out_channels * m.kernel_size[0] * m.kernel_size[1] * h * w
    return float(total)


def decoder_flops(model: LIIF, n_outputs: int, n_codes: int, fast: bool) -> float:
    """The reference runs the whole MLP per query; the fast path projects each latent code once."""
    linears = [m for m in model.imnet.layers if isinstance(m, nn.Linear)]
    rest = sum(2 * m.in_features * m.out_features for m in linears[1:])
    shifts = 4 if model.config.local_ensemble else 1
    first = linears[0]
    if fast:
        per_query = 2 * (first.in_features - model.feat_dim) * first.out_features + rest
        return float(n_outputs * shifts * per_query + 2 * model.feat_dim * first.out_features * n_codes)
    return float(n_outputs * shifts * (2 * first.in_features * first.out_features + rest))


# -- measurement -------------------------------------------------------------------------------------


class PeakMemory:
    """Peak resident memory of this process during a block (Linux: VmHWM after resetting it)."""

    def __init__(self, device: torch.device):
        self.device = device

    def __enter__(self):
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM to the current RSS
        except OSError:
            pass
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        return self

    def __exit__(self, *exc):
        self.rss_mib = _vm_hwm_mib()
        self.cuda_mib = torch.cuda.max_memory_allocated(self.device) / 2**20 if self.device.type == "cuda" else None


def _vm_hwm_mib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _median_time(fn, repeats: int, device) -> tuple:
    fn()  # warm-up: allocator, oneDNN kernels, caches
    times, result = [], None
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        result = fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _region(work: Workload):
    """(box in input pixels, output size) of a workload."""
    if work.window:
        c = work.in_size / 2
        half = work.window / 2
        box = (c - half, c - half, c + half, c + half)
        return box, (work.window * work.scale, work.window * work.scale)
    return (0.0, 0.0, float(work.in_size), float(work.in_size)), (work.in_size * work.scale,) * 2


def bench_one(model: LIIF, work: Workload, device, precision: str, repeats: int) -> dict:
    engine = Upscaler(model, device=device, precision=precision)
    torch.manual_seed(0)
    image = torch.rand(1, 3, work.in_size, work.in_size, device=engine.device)
    box, out_size = _region(work)

    def encode():
        engine._cache.clear()
        return engine.encode(image)

    enc_s, _ = _median_time(encode, repeats, engine.device)
    with PeakMemory(engine.device) as mem:
        dec_s, out = _median_time(lambda: engine.render_region(image, box, out_size), repeats, engine.device)
    n_out = out_size[0] * out_size[1]
    flops = encoder_flops(model.encoder, work.in_size, work.in_size) + decoder_flops(model, n_out, work.in_size**2, True)
    total = enc_s + dec_s
    return {
        "precision": engine.precision, "encoder_s": enc_s, "decoder_s": dec_s, "total_s": total,
        "peak_rss_mib": mem.rss_mib, "peak_cuda_mib": mem.cuda_mib, "out_mp_per_s": n_out / 1e6 / total,
        "gflop": flops / 1e9, "gflop_per_s": flops / 1e9 / total, "output": out,
    }


def bench_reference(model: LIIF, work: Workload, device, repeats: int, max_queries: int) -> dict:
    """The authors' algorithm on the same image; on huge outputs only a centre crop is compared."""
    torch.manual_seed(0)
    device = pick_device(device) if isinstance(device, str) else device
    model = model.to(device).eval()
    image = torch.rand(1, 3, work.in_size, work.in_size, device=device)
    box, out_size = _region(work)
    rows, cols = out_size
    h = w = work.in_size
    ys, xs, cell = geometry.region_grid(box, out_size, h, w, device=device)
    coord = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), -1).reshape(1, -1, 2)
    subset = coord.shape[1] > max_queries
    if subset:  # keep the reference's run time bounded: a centred block of rows
        start = (coord.shape[1] - max_queries) // 2 // cols * cols
        coord = coord[:, start : start + max_queries // cols * cols]
    cell = cell.expand_as(coord)

    def run():
        inp = geometry.normalise(image)
        t0 = time.perf_counter()
        feat = model.encode(inp)
        _sync(device)
        t1 = time.perf_counter()
        parts = [query_reference(model, feat, coord[:, i : i + 30000], cell[:, i : i + 30000], inp)
                 for i in range(0, coord.shape[1], 30000)]
        out = geometry.denormalise(torch.cat(parts, 1))
        _sync(device)
        return t1 - t0, time.perf_counter() - t1, out

    with torch.no_grad():
        run()
        runs = [run() for _ in range(repeats)]
    enc_s = statistics.median(r[0] for r in runs)
    dec_s = statistics.median(r[1] for r in runs)
    return {"encoder_s": enc_s, "decoder_s": dec_s, "total_s": enc_s + dec_s, "subset": subset,
            "n_queries": coord.shape[1], "output": runs[-1][2], "start": start if subset else 0}


def run_bench(encoders, workloads, device="auto", repeats=3, reference=True, max_reference_queries=300_000,
              weights=None, progress=print) -> list:
    rows = []
    for name in encoders:
        torch.manual_seed(0)
        model = LIIF(LIIFConfig(encoder=name, residual="bicubic")).eval()
        if weights and name in weights:
            from liif.core.weights import load_model

            model = load_model(weights[name])
        for work in workloads:
            progress(f"{name}: {work.name} ...")
            fp32 = bench_one(model, work, device, "fp32", repeats)
            auto = bench_one(model, work, device, "auto", repeats)
            row = {"encoder": name, "workload": work.name, "fp32": fp32, "auto": auto}
            if reference:
                ref = bench_reference(model, work, device, max(1, repeats // 2), max_reference_queries)
                for result in (fp32, auto):
                    fast = result.pop("output").permute(0, 2, 3, 1).reshape(1, -1, 3)
                    fast = fast[:, ref["start"] : ref["start"] + ref["n_queries"]].to(ref["output"].device)
                    result["max_abs_diff"] = (fast - ref["output"]).abs().max().item()
                    if not ref["subset"]:
                        result["speedup"] = ref["total_s"] / result["total_s"]
                ref.pop("output")
                row["reference"] = ref
            else:
                fp32.pop("output"), auto.pop("output")
            rows.append(row)
    return rows


def format_table(rows) -> str:
    lines = [
        "| encoder | workload | path | encoder s | decoder s | total s | speed-up vs reference | max abs diff | peak RSS MiB | out MP/s | GFLOP/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        ref = row.get("reference")
        if ref:
            note = " (crop)" if ref["subset"] else ""
            lines.append(f"| {row['encoder']} | {row['workload']} | reference{note} | {ref['encoder_s']:.2f} | "
                         f"{ref['decoder_s']:.2f} | {ref['total_s']:.2f} | 1.0 | 0 | | | |")
        for key in ("fp32", "auto"):
            r = row[key]
            label = "fast fp32" if key == "fp32" else f"fast auto ({r['precision']})"
            speed = f"{r['speedup']:.1f}x" if "speedup" in r else "-"
            diff = f"{r['max_abs_diff']:.1e}" if "max_abs_diff" in r else "-"
            lines.append(f"| {row['encoder']} | {row['workload']} | {label} | {r['encoder_s']:.2f} | {r['decoder_s']:.2f} | "
                         f"{r['total_s']:.2f} | {speed} | {diff} | {r['peak_rss_mib']:.0f} | {r['out_mp_per_s']:.2f} | "
                         f"{r['gflop_per_s']:.0f} |")
    return "\n".join(lines)


def to_json(rows) -> str:
    return json.dumps(rows, indent=2, default=lambda o: asdict(o) if hasattr(o, "__dataclass_fields__") else str(o))
