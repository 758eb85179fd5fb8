"""The whole story with one click (liif/page/sections/tour.py): every step runs on the chosen photo at one
scale, each section opens as its step finishes, and every step's sheet downloads, in one zip."""

import io
import zipfile

import numpy as np
import pytest
from PIL import Image
from test_screenshots import (  # noqa: F401  (fixtures are found by name)
    EXAMPLE,
    browser,
    model,
    new_page,
)

from liif.page.sections import tour
from liif.render.engine import Speed

SLOW = Speed(encoder_seconds_per_pixel=1e-4, decoder_seconds_per_pixel=2e-5)
@pytest.fixture(scope="module")
def app_env():
    """The app as shipped (its own precision and budget): the steps fit themselves in the page's limit."""
    return {}


SHEETS = ("1-upscale.png", "2-answers.png", "3-seen.png", "4-check.png", "5-one-pixel.png", "6a-zoom.webp",
          "6b-ladder.png")


def test_the_plan_costs_every_step_and_keeps_the_scale_the_photo_allows():
    steps = tour.plan_seconds(48, 48, 8.0, SLOW)
    assert list(tour.STEPS) == list(steps)
    assert all(seconds > 0 for seconds in steps.values())
    assert tour.plan_seconds(96, 96, 8.0, SLOW)["upscale"] > steps["upscale"]  # more pixels, more work
    assert tour.tour_scale(48, 48, SLOW) == 8.0
    assert 1 <= tour.tour_scale(160, 160, SLOW) < 8.0  # a larger photo: the largest scale the page takes
    assert tour.tour_scale(2000, 2000, SLOW) == 0  # none: the plan refuses it with a sentence


@pytest.mark.browser
@pytest.mark.server
@pytest.mark.slow
def test_one_click_runs_every_step_and_the_sheets_download(browser, app_server, model):
    context, page = new_page(browser, app_server, viewport={"width": 1280, "height": 900})
    try:
        page.locator("#upload-image input[type=file]").set_input_files(str(EXAMPLE))
        page.locator("#tour-button").click()
        page.locator("#tour-text").get_by_text("The whole story").first.wait_for(state="visible")
        download_button = page.locator("#tour-download")
        download_button.wait_for(state="visible", timeout=600_000)
        said = page.locator("#tour-text").inner_text()
        assert "7 sheets" in said, said
        for section in ("answers", "seen", "check", "probe", "zoom", "ladder"):  # each step opened and filled
            assert page.locator(f"#{section}-section .label-wrap.open").count() == 1, section
        assert page.locator("#liif-output img").first.is_visible()
        with page.expect_download() as waiting:
            download_button.click()
        with zipfile.ZipFile(io.BytesIO(open(waiting.value.path(), "rb").read())) as bundle:
            assert sorted(bundle.namelist()) == sorted(SHEETS)
            first = Image.open(io.BytesIO(bundle.read("1-upscale.png")))
            assert first.width > 3 * first.height  # input | bicubic | LIIF | magnifier, side by side
            assert np.asarray(first.convert("L")).std() > 10  # pictures, not a blank sheet
    finally:
        context.close()
