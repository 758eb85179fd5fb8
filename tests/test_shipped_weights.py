"""The shipped model: it loads by default, and its card shows exactly what `liif eval` measured."""

import json
import re

import pytest

from liif.core.weights import WEIGHTS_DIR, default_weights_path, list_shipped, load_model, read_metadata
from liif.evaluation.benchmark import format_table
from liif.evaluation.card import portable_command

shipped = list_shipped()
pytestmark = pytest.mark.skipif(not shipped, reason="no trained weights in weights/ yet")


def test_default_model_is_found_without_flags():
    path = default_weights_path()
    assert path in shipped
    model = load_model()
    assert model.config.residual in ("none", "bicubic")
    assert "training" in read_metadata(path)


@pytest.mark.parametrize("weights", shipped, ids=lambda p: p.name)
def test_card_table_is_the_measured_one(weights):
    results = WEIGHTS_DIR / (weights.name.removesuffix(".safetensors") + ".eval.json")
    assert results.exists(), f"{results.name} (the output of `python -m liif eval --json`) is missing"
    report = json.loads(results.read_text())
    card = (WEIGHTS_DIR / "README.md").read_text()
    assert format_table(report["results"]) in card
    command = portable_command(report["command"], results.name)
    assert command in card
    assert not re.search(r"\s/(tmp|root|work|home)/", command)  # no folder of the machine it ran on


@pytest.mark.parametrize("weights", shipped, ids=lambda p: p.name)
def test_shipped_model_beats_bicubic_everywhere(weights):
    report = json.loads((WEIGHTS_DIR / (weights.name.removesuffix(".safetensors") + ".eval.json")).read_text())
    model, bicubic = report["results"]["model"], report["results"]["bicubic"]
    for set_name, scales in model.items():
        for key, result in scales.items():
            assert result["psnr"] > bicubic[set_name][key]["psnr"], (set_name, key)
    assert model["Set5"]["x4"]["psnr"] >= 30.5


def test_card_and_readme_say_what_the_files_say():
    """weights/README.md is exactly `python -m liif card`'s output (no number typed by hand), and the
    README's quality table is the card's summary."""
    from liif.evaluation.card import psnr_summary, render_card

    assert (WEIGHTS_DIR / "README.md").read_text() == render_card(), "run `python -m liif card`"
    readme = (WEIGHTS_DIR.parent / "README.md").read_text()
    assert psnr_summary() in readme


def test_rdn_beats_edsr_baseline_everywhere():
    reports = {}
    for name in ("rdn-liif", "edsr-baseline-liif"):
        path = WEIGHTS_DIR / f"{name}.eval.json"
        if not path.exists():
            pytest.skip(f"{path.name} is not shipped")
        reports[name] = json.loads(path.read_text())["results"]["model"]
    for set_name, scales in reports["edsr-baseline-liif"].items():
        for key, result in scales.items():
            assert reports["rdn-liif"][set_name][key]["psnr"] > result["psnr"], (set_name, key)
