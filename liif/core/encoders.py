"""The two convolutional encoders LIIF is used with, without their upsampling tails.

Both map an RGB image (normalised to [-1, 1]) to a 64-channel feature map at the input's resolution.
Attribute names follow the authors' state dicts (`head`, `body`, `SFENet1`, `RDBs`, `LFF`, `GFF`) so that
their checkpoints load without a conversion table.
"""

import torch
from torch import nn


def conv3x3(c_in: int, c_out: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, padding=1)


# ----------------------------------------------------------------------------------------------------
# EDSR-baseline (Lim et al. 2017): 16 residual blocks of 64 features.


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

    def forward(self, x):
        x = self.head(x)
        return self.body(x) + x


# ----------------------------------------------------------------------------------------------------
# RDN (Zhang et al. 2018), configuration B: 16 residual dense blocks of 8 layers, growth 64.


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

    def forward(self, x):
        f_1 = self.SFENet1(x)
        x = self.SFENet2(f_1)
        outs = []
        for block in self.RDBs:
            x = block(x)
            outs.append(x)
        return self.GFF(torch.cat(outs, dim=1)) + f_1


ENCODERS = {"edsr-baseline": EDSR, "rdn": RDN}


def make_encoder(name: str) -> nn.Module:
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; choose one of {sorted(ENCODERS)}")
    return ENCODERS[name]()
