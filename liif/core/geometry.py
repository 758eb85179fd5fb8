"""Coordinates and the local ensemble: the maths shared by the fast query and the reference query.

Conventions (docs/liif-spec.md): coordinates are in [-1, 1] on both axes, (row, column) order, at pixel
centres; for n pixels the centre of pixel i is -1 + 1/n + 2i/n. A cell is one output pixel's size in
the same units, (2 / H_out, 2 / W_out).
"""

import torch
import torch.nn.functional as F

# The four shifts of the local ensemble, in the authors' order: (-1,-1), (-1,+1), (+1,-1), (+1,+1).
ENSEMBLE_SHIFTS = ((-1, -1), (-1, 1), (1, -1), (1, 1))
# Nudges a query that sits exactly on a boundary between two codes to one side, as the authors do.
ENSEMBLE_EPS = 1e-6
AREA_EPS = 1e-9


def pixel_centres(n: int, start: float = -1.0, end: float = 1.0, device=None) -> torch.Tensor:
    """Centres of n equal pixels spanning [start, end]."""
    r = (end - start) / (2 * n)
    return start + r + (2 * r) * torch.arange(n, device=device, dtype=torch.float32)


def make_coord(height: int, width: int, device=None, *, rows=(-1.0, 1.0), cols=(-1.0, 1.0)) -> torch.Tensor:
    """(height * width, 2) pixel-centre coordinates in (row, column) order, row-major.

    `rows`/`cols` give the span covered, so a sub-rectangle of the image can be sampled on its own grid.
    """
    ys = pixel_centres(height, *rows, device=device)
    xs = pixel_centres(width, *cols, device=device)
    grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), dim=-1)
    return grid.reshape(-1, 2)


def region_grid(box, out_size, h: int, w: int, device=None):
    """Pixel-centre rows and columns, and the cell, of `box` = (top, left, bottom, right) in input-pixel
    units rendered at out_size = (rows, cols) from an h x w input."""
    top, left, bottom, right = box
    rows, cols = out_size
    ys = pixel_centres(rows, -1 + 2 * top / h, -1 + 2 * bottom / h, device=device)
    xs = pixel_centres(cols, -1 + 2 * left / w, -1 + 2 * right / w, device=device)
    cell = torch.tensor([2 * (bottom - top) / h / rows, 2 * (right - left) / w / cols], device=device)
    return ys, xs, cell


def make_cell(n_queries: int, out_height: float, out_width: float, device=None) -> torch.Tensor:
    """(n_queries, 2) cells for an output of out_height x out_width pixels over the full image."""
    cell = torch.tensor([2.0 / out_height, 2.0 / out_width], device=device)
    return cell.expand(n_queries, 2).clone()


def neighbour_queries(coord: torch.Tensor, h: int, w: int, local_ensemble: bool):
    """The shifted query positions whose nearest latent codes take part in the blend."""
    if not local_ensemble:
        yield coord
        return
    lo, hi = -1 + ENSEMBLE_EPS, 1 - ENSEMBLE_EPS
    for vy, vx in ENSEMBLE_SHIFTS:
        shift = coord.new_tensor([vy / h + ENSEMBLE_EPS, vx / w + ENSEMBLE_EPS])
        yield (coord + shift).clamp(lo, hi)


def nearest_code(q: torch.Tensor, h: int, w: int):
    """Index (row * w + col) and centre coordinate of the latent code whose pixel contains q.

    The same choice as `grid_sample(mode='nearest', align_corners=False)`: unnormalise to pixel units,
    round half to even.
    """
    iy = torch.round(((q[..., 0] + 1) * h - 1) / 2).clamp(0, h - 1).long()
    ix = torch.round(((q[..., 1] + 1) * w - 1) / 2).clamp(0, w - 1).long()
    centre = torch.stack([pixel_centres(h, device=q.device)[iy], pixel_centres(w, device=q.device)[ix]], -1)
    return iy * w + ix, centre


def axis_codes(values: torch.Tensor, n: int, shift: int | None):
    """One axis of `neighbour_queries` and `nearest_code` for the points of a grid, whose rows (or columns)
    share it: for positions `values` (k,) along an axis of n codes and an ensemble shift along it (-1 or +1;
    None without the ensemble), each value's code index along the axis and its offset from that code's
    centre in code units, (k,) long and (k,) float. The same arithmetic, element by element, as the two
    functions it mirrors (which the reference keeps using as written), so `LIIF.query_grid` gives the same
    numbers as `LIIF.query`."""
    q = values
    if shift is not None:
        q = (values + values.new_tensor(shift / n + ENSEMBLE_EPS)).clamp(-1 + ENSEMBLE_EPS, 1 - ENSEMBLE_EPS)
    index = torch.round(((q + 1) * n - 1) / 2).clamp(0, n - 1).long()
    return index, (values - pixel_centres(n, device=values.device)[index]) * n


def area(rel: torch.Tensor) -> torch.Tensor:
    """Area of the rectangle between the query and a code's centre, in latent-pixel units."""
    return (rel[..., 0] * rel[..., 1]).abs() + AREA_EPS


def blend_weights(areas: list) -> list:
    """Each shift's weight in the blend: the area of the diagonally opposite one over the total, so the
    code nearest the query (the smallest rectangle of its own) takes the largest weight. They sum to 1."""
    if len(areas) == 1:
        return [torch.ones_like(areas[0])]
    total = torch.stack(areas).sum(0)
    return [area / total for area in (areas[3], areas[2], areas[1], areas[0])]


def blend(preds: list, areas: list) -> torch.Tensor:
    """Area-weighted blend of the shifts' predictions, with `blend_weights`."""
    if len(preds) == 1:
        return preds[0]
    out = 0
    for pred, weight in zip(preds, blend_weights(areas)):
        out = out + pred * weight.unsqueeze(-1)
    return out


def bicubic_at(image: torch.Tensor, coord: torch.Tensor) -> torch.Tensor:
    """Bicubic interpolation of image (B, C, h, w) at coord (B, Q, 2) -> (B, Q, C).

    The `residual="bicubic"` term, exactly as docs/liif-spec.md defines it.
    """
    grid = coord.flip(-1).unsqueeze(1).to(image.dtype)  # grid_sample wants (x, y)
    out = F.grid_sample(image, grid, mode="bicubic", padding_mode="border", align_corners=False)
    return out[:, :, 0, :].permute(0, 2, 1).float()


def normalise(image01: torch.Tensor) -> torch.Tensor:
    return (image01 - 0.5) / 0.5


def denormalise(x: torch.Tensor) -> torch.Tensor:
    return (x * 0.5 + 0.5).clamp(0, 1)
