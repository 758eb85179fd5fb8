"""Seconds from pressing Run to the first LIIF rows on the page: the real app in a real browser.

    .venv/bin/python tools/page_first_rows.py                        # 3 photos, x8, Run pressed at once
    .venv/bin/python tools/page_first_rows.py --pause 3              # Run pressed 3 s after the upload
    ../shared/tools/avx2-only .venv/bin/python tools/page_first_rows.py   # as on a CPU without AVX-512/bf16

It starts `python app.py` (the default model, every setting as the README's) on a free port and waits
for the example answer it makes at start. For each photo (the 64x64 examples, one pixel changed, so no
encoding of them is cached anywhere) it opens a fresh page in Chromium, uploads the photo, sets the
scale, waits `--pause` seconds, presses Run, and reads in the browser's own clock (performance.now(),
0 = the click):
- `turn`: the turn check's reply (an unqueued request before the job is queued);
- `queued`: the job's request to join the queue sent;
- `stream`: the first byte of the job's event stream;
- `guess`: the LIIF panel's first picture loaded (the faded bicubic guess, before the model has run);
- `rows`: the panel's first picture with LIIF rows in it loaded (the run's second picture there);
- `done`: the status line's bold "Done".
It then prints the same run's stages as the app measures them in-process (`session.run_steps` on the
same photo in this process: preparing, the bicubic guess, the encoder, the first band), so the gap
between the two is the page's own cost (Gradio's events, pictures written and fetched).

Timing lives here and in docs/performance.md, never in a test's assertion.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
PHOTOS = ("astronaut-64.png", "coffee-64.png", "grace-hopper-64.png")

# Installed before Run is pressed: timestamps of the click, of every picture the LIIF panel is given (and
# when it has loaded), and of the bold "Done" in the status line.
WATCH_JS = """() => {
  const marks = {click: null, pictures: [], done: null};
  window.__firstRows = marks;
  document.querySelector('#run-button').addEventListener('click', () => {
    if (marks.click === null) marks.click = performance.now();
  }, true);
  const seen = new Set();
  const note = (img) => {
    const src = img.getAttribute('src');
    if (!src || seen.has(src) || marks.click === null) return;
    seen.add(src);
    const entry = {src: src, set: performance.now(), loaded: null};
    marks.pictures.push(entry);
    const loaded = () => { if (entry.loaded === null) entry.loaded = performance.now(); };
    if (img.complete && img.naturalWidth > 0) loaded(); else img.addEventListener('load', loaded, {once: true});
  };
  new MutationObserver(() => {
    const img = document.querySelector('#liif-output img');
    if (img) note(img);
    const strong = document.querySelector('#status strong');
    if (marks.done === null && strong && strong.textContent.trim() === 'Done') marks.done = performance.now();
  }).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['src'],
                             characterData: true});
}"""

RESOURCES_JS = """(click) => performance.getEntriesByType('resource')
  .filter(e => e.startTime >= click - 1)
  .map(e => ({name: e.name, start: e.startTime - click, first_byte: e.responseStart - click, end: e.responseEnd - click}))"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, log_path: Path, env: dict, repo: Path) -> subprocess.Popen:
    full_env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
                "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1", **env}
    with open(log_path, "wb") as log:
        return subprocess.Popen([sys.executable, "app.py"], cwd=repo, env=full_env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"app.py exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"app.py did not answer on {url} within {timeout:.0f} s")


def stop(process: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)  # the group started for the app: it and its children only
            process.wait(timeout=15)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def unseen_photo(name: str, folder: Path, index: int) -> Path:
    """An example photo with one pixel changed: nothing has encoded it before (caches key on content)."""
    rgb = np.array(Image.open(REPO / "assets" / "examples" / name).convert("RGB"))
    rgb[0, 0] = (rgb[0, 0].astype(int) + 37 * (index + 1)) % 256
    path = folder / f"unseen-{index}-{name}"
    Image.fromarray(rgb).save(path)
    return path


def browser_run(browser, url: str, photo: Path, scale: float, pause: float) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(300_000)
    try:
        page.goto(url)
        page.locator("#run-button").wait_for(state="visible")
        page.locator("#answer-note").get_by_text("An example answer").wait_for(state="visible")
        page.locator("#upload-image input[type=file]").set_input_files(str(photo))
        page.locator("#upload-image img").first.wait_for(state="visible")
        box = page.locator("#scale-slider input[type=number]")
        box.fill(str(scale))
        box.press("Enter")
        page.wait_for_timeout(500 + 1000 * pause)  # the page's answers to the new photo and scale, then the pause
        page.evaluate(WATCH_JS)
        page.locator("#run-button").click()
        try:
            page.wait_for_function("() => window.__firstRows.done !== null", timeout=180_000)
        except Exception:
            shot = Path(tempfile.gettempdir()) / f"page-first-rows-{photo.stem}.png"
            page.screenshot(path=shot, full_page=True)
            raise SystemExit(f"no Done after 180 s; status: {page.locator('#status').inner_text()!r}; page: {shot}")
        marks = page.evaluate("() => window.__firstRows")
        resources = page.evaluate(RESOURCES_JS, marks["click"])
    finally:
        context.close()
    click = marks["click"]
    pictures = [{"set": p["set"] - click, "loaded": None if p["loaded"] is None else p["loaded"] - click}
                for p in marks["pictures"]]
    api = [r for r in resources if "/gradio_api/" in r["name"] and "/file=" not in r["name"]]
    joins = [r for r in api if "queue/join" in r["name"]]
    streams = [r for r in api if "queue/data" in r["name"]]
    turn = [r for r in api if r not in joins and r not in streams]
    seconds = {
        "turn": turn[0]["end"] / 1000 if turn else None,
        "queued": joins[0]["start"] / 1000 if joins else None,
        "stream": streams[-1]["first_byte"] / 1000 if streams else None,
        "guess": _loaded(pictures, 0),
        "rows": _loaded(pictures, 1),
        "done": (marks["done"] - click) / 1000,
    }
    return {"photo": photo.name, "seconds": seconds, "pictures": pictures}


def _loaded(pictures: list, index: int):
    if len(pictures) <= index:
        return None
    picture = pictures[index]
    return (picture["loaded"] if picture["loaded"] is not None else picture["set"]) / 1000


def in_process_stages(photo: Path, scale: float, repo: Path) -> dict:
    """The same run in this process (`session.run_steps`, the page's own pipeline), stage by stage."""
    sys.path.insert(0, str(repo))
    from liif.page import limits, session
    from liif.page.models import ModelShelf

    shelf = ModelShelf()
    shelf.speed(shelf.default_name)  # loaded and warmed up, as the app does at start
    start = time.perf_counter()
    request = limits.prepare(photo, scale, speed=shelf.speed(shelf.default_name))
    prepared = time.perf_counter() - start
    marks = []
    for step in session.run_steps(shelf, None, request, owner="page_first_rows"):
        marks.append(time.perf_counter() - start)
    run = step
    # marks: the bicubic guess, the first picture with rows (a band, or every row at once), ..., the Run
    return {"prepare": prepared, "guess": marks[0], "encoder": run.facts.encoder_seconds, "rows": marks[1],
            "total": run.seconds_total, "precision": run.facts.precision}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=3, help="how many unseen photos (at most 3 examples, reused)")
    parser.add_argument("--scale", type=float, default=8)
    parser.add_argument("--pause", type=float, default=0, help="seconds between the upload and Run")
    parser.add_argument("--env", action="append", default=[], help="NAME=value for the app (e.g. LIIF_PRECISION=fp32)")
    parser.add_argument("--json", help="also write every run's figures here")
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout whose app is measured (default: this one)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    env = dict(item.split("=", 1) for item in args.env)
    folder = Path(tempfile.mkdtemp(prefix="page-first-rows-"))
    photos = [unseen_photo(PHOTOS[i % len(PHOTOS)], folder, i) for i in range(args.photos)]
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    app = start_app(port, folder / "app.log", env, args.repo.resolve())
    runs = []
    try:
        wait_until_up(url, app)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            for photo in photos:
                runs.append(browser_run(browser, url, photo, args.scale, args.pause))
                print(json.dumps({k: (round(v, 2) if v is not None else None) for k, v in runs[-1]["seconds"].items()}),
                      runs[-1]["photo"], flush=True)
            browser.close()
    finally:
        stop(app)
    os.environ.update(env)  # the app's settings for the in-process run too, and its threads (app.py)
    os.environ.setdefault("OMP_NUM_THREADS", str(len(os.sched_getaffinity(0))))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    stages = [in_process_stages(photo, args.scale, args.repo.resolve()) for photo in photos]
    names = ("turn", "queued", "stream", "guess", "rows", "done")
    print(f"\nIn the browser, seconds after the click on Run ({args.photos} photos, x{args.scale:g}, "
          f"Run {args.pause:g} s after the upload):\n")
    print("| photo | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))
    for run in runs:
        cells = ["-" if run["seconds"][n] is None else f"{run['seconds'][n]:.2f}" for n in names]
        print(f"| {run['photo']} | " + " | ".join(cells) + " |")
    print(f"\nThe same photos in-process (session.run_steps, {stages[0]['precision']}), seconds from the start:\n")
    print("| photo | prepared | bicubic guess | encoder took | first rows | whole run |")
    print("| --- | --- | --- | --- | --- | --- |")
    for photo, stage in zip(photos, stages):
        print(f"| {photo.name} | {stage['prepare']:.2f} | {stage['guess']:.2f} | {stage['encoder']:.2f} | "
              f"{stage['rows']:.2f} | {stage['total']:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": runs, "in_process": stages}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
