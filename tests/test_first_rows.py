"""A run's first steps (liif/page/first_rows.py): the first band from the top of the picture alone when that
is at most half of it, drawn again from the whole picture's encoding, so the finished run is the full render."""

import numpy as np
import pytest
from PIL import Image

from liif.page import files, limits, models, session
from liif.page.first_rows import FIRST_BAND_CONTEXT, FirstSteps, render_rows
from liif.render import imageio


@pytest.fixture(scope="module")
def shelf(weights_path):
    return models.ModelShelf(weights_path, device="cpu", precision="fp32")  # exact: fp32 is the oracle's


@pytest.fixture(scope="module")
def tall_photo(tmp_path_factory):
    """64 rows of 8 pixels: the first band's rows read its top 18 (their own and the encoder's context)."""
    y, x = np.mgrid[0:64, 0:8]
    rgb = np.stack([y * 4, x * 30, (x * y) % 256], -1).astype(np.uint8)
    path = tmp_path_factory.mktemp("photos") / "tall.png"
    Image.fromarray(rgb).save(path)
    return path


def test_the_first_band_is_drawn_from_the_top_of_the_picture_alone(shelf, tall_photo):
    image01 = imageio.to_tensor(limits.prepare(tall_photo, 2).loaded.rgb)
    with shelf.working(None, "first-band-test") as upscaler:  # rows 0-2 of the input, and their context
        assert upscaler.pixels_to_encode(image01, (0, 0, 2, 8)) == (2 + 24 + 4) * 8  # the tiles' overlap
        assert upscaler.pixels_to_encode(image01, (0, 0, 2, 8), FIRST_BAND_CONTEXT) == (2 + 12 + 4) * 8
    steps = FirstSteps(shelf, None, "first-band-test", image01, (128, 16), 4)
    rows, seconds, redraw = steps.first_band()
    encoded, encoder_seconds, reused = steps.encoding()
    assert redraw and rows.shape == (1, 3, 4, 16) and seconds > 0
    assert encoded.feat.shape[2:] == (64, 8) and encoder_seconds > 0 and not reused  # then the whole picture
    with shelf.working(None, "first-band-test") as upscaler:
        exact = render_rows(upscaler, image01, (128, 16), 0, 4)
    # The top 30 rows' codes, next to the whole picture's: the same rows within a small distance.
    assert (rows - exact).abs().max().item() < 0.05


def test_a_run_ends_with_its_first_rows_as_the_full_render_has_them(shelf, tall_photo):
    request = limits.prepare(tall_photo, 2)
    steps = list(session.run_steps(shelf, None, request, update_seconds=1e-9, first_band_pixels=4 * 16,
                                   owner="first-rows-run"))
    partials, run = steps[:-1], steps[-1]
    assert [p.fraction for p in partials[:2]] == [0.0, 4 / 128]  # the bicubic guess, then the first band
    image01 = imageio.to_tensor(request.loaded.rgb)
    with shelf.working(None, "first-rows-run") as upscaler:
        whole = imageio.to_uint8(upscaler.render(image01, 128, 16))
        first = imageio.to_uint8(render_rows(upscaler, image01, (128, 16), 0, 4))
    assert np.array_equal(run.liif_rgb[:4], first)  # drawn again from the whole encoding
    assert np.abs(run.liif_rgb.astype(int) - whole.astype(int)).max() <= 1  # bands: pixel centres' rounding
    assert not run.facts.encoder_reused and run.facts.encoder_seconds > 0


def test_without_previews_nothing_is_drawn_twice(shelf, tall_photo):
    request = limits.prepare(tall_photo, 2)
    calls = []
    with shelf.working() as upscaler:
        original = upscaler.render_region

    def counted(*args, **kwargs):
        calls.append(args[1])
        return original(*args, **kwargs)

    upscaler.render_region = counted
    try:
        run = session.run_to_end(shelf, None, request, owner="first-rows-no-previews")
    finally:
        del upscaler.render_region
    assert len(calls) == 1 and run.liif_rgb.shape == (128, 16, 3)  # every row in one render, once


def test_previews_go_to_the_page_as_png_files_of_the_same_pixels(shelf, tall_photo, tmp_path):
    outputs = files.OutputFolder(parent=tmp_path)
    request = limits.prepare(tall_photo, 2)
    steps = list(session.run_steps(shelf, None, request, outputs, update_seconds=1e-9, first_band_pixels=4 * 16))
    partials = steps[:-1]
    assert len(partials) >= 3
    for partial in partials:
        assert partial.preview_shown == partial.preview_file
        assert np.array_equal(np.asarray(Image.open(partial.preview_file)), partial.preview)  # lossless
    assert np.array_equal(np.asarray(Image.open(partials[0].bicubic_file)), partials[0].bicubic)
    assert all(p.bicubic_file is None for p in partials[1:])  # the page shows the bicubic guess once
    without_folder = next(session.run_steps(shelf, None, request, update_seconds=1e-9))
    assert without_folder.preview_file is None and without_folder.preview_shown is without_folder.preview
