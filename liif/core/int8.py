"""The decoder's hidden layers in int8, for CPUs whose fp32 is the floor (no bf16 unit).

The MLP's three 256x256 layers are most of a render's work. Here their weights are int8 (one scale per
output channel, symmetric, 7 bits: WEIGHT_LEVELS), their inputs uint8 (one scale per chunk of queries, from that chunk's own
largest value, so nothing ever saturates), and each product runs as one oneDNN call with the bias and the
ReLU fused in (`torch.ops.onednn.qlinear_pointwise`, the kernels PyTorch's x86 quantisation uses:
AVX-512 VNNI where the CPU has it, AVX2's u8 x s8 products elsewhere). The last layer (256 -> 3) stays
fp32: it is 1% of the work and the one whose rounding would reach the colours directly.

ReLU comes free in the quantisation: uint8 with zero point 0 clamps negatives to 0. The plain path
(`model._mlp_tail`, and `reference.py` above it) stays the oracle: `tests/test_int8.py` holds this
within a small distance of it, and docs/performance.md records what it changes on Set5 and Set14.
"""

import functools
import warnings

import torch
import torch.nn.functional as F
from torch import nn

_ONEDNN = getattr(torch.ops, "onednn", None)


def _op(name):
    try:
        return getattr(_ONEDNN, name)
    except (AttributeError, RuntimeError):
        return None


_PREPACK = _op("qlinear_prepack")
_LINEAR = _op("qlinear_pointwise")


@functools.cache
def kernels_available() -> bool:
    """Whether this PyTorch has oneDNN's quantised linear and it runs here: one tiny product, once (an op
    can exist and still refuse this CPU, as oneDNN's bf16 once did on an AMD EPYC)."""
    if _PREPACK is None or _LINEAR is None or not torch.backends.mkldnn.is_available():
        return False
    try:
        layer = nn.Linear(8, 8)
        got = Int8MLP(nn.Sequential(nn.ReLU(), layer, nn.ReLU(), nn.Linear(8, 2)))(torch.ones(4, 8))
        return bool(torch.isfinite(got).all())
    except (RuntimeError, TypeError, ValueError):
        return False


def _quantise(x: torch.Tensor, levels: int = 255) -> tuple:
    """(uint8 tensor, scale) of max(x, 0), the scale from this tensor's largest value.

    `torch.quantize_per_tensor` is one vectorised pass (the hand-written round/clamp/cast is 3-5 passes and
    several times slower, measured); its quint8 result is read as plain uint8 through its storage, because
    `int_repr()` copies it at a quarter of the speed of the quantisation itself."""
    scale = max(float(x.amax()), 1e-12) / levels
    with warnings.catch_warnings():  # "quantized tensor creation functions are deprecated": still the fast one
        warnings.simplefilter("ignore")
        q = torch.quantize_per_tensor(x, scale, 0, torch.quint8)
    out = torch.empty(0, dtype=torch.uint8, device=x.device)
    return out.set_(q.untyped_storage(), q.storage_offset(), q.shape, q.stride()), scale


# Weights in -63..63, not -127..127: without VNNI (AVX2), the u8 x s8 product adds pairs of products in
# 16 bits and saturates above 32,767 (measured: 255 x 127 x 256 came out as half of itself under
# shared/tools/avx2-only); 2 x 255 x 63 = 32,130 cannot. The same numbers on every CPU, and on Set5 x4 the
# same PSNR as 8-bit weights to 0.002 dB (max 2 levels from fp32 either way).
WEIGHT_LEVELS = 63


class Int8MLP:
    """`model._mlp_tail` (ReLU, Linear, ReLU, ..., Linear) with the hidden Linear layers in int8."""

    def __init__(self, layers: nn.Sequential, weight_levels: int = WEIGHT_LEVELS, input_levels: int = 255):
        self.input_levels = input_levels
        linears = [m for m in layers if isinstance(m, nn.Linear)]
        self.hidden = []
        for layer in linears[:-1]:
            weight = layer.weight.detach().float()
            scale = weight.abs().amax(dim=1).clamp_min(1e-12) / weight_levels
            q = torch.round(weight / scale[:, None]).clamp_(-weight_levels, weight_levels).to(torch.int8)
            zero = torch.zeros(q.shape[0], dtype=torch.long)
            self.hidden.append((_PREPACK(q, None), scale, zero, layer.bias.detach().float()))
        self.last = linears[-1].weight.detach().float(), linears[-1].bias.detach().float()

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """x: the first layer's output before its ReLU, (N, 256) fp32 -> (N, 3) fp32."""
        for packed, w_scale, zero, bias in self.hidden:
            q, scale = _quantise(x, self.input_levels)
            x = _LINEAR(q, scale, 0, packed, w_scale, zero, bias, 1.0, 0, torch.float32, "relu", [], "")
        return F.linear(x, *self.last)
