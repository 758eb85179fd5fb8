"""RDN (Zhang et al. 2018), configuration B, without its upsampling tail: 16 residual dense blocks of 8
layers, growth 64, 64 output features.

Attribute names follow the authors' state dicts (`SFENet1`, `RDBs`, `LFF`, `GFF`) so their checkpoints
load unchanged.
"""

import torch
from torch import nn

from liif.core.encoders.common import conv3x3


class RDBConv(nn.Module):
    """One layer of a residual dense block: conv3x3 + ReLU, its output appended to its input."""

    def __init__(self, c_in: int, growth: int):
        super().__init__()
        self.conv = nn.Sequential(conv3x3(c_in, growth), nn.ReLU(inplace=True))

    def forward(self, x):
        return torch.cat([x, self.conv(x)], dim=1)


class RDB(nn.Module):
    """Residual dense block: dense layers, then local feature fusion (LFF, 1x1) plus the block's input."""

    def __init__(self, n_feats: int, growth: int, n_layers: int):
        super().__init__()
        self.convs = nn.Sequential(*[RDBConv(n_feats + c * growth, growth) for c in range(n_layers)])
        self.LFF = nn.Conv2d(n_feats + n_layers * growth, n_feats, 1)

    def forward(self, x):
        return self.LFF(self.convs(x)) + x


class RDN(nn.Module):
    def __init__(self, n_feats: int = 64, n_blocks: int = 16, n_layers: int = 8, growth: int = 64):
        super().__init__()
        self.out_dim = n_feats
        self.SFENet1 = conv3x3(3, n_feats)  # shallow feature extraction
        self.SFENet2 = conv3x3(n_feats, n_feats)
        self.RDBs = nn.ModuleList([RDB(n_feats, growth, n_layers) for _ in range(n_blocks)])
        # Global feature fusion over the concatenated block outputs.
        self.GFF = nn.Sequential(nn.Conv2d(n_blocks * n_feats, n_feats, 1), conv3x3(n_feats, n_feats))

    @property
    def blocks(self) -> list:
        """The repeated blocks, for the page's description of the encoder."""
        return list(self.RDBs)

    def forward(self, x):
        f_1 = self.SFENet1(x)
        x = self.SFENet2(f_1)
        outs = []
        for block in self.RDBs:
            x = block(x)
            outs.append(x)
        return self.GFF(torch.cat(outs, dim=1)) + f_1
