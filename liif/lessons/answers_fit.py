"""Making a sharp picture fit a tiny photo, for the answers lesson (liif/lessons/answers.py).

    fit = consistency(picture, tiny)         # max and mean |round(shrink(picture)) - tiny|, and its PSNR
    pictures8, rounds = back_project([start, ...], tiny)

`shrink` is the operator the model's training inputs were made with (antialiased bicubic:
`pictures.shrink_tensor`, which liif/training/data.py applies as the matrices of `reduction_matrix`; this
module uses those matrices in float32, the same operator to about 1e-6). Back-projection repeats
x += enlarge_bicubic(tiny - shrink(x)), clamped to [0, 1], until the 8-bit picture, shrunk with
`pictures.shrink` and rounded, is within `GOAL_LEVELS` of the tiny photo at every pixel.
"""

import functools
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from liif.evaluation.metrics import psnr
from liif.render import pictures
from liif.training.data import reduction_matrix

# What "shrink" means here, in words the page can show: the operator the model's training inputs were
# made with (pictures.shrink / shrink_tensor; torch's interpolate, bicubic, antialias=True).
OPERATOR = "antialiased bicubic shrink"
ROUNDS = 30  # back-projection rounds on the float pictures
# At most this many more on the 8-bit pictures, until each is within GOAL_LEVELS: a few for most photos;
# dozens where the input is near black or white beside strong contrast (the clamp slows the rounds there).
INTEGER_ROUNDS = 60
GOAL_LEVELS = 1


def consistency(picture: np.ndarray, tiny: np.ndarray) -> dict:
    """How far the 8-bit `picture`, shrunk to the tiny size (`pictures.shrink`: the operator, rounded to
    8 bits) is from `tiny`: max and mean |difference| in levels of 255, and its PSNR (inf: exact)."""
    h, w = tiny.shape[:2]
    small = pictures.shrink(picture, w, h)
    off = np.abs(small.astype(np.int16) - tiny.astype(np.int16))
    return {"max_abs_levels": int(off.max()), "mean_abs_levels": float(off.mean()),
            "consistency_psnr_db": psnr(small, tiny)}


def back_project(starts: list, tiny: np.ndarray, rounds: int = ROUNDS) -> tuple:
    """(8-bit pictures, rounds each had): each start ((H, W, 3) on 0..255) made to shrink back to `tiny`.

    `rounds` rounds of x += enlarge_bicubic(tiny - shrink(x)), clamped to [0, 1] every round, for all the
    starts at once; then the 8-bit pictures get up to INTEGER_ROUNDS more, each until its rounded shrink is
    within GOAL_LEVELS of `tiny` everywhere (measured with `pictures.shrink` itself).
    """
    h, w = tiny.shape[:2]
    big_h, big_w = starts[0].shape[:2]
    ops = _operators(h, w, big_h, big_w)
    target = torch.from_numpy(np.array(tiny, dtype=np.float32)).permute(2, 0, 1)[None] / 255
    x = torch.stack([torch.from_numpy(np.asarray(s, dtype=np.float32)).permute(2, 0, 1) for s in starts]) / 255
    x = x.clamp(0, 1)
    for _ in range(rounds):
        x = (x + ops.enlarge(target - ops.shrink(x))).clamp_(0, 1)
    done = [rounds] * len(starts)
    tiny_levels = target * 255
    for left in range(INTEGER_ROUNDS, -1, -1):
        x8 = (x * 255).round()
        # The matrices find the pictures still off (a level off rounds to more than GOAL_LEVELS from
        # GOAL_LEVELS + 0.5 on); `pictures.shrink` itself has the last word.
        off = (ops.shrink(x8 / 255) * 255 - tiny_levels).abs().amax(dim=(1, 2, 3))
        failing = [i for i in range(len(starts)) if off[i] >= GOAL_LEVELS + 0.499]
        if not failing:
            failing = [i for i in range(len(starts))
                       if consistency(_to_uint8(x8[i]), tiny)["max_abs_levels"] > GOAL_LEVELS]
        if not failing or not left:
            break
        index = torch.tensor(failing)
        x[index] = (x[index] + ops.enlarge(target - ops.shrink(x8[index] / 255))).clamp_(0, 1)
        for i in failing:
            done[i] += 1
    return [_to_uint8(p) for p in x8], done


@dataclass(frozen=True)
class _Operators:
    down_h: torch.Tensor  # (h, H)
    down_w: torch.Tensor  # (w, W)
    up_h: torch.Tensor  # (H, h)
    up_w: torch.Tensor  # (W, w)

    def shrink(self, x: torch.Tensor) -> torch.Tensor:
        """`pictures.shrink_tensor` of (B, 3, H, W), as its separable matrices: the same operator."""
        return (self.down_h @ x @ self.down_w.t()).clamp(0, 1)

    def enlarge(self, x: torch.Tensor) -> torch.Tensor:
        """Bicubic enlargement (torch's interpolate, align_corners=False) of (B, 3, h, w), as matrices."""
        return self.up_h @ x @ self.up_w.t()


@functools.lru_cache(maxsize=8)
def _operators(h: int, w: int, big_h: int, big_w: int) -> _Operators:
    return _Operators(reduction_matrix(big_h, h, big_h), reduction_matrix(big_w, w, big_w),
                      _enlargement_matrix(h, big_h), _enlargement_matrix(w, big_w))


def _enlargement_matrix(size: int, big: int) -> torch.Tensor:
    """(big, size) weights of bicubic interpolation from `size` to `big` pixels along one axis, read off
    the operator (it is linear and separable): image c of the batch is a spike at row c."""
    spikes = torch.eye(size, dtype=torch.float64)[:, None, :, None].expand(size, 1, size, 4).contiguous()
    columns = F.interpolate(spikes, size=(big, 4), mode="bicubic", align_corners=False)
    return columns[:, 0, :, 0].t().float().contiguous()


def _to_uint8(x255: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(x255.clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy())


def mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |a - b| over every pixel and channel, in levels of 255."""
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).mean())

