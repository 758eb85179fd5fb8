"""Many answers fit (liif/lessons/answers.py and `python -m liif answers`), with a small random model: every
constructed answer shrinks back to the tiny photo within one level, LIIF's own is measured, the run repeats."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image, ImageFont

from liif import cli
from liif.core.weights import WEIGHTS_DIR
from liif.lessons import answers as lesson
from liif.lessons import answers_sheet, check, guess, originals
from liif.render import imageio, pictures
from liif.render import sheet as sheet_drawer
from liif.render.engine import Upscaler
from liif.render.upscale import upscale_image

pytestmark = pytest.mark.usefixtures("one_torch_thread")

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "assets" / "examples").glob("*.png"))


@pytest.fixture(scope="module")
def small_weights(tmp_path_factory):
    """A random LIIF with a small decoder (fixed seed): its renders take milliseconds, and this lesson's
    arithmetic does not depend on how good the model is."""
    from liif.core.model import LIIF, LIIFConfig
    from liif.core.weights import save_weights

    torch.manual_seed(0)
    model = LIIF(LIIFConfig(encoder="edsr-baseline", feat_unfold=False, local_ensemble=False, hidden=[32]))
    return save_weights(model, tmp_path_factory.mktemp("weights") / "small.safetensors")


@pytest.fixture(scope="module")
def engine(small_weights):
    from liif.core.weights import load_model

    return Upscaler(load_model(small_weights), device="cpu", precision="fp32")


@pytest.fixture(scope="module")
def runs(engine):
    """(example file name, scale) -> Answers, each computed once for the module."""
    cache = {}

    def run(path: Path, scale: int):
        if (path.name, scale) not in cache:
            cache[path.name, scale] = lesson.answers(engine, path, scale, name=path.name)
        return cache[path.name, scale]

    return run


def levels_off(picture: np.ndarray, tiny: np.ndarray) -> np.ndarray:
    """|round(shrink(picture)) - tiny| with the shared operator, computed here independently."""
    small = pictures.shrink(picture, tiny.shape[1], tiny.shape[0])
    return np.abs(small.astype(int) - tiny.astype(int))


# -- every answer fits ------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [4, 8])
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_constructed_answer_shrinks_back_within_one_level(runs, path, scale):
    result = runs(path, scale)
    tiny = np.asarray(Image.open(path).convert("RGB"))
    assert np.array_equal(result.tiny, tiny)
    assert [c.kind for c in result.candidates] == ["liif", "donor", "texture", "different"]
    h, w = tiny.shape[:2]
    for c in result.candidates:
        assert c.picture.dtype == np.uint8 and c.picture.shape == (h * scale, w * scale, 3)
        off = levels_off(c.picture, tiny)
        assert c.max_abs_levels == off.max() and c.mean_abs_levels == pytest.approx(off.mean())
    for c in result.fitted:
        assert c.max_abs_levels <= lesson.GOAL_LEVELS, c.label
        assert c.consistency_psnr_db > 60 and c.rounds >= lesson.ROUNDS
    # The donor and the different picture are not the photo the example was cut from.
    own = originals.original_for(path)
    assert own not in {result.candidate("donor").source, result.candidate("different").source}
    assert result.candidate("donor").source != result.candidate("different").source


def test_liifs_own_answer_is_measured_not_adjusted(engine, runs):
    result = runs(EXAMPLES[0], 8)
    liif = result.candidate("liif")
    big_w, big_h = result.size
    rendered = np.asarray(upscale_image(engine, imageio.load_image(result.tiny), big_w, big_h).convert("RGB"))
    assert np.array_equal(liif.picture, rendered) and liif.rounds == 0 and not liif.constructed
    assert liif.max_abs_levels == levels_off(liif.picture, result.tiny).max() > 1  # a random model: far off
    assert liif.label == "LIIF (the average)" and "not adjusted" in liif.how
    assert f"shrinks back to within {liif.max_abs_levels} levels" in " ".join(answers_sheet.findings(result))


def test_the_different_picture_is_far_from_liif_yet_fits(runs):
    for path in EXAMPLES[:2]:
        result = runs(path, 8)
        different, liif = result.candidate("different"), result.candidate("liif")
        distance = np.abs(different.picture.astype(float) - liif.picture.astype(float)).mean()
        assert different.liif_distance_levels == pytest.approx(distance) and distance > 5
        assert different.max_abs_levels <= 1 and different.label.startswith("a different picture: ")
        texture = result.candidate("texture")
        assert texture.liif_distance_levels < distance  # grain on LIIF stays nearer LIIF


def test_the_same_picture_gives_the_same_answers(engine, runs):
    first = runs(EXAMPLES[1], 4)
    again = lesson.answers(engine, EXAMPLES[1], 4, name=EXAMPLES[1].name)
    for a, b in zip(first.candidates, again.candidates):
        assert np.array_equal(a.picture, b.picture) and a.summary() == b.summary()
    assert answers_sheet.findings(first) == answers_sheet.findings(again) and first.seed == again.seed


def test_the_shuffle_is_drawn_from_the_picture(runs):
    result = runs(EXAMPLES[0], 4)
    assert result.seed == lesson.picture_seed(result.tiny, 4)
    order = guess.order(result.tiny, 4, len(result.candidates))  # the game's order, from that seed
    assert order == guess.order(result.tiny.copy(), 4, len(result.candidates))
    assert sorted(order) == list(range(len(result.candidates)))
    assert lesson.picture_seed(result.tiny, 8) != result.seed
    other = result.tiny.copy()
    other[0, 0, 0] ^= 1
    assert lesson.picture_seed(other, 4) != result.seed


def test_the_real_photo_is_one_answer_when_known(engine):
    real, tiny = check.real_and_tiny(imageio.load_image(originals.original_path("cat")), 8)
    result = lesson.answers(engine, tiny, 8, real=real, name="cat")
    assert [c.kind for c in result.candidates] == ["liif", "donor", "texture", "real", "different"]
    shown = result.candidate("real")
    assert np.array_equal(shown.picture, real) and shown.rounds == 0 and "unchanged" in shown.how
    assert shown.max_abs_levels == 0 and shown.psnr_to_real_db == float("inf")
    assert all(c.max_abs_levels <= 1 for c in result.fitted)
    assert all(np.isfinite(c.psnr_to_real_db) for c in result.candidates if c.kind != "real")
    assert "cat" not in {result.candidate("donor").source, result.candidate("different").source}
    summary = json.loads(json.dumps(result.summary(), allow_nan=False))
    assert summary["candidates"][3]["psnr_to_real_db"] is None  # identical: no finite PSNR
    assert "The real photo is one of them" in " ".join(answers_sheet.findings(result))
    with pytest.raises(imageio.ImageInputError, match="the real photo is 448×296; it must be 224×144"):
        lesson.answers(engine, tiny[:18, :28], 8, real=real)


def test_the_operator_is_the_shared_shrink():
    ops = lesson._operators(12, 10, 96, 80)
    x = torch.rand(2, 3, 96, 80)
    assert torch.allclose(ops.shrink(x), pictures.shrink_tensor(x.double(), 12, 10).float(), atol=1e-6)
    r = torch.randn(2, 3, 12, 10)
    assert torch.allclose(ops.enlarge(r), F.interpolate(r, size=(96, 80), mode="bicubic", align_corners=False),
                          atol=1e-5)
    assert lesson.OPERATOR == "antialiased bicubic shrink"


def test_the_lesson_counts_the_time_it_adds_to_the_render(runs):
    """The time itself is this machine's (python -m liif bench measures it); the lesson must count it."""
    result = runs(next(p for p in EXAMPLES if p.stem.endswith("-48")), 8)
    assert result.size == (384, 384)
    assert result.extra_seconds > 0 and result.summary()["extra_seconds"] == result.extra_seconds


def test_words_sheet_and_summary(runs):
    result = runs(EXAMPLES[0], 8)
    text = " ".join(answers_sheet.findings(result))
    for phrase in ("by back-projection, not by a generative model", "These pixels cannot tell them apart",
                   "A generative upscaler picks one", "need not be the person's", "right on average (an L1 loss",
                   "why it is soft", f"the {lesson.OPERATOR}"):
        assert phrase in text
    worst = max(c.max_abs_levels for c in result.fitted)
    assert ("back exactly" if worst == 0 else f"to within {worst} level") in text
    summary = json.loads(json.dumps(result.summary(), allow_nan=False))
    assert [c["label"] for c in summary["candidates"]] == [c.label for c in result.candidates]
    assert all({"label", "consistency_psnr_db", "max_abs_levels", "how"} <= set(c) for c in summary["candidates"])
    assert "| LIIF (the average) |" in answers_sheet.markdown(result)
    sheet = answers_sheet.sheet(result)
    assert sheet.mode == "RGB" and sheet.width >= 5 * 180 and sheet.height > lesson.SHEET_PANEL
    assert isinstance(sheet_drawer.font(sheet_drawer.LABEL_SIZE, bold=True), ImageFont.FreeTypeFont)  # DejaVu, shipped


@pytest.mark.parametrize("source, message", [
    (np.zeros((200, 150, 3), np.uint8), "is 150×200; this lesson takes a tiny photo, 8 to 128 pixels a side"),
    (b"not an image", "is not an image"),
    (None, "choose one of the shipped photos"),
])
def test_bad_input_is_one_sentence(engine, source, message):
    with pytest.raises(imageio.ImageInputError, match=message):
        lesson.answers(engine, source, 8)


def test_only_the_offered_scales(engine):
    with pytest.raises(imageio.ImageInputError, match="scales ×2, ×3, ×4, ×6, ×8, not 5"):
        lesson.answers(engine, EXAMPLES[0], 5)


# -- command line ----------------------------------------------------------------------------------


def test_the_command_writes_the_sheet_each_answer_and_json(capsys, tmp_path, small_weights):
    model = ["--model", str(small_weights), "--device", "cpu"]
    example = next(p for p in EXAMPLES if p.stem == "cat-48")
    sheet, folder = tmp_path / "sheet.png", tmp_path / "answers"
    assert cli.main(["answers", str(example), "--scale", "4", "-o", str(sheet), "--out-dir", str(folder),
                     "--json", *model]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert Image.open(sheet).format == "PNG"
    files = sorted(p.name for p in folder.iterdir())
    # LIIF's, then (when the model trained to look real is shipped) its sharp guess as drawn and made to fit,
    # then the donor's, the textured and the different picture
    guesses = 2 if (WEIGHTS_DIR / "edsr-baseline-gan-liif.safetensors").is_file() else 0
    assert len(files) == len(summary["candidates"]) == 4 + guesses and files[0] == "1-liif.png"
    assert [c["kind"] for c in summary["candidates"]][1 : 1 + guesses] == ["guess", "guess-fit"][:guesses]
    assert all(Image.open(folder / f).size == (192, 192) for f in files)
    assert all(c["max_abs_levels"] <= 1 for c in summary["candidates"] if c["rounds"] > 0)
    # A shipped original's name: the tiny photo is made from it, and the real photo is one of the answers.
    assert cli.main(["answers", "coffee", "--scale", "8", *model]) == 0
    out = capsys.readouterr().out
    assert "| the real photo |" in out and "back-projection" in out


@pytest.mark.parametrize("argv, message", [
    (["nowhere.png"], "error: nowhere.png: no such file"),
    (["big.png"], "error: big.png is 300×300; this lesson takes a tiny photo"),
    (["notes.png"], "error: notes.png is not an image"),
    (["tiny.png", "-o", "sheet.jpg"], "error: -o sheet.jpg: the answers sheet is written as a .png file, so name a .png file"),
])
def test_bad_input_on_the_command_line_is_one_line_and_exit_2(capsys, tmp_path, monkeypatch, small_weights,
                                                             argv, message):
    monkeypatch.chdir(tmp_path)
    Image.fromarray(np.zeros((300, 300, 3), np.uint8)).save("big.png")
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save("tiny.png")
    Path("notes.png").write_text("hello")
    assert cli.main(["answers", *argv, "--model", str(small_weights), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err
