"""A new encoder is one class and one registry entry: this test registers a tiny one in one place, and
the model, the engine, the weights files and the page's words all work with it."""

import numpy as np
import pytest
import torch
from torch import nn

from liif.core import encoders
from liif.core.model import LIIF, LIIFConfig
from liif.core.weights import load_model, save_weights
from liif.page import limits, models, session
from liif.render.engine import Upscaler


class TinyEncoder(nn.Module):
    """Two convolutions of 8 features: the smallest thing that is an encoder."""

    def __init__(self):
        super().__init__()
        self.out_dim = 8
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1))

    @property
    def blocks(self) -> list:
        return [self.body]

    def forward(self, x):
        return self.body(x)


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setitem(encoders.ENCODERS, "tiny", encoders.Encoder(
        "tiny", TinyEncoder, "Tiny", "convolution pairs", "Tiny: two convolutions of 8 features"))
    yield


def test_a_registered_encoder_renders_saves_loads_and_is_named_on_the_page(tiny, tmp_path):
    torch.manual_seed(0)
    model = LIIF(LIIFConfig(encoder="tiny"))
    path = save_weights(model, tmp_path / "tiny-liif.safetensors")
    loaded = load_model(path)
    assert loaded.config.encoder == "tiny"
    engine = Upscaler(loaded, device="cpu", precision="fp32")
    image = torch.rand(1, 3, 12, 10)
    out = engine.render(image, 36, 30)
    assert out.shape == (1, 3, 36, 30) and torch.isfinite(out).all()

    shelf = models.ModelShelf(path, device="cpu")
    photo = tmp_path / "photo.png"
    from PIL import Image

    Image.fromarray(np.random.default_rng(0).integers(0, 256, (12, 10, 3), dtype=np.uint8)).save(photo)
    run = session.run_to_end(shelf, None, limits.prepare(photo, 3))
    assert run.facts.encoder == "tiny"
    words = run.explanation.markdown()
    assert "Tiny" in words and "convolution pairs" in words


def test_an_unknown_encoder_is_a_sentence_naming_the_registered_ones():
    with pytest.raises(ValueError, match="unknown encoder 'nope'.*edsr-baseline.*rdn"):
        encoders.make_encoder("nope")


def test_a_second_encoder_of_the_same_name_is_refused(tiny):
    with pytest.raises(ValueError, match="'tiny' is registered already"):
        encoders.register(encoders.Encoder("tiny", TinyEncoder, "Tiny 2", "pairs", "another tiny encoder"))
    assert encoders.ENCODERS["tiny"].label == "Tiny"
