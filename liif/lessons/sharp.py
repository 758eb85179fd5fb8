"""The average and the sharp guess: the same network, trained two ways, on the same tiny photo.

    guess = sharp_guess(average, sharp, loaded, scale=8, blend=0.5)     # two Upscalers of one architecture
    guess.average, guess.sharp, guess.blended                           # three pictures, each measured
    guess.markdown()                                                     # one plain sentence, numbers below

An L1-trained LIIF is rewarded for being right on average, so where the tiny input leaves the detail open
it draws the mean of every detail that would fit: a soft picture. The same network trained against a
critic (liif/training/adversarial.py) is rewarded for looking real, so it draws one sharp guess. The
slider between them is network interpolation (liif/core/blend.py): at every position one model, one render.

What is measured for every picture: its fine detail (`detail_levels`: what a 4-times smaller picture
cannot hold, so what was invented), and, where the real photo is known, its PSNR-Y against it. The
experiment's spec (`EXPERIMENT`, at the end) makes `python -m liif sharp` and the page's guarded handler.
"""

import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

from liif.core import fmt
from liif.core.blend import blend as blend_models
from liif.evaluation.faces import count_faces
from liif.evaluation.metrics import detail_levels, psnr_y
from liif.lessons import experiment
from liif.render import imageio, pictures, sizes
from liif.render.engine import Speed, Upscaler
from liif.render.imageio import ImageInputError, LoadedImage
from liif.render.upscale import bicubic_image

SHEET_LABEL = 14  # caption size on the command's sheet, in pixels
# The page starts half way: past about 0.6 the shipped sharp model (393 steps on a 2-core CPU) also draws a
# faint grid at the input's pixel spacing (seen at 100% on faces at ×8; its card says so). The slider goes to 1.
DEFAULT_BLEND = 0.5
BLEND_STEP = 0.05


@dataclass
class Rendition:
    label: str
    picture: np.ndarray = field(repr=False)  # (H, W, 3) uint8
    detail: float  # levels of fine detail (detail_levels)
    psnr_db: float | None = None  # against the real photo, where it is known


@dataclass
class SharpGuess:
    in_size: tuple  # (width, height) of the tiny input
    out_size: tuple
    bicubic: Rendition
    average: Rendition
    sharp: Rendition
    blended: Rendition
    blend: float
    faces: int  # frontal faces OpenCV's cascade finds in the tiny input
    real: Rendition | None = None  # the real photo at the output size, where known
    seconds: float = 0.0
    tiny: np.ndarray | None = field(default=None, repr=False)  # the input's pixels, for a re-blend
    scale_asked: float = 0.0  # the scale it was asked for (the output size is rounded from it)

    @property
    def scale(self) -> float:
        return self.out_size[0] / self.in_size[0]

    def headline(self) -> str:
        """One plain sentence, true for any picture: what the two trainings drew from the same pixels."""
        ratio = self.sharp.detail / max(self.average.detail, 1e-9)
        subject = "the person" if self.faces else "what was photographed"
        return (f"Same {self.in_size[0]}×{self.in_size[1]} pixels in, two trainings, two pictures: the network "
                f"trained to be right on average drew {self.average.detail:.1f} levels of fine detail, the "
                f"same network trained to look real drew {self.sharp.detail:.1f} ({ratio:.1f}× as "
                f"much). The sharp one is a guess, drawn from what the model learned photos look like: that is why it "
                f"can look like a new photo, and why it need not be {subject}.")

    def numbers_markdown(self) -> str:
        rows = [self.bicubic, self.average, self.blended, self.sharp] + ([self.real] if self.real else [])
        seen, lines = set(), []
        truth = self.real is not None
        lines.append("| picture | fine detail (levels) |" + (" PSNR-Y to the real photo |" if truth else ""))
        lines.append("| --- | --- |" + (" --- |" if truth else ""))
        for r in rows:
            if r.label in seen:
                continue
            seen.add(r.label)
            psnr = "" if not truth else (" — |" if r.psnr_db is None else f" {r.psnr_db:.2f} dB |")
            lines.append(f"| {r.label} | {r.detail:.2f} |" + psnr)
        how = ("Fine detail is the mean difference, in levels of 255, between a picture and the same picture "
               "shrunk 4 times (box average) and enlarged back (bicubic): what a 4-times smaller picture cannot "
               "hold, so what the upscaler had to invent. "
               + ("The real photo's own detail is the target a convincing guess reaches. " if truth else
                  "Your photo's real detail is unknown: only a picture whose original we have can be checked "
                  "(step 4). ")
               + f"The slider blends the two models' weights (network interpolation): at {fmt.number(self.blend)} "
               f"the model is {100 * (1 - self.blend):.0f}% the average-minded one and "
               f"{100 * self.blend:.0f}% the sharp one, and a render costs what either model's does (this drawing took {self.seconds:.1f} s here).")
        return "\n".join(lines) + "\n\n" + how

    def markdown(self) -> str:
        return (self.headline() + "\n\n<details><summary>How this was measured</summary>\n\n"
                + self.numbers_markdown() + "\n\n</details>")


def blended_upscaler(average: Upscaler, sharp: Upscaler, weight: float) -> Upscaler:
    """One engine for the model `weight` of the way from `average` to `sharp` (the ends are the models)."""
    if weight <= 0:
        return average
    if weight >= 1:
        return sharp
    return Upscaler(blend_models(average.model, sharp.model, weight), device=average.device,
                    precision=average.precision)


def output_size(picture, scale: float) -> tuple:
    """(width, height) of a picture (its header's, or a LoadedImage's) enlarged `scale` times."""
    width, height = experiment.picture_size(picture)
    return max(1, round(width * scale)), max(1, round(height * scale))


def render(upscaler: Upscaler, loaded: LoadedImage, out_size: tuple) -> np.ndarray:
    out = upscaler.render(imageio.to_tensor(loaded.rgb), out_size[1], out_size[0])
    return imageio.to_uint8(out)


def renders_needed(blend: float, reuse=None) -> int:
    """Renders a guess needs: the slider's move (`reuse`) the blend alone; at 0 or 1 the blend is one end."""
    return 1 if reuse is not None else (2 if float(blend) in (0.0, 1.0) else 3)


def estimate_seconds(speed: Speed, in_size: tuple, out_size: tuple, renders: int = 3) -> float:
    """The average, the sharp guess and the blend: three renders of one network's cost."""
    return renders * speed.seconds(in_size[0] * in_size[1], out_size[0] * out_size[1])


def sharp_guess(average: Upscaler, sharp: Upscaler, loaded: LoadedImage, scale: float, blend: float = DEFAULT_BLEND,
                real: np.ndarray | None = None, speed: Speed | None = None, max_seconds: float | None = None,
                progress=None, reuse: SharpGuess | None = None) -> SharpGuess:
    """Render `loaded` enlarged `scale` times by both trainings and by their blend; measure each.

    `real`: the real photo at the output size (H, W, 3), when it is known, to measure the distance to it.
    With `speed` and `max_seconds`, refuses before any work what would take longer. `reuse`: an earlier
    guess of the same picture and scale, whose two ends are kept (a slider move renders the blend alone).
    """
    started = time.perf_counter()
    if not 0 <= blend <= 1:
        raise ImageInputError(f"the blend goes from 0 (the average) to 1 (the sharp guess), not {blend:g}")
    in_size, out_size = (loaded.width, loaded.height), output_size(loaded, scale)
    if reuse is not None and (reuse.in_size != in_size or reuse.out_size != out_size):
        reuse = None
    renders = renders_needed(blend, reuse)
    if speed is not None and max_seconds is not None:
        needed = estimate_seconds(speed, in_size, out_size, renders)
        if needed > max_seconds:
            what = "at this blend" if renders == 1 else "three times (the average, the sharp guess and the blend)"
            raise ImageInputError(
                f"drawing a {in_size[0]}×{in_size[1]} photo at ×{fmt.number(scale)} {what} would take about "
                f"{needed:.0f} s here, more than the {max_seconds:.0f} s this page allows; try a smaller scale")
    if min(out_size) < 4:
        raise ImageInputError("the output is too small to measure its detail; choose a larger scale")
    pictures = {} if reuse is None else {"average": reuse.average.picture, "sharp": reuse.sharp.picture}
    for i, (key, engine) in enumerate((("average", average), ("sharp", sharp),
                                       ("blended", blended_upscaler(average, sharp, blend)))):
        if key in pictures:
            continue
        if key == "blended" and blend in (0.0, 1.0):
            pictures[key] = pictures["average" if blend == 0 else "sharp"]
        else:
            pictures[key] = render(engine, loaded, out_size)
        if progress is not None:
            progress((i + 1) / 3)
    bicubic = np.asarray(bicubic_image(loaded, *out_size).convert("RGB"))
    measured = partial(measure, real=real, scale=scale)
    return SharpGuess(
        in_size, out_size,
        bicubic=measured("bicubic", bicubic),
        average=measured("trained to be right on average", pictures["average"]),
        sharp=measured("trained to look real (the sharp guess)", pictures["sharp"]),
        blended=measured(f"the blend at {fmt.number(blend)}", pictures["blended"]),
        blend=blend, faces=count_faces(loaded.rgb),
        real=None if real is None else Rendition("the real photo", real, detail_levels(real), None),
        seconds=time.perf_counter() - started, tiny=loaded.rgb, scale_asked=scale,
    )


def measure(label: str, picture: np.ndarray, real: np.ndarray | None, scale: float) -> Rendition:
    """A picture's fine detail and, where the real photo is known, its PSNR-Y against it."""
    psnr = None if real is None else psnr_y(picture, real, shave=max(1, round(scale)))
    return Rendition(label, picture, detail_levels(picture), psnr)


def blend_ladder(average: Upscaler, sharp: Upscaler, loaded: LoadedImage, scale: float, weights=(0, 0.25, 0.5, 0.75, 1),
                 real: np.ndarray | None = None) -> list:
    """(weight, detail, PSNR-Y or None) at each blend weight: the slider's whole range, measured."""
    out_size = output_size(loaded, scale)
    rows = []
    for weight in weights:
        measured = measure("", render(blended_upscaler(average, sharp, weight), loaded, out_size), real, scale)
        rows.append((weight, measured.detail, measured.psnr_db))
    return rows


def guess_picture(sharp: Upscaler, tiny, scale: int) -> np.ndarray:
    """The sharp guesser's render of a tiny photo at `scale` times its size (alpha flattened as the answers
    lesson flattens it): the generative candidate of "many answers fit" and of "which one is real?"."""
    loaded = tiny if isinstance(tiny, LoadedImage) else imageio.load_image(tiny)
    rgb = np.ascontiguousarray(pictures.flatten(loaded.rgb, loaded.alpha))
    return render(sharp, imageio.load_image(rgb), (rgb.shape[1] * int(scale), rgb.shape[0] * int(scale)))


# -- the experiment: `python -m liif sharp` and the page's step 1 (no endpoint of its own: /upscale draws
# with the model trained to look real, or any blend, for scripts) ------------------------------------------


def _scale(values) -> float:
    sizes.output_size(1, 1, scale=values["scale"])  # a positive, finite number, or one sentence
    return float(values["scale"])


def _seconds(speeds, values) -> float:
    picture = values["picture"]
    return estimate_seconds(speeds["average"], experiment.picture_size(picture), output_size(picture, _scale(values)),
                            renders_needed(values["blend"], values.get("keep")))


def sheet(guess: SharpGuess) -> np.ndarray:
    """tiny | average | blend | sharp (| real), labelled, side by side (the command's -o)."""
    width, height = guess.out_size
    tiles = [pictures.enlarge_nearest(guess.tiny, max(guess.out_size)), guess.average.picture, guess.blended.picture,
             guess.sharp.picture] + ([guess.real.picture] if guess.real else [])
    names = ["tiny", "average (L1)", f"blend {guess.blend:g}", "sharp guess"] + (["real"] if guess.real else [])
    return pictures.side_by_side(*(pictures.label(np.ascontiguousarray(t[:height, :width]), n, size=SHEET_LABEL)
                                   for t, n in zip(tiles, names)), gap=4)


def _run(models, values, progress=None, out_path=None, speeds=None, max_seconds=None):
    average, sharp = models["average"][1], models["sharp"][1]
    loaded, scale, real = experiment.loaded_picture(values["picture"]), _scale(values), None
    if values.get("real"):  # the picture is the real photo: shrink it by the scale first, then measure against it
        w, h = max(1, round(loaded.width / scale)), max(1, round(loaded.height / scale))
        real = loaded.rgb[: round(h * scale), : round(w * scale)]
        loaded = imageio.load_image(pictures.shrink(real, w, h))
    guess = sharp_guess(average, sharp, loaded, scale, float(values["blend"]), real=real,
                        speed=speeds and speeds["average"], max_seconds=max_seconds, progress=progress,
                        reuse=values.get("keep"))
    ladder = blend_ladder(average, sharp, loaded, scale, real=real) if values.get("ladder") else None
    if out_path:
        imageio.save_png(Image.fromarray(sheet(guess)), out_path)
    rows = [guess.bicubic, guess.average, guess.blended, guess.sharp] + ([guess.real] if guess.real else [])
    found = {
        "input": list(guess.in_size), "output": list(guess.out_size), "blend": guess.blend,
        "pictures": [{"label": r.label, "detail_levels": round(r.detail, 3),
                      "psnr_y_db": None if r.psnr_db is None else round(r.psnr_db, 3)} for r in rows],
        "ladder": None if ladder is None else [{"blend": w, "detail_levels": round(d, 3),
                                                "psnr_y_db": None if p is None else round(p, 3)} for w, d, p in ladder],
        "seconds": round(guess.seconds, 2),
    }
    text = "\n".join([guess.headline(), guess.numbers_markdown()] + [
        f"blend {w:g}: detail {d:.2f} levels" + ("" if p is None else f", PSNR-Y {p:.2f} dB") for w, d, p in ladder or []])
    label = ("Trained to look real (the sharp guess)" if guess.blend == 1 else "Trained to be right on average"
             if guess.blend == 0 else f"Blend {guess.blend:g}: {100 * guess.blend:.0f}% of the way to the sharp guess")
    shown = [(guess.average.picture, "Trained to be right on average"), (guess.blended.picture, label)]
    return experiment.Outcome(found, guess.markdown(), shown, out_path and Path(out_path),
                              "tiny | average | blend | sharp" + (" | real" if real is not None else ""), text=text,
                              result=guess)


EXPERIMENT = experiment.register(experiment.Experiment(
    "sharp", "1. The average and the sharp guess", "drawing the average, the sharp guess and the blend",
    help="the same photo through the L1 model and the model trained to look real, and a blend",
    description="Upscale a photo with the model trained to be right on average and with the same network trained "
                "to look real (adversarially), and with a blend of their weights; measure each picture's invented "
                "detail and, with --real, its distance to the real photo.",
    inputs=(experiment.Field("picture", "picture", label="photo"),
            experiment.Field("scale", "float", 8.0, help="scale factor (default 8)"),
            experiment.Field("blend", "float", DEFAULT_BLEND,
                             help="the blend's weight: 0 is the average, 1 the sharp guess (default 0.5)"),
            experiment.Field("real", "flag", False, cli_only=True,
                             help="PHOTO is the real photo: shrink it by the scale first, then measure every picture "
                                  "against it"),
            experiment.Field("ladder", "flag", False, cli_only=True,
                             help="also measure the blend at 0, 0.25, 0.5, 0.75 and 1")),
    models=(experiment.Role("average", "average"),
            experiment.Role("sharp", "sharp", "--sharp-model", metavar="NAME|PATH",
                            help="the model trained to look real; its average-minded twin is the model it was "
                                 "trained from")),
    estimate=_seconds, run=_run, output="optional", endpoint=False, floor=("average",) * 3,
    advice="Try a smaller scale"))
