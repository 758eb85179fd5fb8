"""The paper's query written straight from the formula: slow, plain, and the oracle for the fast path.

For every query and each of the four shifts it unfolds the features, looks the nearest code up with
`grid_sample`, builds the full 580-number MLP input and runs the whole MLP, exactly as docs/liif-spec.md
describes. `LIIF.query` (model.py) must give the same numbers; tests/test_model.py checks it on random
inputs with every combination of the switches. `ensemble_terms` keeps every term of that formula (which
code each shift used, what the decoder was given, what it answered, the weights, the bicubic term), so a
lesson can show one output pixel's sum (liif/lessons/probe.py); `query_reference` adds them up.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from liif.core import geometry
from liif.core.model import LIIF


def _sample_nearest(grid_values: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """grid_values (B, C, h, w) at q (B, Q, 2) (row, col), nearest -> (B, Q, C)."""
    out = F.grid_sample(grid_values, q.flip(-1).unsqueeze(1), mode="nearest", align_corners=False)
    return out[:, :, 0, :].permute(0, 2, 1)


@dataclass
class EnsembleTerms:
    """Every term of the query formula, one list entry per shift of the local ensemble (one entry without
    it), each (B, Q, ...) like the queries. Units are the model's: [-1, 1] coordinates, (row, column)."""

    grid_points: list  # (B, Q, 2) long: (row, column) of the latent code the shift landed on
    centres: list  # (B, Q, 2): that code's centre
    positions: list  # (B, Q, 2 or 4): what the decoder is given besides the feature: the offset, the cell
    preds: list  # (B, Q, 3): the decoder's answers (normalised units; a correction with the bicubic residual)
    areas: list  # (B, Q): the rectangle between the query and the code's centre (latent-pixel units)
    bicubic: torch.Tensor | None  # (B, Q, 3): the residual's bicubic term, None when the model has none

    def weights(self) -> list:
        return geometry.blend_weights(self.areas)

    def output(self) -> torch.Tensor:
        out = geometry.blend(self.preds, self.areas)
        return out if self.bicubic is None else out + self.bicubic


@torch.no_grad()
def ensemble_terms(model: LIIF, feat: torch.Tensor, coord: torch.Tensor, cell: torch.Tensor, inp=None,
                   window=None) -> EnsembleTerms:
    """The terms of `query_reference` (same arguments), before they are added up.

    `window` = (row0, col0, height, width): `feat` is only the rows from row0 and the columns from col0 of
    a height x width grid (`inp` and the units of `coord` and `cell` stay the whole grid's), reaching every
    code the queries use and its 3x3 neighbours. Each code is then found by index (`geometry.nearest_code`,
    the choice grid_sample's nearest makes on the whole grid, ties included), so that one query costs the
    same in any picture (liif/lessons/probe.py).
    """
    cfg = model.config
    b, c, fh, fw = feat.shape
    h, w = (fh, fw) if window is None else window[2:]
    if cfg.feat_unfold:
        feat = F.unfold(feat, 3, padding=1).view(b, c * 9, fh, fw)
    if window is None:
        centres = geometry.make_coord(h, w, device=feat.device).t().reshape(2, h, w)
        centres = centres.unsqueeze(0).expand(b, 2, h, w)
        rows, cols = torch.meshgrid(torch.arange(h, device=feat.device), torch.arange(w, device=feat.device),
                                    indexing="ij")
        indices = torch.stack([rows, cols]).float().unsqueeze(0).expand(b, 2, h, w)
    scale = coord.new_tensor([h, w])

    terms = EnsembleTerms([], [], [], [], [], None)
    mlp_in = []
    for q_shifted in geometry.neighbour_queries(coord, h, w, cfg.local_ensemble):
        if window is None:
            code = _sample_nearest(feat, q_shifted)
            centre = _sample_nearest(centres, q_shifted)
            point = _sample_nearest(indices, q_shifted).round().long()
        else:
            code, centre, point = _window_lookup(feat, q_shifted, window)
        rel = (coord - centre) * scale
        position = torch.cat([rel, cell * scale], dim=-1) if cfg.cell_decode else rel
        terms.grid_points.append(point)
        terms.centres.append(centre)
        terms.positions.append(position)
        terms.areas.append(geometry.area(rel))
        mlp_in.append(torch.cat([code, position], dim=-1))
    # The whole MLP on every shift's full input, all shifts in one call (row by row the same function).
    terms.preds = list(model.imnet(torch.stack(mlp_in)).unbind(0))
    if cfg.residual == "bicubic":
        terms.bicubic = geometry.bicubic_at(inp, coord)
    return terms


def _window_lookup(feat: torch.Tensor, q: torch.Tensor, window) -> tuple:
    """(code (B, Q, C), centre (B, Q, 2), grid point (B, Q, 2)) of the code nearest q, from a window."""
    row0, col0, h, w = window
    index, centre = geometry.nearest_code(q, h, w)
    rows, cols = index // w - row0, index % w - col0
    if rows.min() < 0 or cols.min() < 0 or rows.max() >= feat.shape[2] or cols.max() >= feat.shape[3]:
        raise ValueError("a query reaches a latent code outside the window it was given")
    batch = torch.arange(feat.shape[0], device=feat.device).unsqueeze(1).expand_as(rows)
    code = feat.permute(0, 2, 3, 1)[batch, rows, cols]
    return code, centre, torch.stack([rows + row0, cols + col0], dim=-1)


@torch.no_grad()
def query_reference(model: LIIF, feat: torch.Tensor, coord: torch.Tensor, cell: torch.Tensor, inp=None):
    """Same contract as `LIIF.query`, but from the encoder's raw features."""
    return ensemble_terms(model, feat, coord, cell, inp).output()


@torch.no_grad()
def render_reference(model: LIIF, image01: torch.Tensor, out_height: int, out_width: int, chunk: int = 30000):
    """Whole-image render the authors' way: encoder on the full image, queries in chunks of 30000.

    image01: (1, 3, h, w) in [0, 1]. Returns (1, 3, out_height, out_width) in [0, 1].
    """
    inp = geometry.normalise(image01)
    feat = model.encode(inp)
    coord = geometry.make_coord(out_height, out_width, device=inp.device).unsqueeze(0)
    cell = geometry.make_cell(coord.shape[1], out_height, out_width, device=inp.device).unsqueeze(0)
    parts = [
        query_reference(model, feat, coord[:, i : i + chunk], cell[:, i : i + chunk], inp)
        for i in range(0, coord.shape[1], chunk)
    ]
    rgb = geometry.denormalise(torch.cat(parts, dim=1))
    return rgb.view(1, out_height, out_width, 3).permute(0, 3, 1, 2)
