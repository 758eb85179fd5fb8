"""LIIF: Local Implicit Image Function (Chen, Liu and Wang, CVPR 2021, arXiv 2012.09161).

An encoder turns the image into a grid of 64-number latent codes. The colour at any continuous
coordinate q is decoded by a small MLP from the latent codes nearest to q, the offset of q from each
code's centre, and the size of the output pixel being asked for (the "cell"). Read this file top to
bottom; `liif/core/reference.py` writes the same query in the paper's plain form and is the test oracle.

The one thing done differently from a naive implementation: the MLP's first layer is linear in the
unfolded 3x3 feature, so that part is a 3x3 convolution of the feature map computed once per latent code
(`project`), not once per query. Only the coordinate and cell terms are added per query. This is the
same function, about 43% fewer multiply-adds in the decoder, and it is what both training and
inference run.
"""

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from liif.core import geometry
from liif.core.encoders import make_encoder

RESIDUAL_MODES = ("none", "bicubic")


@dataclass
class LIIFConfig:
    encoder: str = "edsr-baseline"  # a name in liif.core.encoders.ENCODERS: "edsr-baseline", "rdn"
    feat_unfold: bool = True  # decoder sees each code's 3x3 neighbourhood (576 numbers, not 64)
    local_ensemble: bool = True  # blend the 4 nearest codes, area-weighted
    cell_decode: bool = True  # tell the decoder the output pixel's size
    residual: str = "bicubic"  # our extension: "none" is the paper's LIIF, see docs/liif-spec.md
    hidden: list = field(default_factory=lambda: [256, 256, 256, 256])

    def __post_init__(self):
        if self.residual not in RESIDUAL_MODES:
            raise ValueError(f"residual must be one of {RESIDUAL_MODES}, not {self.residual!r}")

    def to_dict(self) -> dict:
        return asdict(self)


class MLP(nn.Module):
    """Linear/ReLU stack; `layers.{0,2,4,6,8}` are the authors' parameter names."""

    def __init__(self, in_dim: int, out_dim: int, hidden: list):
        super().__init__()
        layers, last = [], in_dim
        for width in hidden:
            layers += [nn.Linear(last, width), nn.ReLU(inplace=True)]  # in place: no extra copy per layer
            last = width
        layers.append(nn.Linear(last, out_dim))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


@dataclass
class Projected:
    """The per-latent-code part of the decoder's first layer, ready to be queried."""

    first_layer: torch.Tensor  # (B, rows*w, hidden) = W_feat * unfold(feat) + b, one row per latent code
    height: int  # of the whole latent grid
    width: int
    row_offset: int = 0  # first latent row held in `first_layer` (the engine projects bands of rows)


class LIIF(nn.Module):
    def __init__(self, config: LIIFConfig | None = None):
        super().__init__()
        self.config = config or LIIFConfig()
        self.encoder = make_encoder(self.config.encoder)
        c = self.encoder.out_dim
        self.feat_dim = c * 9 if self.config.feat_unfold else c
        in_dim = self.feat_dim + 2 + (2 if self.config.cell_decode else 0)
        self.imnet = MLP(in_dim, 3, self.config.hidden)

    # -- the three stages ---------------------------------------------------------------------------

    def encode(self, inp: torch.Tensor) -> torch.Tensor:
        """inp: (B, 3, h, w) in [-1, 1] -> latent codes (B, 64, h, w)."""
        return self.encoder(inp)

    def project(self, feat: torch.Tensor) -> Projected:
        """Apply the feature columns of the decoder's first layer to every latent code.

        With unfolding, Linear(W[:, :576]) of `unfold(feat, 3, padding=1)` is exactly a 3x3 convolution
        with zero padding whose kernel is W[:, :576] viewed as (out, 64, 3, 3): unfold orders its values
        channel-major, as the conv kernel does.
        """
        first = self.imnet.layers[0]
        c = feat.shape[1]
        k = 3 if self.config.feat_unfold else 1
        kernel = first.weight[:, : self.feat_dim].reshape(-1, c, k, k)
        p = F.conv2d(feat, kernel.to(feat.dtype), first.bias.to(feat.dtype), padding=k // 2)
        b, d, h, w = p.shape
        return Projected(p.permute(0, 2, 3, 1).reshape(b, h * w, d), h, w)

    def query(self, proj: Projected, coord: torch.Tensor, cell: torch.Tensor, inp: torch.Tensor | None = None,
              tail=None, local_ensemble: bool | None = None):
        """Colours at continuous coordinates.

        coord, cell: (B, Q, 2) in (row, column) order, [-1, 1] units (see geometry.py).
        inp: the normalised input image, needed only for the bicubic residual.
        tail: what runs the MLP after its first layer (ReLU, Linear, ..., Linear) on (N, hidden) rows;
        None: the model's own layers (an engine passes its int8 copy of them, `liif/core/int8.py`).
        local_ensemble: None for the model's own switch, or that switch changed for this query alone.
        Returns (B, Q, 3) in the normalised [-1, 1] space (not clamped).
        """
        h, w = proj.height, proj.width
        b, q = coord.shape[:2]
        scale = coord.new_tensor([h, w])
        rel_cell = cell * scale if self.config.cell_decode else None
        offset = torch.arange(b, device=coord.device).unsqueeze(1) * proj.first_layer.shape[1] - proj.row_offset * w

        indices, positions, areas = [], [], []
        for q_shifted in geometry.neighbour_queries(
                coord, h, w, self.config.local_ensemble if local_ensemble is None else local_ensemble):
            index, centre = geometry.nearest_code(q_shifted, h, w)
            rel = (coord - centre) * scale
            indices.append(index + offset)
            positions.append(rel if rel_cell is None else torch.cat([rel, rel_cell], dim=-1))
            areas.append(geometry.area(rel))
        return self._decode_ensemble(proj, torch.stack(indices, 1), torch.stack(positions, 1), areas, coord, inp, tail)

    def query_grid(self, proj: Projected, ys: torch.Tensor, xs: torch.Tensor, cell: torch.Tensor,
                   inp: torch.Tensor | None = None, tail=None, local_ensemble: bool | None = None):
        """`query` of one image at every point of a grid: rows `ys` (R,) by columns `xs` (C,), [-1, 1] units,
        one `cell` (2,) for all -> (1, R*C, 3), row-major, the same numbers as `query` on those points.

        A grid's rows and columns are independent: each shift's code row, offset and area factor is found
        once per row and its column once per column (`geometry.axis_codes`), not once per point; at 1024
        points a call, the per-point version of this bookkeeping was ~10% of a render (measured).
        """
        h, w = proj.height, proj.width
        r, c = ys.shape[0], xs.shape[0]
        ensemble = self.config.local_ensemble if local_ensemble is None else local_ensemble
        shifts = geometry.ENSEMBLE_SHIFTS if ensemble else ((None, None),)
        rows = {v: geometry.axis_codes(ys, h, v) for v in dict.fromkeys(s[0] for s in shifts)}
        cols = {v: geometry.axis_codes(xs, w, v) for v in dict.fromkeys(s[1] for s in shifts)}
        indices, positions, areas = [], [], []
        for vy, vx in shifts:
            (iy, rel_y), (ix, rel_x) = rows[vy], cols[vx]
            indices.append(((iy - proj.row_offset) * w).unsqueeze(1) + ix)
            rel = torch.stack([rel_y.unsqueeze(1).expand(r, c), rel_x.expand(r, c)], -1)
            if self.config.cell_decode:
                rel = torch.cat([rel, (cell * rel.new_tensor([h, w])).expand(r, c, 2)], -1)
            positions.append(rel.reshape(1, r * c, -1))
            areas.append(((rel_y.unsqueeze(1) * rel_x).abs() + geometry.AREA_EPS).reshape(1, r * c))
        coord = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), -1).reshape(1, r * c, 2)
        index = torch.stack(indices).reshape(1, len(shifts), r * c)
        return self._decode_ensemble(proj, index, torch.cat(positions).unsqueeze(0), areas, coord, inp, tail)

    def _decode_ensemble(self, proj, index, position, areas, coord, inp, tail):
        """The MLP on every shift's (projected code + position term), blended: index (B, n, Q) into the
        flattened `proj`, position (B, n, Q, 2 or 4), areas n x (B, Q). All shifts go through the MLP as one
        matrix: fewer, larger matrix products."""
        b, n, q = index.shape
        first = self.imnet.layers[0]
        w_position = first.weight[:, self.feat_dim :]  # columns for the relative coordinate (and cell)
        table = proj.first_layer.reshape(-1, proj.first_layer.shape[-1])  # (B * codes, hidden)
        x = table.index_select(0, index.reshape(-1))
        position = position.reshape(-1, w_position.shape[1])
        if x.requires_grad:
            x = torch.addmm(x, position.to(x.dtype), w_position.t().to(x.dtype))
        else:  # in place: one pass over the (B * n * Q, hidden) rows fewer (a copy of them, measured 16% of a chunk)
            x.addmm_(position.to(x.dtype), w_position.t().to(x.dtype))
        x = _mlp_tail(self.imnet.layers[1:], x) if tail is None else tail(x)
        preds = x.float().view(b, n, q, -1).unbind(1)
        out = geometry.blend(preds, areas)
        if self.config.residual == "bicubic":
            out = out + geometry.bicubic_at(inp, coord)
        return out

    def forward(self, inp: torch.Tensor, coord: torch.Tensor, cell: torch.Tensor) -> torch.Tensor:
        return self.query(self.project(self.encode(inp)), coord, cell, inp)


# oneDNN's linear with bias and ReLU fused into the matrix product (PyTorch's CPU builds ship it).
_FUSED_LINEAR_RELU = getattr(getattr(torch.ops, "mkldnn", None), "_linear_pointwise", None)


def _mlp_tail(layers: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """ReLU, Linear, ReLU, ..., Linear. At inference on the CPU each Linear + ReLU pair runs as one fused
    call: no copy of the bias into the output and no separate ReLU pass (~30% faster, measured)."""
    if x.requires_grad or x.device.type != "cpu" or _FUSED_LINEAR_RELU is None or not torch.backends.mkldnn.is_available():
        for layer in layers:
            x = layer(x)
        return x
    linears = [m for m in layers if isinstance(m, nn.Linear)]
    x = x.relu_()
    for layer in linears[:-1]:
        x = _FUSED_LINEAR_RELU(x, layer.weight.to(x.dtype), layer.bias.to(x.dtype), "relu", [], "")
    return F.linear(x, linears[-1].weight.to(x.dtype), linears[-1].bias.to(x.dtype))


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
