"""Reading photos the way people actually have them, and writing the results losslessly.

    loaded = load_image("photo.jpg")                  # LoadedImage: rgb uint8 (H, W, 3), alpha, notices
    out_w, out_h = sizes.output_size(loaded.width, loaded.height, scale=4)   # sizes: liif/render/sizes.py
    sizes.check_output_size(loaded.width, loaded.height, out_w, out_h)
    save_png(compose_output(rgb_out, loaded), "photo_x4.png")

The model sees 8-bit RGB only. Everything else a file can hold is handled here, once, for the CLI and
the app alike: EXIF rotation, greyscale, transparency (kept aside and resized separately), palettes,
CMYK, 16-bit samples, animations (first frame), a JPEG's quality. Every refusal is an `ImageInputError` with a one-sentence
message fit to show a user; nothing here lets a Pillow traceback through.
"""

import io
import os
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from liif import settings
from liif.core import degrade
from liif.core.fmt import megapixels, pixels_over_limit

# Defaults sized for a CPU (render time grows with output pixels); raise them on a GPU.
DEFAULT_MAX_INPUT_PIXELS = 2_000_000
DEFAULT_MAX_OUTPUT_PIXELS = 36_000_000

# Pillow can open more than these, but some of its other plugins shell out to external programs (EPS)
# or are rarely what a user meant. The MPO files many cameras and phones write open under "JPEG"; naming
# "MPO" here would break Image.open, which has no separate opener for it.
FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")
SUPPORTED_NAMES = "PNG, JPEG, WebP, BMP, TIFF, GIF"

EXIF_ORIENTATION = 0x0112


class ImageInputError(ValueError):
    """An input or size a user can fix; the message is one sentence meant for them.

    `cli_hint`, when given, is what a command-line user can add to fix it (a flag or an environment
    variable); the command line prints it after the message, the web page never shows it.
    """

    def __init__(self, message: str, cli_hint: str = ""):
        super().__init__(message)
        self.cli_hint = cli_hint

    def for_command_line(self) -> str:
        return f"{self}; {self.cli_hint}" if self.cli_hint else str(self)


@dataclass
class LoadedImage:
    rgb: np.ndarray  # (H, W, 3) uint8, what the model sees
    alpha: np.ndarray | None = None  # (H, W) uint8, or None when the image is opaque by format
    greyscale: bool = False  # written back as a single-channel image
    original_mode: str = "RGB"  # Pillow's mode before conversion, e.g. "I;16", "P", "CMYK"
    format: str = ""  # "PNG", "JPEG", ...; "" for arrays and images made in memory
    notices: list = field(default_factory=list)  # what was changed on the way in, for the user
    jpeg_quality: int | None = None  # a JPEG's quality, estimated from its quantisation tables (degrade.py)

    @property
    def width(self) -> int:
        return self.rgb.shape[1]

    @property
    def height(self) -> int:
        return self.rgb.shape[0]


# -- limits ---------------------------------------------------------------------------------------


def parse_pixels(value, what: str = "a pixel count") -> int:
    """2000000, "2_000_000" or "2e6" -> 2000000."""
    try:
        return settings.parse_count(value, what)
    except settings.SettingError as exc:
        raise ImageInputError(str(exc)) from None


def pixel_limit(value, read_setting, default: int) -> int:
    """An explicit limit, else the one `read_setting` finds in the environment (liif.settings), else `default`."""
    if value is not None:
        return parse_pixels(value, "the pixel limit")
    try:
        limit = read_setting()
    except settings.SettingError as exc:
        raise ImageInputError(str(exc)) from None
    return default if limit is None else limit


def max_input_pixels(value=None) -> int:
    return pixel_limit(value, settings.max_input_pixels, DEFAULT_MAX_INPUT_PIXELS)


def max_output_pixels(value=None) -> int:
    return pixel_limit(value, settings.max_output_pixels, DEFAULT_MAX_OUTPUT_PIXELS)


# -- reading --------------------------------------------------------------------------------------


def load_image(source, max_pixels=None, name=None) -> LoadedImage:
    """Read a path, bytes, binary file object, PIL image or numpy array into a `LoadedImage`.

    `max_pixels` (default: $LIIF_MAX_INPUT_PIXELS or 2 MP) is checked on the header, before decoding.
    Messages start with `name` (default: the file's name, or "the image"), so they read on their own.
    """
    limit = max_input_pixels(max_pixels)
    if isinstance(source, np.ndarray):
        return _from_array(source, limit, name or "the image")
    if isinstance(source, Image.Image):
        return _from_pil(source, name or "the image", limit)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = name or path.name or str(path)
        if not path.exists():
            raise ImageInputError(f"{name}: no such file")
        if path.is_dir():
            raise ImageInputError(f"{name} is a folder, not an image")
        if not path.is_file():  # a device (/dev/zero), a FIFO, a socket: reading it may never end
            raise ImageInputError(f"{name} is not a regular file (a device or a pipe), not an image")
        if path.stat().st_size == 0:
            raise ImageInputError(f"{name} is empty (0 bytes)")
        try:
            with open(path, "rb") as f:  # read-only: the source is never touched
                return _from_stream(f, name, limit)
        except PermissionError:
            raise ImageInputError(f"{name} cannot be read (permission denied)") from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = name or "the image"
        if len(source) == 0:
            raise ImageInputError(f"{name} is empty (0 bytes)")
        return _from_stream(io.BytesIO(bytes(source)), name, limit)
    if hasattr(source, "read"):
        name = name or Path(str(getattr(source, "name", "") or "the image")).name
        return _from_stream(source, name, limit)
    raise ImageInputError(f"cannot read an image from a {type(source).__name__}")


def image_size(path, max_pixels=None, name=None) -> tuple:
    """(width, height) of an image file as `load_image` would give them (EXIF rotation applied), from its
    header alone: for the page's instant answers (the slider, the estimate), which must not decode a
    picture on every change of a control. Raises ImageInputError like `load_image`."""
    path = Path(path)
    name = name or path.name or str(path)
    if not path.is_file():
        raise ImageInputError(f"{name}: no such file")
    limit = max_input_pixels(max_pixels)
    with open(path, "rb") as f, _open_header(f, name) as im:
        w, h = im.size
        _check_input_size(name, w, h, limit)
        try:
            orientation = im.getexif().get(EXIF_ORIENTATION, 1)
        except Exception:  # a damaged EXIF block: load_image will say what is wrong
            orientation = 1
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def check_header(data: bytes, max_pixels=None, name: str = "the image") -> tuple:
    """(format, width, height) of an encoded image, read from its header alone: the format list and the
    size limit are checked before a single pixel is decoded (a bomb is refused in milliseconds).
    Raises ImageInputError with the same sentences as `load_image`."""
    if len(data) == 0:
        raise ImageInputError(f"{name} is empty (0 bytes)")
    limit = max_input_pixels(max_pixels)
    with _open_header(io.BytesIO(bytes(data)), name) as im:
        _check_input_size(name, *im.size, limit)
        return im.format, *im.size


@contextmanager
def _open_header(fp, name: str):
    """Pillow's lazy open (the header only), its failures as sentences. The bomb warning is made an error
    inside: Pillow warns (rather than refuses) between 1x and 2x its bomb limit; both are refusals here."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(fp, formats=FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageInputError(f"{name} declares a size too large to decode safely ({_bomb_size(exc)}); "
                                  "it may be a decompression bomb") from None
        except UnidentifiedImageError:
            raise ImageInputError(f"{name} is not an image this program reads "
                                  f"(supported: {SUPPORTED_NAMES})") from None
        except Exception:  # damaged headers make Pillow raise OSError, SyntaxError, struct.error...
            raise ImageInputError(f"{name} could not be read (truncated or corrupt file)") from None
        with im:
            yield im


def _from_stream(fp, name: str, limit: int) -> LoadedImage:
    with _open_header(fp, name) as im:
        return _from_pil(im, name, limit)


def _bomb_size(exc) -> str:
    # Pillow's message is "Image size (N pixels) exceeds limit of M pixels, ..."
    words = str(exc).split()
    for i, word in enumerate(words[:-1]):
        if word.startswith("(") and words[i + 1].startswith("pixels"):
            try:
                return megapixels(int(word[1:]))
            except ValueError:
                break
    return "many megapixels"


def _check_input_size(name: str, w: int, h: int, limit: int) -> None:
    if w == 0 or h == 0:
        raise ImageInputError(f"{name} has no pixels ({w}×{h})")
    if w * h > limit:
        said, said_limit = pixels_over_limit(w * h, limit)
        raise ImageInputError(
            f"{name} is {w}×{h} = {said}; the limit here is {said_limit}; shrink the image first",
            cli_hint=f"or raise the limit with --max-input-pixels or the {settings.MAX_INPUT_PIXELS} environment variable")


def _from_pil(im: Image.Image, name: str, limit: int) -> LoadedImage:
    w, h = im.size
    _check_input_size(name, w, h, limit)
    notices = []
    original_mode, fmt = im.mode, im.format or ""
    # From the header's tables, before an EXIF rotation makes a new image without them.
    quality = degrade.estimate_quality(getattr(im, "quantization", None)) if fmt == "JPEG" else None
    sixteen_bit = _has_16bit_samples(im)  # only visible before decoding: Pillow reduces RGB itself
    try:
        if getattr(im, "is_animated", False) or getattr(im, "n_frames", 1) > 1:  # reads past frame 1
            notices.append("multi-page TIFF: first page used" if fmt == "TIFF" else
                           f"animated {fmt or 'image'}: first frame used")
            im.seek(0)
        im.load()  # a full decode: truncation and corruption surface here, not halfway through a render
        orientation = im.getexif().get(EXIF_ORIENTATION, 1)
        if orientation not in (1, None):
            im = ImageOps.exif_transpose(im)
            notices.append("EXIF orientation applied")
    except Exception:  # Pillow's parsers raise many types on damaged data (OSError, IndexError, struct.error...)
        raise ImageInputError(f"{name} could not be decoded (truncated or corrupt file)") from None
    if sixteen_bit:
        notices.append("16-bit image reduced to 8-bit")
    rgb, alpha, greyscale = _split_channels(im, notices)
    return LoadedImage(rgb, alpha, greyscale, original_mode, fmt, notices=notices, jpeg_quality=quality)


def _has_16bit_samples(im: Image.Image) -> bool:
    if im.mode.startswith("I;16"):
        return True
    for tile in getattr(im, "tile", None) or []:
        args = tile[3]
        rawmode = args[0] if isinstance(args, tuple) and args else args
        if isinstance(rawmode, str) and ";16" in rawmode:
            return True
    return False


def _split_channels(im: Image.Image, notices: list):
    """-> (rgb uint8 HxWx3, alpha uint8 HxW or None, greyscale) for any Pillow mode."""
    mode = im.mode
    has_key_colour = "transparency" in im.info  # palette or single-colour transparency (tRNS)
    if mode in ("1", "L") and not has_key_colour:
        return _grey(np.asarray(im.convert("L"))), None, True
    if mode in ("1", "L", "LA", "La"):
        la = np.asarray(im.convert("LA"))
        return _grey(la[..., 0]), la[..., 1].copy(), True
    if mode.startswith("I") or mode == "F":
        return _grey(_wide_to_uint8(np.asarray(im), mode, notices)), None, True
    if mode == "CMYK":
        notices.append("CMYK converted to RGB")
        return np.asarray(im.convert("RGB")).copy(), None, False
    if mode in ("RGBA", "RGBa", "PA") or (mode in ("P", "RGB") and has_key_colour):
        rgba = np.asarray(im.convert("RGBA"))
        return rgba[..., :3].copy(), rgba[..., 3].copy(), False
    return np.asarray(im.convert("RGB")).copy(), None, False


def _wide_to_uint8(a: np.ndarray, mode: str, notices: list) -> np.ndarray:
    if mode == "F":
        a = a.astype(np.float64)
        finite = a[np.isfinite(a)]
        if finite.size == 0:  # all NaN or infinite: nothing to stretch (and numpy would warn on stderr)
            notices.append("floating-point image without a finite sample: shown as black")
            return np.zeros(a.shape, np.uint8)
        lo, hi = float(finite.min()), float(finite.max())
        if lo >= 0 and hi <= 1:
            return np.round(np.clip(np.nan_to_num(a), 0, 1) * 255).astype(np.uint8)
        notices.append(f"floating-point image stretched from [{lo:.4g}, {hi:.4g}] to 8-bit")
        span = hi - lo if hi > lo else 1.0
        return np.round(np.clip(np.nan_to_num((a - lo) / span), 0, 1) * 255).astype(np.uint8)
    # "I;16*" and "I": what files hold in these modes are 16-bit samples (PNG, TIFF); scale, not clip.
    return np.round(np.clip(a.astype(np.float64), 0, 65535) / 257).astype(np.uint8)


def _grey(lum: np.ndarray) -> np.ndarray:
    return np.repeat(lum[..., None], 3, axis=2)


def _from_array(a: np.ndarray, limit: int, name: str) -> LoadedImage:
    """uint8/uint16/bool/float (in [0, 1]) arrays of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)."""
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ImageInputError(f"{name} has array shape {a.shape}; expected (H, W), (H, W, 3) or (H, W, 4)")
    h, w = a.shape[:2]
    _check_input_size(name, w, h, limit)
    notices = []
    if a.dtype == np.uint8:
        a8 = a
    elif a.dtype == np.bool_:
        a8 = a.astype(np.uint8) * 255
    elif a.dtype == np.uint16:
        a8 = np.round(a / 257).astype(np.uint8)
        notices.append("16-bit image reduced to 8-bit")
    elif np.issubdtype(a.dtype, np.floating):
        a8 = np.round(np.clip(np.nan_to_num(a), 0, 1) * 255).astype(np.uint8)
    else:
        raise ImageInputError(f"{name} has array type {a.dtype}; expected uint8, uint16 or float in [0, 1]")
    if a8.ndim == 2:
        return LoadedImage(_grey(a8), None, True, "L", "", notices)
    rgb = np.ascontiguousarray(a8[..., :3])
    alpha = np.ascontiguousarray(a8[..., 3]) if a8.shape[2] == 4 else None
    return LoadedImage(rgb, alpha, False, "RGBA" if alpha is not None else "RGB", "", notices)


# -- between numpy and the model -----------------------------------------------------------------


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, H, W) float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).unsqueeze(0).float().div_(255)


def to_uint8(t: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) in [0, 1] -> (H, W, 3) uint8, rounded and clamped."""
    return t[0].detach().float().mul(255).round_().clamp_(0, 255).to("cpu", torch.uint8).permute(1, 2, 0).numpy()


# -- writing --------------------------------------------------------------------------------------


def compose_output(rgb_out: np.ndarray, loaded: LoadedImage, box=None) -> Image.Image:
    """The model's RGB output in the input's form: 'L' for greyscale, alpha re-attached.

    The alpha channel is resized with bicubic interpolation to the output size; `box` = (x0, y0, x1, y1)
    in input pixels takes it from that region only (for region renders).
    """
    out = Image.fromarray(np.ascontiguousarray(rgb_out), "RGB")
    if loaded.greyscale:
        out = out.convert("L")
    if loaded.alpha is None:
        return out
    alpha = Image.fromarray(loaded.alpha, "L").resize(out.size, Image.Resampling.BICUBIC, box=box)
    out.putalpha(alpha)  # L -> LA, RGB -> RGBA
    return out


def save_png(image: Image.Image, path) -> Path:
    """Write a lossless PNG, creating parent folders. The file appears whole or not at all: it is written
    to a temporary name in the same folder and renamed over the target, so a full disk or a crash never
    leaves a truncated PNG in place of a good earlier one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, format="PNG")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes it private; a saved picture is not
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def check_writable_folder(folder, what: str) -> None:
    """Refuse, before any work, a folder that cannot hold an output: raises ImageInputError."""
    folder = Path(folder)
    existing = next((p for p in [folder, *folder.parents] if p.exists()), None)
    if folder.exists() and not folder.is_dir():
        raise ImageInputError(f"{what} {folder} is a file, not a folder")
    if existing is None or not existing.is_dir():
        raise ImageInputError(f"{what} {folder} cannot be made: {existing} is not a folder")
    try:  # the only sure test (os.access says yes to root on a read-only mount): write a file there
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise ImageInputError(f"{what} {folder} is not writable: {exc.strerror or exc}") from None


_UMASK = os.umask(0)  # read once, at import: os.umask cannot be read without setting it,
os.umask(_UMASK)  # so it is set back at once
