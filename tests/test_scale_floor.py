"""The same product on every CPU (issue 35): x8 of a photo up to 64x64 is always accepted, whatever speed
this machine measured; a cap, when a photo has one, is said beside the slider and in the status, and a
typed scale past it is put back to it with a sentence; the experiments start at a scale the photo allows.

Every speed here is injected and every budget set, so a fast and a slow CPU give the same results."""

import numpy as np
import pytest
from PIL import Image

from liif import settings
from liif.lessons import answers as answers_lesson
from liif.page import limits
from liif.render.engine import Speed, encoded_pixels

# Far slower than any CPU the page runs on: x8 of a 64x64 photo would be about 6 minutes of computing.
GLACIAL = Speed(encoder_seconds_per_pixel=1e-2, decoder_seconds_per_pixel=1e-3)
FAST = Speed(encoder_seconds_per_pixel=1e-6, decoder_seconds_per_pixel=1e-7)
pytestmark = pytest.mark.usefixtures("one_torch_thread")
FLOOR_SIZES = [(32, 32), (48, 48), (64, 48), (48, 64), (64, 64)]


@pytest.fixture(autouse=True)
def ten_second_budget(monkeypatch):
    monkeypatch.setenv(settings.PAGE_SECONDS, "10")


@pytest.fixture
def photo_of(tmp_path):
    def make(width, height):
        path = tmp_path / f"photo-{width}x{height}.png"
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)
        return path
    return make


@pytest.mark.parametrize("speed", [GLACIAL, FAST], ids=["glacial", "fast"])
@pytest.mark.parametrize("width, height", FLOOR_SIZES)
def test_x8_of_a_photo_up_to_64x64_is_accepted_at_any_speed(photo_of, speed, width, height):
    assert limits.max_scale(width, height, speed) >= 8
    request = limits.prepare(photo_of(width, height), 8, speed=speed)
    assert (request.out_width, request.out_height) == (8 * width, 8 * height)


def test_past_the_floor_the_budget_decides(photo_of):
    """100x100 at x8 is more work than the floor: refused at the glacial speed, with the largest scale
    that fits; accepted at a fast one."""
    with pytest.raises(Exception, match=r"the largest scale for this photo is ×\d"):
        limits.prepare(photo_of(100, 100), 8, speed=GLACIAL)
    assert limits.max_scale(100, 100, GLACIAL) < 8
    limits.prepare(photo_of(100, 100), 8, speed=FAST)


def test_the_budget_is_the_page_budget_or_the_floor_work_whichever_is_more():
    floor = GLACIAL.seconds(encoded_pixels(64, 64), 512 * 512 + limits.MAGNIFIER_TILE**2)
    assert limits.budget_seconds(GLACIAL) == pytest.approx(floor)
    assert limits.budget_seconds(GLACIAL, GLACIAL) == pytest.approx(2 * floor)  # two models, each its floor
    assert limits.budget_seconds(FAST) == 10.0


def test_the_experiments_start_at_a_scale_the_photo_allows():
    assert limits.experiment_scale((2, 3, 4, 6, 8), 8, 64, 64, GLACIAL) == 8
    smaller = limits.experiment_scale((2, 3, 4, 6, 8), 8, 100, 100, GLACIAL)
    assert smaller < 8 and GLACIAL.seconds(encoded_pixels(100, 100), (100 * smaller) ** 2) <= limits.budget_seconds(GLACIAL)
    assert limits.experiment_scale((2, 3, 4, 6, 8), 4, 64, 64, FAST) == 4  # never above the default
    assert limits.experiment_scale((2, 3, 4, 6, 8), 8, 2000, 1000, GLACIAL) == 2  # none fits: the smallest


@pytest.fixture
def page(built_page, monkeypatch):
    monkeypatch.setattr(built_page.ctx.shelf, "speed", lambda name=None: GLACIAL)
    return built_page


def test_the_cap_is_said_beside_the_slider_and_a_typed_scale_past_it_is_put_back(page, photo_of):
    photo = str(photo_of(100, 100))
    most = limits.max_scale(100, 100, GLACIAL)
    note, cap = page.upscale.cap.show(photo, None)
    note = note["value"]
    assert note and f"**Up to ×{most:g}** for this 100×100 photo" in note and "s of computing" in note
    slider, said = page.upscale.cap.hold(8, cap)  # typed 8: the box gets the largest, and why
    assert slider["value"] == most
    assert f"×8 is more than this page takes for this 100×100 photo, so the scale is set to ×{most:g}" in said
    assert page.upscale.cap.hold(most, cap) == ({"__type__": "update"}, {"__type__": "update"})  # the sentence stays
    assert "Up to" in page.upscale.cap.hold(1.5, cap)[1]
    assert page.upscale.cap.hold("not a number", cap)[0] == {"__type__": "update"}
    assert page.upscale.cap.show(str(photo_of(64, 64)), None)[0]["value"].startswith(f"**Up to ×{limits.max_scale(64, 64, GLACIAL):g}")
    assert page.upscale.cap.show(None, None) == ({"__type__": "update", "value": "", "visible": False}, None)


def test_the_slider_holds_a_typed_number_past_its_end_to_its_end(page):
    from liif.page.scale_cap import ScaleSlider

    slider = ScaleSlider(1, 4.8, value=2, step=0.1)
    assert slider.preprocess(8) == 4.8 and slider.preprocess(3) == 3


def test_the_status_says_the_cap_after_a_run(page, photo_of):
    photo = str(photo_of(64, 64))
    done = list(page.upscale.run(photo, 8, 0, 0, None))[-1]  # x8 of 64x64 at a glacial speed: run
    status = done[page.upscale.status]
    assert "**Done**" in status and "512×512" in status
    assert f"×{limits.max_scale(64, 64, GLACIAL):g} is the largest scale this page takes for this 64×64 photo" in status


def test_answers_start_at_a_scale_the_photo_allows(page, photo_of):
    assert page.answers.follow_photo(str(photo_of(64, 64)), None) == answers_lesson.DEFAULT_SCALE
    assert page.answers.follow_photo(str(photo_of(100, 100)), None) < answers_lesson.DEFAULT_SCALE
    assert page.answers.follow_photo(None, None) == {"__type__": "update"}
