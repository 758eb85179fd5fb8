"""The explanation's numbers and pictures (liif/lessons/explain.py): each is checked against a case whose answer
is known independently of the code."""

import math
import re

import numpy as np
import pytest
import torch

from liif.lessons import explain, sources
from liif.render import colormaps, pictures


def facts(**overrides) -> explain.RunFacts:
    values = dict(in_width=64, in_height=64, out_width=512, out_height=512, encoder_seconds=0.4,
                  decoder_seconds=3.25, device="cpu", precision="bf16", model_name="edsr-baseline-liif.safetensors")
    values.update(overrides)
    return explain.RunFacts(**values)


def smooth_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A photo-like uint8 picture: a few broad colour waves, no pixel-level noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    channels = [0.5 + 0.35 * np.sin(2 * math.pi * (rng.uniform(0.5, 1.5) * x + rng.uniform(0.5, 1.5) * y) + c)
                for c in (0.0, 2.0, 4.0)]
    return np.round(np.stack(channels, -1) * 255).astype(np.uint8)


# -- the numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("in_size, out_size, expected", [
    ((64, 64), (512, 512), 1 / 64),  # x8: one pixel in 64 was observed
    ((48, 48), (120, 120), 1 / 6.25),  # x2.5
    ((10, 20), (30, 40), 200 / 1200),  # different scales per axis: 1 / (sx * sy)
    ((64, 64), (64, 64), 1.0),
    ((64, 64), (32, 32), 1.0),  # shrinking observes everything
])
def test_observed_share_is_one_over_scale_squared(in_size, out_size, expected):
    assert explain.observed_share(*in_size, *out_size) == pytest.approx(expected)


def test_query_count_is_four_per_output_pixel_with_local_ensemble():
    assert explain.query_count(512, 512) == 1_048_576
    assert explain.query_count(384, 200, local_ensemble=True) == 384 * 200 * 4
    assert explain.query_count(512, 512, local_ensemble=False) == 262_144


# -- the feature picture ---------------------------------------------------------------------------


def test_feature_picture_has_one_pixel_per_latent_code():
    feat = torch.randn(1, 64, 5, 7)
    picture = explain.feature_pca_image(feat)
    assert picture.shape == (5, 7, 3) and picture.dtype == np.uint8


def test_feature_picture_shows_the_strongest_direction_in_red():
    # Codes that vary mostly along x (in one direction of the 64-d space) and a little along y (in
    # another): the first principal component is the x ramp, so red must rise from left to right.
    h, w = 12, 16
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    along_x, along_y = torch.zeros(64), torch.zeros(64)
    along_x[3], along_x[10] = 1.0, 0.5
    along_y[20] = 1.0
    feat = (xs[..., None] * along_x * 5 + ys[..., None] * along_y).permute(2, 0, 1)[None]
    picture = explain.feature_pca_image(feat).astype(int)
    red_by_column = picture[..., 0].mean(axis=0)
    assert np.all(np.diff(red_by_column) >= 0) and red_by_column[-1] - red_by_column[0] > 200
    green_by_row = picture[..., 1].mean(axis=1)  # the second component is the y ramp
    assert abs(green_by_row[-1] - green_by_row[0]) > 200
    assert np.ptp(picture[..., 0], axis=0).max() <= 1  # red does not change down a column


def test_feature_picture_of_a_flat_grid_is_grey():
    assert np.all(explain.feature_pca_image(torch.ones(1, 64, 4, 4)) == 128)
    assert explain.feature_pca_image(torch.randn(1, 64, 1, 1)).shape == (1, 1, 3)  # a 1x1 input


# -- the heat map ----------------------------------------------------------------------------------


def test_heat_map_is_black_where_nothing_was_added():
    image = smooth_image(20, 30)
    heat, mean = explain.added_detail(image, image.copy())
    assert mean == 0.0
    assert heat.shape == (20, 30, 3)
    assert np.all(heat == colormaps.SEQUENTIAL_COLOURS[0].astype(np.uint8))


def test_heat_map_mean_and_brightness_follow_the_difference():
    bicubic = np.full((10, 10, 3), 100, np.uint8)
    liif = bicubic.copy()
    liif[:5, :, 0] += 12  # top half: red moved by 12 levels
    liif[5:, :] += 40  # bottom half: every channel by 40, more than the colour map's full scale
    heat, mean = explain.added_detail(liif, bicubic)
    assert mean == pytest.approx((50 * 12 + 50 * 3 * 40) / 300)
    assert np.all(heat[7, 3] == colormaps.SEQUENTIAL_COLOURS[-1].astype(np.uint8))  # saturated
    top, bottom, untouched = heat[2, 2].astype(int).sum(), heat[7, 7].astype(int).sum(), int(colormaps.SEQUENTIAL_COLOURS[0].sum())
    assert untouched < top < bottom


def test_colour_map_runs_from_dark_to_bright():
    colours = colormaps.sequential(np.linspace(0, 1, 50)).astype(int)
    brightness = colours.sum(axis=1)
    assert brightness[0] < 20 and brightness[-1] > 600
    assert np.all(np.diff(brightness) > -10)  # monotone up to rounding


# -- the consistency check -------------------------------------------------------------------------


def test_consistency_is_exact_for_an_output_that_shrinks_to_the_input():
    high = smooth_image(128, 96)
    low = pictures.shrink(high, 24, 32)
    shrunk, db = explain.consistency(high, low)
    assert shrunk.shape == low.shape and math.isinf(db)


def test_consistency_is_high_for_a_model_that_reproduces_the_input():
    low = smooth_image(32, 32, seed=1)
    faithful = np.repeat(np.repeat(low, 4, axis=0), 4, axis=1)  # each observed pixel kept, nothing invented
    _, db = explain.consistency(faithful, low)
    assert db > 35


def test_consistency_is_low_for_a_model_that_changes_the_input():
    low = smooth_image(32, 32, seed=1)
    unrelated = smooth_image(128, 128, seed=7)
    _, db = explain.consistency(unrelated, low)
    assert db < 20


# -- the text --------------------------------------------------------------------------------------


def run_explanation(**overrides):
    f = facts(**overrides)
    feat = torch.randn(1, 64, f.in_height, f.in_width)
    low = smooth_image(f.in_height, f.in_width)
    bicubic = np.repeat(np.repeat(low, f.out_height // f.in_height, axis=0), f.out_width // f.in_width, axis=1)
    liif = np.clip(bicubic.astype(int) + 3, 0, 255).astype(np.uint8)
    return f, explain.explain(f, feat, low, bicubic, liif)


def test_explanation_states_this_runs_facts():
    _, words = run_explanation()
    text = words.markdown()
    for fact in ("64×64", "4,096 pixels", "512×512", "262,144 pixels", "1,048,576 questions", "8×8 block",
                 "400 ms", "3.2 s", "**cpu**", "**bf16**", "edsr-baseline-liif.safetensors", "×8"):
        assert fact in text, fact
    assert words.numbers["queries"] == 1_048_576
    assert words.numbers["observed_share"] == pytest.approx(1 / 64)
    assert words.numbers["added_mean_levels"] == pytest.approx(3.0, abs=0.05)
    assert f"{words.numbers['consistency_psnr_db']:.1f} dB" in text
    assert words.feature_image.shape == (64, 64, 3)
    assert words.added_map.shape == (512, 512, 3)
    assert words.consistency_image.shape == (64, 64 * 2 + 1, 3)


def test_explanation_says_when_the_encoder_was_reused():
    _, words = run_explanation(encoder_reused=True, encoder_seconds=0.001, first_encoder_seconds=1.5)
    assert "Reused" in words.workflow and "1.5 s the first time" in words.workflow


def test_explanation_of_an_uneven_scale_and_a_paper_liif():
    _, words = run_explanation(out_width=256, out_height=128, local_ensemble=False, residual="none")
    assert "×4 wide and ×2 tall" in words.task and "4×2 block" in words.why
    assert "32,768 questions" in words.workflow  # one per pixel without the ensemble
    assert "bicubic estimate" not in words.workflow


def test_sources_are_exactly_the_three_papers_and_their_code_each_where_it_explains_something():
    """The answer cites the model it runs; the two data-augmentation works are cited where the page says
    what a model has seen decides what it draws (step 3), as augmentation, not as upscalers."""
    def links(markdown):
        return set(re.findall(r"\((https?://[^)\s]+)\)", markdown))

    assert links(sources.sources_markdown()) == {"https://arxiv.org/abs/2012.09161", "https://github.com/yinboc/liif"}
    augmentation = sources.augmentation_markdown()
    assert links(augmentation) == {
        "https://arxiv.org/abs/2302.07944", "https://github.com/brandontrabucco/da-fusion",
        "https://arxiv.org/abs/2406.08249", "https://github.com/KupynOrest/instance_augmentation",
    }
    assert "augmentation" in augmentation and "not upscalers" in augmentation
    _, words = run_explanation()
    # The answer links only the model's paper (and the page's own steps), nothing else.
    assert set(re.findall(r"https?://[^)\s]+", words.markdown())) == links(sources.sources_markdown())
    assert "DA-Fusion" not in words.markdown() and "Instance-Level" not in words.markdown()


def test_diverging_map_is_blue_to_orange_through_grey():
    low, mid, high = colormaps.diverging(np.array([-1.0, 0.0, 1.0])).astype(int)
    assert low[2] > low[0] and high[0] > high[2]  # blue end, orange end: no red/green pairing
    assert abs(mid[0] - mid[1]) < 5 and abs(mid[1] - mid[2]) < 5 and mid.min() > 200


def test_colour_bar_shows_the_ramp_and_labels():
    bar = colormaps.colour_bar(colormaps.sequential, "0", "32+", width=200)
    assert bar.shape[1] == 200 and bar.dtype == np.uint8
    assert np.array_equal(bar[0, 0], colormaps.SEQUENTIAL_COLOURS[0].astype(np.uint8))
    assert (bar[-10:] < 128).any()  # label text drawn below the strip


# -- what the text says about the model and the run ----------------------------------------------


RDN_RECORD = {"steps": 8500, "wall_seconds": 580, "hardware": "NVIDIA H200", "processes": 1, "n_train_images": 524}


def at_a_glance(markdown: str) -> str:
    """The text a visitor sees without unfolding anything."""
    return re.sub(r"<details>.*?</details>", "", markdown, flags=re.S)


@pytest.mark.parametrize("encoder, blocks, convolutions, millions", [
    ("rdn", 16, 8, 21.97),  # the RDN paper's configuration B without its upsampler
    ("edsr-baseline", 16, 2, 1.22),
])
def test_model_facts_are_counted_from_the_model(encoder, blocks, convolutions, millions):
    from liif.core.model import LIIF, LIIFConfig

    model = LIIF(LIIFConfig(encoder=encoder))
    counted = explain.model_facts(model, RDN_RECORD)
    assert counted["encoder_blocks"] == blocks and counted["block_convolutions"] == convolutions
    assert counted["encoder_parameters"] / 1e6 == pytest.approx(millions, abs=0.005)
    assert counted["model_parameters"] - counted["encoder_parameters"] == pytest.approx(0.35e6, rel=0.01)  # the MLP
    assert counted["training"] == RDN_RECORD
    _, words = run_explanation(encoder=encoder, **counted)
    name = {"rdn": "RDN", "edsr-baseline": "EDSR-baseline"}[encoder]
    assert f"**encoder** ({name}, {millions:.1f} M parameters)" in at_a_glance(words.workflow)
    assert f"{name}: {blocks} " in words.workflow and f"of {convolutions} convolutions each, {millions:.1f} M parameters" in words.workflow


def test_the_text_says_how_small_and_briefly_the_model_was_trained():
    _, words = run_explanation(training=RDN_RECORD)
    assert "only 524 photos (and their flips and transposes) in 8,500 training steps (10 minutes on one NVIDIA H200 GPU)" in words.why
    _, words = run_explanation(training={"steps": 2600, "wall_seconds": 5598, "hardware": "x86_64 CPU, 2 threads",
                                         "n_train_images": 524})
    assert "2,600 training steps (1.6 hours on x86_64 CPU, 2 threads)" in words.why
    _, words = run_explanation(training=None)
    assert "carries no record of how it was trained" in words.why


def test_section_three_separates_observed_learned_invented():
    _, words = run_explanation(training=RDN_RECORD)
    why = words.why
    for part in ("**Observed, from your photo**", "**Learned, from training photos**", "**Invented: what no one observed.**"):
        assert part in at_a_glance(why), part
    assert "average colour of one 8×8 block" in why  # what was recorded, not "x% of the pixels are real"
    assert "% of the output" not in why and "pixels are" not in why
    assert "L1 loss" in why and "*average*" in why and "picks *one* of them and draws it sharp" in why
    assert "](#answers-section)" in why  # the invention is shown, in the many-answers step
    assert "not evidence" in why and "different person" not in why  # no face was found in these colour waves
    assert "DA-Fusion" not in why and "Instance-Level" not in why  # cited in step 3, as augmentation
    assert "the face" not in words.markdown()  # the photo may be a cat or a cup


def test_the_bicubic_residual_is_called_this_projects_change():
    _, words = run_explanation(residual="bicubic")
    assert "this project's change to LIIF, not part of the paper" in words.workflow
    _, words = run_explanation(residual="none")
    assert "project's change" not in words.workflow


def test_a_nearly_black_map_is_pointed_out():
    f = facts(out_width=96, out_height=96)
    low = smooth_image(64, 64)
    bicubic = smooth_image(96, 96)
    nearly_same = bicubic.copy()
    nearly_same[::4, ::4, 0] = np.clip(nearly_same[::4, ::4, 0].astype(int) + 4, 0, 255)  # 0.08 levels on average
    words = explain.explain(f, torch.randn(1, 64, 64, 64), low, bicubic, nearly_same)
    assert "nearly black" in words.why and "at ×1.5 the model added almost nothing" in words.why
    _, words = run_explanation()  # 3 levels everywhere
    assert "nearly black" not in words.why and "**3.00 levels**" in words.why


def test_added_detail_on_edges_is_measured():
    bicubic = np.zeros((40, 40, 3), np.uint8)
    bicubic[:, 20:] = 200  # one vertical edge
    on_edge, everywhere = bicubic.copy(), np.clip(bicubic.astype(int) + 5, 0, 255).astype(np.uint8)
    on_edge[:, 19:21] += 10  # detail only along the edge
    assert explain.added_on_edges(on_edge, bicubic) == pytest.approx(1.0)
    assert explain.added_on_edges(everywhere, bicubic) == pytest.approx(0.2, abs=0.02)  # spread evenly: its share of the area
    assert explain.added_on_edges(bicubic, bicubic) == 0.0


def test_shrinking_invents_nothing():
    f = facts(out_width=32, out_height=32)
    low = smooth_image(64, 64)
    words = explain.explain(f, torch.randn(1, 64, 64, 64), low, smooth_image(32, 32), smooth_image(32, 32))
    assert "**Invented: nothing.**" in words.why and "made the picture smaller" in words.why


def test_the_answer_reads_at_a_glance():
    _, words = run_explanation(training=RDN_RECORD, encoder="rdn", encoder_blocks=16, block_convolutions=8,
                               encoder_parameters=21_973_952, model_parameters=22_320_835)
    glance = at_a_glance("\n\n".join((words.task, words.workflow, words.why)))
    words_seen = len(re.findall(r"[\w×.,%-]+", re.sub(r"[#*_`]", "", glance)))
    assert 150 < words_seen <= 330, words_seen
    assert words.markdown().count("<details>") == words.markdown().count("</details>") == 3


def test_heat_map_colour_bar_matches_the_map():
    heat = explain.added_detail(np.zeros((40, 60, 3), np.uint8), np.zeros((40, 60, 3), np.uint8))[0]
    shown = explain.with_colour_bar(heat)
    assert shown.shape[1] == 60 and shown.shape[0] > 40 + 14
    assert np.array_equal(shown[:40], heat)
    bar_row = shown[44]  # the first row of the bar, below a 4-pixel gap
    assert np.array_equal(bar_row[0], colormaps.SEQUENTIAL_COLOURS[0].astype(np.uint8))
    assert np.array_equal(bar_row[-1], colormaps.SEQUENTIAL_COLOURS[-1].astype(np.uint8))


# -- sentences for some pictures only --------------------------------------------------------------

FACE_WORDS, GENERAL_WORDS = "A sharp face is not evidence of who it is", "Sharp detail is not evidence"
JPEG_WORDS, FEW_WORDS = "JPEG of about quality", "Invented: nothing recognisable"


def explain_picture(source, scale=8):
    """The answer for a picture as the page loads it, enlarged `scale` times (bicubic stands in for LIIF:
    which sentences appear depends on the picture's facts, not on the model's pixels)."""
    from PIL import Image

    from liif.render.imageio import load_image

    loaded = load_image(source)
    size = (loaded.width * scale, loaded.height * scale)
    bicubic = np.asarray(Image.fromarray(loaded.rgb).resize(size, Image.Resampling.BICUBIC))
    f = facts(in_width=loaded.width, in_height=loaded.height, out_width=size[0], out_height=size[1],
              jpeg_quality=loaded.jpeg_quality, training=RDN_RECORD)
    return explain.explain(f, torch.randn(1, 8, loaded.height, loaded.width), loaded.rgb, bicubic, bicubic)


def jpeg_of(path, quality):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.open(path).convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def picture_cases():
    from liif.lessons.originals import ORIGINALS_DIR, SEEN_DIR

    examples = ORIGINALS_DIR.parent / "examples"
    strip = np.tile(smooth_image(20, 50), (1, 8, 1))  # 400x20
    return {
        "face": (examples / "grace-hopper-48.png", {FACE_WORDS}),
        "building": (examples / "rocket-52.png", {GENERAL_WORDS}),
        "one pixel": (np.full((1, 1, 3), 120, np.uint8), {FEW_WORDS}),
        "strip 400x20": (strip, {GENERAL_WORDS}),
        "JPEG 70": (jpeg_of(examples / "grace-hopper-48.png", 70), {JPEG_WORDS, FACE_WORDS}),
        "printed text": (SEEN_DIR / "sign-x4.png", {GENERAL_WORDS}),
    }


@pytest.mark.parametrize("case", list(picture_cases()))
def test_each_picture_gets_the_sentences_meant_for_it_and_no_others(case):
    source, meant = picture_cases()[case]
    why = explain_picture(source).why
    for words in (FACE_WORDS, GENERAL_WORDS, JPEG_WORDS, FEW_WORDS):
        assert (words in why) == (words in meant), f"{case}: {words!r} {'missing' if words in meant else 'shown'}:\n{why}"
    if JPEG_WORDS in meant:
        assert "JPEG of about quality 70**" in why  # estimated from the file's tables
    else:
        assert "JPEG" not in why.split("<details>")[0]
    if FEW_WORDS in meant:
        assert "single pixel" in why and "block of output pixels" not in why
    else:
        assert "average colour of one 8×8 block" in why or JPEG_WORDS in why


def test_jpeg_squares_of_input_pixels_and_blocks_of_output_pixels_are_told_apart():
    """Issue 34: a JPEG at ×8 had two different "8×8"s in adjacent bullets (the JPEG's squares of input pixels,
    the output pixels each input pixel became). Every block of the output says so; the JPEG's do not say 8×8."""
    from liif.lessons.originals import ORIGINALS_DIR

    why = explain_picture(jpeg_of(ORIGINALS_DIR.parent / "examples" / "grace-hopper-48.png", 70)).why
    assert "squares of 64 (8 of your photo's pixels a side)" in why
    blocks = [why[m.end():m.end() + 25] for m in re.finditer("8×8", why)]
    assert blocks and all("of output pixels" in after for after in blocks), blocks


def test_the_answer_says_whether_the_scale_was_trained_on():
    _, words = run_explanation(training=RDN_RECORD)  # x8
    assert "trained on enlargements of ×1 to ×4 only: at ×8 it extrapolates" in at_a_glance(words.why)
    _, words = run_explanation(training=RDN_RECORD, out_width=192, out_height=192)  # x3
    assert "×3 is among them" in at_a_glance(words.why) and "extrapolates" not in words.why
