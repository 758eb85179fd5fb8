"""Image input and output: every format and mode people actually have, every way a file can be bad,
and the size rules. All images are made here with Pillow, a few pixels each."""

import hashlib
import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

from liif.render.imageio import (
    DEFAULT_MAX_INPUT_PIXELS,
    ImageInputError,
    compose_output,
    load_image,
    save_png,
    to_tensor,
    to_uint8,
)
from liif.render.sizes import check_output_size, output_size

RNG = np.random.default_rng(0)
NOISE = RNG.integers(0, 256, (12, 16, 3), dtype=np.uint8)  # 16 wide, 12 high
# For lossy formats: JPEG keeps gradients, not noise.
SMOOTH = np.stack([*np.meshgrid(np.linspace(0, 255, 16), np.linspace(0, 255, 12)), np.full((12, 16), 90.0)],
                  axis=2).astype(np.uint8)


def saved(tmp_path, image: Image.Image, name: str, **options):
    path = tmp_path / name
    image.save(path, **options)
    return path


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height but holds one tiny IDAT: enough for size checks, which must
    refuse it before decoding."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


# -- formats -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, options, lossless", [
    ("a.png", {}, True),
    ("a.bmp", {}, True),
    ("a.tiff", {}, True),
    ("a.webp", {"lossless": True}, True),
    ("a.jpg", {"quality": 95}, False),
])
def test_rgb_formats(tmp_path, name, options, lossless):
    picture = NOISE if lossless else SMOOTH
    loaded = load_image(saved(tmp_path, Image.fromarray(picture), name, **options))
    assert (loaded.width, loaded.height) == (16, 12)
    assert loaded.rgb.shape == (12, 16, 3) and loaded.rgb.dtype == np.uint8
    assert loaded.alpha is None and not loaded.greyscale
    if lossless:
        np.testing.assert_array_equal(loaded.rgb, picture)
    else:  # not exact, but the same picture: not blank, shifted or with its channels swapped
        assert np.abs(loaded.rgb.astype(int) - picture).mean() < 4


def test_animated_gif_uses_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 6), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    loaded = load_image(path)
    assert (loaded.width, loaded.height) == (8, 6)
    np.testing.assert_array_equal(loaded.rgb[0, 0], [255, 0, 0])
    assert any("first frame" in notice for notice in loaded.notices)


def test_exif_orientation_is_applied(tmp_path):
    left_red_right_blue = np.zeros((10, 20, 3), np.uint8)
    left_red_right_blue[:, :10] = (255, 0, 0)
    left_red_right_blue[:, 10:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = saved(tmp_path, Image.fromarray(left_red_right_blue), "phone.jpg", exif=exif, quality=95)
    loaded = load_image(path)
    assert (loaded.width, loaded.height) == (10, 20)
    # Turned clockwise, the left (red) half ends up on top.
    assert loaded.rgb[2, 5, 0] > 200 and loaded.rgb[2, 5, 2] < 60
    assert loaded.rgb[17, 5, 2] > 200 and loaded.rgb[17, 5, 0] < 60
    assert any("EXIF orientation" in notice for notice in loaded.notices)


def test_rgba_keeps_alpha_separately(tmp_path):
    rgba = np.concatenate([NOISE, RNG.integers(0, 256, (12, 16, 1), dtype=np.uint8)], axis=2)
    loaded = load_image(saved(tmp_path, Image.fromarray(rgba, "RGBA"), "rgba.png"))
    np.testing.assert_array_equal(loaded.rgb, NOISE)
    np.testing.assert_array_equal(loaded.alpha, rgba[:, :, 3])
    assert not loaded.greyscale


def test_grey_with_alpha(tmp_path):
    la = np.stack([NOISE[:, :, 0], NOISE[:, :, 1]], axis=2)
    loaded = load_image(saved(tmp_path, Image.fromarray(la, "LA"), "la.png"))
    assert loaded.greyscale
    np.testing.assert_array_equal(loaded.rgb[:, :, 2], la[:, :, 0])
    np.testing.assert_array_equal(loaded.alpha, la[:, :, 1])


def test_palette_with_transparency(tmp_path):
    index = np.zeros((6, 8), np.uint8)
    index[:, 4:] = 1
    image = Image.fromarray(index, "P")
    image.putpalette([0, 0, 0, 200, 30, 40] + [0] * 762)
    path = saved(tmp_path, image, "palette.png", transparency=0)
    loaded = load_image(path)
    assert loaded.alpha is not None
    assert (loaded.alpha[:, :4] == 0).all() and (loaded.alpha[:, 4:] == 255).all()
    np.testing.assert_array_equal(loaded.rgb[0, 6], [200, 30, 40])


def test_palette_without_transparency_is_opaque_rgb(tmp_path):
    image = Image.fromarray(NOISE).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    loaded = load_image(saved(tmp_path, image, "palette.png"))
    assert loaded.alpha is None and not loaded.greyscale
    np.testing.assert_array_equal(loaded.rgb, np.asarray(image.convert("RGB")))


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    path = saved(tmp_path, Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "cmyk.jpg", quality=95)
    loaded = load_image(path)
    red, green, blue = loaded.rgb[4, 4].astype(int)
    assert red > 200 and green < 60 and blue < 60
    assert loaded.original_mode == "CMYK"
    assert any("CMYK" in notice for notice in loaded.notices)


def test_16bit_png_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257, 1000, 32896, 65535, 65000]], dtype=np.uint16)
    path = saved(tmp_path, Image.fromarray(values), "deep.png")
    assert Image.open(path).mode.startswith("I")  # really a 16-bit file
    loaded = load_image(path)
    assert loaded.greyscale
    # round(v / 257): 65535 -> 255 exactly; clipping at 255 would make all but the first two white.
    np.testing.assert_array_equal(loaded.rgb[0, :, 0], [0, 1, 4, 128, 255, 253])
    assert any("16-bit" in notice for notice in loaded.notices)


def test_greyscale_is_flagged_and_written_back_as_grey(tmp_path):
    grey = NOISE[:, :, 0]
    loaded = load_image(saved(tmp_path, Image.fromarray(grey, "L"), "grey.png"))
    assert loaded.greyscale and loaded.alpha is None
    for channel in range(3):
        np.testing.assert_array_equal(loaded.rgb[:, :, channel], grey)
    out = compose_output(loaded.rgb, loaded)
    assert out.mode == "L"
    np.testing.assert_array_equal(np.asarray(out), grey)


def test_one_pixel_image_is_valid(tmp_path):
    loaded = load_image(saved(tmp_path, Image.new("RGB", (1, 1), (9, 8, 7)), "dot.png"))
    assert (loaded.width, loaded.height) == (1, 1)
    np.testing.assert_array_equal(loaded.rgb[0, 0], [9, 8, 7])


def test_other_sources_bytes_file_object_pil_and_numpy(tmp_path):
    path = saved(tmp_path, Image.fromarray(NOISE), "a.png")
    data = path.read_bytes()
    for source in (data, io.BytesIO(data), Image.open(path), NOISE):
        np.testing.assert_array_equal(load_image(source).rgb, NOISE)
    grey = load_image(NOISE[:, :, 0])
    assert grey.greyscale and grey.rgb.shape == (12, 16, 3)
    rgba = load_image(np.dstack([NOISE, np.full((12, 16), 128, np.uint8)]))
    assert (rgba.alpha == 128).all()


def test_loading_never_changes_the_file(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    paths = [saved(tmp_path, Image.fromarray(NOISE), "a.jpg", exif=exif),
             saved(tmp_path, Image.fromarray(NOISE).convert("RGBA"), "a.png")]
    for path in paths:
        before = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        load_image(path)
        assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before


# -- bad input ---------------------------------------------------------------------------------------


def test_text_file_is_refused(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not a picture\n")
    with pytest.raises(ImageInputError, match="PNG, JPEG"):
        load_image(path)


def test_truncated_png_is_refused(tmp_path):
    whole = saved(tmp_path, Image.fromarray(RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)), "whole.png")
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(ImageInputError, match="truncated|corrupt"):
        load_image(cut)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_truncated_jpeg_is_refused(tmp_path):
    whole = saved(tmp_path, Image.fromarray(RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)), "whole.jpg")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(ImageInputError, match="truncated|corrupt"):
        load_image(cut)


def test_truncated_animated_gif_is_refused(tmp_path):
    """Cut inside the second frame: Pillow counts frames by reading past the first and fails with an
    IndexError there, which must become a refusal, not a traceback."""
    rng = np.random.default_rng(5)
    frames = [Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)) for _ in range(2)]
    whole = tmp_path / "whole.gif"
    frames[0].save(whole, save_all=True, append_images=frames[1:], duration=50)
    cut = tmp_path / "cut.gif"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.7)])
    with pytest.raises(ImageInputError, match="truncated|corrupt"):
        load_image(cut)


def test_empty_and_missing_files_are_refused(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageInputError, match="empty"):
        load_image(empty)
    with pytest.raises(ImageInputError, match="no such file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageInputError, match="folder"):
        load_image(tmp_path)
    with pytest.raises(ImageInputError, match="no pixels"):
        load_image(np.zeros((0, 5, 3), np.uint8))


def test_input_over_the_limit_is_refused_before_decoding():
    with pytest.raises(ImageInputError) as caught:
        load_image(png_header_only(4000, 3000))  # its pixel data is missing: a decode would fail differently
    message = caught.value.for_command_line()
    assert 4000 * 3000 > DEFAULT_MAX_INPUT_PIXELS
    for part in ("4000×3000", "12", "MP", "--max-input-pixels", "LIIF_MAX_INPUT_PIXELS"):
        assert part in message
    assert "\n" not in message
    assert "--" not in str(caught.value) and "LIIF_" not in str(caught.value)  # the page's words: no flags


def test_input_limit_from_argument_and_environment(monkeypatch):
    small = np.zeros((20, 20, 3), np.uint8)
    with pytest.raises(ImageInputError, match="20×20"):
        load_image(small, max_pixels=399)
    assert load_image(small, max_pixels=400).width == 20
    monkeypatch.setenv("LIIF_MAX_INPUT_PIXELS", "100")
    with pytest.raises(ImageInputError, match="20×20"):
        load_image(small)
    monkeypatch.setenv("LIIF_MAX_INPUT_PIXELS", "lots")
    with pytest.raises(ImageInputError, match="LIIF_MAX_INPUT_PIXELS"):
        load_image(small)


@pytest.mark.parametrize("side", [10_000, 20_000])  # Pillow warns at 89 MP and refuses at twice that
def test_decompression_bomb_is_refused(side):
    with pytest.raises(ImageInputError, match="bomb"):
        load_image(png_header_only(side, side), max_pixels=10**12)


# -- sizes -------------------------------------------------------------------------------------------


def test_output_size_ways():
    assert output_size(3, 5, scale=2.5) == (8, 13)  # 7.5 and 12.5 round half up
    assert output_size(100, 50, width=33) == (33, 17)
    assert output_size(100, 50, height=7) == (14, 7)
    assert output_size(100, 50, size=(640, 480)) == (640, 480)
    assert output_size(100, 50, size="640x480") == (640, 480)
    assert output_size(10, 10, scale=0.01) == (1, 1)
    assert output_size(8.5, 6.0, scale=4) == (34, 24)  # a fractional region


@pytest.mark.parametrize("kwargs", [
    {}, {"scale": 2, "width": 10}, {"scale": 0}, {"scale": -1}, {"scale": float("nan")}, {"scale": "big"},
    {"size": "12by4"}, {"size": "0x10"}, {"width": 0}, {"width": 2.5}, {"height": -3},
])
def test_output_size_refusals(kwargs):
    with pytest.raises(ImageInputError):
        output_size(100, 50, **kwargs)


@pytest.mark.parametrize("kwargs", [
    {"scale": 1e308}, {"scale": "1e308"}, {"scale": float("inf")}, {"scale": 10**400},
    {"width": 10**300}, {"height": "9" * 300}, {"size": "9" * 300 + "x5"}, {"width": 1e308},
])
def test_absurd_sizes_are_sentences_not_overflow_errors(kwargs):
    """Numbers too large to compute with (1e308, hundreds of digits) used to raise OverflowError."""
    with pytest.raises(ImageInputError) as caught:
        output_size(100, 50, **kwargs)
    assert len(str(caught.value)) < 200  # a sentence, not the number's hundreds of digits


def test_devices_and_pipes_are_not_read(tmp_path):
    """/dev/zero would be read forever, a FIFO would block; both were called "empty (0 bytes)"."""
    import os

    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        with pytest.raises(ImageInputError, match="not a regular file"):
            load_image(path)


def test_all_nan_float_tiff_is_black_without_warnings(tmp_path, recwarn):
    path = tmp_path / "nan.tiff"
    Image.fromarray(np.full((4, 5), np.nan, np.float32), "F").save(path)
    loaded = load_image(path)
    assert loaded.rgb.max() == 0 and any("finite" in notice for notice in loaded.notices)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_check_output_size_messages(monkeypatch):
    check_output_size(512, 512, 2048, 2048)  # x4: well within the default
    with pytest.raises(ImageInputError) as caught:
        check_output_size(512, 512, 15360, 15360)
    message = caught.value.for_command_line()
    for part in ("x30", "512×512", "15360×15360", "236 MP", "36 MP", "--max-output-pixels",
                 "LIIF_MAX_OUTPUT_PIXELS", "region"):
        assert part in message, (part, message)
    assert "--" not in str(caught.value) and "LIIF_" not in str(caught.value)  # the page's words: no flags
    check_output_size(512, 512, 15360, 15360, max_pixels=300_000_000)
    with pytest.raises(ImageInputError, match="1×1"):
        check_output_size(512, 512, 0, 10)
    monkeypatch.setenv("LIIF_MAX_OUTPUT_PIXELS", "1000")
    with pytest.raises(ImageInputError, match="MP"):
        check_output_size(10, 10, 40, 40)


# -- tensors and output ------------------------------------------------------------------------------


def test_tensor_round_trip():
    t = to_tensor(NOISE)
    assert t.shape == (1, 3, 12, 16) and t.dtype == torch.float32
    assert 0 <= t.min() and t.max() <= 1
    np.testing.assert_array_equal(to_uint8(t), NOISE)
    wild = torch.tensor([-0.5, 0.0, 0.499 / 255, 0.501 / 255, 1.0, 7.0]).view(1, 1, 1, 6).expand(1, 3, 1, 6)
    np.testing.assert_array_equal(to_uint8(wild)[0, :, 0], [0, 0, 0, 1, 255, 255])


def test_compose_output_resizes_alpha(tmp_path):
    rgba = np.dstack([NOISE, np.full((12, 16), 255, np.uint8)])
    rgba[:, :8, 3] = 0  # left half transparent
    loaded = load_image(Image.fromarray(rgba, "RGBA"))
    big = np.zeros((36, 48, 3), np.uint8)
    out = compose_output(big, loaded)
    assert out.mode == "RGBA" and out.size == (48, 36)
    alpha = np.asarray(out)[:, :, 3]
    assert (alpha[:, :20] == 0).all() and (alpha[:, 28:] == 255).all()
    right_part = compose_output(big, loaded, box=(10, 0, 16, 12))  # a region render inside the opaque half
    assert (np.asarray(right_part)[:, :, 3] == 255).all()
    la = load_image(Image.fromarray(rgba[:, :, [0, 3]], "LA"))
    assert compose_output(big, la).mode == "LA"


def test_save_png_never_leaves_a_truncated_file(tmp_path, monkeypatch):
    """A full disk halfway through a write used to replace a good PNG with a truncated one."""
    import errno

    target = save_png(Image.new("RGB", (8, 8), (10, 20, 30)), tmp_path / "out.png")
    good = target.read_bytes()

    def disk_full(self, fp, format=None, **params):
        fp.write(b"\x89PNG\r\n\x1a\n half a picture")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", disk_full)
    with pytest.raises(OSError):
        save_png(Image.new("RGB", (8, 8)), target)
    assert target.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temporary file left behind


def test_save_png_is_lossless_and_makes_folders(tmp_path):
    image = Image.fromarray(np.dstack([NOISE, NOISE[:, :, :1]]), "RGBA")
    path = save_png(image, tmp_path / "new" / "deeper" / "out.png")
    with Image.open(path) as back:
        assert back.format == "PNG" and back.mode == "RGBA"
        np.testing.assert_array_equal(np.asarray(back), np.asarray(image))


def test_a_size_just_over_the_limit_says_the_pixel_counts_not_2_mp_against_2_mp():
    """1415×1415 is 2,002,225 pixels: "2 MP; the limit here is 2 MP" would read as a contradiction."""
    from liif.render.sizes import check_output_size

    with pytest.raises(ImageInputError) as caught:
        load_image(png_header_only(1415, 1415))
    assert "2,002,225 pixels" in str(caught.value) and "2,000,000 pixels" in str(caught.value)
    with pytest.raises(ImageInputError) as caught:
        check_output_size(64, 64, 1415, 1415, max_pixels=2_000_000)
    assert "2,002,225 pixels" in str(caught.value) and "the limit here is 2 MP (2,000,000 pixels)" in str(caught.value)
    with pytest.raises(ImageInputError) as caught:  # far over: megapixels say it plainly
        load_image(png_header_only(4000, 3000))
    assert "pixels)" not in str(caught.value)


def test_image_size_reads_the_header_alone_and_applies_exif_rotation(tmp_path, monkeypatch):
    """The slider and the estimate answer every change of a control, unqueued: they must not decode."""
    from PIL import Image as PILImage

    from liif.render import imageio as io_

    rotated = tmp_path / "rotated.jpg"
    exif = PILImage.Exif()
    exif[0x0112] = 6  # rotate 90 degrees: a 40x30 file shows as 30x40
    PILImage.new("RGB", (40, 30), (10, 20, 30)).save(rotated, exif=exif)
    assert io_.image_size(rotated) == (30, 40) == io_.load_image(rotated).rgb.shape[1::-1]
    decoded = []
    monkeypatch.setattr(PILImage.Image, "load", lambda self: decoded.append(1))
    assert io_.image_size(rotated) == (30, 40) and not decoded
    with pytest.raises(io_.ImageInputError, match="the limit here"):
        io_.image_size(rotated, max_pixels=1000)


@pytest.mark.parametrize("quality", [30, 50, 70, 95])
def test_a_jpeg_says_its_quality_from_its_tables(quality):
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(quality).integers(0, 256, (24, 40, 3), dtype=np.uint8)).save(
        buffer, format="JPEG", quality=quality)
    assert load_image(buffer.getvalue()).jpeg_quality == quality
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    assert load_image(buffer.getvalue()).jpeg_quality is None
