"""Benchmark evaluation (Set5, Set14, B100, ...) under the LIIF paper's protocol (docs/evaluation-protocol.md).

    results = evaluate(bicubic, "../shared/data/benchmark", ["Set5"], [2, 4])
    print(format_table({"bicubic": results}))

The data root holds `<Set>/HR/*.png` and `<Set>/LR_bicubic/X{k}/*.png`. For x2, x3, x4 the input is
the provided MATLAB-bicubic LR image and the ground truth is the top-left (LR size x k) crop of HR. Any
other scale, or a k whose LR folder is missing, crops HR to a multiple of k and downsamples it with
`resize.imresize` ("generated" LR, marked in the table). Outputs are 8-bit; PSNR and SSIM are taken on
Y with `scale` pixels shaved from each border, and a set's score is the mean of its per-image scores.

Bicubic here measures Set5 33.67 / 30.40 / 28.43 and B100 29.56 / 27.21 / 25.96 dB at x2 / x3 / x4,
within 0.01 dB of the published values. Set14 measures 30.33 / 27.63 / 26.09, 0.09 dB above the often-quoted 30.24 / 27.55 /
26.00. Scoring one of its two greyscale images on raw grey values instead of Y (what MATLAB scripts do
with a one-channel file) gives 30.23 / 27.54 / 26.00, so that is the likely cause. Here every image is
scored on Y, as the LIIF authors' code does.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from liif.core.degrade import jpeg_roundtrip
from liif.evaluation.metrics import detail_levels, psnr_y, ssim_y
from liif.evaluation.resize import imresize
from liif.render.imageio import to_tensor, to_uint8

# The scales the benchmark ships LR images for; any other scale is downsampled from HR here.
PROVIDED_SCALES = (2, 3, 4)
GENERATED_MARK = "†"


@dataclass
class Pair:
    name: str
    lr: np.ndarray  # (h, w, 3) uint8
    hr: np.ndarray  # (h * scale, w * scale, 3) uint8, the ground truth


def read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))  # greyscale files become three equal channels


def lr_source(set_dir: Path, scale: int) -> str:
    """'provided' when the benchmark's LR images are used for this scale, else 'generated'."""
    provided = scale in PROVIDED_SCALES and (set_dir / "LR_bicubic" / f"X{scale}").is_dir()
    return "provided" if provided else "generated"


def load_pairs(set_dir, scale: int) -> tuple[list[Pair], str]:
    """All (LR, ground truth) pairs of one set at one integer scale, and where the LR came from."""
    set_dir = Path(set_dir)
    hr_paths = sorted((set_dir / "HR").glob("*.png"))
    if not hr_paths:
        raise FileNotFoundError(f"{set_dir / 'HR'}: no .png images (expected <root>/<Set>/HR/*.png)")
    source = lr_source(set_dir, scale)
    pairs = []
    for hr_path in hr_paths:
        hr = read_rgb(hr_path)
        if source == "provided":
            lr = read_rgb(_find_lr(set_dir / "LR_bicubic" / f"X{scale}", hr_path.stem, scale))
            h, w = lr.shape[0] * scale, lr.shape[1] * scale
            if h > hr.shape[0] or w > hr.shape[1]:
                raise ValueError(f"{hr_path}: HR {hr.shape[:2]} is smaller than its x{scale} LR {lr.shape[:2]} x {scale}")
            hr = hr[:h, :w]
        else:
            h, w = hr.shape[0] // scale, hr.shape[1] // scale
            hr = hr[: h * scale, : w * scale]
            lr = imresize(hr, output_shape=(h, w))
        pairs.append(Pair(hr_path.stem, lr, hr))
    return pairs, source


def _find_lr(lr_dir: Path, stem: str, scale: int) -> Path:
    # Our data names LR files like their HR; the EDSR release appends the scale ("babyx2.png").
    candidates = [lr_dir / f"{stem}.png", lr_dir / f"{stem}x{scale}.png"]
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(f"no LR image for {stem!r} in {lr_dir} (looked for {', '.join(p.name for p in candidates)})")


def evaluate(upscale_fn, data_root, sets, scales, progress: bool = True, label: str = "",
             jpeg_quality: int | None = None) -> dict:
    """Score `upscale_fn(lr_uint8_hwc, out_h, out_w) -> uint8_hwc` on each set at each scale.

    Returns {set: {"x<scale>": {"scale", "psnr", "ssim", "detail", "detail_real", "n_images", "lr_source",
    "seconds"}}}; `detail` is the outputs' mean fine detail (`detail_levels`), `detail_real` the ground truth's;
    `label` names the method in the progress bar. With `jpeg_quality`, every LR input is first saved as
    a JPEG of that quality and read back (the ground truth stays the clean HR).
    """
    results = {}
    for set_name in sets:
        results[set_name] = {}
        for scale in scales:
            pairs, source = load_pairs(Path(data_root) / set_name, scale)
            scores = []  # per image: PSNR-Y, SSIM-Y, the output's detail, the ground truth's
            start = time.perf_counter()
            bar = tqdm(pairs, desc=f"{label} {set_name} x{scale}".strip(), unit="img", disable=not progress, leave=False)
            for pair in bar:
                lr = pair.lr if jpeg_quality is None else jpeg_roundtrip(pair.lr, jpeg_quality)
                out = upscale_fn(lr, pair.hr.shape[0], pair.hr.shape[1])
                if out.shape != pair.hr.shape or out.dtype != np.uint8:
                    raise ValueError(f"{set_name}/{pair.name} x{scale}: upscaler returned {out.dtype} {out.shape}, "
                                     f"expected uint8 {pair.hr.shape}")
                scores.append((psnr_y(out, pair.hr, shave=scale), ssim_y(out, pair.hr, shave=scale),
                               detail_levels(out), detail_levels(pair.hr)))
            psnr, ssim, detail, detail_real = (float(np.mean(column)) for column in zip(*scores))
            results[set_name][f"x{scale}"] = {
                "scale": scale,
                "psnr": psnr,
                "ssim": ssim,
                "detail": detail,
                "detail_real": detail_real,
                "n_images": len(pairs),
                "lr_source": source,
                "jpeg_quality": jpeg_quality,
                "seconds": round(time.perf_counter() - start, 2),
            }
    return results


def bicubic(lr: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """The baseline: MATLAB-style bicubic (uint8 in, rounded uint8 out) straight to the output size.
    It reproduces the protocol's known bicubic numbers (pinned in tests/test_eval.py)."""
    return imresize(lr, output_shape=(out_h, out_w))


def liif_upscaler(upscaler):
    """Wrap a `liif.render.engine.Upscaler`: uint8 -> [0, 1] tensor -> render -> rounded uint8."""

    def upscale(lr: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
        out = upscaler.render(to_tensor(lr.copy()), out_h, out_w)  # a copy: lr may be read-only
        return to_uint8(out)

    return upscale


def run_benchmark(data_root, sets, scales, model_path=None, device="auto", precision="fp32",
                  bicubic_only=False, progress=True, command=None, tile=None, overlap=None,
                  jpeg_quality=None, compare_path=None) -> dict:
    """Bicubic and (unless bicubic_only) the LIIF model on every set and scale: the `eval` command's report.
    `compare_path`: a second model scored beside it (e.g. the L1 twin of a model trained to look real)."""
    data_root = Path(data_root)
    missing = [s for s in sets if not (data_root / s / "HR").is_dir()]
    if missing:
        raise FileNotFoundError(f"{data_root}: no {', '.join(s + '/HR' for s in missing)} (expected <root>/<Set>/HR/*.png)")
    report = {"command": command, "data": str(data_root), "sets": list(sets), "scales": list(scales), "model": None,
              "jpeg_quality": jpeg_quality}
    upscalers = {}
    if not bicubic_only:
        from liif.core.weights import load_weights
        from liif.render.engine import TILE, TILE_OVERLAP, Upscaler

        if precision == "fp32":  # on CUDA, fp32 convolutions default to TF32 (10-bit mantissa): not fp32
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cuda.matmul.allow_tf32 = False
        tiling = {"tile": tile or TILE, "overlap": TILE_OVERLAP if overlap is None else overlap}
        engine = Upscaler(load_weights(model_path), device=device, precision=precision, **tiling)
        report["model"] = {"file": str(engine.weights.path), "device": str(engine.device),
                           "precision": engine.precision, "config": engine.model.config.to_dict(), **tiling}
        upscalers["model"] = liif_upscaler(engine)
        if compare_path is not None:
            other = Upscaler(load_weights(compare_path), device=device, precision=precision, **tiling)
            report["compare"] = {"file": str(other.weights.path), "config": other.model.config.to_dict()}
            upscalers["compare"] = liif_upscaler(other)
    # Bicubic first: it is quick, so a data problem shows up before the model's long run.
    upscalers = {"bicubic": bicubic, **upscalers}
    report["results"] = {name: evaluate(fn, data_root, sets, scales, progress, label=name, jpeg_quality=jpeg_quality)
                         for name, fn in upscalers.items()}
    return report


def compare_precisions(data_root, sets, scales, precision: str, against: str = "fp32", model_path=None,
                       device="auto", progress=True) -> dict:
    """One model in two precisions on every set and scale: each one's PSNR-Y, the change, and the largest
    difference between their output pixels (levels of 255, over every image). What a faster precision
    costs, measured against the oracle's arithmetic (fp32), image by image on the same inputs."""
    from liif.core.weights import load_weights
    from liif.render.engine import Upscaler

    engines = {p: Upscaler(load_weights(model_path), device=device, precision=p) for p in (against, precision)}
    if engines[precision].encoder_precision == engines[against].encoder_precision:
        engines[precision].share_encodings(engines[against])  # one encoding serves both (RDN's is most of the time)
    results = {}
    for set_name in sets:
        for scale in scales:
            pairs, source = load_pairs(Path(data_root) / set_name, scale)
            psnrs, worst = {p: [] for p in engines}, 0
            for pair in tqdm(pairs, desc=f"{set_name} x{scale}", unit="img", disable=not progress, leave=False):
                outs = {p: liif_upscaler(e)(pair.lr, *pair.hr.shape[:2]) for p, e in engines.items()}
                for p, out in outs.items():
                    psnrs[p].append(psnr_y(out, pair.hr, shave=scale))
                gap = np.abs(outs[precision].astype(np.int16) - outs[against].astype(np.int16)).max()
                worst = max(worst, int(gap))
            mean = {p: float(np.mean(v)) for p, v in psnrs.items()}
            results.setdefault(set_name, {})[f"x{scale}"] = {
                "psnr": mean, "psnr_change_db": mean[precision] - mean[against], "max_level_diff": worst,
                "n_images": len(pairs), "lr_source": source}
    precisions = {p: e.precision for p, e in engines.items()}
    return {"precision": precision, "against": against, "engines": precisions,
            "model": str(engines[against].weights.path), "results": results}


def format_comparison(report: dict) -> str:
    p, a = report["precision"], report["against"]
    lines = [f"| set | scale | PSNR-Y {a} | PSNR-Y {p} | change dB | max pixel difference (levels) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for set_name, by_scale in report["results"].items():
        for key, r in by_scale.items():
            mark = f" {GENERATED_MARK}" if r["lr_source"] == "generated" else ""
            lines.append(f"| {set_name} | {key}{mark} | {r['psnr'][a]:.4f} | {r['psnr'][p]:.4f} | "
                         f"{r['psnr_change_db']:+.4f} | {r['max_level_diff']} |")
    return "\n".join(lines)


def format_table(results: dict) -> str:
    """Markdown table from {method: evaluate(...) result}: a row per set and method, a column per scale."""
    methods = list(results)
    sets = list(dict.fromkeys(s for m in methods for s in results[m]))
    scales = list(dict.fromkeys(k for m in methods for s in results[m].values() for k in s))
    lines = ["| set | method | " + " | ".join(scales) + " |", "| --- | --- |" + " --- |" * len(scales)]
    any_generated = False
    for set_name in sets:
        for method in methods:
            cells = []
            for key in scales:
                r = results[method].get(set_name, {}).get(key)
                if r is None:
                    cells.append("–")
                    continue
                mark = f" {GENERATED_MARK}" if r["lr_source"] == "generated" else ""
                any_generated |= bool(mark)
                cells.append(f"{r['psnr']:.2f} / {r['ssim']:.4f}{mark}")
            lines.append(f"| {set_name} | {method} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Cells: PSNR (dB) / SSIM on the Y channel, `scale` pixels shaved per border, mean over images.")
    if any_generated:
        lines.append(f"{GENERATED_MARK} LR generated from HR by MATLAB-style bicubic downsampling "
                     "(scale outside x2-x4, or no LR_bicubic/Xk folder), not the provided LR images.")
    return "\n".join(lines)
