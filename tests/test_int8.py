"""The int8 decoder (liif/core/int8.py) and the precision choice (liif/render/precision.py): int8 stays
close to the fp32 oracle, never saturates, and `auto` picks it only where it is the fast path."""

import pytest
import torch
from torch import nn

from liif import settings
from liif.core import int8
from liif.core.model import LIIF, LIIFConfig, _mlp_tail
from liif.render.engine import Upscaler
from liif.render.precision import CpuFacts, cpu_facts, encoder_precision, pick_precision, precision_words

NEEDS_INT8 = pytest.mark.skipif(not int8.kernels_available(), reason="this PyTorch has no oneDNN int8 kernels")
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return LIIF(LIIFConfig(encoder="edsr-baseline", residual="bicubic")).eval()


@NEEDS_INT8
def test_int8_mlp_is_close_to_the_fp32_layers(model):
    torch.manual_seed(2)
    x = torch.randn(3000, 256) * 2  # the first layer's output, before its ReLU
    layers = model.imnet.layers[1:]
    with torch.no_grad():
        exact = _mlp_tail(layers, x.clone())
    got = int8.Int8MLP(layers)(x)
    assert got.shape == exact.shape and got.dtype == torch.float32
    error = (got - exact).abs().max().item()
    assert 0 < error < 0.05 * exact.abs().max().item()  # int8 rounds: by a few hundredths of the range


@NEEDS_INT8
def test_int8_products_do_not_saturate():
    """Inputs and weights at their largest: AVX2's 16-bit pair sums would halve this with 8-bit weights.
    (Weights of one value per layer: int8 holds them exactly, so any difference would be saturation.)"""
    layer, last = nn.Linear(256, 4), nn.Linear(4, 1)
    with torch.no_grad():
        layer.weight.fill_(0.5)
        layer.bias.zero_()
        last.weight.fill_(0.25)
        last.bias.zero_()
    mlp = int8.Int8MLP(nn.Sequential(nn.ReLU(), layer, nn.ReLU(), last))
    x = torch.full((8, 256), 3.0)
    with torch.no_grad():
        exact = last(torch.relu(layer(x)))
    assert torch.allclose(mlp(x), exact, rtol=1e-4)


def _exact_tail(layers, x):
    with torch.no_grad():
        return _mlp_tail(layers, x.clone())


@NEEDS_INT8
def test_a_render_pass_writes_uint8_between_layers_and_redoes_a_chunk_it_would_clip(model):
    """Later chunks of a render get each hidden layer's output straight in uint8 at a scale the first chunk
    measured; a chunk whose values outgrow it (or shrink far below it) has that layer run again, so every
    chunk stays as close to the fp32 layers as a chunk computed on its own."""
    layers = model.imnet.layers[1:]
    mlp = int8.Int8MLP(layers)
    torch.manual_seed(3)
    first, alike = torch.randn(2000, 256) * 2, torch.randn(2000, 256) * 2
    run = mlp.render_pass()
    run(first)
    got = run(alike)
    assert run.redone == 0  # the predicted scales held: the uint8 outputs were used as they came
    exact = _exact_tail(layers, alike)
    alone_error = (mlp(alike) - exact).abs().max().item()
    assert (got - exact).abs().max().item() < 2 * alone_error + 1e-3
    for factor in (20.0, 0.02):  # a chunk far brighter, then far darker, than the first
        chunk = alike * factor
        got = run(chunk)
        exact = _exact_tail(layers, chunk)
        assert (got - exact).abs().max().item() < 0.05 * exact.abs().max().item()
    assert run.redone >= 2
    one, other = mlp.render_pass(), mlp.render_pass()  # the same chunks in a new pass: the same numbers
    assert all(torch.equal(one(chunk), other(chunk)) for chunk in (first, alike, alike * 20))


@NEEDS_INT8
def test_int8_render_is_close_to_fp32(model):
    torch.manual_seed(1)
    image = torch.nn.functional.interpolate(torch.rand(1, 3, 6, 7), size=(23, 31), mode="bicubic").clamp(0, 1)
    engine = Upscaler(model, device="cpu", precision="int8", chunk=500)
    assert engine.precision == "int8"
    fast, exact = engine.render(image, 92, 124), Upscaler(model, device="cpu", precision="fp32").render(image, 92, 124)
    assert fast.shape == exact.shape
    assert 0 < (fast - exact).abs().max().item() < 4 / 255  # a few levels at most, on an untrained model
    assert torch.equal(fast, engine.render(image, 92, 124))  # deterministic


def test_auto_picks_int8_then_bf16_then_fp32():
    with_bf16, bf16_alone = CpuFacts(fast_bf16=True, int8="vnni"), CpuFacts(fast_bf16=True, int8=None)
    avx2, vnni, neither = CpuFacts(False, "avx2"), CpuFacts(False, "vnni"), CpuFacts(False, None)
    expected = "int8" if int8.kernels_available() else "fp32"
    assert pick_precision("auto", CPU, avx2) == expected and pick_precision("auto", CPU, vnni) == expected
    assert pick_precision("auto", CPU, with_bf16) == ("int8" if int8.kernels_available() else "bf16")
    assert pick_precision("auto", CPU, bf16_alone) == "bf16"
    assert pick_precision("auto", CPU, neither) == "fp32"
    assert pick_precision("fp32", CPU, avx2) == "fp32"  # asked for: not the CPU's choice
    assert pick_precision("auto", torch.device("mps"), avx2) == "fp32"
    with pytest.raises(ValueError, match="int8 runs on the CPU"):
        pick_precision("int8", torch.device("cuda"))


def test_cpu_facts_from_the_flags_linux_lists():
    assert cpu_facts({"avx2", "avx512f", "avx512_bf16", "avx512_vnni"}) == CpuFacts(True, "vnni")
    assert cpu_facts({"avx2", "fma"}) == CpuFacts(False, "avx2")  # what shared/tools/avx2-only leaves
    assert cpu_facts({"avx2", "avx_vnni"}) == CpuFacts(False, "vnni")
    assert cpu_facts({"amx_bf16", "avx2"}).fast_bf16
    assert cpu_facts({"sse4_2"}) == CpuFacts(False, None)


def test_precision_setting_and_words():
    assert settings.precision({}) == "auto"
    assert settings.precision({settings.PRECISION: " INT8 "}) == "int8"
    with pytest.raises(settings.SettingError, match="LIIF_PRECISION"):
        settings.precision({settings.PRECISION: "fp8"})
    assert precision_words("bf16") == "bf16"
    without, with_bf16 = precision_words("int8", CpuFacts(False, "avx2")), precision_words("int8", CpuFacts(True, "vnni"))
    assert "int8" in without and "fp32" in without and "bf16" not in without
    assert "int8" in with_bf16 and "encoder bf16" in with_bf16


def test_int8_encodes_in_bf16_only_where_the_cpu_has_bf16_units():
    assert encoder_precision("int8", CPU, CpuFacts(True, "vnni")) == "bf16"
    assert encoder_precision("int8", CPU, CpuFacts(False, "avx2")) == "fp32"
    assert encoder_precision("fp32", CPU, CpuFacts(True, "vnni")) == "fp32"
    assert encoder_precision("bf16", CPU, CpuFacts(True, None)) == "bf16"


@NEEDS_INT8
def test_engines_share_encodings_only_when_they_encode_alike(model):
    fp32, int8_engine = Upscaler(model, device="cpu", precision="fp32"), Upscaler(model, device="cpu", precision="int8")
    if int8_engine.encoder_precision == "fp32":
        int8_engine.share_encodings(fp32)
        image = torch.rand(1, 3, 8, 8)
        assert int8_engine.encode(image) is fp32.encode(image)
    else:  # a bf16 encoder: its codes are not fp32's
        with pytest.raises(ValueError, match="encode alike"):
            int8_engine.share_encodings(fp32)
