"""The average and the sharp guess: network interpolation, the lesson, the shelf's blends, the page's step-1
handlers, the CLI and the API function, on the shipped pair (the L1 EDSR-baseline and the adversarially
trained one) where the property belongs to the trained models, and on small random models otherwise."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from liif import cli
from liif.core.blend import blend, twin_path
from liif.core.model import LIIF, LIIFConfig
from liif.core.weights import WEIGHTS_DIR, WeightsError, load_weights
from liif.evaluation.metrics import detail_levels
from liif.lessons import sharp
from liif.page import files, models
from liif.render import imageio
from liif.render.engine import Speed, Upscaler
from liif.render.imageio import ImageInputError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REPO = Path(__file__).resolve().parents[1]
FACE = REPO / "assets" / "examples" / "grace-hopper-48.png"
SHARP_FILE = WEIGHTS_DIR / "edsr-baseline-gan-liif.safetensors"


def small(seed: int) -> LIIF:
    torch.manual_seed(seed)
    return LIIF(LIIFConfig(feat_unfold=False, local_ensemble=False, hidden=[16])).eval()


def test_a_blend_is_the_weighted_mean_of_the_two_weight_sets():
    a, b = small(0), small(1)
    for weight in (0.0, 0.3, 1.0):
        mixed = blend(a, b, weight).state_dict()
        for key, value in mixed.items():
            expected = (1 - weight) * a.state_dict()[key] + weight * b.state_dict()[key]
            assert torch.allclose(value, expected, atol=1e-6), (weight, key)
    with pytest.raises(ValueError, match="between 0 and 1"):
        blend(a, b, 1.5)
    with pytest.raises(ValueError, match="one architecture"):
        blend(a, LIIF(LIIFConfig(feat_unfold=False, local_ensemble=False, hidden=[8])), 0.5)


def test_blend_names_round_trip_and_refuse_nonsense():
    assert models.split_blend(models.blend_name("g.safetensors", 0.25)) == ("g.safetensors", 0.25)
    assert models.split_blend("g.safetensors") == ("g.safetensors", None)
    for bad in ("g.safetensors@x", "g.safetensors@1.5"):
        with pytest.raises(WeightsError):
            models.split_blend(bad)


def test_the_lesson_measures_three_pictures_and_refuses_over_budget():
    a, b = Upscaler(small(0), device="cpu", precision="fp32"), Upscaler(small(1), device="cpu", precision="fp32")
    tiny = imageio.load_image(FACE)
    guess = sharp.sharp_guess(a, b, tiny, 2, blend=0.5)
    assert guess.out_size == (96, 96) and guess.blended.picture.shape == (96, 96, 3)
    for rendition in (guess.bicubic, guess.average, guess.sharp, guess.blended):
        assert rendition.detail == pytest.approx(detail_levels(rendition.picture))
    # a slider move renders the blend alone, beside the same two ends
    again = sharp.sharp_guess(a, b, tiny, 2, blend=0.0, reuse=guess)
    assert again.average.picture is guess.average.picture and np.array_equal(again.blended.picture, guess.average.picture)
    slow = Speed(encoder_seconds_per_pixel=1e-3, decoder_seconds_per_pixel=1e-3)
    with pytest.raises(ImageInputError, match="more than the 1 s"):
        sharp.sharp_guess(a, b, tiny, 2, speed=slow, max_seconds=1)
    with pytest.raises(ImageInputError, match="from 0"):
        sharp.sharp_guess(a, b, tiny, 2, blend=2)
    # the sentence is generated from the numbers, and says what the sharp one is
    assert f"{guess.average.detail:.1f} levels" in guess.headline() and "guess" in guess.headline()
    assert "How this was measured" in guess.markdown() and "| bicubic |" in guess.markdown()


# -- the shipped pair --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pair():
    sharp_weights = load_weights(SHARP_FILE)
    twin = twin_path(sharp_weights.path, sharp_weights.training, WEIGHTS_DIR)
    assert twin is not None and twin.name == "edsr-baseline-liif.safetensors"
    return (Upscaler(load_weights(twin), device="cpu", precision="fp32"),
            Upscaler(sharp_weights, device="cpu", precision="fp32"))


def test_the_shipped_sharp_model_came_from_the_adversarial_trainer():
    training = load_weights(SHARP_FILE).training
    assert training["adversarial"]["critic"].startswith("PatchCritic") and training["steps"] > 0
    assert Path(training["init"]).name == "edsr-baseline-liif.safetensors"


def test_detail_rises_with_the_blend_on_a_face(pair):
    average, guesser = pair
    ladder = sharp.blend_ladder(average, guesser, imageio.load_image(FACE), 4)
    details = [detail for _, detail, _ in ladder]
    assert all(later > earlier for earlier, later in zip(details, details[1:])), details
    assert details[-1] > 1.3 * details[0]  # the sharp guess draws clearly more detail than the average


@pytest.fixture(scope="module")
def shipped_page(tmp_path_factory):
    from liif.page.context import PageContext
    from liif.page.layout import build_page

    folder = files.OutputFolder(parent=tmp_path_factory.mktemp("outputs"))
    yield build_page(PageContext(models.ModelShelf(device="cpu", precision="fp32"), folder))
    folder.cleanup()


def no_progress(*args, **kwargs):
    return None


def test_the_page_draws_both_and_the_slider_reblends(shipped_page):
    section = shipped_page.sharp
    assert section.pair is not None
    guess, average, blended, text, shown = section.draw(None, str(FACE), 4, 1.0, progress=no_progress)
    assert shown["visible"] is True
    assert average["value"].shape == (192, 192, 3) and "look real" in blended["label"]
    assert "two trainings" in text
    moved = section.reblend(guess, 0.4)
    assert moved[0].average.picture is guess.average.picture  # the ends are kept: one render per move
    assert "Blend 0.4" in moved[2]["label"] and not np.array_equal(moved[2]["value"], blended["value"])


def test_the_shelf_serves_a_blend_as_a_model(shipped_page):
    shelf = shipped_page.ctx.shelf
    name = shelf.model_named("edsr-baseline-gan", 0.5)
    assert models.split_blend(name) == ("edsr-baseline-gan-liif.safetensors", 0.5)
    assert shelf.model_named("edsr-baseline.gan", 0.5) == shelf.model_named("sharp", 0.5) == name  # its tagged name
    engine = shelf.upscaler(name)
    assert engine is shelf.upscaler(name)  # kept, not rebuilt per request
    with pytest.raises(WeightsError, match="twin"):
        shelf.model_named("rdn", 0.5)
    with pytest.raises(WeightsError, match="no model"):
        shelf.model_named("nonsense")


def test_the_page_refuses_a_guess_over_its_budget_before_any_model_work(shipped_page, monkeypatch, tmp_path):
    """Above the floor (×8 of a 64×64 photo, which always runs), from the picture's header alone."""
    import gradio as gr
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(photo)

    def no_model_work(*args, **kwargs):
        raise AssertionError("a model ran before the refusal")

    glacial = Speed(encoder_seconds_per_pixel=1.0, decoder_seconds_per_pixel=1.0)
    monkeypatch.setattr(shipped_page.ctx.shelf, "speed", lambda name=None: glacial)
    monkeypatch.setattr(Upscaler, "render", no_model_work)
    monkeypatch.setattr(imageio, "load_image", no_model_work)  # nor was the picture decoded
    with pytest.raises(gr.Error, match=r"the blend of this 400×300 picture would take about \d+ s.*Try a smaller scale"):
        shipped_page.sharp.draw(None, str(photo), 4, 0.5, progress=no_progress)


def test_models_worked_together_take_a_shared_lock_once(shipped_page):
    """The pair, a blend of it (which shares the sharp model's lock) and the default model, for one piece of
    work: each lock is taken once, so the work does not wait on itself."""
    import threading

    shelf = shipped_page.ctx.shelf
    average, sharp_name = shelf.look_real_trained()
    names = [sharp_name, models.blend_name(sharp_name, 0.5), average, None]
    got = []

    def work():
        with shelf.working_together(names, "one-visitor") as engines:
            got.extend(engines)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "working_together waited on a lock it held"
    assert got[0] is shelf.upscaler(sharp_name) and got[2] is shelf.upscaler(average) and len(got) == 4
    assert not shelf.lock(sharp_name).locked() and not shelf.lock(average).locked()  # all given back


def test_cli_sharp_measures_against_the_real_photo(tmp_path, capsys):
    sheet = tmp_path / "sheet.png"
    code = cli.main(["sharp", str(REPO / "assets" / "originals" / "grace-hopper.jpg"), "--scale", "8", "--real",
                     "--blend", "0.5", "--json", "-o", str(sheet), "--precision", "fp32"])
    assert code == 0
    found = json.loads(capsys.readouterr().out)
    labels = [p["label"] for p in found["pictures"]]
    assert labels[-1] == "the real photo" and all(p["psnr_y_db"] for p in found["pictures"][:-1])
    assert imageio.image_size(sheet)[0] > 4 * found["output"][0]
    assert cli.main(["sharp", str(FACE), "--blend", "2"]) == 2


def test_cli_upscale_takes_the_sharp_model_and_a_blend(tmp_path):
    out = tmp_path / "blend.png"
    assert cli.main(["upscale", str(FACE), "--scale", "2", "--model", "edsr-baseline-gan", "--blend", "0.3",
                     "-o", str(out), "--precision", "fp32"]) == 0
    assert imageio.image_size(out) == (96, 96)
    assert cli.main(["upscale", str(FACE), "--scale", "2", "--model", "edsr-baseline", "--blend", "0.3",
                     "-o", str(tmp_path / "no.png")]) == 2


def test_the_api_upscales_at_a_blend(shipped_page):
    import gradio as gr

    png, summary = shipped_page.api.upscale_api(str(FACE), 2, "edsr-baseline-gan", 0.25)
    assert summary["model"].endswith("@0.25") and imageio.image_size(png) == (96, 96)
    plain, _ = shipped_page.api.upscale_api(str(FACE), 2, "edsr-baseline", None)
    assert not np.array_equal(imageio.load_image(png).rgb, imageio.load_image(plain).rgb)
    with pytest.raises(gr.Error, match="from 0"):
        shipped_page.api.upscale_api(str(FACE), 2, "", 7)
