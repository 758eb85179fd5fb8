"""The three experiments (liif/lessons/check.py, liif/lessons/zoom.py, liif/lessons/ladder.py), their command-line subcommands
and page handlers, with a small random model: the plumbing and the arithmetic, not picture quality."""

import numpy as np
import pytest
from PIL import Image

from liif import cli
from liif.api import upscale_image
from liif.evaluation.metrics import psnr_y
from liif.lessons import check, ladder, originals, zoom
from liif.lessons.explain import added_detail
from liif.page import files, models
from liif.page.context import EXAMPLES
from liif.page.sections.check import OWN_PHOTO
from liif.render import imageio, pictures
from liif.render.engine import Speed, Upscaler
from liif.render.pictures import shrink
from liif.training.config import trained_scales

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def engine(weights_path):
    from liif.core.weights import load_model

    return Upscaler(load_model(weights_path), device="cpu", precision="fp32")


def structured(width: int, height: int) -> np.ndarray:
    """A picture with smooth gradients, one sharp-edged square and a fine checkerboard (texture)."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 200 // width + 20, y * 200 // height + 20, np.full_like(x, 90)], -1)
    rgb[height // 4 : height // 2, width // 4 : width // 2] = (240, 230, 40)
    texture = (y > 2 * height // 3) & ((x // 2 + y // 2) % 2 == 0)
    rgb[texture] = (30, 30, 30)
    return rgb.astype(np.uint8)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    path = tmp_path_factory.mktemp("photos") / "garden.png"
    Image.fromarray(structured(100, 72)).save(path)
    return path


# -- check against the real photo ------------------------------------------------------------------


def test_real_photo_is_exactly_scale_times_the_tiny_one():
    loaded = imageio.load_image(structured(451, 300))
    real, tiny = check.real_and_tiny(loaded, 8)
    assert real.shape == (296, 448, 3) and tiny.shape == (37, 56, 3)
    assert np.array_equal(real, loaded.rgb[2:298, 1:449])  # no reduction needed: a centred crop, untouched
    assert np.array_equal(tiny, shrink(real, 56, 37))  # shrunk as the training inputs were made


def test_a_large_photo_is_reduced_to_the_working_size_first():
    real, tiny = check.real_and_tiny(imageio.load_image(structured(1000, 600)), 4, working_size=32)
    assert tiny.shape == (19, 32, 3) and real.shape == (76, 128, 3)


@pytest.mark.parametrize("source, message", [
    (structured(60, 200), r"60×200; a check at ×8 needs at least 64×64 pixels"),
    (b"not an image", "is not an image"),
    (None, "choose one of the shipped photos"),
])
def test_bad_photos_get_one_sentence(engine, source, message):
    with pytest.raises(imageio.ImageInputError, match=message):
        check.check(engine, source, 8)


def test_only_whole_scales_offered_are_accepted(engine, photo):
    with pytest.raises(imageio.ImageInputError, match="the check works at the scales ×2, ×3, ×4, ×6, ×8, not 5"):
        check.check(engine, photo, 5)
    assert check.check_scale("4") == 4 and check.check_scale(8.0) == 8


def test_check_measures_both_methods_against_the_real_photo(engine, photo):
    result = check.check(engine, photo, 4)
    real, tiny = check.real_and_tiny(imageio.load_image(photo), 4)
    assert np.array_equal(result.real, real) and np.array_equal(result.tiny, tiny)
    assert result.liif.shape == result.bicubic.shape == real.shape == (72, 100, 3)
    assert np.array_equal(result.liif, np.asarray(upscale_image(engine, imageio.load_image(tiny), 100, 72)))
    assert result.psnr["liif"] == psnr_y(result.liif, real, shave=4)
    assert result.psnr["bicubic"] == psnr_y(result.bicubic, real, shave=4)
    names = {kind.name for kind in result.kinds}
    assert names == {"edges", "fine texture", "smooth"}, names
    assert sum(kind.share for kind in result.kinds) == pytest.approx(1.0)
    summary = result.summary()
    assert summary["real"] == {"width": 100, "height": 72} and summary["goal_met"] == (result.gain_db >= 0.3)
    text = result.markdown()
    assert f"{result.psnr['liif']:.2f} dB" in text and f"{result.psnr['bicubic']:.2f} dB" in text


def fake_check(liif_offset: int, texture_noise: int = 0) -> check.Check:
    """A check whose LIIF is the real photo plus a known error, to test what is said about it."""
    real = structured(64, 48)
    tiny = shrink(real, 16, 12)
    bicubic = np.asarray(Image.fromarray(tiny).resize((64, 48), Image.Resampling.BICUBIC))
    liif = np.clip(real.astype(int) + liif_offset, 0, 255).astype(np.uint8)
    result = check.Check(4, tiny, bicubic, liif, real,
                         psnr={"bicubic": psnr_y(bicubic, real, shave=4), "liif": psnr_y(liif, real, shave=4)},
                         ssim={"bicubic": 0.5, "liif": 0.6}, kinds=check.block_kinds(tiny, bicubic, liif, real, 4))
    return result


def test_findings_follow_the_numbers():
    close = fake_check(liif_offset=1)
    assert close.gain_db > check.GOAL_DB
    assert "closer** to the real photo" in close.sentences[0]
    edges = next(s for s in close.sentences if s.startswith("**Edges**"))
    assert "LIIF removed" in edges
    far = fake_check(liif_offset=90)
    assert far.gain_db < 0 and "further** from the real photo" in far.sentences[0]
    assert "LIIF added" in next(s for s in far.sentences if s.startswith("**Edges**"))
    assert any(s.startswith("**Fine texture**") and "not the real detail" in s for s in far.sentences)


def test_closer_map_is_orange_where_liif_is_closer_and_blue_where_further():
    close, far = fake_check(liif_offset=0), fake_check(liif_offset=90)
    orange, blue = close.closer_map(), far.closer_map()
    assert orange.shape == blue.shape == (48, 64, 3)
    # On the edged square bicubic is off and an exact LIIF is not: orange (red above blue).
    r, _, b = orange[16, 20].astype(int)
    assert r > b
    r, _, b = blue[2, 2].astype(int)  # far off everywhere: blue
    assert b > r
    maps = close.error_maps_picture()
    bicubic_map, liif_map = (added_detail(rgb, close.real)[0] for rgb in (close.bicubic, close.liif))
    assert np.array_equal(maps[:48, :64], bicubic_map) and np.array_equal(maps[:48, 68:132], liif_map)
    assert maps.shape[0] > 48 + 20  # the colour bar underneath


def test_share_picture_and_magnifier(engine, photo):
    result = check.check(engine, photo, 4)
    share = result.share_image()
    assert share.size[0] == 4 * 100 + 3 * 6
    # The real photo is on the sheet as it is, pixel for pixel, under its label and above the caption.
    pixels, x = np.asarray(share), 3 * (100 + 6)
    top = next(y for y in range(share.size[1] - 72) if np.array_equal(pixels[y : y + 72, x : x + 100], result.real))
    assert 15 < top and share.size[1] > top + 72 + 2 * 13
    grid, box = result.magnify(centre=(0, 0), tile=64)
    assert box == (0, 0, 32, 32) and grid.shape == (check.MAGNIFIER_TOP + 2 * 64 + 4, 2 * 64 + 4, 3)
    assert result.magnify()[1] == (34, 20, 66, 52)  # the middle of the photo by default


def test_a_shipped_original_starts_the_magnifier_on_its_face(engine):
    result = check.check(engine, originals.original_path("astronaut"), 4, working_size=32)
    assert result.focus == originals.ORIGINALS["astronaut"].focus == (0.44, 0.2)
    x0, y0, x1, y1 = result.magnify()[1]
    assert ((x0 + x1) / 2, (y0 + y1) / 2) == pytest.approx((0.44 * 128, 0.2 * 128))


def test_every_example_has_its_original_shipped():
    from liif.page.context import EXAMPLES

    for example in EXAMPLES:
        key = originals.original_for(example)
        assert key is not None, f"{example.name} has no original in liif/lessons/check.py"
        with Image.open(originals.original_path(key)) as original:
            assert max(original.size) <= 512 and min(original.size) >= 8 * 32  # ×8 leaves 32+ pixels a side
    assert originals.original_for("/tmp/gradio/abc/grace-hopper-48.png") == "grace-hopper"
    assert originals.original_for("/tmp/holiday.jpg") is None
    with pytest.raises(imageio.ImageInputError, match="no shipped photo called 'moon'"):
        originals.original_path("moon")


# -- the zoom movie --------------------------------------------------------------------------------


def test_zoom_boxes_are_a_smooth_zoom_ending_around_the_point():
    boxes, zooms = zoom.zoom_boxes(64, 48, centre=(50, 10), zoom=16, frames=9)
    assert boxes[0] == (0.0, 0.0, 64.0, 48.0) and zooms[0] == 1 and zooms[-1] == pytest.approx(16)
    assert np.allclose(np.diff(np.log(zooms)), np.log(16) / 8)  # geometric
    x0, y0, x1, y1 = boxes[-1]
    assert (x1 - x0, y1 - y0) == pytest.approx((4, 3)) and (x0 + x1) / 2 == pytest.approx(50)
    assert y0 == pytest.approx(8.5)
    for (a0, b0, a1, b1), (c0, d0, c1, d1) in zip(boxes, boxes[1:]):
        assert a0 <= c0 and b0 <= d0 and c1 <= a1 and d1 <= b1  # each frame inside the one before
    # A point at the edge: the last box is moved inside the picture.
    boxes, _ = zoom.zoom_boxes(64, 48, centre=(0, 48), zoom=8, frames=5)
    assert boxes[-1] == pytest.approx((0, 42, 8, 48))


def test_zoom_first_frame_is_the_whole_picture_and_last_the_magnified_region(engine, photo, tmp_path):
    loaded = imageio.load_image(photo)
    movie = zoom.zoom_movie(engine, loaded, centre=(30, 20), zoom=20, frames=6, size=48, path=tmp_path / "z.webp")
    assert movie.frame_size == (67, 48)  # the picture's shape, 48 pixels on the short side
    whole = pictures.flatten_image(upscale_image(engine, loaded, 67, 48))
    assert np.array_equal(movie.liif[0], whole)
    last = movie.boxes[-1]
    region = pictures.flatten_image(upscale_image(engine, loaded, 67, 48, region=last))
    assert np.array_equal(movie.liif[-1], region)
    assert (last[2] - last[0]) == pytest.approx(100 / 20)
    enlarged, top = zoom.frame_layout(movie, (100, 72))
    assert enlarged == round(zoom.SHOWN_PANEL / 48)  # a small movie is shown with its pixels as squares
    with Image.open(movie.path) as webp:
        assert webp.format == "WEBP" and webp.n_frames == 6
        assert webp.size == (2 * 67 * enlarged + zoom.GAP, 48 * enlarged + top)
        webp.seek(0)
        shown = np.asarray(webp.convert("RGB"))[top:, 67 * enlarged + zoom.GAP:][::enlarged, ::enlarged]
        above_tag = 48 - -(-(zoom.CAPTION_SIZE + 16) // enlarged)  # the "LIIF" tag covers the bottom corner
        assert psnr_y(shown[:above_tag], whole[:above_tag]) > 28  # lossy, but the same picture
    for k in range(len(movie.liif)):  # every caption whole: drawn, and inside the frame's width
        frame = zoom.frame_picture(movie, k, (100, 72))
        ink = np.nonzero((frame[:top].min(axis=2) < 128).any(axis=0))[0]
        assert ink.size and ink.max() < frame.shape[1] - 2, f"frame {k}'s caption runs off its right edge"


@pytest.mark.parametrize("options, message", [
    ({"zoom": 200}, "at most 72 for a 100×72 picture"),
    ({"zoom": 1}, "more than 1"),
    ({"frames": 1}, "2 to 120 frames"),
    ({"size": 5000}, "16 to 512 pixels"),
])
def test_zoom_refuses_impossible_options_with_a_sentence(engine, photo, options, message):
    with pytest.raises(imageio.ImageInputError, match=message):
        zoom.zoom_movie(engine, imageio.load_image(photo), **options)


# -- the scale ladder ------------------------------------------------------------------------------


def test_ladder_renders_each_scale_natively_and_labels_extrapolation(engine, photo):
    loaded = imageio.load_image(photo)
    rungs = ladder.ladder(engine, loaded, centre=(50, 36), extra_scale=3.5, display=64)
    assert [r.scale for r in rungs] == [None, 2, 3.5, 4, 6, 8, 16]
    assert [r.native for r in rungs[1:]] == [16, 28, 32, 48, 64, 128]
    assert [r.trained for r in rungs[1:]] == [True, True, True, False, False, False]
    assert all(r.picture.shape == (64, 64, 3) for r in rungs)
    assert rungs[5].caption == "×8: extrapolation" and rungs[3].caption == "×4: in training"
    assert "64 output pixels share one input pixel" in rungs[5].sentence
    assert "about 12 output pixels" in rungs[2].sentence
    native = engine.render_region(imageio.to_tensor(loaded.rgb), (32, 46, 40, 54), (64, 64))
    assert np.array_equal(rungs[5].picture, imageio.to_uint8(native))  # ×8 of 8 pixels is 64: shown 1:1
    assert trained_scales(engine.weights.training) == (1.0, 4.0)
    steps = ladder.changes(rungs)
    assert [(a, b) for a, b, _ in steps] == [(2, 3.5), (3.5, 4), (4, 6), (6, 8), (8, 16)]
    first = np.abs(rungs[2].picture.astype(int) - rungs[1].picture.astype(int)).mean()
    assert steps[0][2] == pytest.approx(first)
    said = ladder.summary(rungs, 4.0)
    assert f"×2 → ×3.5: {first:.1f}" in said


def test_the_ladder_says_when_past_training_the_pictures_stop_changing():
    def rung(scale, level):
        return ladder.Rung(scale, np.full((4, 4, 3), level, np.uint8), 4, scale is None or scale <= 4, "", "")

    flat_beyond = [rung(None, 0), rung(2, 0), rung(4, 20), rung(8, 21), rung(16, 22)]
    assert "Past ×4 the pictures barely change (under 2 levels a step)" in ladder.summary(flat_beyond, 4.0)
    still_moving = [rung(None, 0), rung(2, 0), rung(4, 20), rung(8, 21), rung(16, 25)]
    assert "barely change" not in ladder.summary(still_moving, 4.0)


# -- command line ----------------------------------------------------------------------------------


def test_check_and_zoom_commands(capsys, tmp_path, photo, weights_path):
    model = ["--model", str(weights_path), "--device", "cpu"]
    assert cli.main(["check", str(photo), "--scale", "4", "--share", str(tmp_path / "s.png"), *model]) == 0
    out = capsys.readouterr().out
    assert "PSNR-Y" in out and "Edges" in out and Image.open(tmp_path / "s.png").format == "PNG"
    assert cli.main(["zoom", str(photo), "-o", str(tmp_path / "z.webp"), "--frames", "3", "--size", "32",
                     "--centre", "10,10", *model]) == 0
    assert "3 frames of 44×32" in capsys.readouterr().out
    assert Image.open(tmp_path / "z.webp").n_frames == 3
    assert cli.main(["check", str(tmp_path / "none.png"), *model]) == 2
    assert capsys.readouterr().err.strip() == "error: none.png: no such file"
    assert cli.main(["zoom", str(photo), "-o", str(tmp_path / "z.gif"), *model]) == 2
    assert "name a .webp file" in capsys.readouterr().err


def test_ladder_command_writes_the_rungs_side_by_side(capsys, tmp_path, photo, weights_path):
    model = ["--model", str(weights_path), "--device", "cpu"]
    out_png = tmp_path / "ladder.png"
    assert cli.main(["ladder", str(photo), "-o", str(out_png), "--centre", "50,36", "--scale", "3.5", *model]) == 0
    out = capsys.readouterr().out
    assert "64 output pixels share one input pixel" in out and "How much each step changes the picture" in out
    sheet = Image.open(out_png)
    assert sheet.size == (7 * ladder.DISPLAY + 6 * 4, ladder.DISPLAY)  # the input and 6 scales, 4 px apart
    assert cli.main(["ladder", str(photo), "-o", str(tmp_path / "l.jpg"), *model]) == 2
    assert "name a .png file" in capsys.readouterr().err


# -- the page's handlers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page(weights_path):
    from liif.page.context import PageContext
    from liif.page.layout import build_page

    folder = files.OutputFolder()
    yield build_page(PageContext(models.ModelShelf(weights_path, device="cpu"), folder))
    folder.cleanup()


def no_progress(fraction, desc=None):
    pass


def test_check_handler_shows_four_pictures_maps_numbers_and_a_download(page, photo, tmp_path):
    section = page.check
    out = section.run_check(OWN_PHOTO, str(photo), 4, None, progress=no_progress)
    # Every output of the button's event, the "Which one is real?" game's included (tests/test_guess.py).
    assert set(out) == set(page.check.job.outputs)
    result, text, share = out[section.state], out[section.text], out[section.share]
    tiny, real = out[section.panels[0]], out[section.panels[3]]
    assert isinstance(result, check.Check)
    # Hidden until the first check, and while "Which one is real?" waits for the guess (tests/test_guess.py).
    assert out[section.guess_state] is not None
    assert not any(out[c]["visible"] for c in (section.pictures, section.maps, section.share, section.magnifier))
    assert tiny["label"] == "Tiny input 25×18" and real["value"].shape == (72, 100, 3)
    assert "PSNR-Y" in text and Image.open(share["value"]).size[0] == 4 * 100 + 18
    import gradio as gr

    small = tmp_path / "small.png"
    Image.fromarray(structured(40, 40)).save(small)
    with pytest.raises(gr.Error, match="small.png is 40×40; a check at ×8 needs at least 64×64 pixels"):
        section.run_check(OWN_PHOTO, str(small), 8, None, progress=no_progress)
    click = gr.SelectData(None, {"index": [90, 70], "value": None})
    moved = section.pick_region(result, click)
    assert "input x 17–25, y 10–18" in moved[section.magnifier]["label"]


def test_upload_of_an_example_selects_its_original(page, photo, tmp_path):
    assert page.check.follow_upload("/tmp/x/cat-48.png")[0] == "cat"
    big = tmp_path / "big.png"
    Image.fromarray(structured(200, 160)).save(big)
    assert page.check.follow_upload(str(big)) == (OWN_PHOTO, str(big))
    small = tmp_path / "small.png"
    Image.fromarray(structured(60, 60)).save(small)
    kept = page.check.follow_upload(str(small))  # too small for ×8: the choice stays as it was
    assert all(isinstance(update, dict) and "value" not in update for update in kept)


def test_zoom_and_ladder_handlers_use_the_upload_without_a_run(page, photo, monkeypatch):
    import gradio as gr

    monkeypatch.setattr(zoom, "DEFAULT_FRAMES", 3)
    monkeypatch.setattr(zoom, "DEFAULT_SIZE", 32)
    view, text, download = page.zoom.make_zoom(None, str(photo), (0.5, 0.5), 8, progress=no_progress)
    assert view["value"].endswith(".webp") and "**3 frames** of 44×32" in text and download["visible"]
    gallery, words = page.ladder.make_ladder(None, str(photo), None)
    assert len(gallery) == 6 and gallery[4][1] == "×8: extrapolation" and "×16" in words
    with pytest.raises(gr.Error, match="run a photo first"):
        page.zoom.make_zoom(None, None, None, 8, progress=no_progress)


def test_check_and_zoom_api_handlers(page, photo, monkeypatch):
    png, summary = page.api.endpoints["check"].call(str(photo), 4)
    assert Image.open(png).format == "PNG" and summary["scale"] == 4 and "psnr_y_db" in summary
    monkeypatch.setattr(zoom, "DEFAULT_FRAMES", 2)
    monkeypatch.setattr(zoom, "DEFAULT_SIZE", 16)
    webp, summary = page.api.endpoints["zoom"].call(str(photo), None, None, 4)
    assert Image.open(webp).n_frames == 2 and summary["zoom"] == pytest.approx(4)


def test_zoom_sentences_follow_the_movies_numbers():
    frame = np.zeros((8, 8, 3), np.uint8)
    boxes, zooms = zoom.zoom_boxes(64, 64, zoom=32, frames=3)
    fading = zoom.ZoomMovie(boxes, zooms, [frame] * 3, [frame] * 3, added=[2.0, 5.0, 1.0])
    assert "differs most from bicubic (left) at ×5.66, by 5.0 levels" in fading.markdown()
    assert "nearly agree" in fading.markdown()
    growing = zoom.ZoomMovie(boxes, zooms, [frame] * 3, [frame] * 3, added=[1.0, 2.0, 3.0])
    assert "at ×32, by 3.0" in growing.markdown() and "nearly agree" not in growing.markdown()
    assert growing.markdown().count("×32") == 2  # the peak is the last frame: said once (and in the frame count)
    assert "(2 input pixels across)" in growing.markdown() and "(2 input pixel " not in growing.markdown()
    one_pixel = zoom.ZoomMovie([*boxes[:2], (10, 10, 11, 11)], zooms, [frame] * 3, [frame] * 3, added=[1.0, 2.0, 3.0])
    assert "(1 input pixel across)" in one_pixel.markdown()


# -- the zoom movie under a compute limit (issue 20 point 2) ---------------------------------------------

SLOW = Speed(encoder_seconds_per_pixel=1e-5, decoder_seconds_per_pixel=4e-6)


def test_a_zoom_movie_is_planned_to_fit_the_compute_limit_before_anything_is_rendered():
    """A 2 MP picture's movie ran 390 s on the single worker. Now: as asked when it fits, fewer frames
    and smaller panels when that is enough, and a sentence saying what fits when nothing does."""
    assert zoom.fit_to_budget(100, 72, 12, 96, SLOW, 10.0) == (12, 96, "")
    frames, size, note = zoom.fit_to_budget(640, 480, 36, 256, SLOW, 10.0)
    assert (frames, size) != (36, 256) and zoom.movie_seconds(640, 480, frames, size, SLOW) <= 10.0
    assert f"{frames} frames of {size} pixels (asked: 36 of 256)" in note and "10 s" in note
    with pytest.raises(imageio.ImageInputError, match=r"1400×1100 picture would take about \d+ s.*up to 10 s"):
        zoom.fit_to_budget(1400, 1100, 36, 256, SLOW, 10.0)


def test_the_page_and_the_api_refuse_a_heavy_zoom_before_any_model_work(page, monkeypatch, tmp_path):
    import gradio as gr

    from liif.render.engine import Upscaler

    def no_model_work(*args, **kwargs):
        raise AssertionError("the model ran before the refusal")

    monkeypatch.setattr(page.ctx.shelf, "speed", lambda name=None: SLOW)
    monkeypatch.setattr(Upscaler, "encode", no_model_work)
    monkeypatch.setattr(Upscaler, "render_region", no_model_work)
    big = tmp_path / "big.png"
    Image.fromarray(structured(1400, 1100)).save(big)
    for call in (lambda: page.api.endpoints["zoom"].call(str(big), None, None, 32),
                 lambda: page.zoom.make_zoom(None, str(big), None, 32, progress=no_progress)):
        with pytest.raises(gr.Error, match="would take about"):
            call()


@pytest.mark.parametrize("centre", [(float("nan"), float("nan")), (float("inf"), 3), (-5, 3), (3, 1e9), ("a", 2)])
def test_a_zoom_centre_that_is_not_inside_the_picture_is_a_sentence(engine, photo, centre):
    """/zoom with x = y = NaN answered {"error": null} with a traceback in the server's log."""
    with pytest.raises(imageio.ImageInputError, match="centre"):
        zoom.zoom_movie(engine, imageio.load_image(photo), centre=centre, frames=2, size=16)


def test_the_ladder_is_estimated_from_what_the_engine_will_encode(page, engine, monkeypatch, tmp_path):
    """A ladder of a large picture encodes only its region and the encoder's context: it fits, where a
    whole-picture estimate would refuse it; with a much slower model it is refused, at once."""
    import gradio as gr

    big = tmp_path / "big.png"
    Image.fromarray(structured(1400, 1100)).save(big)
    image01 = imageio.to_tensor(imageio.load_image(big).rgb)
    window = engine.pixels_to_encode(image01, (500, 600, 508, 608))
    assert 0 < window < 1400 * 1100 / 10
    monkeypatch.setattr(page.ctx.shelf, "speed", lambda name=None: SLOW)
    gallery, _ = page.ladder.make_ladder(None, str(big), None)
    assert len(gallery) == 6
    glacial = Speed(encoder_seconds_per_pixel=1e-2, decoder_seconds_per_pixel=1e-3)
    monkeypatch.setattr(page.ctx.shelf, "speed", lambda name=None: glacial)
    with pytest.raises(gr.Error, match=r"scale ladder of this 1400×1100 picture would take about \d+ s"):
        page.ladder.make_ladder(None, str(big), None)


# -- many answers fit, and inside one pixel, on the page (issues 22 and 25) --------------------------------


def test_the_answers_section_shows_pictures_that_all_fit_the_run(page, monkeypatch):
    example = str(EXAMPLES[0])
    result = list(page.upscale.run(example, 8, 0, 0, None))[-1][page.run_state]
    gallery, text, share = page.answers.show_answers(result, None, 8, None, progress=no_progress)
    pictures_shown = gallery["value"]
    assert len(pictures_shown) >= 4 and all(p.shape == (384, 384, 3) for p, _ in pictures_shown)
    assert "not" in text and "generative" in text and share["visible"]
    for picture, caption in pictures_shown[1:]:  # every constructed answer: at most 1 level off
        assert caption.endswith((" 1 level off at most", " 0 levels off at most")), caption
    sheet, summary = page.api.endpoints["answers"].call(example, 4)
    assert Image.open(sheet).format == "PNG"
    assert all(c["max_abs_levels"] <= 1 for c in summary["candidates"][1:])


def test_the_probe_section_computes_the_pixel_the_run_rendered(page):
    example = str(EXAMPLES[0])
    result = list(page.upscale.run(example, 8, 0, 0, None))[-1][page.run_state]
    lead, picture, how, terms, profile, text = page.probe.look_inside(result, 100, 200)
    # One picture and one sentence open the step; the method and its numbers are folded under it.
    assert picture["visible"] and how["visible"] and "Pixel (100, 200)" in lead and "(100, 200)" in text
    assert "[-1, 1]" not in lead and "grid_sample" not in lead and "[-1, 1]" in text
    assert picture["value"].shape[0] < terms.shape[0] and profile.shape[1] > 0
    summary = page.api.endpoints["probe"].call(example, 8, 100, 200)
    assert summary["rgb"] == list(result.liif_rgb[200, 100])  # computed = what the page showed
    assert len(summary["neighbours"]) == 4 and abs(sum(n["weight"] for n in summary["neighbours"]) - 1) < 1e-6


# -- the check on a JPEG tiny version, with the JPEG-trained model (issue 26) ------------------------------

JPEG_TRAINING = {"steps": 1, "jpeg_inputs": {"quality": "30-95", "clean_share": 0.5}}


@pytest.fixture(scope="module")
def jpeg_weights_path(tmp_path_factory):
    """A second small random model whose training record says it was trained on JPEG inputs."""
    import torch

    from liif.core.model import LIIF, LIIFConfig
    from liif.core.weights import save_weights

    torch.manual_seed(1)
    return save_weights(LIIF(LIIFConfig(encoder="edsr-baseline")), tmp_path_factory.mktemp("jpeg") / "jpeg.safetensors",
                        extra_metadata={"training": JPEG_TRAINING})


@pytest.fixture(scope="module")
def jpeg_engine(jpeg_weights_path):
    from liif.core.weights import load_weights

    return Upscaler(load_weights(jpeg_weights_path), device="cpu", precision="fp32")


def test_a_jpeg_check_brings_back_exactly_the_jpeg_of_the_clean_tiny_with_both_models(engine, jpeg_engine, photo):
    import json

    from liif.core.degrade import jpeg_roundtrip
    from liif.lessons import check_jpeg

    result = check_jpeg.check_jpeg(engine, photo, 4, 75, second=jpeg_engine, model_name="clean",
                                   second_name="jpeg-trained")
    real, clean_tiny = check.real_and_tiny(imageio.load_image(photo), 4)
    assert np.array_equal(result.clean_tiny, clean_tiny) and np.array_equal(result.real, real)
    assert np.array_equal(result.tiny, jpeg_roundtrip(clean_tiny, 75))  # the benchmark's and training's JPEG
    assert not np.array_equal(result.tiny, clean_tiny)
    # Both models and bicubic were given the one compressed picture.
    assert result.jpeg.tiny is result.photo.tiny and result.jpeg.bicubic is result.photo.bicubic
    jpeg_tiny = imageio.load_image(result.tiny)
    assert np.array_equal(result.photo.liif, np.asarray(upscale_image(engine, jpeg_tiny, 100, 72)))
    assert np.array_equal(result.jpeg.liif, np.asarray(upscale_image(jpeg_engine, jpeg_tiny, 100, 72)))
    assert not np.array_equal(result.photo.liif, result.jpeg.liif)
    assert result.psnr == {"bicubic": psnr_y(result.bicubic, real, shave=4),
                           "photo_model": psnr_y(result.photo.liif, real, shave=4),
                           "jpeg_model": psnr_y(result.jpeg.liif, real, shave=4)}
    assert result.jpeg_gain_db == result.psnr["jpeg_model"] - result.psnr["photo_model"]
    plain = check.check(engine, photo, 4)  # bicubic from the clean tiny: the plain check's number
    assert result.clean_bicubic_psnr == plain.psnr["bicubic"]
    summary = json.loads(json.dumps(result.summary()))
    assert summary["jpeg_quality"] == 75 and summary["jpeg_model_available"]
    assert [(m["role"], m["model"], m["jpeg_trained"]) for m in summary["models"]] == [
        ("photo_model", "clean", False), ("jpeg_model", "jpeg-trained", True)]
    assert [m["psnr_y_db"] for m in summary["models"]] == [result.psnr["photo_model"], result.psnr["jpeg_model"]]
    assert check_jpeg.jpeg_inputs(jpeg_engine) == JPEG_TRAINING["jpeg_inputs"] and check_jpeg.jpeg_inputs(engine) is None
    text = result.markdown()
    for label, db in (("bicubic", result.psnr["bicubic"]), ("LIIF, clean", result.psnr["photo_model"]),
                      ("LIIF, jpeg-trained", result.psnr["jpeg_model"])):
        assert f"| {label} | {db:.2f} dB |" in text
    assert "JPEG of quality 75" in text and "8×8 blocks" in text
    assert result.share_image().size[0] == 5 * 100 + 4 * 6
    grid, box = result.magnify(centre=(0, 0), tile=64)
    assert box == (0, 0, 32, 32) and grid.shape == (check.MAGNIFIER_TOP + 2 * 64 + 4, 3 * 64 + 2 * 4, 3)
    assert result.error_maps_picture()[:72].shape[1] == 3 * 100 + 2 * 4


def test_the_plain_check_is_unchanged_by_the_jpeg_option(engine, photo):
    from liif.lessons import check_jpeg

    result = check.check(engine, photo, 4)
    real, tiny = check.real_and_tiny(imageio.load_image(photo), 4)
    assert isinstance(result, check.Check) and np.array_equal(result.tiny, tiny)
    assert np.array_equal(result.liif, np.asarray(upscale_image(engine, imageio.load_image(tiny), 100, 72)))
    assert "jpeg_quality" not in result.summary() and "JPEG" not in result.markdown()
    assert [check_jpeg.check_quality(v) for v in (None, "", 0, "none", "95", 75, "JPEG 50")] == [
        None, None, None, None, 95, 75, 50]
    with pytest.raises(imageio.ImageInputError, match="from 1 to 95, not 120"):
        check_jpeg.check_quality(120)


def fake_jpeg_check(photo_offset: int, jpeg_offset: int | None):
    """A JPEG check whose models' pictures are the real photo plus a known error."""
    from liif.core.degrade import jpeg_roundtrip
    from liif.lessons import check_jpeg

    real = structured(64, 48)
    clean = shrink(real, 16, 12)
    tiny = jpeg_roundtrip(clean, 50)
    bicubic = np.asarray(Image.fromarray(tiny).resize((64, 48), Image.Resampling.BICUBIC))

    def model(offset, name):
        liif = np.clip(real.astype(int) + offset, 0, 255).astype(np.uint8)
        return check.Check(4, tiny, bicubic, liif, real, model_name=name,
                           psnr={"bicubic": psnr_y(bicubic, real, shave=4), "liif": psnr_y(liif, real, shave=4)},
                           ssim={"bicubic": 0.5, "liif": 0.6}, kinds=check.block_kinds(tiny, bicubic, liif, real, 4))

    return check_jpeg.JpegCheck(50, clean, model(photo_offset, "Clean"),
                                None if jpeg_offset is None else model(jpeg_offset, "Jpeg"),
                                clean_bicubic_psnr=psnr_y(np.asarray(Image.fromarray(clean).resize(
                                    (64, 48), Image.Resampling.BICUBIC)), real, shave=4))


def test_the_jpeg_check_words_follow_its_numbers():
    closer = fake_jpeg_check(photo_offset=20, jpeg_offset=2)
    said = closer.sentences
    assert said[0].startswith("**The JPEG** (quality 50)")
    assert f"Jpeg, trained on compressed photos, is **{closer.jpeg_gain_db:.2f} dB closer** to the real photo " \
           "than Clean" in said[1]
    assert "8×8 blocks" in said[2] and "sharpens them" in said[2]
    further = fake_jpeg_check(photo_offset=2, jpeg_offset=20)
    assert f"**{-further.jpeg_gain_db:.2f} dB further** from the real photo than Clean" in further.sentences[1]
    assert "comes out **the same**" in fake_jpeg_check(5, 5).sentences[1]
    alone = fake_jpeg_check(photo_offset=5, jpeg_offset=None)
    assert alone.sentences[1].startswith("**The JPEG-trained model is not available**")
    assert alone.summary()["psnr_y_db"]["jpeg_model"] is None and not alone.summary()["jpeg_model_available"]
    # The block-edge measure: about 1 away from any JPEG, higher where the 8x8 grid shows.
    from liif.lessons.check_jpeg import block_edge_ratio

    flat = np.full((48, 64, 3), 128, np.uint8)
    noisy = np.random.default_rng(0).integers(0, 255, (48, 64, 3)).astype(np.uint8)
    stepped = noisy // 8 + 100
    stepped[:, 32:] += 60  # a step exactly on the block edge at tiny pixel 8, x4
    assert block_edge_ratio(noisy, 4) == pytest.approx(1, abs=0.1) and block_edge_ratio(stepped, 4) > 2
    assert block_edge_ratio(flat[:32, :32], 4) is None  # a single block: no edge


@pytest.fixture(scope="module")
def jpeg_page(weights_path, jpeg_weights_path, tmp_path_factory):
    """A page whose shelf has a clean model and the JPEG-trained one, under the shipped names."""
    import shutil

    from liif.core import weights
    from liif.page.context import PageContext
    from liif.page.layout import build_page

    shelf_dir = tmp_path_factory.mktemp("shelf").resolve()
    shutil.copy(weights_path, shelf_dir / "edsr-baseline-liif.safetensors")
    shutil.copy(jpeg_weights_path, shelf_dir / "edsr-baseline-jpeg-liif.safetensors")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(weights, "WEIGHTS_DIR", shelf_dir)
        mp.delenv("LIIF_WEIGHTS", raising=False)
        folder = files.OutputFolder()
        yield build_page(PageContext(models.ModelShelf(device="cpu"), folder))
        folder.cleanup()


def test_the_check_handler_shows_both_models_on_the_same_jpeg(jpeg_page, photo):
    from liif.lessons import check_jpeg

    section = jpeg_page.check
    assert jpeg_page.ctx.shelf.jpeg_trained() == "edsr-baseline-jpeg-liif.safetensors"
    out = section.run_check(OWN_PHOTO, str(photo), 4, "edsr-baseline-liif.safetensors", 50, progress=no_progress)
    assert set(out) == set(section.job.outputs)
    result, text, share, jpeg_liif = out[section.state], out[section.text], out[section.share], out[section.jpeg_panel]
    tiny, _, liif, _ = (out[panel] for panel in section.panels)
    assert out[section.guess_state] is None  # no guessing game with a JPEG: the real photo does not shrink to it
    assert isinstance(result, check_jpeg.JpegCheck) and result.quality == 50 and result.jpeg is not None
    assert tiny["label"] == "Tiny JPEG 50, 25×18" and liif["label"] == "Photo model ×4"
    assert jpeg_liif["visible"] and jpeg_liif["label"] == "JPEG model ×4"
    assert np.array_equal(jpeg_liif["value"], pictures.draw_box(result.jpeg.liif, result.magnify()[1]))
    assert "JPEG model" in out[section.errors]["label"] and "JPEG model is closer" in out[section.closer]["label"]
    assert "LIIF-EDSR-baseline (faster, softer)" in text and "LIIF-EDSR-baseline for JPEGs" in text
    assert f"{result.psnr['jpeg_model']:.2f} dB" in text and f"{result.psnr['photo_model']:.2f} dB" in text
    assert share["value"].endswith("-jpeg50.png") and Image.open(share["value"]).size[0] == 5 * 100 + 24
    # The JPEG-trained model named in the menu: the photo model is its clean twin.
    again = section.run_check(OWN_PHOTO, str(photo), 4, "edsr-baseline-jpeg-liif.safetensors", 50,
                              progress=no_progress)[section.state]
    assert again.psnr == result.psnr
    import gradio as gr

    moved = section.pick_region(result, gr.SelectData(None, {"index": [90, 70], "value": None}))
    assert len(moved) == 6 and moved[section.jpeg_panel]["visible"]
    # "none" is the plain check, with the JPEG panel hidden and the labels back.
    plain = section.run_check(OWN_PHOTO, str(photo), 4, None, 0, progress=no_progress)
    assert isinstance(plain[section.state], check.Check) and not plain[section.jpeg_panel]["visible"]
    assert plain[section.errors]["label"].startswith("How far off: bicubic (left), LIIF (right)")


def test_a_jpeg_check_without_the_jpeg_model_runs_the_one_and_says_so(page, photo):
    section = page.check
    out = section.run_check(OWN_PHOTO, str(photo), 4, None, 95, progress=no_progress)
    result, text, jpeg_liif = out[section.state], out[section.text], out[section.jpeg_panel]
    assert result.quality == 95 and result.jpeg is None and not jpeg_liif["visible"]
    assert "The JPEG-trained model is not available" in text
    plain = section.run_check(OWN_PHOTO, str(photo), 4, None, progress=no_progress)
    assert not plain[section.jpeg_panel]["visible"] and "JPEG" not in plain[section.text]


def test_the_check_command_prints_both_models_on_a_jpeg(capsys, photo, weights_path, jpeg_weights_path):
    import json

    model = ["--model", str(weights_path), "--device", "cpu", "--precision", "fp32"]
    assert cli.main(["check", str(photo), "--scale", "4", "--jpeg-quality", "50", "--jpeg-model",
                     str(jpeg_weights_path), "--json", *model]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["jpeg_quality"] == 50 and [m["role"] for m in summary["models"]] == ["photo_model", "jpeg_model"]
    assert summary["models"][1]["model"] == str(jpeg_weights_path) and summary["models"][1]["jpeg_trained"]
    assert cli.main(["check", str(photo), "--scale", "4", "--jpeg-quality", "50", "--jpeg-model",
                     str(jpeg_weights_path), *model]) == 0
    out = capsys.readouterr().out
    assert f"LIIF, {weights_path}" in out and f"LIIF, {jpeg_weights_path}" in out and "8×8 blocks" in out
    assert f"{summary['psnr_y_db']['jpeg_model']:.2f} dB" in out
    assert cli.main(["check", str(photo), "--jpeg-quality", "120", *model]) == 2
    assert "from 1 to 95" in capsys.readouterr().err
    assert cli.main(["check", str(photo), "--jpeg-model", str(jpeg_weights_path), *model]) == 2
    assert "give --jpeg-quality" in capsys.readouterr().err
