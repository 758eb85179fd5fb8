"""Training data: photos decoded once, random crops made on the fly (on the GPU when training there).

The paper's recipe for one sample: a scale s ~ U[1, 4], an HR crop of round(48 s) pixels, its 48x48 LR
by antialiased bicubic downsampling, random flips and transpose, and 2304 HR pixels sampled as queries
with their coordinates and cells. Optionally (`jpeg_quality`) the LR input of a share of the crops is
then saved as a JPEG of a random quality and decoded again, as a photo found on the web would be; the
target pixels stay those of the clean photo. Crops are drawn from images in proportion to their area, so a large
photo is seen as often as its pixels deserve. A whole batch is made in a few batched operations on the
training device (a GPU step is ~15 ms: per-crop Python and host copies would dominate it).
"""

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from liif.core import geometry
from liif.core.degrade import jpeg_roundtrip
from liif.evaluation.data_facts import PICTURE_SUFFIXES, training_size


def list_images(folders) -> list:
    paths = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"training folder {folder} does not exist")
        paths += [p for p in sorted(folder.iterdir()) if p.suffix.lower() in PICTURE_SUFFIXES]
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
            im = im.resize(training_size(im.width, im.height, max_side), Image.BICUBIC)
        return torch.frombuffer(bytearray(im.tobytes()), dtype=torch.uint8).view(im.height, im.width, 3).permute(2, 0, 1).contiguous()


@dataclass
class CropPlan:
    """One batch's random choices: which photo, crop size and corner, flips, and a seed for the queries."""

    picks: torch.Tensor  # (B,) photo indices
    size: torch.Tensor  # (B,) HR crop side, round(lr_size * scale)
    y0: torch.Tensor
    x0: torch.Tensor
    flips: torch.Tensor  # (B, 3) bool: horizontal, vertical, transpose
    seed: int
    jpeg_quality: torch.Tensor | None = None  # (B,) JPEG quality of each LR input, 0 = left clean


class CropSampler:
    """Draws training batches from decoded images, all of a batch at once on the images' device.

    One batch is a handful of batched tensor operations, whatever its size: a gather of every crop's
    (flipped, transposed) pixels out of one flat pixel store, the antialiased bicubic reduction to
    `lr_size` as two batched matrix products with per-size weight matrices, and the query pixels chosen
    by `topk` over random keys. Crops of different sizes share one padded grid; padding carries zero
    weight and is never queried. All randomness comes from `generator` (a CPU generator, saved in
    checkpoints); the per-query randomness is drawn on the device from a seed it provides.
    """

    def __init__(self, images: list, lr_size=48, scale_range=(1.0, 4.0), n_queries=2304, device="cpu",
                 jpeg_quality: tuple = (), jpeg_clean_share: float = 0.0):
        self.lr_size, self.scale_range, self.n_queries = lr_size, scale_range, n_queries
        self.jpeg_quality, self.jpeg_clean_share = tuple(jpeg_quality), jpeg_clean_share
        self.device = torch.device(device)
        images = [im for im in images if min(im.shape[1:]) >= lr_size]
        if not images:
            raise ValueError(f"no training image is at least {lr_size} pixels on its shorter side")
        self.heights = torch.tensor([im.shape[1] for im in images])
        self.widths = torch.tensor([im.shape[2] for im in images])
        self.weights = (self.heights * self.widths).double()
        self.offsets = torch.cumsum(self.weights.long(), 0) - self.weights.long()
        # One flat (3, total pixels) store: a crop anywhere is one gather from it.
        self.pixels = torch.cat([im.reshape(3, -1) for im in images], 1).to(self.device)
        lo, hi = scale_range
        self.max_size = max(lr_size, round(lr_size * max(lo, hi)))
        # reductions[k]: (lr_size, max_size) weights taking a crop of lr_size + k pixels to lr_size.
        self.reductions = torch.stack([reduction_matrix(size, lr_size, self.max_size)
                                       for size in range(lr_size, self.max_size + 1)]).to(self.device)
        self._device_generator = torch.Generator(device=self.device)

    def sample(self, batch_size: int, generator: torch.Generator):
        """(lr (B, 3, lr, lr), coord (B, Q, 2), cell (B, Q, 2), gt (B, Q, 3)), normalised to [-1, 1]."""
        return self.make_batch(self.plan(batch_size, generator))

    def plan(self, batch_size: int, generator: torch.Generator) -> CropPlan:
        """Every random choice of one batch, drawn from the CPU generator (a few hundred bytes)."""
        g, n = generator, batch_size
        picks = torch.multinomial(self.weights, n, replacement=True, generator=g)
        h, w = self.heights[picks], self.widths[picks]
        lo, hi = self.scale_range
        hi_here = torch.clamp(torch.minimum(h, w).double() / self.lr_size, max=hi)  # small photos: smaller scales
        scale = lo + (torch.clamp(hi_here, min=lo) - lo) * torch.rand(n, generator=g, dtype=torch.float64)
        size = torch.minimum(torch.round(self.lr_size * scale).long(), torch.minimum(h, w))
        y0 = (torch.rand(n, generator=g, dtype=torch.float64) * (h - size + 1)).long()
        x0 = (torch.rand(n, generator=g, dtype=torch.float64) * (w - size + 1)).long()
        flips = torch.rand(n, 3, generator=g) < 0.5  # horizontal, vertical, transpose
        seed = int(torch.randint(0, 2**62, (1,), generator=g))
        quality = None
        if self.jpeg_quality:  # drawn last, so a run without JPEG draws exactly what it always drew
            lo, hi = self.jpeg_quality
            quality = torch.randint(lo, hi + 1, (n,), generator=g)
            quality[torch.rand(n, generator=g) < self.jpeg_clean_share] = 0
        return CropPlan(picks, size, y0, x0, flips, seed, quality)

    def crop(self, plan: CropPlan) -> torch.Tensor:
        """The plan's HR crops, flipped and transposed, on one padded (B, 3, max, max) grid in [0, 1]."""
        n, m, dev = len(plan.picks), self.max_size, self.device
        w = self.widths[plan.picks]
        numbers = torch.stack([self.offsets[plan.picks], plan.y0, plan.x0, w, plan.size, *plan.flips.long().t()], 1)
        offset, y0, x0, w, size, flip_x, flip_y, transpose = numbers.to(dev).view(n, -1, 1, 1).unbind(1)
        # Where each cell of the padded (m, m) grid reads from, after the transpose and flips.
        i = torch.arange(m, device=dev).view(1, m, 1).expand(n, m, m)
        j = torch.arange(m, device=dev).view(1, 1, m).expand(n, m, m)
        i, j = torch.where(transpose > 0, j, i), torch.where(transpose > 0, i, j)
        last = size - 1
        j = torch.where(flip_x > 0, last - j, j)
        i = torch.where(flip_y > 0, last - i, i)
        i, j = torch.minimum(i, last), torch.minimum(j, last)  # padding reads a valid pixel; its weight is zero
        index = offset + (y0 + i) * w + x0 + j
        return self.pixels[:, index.reshape(-1)].view(3, n, m, m).permute(1, 0, 2, 3).float() / 255

    def make_batch(self, plan: CropPlan):
        n, m, dev, q = len(plan.picks), self.max_size, self.device, self.n_queries
        size = plan.size.to(dev)
        hr = self.crop(plan)
        reduce = self.reductions[size - self.lr_size].unsqueeze(1)  # (n, 1, lr, m)
        lr = (reduce @ hr @ reduce.transpose(-1, -2)).clamp(0, 1)
        if plan.jpeg_quality is not None and bool((plan.jpeg_quality > 0).any()):
            lr = compress_inputs(lr, plan.jpeg_quality)

        # n_queries distinct pixels inside each crop: the smallest of uniform keys, padding excluded.
        self._device_generator.manual_seed(plan.seed)
        keys = torch.rand(n, m, m, generator=self._device_generator, device=dev)
        line = torch.arange(m, device=dev)
        outside = (line.view(1, m, 1) >= size.view(n, 1, 1)) | (line.view(1, 1, m) >= size.view(n, 1, 1))
        keep = keys.masked_fill_(outside, 2.0).view(n, -1).topk(q, dim=1, largest=False).indices  # (n, Q)
        s = size.view(n, 1).float()
        coord = torch.stack([(2 * (keep // m) + 1) / s - 1, (2 * (keep % m) + 1) / s - 1], -1)
        cell = (2 / s).unsqueeze(-1).expand(n, q, 2).contiguous()
        rgb = hr.view(n, 3, m * m).gather(2, keep.unsqueeze(1).expand(n, 3, q)).transpose(1, 2)
        return geometry.normalise(lr), coord, cell, geometry.normalise(rgb)


def compress_inputs(lr: torch.Tensor, quality: torch.Tensor) -> torch.Tensor:
    """(B, 3, h, w) in [0, 1] with input b saved as a JPEG of quality[b] and decoded (0: unchanged).

    A 48x48 JPEG round trip costs about 0.1 ms, so a batch of 16 is ~2 ms beside a CPU step of seconds;
    the rounding to 8 bits is part of it, as it is for a real JPEG.
    """
    out = lr.clone()
    pixels = (lr.detach().float().cpu() * 255).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    for b, q in enumerate(quality.tolist()):
        if q > 0:
            back = torch.from_numpy(np.array(jpeg_roundtrip(pixels[b], q))).permute(2, 0, 1)
            out[b] = back.to(lr.device, lr.dtype) / 255
    return out


def reduction_matrix(size: int, lr_size: int, width: int) -> torch.Tensor:
    """(lr_size, width) weights of F.interpolate(bicubic, antialias=True) from `size` to `lr_size` pixels
    along one axis, zero beyond `size`. Read off the operator itself: it is linear and separable, so
    interpolating the identity gives its matrix exactly."""
    # Image c of the batch is a spike at row c. Four columns, kept at four: PyTorch's antialiased path
    # gives wrong results for one-pixel-wide images (measured here), and 4 -> 4 is the identity.
    spikes = torch.eye(size, dtype=torch.float64)[:, None, :, None].expand(size, 1, size, 4).contiguous()
    columns = F.interpolate(spikes, size=(lr_size, 4), mode="bicubic", antialias=True, align_corners=False)
    matrix = torch.zeros(lr_size, width, dtype=torch.float64)
    matrix[:, :size] = columns[:, 0, :, 0].t()
    return matrix.float()
