"""What a visitor sees while they wait, and once it is done (issue 34), judged in Chromium by what is drawn:

- a second visitor who presses Run while the first one's run is going sees the wait, their place in the
  queue and the seconds on the status line under Run, at 1280 and 390 px: the pixels there change, and
  the text is the topmost thing at its centre, inside every box that would clip it;
- the Done line's times agree with the browser's own clock (the click, the first LIIF rows, the last
  picture), within 1 s;
- no picture's label is covered by the picture or by its icon buttons, nor cut short.

The page is built here from its own context, on small random weights, and its runs are made slow on
purpose (a pause before each step of the run, SLOW_STEP_SECONDS), so that the waits are long whatever
the CPU; nothing here asserts a time, only that the page and the browser agree on one.
"""

import io
import os
import re
import socket
import time

import numpy as np
import pytest
from PIL import Image
from visual import text_problems

from liif.lessons import explain_words
from liif.page import limits, wait
from liif.render import sizes

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTO = os.path.join(REPO, "assets", "examples", "astronaut-64.png")
SLOW_STEP_SECONDS = 1.0  # before each step of a run: previews, the finished run
WIDE, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
TIMEOUT_MS = 300_000  # a run on a busy 2-core machine, behind another one

# -- the wait's words and the rule for "stretched", without a browser -----------------------------------


def test_the_waits_words_count_from_the_click():
    clicked = wait.now() - 5.0
    waited = wait.Wait.since(clicked)
    assert waited.queued_seconds >= 5.0 and "after 5.0 s waiting for the model to be free" in waited.started_words(False)
    assert "loading this model" in waited.started_words(True)
    with pytest.raises(ValueError):
        waited.done_words()
    waited.all_shown()  # every row came with the last pictures: they showed at the same moment
    words = waited.done_words()
    total = float(re.search(r"(\d+\.\d) s after you pressed Run", words)[1])
    first = float(re.search(r"first LIIF rows showed after (\d+\.\d) s", words)[1])
    assert total >= 5.0 and first == total and "waiting for the model to be free" in words
    # A run without its own click (the tour chains it) starts its wait when it starts, and says so.
    chained = wait.Wait.since(None)
    assert "waiting for the model" not in chained.started_words(False) and chained.since_words == "since it started"
    chained.all_shown()
    assert "after it started" in chained.done_words() and "pressed Run" not in chained.done_words()
    assert wait.waiting_words(0).startswith("**Starting**")
    assert "1 job is waiting or running" in wait.waiting_words(1) and "3 jobs are" in wait.waiting_words(3)


def test_a_measured_speed_is_read_while_another_visitors_run_holds_the_model(weights_path):
    """Issue 34 item 2: a second visitor's upload showed only a spinner in the Scale box: the photo's largest
    scale asked for the model's speed, which waited for the model's lock, held by the first visitor's run."""
    import threading

    from liif.page import models

    shelf = models.ModelShelf(weights_path, device="cpu")
    assert shelf.measured_speed() is None
    measured = shelf.speed()
    assert shelf.measured_speed() == measured
    answers = []
    with shelf.lock():  # someone else's run
        reader = threading.Thread(target=lambda: answers.append(shelf.speed()))
        reader.start()
        reader.join(timeout=30)
        assert answers == [measured], "the speed waited for the model's lock"


def test_a_scale_is_called_stretched_only_when_the_proportions_really_differ():
    """Issue 34 item 10: "×5.59 wide, ×5.6 tall (stretched)" for a photo whose shape was kept. Whole
    pixels make the two scales differ a little; that is rounding, said as one scale, by the page's labels
    and by the explanation alike."""
    class Facts:  # what explain_words.scale_text reads
        def __init__(self, w, h, ow, oh):
            self.in_width, self.in_height, self.out_width, self.out_height = w, h, ow, oh

    for w in (1, 3, 5, 17, 48, 64, 97, 300):
        for h in (1, 2, 7, 48, 64, 123):
            for scale in (1.1, 1.5, 2.3, 5.6, 8, 13.7, 30):
                ow, oh = sizes.output_size(w, h, scale=scale)
                request = limits.Request(_Loaded(w, h), ow, oh)
                assert not sizes.stretched(w, h, ow, oh) and not request.stretched, (w, h, scale, ow, oh)
                assert "stretched" not in request.scale_label() and "tall" not in explain_words.scale_text(Facts(w, h, ow, oh))
            for box in ((333, 77), (96, 500), (1000, 999)):  # fit inside a box: the shape is kept
                ow, oh = limits.output_size_for(w, h, None, *box)
                assert not limits.Request(_Loaded(w, h), ow, oh).stretched, (w, h, box, ow, oh)
    request = limits.Request(_Loaded(64, 48), 358, 300)  # asked for: 64×48 stretched to 358×300
    assert request.stretched and request.scale_label() == "×5.59 wide, ×6.25 tall (stretched)"
    assert explain_words.scale_text(Facts(64, 48, 358, 300)) == "×5.59 wide and ×6.25 tall"


class _Loaded:
    """What Request reads of a loaded photo: its size."""

    def __init__(self, width, height):
        self.width, self.height = width, height


# -- the page, served here, in Chromium ---------------------------------------------------------------


@pytest.fixture(scope="module")
def slow_page(weights_path):
    """The page on small random weights, served in this process as app.py serves it (its CSS and script),
    with every run paused SLOW_STEP_SECONDS before each of its steps: its URL."""
    from liif.page import files, models, session
    from liif.page.context import PageContext
    from liif.page.layout import CSS_PATH, PAGE_JS, build_page

    real_steps = session.run_steps

    def slow_steps(*args, **kwargs):
        for step in real_steps(*args, **kwargs):
            time.sleep(SLOW_STEP_SECONDS)
            yield step

    patch = pytest.MonkeyPatch()
    patch.setattr(session, "run_steps", slow_steps)
    folder = files.OutputFolder()
    page = build_page(PageContext(models.ModelShelf(weights_path, device="cpu"), folder))
    demo = page.queue(default_concurrency_limit=1)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                css_paths=[CSS_PATH], js=PAGE_JS)
    yield f"http://127.0.0.1:{port}/"
    demo.close()
    patch.undo()
    folder.cleanup()


@pytest.fixture(scope="module")
def chromium():
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.access(executable, os.X_OK):
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Chromium at {executable} (set CHROMIUM_PATH)")
        pytest.skip(f"no Chromium at {executable} (set CHROMIUM_PATH)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def _visitor(chromium, url, viewport):
    """A visitor's tab with the page loaded and the photo chosen (scale ×8)."""
    context = chromium.new_context(viewport=viewport, device_scale_factor=1, locale="en-US", reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.locator("#answer-note").get_by_text("An example answer").wait_for(state="visible")
    page.locator("#upload-image input[type=file]").set_input_files(PHOTO)
    page.locator("#upload-image img").first.wait_for(state="visible")
    return context, page


def _done(page):
    page.locator("#status strong").get_by_text("Done", exact=True).wait_for(state="visible")


# Is `selector`'s element drawn where it is? At its centre the topmost element (hit-testing made to see
# through Gradio's `pointer-events: none`, which changes what takes clicks, not what is painted) is it or
# inside it, and it lies inside every ancestor whose overflow would clip it (Gradio's tracker sat in a box
# 0 px tall with overflow hidden: present, sized, and invisible).
DRAWN = """(el) => {
  const box = el.getBoundingClientRect();
  const clippedBy = [];
  for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
    const st = getComputedStyle(a);
    if (st.overflowX === 'visible' && st.overflowY === 'visible') continue;
    const r = a.getBoundingClientRect();
    if (box.left < r.left - 1 || box.right > r.right + 1 || box.top < r.top - 1 || box.bottom > r.bottom + 1)
      clippedBy.push(`${a.tagName.toLowerCase()}#${a.id}.${String(a.className).slice(0, 40)} ${Math.round(r.top)}-${Math.round(r.bottom)}`);
  }
  const probe = document.createElement('style');
  probe.textContent = '* { pointer-events: auto !important; }';
  document.head.append(probe);
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  probe.remove();
  return {box: [box.left, box.top, box.width, box.height], scroll: [scrollX, scrollY], text: el.textContent.trim(),
          topmost: !!hit && (hit === el || el.contains(hit)), hit: hit ? hit.tagName + '.' + String(hit.className).slice(0, 40) : null,
          clippedBy};
}"""


def _drawn(locator) -> dict:
    locator.scroll_into_view_if_needed()
    return locator.evaluate(DRAWN)


def _crop(png: bytes, box) -> np.ndarray:
    """The grey levels of `png` inside `box` (x, y, width, height)."""
    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L")).astype(int)
    x, y, w, h = (round(v) for v in box)
    return grey[max(y, 0):y + h, max(x, 0):x + w]


@pytest.mark.browser
@pytest.mark.server
@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280", "390"])
def test_a_waiting_visitor_sees_the_wait_and_their_place_drawn_under_run(chromium, slow_page, viewport, tmp_path):
    first_context, first = _visitor(chromium, slow_page, viewport)
    second_context, second = _visitor(chromium, slow_page, viewport)
    try:
        run = second.locator("#run-button")
        run.scroll_into_view_if_needed()
        second.mouse.move(0, 0)
        below = run.evaluate("el => el.getBoundingClientRect().bottom + scrollY")  # in the page, not the window
        area = {"x": 0, "y": below, "width": viewport["width"], "height": 200}
        idle = second.screenshot(full_page=True, clip=area, animations="disabled", caret="hide")

        first.locator("#run-button").click()
        first.locator("#status").get_by_text(re.compile("Started|Rendering")).first.wait_for(state="visible")
        run.click()
        sentence = second.locator("#status strong").get_by_text("Waiting for your turn")
        sentence.wait_for(state="visible")
        place = second.locator("#status .progress-text").filter(has_text=re.compile(r"queue: \d+/\d+"))
        place.wait_for(state="visible")
        second.mouse.move(0, 0)
        drawn = {"sentence": _drawn(sentence), "place": _drawn(place)}
        waiting = second.screenshot(full_page=True, clip=area, animations="disabled", caret="hide")
        assert second.locator("#status").get_by_text("Waiting for your turn").count(), "the wait ended before it was read"

        for what, seen in drawn.items():
            assert seen["topmost"], f"{what} {seen['text']!r} is covered at its centre by {seen['hit']}"
            assert not seen["clippedBy"], f"{what} {seen['text']!r} at {seen['box']} is clipped by {seen['clippedBy']}"
            x, y, w, h = seen["box"]
            inside = (x + seen["scroll"][0], y + seen["scroll"][1] - area["y"], w, h)
            assert 0 <= inside[1] and inside[1] + h <= area["height"], f"{what} is not in the status area: {seen['box']}"
            # Drawn: in the text's own box the screenshot holds dark ink, and differs from the idle one.
            now, before = _crop(waiting, inside), _crop(idle, inside)
            changed = int((np.abs(now - before) > 64).sum())
            assert (now < 128).sum() > 20 and changed > 20, f"{what}: {changed} pixels changed in its box"
        (tmp_path / "idle.png").write_bytes(idle)
        (tmp_path / "waiting.png").write_bytes(waiting)
        print(f"at {viewport['width']} px (the status area idle and waiting: {tmp_path}) the waiting visitor's status reads "
              f"{drawn['sentence']['text']!r} / {drawn['place']['text']!r}")
        _done(second)
    finally:
        first_context.close()
        second_context.close()


# The browser's own clock for one run, from the click: when the status first says LIIF rows are shown,
# when the last picture of the page loaded, when Done appeared. performance.now() and event time stamps
# share one origin.
BROWSER_CLOCK = """() => {
  const seen = window.__wait = {};
  document.querySelector('#run-button').addEventListener('click', () => { seen.click = performance.now(); },
                                                         {capture: true, once: true});
  new MutationObserver(() => {
    if (seen.click === undefined) return;
    const text = document.querySelector('#status').innerText;
    if (seen.firstRows === undefined && /[1-9]\\d*% of the rows done|Every row is done|Every picture is made/.test(text))
      seen.firstRows = performance.now();
    if (seen.done === undefined && /\\bDone\\b/.test(text)) seen.done = performance.now();
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
  document.addEventListener('load', (event) => {
    if (seen.click !== undefined && event.target.tagName === 'IMG') seen.lastPicture = event.timeStamp;
  }, true);
}"""
PICTURES_IN = "#results-area img, #explanation img, #compare img"


def _all_pictures_loaded(page):
    """Wait until every picture of the run has loaded; a picture far below the window (on a phone) loads
    only when near it, so they are all asked for now, as a visitor scrolling down would."""
    page.wait_for_function(f"""() => [...document.querySelectorAll('{PICTURES_IN}')].every(img => {{
        if (img.loading === 'lazy') img.loading = 'eager';
        return !img.getAttribute('src') || (img.complete && img.naturalWidth > 0); }})""")


@pytest.mark.browser
@pytest.mark.server
def test_the_done_line_tells_the_wait_the_browser_measured(chromium, slow_page):
    """Issue 34 item 3: the page said "first LIIF rows after 0.8 s, all in 4.0 s" when the browser saw
    them at 10.8 s and 19.9 s. The visitor here waits behind another one's run, so the queue is part of it."""
    first_context, first = _visitor(chromium, slow_page, WIDE)
    second_context, second = _visitor(chromium, slow_page, WIDE)
    try:
        second.evaluate(BROWSER_CLOCK)
        first.locator("#run-button").click()
        first.locator("#status").get_by_text(re.compile("Started|Rendering")).first.wait_for(state="visible")
        second.locator("#run-button").click()
        _done(second)
        _all_pictures_loaded(second)  # the last may finish just after Done is written
        second.wait_for_timeout(500)
        seen = second.evaluate("() => window.__wait")
        line = second.locator("#status p").first.inner_text()
        said_total = float(re.search(r"(\d+\.\d) s after you pressed Run", line)[1])
        said_first = float(re.search(r"the first LIIF rows showed after (\d+\.\d) s", line)[1])
        measured_total = (seen["lastPicture"] - seen["click"]) / 1000
        measured_first = (seen["firstRows"] - seen["click"]) / 1000
        print(f"Done line: first rows {said_first} s, last picture {said_total} s; the browser: "
              f"{measured_first:.2f} s and {measured_total:.2f} s (Done shown at {(seen['done'] - seen['click']) / 1000:.2f} s)")
        assert "waiting for the model to be free" in line, f"the visitor waited behind another run: {line!r}"
        assert abs(said_total - measured_total) <= 1.0, (line, seen)
        assert abs(said_first - measured_first) <= 1.0, (line, seen)
        _done(first)
    finally:
        first_context.close()
        second_context.close()


# Every picture's label that a visitor sees in `root`: its box, whether it is the topmost thing at its
# centre, whether it is cut short, and what of its block it overlaps: the block's icon buttons, and what
# the block shows, i.e. the picture as drawn (the image's content scaled into its box with object-fit) or
# an upload box's icon and words.
LABELS = """(root) => {
  const rect = (r) => [r.left, r.top, r.right, r.bottom];
  const overlap = (a, b) => Math.min(a[2], b[2]) - Math.max(a[0], b[0]) > 1 && Math.min(a[3], b[3]) - Math.max(a[1], b[1]) > 1;
  const drawnPicture = (img) => {
    const r = img.getBoundingClientRect(), st = getComputedStyle(img);
    const left = r.left + parseFloat(st.paddingLeft) + parseFloat(st.borderLeftWidth);
    const top = r.top + parseFloat(st.paddingTop) + parseFloat(st.borderTopWidth);
    const w = img.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
    const h = img.clientHeight - parseFloat(st.paddingTop) - parseFloat(st.paddingBottom);
    let scale = Math.min(w / img.naturalWidth, h / img.naturalHeight);
    if (st.objectFit === 'scale-down') scale = Math.min(scale, 1);
    if (st.objectFit === 'fill') return [left, top, left + w, top + h];
    const dw = img.naturalWidth * scale, dh = img.naturalHeight * scale;
    return [left + (w - dw) / 2, top + (h - dh) / 2, left + (w + dw) / 2, top + (h + dh) / 2];
  };
  const probe = document.createElement('style');
  probe.textContent = 'label[data-testid="block-label"] { pointer-events: auto !important; }';
  document.head.append(probe);
  const found = [];
  for (const label of document.querySelectorAll(`${root} label[data-testid="block-label"]`)) {
    const box = label.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(label).visibility === 'hidden') continue;
    const block = label.closest('.block');
    if (!block || !block.querySelector('.image-container')) continue;  // pictures and uploads only
    label.scrollIntoView({block: 'center'});
    const r = rect(label.getBoundingClientRect());
    const hit = document.elementFromPoint((r[0] + r[2]) / 2, (r[1] + r[3]) / 2);
    const buttons = [...block.querySelectorAll('.icon-button-wrapper button, .icon-button-wrapper a')]
      .map(b => rect(b.getBoundingClientRect())).filter(b => b[2] > b[0]);
    const img = block.querySelector('.image-container img');
    const picture = img && img.complete && img.naturalWidth ? drawnPicture(img) : null;
    const whole = rect(block.getBoundingClientRect());
    const pictureHidden = !!picture && !(picture[2] - picture[0] > 1 && picture[3] - picture[1] > 1 && picture[0] >= whole[0] - 1
      && picture[1] >= whole[1] - 1 && picture[2] <= whole[2] + 1 && picture[3] <= whole[3] + 1);
    const shown = picture ? [picture] : [];
    let promptHidden = false;
    for (const prompt of block.querySelectorAll('[data-testid="upload-text"]')) {
      const words = document.createRange();
      words.selectNodeContents(prompt);
      const lines = [...words.getClientRects()].map(rect);
      shown.push(...lines);
      const area = rect(prompt.closest('.upload-container').getBoundingClientRect());
      promptHidden = promptHidden || lines.some(l => l[1] < area[1] - 1 || l[3] > area[3] + 1);
    }
    found.push({id: block.id, text: label.textContent.trim(),
                topmost: !!hit && label.contains(hit), hit: hit ? hit.tagName + '.' + String(hit.className).slice(0, 40) : null,
                cut: label.scrollWidth > label.clientWidth + 1,
                underButton: buttons.some(b => overlap(r, b)), overPicture: shown.some(b => overlap(r, b)),
                pictureHidden, picture, promptHidden});
  }
  probe.remove();
  return found;
}"""


def _label_problems(page, root, where) -> list:
    problems = []
    for label in page.evaluate(LABELS, root):
        said = f"{where} #{label['id']} {label['text'][:70]!r}"
        if not label["topmost"]:
            problems.append(f"{said} is covered at its centre by {label['hit']}")
        if label["cut"]:
            problems.append(f"{said} is cut short")
        if label["underButton"]:
            problems.append(f"{said} runs under its icon buttons")
        if label["overPicture"]:
            problems.append(f"{said} covers its picture (or its upload box's words)")
        if label["promptHidden"]:
            problems.append(f"{said}: its upload box's words run out of the box")
        if label["pictureHidden"]:
            problems.append(f"{said}: its picture, at {label['picture']}, is not drawn whole inside its block")
    return problems


@pytest.mark.browser
@pytest.mark.server
@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280", "390"])
def test_no_label_is_covered_by_its_picture_or_its_buttons(chromium, slow_page, viewport):
    """Issue 34 items 10 and 11: "Magnifier: input pixels x 15.5–32.5, ..." ran under the fullscreen
    button, "Your input | the LIIF output shrunk back" covered the top of the input, and step 4's "My own
    photo (...)" label covered its upload box."""
    context, page = _visitor(chromium, slow_page, viewport)
    try:
        page.locator("#run-button").click()
        _done(page)
        page.locator("#answer-how button.label-wrap").click()  # the answer's measuring pictures, folded
        _all_pictures_loaded(page)
        seen = {label["id"] for label in page.evaluate(LABELS, "body")}
        assert {"input-image", "magnifier", "liif-output", "consistency"} <= seen, seen
        problems = _label_problems(page, "body", "after a run:") + text_problems(page, "#results-area", "after a run: ")
        problems += text_problems(page, "#explanation", "after a run: ")
        page.locator("#check-section button.label-wrap").click()  # step 4, with the visitor's own photo
        page.locator("#check-section").get_by_text("My own photo", exact=True).click()
        page.locator("#check-upload").wait_for(state="visible")
        assert "check-upload" in {label["id"] for label in page.evaluate(LABELS, "#check-section")}
        problems += _label_problems(page, "#check-section", "step 4, own photo:")
        assert not problems, "\n".join(problems)
    finally:
        context.close()
