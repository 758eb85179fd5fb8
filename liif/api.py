"""The Python API that the command line and the web page both use.

    from liif.api import upscale_file
    upscale_file("photo.jpg", "photo_x3.png", scale=3)      # load the model, upscale, save a PNG

    from liif.api import upscale_image, bicubic_image       # or keep one engine for many images
    from liif.render.engine import Upscaler
    from liif.render.imageio import load_image
    from liif.core.weights import load_model
    engine = Upscaler(load_model())
    loaded = load_image("photo.jpg")
    big = upscale_image(engine, loaded, 1920, 1080)         # a PIL image; greyscale and alpha kept
    baseline = bicubic_image(loaded, 1920, 1080)

Only the RGB goes through LIIF; `imageio.compose_output` puts greyscale and alpha back. Sizes are not
checked here: callers decide with `sizes.output_size` and `sizes.check_output_size`.
"""

import functools
from pathlib import Path

from PIL import Image

from liif.core.weights import LoadedModel, WeightsError, load_model, load_weights, resolve_weights
from liif.render.engine import Upscaler
from liif.render.imageio import ImageInputError, LoadedImage, load_image, save_png
from liif.render.sizes import check_output_size, check_region, output_size
from liif.render.upscale import bicubic_image, upscale_image

__all__ = ["ImageInputError", "LoadedImage", "LoadedModel", "Upscaler", "WeightsError", "bicubic_image", "load_image",
           "load_model", "load_weights", "upscale_file", "upscale_image"]


def upscale_file(path, out_path=None, scale=None, size=None, width=None, height=None, model_path=None,
                 device="auto", precision="auto", region=None, max_input_pixels=None,
                 max_output_pixels=None) -> Image.Image:
    """Load `path`, upscale it (give one of scale, size=(W, H) or "WxH", width, height), save a PNG to
    `out_path` if given, and return the image.

    Bad input raises `imageio.ImageInputError`; missing or broken weights raise `weights.WeightsError`.
    The last model used stays loaded, so a loop over files pays for it once.
    """
    loaded = load_image(path, max_pixels=max_input_pixels)
    if region is not None:
        x0, y0, x1, y1 = check_region(region, loaded.width, loaded.height)
        in_w, in_h, what = x1 - x0, y1 - y0, "region"
    else:
        in_w, in_h, what = loaded.width, loaded.height, "image"
    out_w, out_h = output_size(in_w, in_h, scale=scale, size=size, width=width, height=height)
    check_output_size(in_w, in_h, out_w, out_h, max_pixels=max_output_pixels, what=what)
    model_path = resolve_weights(model_path).resolve()
    version = model_path.stat().st_mtime_ns if model_path.is_file() else 0  # a retrained file reloads
    upscaler = _cached_upscaler(model_path, version, device, precision)
    image = upscale_image(upscaler, loaded, out_w, out_h, region=region)
    if out_path is not None:
        save_png(image, out_path)
    return image


@functools.lru_cache(maxsize=1)
def _cached_upscaler(model_path: Path, version: int, device: str, precision: str) -> Upscaler:
    return Upscaler(load_weights(model_path), device=device, precision=precision)
