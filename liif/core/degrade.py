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


# The luminance table of the JPEG standard (Annex K), which libjpeg (and so Pillow, browsers and most
# cameras' software) scales by the quality setting; in natural (row by row) order.
STANDARD_LUMA_TABLE = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99])


def luma_table_for_quality(quality: int) -> np.ndarray:
    """libjpeg's luminance table at this quality (1..100), in natural order."""
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    return np.clip((STANDARD_LUMA_TABLE * scale + 50) // 100, 1, 255)


def estimate_quality(quantization: dict | None) -> int | None:
    """The quality (1..100) whose libjpeg luminance table is closest to a JPEG file's own (Pillow's
    `image.quantization`, table 0 in natural order), or None without tables. Exact for files written with
    libjpeg's scaled tables; for other encoders, the nearest such quality."""
    if not quantization or 0 not in quantization or len(quantization[0]) != 64:
        return None
    table = np.asarray(quantization[0], dtype=np.float64)
    errors = [np.abs(np.log(luma_table_for_quality(q)) - np.log(table)).mean() for q in range(1, 101)]
    return int(np.argmin(errors)) + 1
