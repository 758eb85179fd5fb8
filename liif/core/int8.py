"""The decoder's layers after the first in int8: the fast path for CPUs without bf16 units, and beside a
bf16 encoder the fastest path on those with them.

The MLP's three 256x256 hidden layers are most of a render's work. Here every Linear after the first has
int8 weights (one scale per output channel, symmetric, 7 bits: WEIGHT_LEVELS) and uint8 inputs, and each
product runs as one oneDNN call with the bias and the ReLU fused in (`torch.ops.onednn.qlinear_pointwise`,
the kernels PyTorch's x86 quantisation uses: AVX-512 VNNI where the CPU has it, AVX2's u8 x s8 products
elsewhere). A chunk's first input is quantised from its own largest value; each hidden layer writes its
output straight to uint8 at a scale predicted from the render's chunk before and checked on every chunk
(`Int8Pass`), so nothing saturates. The last layer (256 -> 3) is int8 too: on Set5 x4 and x8 it moved
PSNR-Y by under 0.001 dB against keeping it fp32, and its fp32 product was 5% of an int8 chunk (N=3 is a
poor shape for sgemm).

ReLU comes free in the quantisation: uint8 with zero point 0 clamps negatives to 0. The plain path
(`model._mlp_tail`, and `reference.py` above it) stays the oracle: `tests/test_int8.py` holds this
within a small distance of it, and docs/performance.md records what it changes on Set5 and Set14.
"""

import functools
import warnings

import torch
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
        torch_rng = torch.Generator().manual_seed(0)
        layers = [nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 2)]
        for layer in layers:
            nn.init.uniform_(layer.weight, 0.1, 0.2, generator=torch_rng)
        render = Int8MLP(nn.Sequential(nn.ReLU(), layers[0], nn.ReLU(), layers[1], nn.ReLU(), layers[2])).render_pass()
        first, second = render(torch.ones(4, 8)), render(torch.ones(4, 8))  # fp32 outputs, then uint8 ones
        return bool(torch.isfinite(second).all()) and torch.allclose(first, second, rtol=0.02, atol=0.02)
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


# A layer's uint8 output is written at the scale the previous chunk's measured gain predicts, times this:
# room for a chunk whose largest value is higher than the last one's. Measured on three Set14 crops at x8
# (RDN): 1.5% of the layers' chunks were redone at 1.5, 10% at 1.25 and 24% at 1.1, for the same error
# against fp32 (mean 0.07-0.1 of a level, max 2 levels).
HEADROOM = 1.5


class Int8MLP:
    """`model._mlp_tail` (ReLU, Linear, ReLU, ..., Linear) with its Linear layers in int8.

    Called on one chunk, every scale comes from that chunk's own values. A render makes one `render_pass()`
    and calls that on each of its chunks: it writes the hidden layers' outputs straight to uint8, the next
    layer's input, instead of to fp32 that is then read twice more (its largest value, its quantisation):
    the passes over memory were a third of an int8 chunk's time (measured, docs/performance.md)."""

    def __init__(self, layers: nn.Sequential):
        self.linears = []
        for layer in (m for m in layers if isinstance(m, nn.Linear)):
            weight = layer.weight.detach().float()
            scale = weight.abs().amax(dim=1).clamp_min(1e-12) / WEIGHT_LEVELS
            q = torch.round(weight / scale[:, None]).clamp_(-WEIGHT_LEVELS, WEIGHT_LEVELS).to(torch.int8)
            zero = torch.zeros(q.shape[0], dtype=torch.long)
            self.linears.append((_PREPACK(q, None), scale, zero, layer.bias.detach().float()))

    def render_pass(self) -> "Int8Pass":
        return Int8Pass(self)

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """x: the first layer's output before its ReLU, (N, 256) fp32 -> (N, 3) fp32."""
        return Int8Pass(self)(x)


class Int8Pass:
    """The int8 layers over the chunks of one render.

    The first chunk runs every layer to fp32 and quantises each output from its own largest value, and so
    measures each layer's gain (largest output over largest input). Later chunks ask oneDNN for each hidden
    layer's output in uint8 at (this chunk's input scale x the gain x HEADROOM), and measure the gain
    again from the uint8 output's largest value, for the next chunk. A chunk whose largest output lands at
    255 (it may have been clipped) or below a quarter of the range (more than 2 of the 8 bits unused) has
    that layer run again the first way: nothing saturates and every chunk keeps at least 6 bits. A pass is
    deterministic: the same chunks in the same order give the same numbers.
    """

    def __init__(self, mlp: Int8MLP):
        self.mlp = mlp
        self.gains = [None] * (len(mlp.linears) - 1)
        self.redone = 0  # layers run again because a predicted scale was too small (tests and docs read it)

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        levels = 255  # uint8, zero point 0
        q, scale = _quantise(x, levels)
        *hidden, last = self.mlp.linears
        for i, (packed, w_scale, zero, bias) in enumerate(hidden):
            gain, out = self.gains[i], None
            if gain is not None:
                out_scale = scale * gain * HEADROOM
                out = _LINEAR(q, scale, 0, packed, w_scale, zero, bias, out_scale, 0, torch.uint8, "relu", [], "")
                top = int(out.amax())
                if levels // 4 <= top < levels:
                    self.gains[i] = top * out_scale / levels / scale  # the next chunk follows this one's
                else:
                    out, self.redone = None, self.redone + 1
            if out is None:
                exact = _LINEAR(q, scale, 0, packed, w_scale, zero, bias, 1.0, 0, torch.float32, "relu", [], "")
                out, out_scale = _quantise(exact, levels)
                self.gains[i] = out_scale / scale
            q, scale = out, out_scale
        packed, w_scale, zero, bias = last
        return _LINEAR(q, scale, 0, packed, w_scale, zero, bias, 1.0, 0, torch.float32, "none", [], "")
