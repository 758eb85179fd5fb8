"""The page as a public Space (issue 15): no lock-out by one client, bounded heavy requests, nothing
left behind, no uncaught errors; and requests that do what the controls promise (issue 12).

Load and abuse tests run against 127.0.0.1 only, with bounded counts and time limits. Most use a
randomly initialised EDSR-baseline model (the plumbing is tested, not the pictures); the heaviest-request
test uses the shipped default model, as a visitor gets it.
"""

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
import visitors_client as web
from PIL import Image

from liif import settings
from liif.page import files, limits, models, session, visitors
from liif.render import imageio
from liif.render.engine import Speed

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """48x32: wider than tall, so fitting and stretching differ."""
    rgb = np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    path = tmp_path_factory.mktemp("photos") / "wide.png"
    Image.fromarray(rgb).save(path)
    return path


# -- what a request may ask (issue 12: controls that promise what they do) -------------------------------


def test_width_and_height_fit_the_photo_inside_unless_stretch_is_ticked(photo):
    fitted = limits.prepare(photo, 8, target_width=300, target_height=120)  # 48x32 used to become 300x120
    assert (fitted.out_width, fitted.out_height) == (180, 120) and not fitted.stretched
    assert fitted.scale_label() == "×3.75"
    wide_box = limits.prepare(photo, 8, target_width=96, target_height=500)
    assert (wide_box.out_width, wide_box.out_height) == (96, 64)
    stretched = limits.prepare(photo, 8, target_width=300, target_height=120, stretch=True)
    assert (stretched.out_width, stretched.out_height) == (300, 120) and stretched.stretched
    assert stretched.scale_label() == "×6.25 wide, ×3.75 tall (stretched)"


def test_page_labels_say_when_a_scale_is_not_uniform(photo):
    from liif.page.sections.upscale import output_label

    request = limits.prepare(photo, None, target_width=300, target_height=120, stretch=True)
    assert output_label("LIIF", request) == "LIIF ×6.25 wide, ×3.75 tall (stretched): 300×120 pixels"


SLOW = Speed(encoder_seconds_per_pixel=1e-3, decoder_seconds_per_pixel=1e-5)  # 1 ms per input pixel


def test_the_slider_stops_at_the_largest_scale_the_page_accepts(monkeypatch, photo):
    monkeypatch.delenv(settings.PAGE_SECONDS, raising=False)
    most = limits.max_scale(48, 32, SLOW)
    assert 1 <= most < limits.SCALE_MAX
    accepted = limits.prepare(photo, most, speed=SLOW)
    assert SLOW.seconds(48 * 32, accepted.out_width * accepted.out_height) <= limits.PAGE_MODEL_SECONDS
    with pytest.raises(imageio.ImageInputError, match=f"the largest scale for this photo is ×{most:g}"):
        limits.prepare(photo, round(most + limits.SCALE_STEP, 1), speed=SLOW)
    # Without a work limit, the 2 MP output limit decides: 48x32 at x30 = 1.38 MP is fine, so x30.
    assert limits.max_scale(48, 32) == limits.SCALE_MAX
    assert limits.max_scale(64, 64) == pytest.approx(22.0)  # 64x64 at x22.1 would be 2.0003 MP
    assert limits.max_scale(1000, 1000, SLOW) == 0  # the encoder alone would take 1000 s


def test_every_slider_value_works_for_each_example(monkeypatch):
    """x30 used to be refused for every shipped example. The slider's maximum for each is accepted."""
    monkeypatch.delenv(settings.PAGE_SECONDS, raising=False)
    for example in sorted((REPO / "assets" / "examples").glob("*.png")):
        loaded = imageio.load_image(example)
        most = limits.max_scale(loaded.width, loaded.height, SLOW)
        assert most >= 1, example
        limits.prepare(example, most, speed=SLOW)


def test_refusals_on_the_page_name_no_command_line_flags(monkeypatch, photo, tmp_path):
    big = tmp_path / "big.png"
    Image.new("RGB", (1500, 1400)).save(big)
    attempts = [lambda: limits.prepare(photo, 400), lambda: limits.prepare(photo, 30, speed=SLOW),
                lambda: limits.prepare(big, 1, speed=SLOW)]
    monkeypatch.setenv(settings.MAX_INPUT_PIXELS, "1000000")
    attempts.append(lambda: limits.prepare(big, 1))
    for attempt in attempts:
        with pytest.raises(imageio.ImageInputError) as caught:
            attempt()
        message = str(caught.value)
        assert "--" not in message and "LIIF_" not in message and "command line" not in message, message


def test_the_api_without_a_scale_asks_for_one(photo):
    """It used to say "give exactly one of scale, size, width or height": parameters the API lacks."""
    with pytest.raises(imageio.ImageInputError) as caught:
        limits.prepare(photo, None)
    assert "choose a scale" in str(caught.value) and "size" not in str(caught.value)


@pytest.mark.parametrize("scale, width", [(1e308, 0), (8, 1e308), (float("inf"), 0), (8, 10**400)])
def test_absurd_numbers_from_the_page_are_sentences(photo, scale, width):
    with pytest.raises(imageio.ImageInputError):
        limits.prepare(photo, scale, target_width=width)


@pytest.fixture
def page(built_page, monkeypatch):
    monkeypatch.setattr(session, "MAGNIFIER_TILE", 32)
    return built_page


def test_a_failed_request_clears_the_previous_result(page, photo, tmp_path):
    import gradio as gr

    done = list(page.upscale.run(str(photo), 2, 0, 0, None))[-1]
    assert "**Done**" in done[page.upscale.status]
    bad = tmp_path / "bad.png"
    bad.write_text("not a picture")
    steps = page.upscale.run(str(bad), 2, 0, 0, None)
    started, cleared = next(steps), next(steps)
    assert started[page.upscale.status].startswith("**Started**")
    assert cleared[page.run_state] is None and cleared[page.upscale.liif_view]["value"] is None
    assert cleared[page.upscale.input_view]["value"] is None and not cleared[page.upscale.download]["visible"]
    assert cleared[page.upscale.status].startswith("**Not run**") and "bad.png is not an image" in cleared[page.upscale.status]
    with pytest.raises(gr.Error):
        next(steps)


def test_choosing_a_photo_sets_the_slider_maximum(page, photo, monkeypatch):
    monkeypatch.setattr(page.ctx.shelf, "speed", lambda name=None: SLOW)
    update = page.upscale.scale_limit(str(photo), 30, None)
    most = limits.max_scale(48, 32, SLOW)
    assert update["maximum"] == most and update["value"] == most
    note, cap = page.upscale.cap.show(str(photo), None)  # beside the slider, on a phone too
    assert note["visible"] and f"Up to ×{most:g}** for this 48×32 photo" in note["value"] and cap == (most, 48, 32, None)
    assert page.upscale.scale_limit(None, 8, None)["maximum"] == limits.SCALE_MAX


def test_a_photo_too_large_to_enlarge_holds_the_slider_at_1_and_says_what_fits(page, monkeypatch, tmp_path):
    """Issue 20 point 5: a 1000x1000 photo made `scale_limit` send maximum=1 (the slider's minimum), which
    Gradio answers with "Slider minimum must be less than maximum", a 500, and no word to the visitor."""
    monkeypatch.delenv(settings.PAGE_SECONDS, raising=False)
    monkeypatch.setattr(page.ctx.shelf, "speed", lambda name=None: SLOW)
    for side in (320, 1000, 1400):  # 0.1 to 2 MP: the ordinary web photos of the report
        photo = tmp_path / f"web_{side}.png"
        Image.new("RGB", (side, side), (90, 120, 150)).save(photo)
        update = page.upscale.scale_limit(str(photo), 8, None)
        assert update.get("maximum", limits.SCALE_MAX) > 1, update  # a slider of 1 to 1 is Gradio's 500
        assert update["value"] == 1 and update["interactive"] is False
        note = page.upscale.cap.show(str(photo), None)[0]["value"]  # beside the slider, on a phone too
        assert f"{side}×{side} photo" in note and "enlarged ×2" in note
        w, h = map(int, note.split("Shrunk to about ")[1].split(" ")[0].split("×"))
        shrunk = tmp_path / f"shrunk_{side}.png"
        Image.new("RGB", (w, h)).save(shrunk)
        limits.prepare(shrunk, 2, speed=SLOW)  # the advice is true: x2 of that size is accepted
    small = page.upscale.scale_limit(str(REPO / "assets" / "examples" / sorted(p.name for p in (REPO / "assets" / "examples").glob("*.png"))[0]), 8, None)
    assert small["interactive"] is True and small["maximum"] > 1


# -- start-up: weights checked, leftovers removed (points 3 and 9) ----------------------------------------


def test_a_corrupt_weights_file_is_reported_at_start(tmp_path):
    """It used to be found by the first visitor: "Error while deserializing header: header too large"."""
    corrupt = tmp_path / "broken.safetensors"
    corrupt.write_bytes((10**12).to_bytes(8, "little") + b"{}")
    shelf = models.ModelShelf(corrupt)
    assert shelf.names == [] and "broken.safetensors" in shelf.problem


def test_folders_of_servers_that_died_are_removed_at_start(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = tmp_path / f"liif-zoom-{int(dead.stdout)}-abc"
    (orphan / "gradio").mkdir(parents=True)
    (orphan / "gradio" / "upload.png").write_bytes(b"a visitor's photo")
    mine = files.OutputFolder(parent=tmp_path)
    unrelated = tmp_path / "something-else"
    unrelated.mkdir()
    assert files.OutputFolder.remove_leftovers(tmp_path) == [orphan]
    assert not orphan.exists() and mine.root.is_dir() and unrelated.is_dir()
    mine.cleanup()
    assert not mine.root.exists()


# -- uploads and expired links (points 3 and 11), as ASGI calls -------------------------------------------


class FakeFolder:
    def __init__(self, size):
        self.size = size

    def size_bytes(self):
        return self.size


def guard(folder_size=0):
    return visitors.UploadGuard(None, FakeFolder(folder_size), total_bytes=1000, client_bytes=300, window=60)


def test_uploads_are_bounded_in_all_and_per_client():
    g = guard()

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    g.app = app

    def post(size, client="203.0.113.9", length=True):
        sent = []

        async def send(message):
            sent.append(message)

        headers = [(b"content-length", str(size).encode())] if length else []
        scope = {"type": "http", "method": "POST", "path": "/gradio_api/upload", "client": (client, 1), "headers": headers}
        asyncio.run(g(scope, None, send))
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent if "body" in m).decode()

    assert post(200)[0] == 200
    status, text = post(200)  # 400 bytes from one client in the window: over its 300
    assert status == 413 and "from one visitor" in text
    assert post(200, client="203.0.113.10")[0] == 200  # another visitor is not affected
    assert post(10, length=False)[0] == 413
    g.folder = FakeFolder(950)
    status, text = post(100, client="203.0.113.11")
    assert status == 413 and "full" in text


def test_an_expired_file_link_says_so():
    g = guard()

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 403, "headers": [(b"content-length", b"20")]})
        await send({"type": "http.response.body", "body": b"File not allowed: x."})

    g.app = app
    sent = []

    async def send(message):
        sent.append(message)

    asyncio.run(g({"type": "http", "method": "GET", "path": "/gradio_api/file=/tmp/gone.png", "headers": []}, None, send))
    body = b"".join(m.get("body", b"") for m in sent if "body" in m).decode()
    assert sent[0]["status"] == 403 and body == visitors.EXPIRED_FILE


# -- the running server: one client cannot lock others out (point 1), URLs refused (point 10) -------------


@pytest.fixture(scope="module")
def app_env(weights_path):
    # A generous work limit here: these tests need jobs of a few seconds to be accepted however slow the
    # machine, or busy when the server timed its model (the limit itself is tested above and below). With
    # 30 s, a slower CI machine refused the job that was to hold the worker, so nothing waited behind it.
    # A small cap per address, so that a flood meets it within the 1 s an unread job may wait.
    return {"LIIF_WEIGHTS": str(weights_path), settings.CLIENT_HEADER: "x-forwarded-for",
            settings.UNREAD_SECONDS: "1", settings.PAGE_SECONDS: "300", settings.JOBS_PER_ADDRESS: "6"}


@pytest.mark.server
def test_a_flood_from_one_client_leaves_room_for_another(app_server, photo):
    """17 fire-and-forget posts used to fill the queue, and every other visitor got "Queue is full"."""
    url = app_server.url
    image = web.upload(url, photo, client="192.0.2.1")
    answers = [web.submit(url, image, 8, client="192.0.2.1") for _ in range(20)]  # never read
    accepted = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 503]
    # Each post is its own session; at most 6 from one address at a time on this server, which drops an
    # unread waiting job after 1 s and so frees a place now and then.
    assert 6 <= len(accepted) <= 14 and len(accepted) + len(refused) == 20, [a.status_code for a in answers]
    assert "6 requests from your network" in refused[0].json()["detail"]
    other = web.visit(url, photo, 2, client="192.0.2.2")
    assert other.outcome == "served", f"{other}\n{app_server.log_tail()}"


@pytest.mark.server
def test_a_posted_job_nobody_reads_leaves_the_queue(app_server, photo, tmp_path):
    """Jobs posted to /call/upscale used to wait and run even when nobody ever read the result."""
    url, client = app_server.url, "192.0.2.9"
    image = web.upload(url, photo, client=client)
    larger = tmp_path / "larger.png"
    Image.fromarray(np.random.default_rng(5).integers(0, 256, (120, 160, 3), dtype=np.uint8)).save(larger)
    running = web.submit(url, web.upload(url, larger, client=client), 5, client=client)  # ~5 s, read at once
    assert running.status_code == 200
    with ThreadPoolExecutor(2) as reader:
        first = reader.submit(web.result, url, running.json()["event_id"], client)
        unread = web.submit(url, image, 2, client=client)  # waits behind it; never read in time
        assert unread.status_code == 200
        time.sleep(2.5)  # past the 1 s this server gives (LIIF_UNREAD_SECONDS)
        again = web.submit(url, image, 2, client=client)
        assert again.status_code == 200, again.text  # the unread job no longer counts against this client
        second = reader.submit(web.result, url, again.json()["event_id"], client)
        event, data = web.result(url, unread.json()["event_id"], client=client, timeout=60)
        assert event == "error" and "nobody read its result" in json.dumps(data), (event, data, first.result())
        assert first.result()[0] == "complete" and second.result()[0] == "complete", (first.result(), second.result())


@pytest.mark.server
def test_a_web_address_is_refused_not_fetched(app_server):
    image = {"path": "http://127.0.0.1:9/photo.png", "url": "http://127.0.0.1:9/photo.png",
             "meta": {"_type": "gradio.FileData"}}
    answer = web.submit(app_server.url, image, 2, client="192.0.2.3")
    event, data = web.result(app_server.url, answer.json()["event_id"], client="192.0.2.3")
    assert event == "error" and "not a web address" in json.dumps(data), (event, data)


@pytest.mark.server
def test_an_expired_download_link_says_so_on_the_server(app_server):
    gone = Path(tempfile.gettempdir()) / "liif-zoom-gone" / "result.png"
    response = httpx.get(f"{app_server.url}gradio_api/file={gone}", timeout=30)
    assert response.status_code == 403 and "no longer here" in response.text


# -- nothing left behind (point 3) -------------------------------------------------------------------------


def server_folder(pid: int) -> Path:
    folders = list(Path(tempfile.gettempdir()).glob(f"liif-zoom-{pid}-*"))
    assert len(folders) == 1, folders
    return folders[0]


@pytest.mark.server
def test_sigterm_and_sigkill_leave_no_visitor_files(start_app, weights_path, photo):
    env = {"LIIF_WEIGHTS": str(weights_path)}
    killed = start_app(env)
    folder = server_folder(killed.process.pid)
    assert web.visit(killed.url, photo, 2, client=None).outcome == "served"
    stored = [p for p in folder.rglob("*") if p.is_file()]
    assert any(p.name.startswith("wide-liif") for p in stored)
    assert sum(p.name.startswith("wide-liif") for p in stored) == 1  # each output stored once
    os.killpg(killed.process.pid, signal.SIGKILL)
    killed.process.wait(timeout=30)
    assert folder.is_dir()  # nothing can run on SIGKILL...

    restarted = start_app(env)  # ...so the next server removes it
    assert not folder.exists()
    mine = server_folder(restarted.process.pid)
    assert web.visit(restarted.url, photo, 2, client=None).outcome == "served"
    image = web.upload(restarted.url, photo)
    assert web.submit(restarted.url, image, 8).status_code == 200  # computing when the signal comes
    time.sleep(0.5)
    os.killpg(restarted.process.pid, signal.SIGTERM)
    assert restarted.process.wait(timeout=60) == 0  # not 134: no abort under a computing thread
    assert not mine.exists(), [str(p) for p in mine.rglob("*")]


# -- the heaviest request the page accepts (point 2), with the shipped default model ------------------------

HEAVIEST = r"""
import gc, json, math, os, resource, sys, time
import numpy as np
from PIL import Image
from liif.page import files, limits, models, session


def rss_now():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))


shelf = models.ModelShelf(device="cpu")
speed = shelf.speed()
tmp = sys.argv[1]
results = {"speed": [speed.encoder_seconds_per_pixel, speed.decoder_seconds_per_pixel], "runs": []}
outputs = files.OutputFolder(parent=tmp)
rng = np.random.default_rng(0)
# The largest square photo the page takes at x1, then a 64x64 photo at the largest scale it allows.
side = 8
while limits.max_scale(side + 8, side + 8, speed) >= 1:
    side += 8
cases = [(side, 1.0), (64, limits.max_scale(64, 64, speed))]
for side, scale in cases:
    path = os.path.join(tmp, f"p{side}.png")
    Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(path)
    gc.collect()
    idle = rss_now()
    start = time.perf_counter()
    request = limits.prepare(path, scale, speed=speed)
    result = session.run_to_end(shelf, None, request, outputs)
    session.magnify(shelf, result)  # the page shows the magnifier with every result
    seconds = time.perf_counter() - start
    del result, request
    gc.collect()
    session.give_back_memory()  # as the page does after each run
    results["runs"].append({"photo": side, "scale": scale, "seconds": seconds, "idle": idle, "after": rss_now(),
                            "estimate": speed.seconds(side * side, round(side * scale) ** 2)})
results["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
outputs.cleanup()
print(json.dumps(results))
"""


@pytest.mark.slow
def test_the_heaviest_accepted_request_is_short_and_gives_its_memory_back(tmp_path):
    """A legal 1.95 MP request used to hold the only worker for 114 s and 3.8 GB (1.7 GB kept after).
    Held here: 3 GB peak, memory back within 200 MB of idle. (Its time, about 20 s at most on a 2-core
    CPU, depends on the CPU and its neighbours: printed here, measured by python -m liif bench.)"""
    done = subprocess.run([sys.executable, "-c", HEAVIEST, str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(results, indent=1))
    for run in results["runs"]:  # their seconds are this machine's: printed, not held (python -m liif bench)
        assert run["after"] - run["idle"] <= 200e6, run
    assert results["peak"] <= 3e9


# -- the page in a browser: the slider follows the photo (issue 12) ------------------------------------------


@pytest.mark.browser
@pytest.mark.server
def test_in_the_browser_the_slider_stops_where_the_photo_allows_and_errors_clear_the_result(app_server, tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        pytest.skip(f"no Chromium at {chromium} (set CHROMIUM_PATH)")
    url = app_server.url
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.set_default_timeout(240_000)
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(url.rstrip("/"))
                   or route.request.url.startswith(("data:", "blob:")) else route.abort())
        page.goto(url)
        page.locator("#run-button").wait_for(state="visible")
        slider = page.locator("#scale-slider input[type=range]")
        assert float(slider.get_attribute("max")) == limits.SCALE_MAX
        page.locator(".gallery-item").first.click()  # the first example: astronaut, 48x48
        page.wait_for_function("() => Number(document.querySelector('#scale-slider input[type=range]').max) < 30")
        most = float(slider.get_attribute("max"))
        assert 1 <= most < limits.SCALE_MAX
        assert f"×{most:g}" in page.locator("#scale-cap").inner_text()
        number = page.locator("#scale-slider input[type=number]")
        number.fill(str(min(most, 8)))  # the slider's maximum itself is run by the heaviest-request test
        number.press("Enter")
        page.locator("#run-button").click()
        page.locator("#status strong").get_by_text("Done", exact=True).wait_for(state="visible")
        page.screenshot(path=str(tmp_path / "done.png"))
        # A request that fails: a target width far beyond the limit. The old "Done" and pictures go.
        page.locator("#size-options button.label-wrap").click()  # the exact size is folded under the scale
        width = page.locator("#target-width input")
        width.fill("99999")
        width.press("Enter")
        page.locator("#run-button").click()
        page.locator("#status strong").get_by_text("Not run", exact=True).wait_for(state="visible")
        page.screenshot(path=str(tmp_path / "failed.png"))
        assert "Done" not in page.locator("#status").inner_text()
        srcs = page.locator("#liif-output img, #bicubic-output img, #input-image img").evaluate_all("els => els.map(e => e.src)")
        assert srcs == [], srcs
        browser.close()
    print(f"screenshots in {tmp_path}")


def test_a_scale_past_the_stated_largest_is_refused_even_when_rounding_would_fit(tmp_path):
    """64x64 at x22.1 rounds to 1414x1414 (under 2 MP) and used to be accepted while the page said x22."""
    path = tmp_path / "square.png"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(path)
    assert limits.max_scale(64, 64) == pytest.approx(22.0)
    assert limits.prepare(path, 22).out_width == 1408
    with pytest.raises(imageio.ImageInputError, match=r"the largest scale for this photo is ×22\b"):
        limits.prepare(path, 22.1)


def test_one_visitors_encoding_is_never_reused_for_another(monkeypatch, weights_path, photo):
    """Issue 20 point 7: a stranger uploading a picture someone else had run was told "Reused from an
    earlier run on this same picture" (and was faster for it). Encodings are kept per visitor."""
    shelf = models.ModelShelf(weights_path, device="cpu")
    request = limits.prepare(photo, 2)
    first = session.run_to_end(shelf, None, request, owner="visitor-a")
    again = session.run_to_end(shelf, None, request, owner="visitor-a")
    stranger = session.run_to_end(shelf, None, request, owner="visitor-b")
    assert not first.facts.encoder_reused and again.facts.encoder_reused
    assert not stranger.facts.encoder_reused
    assert "Reused" not in stranger.explanation.markdown() and "Reused" in again.explanation.markdown()
    # The magnifier still reuses its own visitor's encoding, and the cache stays the engine's size.
    session.magnify(shelf, again)
    cache = shelf.upscaler().encodings  # the engine's own cache: the shelf files each visitor's in it
    assert 0 < len(cache) <= cache.size
    assert {owner for owner, _ in cache.keys()} <= {"visitor-a", "visitor-b"}


@pytest.mark.browser
@pytest.mark.server
def test_in_the_browser_a_pasted_picture_and_a_shipped_original_still_work(app_server, tmp_path):
    """The guards (paths, pasted pictures, turns) must not stop a real visitor: a picture pasted from the
    clipboard runs, and the check against a shipped original gives its numbers."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        pytest.skip(f"no Chromium at {chromium} (set CHROMIUM_PATH)")
    url = app_server.url
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(8).integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(buffer, "PNG")
    png = list(buffer.getvalue())
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1280, "height": 1400})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
        page = context.new_page()
        page.set_default_timeout(240_000)
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(url.rstrip("/"))
                   or route.request.url.startswith(("data:", "blob:")) else route.abort())
        page.goto(url)
        page.locator("#run-button").wait_for(state="visible")
        page.evaluate("""async bytes => {
            const blob = new Blob([new Uint8Array(bytes)], {type: 'image/png'});
            await navigator.clipboard.write([new ClipboardItem({'image/png': blob})]);
        }""", png)
        page.locator("#upload-image button[aria-label='Paste from clipboard']").click()
        page.locator("#upload-image img").wait_for(state="visible")
        page.locator("#run-button").click()
        page.locator("#status strong").get_by_text("Done", exact=True).wait_for(state="visible")
        assert "40×40" in page.locator("#status").inner_text()
        page.locator("#check-section button").first.click()  # unfolds the step
        page.locator("#check-button").click()  # the check's default choice: a shipped original
        page.locator("#check-text").get_by_text("dB").first.wait_for(state="visible")
        page.screenshot(path=str(tmp_path / "pasted-and-checked.png"), full_page=True)
        browser.close()
