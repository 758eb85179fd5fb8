"""The web page: its per-run logic (liif/page/session.py), its handlers called as plain functions, and the
running app through its public API, including 20 simultaneous calls.

Every model here is a randomly initialised LIIF: what is tested is the plumbing and the arithmetic,
not the picture quality.
"""

import hashlib
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np
import pytest
import torch
from PIL import Image

from liif import settings
from liif.core.weights import WeightsError
from liif.lessons import explain_words
from liif.page import files, limits, models, session
from liif.render import imageio, pictures
from liif.render.engine import Speed

CLIENT_TIMEOUT = 240  # seconds for any one API call on a busy 2-core machine


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def shelf(weights_path):
    return models.ModelShelf(weights_path, device="cpu")


@pytest.fixture(scope="module")
def photo_path(tmp_path_factory):
    """A 20x16 picture with some structure (two gradients and a square)."""
    y, x = np.mgrid[0:16, 0:20]
    rgb = np.stack([x * 12, y * 15, np.where((x > 5) & (x < 12) & (y > 4) & (y < 11), 230, 40)], -1)
    path = tmp_path_factory.mktemp("photos") / "face.png"
    Image.fromarray(rgb.astype(np.uint8)).save(path)
    return path


@pytest.fixture
def outputs():
    folder = files.OutputFolder()
    yield folder
    folder.cleanup()


# -- per-run logic ---------------------------------------------------------------------------------


def test_prepare_works_out_the_output_size(photo_path):
    assert (limits.prepare(photo_path, 2.5).out_width, limits.prepare(photo_path, 2.5).out_height) == (50, 40)
    by_width = limits.prepare(photo_path, 8, target_width=100)  # the scale is ignored; aspect kept
    assert (by_width.out_width, by_width.out_height) == (100, 80)
    by_height = limits.prepare(photo_path, 8, target_height=48)
    assert (by_height.out_width, by_height.out_height) == (60, 48)
    both = limits.prepare(photo_path, 8, target_width=33, target_height=17)  # fits inside, keeps the shape
    assert (both.out_width, both.out_height) == (21, 17)
    stretched = limits.prepare(photo_path, 8, target_width=33, target_height=17, stretch=True)
    assert (stretched.out_width, stretched.out_height) == (33, 17)
    assert limits.prepare(photo_path, 2).name == "face"


def test_prepare_refuses_bad_input_with_a_sentence(tmp_path, photo_path, monkeypatch):
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("hello")
    with pytest.raises(imageio.ImageInputError, match="notes.png is not an image"):
        limits.prepare(not_an_image, 2)
    with pytest.raises(imageio.ImageInputError, match="upload a picture first"):
        limits.prepare(None, 2)
    monkeypatch.setenv(settings.MAX_OUTPUT_PIXELS, "10000")
    with pytest.raises(imageio.ImageInputError, match="the limit here is 0.01 MP"):
        limits.prepare(photo_path, 8)  # 160x128 = 20480 pixels


def test_page_limit_is_lower_than_the_command_lines_unless_set(monkeypatch):
    monkeypatch.delenv(settings.MAX_OUTPUT_PIXELS, raising=False)
    assert limits.max_output_pixels() == limits.PAGE_MAX_OUTPUT_PIXELS
    assert "2 MP" in limits.limits_text()
    monkeypatch.setenv(settings.MAX_OUTPUT_PIXELS, "5000000")
    assert limits.max_output_pixels() == 5_000_000


def test_bands_stitched_together_are_the_full_render(shelf, photo_path):
    upscaler = shelf.upscaler()
    image01 = imageio.to_tensor(limits.prepare(photo_path, 1).loaded.rgb)
    size = (27, 34)  # odd sizes: band edges fall between input pixels
    bands = [session.render_rows(upscaler, image01, size, r0, r1) for r0, r1 in ((0, 5), (5, 13), (13, 27))]
    stitched, whole = torch.cat(bands, dim=2), upscaler.render(image01, *size)
    assert stitched.shape == whole.shape
    assert (stitched - whole).abs().max().item() < 1e-3  # float rounding of the pixel centres at most


def test_a_run_streams_previews_then_the_result(shelf, tmp_path, outputs):
    tiny = tmp_path / "tiny.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (5, 6, 3), dtype=np.uint8)).save(tiny)
    request = limits.prepare(tiny, 2)  # 12x10: one row per band below
    steps = list(session.run_steps(shelf, None, request, outputs, update_seconds=1e-9, first_band_pixels=1))
    partials, run = steps[:-1], steps[-1]
    assert isinstance(run, session.Run) and all(isinstance(p, session.Partial) for p in partials)
    # First: before any decoding; last: every row done, the explanation and the PNG still to come.
    assert [p.fraction for p in partials] == [i / 10 for i in range(10)] + [1.0]
    assert np.array_equal(partials[-1].preview, run.liif_rgb)
    middle = partials[4]
    assert np.array_equal(middle.preview[:4], run.liif_rgb[:4])  # rows done are final
    pending, bicubic = middle.preview[4:].astype(float), middle.bicubic[4:].astype(float)
    assert pending.std() < 0.5 * bicubic.std()  # what is still to come is shown faded
    saved = np.asarray(Image.open(run.png_path))
    assert np.array_equal(saved, run.liif_rgb)  # the download is the output, losslessly
    assert run.png_path.name == "tiny-liif-x2-12x10.png"


def test_progress_is_fed_from_the_engine_and_reaches_one(shelf, photo_path):
    seen = []
    session.run_to_end(shelf, None, limits.prepare(photo_path, 2), progress=lambda f, text: seen.append(f))
    assert seen[0] == 0 and seen[-1] == 1 and seen == sorted(seen) and len(seen) >= 3


def test_summary_is_json_and_reports_the_run(shelf, photo_path, outputs):
    run = session.run_to_end(shelf, None, limits.prepare(photo_path, 2), outputs)
    summary = json.loads(json.dumps(session.summary(run)))
    assert summary["input"] == {"width": 20, "height": 16}
    assert summary["output"] == {"width": 40, "height": 32}
    assert summary["scale"] == {"x": 2.0, "y": 2.0}
    assert summary["model"] == "random.safetensors"
    assert summary["weights_sha256"] == hashlib.sha256(shelf.paths["random.safetensors"].read_bytes()).hexdigest()
    assert summary["device"] == "cpu" and summary["precision"] in ("fp32", "bf16", "int8")  # int8 on a CPU without bf16
    assert summary["decoder_queries"] == 40 * 32 * 4
    assert summary["observed_share"] == pytest.approx(0.25)
    assert summary["timings"]["decoder_seconds"] > 0
    assert isinstance(summary["consistency_psnr_db"], float)


def test_second_run_on_the_same_picture_reuses_the_encoder(shelf, photo_path):
    session.run_to_end(shelf, None, limits.prepare(photo_path, 2))
    again = session.run_to_end(shelf, None, limits.prepare(photo_path, 3))
    assert again.facts.encoder_reused
    assert "Reused" in again.explanation.workflow


# -- the magnifier ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_x4(shelf, tmp_path_factory):
    rng = np.random.default_rng(3)
    path = tmp_path_factory.mktemp("magnifier") / "noise.png"
    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(path)
    return session.run_to_end(shelf, None, limits.prepare(path, 4))


def test_magnifier_at_the_outputs_zoom_matches_the_output(shelf, run_x4):
    # Zoom 1 over a 4x output: 64 tile pixels cover 16 input pixels, centred: output pixels 32..96.
    view = session.magnify(shelf, run_x4, tile=64, zoom_over_output=1.0)
    assert view.box == (8.0, 8.0, 24.0, 24.0) and view.output_box == (32.0, 32.0, 96.0, 96.0)
    crop = run_x4.liif_rgb[32:96, 32:96]
    assert np.abs(view.tile.astype(int) - crop.astype(int)).max() <= 1


def test_magnifier_renders_new_pixels_rather_than_enlarging_the_output(shelf, run_x4):
    view = session.magnify(shelf, run_x4, tile=128, zoom_over_output=2.0)  # 16 input px at x8
    x0, y0, x1, y1 = (round(v) for v in view.output_box)
    enlarged = np.repeat(np.repeat(run_x4.liif_rgb[y0:y1, x0:x1], 2, axis=0), 2, axis=1)
    assert view.tile.shape == enlarged.shape == (128, 128, 3)
    assert np.abs(view.tile.astype(int) - enlarged.astype(int)).mean() > 0.5
    assert view.image.shape == (2 * 128 + 4, 2 * 128 + 4, 3)  # 2x2 tiles with a gap


def test_magnifier_region_follows_the_click_and_stays_inside(run_x4):
    side = session.MAGNIFIER_TILE / (session.MAGNIFIER_ZOOM_OVER_OUTPUT * 4)  # 32 input px for a 32 px input
    assert session.region_around(run_x4, (0, 0)) == (0.0, 0.0, side, side)
    x0, y0, x1, y1 = session.region_around(run_x4, (127, 127), tile=64)
    assert (x1, y1) == (32.0, 32.0) and x1 - x0 == 8.0
    x0, y0, x1, y1 = session.region_around(run_x4, (40, 80), tile=64)  # input (10.1, 20.1)
    assert ((x0 + x1) / 2, (y0 + y1) / 2) == pytest.approx((40.5 / 4, 80.5 / 4))


def test_magnifier_input_tile_shows_the_real_pixels():
    rgb = np.arange(6 * 6 * 3, dtype=np.uint8).reshape(6, 6, 3)
    tile = pictures.nearest_region(rgb, (2, 1, 4, 3), 8)
    assert np.array_equal(tile[:4, :4], np.broadcast_to(rgb[1, 2], (4, 4, 3)))
    assert np.array_equal(tile[4:, 4:], np.broadcast_to(rgb[2, 3], (4, 4, 3)))


def test_enlarge_and_box_drawing():
    rgb = np.zeros((3, 4, 3), np.uint8)
    assert pictures.enlarge_nearest(rgb, 40).shape == (30, 40, 3)
    assert pictures.enlarge_nearest(np.zeros((10, 1000, 3), np.uint8), 4000).shape == (20, 2000, 3)  # capped
    boxed = pictures.draw_box(np.zeros((64, 64, 3), np.uint8), (16, 16, 48, 48))
    assert tuple(boxed[16, 30]) == (255, 214, 0) and tuple(boxed[30, 30]) == (0, 0, 0)


# -- models ----------------------------------------------------------------------------------------


def test_missing_weights_are_explained(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.WEIGHTS, str(tmp_path / "nowhere.safetensors"))
    shelf = models.ModelShelf()
    assert shelf.names == [] and "LIIF_WEIGHTS names" in shelf.problem
    with pytest.raises(WeightsError, match="not a file"):
        shelf.upscaler()


def test_shelf_loads_each_model_once(shelf):
    assert shelf.names == ["random.safetensors"] and shelf.problem is None
    assert shelf.upscaler() is shelf.upscaler("random.safetensors")


# -- the handlers, as plain functions --------------------------------------------------------------


@pytest.fixture(scope="module")
def built_page(shelf):
    """One page for the module's handler tests (building one takes seconds); each test gets it with its
    own output folder, and anything a test changes on its context is put back (monkeypatch)."""
    from liif.page.context import PageContext
    from liif.page.layout import build_page

    folder = files.OutputFolder()
    yield build_page(PageContext(shelf, folder))
    folder.cleanup()


@pytest.fixture
def page(built_page, monkeypatch, outputs):
    monkeypatch.setattr(built_page.ctx, "outputs", outputs)
    monkeypatch.setattr(session, "MAGNIFIER_TILE", 32)  # the handlers' plumbing, not the zoom, is tested here
    return built_page


def test_run_handler_streams_previews_then_the_result(page, photo_path):
    updates = list(page.upscale.run(str(photo_path), 2, 0, 0, None))
    # At once, before the photo is read or the model loaded: the status line says the run started (and the
    # click's moment is used up: a run the tour chains after this one starts its own wait).
    assert set(updates[0]) == {page.upscale.status, page.upscale.clicked} and updates[0][page.upscale.clicked] is None
    assert updates[0][page.upscale.status].startswith("**Started**")
    first = updates[1]
    assert first[page.upscale.input_view]["label"] == "Input: 20×16 pixels, each square one pixel"
    assert first[page.run_state] is None  # the previous run cannot be magnified meanwhile
    shown = {}  # the page after every update, as the visitor sees it
    for update in updates:
        shown |= update
    result = updates[-1][page.run_state]  # last: Done, once every picture is sent
    assert isinstance(result, session.Run) and "**Done**" in updates[-1][page.upscale.status]
    assert page.upscale.liif_view not in updates[-1]  # the pictures went before, not twice
    assert shown[page.upscale.liif_view]["label"] == "LIIF ×2: 40×32 pixels"
    assert shown[page.upscale.liif_view]["value"].shape == (32, 40, 3)
    assert shown[page.upscale.download]["visible"] and shown[page.upscale.download]["value"] == str(result.png_path)
    assert "1,280 pixels" in shown[page.explanation.workflow_text]


@pytest.mark.parametrize("kind, message", [("text", "upload.png is not an image"), ("truncated", "truncated or corrupt")])
def test_run_handler_turns_bad_input_into_a_sentence(page, tmp_path, photo_path, kind, message):
    import gradio as gr

    path = tmp_path / "upload.png"
    whole_png = photo_path.read_bytes()
    path.write_bytes(b"not an image at all" if kind == "text" else whole_png[: len(whole_png) // 2])
    with pytest.raises(gr.Error, match=message):
        list(page.upscale.run(str(path), 2, 0, 0, None))


def test_run_handler_explains_an_output_that_is_too_large(page, photo_path):
    import gradio as gr

    with pytest.raises(gr.Error, match="the limit here is 2 MP"):
        list(page.upscale.run(str(photo_path), 0, 5000, 5000, None))


def test_run_handler_accepts_what_people_upload(page, tmp_path):
    """A 1x1 pixel, a transparent PNG, a CMYK JPEG, a 16-bit PNG, an animated GIF."""
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, np.arange(8)[None, :] * 32
    frames = [Image.new("RGB", (6, 6), c) for c in ("red", "blue")]
    files = {
        "dot.png": lambda p: Image.new("RGB", (1, 1), (10, 200, 30)).save(p),
        "clear.png": lambda p: Image.fromarray(rgba, "RGBA").save(p),
        "print.jpg": lambda p: Image.new("CMYK", (8, 8), (0, 128, 255, 0)).save(p),
        "deep.png": lambda p: Image.fromarray(np.full((8, 8), 40000, np.uint16)).save(p),
        "moving.gif": lambda p: frames[0].save(p, save_all=True, append_images=frames[1:]),
    }
    for name, write in files.items():
        write(tmp_path / name)
        last = list(page.upscale.run(str(tmp_path / name), 2, 0, 0, None))[-1]
        result = last[page.run_state]
        assert result.liif.size == (2 * result.request.loaded.width, 2 * result.request.loaded.height), name
    assert Image.open(result.png_path).n_frames == 1  # the GIF's first frame, written as one PNG


def test_run_handler_explains_missing_weights(page, photo_path, tmp_path, monkeypatch):
    import gradio as gr

    monkeypatch.setattr(page.ctx, "shelf", models.ModelShelf(tmp_path / "none.safetensors"))
    with pytest.raises(gr.Error, match="none.safetensors, which is not a file"):
        list(page.upscale.run(str(photo_path), 2, 0, 0, None))


def test_pick_region_moves_the_magnifier(page, photo_path):
    import gradio as gr

    result = list(page.upscale.run(str(photo_path), 4, 0, 0, None))[-1][page.run_state]
    click = gr.SelectData(None, {"index": [5, 60], "value": None})
    bicubic, liif, magnifier, x, y = page.upscale.pick_region(result, evt=click)
    assert (x, y) == (5, 60)  # the keyboard inputs follow the click
    assert liif.shape == (64, 80, 3) and bicubic.shape == (64, 80, 3)
    assert "x 0.0–" in magnifier["label"]  # a click near the left edge: the region starts at the edge
    with pytest.raises(gr.Error, match="Run the model first"):
        page.upscale.pick_region(None, evt=click)


def test_api_handler_returns_a_png_and_a_summary(page, photo_path):
    path, summary = page.api.upscale_api(str(photo_path), 1.5)
    assert Image.open(path).format == "PNG" and Image.open(path).size == (30, 24)
    assert summary["output"] == {"width": 30, "height": 24}


def test_only_the_scripting_endpoints_are_public(page):
    public = sorted(fn.api_name for fn in page.demo.fns.values() if fn.api_visibility != "private")
    assert public == ["answers", "check", "ladder", "probe", "seen", "upscale", "zoom"]
    ids = {block.elem_id for block in page.demo.blocks.values()}
    assert {"input-image", "bicubic-output", "liif-output", "magnifier", "explanation", "run-button",
            "scale-slider"} <= ids


# -- the running app -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_env(weights_path):
    return {"LIIF_WEIGHTS": str(weights_path)}


@pytest.fixture(scope="module")
def client(app_server):
    from gradio_client import Client

    # A generous HTTP timeout: on a loaded machine the server can be slow to accept an upload.
    return Client(app_server.url, verbose=False, httpx_kwargs={"timeout": CLIENT_TIMEOUT})


@pytest.mark.server
def test_upscale_endpoint_end_to_end(client, photo_path, weights_path):
    from gradio_client import handle_file

    job = client.submit(handle_file(str(photo_path)), 3, api_name="/upscale")
    png, summary = job.result(timeout=CLIENT_TIMEOUT)
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (60, 48)
    assert summary["model"] == "random.safetensors"
    assert summary["weights_sha256"] == hashlib.sha256(weights_path.read_bytes()).hexdigest()
    assert summary["decoder_queries"] == 60 * 48 * 4


@pytest.mark.server
def test_twenty_simultaneous_calls_finish_or_are_told_the_queue_is_full(app_server, tmp_path):
    from gradio_client import Client, handle_file
    from gradio_client.utils import QueueError

    small = tmp_path / "small.png"
    Image.new("RGB", (12, 12), (90, 120, 200)).save(small)
    # Twenty visitors, each with a client of its own: one gradio_client shared by twenty threads multiplexes
    # them over one stream, and under that load its own bookkeeping sometimes cancels a job (CancelledError
    # from the client, with nothing in the server's log).
    clients = [Client(app_server.url, verbose=False, httpx_kwargs={"timeout": CLIENT_TIMEOUT}) for _ in range(20)]
    start = threading.Barrier(20)

    def call(i):
        start.wait()  # all twenty at once
        try:
            png, summary = clients[i].submit(handle_file(str(small)), 1.5, api_name="/upscale").result(timeout=CLIENT_TIMEOUT)
            return "done" if summary["output"] == {"width": 18, "height": 18} else f"wrong: {summary}"
        except Exception as exc:  # the client raises with the server's message
            return "queue full" if isinstance(exc, QueueError) and "queue is full" in str(exc).lower() else f"error: {exc!r}"

    t0 = time.monotonic()
    with ThreadPoolExecutor(20) as pool:
        outcomes = [f.result() for f in as_completed([pool.submit(call, i) for i in range(20)])]
    unexpected = [o for o in outcomes if o not in ("done", "queue full")]
    assert not unexpected, f"{unexpected}\n{app_server.log_tail()}"
    assert outcomes.count("done") >= 1
    assert outcomes.count("done") + outcomes.count("queue full") == 20
    print(f"20 calls: {outcomes.count('done')} done, {outcomes.count('queue full')} told the queue is full, "
          f"{time.monotonic() - t0:.1f} s")


# -- what the page says around a run ---------------------------------------------------------------


def test_done_is_reported_only_when_the_png_is_written(shelf, photo_path, outputs):
    seen = []

    def progress(fraction, text):
        seen.append((fraction, text, sorted(p.name for p in outputs.root.rglob("*.png"))))

    session.run_to_end(shelf, None, limits.prepare(photo_path, 2), outputs, progress=progress)
    before_done = [written for fraction, _, written in seen if fraction < 1]
    assert not before_done[-1], "the PNG was already written before the last progress report under 1"
    assert "explanation" in seen[-2][1]
    assert seen[-1][0] == 1 and seen[-1][2] == ["face-liif-x2-40x32.png"]


def test_status_names_the_model_file_hash_device_and_precision(shelf, photo_path):
    run = session.run_to_end(shelf, None, limits.prepare(photo_path, 2))
    digest = hashlib.sha256(shelf.paths["random.safetensors"].read_bytes()).hexdigest()
    text = session.status_text(run)
    assert f"`random.safetensors` (SHA-256 `{digest[:12]}`)" in text
    assert f"on {run.facts.device} in {run.facts.precision}" in text


def test_precision_can_be_forced_for_reproducible_pixels(weights_path, monkeypatch):
    monkeypatch.setenv(settings.PRECISION, "fp32")
    assert models.ModelShelf(weights_path, device="cpu").upscaler().precision == "fp32"


def test_estimate_before_a_run_uses_the_engines_measured_speed(weights_path, photo_path, monkeypatch):
    fresh = models.ModelShelf(weights_path, device="cpu")
    size = imageio.image_size(photo_path)
    big = limits.output_size_for(*size, 20)  # 400x320 = 128,000 output pixels from 320 input pixels
    assert limits.estimate_text(fresh, None, size, big) == ""  # nothing measured yet: nothing promised
    assert not fresh._upscalers  # ... and nothing loaded to say it
    # The one cost model: the engine's Speed, which the refusals use too.
    monkeypatch.setattr(fresh.upscaler(), "_speed", Speed(encoder_seconds_per_pixel=1e-3, decoder_seconds_per_pixel=1e-4))
    assert fresh.measured_speed(None).seconds(320, 128_000) == pytest.approx(0.32 + 12.8)
    assert "about 13 s" in limits.estimate_text(fresh, None, size, big)
    assert limits.estimate_text(fresh, None, size, limits.output_size_for(*size, 2)) == ""  # 0.45 s: says nothing


def test_example_run_made_at_start(shelf, photo_path, tmp_path):
    example = session.ExampleRun(shelf, photo_path, 2)
    result = example.wait(timeout=CLIENT_TIMEOUT)
    assert isinstance(result, session.Run) and result.request.out_width == 40 and example.problem is None
    broken = session.ExampleRun(models.ModelShelf(tmp_path / "none.safetensors"), photo_path, 2)
    assert broken.wait(timeout=CLIENT_TIMEOUT) is None and "none.safetensors" in broken.problem


def test_landing_shows_the_example_answer(page, shelf, photo_path, monkeypatch):
    monkeypatch.setattr(page.ctx, "landing", session.ExampleRun(shelf, photo_path, 2))
    view = page.explanation.landing_view()
    assert "An example answer" in view[page.explanation.answer_note] and "×2" in view[page.explanation.answer_note]
    assert "Model `random.safetensors` (SHA-256" in view[page.explanation.answer_note]
    assert "Observed, from your photo" in view[page.explanation.why_text]
    assert view[page.explanation.added_view]["value"].shape[1] == 40  # the heat map, with its colour bar under it
    # Before any run, the pictures the example answer talks about: its input (pixels as squares), bicubic, LIIF.
    example = page.ctx.landing.run
    pictures = [view[v] for v in page.explanation.example_views]
    assert view[page.explanation.example_row]["visible"]
    assert [p["label"] for p in pictures] == ["Input", "Bicubic ×2", "LIIF ×2"]
    assert np.array_equal(pictures[2]["value"], example.liif_display) and pictures[0]["value"].shape == (32, 40, 3)
    # A visitor's own run has its pictures above: the example's go.
    assert page.explanation.explanation_view(example)[page.explanation.example_row]["visible"] is False


def test_magnifier_by_keyboard(page, photo_path):
    import gradio as gr

    result = list(page.upscale.run(str(photo_path), 4, 0, 0, None))[-1][page.run_state]
    click = gr.SelectData(None, {"index": [5, 60], "value": None})
    _, _, by_keys, _, _, point = page.upscale.pick_point(result, 5, 60)
    _, _, by_click, _, _ = page.upscale.pick_region(result, evt=click)
    assert by_keys["label"] == by_click["label"]
    # The typed point is the one the movie and the ladder centre on, as a click's is.
    assert point == page.remember_point(result, click)
    *_, x, y, point = page.upscale.pick_point(result, 10_000, -3)  # kept inside the picture
    assert (x, y) == (79, 0) and point[0] < 1 and point[1] < 0.05


def test_magnifier_zoom_control_sets_how_many_input_pixels_it_shows(page, photo_path):
    """The magnifier promised "any region at any zoom" with no way to zoom: its slider now says how many
    input pixels across it shows, from 4 (close) to 32, starting twice as close as the output."""
    from liif.page import session

    done = {}  # the page after every update of the run
    for update in page.upscale.run(str(photo_path), 2, 0, 0, None):
        done |= update
    result = done[page.run_state]
    # The page's tile is made small here (the page fixture); at the start, twice as close as the output.
    assert done[page.upscale.magnify_side] == max(4, round(session.MAGNIFIER_TILE / (2 * 2)))
    widths = {}
    for side in (4, 12, 1, 99):  # outside the slider's range: held inside it (and inside the 20x16 photo)
        *_, magnifier, _, _, _ = page.upscale.pick_point(result, 20, 16, side)
        x0, x1 = (float(v) for v in re.search(r"x ([\d.]+)–([\d.]+)", magnifier["label"]).groups())
        widths[side] = x1 - x0
    assert widths[4] == pytest.approx(4) and widths[12] == pytest.approx(12)
    assert widths[1] == widths[4] and widths[99] == pytest.approx(16)


def test_a_photo_of_a_few_pixels_is_told_why_its_output_is_a_blur(page, tmp_path):
    """A 1x1 photo gave an 8x8 dot with no word."""
    one = tmp_path / "one.png"
    Image.new("RGB", (1, 1), (200, 40, 90)).save(one)
    done = list(page.upscale.run(str(one), 8, 0, 0, None))[-1]
    assert "single pixel" in done[page.upscale.status]
    few = tmp_path / "few.png"
    Image.new("RGB", (3, 2), (200, 40, 90)).save(few)
    done = list(page.upscale.run(str(few), 8, 0, 0, None))[-1]
    assert "only 6 pixels" in done[page.upscale.status]
    for status in (done[page.upscale.status], session.status_text(done[page.run_state])):
        assert "single pixel" not in status
    assert explain_words.few_pixels_text(20, 16) == ""  # a small photo, but one with shapes in it


def test_examples_are_captioned_with_their_size():
    from liif.page.context import REPO
    from liif.page.sections.upscale import example_caption

    assert example_caption(REPO / "assets" / "examples" / "grace-hopper-48.png") == "Grace Hopper, 48×48"


def test_every_model_button_asks_for_its_turn_before_queueing(page):
    """Each button that queues model work first runs turn_check (unqueued), then stop_if_refused, and only
    on their success the job: a refused visitor reads why beside the button, never only "Error" pills."""
    fns = page.demo.fns
    for name in ("run", "run_check", "make_zoom", "make_ladder", "pick_point", "show_answers", "look_inside"):
        job = next(f for f in fns.values() if f.name == name and f.trigger_after is not None)
        gate = fns[job.trigger_after]
        check = fns[gate.trigger_after]
        assert job.trigger_only_on_success and gate.trigger_only_on_success, name
        assert (gate.name, check.name) == ("stop_if_refused", "turn_check") and not check.queue and not gate.queue


def test_the_queue_holds_model_work_only(page):
    """A visitor's share of the queue counts every queued event of their session. When the page's own
    helpers (the upload's follow-ups, the landing example, remembering a click) were queued they took that
    share, and one visitor pressing a button was refused with Gradio's "busy"."""
    from liif.page.widgets import MODEL_WORK

    queued = {fn.name: fn.concurrency_id for fn in page.demo.fns.values() if fn.queue is not False}
    assert queued and all(kind == MODEL_WORK for kind in queued.values()), queued


def test_a_jpeg_photo_gets_the_model_trained_on_compressed_inputs(tmp_path, photo_path):
    """Issue 26: the page detects a JPEG from the file, offers the JPEG-trained model with the measured
    reason, and the run's status says which kind of model it used."""
    import torch

    from liif.core.model import LIIF, LIIFConfig
    from liif.core.weights import save_weights
    from liif.page.context import PageContext
    from liif.page.layout import build_page

    torch.manual_seed(1)
    jpeg_weights = save_weights(LIIF(LIIFConfig(encoder="edsr-baseline")), tmp_path / "jpeg.safetensors",
                                extra_metadata={"training": {"steps": 1, "jpeg_inputs": {"quality": "30-95",
                                                                                         "clean_share": 0.5}}})
    shelf = models.ModelShelf(jpeg_weights, device="cpu")
    assert shelf.jpeg_trained() == "jpeg.safetensors"
    page = build_page(PageContext(shelf, files.OutputFolder(parent=tmp_path)))
    photo = tmp_path / "thumbnail.png"  # a JPEG whatever its name says
    Image.open(photo_path).convert("RGB").save(photo, format="JPEG", quality=70)
    chosen, note = page.upscale.suggest_model(str(photo), None)
    assert chosen == "jpeg.safetensors" and "Your photo is a JPEG" in note
    assert page.upscale.suggest_model(str(photo_path), None) == (gr_update(), "")  # a PNG: nothing changes
    done = list(page.upscale.run(str(photo), 2, 0, 0, "jpeg.safetensors"))[-1]
    assert "trained on compressed photos like it" in done[page.upscale.status]
    page.ctx.outputs.cleanup()


def gr_update():
    import gradio as gr

    return gr.update()
