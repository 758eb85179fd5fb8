"""What a photo found on the web went through before it reached the upscaler: JPEG compression.

One function, used both to measure (`python -m liif eval --jpeg-quality Q`) and to train on compressed
inputs (`python -m liif train --jpeg-quality 30-95`), so the model trains on exactly the artefacts it
is measured on.
"""

import io

import numpy as np
from PIL import Image


def jpeg_roundtrip(rgb: np.ndarray, quality: int) -> np.ndarray:
    """(H, W, 3) uint8 as a JPEG of this quality gives it back (Pillow's encoder, 4:2:0 chroma, the
    default of most cameras and web sites)."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=int(quality))
    buffer.seek(0)
    with Image.open(buffer) as image:
        return np.asarray(image.convert("RGB"))


def parse_quality_range(text: str) -> tuple:
    """'30-95' -> (30, 95); '75' -> (75, 75); '' -> () (no compression). Qualities are 1..95 (Pillow's
    advice: above 95 the files grow and nothing is gained)."""
    text = str(text or "").strip()
    if not text:
        return ()
    low, _, high = text.partition("-")
    try:
        lo, hi = int(low), int(high or low)
    except ValueError:
        raise ValueError(f"JPEG quality {text!r}: give a quality or a range, e.g. 75 or 30-95") from None
    if not 1 <= lo <= hi <= 95:
        raise ValueError(f"JPEG quality {text!r}: qualities go from 1 to 95, the lower one first")
    return lo, hi
