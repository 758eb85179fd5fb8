"""A whole picture (or a region of it) at a chosen size, by LIIF or by bicubic, in the input's own form.

    big = upscale_image(engine, loaded, 1920, 1080)          # a PIL image; greyscale and alpha kept
    baseline = bicubic_image(loaded, 1920, 1080)             # what LIIF is compared with

Only the RGB goes through LIIF; `imageio.compose_output` puts greyscale and alpha back. Sizes are not
checked here: callers decide with `sizes.output_size` and `sizes.check_output_size`.
"""

import numpy as np
from PIL import Image

from liif.render.engine import Upscaler
from liif.render.imageio import LoadedImage, compose_output, to_tensor, to_uint8
from liif.render.sizes import check_region


def upscale_image(upscaler: Upscaler, loaded: LoadedImage, out_w: int, out_h: int, progress=None,
                  region=None) -> Image.Image:
    """LIIF at out_w x out_h of the whole image, or of region = (x0, y0, x1, y1) in input pixels.

    `progress`, if given, is called with the fraction of output rows done.
    """
    image01 = to_tensor(loaded.rgb)
    if region is None:
        out = upscaler.render(image01, out_h, out_w, progress=progress)
        return compose_output(to_uint8(out), loaded)
    x0, y0, x1, y1 = check_region(region, loaded.width, loaded.height)
    out = upscaler.render_region(image01, (y0, x0, y1, x1), (out_h, out_w), progress=progress)
    return compose_output(to_uint8(out), loaded, box=(x0, y0, x1, y1))


def bicubic_image(loaded: LoadedImage, out_w: int, out_h: int, region=None) -> Image.Image:
    """The baseline LIIF is compared with: Pillow's bicubic resize, same greyscale and alpha handling."""
    box = None if region is None else check_region(region, loaded.width, loaded.height)
    rgb = Image.fromarray(loaded.rgb, "RGB").resize((out_w, out_h), Image.Resampling.BICUBIC, box=box)
    return compose_output(np.asarray(rgb), loaded, box=box)
