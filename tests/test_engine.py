"""The engine renders the same function as the reference, at any size, any region, in bounded pieces."""

import pytest
import torch

from liif.core.model import LIIF, LIIFConfig
from liif.core.reference import render_reference
from liif.render.engine import Upscaler, cpu_has_fast_bf16, encode_tiled, encoded_pixels, pick_device, pick_precision


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return LIIF(LIIFConfig(encoder="edsr-baseline", residual="bicubic")).eval()


@pytest.fixture(scope="module")
def image():
    torch.manual_seed(1)
    base = torch.rand(1, 3, 6, 7)
    return torch.nn.functional.interpolate(base, size=(23, 31), mode="bicubic").clamp(0, 1)


@pytest.mark.parametrize("out_size", [(32, 42), (69, 93), (184, 248), (50, 200), (23, 31), (7, 5)])
def test_render_matches_reference_at_any_size(model, image, out_size):
    """Non-integer (x1.37), integer (x3, x8), anisotropic and downscaling outputs."""
    engine = Upscaler(model, device="cpu", precision="fp32", chunk=1000)
    fast = engine.render(image, *out_size)
    slow = render_reference(model, image, *out_size)
    assert fast.shape == (1, 3, *out_size)
    assert (fast - slow).abs().max().item() <= 1e-5


def test_x30_and_fixed_size_from_a_tiny_input(model):
    engine = Upscaler(model, device="cpu", precision="fp32")
    tiny = torch.rand(1, 3, 4, 4)
    assert engine.render(tiny, 120, 120).shape == (1, 3, 120, 120)
    one_pixel = torch.rand(1, 3, 1, 1)
    out = engine.render(one_pixel, 16, 16)
    assert out.shape == (1, 3, 16, 16) and torch.isfinite(out).all()


def test_cell_is_the_true_output_pixel_size(model, image):
    """The decoder is told the output pixel size: the same coordinates at another scale differ."""
    engine = Upscaler(model, device="cpu", precision="fp32")
    coarse = engine.render_region(image, (0, 0, 23, 31), (46, 62))
    fine_cells = engine.render_region(image, (0, 0, 23, 31), (46, 62), cell_size=(460, 620))
    assert (coarse - fine_cells).abs().max() > 1e-4


@pytest.mark.parametrize("rows,cols", [(10, 20), (40, 37)])
def test_region_equals_the_same_crop_of_a_full_render(model, image, rows, cols):
    engine = Upscaler(model, device="cpu", precision="fp32", chunk=700)
    H, W = 92, 124  # x4
    full = engine.render(image, H, W)
    y0, x0 = 13, 29
    y1, x1 = y0 + rows, x0 + cols
    box = (y0 * 23 / H, x0 * 31 / W, y1 * 23 / H, x1 * 31 / W)
    region = engine.render_region(image, box, (rows, cols))
    assert (region - full[:, :, y0:y1, x0:x1]).abs().max().item() <= 1e-5


def test_region_at_a_zoom_beyond_the_full_render(model, image):
    engine = Upscaler(model, device="cpu", precision="fp32")
    out = engine.render_region(image, (5.5, 7.25, 9.5, 11.25), (128, 128))  # x32 of a 4x4 window
    assert out.shape == (1, 3, 128, 128)


def test_chunk_and_band_sizes_do_not_change_the_result(model, image):
    a = Upscaler(model, device="cpu", precision="fp32", chunk=97).render(image, 70, 90)
    b = Upscaler(model, device="cpu", precision="fp32", chunk=100000).render(image, 70, 90)
    assert (a - b).abs().max().item() <= 1e-6


# bf16 is the engine's choice only on a CPU with bf16 units (pick_precision); elsewhere oneDNN may refuse
# bf16 matrix products outright ("could not create a primitive descriptor", seen on an AMD EPYC).
NEEDS_CPU_BF16 = pytest.mark.skipif(not cpu_has_fast_bf16(), reason="this CPU has no bf16 units (AMX or AVX-512 BF16)")


@pytest.mark.parametrize("precision", ["fp32", pytest.param("bf16", marks=NEEDS_CPU_BF16)])
def test_deterministic_output_bytes(model, image, precision):
    a = Upscaler(model, device="cpu", precision=precision).render(image, 64, 80)
    b = Upscaler(model, device="cpu", precision=precision).render(image, 64, 80)
    assert torch.equal(a, b)


@NEEDS_CPU_BF16
def test_bf16_stays_close_to_fp32(model, image):
    a = Upscaler(model, device="cpu", precision="fp32").render(image, 64, 80)
    b = Upscaler(model, device="cpu", precision="bf16").render(image, 64, 80)
    assert (a - b).abs().mean().item() < 2e-3


def test_tiled_encoder_is_exact_when_overlap_covers_the_receptive_field(model):
    # EDSR-baseline: 34 stacked 3x3 convolutions, a receptive-field radius of 34 pixels.
    inp = torch.rand(1, 3, 50, 61) * 2 - 1
    with torch.no_grad():
        whole = model.encode(inp)
        tiled = encode_tiled(model, inp, tile=16, overlap=34)
        rough = encode_tiled(model, inp, tile=16, overlap=2)
    assert (whole - tiled).abs().max().item() < 1e-4
    assert (whole - rough).abs().max().item() > 1e-4  # the check can fail: small overlaps do differ


def test_encoder_output_is_cached_per_image(model, image):
    engine = Upscaler(model, device="cpu", precision="fp32")
    first = engine.encode(image)
    assert engine.encode(image.clone()) is first
    assert engine.encode(image.flip(-1)) is not first


def test_encodings_are_kept_where_the_engine_is_told(model, image):
    """Whoever lends the engine to several people keeps each one's encodings apart (ModelShelf.working);
    the speed probe keeps its own apart from everyone's; a render leaves a cached encoding as it was."""
    from liif.render.engine import EncodingCache

    engine = Upscaler(model, device="cpu", precision="fp32")
    mine, theirs = EncodingCache(2), EncodingCache(2)
    with engine.encodings_in(mine):
        first = engine.encode(image)
        before = dict(vars(first))
        engine.render(image, 46, 62)
        assert engine.pixels_to_encode(image, (0.0, 0.0, 23.0, 31.0)) == 0
    assert dict(vars(first)) == before and len(mine) == 1
    with engine.encodings_in(theirs):
        assert engine.pixels_to_encode(image, (0.0, 0.0, 23.0, 31.0)) > 0
        assert engine.encode(image) is not first
    engine.speed(repeats=1)
    assert len(engine.encodings) == 0 and len(mine) == len(theirs) == 1


def test_device_and_precision_choice():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type in ("cpu", "cuda", "mps")
    assert pick_precision("fp32", torch.device("cpu")) == "fp32"
    assert pick_precision("auto", torch.device("cpu")) in ("fp32", "bf16", "int8")
    with pytest.raises(ValueError):
        pick_precision("fp8", torch.device("cpu"))
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            pick_device("cuda")


def test_a_region_encodes_only_the_input_its_queries_reach(model):
    """A small region of a large photo used to encode the whole photo (84 s for 128x128 of 1.95 MP).
    With an overlap covering EDSR-baseline's receptive field, encoding only the region and its context
    gives the same pixels as encoding everything."""
    torch.manual_seed(2)
    photo = torch.nn.functional.interpolate(torch.rand(1, 3, 40, 40), size=(200, 180), mode="bicubic").clamp(0, 1)
    box, out = (90.5, 70.25, 102.5, 82.25), (48, 48)  # 12x12 input pixels at x4
    encoded = []
    lean = Upscaler(model, device="cpu", precision="fp32", overlap=34)
    original_encode = model.encode
    try:
        model.encode = lambda inp: encoded.append(inp.shape[-2] * inp.shape[-1]) or original_encode(inp)
        region = lean.render_region(photo, box, out)
    finally:
        del model.encode
    assert 0 < sum(encoded) < 0.25 * 200 * 180
    whole = Upscaler(model, device="cpu", precision="fp32", overlap=34)
    whole.encode(photo)  # cached: the region below is cut from the whole photo's encoding
    assert (region - whole.render_region(photo, box, out)).abs().max().item() <= 1e-4


def test_speed_is_measured_once_and_prices_work(model):
    engine = Upscaler(model, device="cpu", precision="fp32")
    speed = engine.speed(repeats=1)
    assert speed.encoder_seconds_per_pixel > 0 and speed.decoder_seconds_per_pixel > 0
    assert engine.speed() is speed
    assert speed.seconds(100, 0) == pytest.approx(100 * speed.encoder_seconds_per_pixel)
    assert speed.seconds(10, 1000) > speed.seconds(10, 10)


def test_the_measured_speed_follows_renders_in_bounded_steps(model):
    """Renders move each cost towards what they measured (both ways), by at most a factor 2 per render:
    keeping the lowest ever seen under-priced thin photos (x8 of 400x20 took 1.7x its estimate)."""
    from liif.render.engine import SPEED_FOLLOW, SPEED_STEP

    engine = Upscaler(model, device="cpu", precision="fp32")
    measured = engine.speed(repeats=1)
    engine.note_timings(100 * 100, 1.0, 512 * 512, 1.0)  # the first render is a warm-up: not noted
    assert engine.speed() == measured
    engine.note_timings(100 * 100, 1e-9, 512 * 512, 1e-9)  # impossibly fast: both costs come down, boundedly
    faster = engine.speed()
    expected = measured.encoder_seconds_per_pixel * (1 - SPEED_FOLLOW + SPEED_FOLLOW / SPEED_STEP)
    assert faster.encoder_seconds_per_pixel == pytest.approx(expected)
    assert faster.decoder_seconds_per_pixel < measured.decoder_seconds_per_pixel
    engine.note_timings(100 * 100, 1e3, 512 * 512, 1e3)  # a very slow run (a busy machine): up, boundedly
    slower = engine.speed()
    assert faster.encoder_seconds_per_pixel < slower.encoder_seconds_per_pixel <= SPEED_STEP * faster.encoder_seconds_per_pixel
    true_cost = 2e-5
    for _ in range(30):  # renders at a steady speed: the estimate converges on it
        engine.note_timings(100 * 100, true_cost * 100 * 100, 512 * 512, true_cost * 512 * 512)
    assert engine.speed().encoder_seconds_per_pixel == pytest.approx(true_cost, rel=1e-3)
    assert engine.speed().decoder_seconds_per_pixel == pytest.approx(true_cost, rel=1e-3)


def test_measured_speed_is_none_before_measuring_then_the_measured_speed(model):
    """A property, not a method: a loaded-but-unmeasured model answers None (the page's estimate then
    says nothing) instead of handing back a function whose `.seconds` is an AttributeError."""
    engine = Upscaler(model, device="cpu", precision="fp32")
    assert engine.measured_speed is None
    speed = engine.speed(repeats=1)
    assert engine.measured_speed is speed
    assert engine.measured_speed.seconds(100, 400) > 0


@pytest.mark.parametrize("height, width", [(20, 400), (64, 64), (250, 90)])
def test_encoded_pixels_counts_what_the_tiled_encoder_reads(height, width):
    """The estimates price the encoder by encoded_pixels: it must be the pixels encode_tiled feeds it."""
    read = []

    class Counting(torch.nn.Module):
        def encode(self, inp):
            read.append(inp.shape[-2] * inp.shape[-1])
            return torch.zeros(1, 2, *inp.shape[-2:])

    encode_tiled(Counting(), torch.zeros(1, 3, height, width), tile=32, overlap=4)
    assert sum(read) == encoded_pixels(width, height, tile=32, overlap=4)
    assert encoded_pixels(400, 20) == 9760 and encoded_pixels(64, 64) == 64 * 64  # the shipped tile of 192


def test_a_render_projects_each_latent_row_once(model, image, monkeypatch):
    """Chunks smaller than a latent row reuse one projected band: 23 rows fit one band of BAND_ROWS."""
    engine = Upscaler(model, device="cpu", precision="fp32", chunk=100)
    calls = []
    project = model.project
    monkeypatch.setattr(model, "project", lambda feat: calls.append(feat.shape[2]) or project(feat))
    out = engine.render(image, 184, 248)  # x8: each chunk is under half an output row
    assert calls == [23]
    assert (out - Upscaler(model, device="cpu", precision="fp32", chunk=100000).render(image, 184, 248)).abs().max() <= 1e-5
