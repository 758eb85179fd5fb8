"""The model: sizes from the paper, parameter names of the authors, and the fast query against the oracle."""

import itertools

import pytest
import torch

from liif.core import geometry
from liif.core.model import LIIF, LIIFConfig, Projected, count_parameters
from liif.core.reference import query_reference

SWITCHES = list(itertools.product([True, False], [True, False], [True, False], ["none", "bicubic"]))


def test_parameter_counts_match_the_paper():
    rdn = LIIF(LIIFConfig(encoder="rdn"))
    edsr = LIIF(LIIFConfig(encoder="edsr-baseline"))
    assert round(count_parameters(rdn.encoder) / 1e6, 2) == 21.97
    assert round(count_parameters(edsr.encoder) / 1e6, 2) == 1.22
    assert round(count_parameters(edsr.imnet) / 1e6, 2) == 0.35
    assert [m.in_features for m in edsr.imnet.layers if isinstance(m, torch.nn.Linear)] == [580, 256, 256, 256, 256]


def test_parameter_names_are_the_authors():
    rdn_keys = set(LIIF(LIIFConfig(encoder="rdn")).state_dict())
    for key in ["encoder.SFENet1.weight", "encoder.SFENet2.bias", "encoder.RDBs.0.convs.0.conv.0.weight",
                "encoder.RDBs.15.convs.7.conv.0.weight", "encoder.RDBs.3.LFF.weight", "encoder.GFF.0.weight",
                "encoder.GFF.1.weight", "imnet.layers.0.weight", "imnet.layers.8.bias"]:
        assert key in rdn_keys, key
    edsr_keys = set(LIIF(LIIFConfig(encoder="edsr-baseline")).state_dict())
    for key in ["encoder.head.0.weight", "encoder.body.0.body.0.weight", "encoder.body.15.body.2.bias",
                "encoder.body.16.weight", "imnet.layers.6.weight"]:
        assert key in edsr_keys, key


def test_rdn_keeps_resolution_and_feature_width():
    model = LIIF(LIIFConfig(encoder="rdn")).eval()
    with torch.no_grad():
        feat = model.encode(torch.rand(1, 3, 7, 9))
    assert feat.shape == (1, 64, 7, 9)


@pytest.mark.parametrize("unfold,ensemble,cell,residual", SWITCHES)
def test_fast_query_equals_reference(unfold, ensemble, cell, residual):
    torch.manual_seed(hash((unfold, ensemble, cell, residual)) % 1000)
    config = LIIFConfig(encoder="edsr-baseline", feat_unfold=unfold, local_ensemble=ensemble,
                        cell_decode=cell, residual=residual)
    model = LIIF(config).eval()
    h, w = torch.randint(3, 17, (2,)).tolist()
    inp = torch.rand(2, 3, h, w) * 2 - 1
    coord = torch.rand(2, 333, 2) * 2 - 1
    cell_size = torch.rand(2, 333, 2) * 0.5 + 0.01
    with torch.no_grad():
        feat = model.encode(inp)
        fast = model.query(model.project(feat), coord, cell_size, inp)
        slow = query_reference(model, feat, coord, cell_size, inp)
    assert fast.shape == (2, 333, 3)
    assert (fast - slow).abs().max().item() < 1e-5


@pytest.mark.parametrize("unfold,ensemble,cell,residual", SWITCHES)
def test_grid_query_equals_the_pointwise_query(unfold, ensemble, cell, residual):
    """`query_grid` finds codes per row and per column: the same numbers as `query` on every point, in a
    projected band that starts below the first latent row (as the engine's bands do), with queries at
    the grid's edges (clamped ensemble shifts)."""
    torch.manual_seed(hash((unfold, ensemble, cell, residual, "grid")) % 1000)
    config = LIIFConfig(encoder="edsr-baseline", feat_unfold=unfold, local_ensemble=ensemble,
                        cell_decode=cell, residual=residual)
    model = LIIF(config).eval()
    inp = torch.rand(1, 3, 11, 13) * 2 - 1
    ys, xs, cell_size = geometry.region_grid((4.0, 0.0, 11.0, 13.0), (17, 29), 11, 13)
    coord = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), -1).reshape(1, -1, 2)
    with torch.no_grad():
        whole = model.project(model.encode(inp))
        band = Projected(whole.first_layer[:, 2 * 13 :], 11, 13, row_offset=2)  # latent rows 2..10
        pointwise = model.query(band, coord, cell_size.expand_as(coord), inp)
        grid = model.query_grid(band, ys, xs, cell_size, inp)
        switched = model.query(band, coord, cell_size.expand_as(coord), inp, local_ensemble=not ensemble)
        switched_grid = model.query_grid(band, ys, xs, cell_size, inp, local_ensemble=not ensemble)
    assert torch.equal(grid, pointwise) and torch.equal(switched_grid, switched)


def test_residual_model_starts_near_bicubic():
    """With the decoder's last layer zeroed, the residual model is exactly bicubic interpolation."""
    model = LIIF(LIIFConfig(residual="bicubic")).eval()
    torch.nn.init.zeros_(model.imnet.layers[-1].weight)
    torch.nn.init.zeros_(model.imnet.layers[-1].bias)
    inp = torch.rand(1, 3, 8, 8) * 2 - 1
    coord = torch.rand(1, 50, 2) * 2 - 1
    with torch.no_grad():
        out = model(inp, coord, torch.full((1, 50, 2), 0.1))
    grid = coord.flip(-1).unsqueeze(1)
    expected = torch.nn.functional.grid_sample(inp, grid, mode="bicubic", padding_mode="border", align_corners=False)
    assert torch.allclose(out, expected[:, :, 0].permute(0, 2, 1), atol=1e-6)


def test_unknown_options_are_refused():
    with pytest.raises(ValueError, match="residual"):
        LIIFConfig(residual="lanczos")
    with pytest.raises(ValueError, match="encoder"):
        LIIF(LIIFConfig(encoder="vgg"))
