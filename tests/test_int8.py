"""The int8 decoder (liif/core/int8.py) and the precision choice (liif/render/precision.py): int8 stays
close to the fp32 oracle, never saturates, and `auto` picks it only where it is the fast path."""

import pytest
import torch
from torch import nn

from liif import settings
from liif.core import int8
from liif.core.model import LIIF, LIIFConfig, _mlp_tail
from liif.render.engine import Upscaler
from liif.render.precision import CpuFacts, cpu_facts, pick_precision, precision_words

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
    """Inputs and weights at their largest: AVX2's 16-bit pair sums would halve this with 8-bit weights."""
    layer = nn.Linear(256, 4)
    with torch.no_grad():
        layer.weight.fill_(0.5)
        layer.bias.zero_()
    last = nn.Linear(4, 1)
    mlp = int8.Int8MLP(nn.Sequential(nn.ReLU(), layer, nn.ReLU(), last))
    x = torch.full((8, 256), 3.0)
    with torch.no_grad():
        exact = last(torch.relu(layer(x)))
    assert torch.allclose(mlp(x), exact, rtol=1e-4)


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


def test_auto_picks_bf16_then_int8_then_fp32():
    with_bf16 = CpuFacts(fast_bf16=True, int8="vnni")
    avx2, vnni, neither = CpuFacts(False, "avx2"), CpuFacts(False, "vnni"), CpuFacts(False, None)
    assert pick_precision("auto", CPU, with_bf16) == "bf16"
    expected = "int8" if int8.kernels_available() else "fp32"
    assert pick_precision("auto", CPU, avx2) == expected and pick_precision("auto", CPU, vnni) == expected
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
    assert "int8" in precision_words("int8") and "fp32" in precision_words("int8")
    assert precision_words("bf16") == "bf16"
