"""Which one is real? (liif/lessons/guess.py, the check section's game and `python -m liif check --json`), with a
small random model: the pictures shown all fit the tiny input, the order is drawn from the picture, the reveal
says right and wrong from the numbers, and the page shows letters first and identities after the guess."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter
from test_answers import engine, small_weights  # noqa: F401  (the same small random model, found by name)

from liif import cli
from liif.evaluation.metrics import psnr_y
from liif.lessons import answers, check, guess, originals
from liif.page import files, models
from liif.page.sections.check import GUESS_SLOTS, OWN_PHOTO
from liif.render import imageio, pictures

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# The answers' kinds without the sharp guess (the game of a page without a model trained to look real).
PLAIN_KINDS = [k for k in answers.KINDS if k not in ("guess", "guess-fit")]
SHARP_SHIPPED = (Path(__file__).resolve().parents[1] / "weights" / "edsr-baseline-gan-liif.safetensors").is_file()

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "assets" / "examples").glob("*.png"))


@pytest.fixture(scope="module")
def checked(engine):
    """The check of the shipped astronaut at ×8 with a 24-pixel working size (192×192 real photo)."""
    return check.check(engine, originals.original_path("astronaut"), 8, working_size=24)


@pytest.fixture(scope="module")
def game(checked):
    return guess.guess(checked)


def levels_off(picture: np.ndarray, tiny: np.ndarray) -> int:
    """max |round(shrink(picture)) - tiny|, computed here with the shared operator."""
    small = pictures.shrink(picture, tiny.shape[1], tiny.shape[0])
    return int(np.abs(small.astype(int) - tiny.astype(int)).max())


# -- the game --------------------------------------------------------------------------------------


def test_the_real_photo_and_liifs_answer_among_sharp_pictures_that_fit(checked, game):
    assert sorted(e.kind for e in game.entries) == sorted(PLAIN_KINDS)
    assert game.letters == list("ABCDE") and game.labels() == list("ABCDE")
    h, w = checked.tiny.shape[:2]
    for e in game.entries:
        assert e.picture.dtype == np.uint8 and e.picture.shape == (h * 8, w * 8, 3)
        assert e.max_abs_levels == levels_off(e.picture, checked.tiny)
        assert e.psnr_to_real_db == psnr_y(e.picture, checked.real, shave=8)
        off = np.abs(e.picture.astype(int) - checked.real.astype(int))
        assert e.max_levels_to_real == off.max() and e.mean_levels_to_real == pytest.approx(off.mean())
    for e in game.entries:
        if e.kind != "liif":  # every picture but LIIF's own fits the tiny input within one level
            assert e.max_abs_levels <= 1, e.identity
    liif = game.kind("liif")
    assert np.array_equal(liif.picture, checked.liif)  # the check's own render, not a new one
    assert liif.max_abs_levels > 1  # a random model: far off, and measured as it is
    # The sharp ones are not copies of the real photo or of LIIF's answer.
    for e in game.entries:
        if e.kind not in ("real", "liif"):
            assert e.max_levels_to_real > 10 and not np.array_equal(e.picture, liif.picture)


def test_the_real_photo_is_shown_unchanged_at_distance_zero(checked, game):
    real = game.real
    assert np.array_equal(real.picture, checked.real) and real.identity == "the real photo"
    assert real.psnr_to_real_db == math.inf and real.max_levels_to_real == 0 and real.mean_levels_to_real == 0
    assert real.max_abs_levels == 0  # the tiny input was shrunk from it
    assert all(math.isfinite(e.psnr_to_real_db) for e in game.entries if not e.is_real)
    summary = json.loads(json.dumps(game.summary(), allow_nan=False))
    assert summary["real"] == real.letter and [c["letter"] for c in summary["candidates"]] == game.letters
    shown = next(c for c in summary["candidates"] if c["kind"] == "real")
    assert shown["psnr_to_real_db"] is None and shown["max_levels_to_real"] == 0


def test_the_order_is_drawn_from_the_tiny_input(checked, game):
    seed = answers.picture_seed(checked.tiny, 8)
    assert game.seed == seed
    expected = np.random.default_rng(seed).permutation(len(game.entries))
    # Drawn over the answers' own order (liif, donor, texture, real, different).
    assert [e.kind for e in game.entries] == [PLAIN_KINDS[i] for i in expected]
    again = guess.guess(checked)
    assert [e.kind for e in again.entries] == [e.kind for e in game.entries]
    assert [e.psnr_to_real_db for e in again.entries] == [e.psnr_to_real_db for e in game.entries]
    # Other tiny inputs (every shipped example at ×8 and ×4) do not all get the same order.
    tinies = [np.asarray(Image.open(p).convert("RGB")) for p in EXAMPLES]
    orders = {tuple(guess.order(t, s, 5)) for t in tinies for s in (4, 8)}
    assert len(orders) > 1
    assert guess.order(checked.tiny, 8, 5) == guess.order(checked.tiny.copy(), 8, 5)
    changed = checked.tiny.copy()
    changed[0, 0, 0] ^= 1
    assert answers.picture_seed(changed, 8) != seed


def test_the_reveal_says_right_and_wrong_from_the_numbers(game):
    real = game.real
    right = guess.reveal(game, real.letter)
    assert right[0].startswith(f"**Right: {real.letter} is the real photo.**")
    wrong_letter = next(e.letter for e in game.entries if not e.is_real)
    wrong = guess.reveal(game, wrong_letter)
    picked = game.entry(wrong_letter)
    assert wrong[0].startswith(f"**Not this one: {wrong_letter} is {picked.identity}**")
    assert f"The real photo is **{real.letter}**" in wrong[0] and "Right" not in " ".join(wrong)
    assert f"{picked.psnr_to_real_db:.1f} dB from the real photo" in wrong[0]
    # The closest of the wrong ones is said to be the closest; the furthest is not.
    others = sorted((e for e in game.entries if not e.is_real), key=lambda e: -e.psnr_to_real_db)
    assert "yours is the closest to it" in guess.reveal(game, others[0].letter)[0]
    assert f"only the {len(others)}th closest" in guess.reveal(game, others[-1].letter)[0]
    text = " ".join(wrong)
    worst = max(e.max_abs_levels for e in game.entries if e.kind != "liif")
    assert ("exactly" if worst == 0 else f"to within {worst} level") in text
    liif = game.kind("liif")
    assert f"LIIF's answer ({liif.letter}), as the model drew it and not adjusted, gives it back only to within " \
           f"{liif.max_abs_levels} levels" in text  # the random model's answer is far off, and the words say so
    assert all(e.identity in game.markdown(wrong_letter) for e in game.entries)
    labels = game.labels(revealed=True, guess=wrong_letter)
    assert labels[game.letters.index(real.letter)] == f"{real.letter}: the real photo, identical"
    assert labels[game.letters.index(wrong_letter)].endswith("(your guess)")
    with pytest.raises(imageio.ImageInputError, match="there is no picture 'Z' to guess"):
        guess.reveal(game, "Z")


def test_the_game_takes_the_plain_check_only(engine, checked):
    from liif.lessons import check_jpeg

    jpeg = check_jpeg.check_jpeg(engine, originals.original_path("astronaut"), 8, 50, working_size=16)
    with pytest.raises(imageio.ImageInputError, match="takes the plain check"):
        guess.guess(jpeg)
    found = answers.answers(None, checked.tiny, 8, liif=checked.liif, name="astronaut")  # no real photo given
    with pytest.raises(imageio.ImageInputError, match="cannot be shown unchanged"):
        guess.from_answers(found, checked.real)


def test_answers_reuse_a_given_render_without_the_model(checked):
    found = answers.answers(None, checked.tiny, 8, real=checked.real, liif=checked.liif, name="astronaut")
    assert np.array_equal(found.candidate("liif").picture, checked.liif)
    with pytest.raises(imageio.ImageInputError, match="LIIF's render is 8×8; it must be 192×192"):
        answers.answers(None, checked.tiny, 8, liif=checked.liif[:8, :8])


# -- the page --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page(small_weights):
    from liif.page.context import PageContext
    from liif.page.layout import build_page

    folder = files.OutputFolder()
    yield build_page(PageContext(models.ModelShelf(small_weights, device="cpu"), folder))
    folder.cleanup()


def no_progress(fraction, desc=None):
    pass


def test_the_check_shows_letters_first_and_identities_after_the_guess(page, tmp_path):
    import gradio as gr

    photo = tmp_path / "garden.png"
    rgb = np.asarray(Image.open(originals.original_path("cat")).convert("RGB"))[:96, :128]
    Image.fromarray(rgb).save(photo)
    section = page.check
    out = section.run_check(OWN_PHOTO, str(photo), 4, None, progress=no_progress)
    result, game, box = out[section.state], out[section.guess_state], out[section.guess_box]
    shown, choice, text = [out[p] for p in section.guess_pictures], out[section.guess_choice], out[section.guess_text]
    assert isinstance(game, guess.Guess) and box["visible"] and not out[section.jpeg_panel]["visible"]
    # The real photo waits for the guess: the pictures, the magnifier, the maps and the download are hidden.
    assert not any(out[c]["visible"] for c in (section.magnifier, section.share, section.pictures, section.maps))
    assert [p["label"] for p in shown] == list("ABCDE") and choice["choices"] == list("ABCDE")
    assert choice["value"] is None and "Which one is real?" in text and "real photo" not in " ".join(
        p["label"] for p in shown)
    for picture, entry in zip(shown, game.entries):
        assert np.array_equal(picture["value"], entry.picture)
        if entry.kind != "liif":  # the 8-bit picture the page shows fits the tiny input within a level
            assert levels_off(picture["value"], result.tiny) <= 1
    assert np.array_equal(next(p["value"] for p, e in zip(shown, game.entries) if e.is_real), result.real)

    real = game.real.letter
    revealed = page.check.reveal_guess(game, real)
    labels, (choice, words, *after) = revealed[:GUESS_SLOTS], revealed[GUESS_SLOTS:]
    assert len(after) == 4 and all(update["visible"] for update in after)  # now the real photo is shown
    assert [label["label"].split(":")[0] for label in labels] == list("ABCDE")
    assert labels[game.letters.index(real)]["label"] == f"{real}: the real photo, identical (your guess)"
    assert all("dB" in label["label"] for label, e in zip(labels, game.entries) if not e.is_real)
    assert choice["value"] == real and words.startswith(f"- **Right: {real} is the real photo.**")
    # A click on a picture is a guess of that picture.
    wrong = next(i for i, e in enumerate(game.entries) if not e.is_real)
    *labels, choice, words = page.check.guess_by_click(wrong)(game)[:GUESS_SLOTS + 2]
    assert choice["value"] == game.letters[wrong] and words.startswith(f"- **Not this one: {game.letters[wrong]}")
    with pytest.raises(gr.Error, match="Choose a letter first"):
        page.check.reveal_guess(game, None)
    with pytest.raises(gr.Error, match="Press Check first"):
        page.check.reveal_guess(None, "A")
    # A JPEG check has no game: the row is hidden.
    out = section.run_check(OWN_PHOTO, str(photo), 4, None, 95, progress=no_progress)
    assert out[section.guess_state] is None and not out[section.guess_box]["visible"]
    # Nothing to guess: the real photo is shown at once.
    assert all(out[c]["visible"] for c in (section.magnifier, section.share, section.pictures, section.maps))


def test_the_guess_needs_no_queue_turn(page):
    fns = {fn.name: fn for fn in page.demo.fns.values()}
    assert fns["reveal_guess"].queue is False and fns["guess_clicked"].queue is False
    assert fns["reveal_guess"].api_visibility == "private"


# -- the command line ------------------------------------------------------------------------------


def test_the_check_command_adds_the_game_to_its_json(capsys, small_weights):
    model = ["--model", str(small_weights), "--device", "cpu", "--precision", "fp32"]
    assert cli.main(["check", "astronaut", "--scale", "8", "--working-size", "16", "--json", *model]) == 0
    summary = json.loads(capsys.readouterr().out)
    game = summary["which_one_is_real"]
    # With the shipped model trained to look real, its guess takes the different picture's place: five again.
    assert [c["letter"] for c in game["candidates"]] == list("ABCDE")
    assert ("guess" in [c["kind"] for c in game["candidates"]]) == SHARP_SHIPPED
    real = next(c for c in game["candidates"] if c["kind"] == "real")
    assert real["letter"] == game["real"] and real["max_levels_to_real"] == 0
    assert all(c["max_abs_levels"] <= 1 for c in game["candidates"] if c["kind"] not in ("liif", "guess"))


def test_the_sharp_guess_joins_the_game_and_the_reveal_says_what_decided(checked):
    """A sharp guess (here: the real photo re-sharpened, a stand-in for the generative model's render) is shown
    as drawn, in the place of the different picture; the reveal says what a visitor decides with."""
    blurred = np.asarray(Image.fromarray(checked.real).filter(ImageFilter.UnsharpMask(2, 150)))
    game = guess.guess(checked, sharp=blurred)
    kinds = [e.kind for e in game.entries]
    assert sorted(kinds) == sorted(["liif", "guess", "donor", "texture", "real"]) and game.letters == list("ABCDE")
    assert np.array_equal(game.kind("guess").picture, blurred)  # as drawn: not adjusted
    assert "drawn by the same network trained to look real" in game.question()
    words = " ".join(guess.reveal(game, game.real.letter))
    drawn = game.kind("guess")
    assert "**What you decided with.**" in words and f"The sharp guess ({drawn.letter})" in words
    assert drawn.distance() in words
