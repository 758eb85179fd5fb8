"""`python -m liif bench`: how fast the engine is, against the paper's own algorithm on the same weights.

For each workload and encoder it times the fast engine in every precision this machine runs (fp32; bf16
where the hardware has bf16 units; int8 on x86 CPUs; `auto` marks the one the engine picks) and the plain
reference path (`liif/core/reference.py`: full 580-input MLP per query, queries in chunks of 30000, the
authors' algorithm), in the same process: warm-up, then the median of several runs, every path's runs
(the reference's too) interleaved so that a busy neighbour's drift falls on all of them. It reports
encoder and decoder time, peak memory, output megapixels per second, achieved GFLOP/s against the
model's FLOP count, and the speed-up (wall clock, and CPU time) and max abs difference of each fast path
over the reference.
"""

import json
import statistics
import time
from dataclasses import dataclass

import torch
from torch import nn

from liif.core import geometry, int8
from liif.core.model import LIIF, LIIFConfig
from liif.core.reference import query_reference
from liif.render.engine import Upscaler, pick_device, synchronize
from liif.render.precision import cpu_facts, cpu_has_fast_bf16, pick_precision


@dataclass
class Workload:
    name: str
    in_size: int  # square input, pixels per side
    scale: int
    window: int = 0  # magnifier: render only a window of this many input pixels per side
    count: int = 1  # different pictures, each encoded and rendered (a batch of visitors' photos)


WORKLOADS = [
    # The comparison: four different 64x64 faces at x8, each encoded and decoded.
    Workload("4 faces 64->x8", 64, 8, count=4),
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


def _reset_peak_rss() -> None:
    """Linux: the peak resident memory (VmHWM) back to the current RSS, so that the next read is a block's."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _vm_hwm_mib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _region(work: Workload):
    """(box in input pixels, output size) of a workload."""
    if work.window:
        c = work.in_size / 2
        half = work.window / 2
        box = (c - half, c - half, c + half, c + half)
        return box, (work.window * work.scale, work.window * work.scale)
    return (0.0, 0.0, float(work.in_size), float(work.in_size)), (work.in_size * work.scale,) * 2


def _pictures(work: Workload, device) -> list:
    torch.manual_seed(0)
    return [torch.rand(1, 3, work.in_size, work.in_size, device=device) for _ in range(work.count)]


def precisions_here(device) -> list:
    """Every precision the engine can run on `device`: fp32, bf16 where it is fast, int8 on CPUs with its
    kernels (x86). bf16 is left out where it is slow: oneDNN emulates it there, or refuses."""
    device = pick_device(device) if isinstance(device, str) else device
    here = ["fp32"]
    if (device.type == "cuda" and torch.cuda.is_bf16_supported()) or (device.type == "cpu" and cpu_has_fast_bf16()):
        here.append("bf16")
    if device.type == "cpu" and int8.kernels_available() and cpu_facts().int8:
        here.append("int8")
    return here


class _TimedPath:
    """One way of rendering a workload's pictures; `once()` is one timed run of all of them, `_run(image)`
    one picture's (encoder seconds, decoder seconds, output)."""

    def __init__(self, work: Workload, device):
        self.images = _pictures(work, device)
        self.times, self.cpu_times, self.output = [], [], None

    def once(self) -> None:
        cpu_start = time.process_time()
        each = [self._run(image) for image in self.images]
        self.cpu_times.append(time.process_time() - cpu_start)
        self.times.append((sum(r[0] for r in each), sum(r[1] for r in each)))
        self.output = [r[2] for r in each]

    def timings(self) -> dict:
        enc_s = statistics.median(t[0] for t in self.times)
        dec_s = statistics.median(t[1] for t in self.times)
        return {"encoder_s": enc_s, "decoder_s": dec_s, "total_s": enc_s + dec_s,
                "cpu_s": statistics.median(self.cpu_times), "runs_total_s": [round(a + b, 3) for a, b in self.times],
                "output": self.output}


class FastPath(_TimedPath):
    """The engine in one precision on a workload's pictures."""

    def __init__(self, model: LIIF, work: Workload, device, precision: str):
        self.engine = Upscaler(model, device=device, precision=precision)
        super().__init__(work, self.engine.device)
        self.work, (self.box, self.out_size) = work, _region(work)
        self.peak_rss_mib = 0.0

    def warm_up(self) -> None:
        self.once()  # the allocator, oneDNN's kernels, caches
        self.times.clear()
        self.cpu_times.clear()

    def once(self) -> None:
        _reset_peak_rss()
        super().once()
        self.peak_rss_mib = max(self.peak_rss_mib, _vm_hwm_mib())

    def _run(self, image) -> tuple:
        engine, device = self.engine, self.engine.device
        engine.encodings.clear()  # every run encodes: the pictures are new to the engine
        synchronize(device)
        t0 = time.perf_counter()
        engine.encode(image)
        synchronize(device)
        t1 = time.perf_counter()
        out = engine.render_region(image, self.box, self.out_size)
        synchronize(device)
        return t1 - t0, time.perf_counter() - t1, out

    def result(self, model: LIIF) -> dict:
        work, timings = self.work, self.timings()
        n_out = self.out_size[0] * self.out_size[1] * work.count
        flops = work.count * (encoder_flops(model.encoder, work.in_size, work.in_size)
                              + decoder_flops(model, n_out // work.count, work.in_size**2, True))
        total = timings["total_s"]
        return {"precision": self.engine.precision, "encoder_precision": self.engine.encoder_precision, **timings,
                "peak_rss_mib": self.peak_rss_mib, "out_mp_per_s": n_out / 1e6 / total, "gflop": flops / 1e9,
                "gflop_per_s": flops / 1e9 / total}


class ReferencePath(_TimedPath):
    """The authors' algorithm on the same pictures; on huge outputs only a centre crop of rows is computed
    and compared."""

    def __init__(self, model: LIIF, work: Workload, device, max_queries: int):
        self.device = pick_device(device) if isinstance(device, str) else device
        super().__init__(work, self.device)
        self.model = model.to(self.device).eval()
        box, out_size = _region(work)
        cols = out_size[1]
        ys, xs, cell = geometry.region_grid(box, out_size, work.in_size, work.in_size, device=self.device)
        coord = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), -1).reshape(1, -1, 2)
        self.subset = coord.shape[1] > max_queries
        self.start = 0
        if self.subset:  # keep the reference's run time bounded: a centred block of rows
            self.start = (coord.shape[1] - max_queries) // 2 // cols * cols
            coord = coord[:, self.start : self.start + max_queries // cols * cols]
        self.coord, self.cell = coord, cell.expand_as(coord)

    @torch.no_grad()
    def _run(self, image) -> tuple:
        inp = geometry.normalise(image)
        t0 = time.perf_counter()
        feat = self.model.encode(inp)
        synchronize(self.device)
        t1 = time.perf_counter()
        coord, cell = self.coord, self.cell
        parts = [query_reference(self.model, feat, coord[:, i : i + 30000], cell[:, i : i + 30000], inp)
                 for i in range(0, coord.shape[1], 30000)]
        out = geometry.denormalise(torch.cat(parts, 1))
        synchronize(self.device)
        return t1 - t0, time.perf_counter() - t1, out

    def warm_up(self) -> None:
        self._run(self.images[0])

    def result(self) -> dict:
        return {**self.timings(), "subset": self.subset, "n_queries": self.coord.shape[1], "start": self.start}


def bench_paths(model: LIIF, work: Workload, device, precisions: list, repeats: int, reference: bool,
                max_reference_queries: int) -> tuple:
    """Each path's median of `repeats` runs after a warm-up, the runs interleaved (A B C ref A B C ref ...)
    so that a neighbour's load, which drifts, falls on every path alike, the reference included (when it
    ran last, its ratios measured the load as much as the code). Returns ({precision: result}, reference
    result or None)."""
    paths = {p: FastPath(model, work, device, p) for p in precisions}
    ref = ReferencePath(model, work, device, max_reference_queries) if reference else None
    every = [*paths.values(), *([ref] if ref is not None else [])]
    for path in every:
        path.warm_up()
    for _ in range(repeats):
        for path in every:
            path.once()
    return {p: path.result(model) for p, path in paths.items()}, (ref.result() if ref is not None else None)


def run_bench(encoders, workloads, device="auto", repeats=3, reference=True, max_reference_queries=300_000,
              weights=None, precisions=None, progress=print) -> list:
    """One row per encoder and workload: {"paths": {precision: result}, "auto": the precision `auto` takes
    here, "reference": the authors' algorithm}. `precisions`: default every one this device runs.
    `weights`: {encoder name: weights file} to time trained models (default: the architecture's random
    initial weights; the time does not depend on them, the max abs diff of int8 does)."""
    rows = []
    precisions = precisions or precisions_here(device)
    auto = pick_precision("auto", pick_device(device) if isinstance(device, str) else device)
    for name in encoders:
        torch.manual_seed(0)
        model = LIIF(LIIFConfig(encoder=name, residual="bicubic")).eval()
        if weights and name in weights:
            from liif.core.weights import load_model

            model = load_model(weights[name]).eval()
        for work in workloads:
            progress(f"{name}: {work.name} ...")
            paths, ref = bench_paths(model, work, device, precisions, repeats, reference, max_reference_queries)
            row = {"encoder": name, "workload": work.name, "pictures": work.count, "paths": paths, "auto": auto,
                   "weights": str(weights[name]) if weights and name in weights else "random initial"}
            outputs = {precision: result.pop("output") for precision, result in paths.items()}
            if ref is not None:
                for precision, result in paths.items():
                    diffs = []
                    for fast, slow in zip(outputs[precision], ref["output"]):
                        fast = fast.permute(0, 2, 3, 1).reshape(1, -1, 3)
                        fast = fast[:, ref["start"] : ref["start"] + ref["n_queries"]].to(slow.device)
                        diffs.append((fast - slow).abs().max().item())
                    result["max_abs_diff"] = max(diffs)
                    if not ref["subset"]:
                        result["speedup"] = ref["total_s"] / result["total_s"]
                        result["cpu_speedup"] = ref["cpu_s"] / result["cpu_s"]
                ref.pop("output")
                row["reference"] = ref
            rows.append(row)
    return rows


def format_table(rows) -> str:
    """Markdown: a row per path. "speed-up" is wall-clock (the goal's measure); "CPU-time speed-up" is the
    ratio of the process's CPU seconds, which a busy neighbour moves far less."""
    lines = [
        "| encoder | workload | path | encoder s | decoder s | total s | speed-up vs reference | CPU-time speed-up | "
        "max abs diff | peak RSS MiB | out MP/s | GFLOP/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        ref = row.get("reference")
        if ref:
            note = " (crop)" if ref["subset"] else ""
            lines.append(f"| {row['encoder']} | {row['workload']} | reference{note} | {ref['encoder_s']:.2f} | "
                         f"{ref['decoder_s']:.2f} | {ref['total_s']:.2f} | 1.0 | 1.0 | 0 | | | |")
        for precision, r in row["paths"].items():
            label = f"fast {precision}" + (" (auto)" if precision == row["auto"] else "")
            if r.get("encoder_precision", precision) != precision:
                label += f", {r['encoder_precision']} encoder"
            speed = f"{r['speedup']:.1f}x" if "speedup" in r else "-"
            cpu_speed = f"{r['cpu_speedup']:.1f}x" if "cpu_speedup" in r else "-"
            diff = f"{r['max_abs_diff']:.1e}" if "max_abs_diff" in r else "-"
            lines.append(f"| {row['encoder']} | {row['workload']} | {label} | {r['encoder_s']:.2f} | {r['decoder_s']:.2f} | "
                         f"{r['total_s']:.2f} | {speed} | {cpu_speed} | {diff} | {r['peak_rss_mib']:.0f} | "
                         f"{r['out_mp_per_s']:.2f} | {r['gflop_per_s']:.0f} |")
    return "\n".join(lines)


def to_json(rows) -> str:
    return json.dumps(rows, indent=2, default=str)
