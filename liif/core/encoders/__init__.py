"""The encoders LIIF runs with: one file per architecture, one entry per encoder in `ENCODERS` below.

Each maps an RGB image (normalised to [-1, 1]) to a feature map at the input's resolution with
`out_dim` channels, and lists its repeated `blocks` (the page counts them). Everything else that names an
encoder (the page's words, the model card, the command line's --encoder) reads this table:

    register(Encoder("tiny", TinyEncoder, "Tiny", "blocks", "a tiny test encoder"))
    LIIF(LIIFConfig(encoder="tiny"))
"""

from dataclasses import dataclass

from torch import nn

from liif.core.encoders.edsr import EDSR
from liif.core.encoders.rdn import RDN


@dataclass(frozen=True)
class Encoder:
    name: str  # what LIIFConfig.encoder, weights files and --encoder say
    make: type  # the nn.Module class, built with its defaults
    label: str  # what the page calls it
    block_kind: str  # what its `blocks` are, in words ("residual dense blocks")
    card_text: str  # the model card's description of its architecture


ENCODERS: dict[str, Encoder] = {}


def register(encoder: Encoder) -> Encoder:
    """Add an encoder to the table. A name already there is refused: a second entry would silently change
    what every weights file of that name loads into."""
    if encoder.name in ENCODERS:
        raise ValueError(f"an encoder called {encoder.name!r} is registered already")
    ENCODERS[encoder.name] = encoder
    return encoder


register(Encoder("edsr-baseline", EDSR, "EDSR-baseline", "residual blocks",
                 "EDSR-baseline: 16 residual blocks of 64 features, no upsampling tail"))
register(Encoder("rdn", RDN, "RDN", "residual dense blocks",
                 "RDN (configuration B): 16 residual dense blocks of 8 convolutions each (growth 64), local and "
                 "global feature fusion, 64 output features, no upsampling tail"))


def make_encoder(name: str) -> nn.Module:
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; choose one of {sorted(ENCODERS)}")
    return ENCODERS[name].make()


def label(name: str) -> str:
    """The page's name for an encoder; the name itself for one that is not registered."""
    return ENCODERS[name].label if name in ENCODERS else name
