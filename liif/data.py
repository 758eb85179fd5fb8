"""Training data: photos decoded once, random crops made on the fly (on the GPU when training there).

The paper's recipe for one sample: a scale s ~ U[1, 4], an HR crop of round(48 s) pixels, its 48x48 LR
by antialiased bicubic downsampling, random flips and transpose, and 2304 HR pixels sampled as queries
with their coordinates and cells. Crops are drawn from images in proportion to their area, so a large
photo is seen as often as its pixels deserve.
"""

import random
from pathlib import Path

import torch
import torch.nn.functional as F

from liif import geometry

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


def list_images(folders) -> list:
    paths = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"training folder {folder} does not exist")
        paths += [p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    if not paths:
        raise FileNotFoundError(f"no images found in {', '.join(map(str, folders))}")
    return paths


def split_holdout(paths: list, n_holdout: int, seed: int = 0):
    """A fixed handful of training-folder images kept out for validation (never the benchmark sets)."""
    held = set(random.Random(seed).sample(range(len(paths)), min(n_holdout, len(paths) - 1)))
    train = [p for i, p in enumerate(paths) if i not in held]
    val = [p for i, p in enumerate(paths) if i in held]
    return train, val


def decode(path, max_side: int | None = None) -> torch.Tensor:
    """(3, H, W) uint8. Photos larger than max_side are reduced with antialiasing (see configs/)."""
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        if max_side and max(im.size) > max_side:
            ratio = max_side / max(im.size)
            im = im.resize((round(im.width * ratio), round(im.height * ratio)), Image.BICUBIC)
        return torch.frombuffer(bytearray(im.tobytes()), dtype=torch.uint8).view(im.height, im.width, 3).permute(2, 0, 1).contiguous()


class CropSampler:
    """Draws training batches from decoded images. All randomness comes from `generator`."""

    def __init__(self, images: list, lr_size=48, scale_range=(1.0, 4.0), n_queries=2304, device="cpu"):
        self.lr_size, self.scale_range, self.n_queries, self.device = lr_size, scale_range, n_queries, device
        self.images = [im.to(device) for im in images if min(im.shape[1:]) >= lr_size]
        if not self.images:
            raise ValueError(f"no training image is at least {lr_size} pixels on its shorter side")
        self.weights = torch.tensor([float(im.shape[1] * im.shape[2]) for im in self.images])

    @property
    def n_pixels(self) -> int:
        return int(self.weights.sum().item())

    def sample(self, batch_size: int, generator: torch.Generator):
        inps, coords, cells, gts = [], [], [], []
        picks = torch.multinomial(self.weights, batch_size, replacement=True, generator=generator)
        for i in picks.tolist():
            inp, coord, cell, gt = self._one(self.images[i], generator)
            inps.append(inp), coords.append(coord), cells.append(cell), gts.append(gt)
        return torch.stack(inps), torch.stack(coords), torch.stack(cells), torch.stack(gts)

    def _one(self, image: torch.Tensor, g: torch.Generator):
        _, h, w = image.shape
        lo, hi = self.scale_range
        hi = min(hi, min(h, w) / self.lr_size)  # small photos cannot give large-scale crops
        s = lo + (max(hi, lo) - lo) * torch.rand((), generator=g).item()
        size = min(round(self.lr_size * s), h, w)
        y0 = torch.randint(0, h - size + 1, (), generator=g).item()
        x0 = torch.randint(0, w - size + 1, (), generator=g).item()
        hr = image[:, y0 : y0 + size, x0 : x0 + size].float() / 255
        flips = torch.rand(3, generator=g).tolist()
        if flips[0] < 0.5:
            hr = hr.flip(-1)
        if flips[1] < 0.5:
            hr = hr.flip(-2)
        if flips[2] < 0.5:
            hr = hr.transpose(-2, -1)
        lr = F.interpolate(hr[None], size=(self.lr_size, self.lr_size), mode="bicubic", antialias=True, align_corners=False)
        lr = lr[0].clamp(0, 1)
        coord = geometry.make_coord(size, size, device=hr.device)
        rgb = hr.reshape(3, -1).t()
        keep = torch.randperm(size * size, generator=g)[: self.n_queries].to(hr.device)
        cell = geometry.make_cell(len(keep), size, size, device=hr.device)
        return geometry.normalise(lr), coord[keep], cell, geometry.normalise(rgb[keep])
