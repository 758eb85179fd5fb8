"""Compare screenshots with baseline PNGs, with a small tolerance.

Two images match when they have the same size and at most `max_fraction` of their pixels differ by more
than `tolerance` in some channel. The tolerance absorbs anti-aliasing and font-hinting noise; the
fraction lets a handful of such pixels through but not a changed panel (a 100×100 change on a
1280×1800 page is 0.43% of it).

`assert_snapshot` keeps the baselines: on a mismatch it writes `<name>.actual.png` and `<name>.diff.png`
next to the baseline and fails with their paths. UPDATE_SNAPSHOTS=1 rewrites the baseline instead.

`text_problems` reads a page as a person would: text smaller than READABLE_PX, or cut short by its box;
`header_words_broken`, the words of table headers that are broken across two lines.
"""

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

TOLERANCE = 16  # per-channel difference on 0..255 that still counts as equal
MAX_FRACTION = 0.001  # at most 0.1% of the pixels may differ by more


@dataclass
class Comparison:
    ok: bool
    reason: str
    diff: Image.Image | None = None  # where they differ, for a person to look at


def to_rgb_array(image) -> np.ndarray:
    """PNG bytes, a path, a PIL image or an H×W×3 array -> H×W×3 uint8 (alpha dropped: screenshots are opaque)."""
    if isinstance(image, np.ndarray):
        return image[..., :3].astype(np.uint8, copy=False)
    if isinstance(image, (bytes, bytearray)):
        image = Image.open(io.BytesIO(image))
    elif isinstance(image, (str, Path)):
        image = Image.open(image)
    return np.asarray(image.convert("RGB"))


def compare(actual, expected, tolerance: int = TOLERANCE, max_fraction: float = MAX_FRACTION) -> Comparison:
    a, e = to_rgb_array(actual), to_rgb_array(expected)
    if a.shape != e.shape:
        return Comparison(False, f"size differs: actual {a.shape[1]}×{a.shape[0]}, expected {e.shape[1]}×{e.shape[0]}")
    # int16 so that the subtraction of uint8 values cannot wrap around.
    bad = (np.abs(a.astype(np.int16) - e.astype(np.int16)) > tolerance).any(axis=2)
    count, total = int(bad.sum()), bad.size
    reason = (f"{count} of {total} pixels ({100 * count / total:.3f}%) differ by more than {tolerance}; "
              f"allowed {100 * max_fraction:.3f}%")
    if count > max_fraction * total:
        return Comparison(False, reason, _diff_image(e, bad))
    return Comparison(True, reason)


def _diff_image(expected: np.ndarray, bad: np.ndarray) -> Image.Image:
    # The baseline faded to grey, with the differing pixels in solid red.
    grey = expected.mean(axis=2, keepdims=True) * 0.3 + 178
    out = np.repeat(grey, 3, axis=2).astype(np.uint8)
    out[bad] = (255, 0, 0)
    return Image.fromarray(out)


def assert_snapshot(actual, baseline: Path) -> None:
    """Fail unless `actual` (PNG bytes or image) matches the PNG at `baseline`; see the module doc."""
    baseline = Path(baseline)
    image = Image.fromarray(to_rgb_array(actual))
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        baseline.parent.mkdir(parents=True, exist_ok=True)
        image.save(baseline)
        return
    if not baseline.exists():
        baseline.parent.mkdir(parents=True, exist_ok=True)
        image.save(baseline)
        raise AssertionError(f"no baseline existed, so this screenshot was written as {baseline}: look at it, "
                             "and commit it if it is right (or run with UPDATE_SNAPSHOTS=1)")
    result = compare(image, baseline)
    stem = baseline.with_suffix("")
    actual_path, diff_path = Path(f"{stem}.actual.png"), Path(f"{stem}.diff.png")
    if result.ok:
        # Leftovers of an earlier failure would only mislead.
        actual_path.unlink(missing_ok=True)
        diff_path.unlink(missing_ok=True)
        return
    image.save(actual_path)
    message = f"screenshot differs from {baseline}: {result.reason}\n  actual: {actual_path}"
    if result.diff is not None:
        result.diff.save(diff_path)
        message += f"\n  diff:   {diff_path}"
    raise AssertionError(message)


READABLE_PX = 11  # the smallest text a phone visitor should be shown

# Every element inside `root` (a CSS selector) that shows text of its own, as a person sees it: rendered
# (not hidden, not transparent, with a size), with its computed font size; and those whose text is cut
# (wider than their box, which hides the rest: Gradio's labels end in "…" that way). Text for screen
# readers only is not seen: clipped to nothing on purpose (the .sr-only pattern: clip rect(0 0 0 0) or
# clip-path inset(50%), a box of 1 px or less), on the element or a box around it, like the
# "common.complete" that Gradio's status tracker puts in its aria-live region for a moment.
TEXT_SEEN = """(root) => {
  const screenReaderOnly = (el) => {
    for (let a = el; a && a !== document.body; a = a.parentElement) {
      const st = getComputedStyle(a), box = a.getBoundingClientRect();
      const clipped = /rect\(0(px)?,? 0(px)?,? 0(px)?,? 0(px)?\)/.test(st.clip) || st.clipPath === 'inset(50%)';
      const tiny = st.position === 'absolute' && box.width <= 1 && box.height <= 1;
      if (clipped || tiny || a.classList.contains('sr-only') || a.classList.contains('visually-hidden')) return true;
    }
    return false;
  };
  const texts = [];
  for (const el of document.querySelectorAll(`${root} *`)) {
    const own = [...el.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.data.trim());
    if (!own || el.getClientRects().length === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || parseFloat(style.opacity) === 0) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (screenReaderOnly(el)) continue;
    // Cut: the element, or one of the two boxes around it, hides what does not fit and has more than fits.
    let cut = false;
    for (let a = el, up = 0; a && up < 3 && !cut; a = a.parentElement, up++) {
      const st = up ? getComputedStyle(a) : style;
      const hides = ['hidden', 'clip'].includes(st.overflowX) || st.textOverflow === 'ellipsis';
      cut = hides && a.scrollWidth > a.clientWidth + 1;
    }
    texts.push({text: el.textContent.trim().slice(0, 60), tag: el.tagName.toLowerCase(),
                px: parseFloat(style.fontSize), cut});
  }
  return texts;
}"""


def text_problems(page, root: str = "body", where: str = "") -> list:
    """What a visitor cannot read in `root`: text under READABLE_PX, and text cut short by its box."""
    problems = []
    for t in page.evaluate(TEXT_SEEN, root):
        if t["px"] < READABLE_PX:
            problems.append(f"{where}{t['tag']} {t['text']!r} is {t['px']} px")
        if t["cut"]:
            problems.append(f"{where}{t['tag']} {t['text']!r} is cut short by its box")
    return problems


# Every word of every table header cell inside `root`, as laid out: the words whose letters lie on more than
# one line ("shi ft", "we igh t"). A word is a run without spaces, ending after a hyphen if it has one (a
# line may break after "grace-"); it is broken when its Range has client rectangles on two line tops.
HEADER_WORDS_BROKEN = """(root) => {
  const broken = [];
  for (const th of document.querySelectorAll(`${root} th`)) {
    if (th.getClientRects().length === 0) continue;
    const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/[^\\s\\-–]+[\\-–]?/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(`${m[0]} (in "${th.textContent.trim().slice(0, 40)}")`);
      }
    }
  }
  return broken;
}"""


def header_words_broken(page, root: str = "body", where: str = "") -> list:
    """Each word of a table header inside `root` that the page breaks across lines, with its header."""
    return [f"{where}{word}" for word in page.evaluate(HEADER_WORDS_BROKEN, root)]
