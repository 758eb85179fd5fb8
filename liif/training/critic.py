"""The critic of adversarial training: a small PatchGAN with spectral norm, and the losses it drives.

An L1-trained LIIF draws, at each pixel, the average of every detail that would fit the tiny input: a
soft picture. A critic (discriminator) that learns to tell real photo crops from our renders gives the
renderer a second signal: "this does not look like a photo". Trained against it, the renderer draws one
sharp, plausible detail instead of the average. That is how a "new photo" upscaler is made.

- `PatchCritic`: five convolutions that score every ~30-pixel patch of a picture (Isola et al.'s
  PatchGAN). Spectral norm on each layer (Miyato et al. 2018) keeps the critic smooth, so its gradients
  stay useful to the renderer instead of exploding on a few pixels.
- `critic_loss` / `renderer_adversarial_loss`: the relativistic average GAN loss of ESRGAN (Wang et al.
  2018): the critic is asked whether a real crop looks *more real than the average render*, and the
  renderer is rewarded for the reverse. Both directions give gradients, which suits short runs.
- `feature_matching_loss`: the L1 distance between the critic's inner features of the render and of the
  real crop (Salimans et al. 2016). A perceptual term that needs no downloaded network: the critic itself
  is the feature extractor, learned on the same photos.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class PatchCritic(nn.Module):
    """(B, 3, H, W) in [-1, 1] -> (logits (B, 1, H/8, W/8), [inner features])."""

    def __init__(self, width: int = 64):
        super().__init__()
        channels = [3, width, width, 2 * width, 4 * width]
        strides = [1, 2, 2, 2]
        self.blocks = nn.ModuleList(
            spectral_norm(nn.Conv2d(c_in, c_out, kernel_size=3 if stride == 1 else 4, stride=stride, padding=1))
            for c_in, c_out, stride in zip(channels[:-1], channels[1:], strides)
        )
        self.head = spectral_norm(nn.Conv2d(channels[-1], 1, kernel_size=3, padding=1))

    def forward(self, x: torch.Tensor):
        features = []
        for block in self.blocks:
            x = F.leaky_relu(block(x), 0.2)
            features.append(x)
        return self.head(x), features


def _relativistic(a: torch.Tensor, b: torch.Tensor, target: float) -> torch.Tensor:
    """BCE of "a is more real than the average b" against `target` (1: yes, 0: no)."""
    logits = a.float() - b.float().mean()
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def critic_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The critic wants real crops more real than the average render, and renders less real than the average real."""
    return 0.5 * (_relativistic(real_logits, fake_logits, 1.0) + _relativistic(fake_logits, real_logits, 0.0))


def renderer_adversarial_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The renderer wants the reverse of what the critic wants (real_logits carry no gradient)."""
    return 0.5 * (_relativistic(real_logits, fake_logits, 0.0) + _relativistic(fake_logits, real_logits, 1.0))


def feature_matching_loss(fake_features: list, real_features: list) -> torch.Tensor:
    return sum(F.l1_loss(f.float(), r.detach().float()) for f, r in zip(fake_features, real_features)) / len(fake_features)
