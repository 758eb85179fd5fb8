"""A whole experiment in one module, as docs/architecture.md's "Add an experiment" shows: its spec,
registered, is all the CLI, the API and the page need (tests/test_experiment_spec.py holds that).

It renders the picture at a scale and says how much brighter the render is than bicubic: nothing to
learn from, everything a real experiment has (a picture, a number, an estimate, a file, a sentence)."""

import numpy as np
from PIL import Image

from liif.lessons import experiment
from liif.render import imageio
from liif.render.upscale import bicubic_image


def estimate(speeds, values) -> float:
    width, height = experiment.picture_size(values["picture"])
    scale = float(values["scale"])
    return speeds["model"].seconds(width * height, width * height * scale * scale)


def run(models, values, progress=None, out_path=None, speeds=None, max_seconds=None) -> experiment.Outcome:
    _, upscaler = models["model"]  # (its label, its engine): the visitor's model, the one role by default
    loaded = experiment.loaded_picture(values["picture"])
    scale = float(values["scale"])
    size = (round(loaded.height * scale), round(loaded.width * scale))
    liif = imageio.to_uint8(upscaler.render_region(imageio.to_tensor(loaded.rgb), (0, 0, loaded.height, loaded.width), size))
    bicubic = np.asarray(bicubic_image(loaded, size[1], size[0]).convert("RGB"))
    brighter = float(liif.astype(np.float64).mean() - bicubic.astype(np.float64).mean())
    if out_path is not None:
        imageio.save_png(Image.fromarray(np.concatenate([bicubic, liif], axis=1)), out_path)
    words = f"The LIIF render is {abs(brighter):.2f} levels {'brighter' if brighter >= 0 else 'darker'} than bicubic."
    return experiment.Outcome({"scale": scale, "brighter_levels": brighter}, words, [(liif, "LIIF")], out_path)


EXPERIMENT = experiment.Experiment(
    "brightness", "A toy step", "a brightness check", help="how much brighter LIIF draws than bicubic",
    description="Render the picture with LIIF and bicubic at a scale and compare their mean brightness.",
    inputs=(experiment.Field("picture", "picture"), experiment.Field("scale", "float", 2.0, help="the scale")),
    estimate=estimate, run=run)
