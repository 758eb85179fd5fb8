"""The compute estimates that the page's limits rely on are honest (issue 20): for the shipped model and
examples, the model time a run measures is within 0.67-1.5x of what `Speed.seconds` predicted for it
before it started. (A 400x20 photo at x8 was once promised "about 26 minutes" and took 8.3 s.)"""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from liif.core.weights import list_shipped
from liif.page import limits, models, session
from liif.render import imageio
from liif.render.engine import encoded_pixels

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not list_shipped(), reason="no trained weights in weights/")]

NOISE_SECONDS = 0.1
REPO_EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "assets" / "examples").glob("*.png"))


def _model_seconds(shelf, name, path, scale) -> tuple:
    """(predicted, measured) model seconds of one page run; measured is the faster of two runs (by two
    visitors, so neither reuses the other's encoding), which keeps a tiny run's timer noise out. A scale
    of None is the slider's maximum for the photo, as the page computes it now."""
    speed = shelf.speed(name)
    width, height = imageio.image_size(path)
    # None is the slider's maximum; a scale past it (on a slow CPU, x8 of a 64x64 can be) is held there,
    # as the page's slider holds it: the estimates that matter are those of runs the page accepts.
    most = limits.max_scale(width, height, speed)
    if most == 0:
        return None  # even x1 of this photo is past the page's budget on this machine: nothing to estimate
    scale = most if scale is None else min(scale, most)
    request = limits.prepare(path, scale, speed=speed)
    predicted = speed.seconds(encoded_pixels(request.loaded.width, request.loaded.height),
                              request.out_width * request.out_height)
    measured = []
    for owner in ("first visitor", "second visitor"):
        facts = session.run_to_end(shelf, name, request, owner=(owner, path, scale)).facts
        measured.append(facts.encoder_seconds + facts.decoder_seconds)
    return predicted, min(measured)


def test_estimates_are_within_0_67_to_1_5_of_the_measured_model_time(tmp_path):
    shelf = models.ModelShelf(None, device="cpu")
    name = shelf.default_name
    session.ExampleRun(shelf, REPO_EXAMPLES[0], 8).wait()  # as the app does at start
    strip = tmp_path / "strip-400x20.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (20, 400, 3), dtype=np.uint8)).save(strip)
    # Per example size (48 and 64 a side): one photo at x2, x8 and the slider's maximum; then the strip. (Every
    # example at both scales took a minute and a half more and added no shape the estimate prices differently.)
    cases = []
    for side in (48, 64):
        path = next(p for p in REPO_EXAMPLES if p.stem.endswith(str(side)))
        cases += [(path, 2), (path, 8), (path, None)]
    cases.append((strip, 8))
    report, outside = [], []
    for path, scale in cases:
        timed = _model_seconds(shelf, name, path, scale)
        if timed is None:
            report.append(f"{path.name}: past the page's budget even at x1 here")
            continue
        predicted, measured = timed
        ratio = measured / predicted
        report.append(f"{path.name} ×{scale or 'max'}: predicted {predicted:.2f} s, measured {measured:.2f} s ({ratio:.2f}x)")
        # A run of a tenth of a second is timer and scheduler noise on a busy 2-core machine as much as
        # compute: within NOISE_SECONDS of its estimate it is honest whatever the ratio.
        if not 0.67 <= ratio <= 1.5 and abs(measured - predicted) > NOISE_SECONDS:
            outside.append(report[-1])
    print("\n".join(report))
    assert len(report) - sum("past the page's budget" in line for line in report) >= 4, "\n".join(report)
    assert not outside, "\n".join(report)
