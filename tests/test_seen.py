"""What it has seen decides what it draws (issue 24): the data facts (liif/evaluation/data_facts.py, faces.py),
the lesson (liif/lessons/seen.py) with two small random models, its page section, its endpoint and its
command. Plumbing and arithmetic, not picture quality: the models here are untrained."""

import json

import numpy as np
import pytest
from PIL import Image

from liif import cli
from liif.core import weights as weights_module
from liif.evaluation import data_facts, faces
from liif.lessons import originals, seen, seen_words
from liif.render import imageio
from liif.render.engine import Speed

pytestmark = pytest.mark.usefixtures("one_torch_thread")
FACE_EXAMPLE = originals.ORIGINALS_DIR.parent / "examples" / "grace-hopper-64.png"
# The cascade OpenCV 4's wheels bundle as cv2.data.haarcascades + "haarcascade_frontalface_default.xml".
OPENCV_CASCADE_SHA256 = "0f7d4527844eb514d4a4948e822da90fbb16a34a0bbbbc6adc6498747a5aafb0"


def gradient(width: int, height: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // width, y * 255 // height, np.full_like(x, 128)], -1).astype(np.uint8)


def enlarged_face(side: int = 192) -> np.ndarray:
    return np.asarray(Image.open(FACE_EXAMPLE).convert("RGB").resize((side, side), Image.Resampling.BICUBIC))


# -- faces and data facts --------------------------------------------------------------------------


def test_the_shipped_cascade_is_opencvs_and_finds_a_face_not_a_gradient():
    cascade = faces.load_cascade()
    assert cascade.sha256 == OPENCV_CASCADE_SHA256 and len(cascade.stages) == 25
    found = faces.find_faces(enlarged_face())
    assert len(found) == 1
    x, y, w, h = found[0]
    assert w == h and 90 <= w <= 160 and 0 <= x and x + w <= 192 and y + h <= 192
    assert faces.find_faces(gradient(300, 200)) == []


def test_boxes_are_grouped_as_opencv_groups_them():
    near = [(10 + i % 2, 10, 40, 40) for i in range(6)]
    assert faces.group_boxes(near, min_neighbors=5) == [(10, 10, 40, 40)]  # six boxes: one face
    assert faces.group_boxes(near[:5], min_neighbors=5) == []  # five are not more than five neighbours
    inside = [(10, 10, 40, 40)] * 10 + [(20, 20, 12, 12)] * 6
    assert faces.group_boxes(inside, min_neighbors=5) == [(10, 10, 40, 40)]  # inside a stronger face: dropped
    assert len(faces.group_boxes(near + [(20, 20, 12, 12)] * 6, min_neighbors=5)) == 2  # not a stronger one


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    """Three 'training photos' named like ../shared/data/train/natural's: a face, a gradient, a wide wallpaper
    larger than training's max_side, and a WALLPAPERS.csv beside them."""
    folder = tmp_path_factory.mktemp("natural")
    Image.fromarray(enlarged_face()).save(folder / "bsds500_face.png")
    Image.fromarray(gradient(300, 200)).save(folder / "t91_gradient.png")
    Image.fromarray(gradient(4080, 60)).save(folder / "wallpaper_wide.png")
    (folder / "notes.txt").write_text("not a picture")
    (folder / "WALLPAPERS.csv").write_text("file,package,license,size\nwallpaper_wide.png,somewhere,CC0-1.0,4080x60\n")
    return folder


def test_data_facts_count_pictures_area_sources_and_faces(photo_folder):
    facts = data_facts.folder_facts(photo_folder)
    assert facts["kind"] == "photos" and facts["pictures"] == 3
    assert facts["megapixels"] == round((192 * 192 + 300 * 200 + 4080 * 60) / 1e6, 3)
    areas = {"bsds500": 192 * 192, "t91": 300 * 200, "wallpaper": 2040 * 30}  # the wallpaper as training reads it
    total = sum(areas.values())
    assert facts["training_megapixels"] == round(total / 1e6, 3)
    shares = {s["key"]: s for s in facts["sources"]}
    assert {k: s["pictures"] for k, s in shares.items()} == {"bsds500": 1, "t91": 1, "wallpaper": 1}
    assert all(shares[k]["area_share"] == round(a / total, 4) for k, a in areas.items())
    assert [s["key"] for s in facts["sources"]] == ["wallpaper", "t91", "bsds500"]  # the largest share first
    assert facts["licences"] == {"CC0-1.0": 1}
    found = facts["faces"]
    assert found["pictures_with_faces"] == 1 and found["faces"] == 1
    assert found["files"] == [{"file": "bsds500_face.png", "faces": 1}]
    assert found["area_share"] == round(192 * 192 / total, 4)
    assert 0 < found["face_area_share"] < found["area_share"]
    assert found["cascade_sha256"] == OPENCV_CASCADE_SHA256


def test_data_facts_of_a_text_set_come_from_its_record(tmp_path):
    from liif.training import text_pictures as tp

    tp.write_text_set(tmp_path / "set", count=3, seed=5, photos=[])
    for folder in (tmp_path / "set", tmp_path / "set" / "HR"):
        facts = data_facts.folder_facts(folder, detect_faces=False)
        assert facts["kind"] == "text" and facts["pictures"] == 3 and "faces" not in facts
        assert sum(s["pictures"] for s in facts["sources"]) == 3
        text = facts["text"]
        assert text["seed"] == 5 and text["count"] == 3 and text["files_matching_record"] == 3
        assert text["fonts"] == [p.name for p in tp.shipped_fonts()] and text["background_photos"] == []


def test_data_facts_command_writes_the_json(photo_folder, tmp_path, capsys):
    out = tmp_path / "facts.data.json"
    assert cli.main(["data-facts", str(photo_folder), "--json", str(out), "--no-faces"]) == 0
    facts = json.loads(out.read_text())
    assert facts["pictures"] == 3 and facts["command"].startswith("python -m liif data-facts")
    assert "3 pictures" in capsys.readouterr().out


@pytest.mark.parametrize("stem", ["edsr-baseline-liif", "edsr-baseline-text-liif"])
def test_the_shipped_facts_are_the_commands_output(stem):
    path = weights_module.WEIGHTS_DIR / f"{stem}{data_facts.FACTS_SUFFIX}"
    if not path.exists():
        pytest.skip(f"{path.name} is not written yet")
    facts = json.loads(path.read_text())
    assert facts["command"] == f"python -m liif data-facts {facts['folder']} --json weights/{path.name}"
    assert facts["faces"]["cascade_sha256"] == OPENCV_CASCADE_SHA256
    assert facts["faces"]["detect_max_side"] == data_facts.faces.DETECT_MAX_SIDE
    assert sum(s["pictures"] for s in facts["sources"]) == facts["pictures"]


# -- the lesson, with two small random models ------------------------------------------------------


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, photo_folder):
    """A weights/ folder: a photo model and a text model that continued it, each with its data facts, named
    as the shipped ones are."""
    import torch

    from liif.core.model import LIIF, LIIFConfig
    from liif.core.weights import save_weights
    from liif.training import text_pictures as tp

    folder = tmp_path_factory.mktemp("weights")
    photo_record = {"steps": 30, "batch_size": 4, "n_train_images": 2, "data": [str(photo_folder)]}
    torch.manual_seed(1)
    save_weights(LIIF(LIIFConfig(encoder="edsr-baseline")), folder / "edsr-baseline-liif.safetensors",
                 extra_metadata={"training": photo_record})
    torch.manual_seed(2)
    save_weights(LIIF(LIIFConfig(encoder="edsr-baseline")), folder / "edsr-baseline-text-liif.safetensors",
                 extra_metadata={"training": {"steps": 7, "batch_size": 4, "n_train_images": 3,
                                              "init": "/elsewhere/weights/edsr-baseline-liif.safetensors",
                                              "lineage": [photo_record]}})
    data_facts.write_facts(data_facts.folder_facts(photo_folder), folder / "edsr-baseline-liif.data.json")
    text_set = tmp_path_factory.mktemp("text") / "set"
    tp.write_text_set(text_set, count=3, seed=1, photos=[])
    data_facts.write_facts(data_facts.folder_facts(text_set, detect_faces=False),
                           folder / "edsr-baseline-text-liif.data.json")
    return folder


@pytest.fixture(scope="module")
def engines(models_dir):
    from liif.core.weights import load_weights
    from liif.render.engine import Upscaler

    return [Upscaler(load_weights(models_dir / name), device="cpu", precision="fp32")
            for name in ("edsr-baseline-liif.safetensors", "edsr-baseline-text-liif.safetensors")]


def test_both_models_draw_the_same_tiny_sign_measured_against_the_real_one(engines):
    result = seen.seen((("the photo one", engines[0]), ("the text one", engines[1])), "sign", 4)
    real = np.asarray(Image.open(originals.known_path("sign")).convert("RGB"))
    assert result.kind == "text" and result.original.key == "sign"
    assert np.array_equal(result.real, real) and result.tiny.shape == (48, 64, 3)
    assert all(m.picture.shape == real.shape for m in result.models) and result.bicubic.shape == real.shape
    assert not np.array_equal(result.models[0].picture, result.models[1].picture)
    assert all(np.isfinite(v) for v in result.psnr.values())
    assert result.gain_db == pytest.approx(result.models[1].psnr - result.models[0].psnr)
    words = seen_words.markdown(result)
    assert "the photo one" in words and "the text one" in words and "PSNR-Y" in words
    assert "started from the photo one itself (30 steps), then trained 7 more steps of 4 crops" in words
    assert "2 of the 3 photographs in its folder (1 held out for validation)" in words
    assert "finds a face in 1 of the 3" in words and "By area: " in words
    assert "pictures of printed text drawn by our generator" in words
    assert "from another seed (2026, theirs 1)" in words
    assert "2302.07944" not in words  # the augmentation works are cited once, in the step's introduction
    summary = json.loads(json.dumps(seen_words.summary(result), default=float))
    assert summary["real_known"] and [m["role"] for m in summary["models"]] == ["photo model", "text model"]
    assert [s["steps"] for s in summary["models"][1]["trained_on"]] == [30, 7]
    sheet = result.sheet()
    assert sheet.width >= 5 * 256 and sheet.height > 256


def little_result(text_offset: int, scale: int = 8, held_out=None, real=False, original=None):
    """A SeenResult without models: the text model's picture `text_offset` levels from the photo model's."""
    base = np.full((8 * scale, 8 * scale, 3), 100, np.uint8)
    drawn = [seen.Drawn("photo", "photo model", base, psnr=30.0 if real else None),
             seen.Drawn("text", "text model", base + text_offset, psnr=30.2 if real else None)]
    return seen.SeenResult(scale=scale, tiny=base[:8, :8], bicubic=base, models=drawn,
                           real=base if real else None, bicubic_psnr=29.0 if real else None, original=original,
                           held_out=held_out or {})


def test_when_the_two_models_barely_differ_the_step_says_so_and_where_they_do():
    """Issue 34: on a face the two models drew nearly the same picture and the step did not say so. When they
    differ little (measured on this picture), it says so plainly, with the held-out text's measured gains by
    scale, and which picture and scales to choose to see the difference."""
    held_out = {"pictures": 40, "gains": {2: 1.54, 4: 0.86, 8: 0.18}}
    words = seen_words.little_difference(little_result(2, held_out=held_out))
    assert "**Here the two models barely differ** (2.0 levels apart on average, and only 0% of the pixels" in words
    assert "On 40 held-out pictures of printed text" in words and "+1.54 dB at ×2, +0.86 dB at ×4, +0.18 dB at ×8" in words
    assert "choose the tiny sign at ×2 or ×4" in words
    assert words in seen_words.findings(little_result(2, held_out=held_out))  # said on the page, right after the verdict
    assert seen_words.little_difference(little_result(40, held_out=held_out)) == ""  # they differ: nothing to say
    # With the real picture known, the gain decides; on the sign at a scale where the text model leads, no advice.
    known = seen_words.little_difference(little_result(2, held_out=held_out, real=True))
    assert "0.20 dB apart against the real picture" in known and "choose the tiny sign" in known
    sign = seen_words.little_difference(little_result(2, 4, held_out, real=True, original=originals.known("sign")))
    assert "barely differ" in sign and "choose" not in sign
    # Without the card's measurements: the advice, with no numbers made up.
    assert "Try the tiny sign" in seen_words.little_difference(little_result(2)) and "dB at" not in \
        seen_words.little_difference(little_result(2))


def test_held_out_gains_are_read_from_the_measurements_beside_the_weights(tmp_path):
    from liif.evaluation.card_text import held_out_gains

    def measured(path, psnr):
        path.write_text(json.dumps({"results": {"model": {"Text40": {
            f"x{k}": {"psnr": v, "n_images": 40} for k, v in psnr.items()}}}}))

    photo, text = tmp_path / "photo.safetensors", tmp_path / "text.safetensors"
    assert held_out_gains(photo, text) == {}  # nothing measured
    measured(tmp_path / "photo.text40.json", {2: 30.0, 4: 25.0})
    measured(tmp_path / "text.eval.json", {2: 31.5, 4: 25.5, 8: 22.0})
    assert held_out_gains(photo, text) == {"pictures": 40, "gains": {2: 1.5, 4: 0.5}}


def test_the_shipped_tiny_sign_is_recognised_by_its_pixels(engines):
    by_key = seen.seen(engines, "sign", 4)
    by_tiny = seen.seen(engines, originals.SEEN_DIR / "sign-x4.png", 4)
    assert by_tiny.original.key == "sign" and by_tiny.psnr == by_key.psnr
    assert np.array_equal(by_tiny.tiny, by_key.tiny)


def test_a_face_and_an_unknown_tiny_picture(engines, tmp_path):
    face = seen.seen(engines, "grace-hopper", 4)
    assert face.kind == "photo" and face.real.shape == (256, 256, 3) and face.tiny.shape == (64, 64, 3)
    unknown = seen.seen(engines, FACE_EXAMPLE, 2)
    assert unknown.real is None and unknown.gain_db is None and unknown.psnr["text model"] is None
    assert unknown.models[0].picture.shape == (128, 128, 3)
    assert "Nobody here knows the real picture" in seen_words.markdown(unknown)
    real = tmp_path / "real.png"
    Image.fromarray(enlarged_face(128)).save(real)
    given = seen.seen(engines, FACE_EXAMPLE, 2, real=real)
    assert given.real is not None and given.bicubic_psnr is not None
    with pytest.raises(imageio.ImageInputError, match="needs one of exactly 256×256"):
        seen.seen(engines, FACE_EXAMPLE, 4, real=real)


def test_the_lesson_refuses_a_scale_it_does_not_offer(engines):
    with pytest.raises(imageio.ImageInputError, match="the check works at the scales"):
        seen.seen(engines, "sign", 5)


# -- the shelf, the page, the endpoint, the command ------------------------------------------------


@pytest.fixture
def shipped_here(models_dir, monkeypatch):
    """weights/ is the test's folder of two models."""
    monkeypatch.setattr(weights_module, "WEIGHTS_DIR", models_dir)
    monkeypatch.delenv("LIIF_WEIGHTS", raising=False)
    return models_dir


def build(tmp_path, shelf):
    from liif.page import files
    from liif.page.context import PageContext
    from liif.page.layout import build_page

    return build_page(PageContext(shelf, files.OutputFolder(parent=tmp_path)))


def test_the_section_draws_with_both_models(shipped_here, tmp_path, monkeypatch):
    import gradio as gr

    from liif.page import models
    from liif.page.sections.seen import OWN_PHOTO
    from liif.page.widgets import MODEL_WORK

    shelf = models.ModelShelf(device="cpu", precision="fp32")
    assert shelf.text_trained() == "edsr-baseline-text-liif.safetensors"
    assert shelf.trained_from("edsr-baseline-text-liif.safetensors") == "edsr-baseline-liif.safetensors"
    assert ("LIIF-EDSR-baseline for text", "edsr-baseline-text-liif.safetensors") in shelf.choices
    page = build(tmp_path, shelf)
    section = page.seen
    assert (section.photo_model, section.text_model) == ("edsr-baseline-liif.safetensors",
                                                         "edsr-baseline-text-liif.safetensors")
    queued = {fn.name: fn.concurrency_id for fn in page.demo.fns.values() if fn.queue is not False}
    assert "run_seen" in queued and all(kind == MODEL_WORK for kind in queued.values()), queued
    out = section.run_seen("sign", 4, None)
    words = out[-2]
    assert out[-1]["visible"] and out[-3]["visible"]  # the real picture shown
    assert out[-3]["label"].startswith("The real picture") and out[-1]["value"].endswith(".png")
    assert "LIIF-EDSR-baseline for text" in words and "closer" in words
    own = section.run_seen(OWN_PHOTO, 2, str(FACE_EXAMPLE))
    assert own[-3]["visible"] is False and "Nobody here knows the real picture" in own[-2]
    # The step's scale follows the page's main scale (issue 34: ×4 after a ×8 run), as far as a photo allows.
    assert [section.main_scale(s) for s in (8, 30, 5.6, 1.5)] == [8, 8, 4, 2]
    assert section.follow_main("sign", None, 8) == 8 and section.follow_photo("sign", None, 4) == gr.update()
    wide = tmp_path / "wide.png"
    Image.fromarray(gradient(400, 400)).save(wide)  # 3200×3200 at ×8: past the page's output limit
    assert section.follow_main(OWN_PHOTO, str(wide), 8) < 8 and section.follow_photo(OWN_PHOTO, str(wide), 8) < 8
    sheet, summary = page.api.endpoints["seen"].call(str(originals.SEEN_DIR / "sign-x4.png"), 4)
    assert Image.open(sheet).format == "PNG" and summary["real_known"] and summary["input"] == "sign"
    big = tmp_path / "big.png"  # refused from its header: 8 x 400 a side is past the page's output limit
    Image.fromarray(gradient(400, 400)).save(big)
    with pytest.raises(gr.Error, match="3200×3200"):
        page.api.endpoints["seen"].call(str(big), 8)
    # Too much compute for both models' measured speeds is refused before either runs, from the header.
    monkeypatch.setattr(page.ctx.shelf, "speed", lambda name=None: Speed(1e-3, 1e-4))
    monkeypatch.setattr(seen, "upscale_image", None)  # the models must not be asked
    small = tmp_path / "small.png"
    Image.fromarray(gradient(100, 100)).save(small)
    with pytest.raises(gr.Error, match=r"both models at 800×800 from a 100×100 picture would take about \d+ s"):
        section.run_seen(OWN_PHOTO, 8, str(small))
    page.ctx.outputs.cleanup()


def test_without_the_text_model_the_section_says_so_and_has_no_button(weights_path, tmp_path):
    import gradio as gr

    from liif.page import models

    page = build(tmp_path, models.ModelShelf(weights_path, device="cpu"))
    assert page.seen.button is None and page.seen.text_model is None
    ids = {block.elem_id for block in page.demo.blocks.values()}
    assert "seen-missing" in ids and "seen-button" not in ids
    with pytest.raises(gr.Error, match="not on this server"):
        page.api.endpoints["seen"].call(str(FACE_EXAMPLE), 4)
    public = sorted(fn.api_name for fn in page.demo.fns.values() if fn.api_visibility != "private")
    assert public == ["answers", "check", "ladder", "probe", "seen", "upscale", "zoom"]
    page.ctx.outputs.cleanup()


def test_model_text_names_the_text_model(tmp_path, monkeypatch):
    from liif.core.weights import WeightsError, resolve_weights

    monkeypatch.setattr(weights_module, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(WeightsError, match=r"the edsr-baseline-text \(--model text\) model is not shipped here"):
        resolve_weights("text")
    with pytest.raises(WeightsError, match="the edsr-baseline-text model is not shipped here"):
        resolve_weights("edsr-baseline-text")


def test_the_command_writes_a_sheet(models_dir, tmp_path, capsys):
    sheet = tmp_path / "sheet.png"
    code = cli.main(["seen", "sign", "--scale", "4", "-o", str(sheet), "--json", "--device", "cpu",
                     "--precision", "fp32", "--model", str(models_dir / "edsr-baseline-liif.safetensors"),
                     "--text-model", str(models_dir / "edsr-baseline-text-liif.safetensors")])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["real_known"] and summary["tiny"] == {"width": 64, "height": 48}
    with Image.open(sheet) as image:
        assert image.format == "PNG" and image.height > 256
    assert cli.main(["seen", "sign", "--real", "x.png", "--shrink"]) == 2
