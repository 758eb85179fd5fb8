"""Inside one pixel (liif/lessons/probe.py, `python -m liif probe`): the reported sum is the colour, exactly,
and the engine's render of that pixel, for both encoders, in fp32 and bf16, at borders and corners too.
Small random models (fixed seeds): these test the arithmetic, not the quality."""

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from liif import cli
from liif.core import geometry, weights
from liif.core.model import LIIF, LIIFConfig
from liif.core.reference import query_reference
from liif.lessons.explain import feature_pca_image
from liif.lessons.probe import check_point, probe
from liif.lessons.probe_pictures import (
    LABEL_SIZE,
    PICTURE_CELL,
    PICTURE_WIDTH,
    grid_picture,
    opening_picture,
    profile_picture,
)
from liif.lessons.probe_words import plain_sentence, probe_markdown, probe_sentences
from liif.render import imageio
from liif.render.engine import Speed, Upscaler, cpu_has_fast_bf16
from liif.render.upscale import bicubic_image

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ENCODERS = ("edsr-baseline", "rdn")
# The largest |rgb - rendered_rgb| seen, per precision, printed at the end of the module (pytest -s).
GAPS = {"fp32": 0, "bf16": 0}
# How wide a 390 px phone window shows the probe's pictures, CSS pixels (measured in Chromium: the
# section's content box; tests/test_screenshots_experiments.py measures it on the page).
PHONE_PICTURE_WIDTH = 298


@pytest.fixture(scope="module")
def models():
    out = {}
    for seed, encoder in enumerate(ENCODERS):
        torch.manual_seed(seed)
        out[encoder] = LIIF(LIIFConfig(encoder=encoder)).eval()
    return out


@pytest.fixture(scope="module")
def loaded():
    """A 12x10 photo of noise: every pixel differs from its neighbours, so every term matters."""
    return imageio.load_image(np.random.default_rng(3).integers(0, 256, (10, 12, 3), dtype=np.uint8))


def points(out_w: int, out_h: int, seed: int) -> list:
    """The 4 corners, the 4 edges' middles and 8 random pixels of a out_w x out_h output."""
    rng = np.random.default_rng(seed)
    fixed = [(0, 0), (out_w - 1, 0), (0, out_h - 1), (out_w - 1, out_h - 1),
             (out_w // 2, 0), (0, out_h // 2), (out_w - 1, out_h // 2), (out_w // 2, out_h - 1)]
    return fixed + [(int(rng.integers(out_w)), int(rng.integers(out_h))) for _ in range(8)]


def recompute(summary: dict) -> list:
    """The colour from the JSON alone: Σ weight × answer + bicubic term, clamped to 0..255, rounded."""
    out = []
    for c in range(3):
        total = sum(n["weight"] * n["answer"][c] for n in summary["neighbours"]) + summary["bicubic_term"][c]
        out.append(int(min(255.0, max(0.0, round(total)))))
    return out


@pytest.mark.parametrize("precision,tolerance", [("fp32", 1), pytest.param("bf16", 2, marks=pytest.mark.skipif(
    not cpu_has_fast_bf16(), reason="this CPU has no bf16 units (AMX or AVX-512 BF16); oneDNN refuses bf16 here"))])
@pytest.mark.parametrize("encoder", ENCODERS)
def test_the_sum_is_the_colour_and_the_render(models, loaded, encoder, precision, tolerance):
    upscaler = Upscaler(models[encoder], device="cpu", precision=precision)
    image01 = imageio.to_tensor(loaded.rgb)
    for out_w, out_h in [(36, 30), (23, 17)]:  # x3, and a scale that is neither whole nor the same both ways
        full = imageio.to_uint8(upscaler.render(image01, out_h, out_w))
        for x, y in points(out_w, out_h, seed=out_w):
            p = probe(upscaler, loaded, x, y, (out_w, out_h), profile_span=0)
            s = json.loads(json.dumps(p.summary()))  # what the page and --json see
            assert recompute(s) == s["rgb"], (x, y)  # the colour from the reported numbers alone
            gap = max(abs(a - b) for a, b in zip(s["rgb"], s["rendered_rgb"]))
            GAPS[precision] = max(GAPS[precision], gap)
            assert gap <= tolerance, (encoder, precision, x, y, s["rgb"], s["rendered_rgb"])
            assert s["rendered_rgb"] == full[y, x].tolist(), (x, y)  # the 1x1 region is the full render's pixel

            assert len(s["neighbours"]) == 4
            assert math.isclose(sum(n["weight"] for n in s["neighbours"]), 1.0, abs_tol=1e-5)
            (px, py), (cx, cy) = p.coord_px, p.cell_px
            assert math.isclose(px, (x + 0.5) * 12 / out_w, abs_tol=1e-5)
            assert math.isclose(py, (y + 0.5) * 10 / out_h, abs_tol=1e-5)
            for n in s["neighbours"]:
                row, col = n["grid_point"]["row"], n["grid_point"]["col"]
                assert 0 <= row < 10 and 0 <= col < 12
                assert n["offset_px"] == pytest.approx([px - col - 0.5, py - row - 0.5], abs=1e-4)
                # the decoder's own units: 2 per latent pixel, (row, column) order, the offset then the cell
                assert n["decoder_input"] == pytest.approx([2 * (py - row - 0.5), 2 * (px - col - 0.5), 2 * cy, 2 * cx],
                                                           abs=2e-4)
            # each weight is the diagonally opposite shift's area (the swap), over the total
            areas = [abs(4 * n.offset_px[0] * n.offset_px[1]) for n in p.neighbours]
            assert [n.weight for n in p.neighbours] == pytest.approx([a / sum(areas) for a in areas[::-1]], abs=1e-4)

            distinct = p.distinct_points
            near_x = min(px, 12 - px) < 0.5  # within half a pixel of a left or right border
            near_y = min(py, 10 - py) < 0.5
            assert len(distinct) == {(True, True): 1, (True, False): 2, (False, True): 2}.get((near_x, near_y), 4)
            if len(distinct) == 4:
                assert p.heaviest_point() == p.nearest_point()
            assert probe_sentences(p) and all(isinstance(line, str) and line for line in probe_sentences(p))


def test_gaps_seen():
    """Runs after the parametrised test above (file order): reports the largest gaps it found."""
    print(f"\nlargest |rgb - rendered_rgb|: fp32 {GAPS['fp32']}, bf16 {GAPS['bf16']}")
    assert GAPS["fp32"] <= 1 and GAPS["bf16"] <= 2


def test_the_window_is_the_whole_picture_formula(models, loaded):
    """The probe runs the formula on the codes around the point; on the whole feature map it is the same."""
    upscaler = Upscaler(models["edsr-baseline"], device="cpu", precision="fp32")
    image01 = imageio.to_tensor(loaded.rgb)
    enc = upscaler.encode(image01)
    out_w, out_h = 29, 41
    for x, y in points(out_w, out_h, seed=5):
        p = probe(upscaler, loaded, x, y, (out_w, out_h), profile_span=0)
        coord = torch.tensor([[[geometry.pixel_centres(out_h)[y], geometry.pixel_centres(out_w)[x]]]])
        cell = torch.tensor([[[2 / out_h, 2 / out_w]]])
        whole = query_reference(upscaler.model, enc.feat, coord, cell, enc.inp)[0, 0] * 127.5 + 127.5
        assert list(p.total) == pytest.approx(whole.tolist(), abs=2e-3)
        bicubic = geometry.bicubic_at(enc.inp, coord)[0, 0] * 127.5 + 127.5
        assert list(p.bicubic_term) == pytest.approx(bicubic.tolist(), abs=2e-3)


def test_page_bicubic_is_the_pages_picture(models, loaded):
    upscaler = Upscaler(models["edsr-baseline"], device="cpu", precision="fp32")
    out_w, out_h = 37, 23
    page = np.asarray(bicubic_image(loaded, out_w, out_h))
    for x, y in points(out_w, out_h, seed=7):
        p = probe(upscaler, loaded, x, y, (out_w, out_h), profile_span=0)
        assert list(p.page_bicubic_rgb) == page[y, x].tolist()
        assert p.bicubic_gap == pytest.approx(max(abs(a - b) for a, b in zip(page[y, x], p.model_bicubic)))


def test_probes_of_64x64_at_x8_after_the_first_reuse_its_encoding(models):
    """The page's case: a 64x64 photo at x8, clicks after the run. Only the first probe encodes; the rest
    reuse it (what makes a click quick; its time is `python -m liif bench`'s to measure, not a test's)."""
    upscaler = Upscaler(models["edsr-baseline"], device="cpu", precision="fp32")
    photo = imageio.load_image(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    first = probe(upscaler, photo, 200, 300, (512, 512))
    assert not first.encoder_reused and first.encoder_seconds > 0
    for x, y in [(0, 0), (511, 511), (257, 129), (33, 480), (400, 7)]:
        p = probe(upscaler, photo, x, y, (512, 512))
        assert p.encoder_reused and p.encoder_seconds == 0


def test_profile_pictures_and_words(models, loaded, monkeypatch):
    upscaler = Upscaler(models["edsr-baseline"], device="cpu", precision="fp32")

    def refuse(config, name, value):  # the config is the model's, shared by every request
        raise AssertionError(f"the probe set the shared model.config.{name}")

    monkeypatch.setattr(LIIFConfig, "__setattr__", refuse)
    p = probe(upscaler, loaded, 20, 14, (36, 30))
    prof = p.profile
    assert prof.liif.shape == prof.bicubic.shape == prof.nearest.shape == (4 * 16, 3)
    assert np.all(np.diff(prof.x_px) > 0) and prof.x_px[0] < p.coord_px[0] < prof.x_px[-1]
    # the input's own pixels are flat squares with edges; LIIF crosses them in smaller steps
    assert prof.liif_step < prof.nearest_step

    s = p.summary()
    json.dumps(s)
    for key in ("rgb", "rendered_rgb", "neighbours", "coord", "cell_px", "bicubic_term", "page_bicubic_rgb", "seconds"):
        assert key in s
    text = probe_markdown(p)
    assert "(" + ", ".join(map(str, p.rgb)) + ")" in text and "| weight |" in text
    for picture in (grid_picture(p), profile_picture(p.profile)):
        assert isinstance(picture, Image.Image) and picture.width >= PICTURE_WIDTH and picture.height >= 200


def test_the_grid_points_are_marked_on_the_explanations_feature_grid(models, loaded):
    """The probe's second panel is the explanation's picture of the feature grid, at the same place as the
    input's pixels of the first (one code per input pixel), with the same grid points marked."""
    upscaler = Upscaler(models["rdn"], device="cpu", precision="fp32")
    p = probe(upscaler, loaded, 20, 14, (36, 30), profile_span=0)
    whole = feature_pca_image(upscaler.encode(imageio.to_tensor(loaded.rgb)).feat.cpu())
    (ax, ay), (rows, cols) = p.around_origin, p.around.shape[:2]
    assert p.feature_around.shape == p.around.shape
    assert np.array_equal(p.feature_around, whole[ay : ay + rows, ax : ax + cols])
    for (row, col), _, _ in p.distinct_points:  # every grid point the query uses is inside the panels
        assert ay <= row < ay + rows and ax <= col < ax + cols
    # the panels are the pictures' own pixels, enlarged: the first panel shows the input, the second the codes
    picture = np.asarray(grid_picture(p))
    cell = PICTURE_CELL
    colours = {tuple(c) for c in picture.reshape(-1, 3)}
    assert tuple(p.around[0, 0]) in colours and tuple(p.feature_around[0, 0]) in colours
    assert picture.shape[0] > 2 * rows * cell  # both panels, stacked, and the table of answers


def test_page_pictures_labels_are_readable_on_a_phone(models, loaded):
    """Every label the page's probe pictures draw is LABEL_SIZE tall (each picture says its smallest in
    info["label_px"]) on pictures PICTURE_WIDTH wide, so a phone that shows them PHONE_PICTURE_WIDTH wide
    (measured on a 390 px window: tests/test_screenshots_experiments.py) still shows 11 px labels."""
    upscaler = Upscaler(models["edsr-baseline"], device="cpu", precision="fp32")
    for x, y, size in [(20, 14, (36, 30)), (0, 0, (96, 80)), (95, 79, (96, 80))]:
        p = probe(upscaler, loaded, x, y, size)
        for picture in (opening_picture(p), grid_picture(p, with_pixels=False), profile_picture(p.profile)):  # the page's
            assert picture.info["label_px"] == LABEL_SIZE and picture.width == PICTURE_WIDTH
            assert LABEL_SIZE * PHONE_PICTURE_WIDTH / picture.width >= 11


def test_corner_words_say_what_happened(models, loaded):
    upscaler = Upscaler(models["edsr-baseline"], device="cpu", precision="fp32")
    corner = probe(upscaler, loaded, 0, 0, (96, 80), profile_span=0)
    assert {n.grid_point for n in corner.neighbours} == {(0, 0)}
    assert any("corner" in line and "4 times" in line for line in probe_sentences(corner))
    middle = probe(upscaler, loaded, 45, 37, (96, 80), profile_span=0)
    assert any("weighs most" in line for line in probe_sentences(middle))
    # The step's opening sentence, for anyone: the same facts, none of the method's words or units.
    assert "the one photo pixel nearest to it" in plain_sentence(corner)
    heaviest = max(weight for _, _, weight in middle.distinct_points)
    assert "the 4 photo pixels nearest to it" in plain_sentence(middle) and f"({heaviest:.0%})" in plain_sentence(middle)
    for pixel in (corner, middle):
        assert "(" + ", ".join(str(int(v)) for v in pixel.rgb) + ")" in plain_sentence(pixel)
        assert not any(word in plain_sentence(pixel) for word in ("[-1, 1]", "grid_sample", "decoder", "latent", "a = -0.75"))


def test_bad_points_are_one_sentence(models, loaded):
    upscaler = Upscaler(models["edsr-baseline"], device="cpu", precision="fp32")
    for x, y, size in [(36, 0, (36, 30)), (0, -1, (36, 30)), (1.5, 2, (36, 30)), ("a", 2, (36, 30)),
                       (0, 0, (0, 30)), (0, 0, (36,))]:
        with pytest.raises(imageio.ImageInputError):
            probe(upscaler, loaded, x, y, size)
    assert check_point(3.0, 4, (10, 10)) == (3, 4, 10, 10)
    # a picture not yet encoded, on a machine measured too slow for it: refused before any work
    fresh = imageio.load_image(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(imageio.ImageInputError, match="Shrink the picture"):
        probe(upscaler, fresh, 0, 0, (16, 16), speed=Speed(1.0, 0.0), max_seconds=10)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    torch.manual_seed(0)
    return weights.save_weights(LIIF(LIIFConfig(encoder="edsr-baseline")), tmp_path_factory.mktemp("m") / "m.safetensors")


def run_main(capsys, *args):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_matches_the_upscale_command(capsys, tmp_path, loaded, model_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(loaded.rgb).save(photo)
    model = ["--model", model_path, "--device", "cpu", "--precision", "fp32"]
    code, _, err = run_main(capsys, "upscale", photo, "--scale", "8", "-o", tmp_path / "big.png", *model)
    assert code == 0, err
    big = np.asarray(Image.open(tmp_path / "big.png").convert("RGB"))
    for x, y in [(0, 0), (95, 79), (50, 3), (17, 66)]:
        code, out, err = run_main(capsys, "probe", photo, "--scale", "8", "--at", f"{x},{y}", "--json", *model)
        assert code == 0, err
        s = json.loads(out)
        assert s["rendered_rgb"] == big[y, x].tolist()
        assert max(abs(a - b) for a, b in zip(s["rgb"], s["rendered_rgb"])) <= 1
    code, out, err = run_main(capsys, "probe", photo, "--scale", "8", "--at", "50,3", *model, "--picture",
                              tmp_path / "grid.png", "--profile", tmp_path / "profile.png")
    assert code == 0, err
    assert "weight" in out and (tmp_path / "grid.png").exists() and (tmp_path / "profile.png").exists()


def test_cli_refusals_are_one_line(capsys, tmp_path, loaded, model_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(loaded.rgb).save(photo)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    model = ["--model", model_path, "--device", "cpu"]
    for args in ([photo, "--scale", "8", "--at", "96,0"], [photo, "--scale", "8", "--at", "-1,5"],
                 [photo, "--scale", "8", "--at", "3,-5"], [photo, "--scale", "8", "--at", "1.5,2"],
                 [photo, "--scale", "8", "--at", "a,b"], [photo, "--scale", "zero", "--at", "1,1"],
                 [photo, "--scale", "0", "--at", "1,1"], [photo, "--size", "12by4", "--at", "1,1"],
                 [text, "--scale", "8", "--at", "1,1"], [tmp_path / "missing.png", "--scale", "8", "--at", "1,1"]):
        code, out, err = run_main(capsys, "probe", *args, *model)
        assert code == 2, (args, err)
        assert out == "" and err.startswith("error:") and err.strip().count("\n") == 0, (args, err)


@pytest.mark.parametrize("switches", [{"local_ensemble": False}, {"residual": "none", "cell_decode": False},
                                      {"feat_unfold": False}])
def test_other_switches_and_tiny_pictures(switches):
    """Models with a switch off, pictures of 1 and 2 pixels a side, and outputs smaller than the input."""
    torch.manual_seed(1)
    upscaler = Upscaler(LIIF(LIIFConfig(encoder="edsr-baseline", **switches)), device="cpu", precision="fp32")
    rng = np.random.default_rng(2)
    for h, w, out_size in [(1, 1, (3, 3)), (2, 3, (7, 5)), (9, 8, (4, 5))]:
        picture = imageio.load_image(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        full = imageio.to_uint8(upscaler.render(imageio.to_tensor(picture.rgb), out_size[1], out_size[0]))
        for x, y in points(*out_size, seed=h):
            p = probe(upscaler, picture, x, y, out_size)
            assert recompute(json.loads(json.dumps(p.summary()))) == list(p.rgb)
            assert max(abs(a - b) for a, b in zip(p.rgb, p.rendered_rgb)) <= 1
            assert list(p.rendered_rgb) == full[y, x].tolist()
            assert len(p.neighbours) == (4 if upscaler.model.config.local_ensemble else 1)
            assert probe_sentences(p) and probe_markdown(p)
        grid_picture(p), profile_picture(p.profile)
