"""Whole crops for adversarial training: every pixel of an HR crop is queried, so the render is a picture.

The L1 recipe (data.py) queries 2304 random pixels of each crop: enough for a per-pixel loss, but a
critic judges pictures, and a scatter of pixels is none. Here each sample is a `crop` x `crop` HR patch,
its LR input shrunk by one scale per batch (so every input of a batch has the same size), and the
queries are the patch's full pixel grid. The batch keeps the L1 trainer's format, (lr, coord, cell, gt)
with gt (B, crop * crop, 3), so the same model call renders it.

Faces matter most to the page's visitors, and a photo collection holds few of them (OpenCV's detector
finds faces in 80 of our 528 training photos, 0.9% of their area). `face_share` of the crops are
therefore centred on a detected face, framed as a profile photo is (the face fills about half of the
crop), so the critic learns what faces look like and the renderer is judged on them. Face crops are only
flipped left-right: an upside-down face is no face the page will meet.

All randomness comes from the caller's CPU generator (saved in checkpoints), so a resumed run draws
exactly the batches an uninterrupted one would.
"""

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from liif.core import geometry
from liif.evaluation.faces import DETECT_MAX_SIDE, find_faces
from liif.training.data import compress_inputs


class FullCropSampler:
    def __init__(self, images: list, faces: list | None = None, crop: int = 96, scale_range=(2.0, 8.0),
                 face_share: float = 0.0, jpeg_quality: tuple = (), jpeg_clean_share: float = 1.0):
        """images: (3, H, W) uint8 tensors; faces[i]: [(x, y, w, h), ...] in images[i]'s pixels."""
        keep = [i for i, im in enumerate(images) if min(im.shape[1:]) >= crop]
        if not keep:
            raise ValueError(f"no training image is at least {crop} pixels on its shorter side")
        self.images = [images[i] for i in keep]
        faces = [faces[i] for i in keep] if faces else [[] for _ in keep]
        self.crop, self.scale_range = crop, scale_range
        self.face_share = face_share if any(faces) else 0.0
        self.jpeg_quality, self.jpeg_clean_share = tuple(jpeg_quality), jpeg_clean_share
        self.weights = torch.tensor([float(im.shape[1] * im.shape[2]) for im in self.images], dtype=torch.float64)
        # Every face once, whatever photo it is in: a group photo does not outweigh a portrait.
        self.faces = [(i, box) for i, boxes in enumerate(faces) for box in boxes]
        self.coord = geometry.make_coord(crop, crop).unsqueeze(0)  # (1, crop*crop, 2)
        self.cell = torch.full_like(self.coord, 2 / crop)

    def sample(self, batch_size: int, generator: torch.Generator):
        """(lr (B, 3, n, n), coord (B, crop², 2), cell (B, crop², 2), gt (B, crop², 3)), in [-1, 1]."""
        g = generator
        lo, hi = self.scale_range
        scale = lo + (hi - lo) * float(torch.rand(1, generator=g, dtype=torch.float64))
        lr_size = max(4, round(self.crop / scale))
        crops = torch.stack([self._one_crop(g) for _ in range(batch_size)])  # (B, 3, crop, crop) in [0, 1]
        lr = F.interpolate(crops, size=(lr_size, lr_size), mode="bicubic", antialias=True, align_corners=False)
        lr = lr.clamp(0, 1)
        if self.jpeg_quality:
            lr = self._compress(lr, g)
        b = batch_size
        gt = crops.permute(0, 2, 3, 1).reshape(b, -1, 3)
        return (geometry.normalise(lr), self.coord.expand(b, -1, -1).clone(), self.cell.expand(b, -1, -1).clone(),
                geometry.normalise(gt))

    def _one_crop(self, g: torch.Generator) -> torch.Tensor:
        on_face = self.face_share > 0 and float(torch.rand(1, generator=g)) < self.face_share
        if on_face:
            index, box = self.faces[int(torch.randint(len(self.faces), (1,), generator=g))]
            image = self.images[index]
            side, y0, x0 = self._frame_face(image, box, g)
            flips = (bool(torch.rand(1, generator=g) < 0.5), False, False)
        else:
            image = self.images[int(torch.multinomial(self.weights, 1, generator=g))]
            _, h, w = image.shape
            side = self.crop
            y0 = int(torch.randint(h - side + 1, (1,), generator=g))
            x0 = int(torch.randint(w - side + 1, (1,), generator=g))
            flips = tuple(bool(f) for f in torch.rand(3, generator=g) < 0.5)
        patch = image[:, y0 : y0 + side, x0 : x0 + side].float()[None] / 255
        if side != self.crop:  # a large face framed, then reduced: the HR stays sharp
            patch = F.interpolate(patch, size=(self.crop, self.crop), mode="bicubic", antialias=True,
                                  align_corners=False).clamp(0, 1)
        patch = patch[0]
        if flips[0]:
            patch = patch.flip(2)
        if flips[1]:
            patch = patch.flip(1)
        if flips[2]:
            patch = patch.transpose(1, 2)
        return patch

    def _frame_face(self, image: torch.Tensor, box, g: torch.Generator) -> tuple:
        """(side, y0, x0) of a square holding the face at about half its width, moved a little at random."""
        _, h, w = image.shape
        x, y, bw, bh = box
        ratio = 1.6 + 0.8 * float(torch.rand(1, generator=g))
        side = min(max(self.crop, round(max(bw, bh) * ratio)), h, w)
        cx = x + bw / 2 + (float(torch.rand(1, generator=g)) - 0.5) * 0.2 * side
        cy = y + bh / 2 + (float(torch.rand(1, generator=g)) - 0.5) * 0.2 * side
        x0 = int(np.clip(round(cx - side / 2), 0, w - side))
        y0 = int(np.clip(round(cy - side / 2), 0, h - side))
        return side, y0, x0

    def _compress(self, lr: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        lo, hi = self.jpeg_quality
        quality = torch.zeros(lr.shape[0], dtype=torch.long)  # 0: left clean
        for b in range(lr.shape[0]):
            drawn = int(torch.randint(lo, hi + 1, (1,), generator=g))
            if float(torch.rand(1, generator=g)) >= self.jpeg_clean_share:
                quality[b] = drawn
        return compress_inputs(lr, quality)


def detect_training_faces(paths: list, images: list, cache: Path, only: set | None = None) -> list:
    """Face boxes for each decoded training photo, [(x, y, w, h), ...] in its pixels.

    Detection (liif/evaluation/faces.py) costs ~0.4 s a photo, so the boxes are kept in `cache` (a JSON file
    in the run's folder) and a resumed run reads them. `only`: file names worth looking at (e.g. those the
    data facts found faces in); others get no faces.
    """
    known = json.loads(cache.read_text()) if cache.is_file() else {}
    boxes = []
    for path, image in zip(paths, images):
        name = Path(path).name
        if name not in known:
            known[name] = _find(image) if only is None or name in only else []
        boxes.append([tuple(b) for b in known[name]])
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(known, indent=0))
    return boxes


def _find(image: torch.Tensor) -> list:
    rgb = image.permute(1, 2, 0).numpy()
    h, w = rgb.shape[:2]
    factor = max(1.0, max(h, w) / DETECT_MAX_SIDE)
    if factor > 1:
        small = F.interpolate(image[None].float(), size=(round(h / factor), round(w / factor)), mode="area")
        rgb = small[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()
    return [[round(v * factor) for v in box] for box in find_faces(rgb)]
