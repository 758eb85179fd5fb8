"""The answer's words that depend on the picture: its scale and blocks, where the detail comes from
(observed, learned, invented), and the sentences meant for some pictures only.

    why_markdown(facts, numbers)   # section 3 of the answer (explain.py puts the answer together)

Every sentence is chosen by a fact of the run, so the answer stays true for any picture: a JPEG (its
quality estimated from the file's quantisation tables: `RunFacts.jpeg_quality`), a photo of very few
pixels, a scale beyond the ones the model was trained on, a face (found by OpenCV's Haar cascade,
liif/evaluation/faces.py's count_faces: `numbers["faces"]`), or none of them
(a building, a strip, printed text). tests/test_explain.py runs it on each.
"""

import math

from liif.core import fmt
from liif.render import sizes
from liif.training.config import trained_scales

# |LIIF - bicubic| at or above this many levels (of 255) is drawn at the colour map's brightest.
# Fixed, not per image, so two runs' heat maps can be compared by eye.
HEAT_FULL_SCALE = 32.0
# PSNR above which two 8-bit images are, for practical purposes, the same picture.
SAME_PICTURE_DB = 40.0
CLOSE_PICTURE_DB = 30.0
# A mean |LIIF - bicubic| below this many levels shows as a nearly black heat map: the text says so.
NEARLY_NOTHING_ADDED_LEVELS = 1.0
# Where the added detail lies: its share on this fraction of the output with the strongest bicubic edges.
EDGE_FRACTION = 0.2
EDGE_SHARE_TEXT = "fifth"
# Below this many input pixels the output is mostly one smooth blend: the run says why.
FEW_PIXELS = 16
def scale_text(facts) -> str:
    sx, sy = facts.out_width / facts.in_width, facts.out_height / facts.in_height
    if not sizes.stretched(facts.in_width, facts.in_height, facts.out_width, facts.out_height):
        return f"×{fmt.number(sx)}"  # the photo's shape, up to whole-pixel rounding
    return f"×{fmt.number(sx)} wide and ×{fmt.number(sy)} tall"


def block_text(facts) -> str:
    """The output block that one input pixel stands for, e.g. "8×8" (or "8×4" at uneven scales)."""
    return f"{fmt.number(facts.out_width / facts.in_width)}×{fmt.number(facts.out_height / facts.in_height)}"


def training_text(facts) -> str:
    """How small and briefly the running model was trained, from its weights file's own record."""
    record = facts.training or {}
    if not record.get("steps"):
        return "Its weights file carries no record of how it was trained."
    photos = record.get("n_train_images")
    seen = f"{fmt.count(photos)} photos (and their flips and transposes)" if photos else "its training photos"
    took = fmt.duration(record["wall_seconds"]) if record.get("wall_seconds") else ""
    where = f" on {_hardware(record)}" if record.get("hardware") else ""
    took = f" ({took}{where})" if took else where
    return f"This model learned it from only {seen} in {fmt.count(record['steps'])} training steps{took}."


def training_scale_text(facts) -> str:
    """Whether this run's scale is one the model was trained on (from its weights file, else the recipe)."""
    low, high = trained_scales(facts.training)
    scale = max(facts.out_width / facts.in_width, facts.out_height / facts.in_height)
    trained = f"×{fmt.number(low)} to ×{fmt.number(high)}"
    if scale <= high * 1.001:
        return f"It was trained on enlargements of {trained}; {scale_text(facts)} is among them."
    return (f"It was trained on enlargements of {trained} only: at {scale_text(facts)} it extrapolates "
            "([the scale ladder](#ladder-section) shows each scale).")


def few_pixels_text(width: int, height: int) -> str:
    """A sentence for a photo of very few pixels ("" otherwise): there is next to nothing to enlarge."""
    n = width * height
    if n == 1:
        return ("Your photo is a single pixel: one colour and nothing else, so every output pixel has that colour. "
                "No method can find shapes in it: there are none to find.")
    if n < FEW_PIXELS:
        return (f"Your photo has only {n} pixels: the output can only blend their {n} colours smoothly; there is no "
                "shape, edge or texture in them for a model to recognise.")
    return ""


def observed_text(facts) -> str:
    block = block_text(facts)
    if facts.jpeg_quality:
        return (
            f"- **Observed, from your photo**: its {fmt.count(facts.in_pixels)} pixels, saved as a **JPEG of "
            f"about quality {facts.jpeg_quality}** (read from the file's compression tables). JPEG stores them in "
            "squares of 64 (8 of your photo's pixels a side) and rounded away part of each square, so they are "
            "not quite the scene's colours: some of what "
            "is there is the compression's blocks and ringing, which a model trained on clean photos sharpens as "
            "if it were detail. [The check](#check-section) can save a tiny photo as a JPEG to show it.\n")
    return (f"- **Observed, from your photo**: its {fmt.count(facts.in_pixels)} pixels, each roughly the average "
            f"colour of one {block} block of the output. They fix where the edges and the light and dark areas are.\n")


def invented_text(facts) -> str:
    few = few_pixels_text(facts.in_width, facts.in_height)
    if few:
        return f"- **Invented: nothing recognisable.** {few}\n"
    return (
        f"- **Invented: what no one observed.** Nothing inside an input pixel (its {block_text(facts)} block of "
        "output pixels) was recorded. Trained with an L1 loss (a small *average* error), this model draws the "
        "*average* of the details that fit, so its result is soft. [Many sharp pictures fit your photo exactly](#answers-section); "
        "an upscaler that makes a \"new photo\" picks *one* of them and draws it sharp.\n")


def evidence_text(faces: int) -> str:
    """What a sharp result is not evidence of: worded for a face only where the cascade found one."""
    if faces:
        return ("- **A sharp face is not evidence of who it is.** Fitting the same tiny pixels, a generative "
                "upscaler can draw a different person: [what a model has seen decides what it draws](#seen-section).\n")
    return ("- **Sharp detail is not evidence of what was there.** Lines, letters and textures drawn finer than "
            "one input pixel are what usually goes with such pixels, not a record: [the check](#check-section) "
            "measures, on a photo whose original is known, where such detail is wrong.\n")


def why_markdown(facts, numbers: dict, enlarged: bool = True) -> str:
    liif_db, bicubic_db = numbers["consistency_psnr_db"], numbers["bicubic_consistency_psnr_db"]
    if liif_db >= SAME_PICTURE_DB:
        verdict = "practically the same picture: the model kept what was observed."
    elif liif_db >= CLOSE_PICTURE_DB:
        verdict = "close: the model mostly kept what was observed."
    else:
        verdict = ("noticeably different: this model changed what was observed. An untrained or unsuitable "
                   "model does this; a trained one should not.")
    if enlarged:
        observed, invented = observed_text(facts), invented_text(facts)
        learned = (f"- **Learned, from training photos**: how such structures usually look when sharp. "
                   f"{training_text(facts)} {training_scale_text(facts)}\n")
        few = few_pixels_text(facts.in_width, facts.in_height)
        evidence = "" if few else evidence_text(numbers.get("faces", 0))  # nothing sharp to mistake
    else:
        observed = ("- **Observed, from your photo**: this run made the picture smaller, so every output pixel "
                    "is an average of pixels that were recorded.\n")
        invented = "- **Invented: nothing.** Shrinking needs no detail that was not recorded.\n"
        learned = f"- **Learned, from training photos**: how such structures usually look when sharp. {training_text(facts)}\n"
        evidence = ""
    added, on_edges = numbers["added_mean_levels"], numbers["added_on_edges_share"]
    if added < NEARLY_NOTHING_ADDED_LEVELS:
        heat = (f"**What was added** (heat map): the map is nearly black: at {scale_text(facts)} the model "
                f"added almost nothing over bicubic interpolation (**{added:.2f} levels** of 255 on average).")
    else:
        heat = (f"**What was added** (heat map): on average **{added:.2f} levels** (of 255) per colour over plain "
                f"bicubic interpolation; **{on_edges:.0%}** of it lies on the {EDGE_SHARE_TEXT} of the picture "
                f"with the strongest edges (spread evenly, it would be {EDGE_FRACTION:.0%}).")
    return (
        "### 3. Where the detail comes from: observed, learned, invented\n"
        f"{observed}{learned}{invented}{evidence}\n"
        f"{heat}\n\n"
        "<details><summary>More: the heat map, the consistency check</summary>\n\n"
        f"- **The heat map** shows |LIIF − bicubic| at every output pixel: what the model drew over plain "
        f"interpolation (bicubic guesses too, more smoothly); black means no change, the brightest colour "
        f"{HEAT_FULL_SCALE:.0f} or more levels.\n"
        f"- **Consistency check**: the LIIF output shrunk back to {fmt.size(facts.in_width, facts.in_height)} "
        "(antialiased bicubic, as the training inputs were made) compared with your input: "
        f"**{_db(liif_db)}** PSNR, {verdict} (Plain bicubic, shrunk back the same way: {_db(bicubic_db)}.)\n\n"
        "</details>"
    )


def _hardware(record: dict) -> str:
    hardware = str(record["hardware"])
    processes = int(record.get("processes") or 1)
    if "GPU" in hardware.upper() or "NVIDIA" in hardware.upper():
        return f"{'one' if processes == 1 else processes} {hardware} GPU{'s' if processes > 1 else ''}"
    return hardware


def _db(value: float) -> str:
    return "∞ dB (identical)" if math.isinf(value) else f"{value:.1f} dB"
