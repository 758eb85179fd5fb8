"""How a run of the answers lesson (liif/lessons/answers.py) is shown: its sentences, each generated from
the run's own numbers, its table and its sheet, one PNG of the input beside every candidate.

    findings(result), markdown(result), sheet(result)   # an Answers' sentences, its words, its PNG
"""

import math

import numpy as np
from PIL import Image

from liif.core import fmt
from liif.lessons.answers_fit import GOAL_LEVELS, mean_abs
from liif.render.sheet import Panel
from liif.render.sheet import sheet as draw_sheet

# The sheet (liif/render/sheet.py): panels this high at most, each in a column this wide at least.
SHEET_PANEL, SHEET_COLUMN = 320, 180


def findings(result) -> list:
    """Sentences about an `Answers`, each from this run's own numbers, true for any picture."""
    s = result.scale
    (h, w), (big_w, big_h) = result.tiny.shape[:2], result.size
    fitted = result.fitted
    liif = result.candidate("liif")
    worst = max(c.max_abs_levels for c in fitted)
    mean = float(np.mean([c.mean_abs_levels for c in fitted]))
    within = "exactly" if worst == 0 else f"to within {levels(worst)} of 255 at every pixel"
    sentences = [
        f"**All {len(fitted)} sharp pictures fit.** Each is {fmt.size(big_w, big_h)}; shrunk ×{s} with the "
        f"{result.operator} (how the model's training inputs were made) and rounded to 8 bits, each gives the "
        f"{fmt.size(w, h)} input back {within} (on average {mean:.2f} levels off).",
    ]
    built = [c for c in fitted if c.constructed]
    if built:
        changed = [c.changed_levels for c in built]
        generated = result.candidate("guess-fit") is not None
        sentences.append(
            ("**Made to fit.** The sharp ones were made to fit here by back-projection (one starting from the "
             "sharp guess, the others not from any generative model): each started "
             if generated else
             "**Constructed, not generated.** The sharp ones were made here by back-projection, not by a "
             "generative model: each started ")
            + f"from a picture with detail finer than one input pixel of its own "
            f"({'; '.join(c.label for c in built)}) and was corrected {result.rounds} times or more by adding the "
            f"bicubic enlargement of what its shrink still missed, clamped to 0–255 each time; that changed them "
            f"by {span(changed)} levels on average.")
    if len(fitted) > 1:
        apart = max(mean_abs(a.picture, b.picture) for i, a in enumerate(fitted) for b in fitted[i + 1 :])
        sentences.append(
            f"**These pixels cannot tell them apart.** The sharp pictures differ from one another by up to "
            f"{apart:.1f} levels on average, yet shrink to the same tiny photo: what differs is finer than one "
            f"input pixel, which recorded only the average of the {s * s} output pixels it stands for.")
    different = result.candidate("different")
    if different is not None:
        sentences.append(
            f"**Even a different picture fits.** The different picture ({different.source}) was changed by "
            f"{different.changed_levels:.1f} levels on average to fit, each correction a {fmt.size(w, h)} difference "
            f"enlarged; it stays {different.liif_distance_levels:.1f} levels from LIIF's answer on average. What one "
            f"still sees of {different.source} in it, finer than an input pixel, is what the tiny photo does not "
            f"hold at ×{s}.")
    if liif.max_abs_levels <= GOAL_LEVELS:
        fit = "as close as the constructed ones"
    elif liif.mean_abs_levels <= 2 * GOAL_LEVELS:
        fit = "close, not exact"
    else:
        fit = "not close: this model does not reproduce its input well"
    sentences.append(
        f"**LIIF draws the average.** Its own render, not adjusted here, shrinks back to within "
        f"{levels(liif.max_abs_levels)} ({liif.mean_abs_levels:.2f} on average, {db(liif.consistency_psnr_db)}): "
        f"{fit}. Trained to be right on average (an L1 loss over many photos), where the input cannot decide it "
        f"draws something like the average of every picture that fits: that is why it is soft, and why it is "
        f"none of the sharp ones.")
    drawn = result.candidate("guess")
    if drawn is None:
        sentences.append(
            "**A generative upscaler picks one.** It draws one of these many fitting pictures sharp, detail and all: "
            "that is why its result looks like a new photo, and why a face it draws need not be the person's, since "
            "the tiny photo cannot tell it which one was there.")
    else:
        made = result.candidate("guess-fit")
        sentences.append(
            f"**The sharp guess picks one.** The same network trained to look real drew it from the same pixels: "
            f"as drawn it shrinks back to within {levels(drawn.max_abs_levels)} ({drawn.mean_abs_levels:.2f} on "
            "average)" + (f", and made to fit {within_levels(made.max_abs_levels)}" if made is not None else "")
            + ". It is one of the many pictures that fit, drawn from what the model learned photos look like: that "
            "is why it looks like a new photo, and why a face it draws need not be the person's.")
    real = result.candidate("real")
    if real is not None:
        others = [c for c in result.candidates if c.kind != "real"]
        closest = max(others, key=lambda c: c.psnr_to_real_db)
        scores = ", ".join(f"{c.label} {db(c.psnr_to_real_db)}" for c in others)
        rest = [c for c in fitted if c.kind != "real"]
        sentences.append(
            f"**The real photo is one of them.** Against it (PSNR-Y): {scores}; {closest.label} is the closest. "
            f"From the tiny photo alone nothing marks the real one out: it shrinks back "
            f"{within_levels(real.max_abs_levels)}"
            + (f", the other sharp answers {within_levels(max(c.max_abs_levels for c in rest))}." if rest else "."))
    return sentences


def markdown(result) -> str:
    """The table of the candidates, how each was made, the sentences and the timing: for the page and the
    command line."""
    real = result.candidate("real") is not None
    rows = ["| answer | shrunk back: off by at most | on average | PSNR |", "| --- | --- | --- | --- |"]
    if real:
        rows = [rows[0] + " PSNR-Y to the real photo |", rows[1] + " --- |"]
    for c in result.candidates:
        row = (f"| {c.label} | {levels(c.max_abs_levels)} | {c.mean_abs_levels:.2f} | "
               f"{db(c.consistency_psnr_db)} |")
        rows.append(row + (f" {db(c.psnr_to_real_db, 'identical')} |" if real else ""))
    how = "\n".join(f"- *{c.label}*: {c.how}" for c in result.candidates)
    timing = (f"{fmt.seconds(result.seconds)} in all, of which LIIF's render {fmt.seconds(result.liif_seconds)} "
              f"and everything else {fmt.seconds(result.extra_seconds)}.")
    return "\n\n".join(["\n".join(rows), how, "\n".join(f"- {s}" for s in findings(result)), timing])


def sheet(result) -> Image.Image:
    """The input (its pixels as squares), then every candidate, side by side, each with its label and
    its numbers: one PNG."""
    big_w, big_h = result.size
    h, w = result.tiny.shape[:2]
    panels = [Panel(np.repeat(np.repeat(result.tiny, result.scale, 0), result.scale, 1),
                    f"the input: {w}×{h} (each square one pixel)", [f"×{result.scale} makes {big_w}×{big_h}"], pixels=True)]
    for c in result.candidates:
        lines = [f"shrinks back: max {levels(c.max_abs_levels)} off",
                 f"mean {c.mean_abs_levels:.2f} levels, {db(c.consistency_psnr_db)}"]
        if c.psnr_to_real_db is not None:
            lines.append(f"PSNR-Y to the real photo: {db(c.psnr_to_real_db, 'identical')}")
        panels.append(Panel(c.picture, c.label, lines))
    drawn = " and the sharp guess as drawn" if result.candidate("guess") is not None else ""
    caption = (f"Every answer but LIIF's{drawn} was made here by back-projection to fit "
               f"the input: shrunk ×{result.scale} ({result.operator}) and rounded, each lands within "
               f"{levels(max((c.max_abs_levels for c in result.fitted), default=0))} of it.")
    return draw_sheet(panels, min(SHEET_PANEL, big_h), caption, f"LIIF Zoom, model {result.model_name or 'LIIF'}",
                      min_column=SHEET_COLUMN)


# -- helpers ---------------------------------------------------------------------------------------


def within_levels(n: int) -> str:
    """How close a picture shrinks back: "exactly", or "to within n level(s)"."""
    return "exactly" if n == 0 else f"to within {levels(n)}"


def levels(n: int) -> str:
    return fmt.plural(str(n), "level")


def db(value, exact: str = "exact") -> str:
    """A PSNR, short: "24.3 dB", `exact` where the pictures are the same, "–" where it was not measured."""
    if value is None:
        return "–"
    return exact if math.isinf(value) else f"{value:.1f} dB"


def span(values: list) -> str:
    low, high = min(values), max(values)
    return f"{low:.1f}" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f} to {high:.1f}"
