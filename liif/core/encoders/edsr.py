"""EDSR-baseline (Lim et al. 2017) without its upsampling tail: 16 residual blocks of 64 features.

Attribute names follow the authors' state dicts (`head`, `body`) so their checkpoints load unchanged.
"""

from torch import nn

from liif.core.encoders.common import conv3x3


class ResBlock(nn.Module):
    def __init__(self, n_feats: int):
        super().__init__()
        self.body = nn.Sequential(conv3x3(n_feats, n_feats), nn.ReLU(inplace=True), conv3x3(n_feats, n_feats))

    def forward(self, x):
        return x + self.body(x)


class EDSR(nn.Module):
    def __init__(self, n_resblocks: int = 16, n_feats: int = 64):
        super().__init__()
        self.out_dim = n_feats
        self.head = nn.Sequential(conv3x3(3, n_feats))
        # body.0..15 are residual blocks, body.16 the closing conv: the authors' indices.
        self.body = nn.Sequential(*[ResBlock(n_feats) for _ in range(n_resblocks)], conv3x3(n_feats, n_feats))

    @property
    def blocks(self) -> list:
        """The repeated blocks, for the page's description of the encoder."""
        return [m for m in self.body if isinstance(m, ResBlock)]

    def forward(self, x):
        x = self.head(x)
        return self.body(x) + x
