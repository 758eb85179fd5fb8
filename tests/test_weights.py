"""Weights files: ours round-trip, the authors' released layout loads unchanged, bad files say why."""

from pathlib import Path

import pytest
import torch

from liif.core import weights
from liif.core.model import LIIF, LIIFConfig
from liif.core.weights import WeightsError, load_model, read_metadata, save_weights


def _same_outputs(a: LIIF, b: LIIF, atol=1e-6):
    inp = torch.rand(1, 3, 9, 11) * 2 - 1
    coord = torch.rand(1, 40, 2) * 2 - 1
    cell = torch.full((1, 40, 2), 0.05)
    with torch.no_grad():
        return torch.allclose(a(inp, coord, cell), b(inp, coord, cell), atol=atol)


def test_safetensors_round_trip_keeps_config_and_names(tmp_path):
    torch.manual_seed(0)
    model = LIIF(LIIFConfig(encoder="edsr-baseline", residual="bicubic", cell_decode=False)).eval()
    path = save_weights(model, tmp_path / "m.safetensors", dtype=torch.float32)
    loaded = load_model(path)
    assert loaded.config == model.config
    assert read_metadata(path)["residual"] == "bicubic"
    assert _same_outputs(model, loaded)
    half = load_model(save_weights(model, tmp_path / "h.safetensors"))  # fp16 by default
    assert _same_outputs(model, half, atol=5e-2)


def test_authors_checkpoint_layout_loads_unchanged(tmp_path):
    """`{'model': {'name': 'liif', 'args': ..., 'sd': ...}}`, with their unused mean-shift layers."""
    torch.manual_seed(1)
    theirs = LIIF(LIIFConfig(encoder="edsr-baseline", residual="none")).eval()
    sd = dict(theirs.state_dict())
    sd["encoder.sub_mean.weight"] = torch.eye(3).view(3, 3, 1, 1)
    sd["encoder.sub_mean.bias"] = torch.zeros(3)
    sd["encoder.add_mean.weight"] = torch.eye(3).view(3, 3, 1, 1)
    sd["encoder.add_mean.bias"] = torch.zeros(3)
    checkpoint = {"model": {"name": "liif", "args": {
        "encoder_spec": {"name": "edsr-baseline", "args": {"no_upsampling": True}},
        "imnet_spec": {"name": "mlp", "args": {"out_dim": 3, "hidden_list": [256, 256, 256, 256]}}}, "sd": sd},
        "optimizer": {"name": "adam"}, "epoch": 1000}
    path = tmp_path / "edsr-baseline-liif.pth"
    torch.save(checkpoint, path)
    loaded = load_model(path)
    assert loaded.config.residual == "none" and loaded.config.encoder == "edsr-baseline"
    assert _same_outputs(theirs, loaded)


def test_missing_truncated_and_mismatched_files_say_what_is_wrong(tmp_path):
    with pytest.raises(WeightsError, match="no such weights file"):
        load_model(tmp_path / "nothing.safetensors")
    good = save_weights(LIIF(LIIFConfig()), tmp_path / "good.safetensors")
    truncated = tmp_path / "cut.safetensors"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(WeightsError, match="cut.safetensors: not a readable safetensors file"):
        load_model(truncated)
    # an RDN state dict under an EDSR config
    from safetensors.torch import save_file

    rdn = {k: v.contiguous() for k, v in LIIF(LIIFConfig(encoder="rdn")).state_dict().items()}
    save_file(rdn, str(tmp_path / "wrong.safetensors"), metadata={"config": '{"encoder": "edsr-baseline"}'})
    with pytest.raises(WeightsError, match="wrong.safetensors: does not match a LIIF with encoder 'edsr-baseline'"):
        load_model(tmp_path / "wrong.safetensors")
    (tmp_path / "other.pth").write_bytes(b"\x80not a pickle")
    with pytest.raises(WeightsError, match="other.pth: not a readable PyTorch checkpoint"):
        load_model(tmp_path / "other.pth")
    torch.save({"model": {"name": "metasr", "args": {"encoder_spec": {"name": "rdn"}}, "sd": {}}}, tmp_path / "m.pth")
    with pytest.raises(WeightsError, match="not 'liif'"):
        load_model(tmp_path / "m.pth")


def test_default_model_is_found_in_weights_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(WeightsError, match="no trained weights found"):
        weights.default_weights_path()
    save_weights(LIIF(LIIFConfig()), tmp_path / "edsr-baseline-liif.safetensors")
    assert weights.default_weights_path().name == "edsr-baseline-liif.safetensors"
    save_weights(LIIF(LIIFConfig(encoder="rdn")), tmp_path / "rdn-liif.safetensors")
    assert weights.default_weights_path().name == "rdn-liif.safetensors"  # RDN first, once it is trained


def test_shipped_models_by_name(tmp_path, monkeypatch):
    """`--model rdn|edsr-baseline|PATH`: names resolve to the shipped files, anything else is a path."""
    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(WeightsError, match="the rdn model is not shipped here"):
        weights.resolve_weights("rdn")
    save_weights(LIIF(LIIFConfig()), tmp_path / "edsr-baseline-liif.safetensors")
    assert weights.resolve_weights("edsr-baseline") == tmp_path / "edsr-baseline-liif.safetensors"
    assert weights.resolve_weights(None) == tmp_path / "edsr-baseline-liif.safetensors"
    assert weights.resolve_weights("other/file.pth") == Path("other/file.pth")
    assert weights.load_model("edsr-baseline").config.encoder == "edsr-baseline"
    assert weights.display_label(tmp_path / "edsr-baseline-liif.safetensors").startswith("LIIF-EDSR-baseline")
    assert weights.display_label(tmp_path / "mine.safetensors") == "mine.safetensors"


def test_shipped_models_are_tagged_registry_entries_and_old_names_still_work(tmp_path, monkeypatch):
    """Each shipped model is an architecture and a training tag (`edsr-baseline.jpeg`, as timm names weights);
    the names `--model` and the API took before (`edsr-baseline-jpeg`, `text`, `sharp`) name the same entries."""
    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path)
    assert [m.key for m in weights.SHIPPED.values()] == [
        "rdn.photo", "edsr-baseline.photo", "edsr-baseline.jpeg", "edsr-baseline.text", "edsr-baseline.gan"]
    assert [m.name for m in weights.SHIPPED.values()] == [
        "rdn", "edsr-baseline", "edsr-baseline-jpeg", "edsr-baseline-text", "edsr-baseline-gan"]
    for old, key in (("edsr-baseline-jpeg", "edsr-baseline.jpeg"), ("text", "edsr-baseline.text"),
                     ("sharp", "edsr-baseline.gan"), ("gan", "edsr-baseline.gan"), ("rdn", "rdn.photo")):
        assert weights.shipped(old) is weights.shipped(key) is weights.SHIPPED[key]
    assert weights.shipped("edsr-baseline-jpeg-liif.safetensors").tag == "jpeg"
    assert weights.shipped("mine") is None
    save_weights(LIIF(LIIFConfig()), tmp_path / "edsr-baseline-jpeg-liif.safetensors")
    for name in ("edsr-baseline.jpeg", "edsr-baseline-jpeg"):
        assert weights.resolve_weights(name) == tmp_path / "edsr-baseline-jpeg-liif.safetensors"
    assert weights.resolve_weights("edsr-baseline-jpeg-liif.safetensors") == Path("edsr-baseline-jpeg-liif.safetensors")
    with pytest.raises(WeightsError, match=r"the edsr-baseline-text \(--model text\) model is not shipped here"):
        weights.resolve_weights("text")


def test_the_model_registry_refuses_a_second_entry_of_a_name_or_file():
    registry = {}
    first = weights.ShippedModel("tiny", "photo", "tiny-liif.safetensors", "Tiny", "Tiny", ("small",))
    assert weights.register(first, registry) is first and registry == {"tiny.photo": first}
    for clash, name in ((weights.ShippedModel("tiny", "photo", "tiny-2.safetensors", "T", "T"), "tiny"), (weights.ShippedModel("tiny", "jpeg", "tiny-liif.safetensors", "T", "T"),
                                          "tiny-liif.safetensors"),
                        (weights.ShippedModel("other", "photo", "other.safetensors", "O", "O", ("small",)), "small")):
        with pytest.raises(ValueError, match=f"'{name}' is registered already"):
            weights.register(clash, registry)
    assert registry == {"tiny.photo": first}
    with pytest.raises(ValueError, match="is registered already"):
        weights.register(weights.ShippedModel("edsr-baseline", "text", "another.safetensors", "T", "T"))
    assert weights.SHIPPED["edsr-baseline.text"].filename == "edsr-baseline-text-liif.safetensors"


@pytest.mark.parametrize("garbage", [float("nan"), float("inf")])
def test_non_finite_parameters_behind_an_intact_header_are_refused(tmp_path, garbage):
    """Such a file parses, loads silently and renders an all-black picture; it must be refused at load
    with one line that names the file and the parameter."""
    model = LIIF(LIIFConfig())
    with torch.no_grad():
        next(model.parameters()).view(-1)[3] = garbage
    name = next(iter(model.state_dict()))
    for path in (save_weights(model, tmp_path / "bad.safetensors"), tmp_path / "bad.pth"):
        if path.suffix == ".pth":
            torch.save({"model": {"name": "liif", "args": {"encoder_spec": {"name": "edsr-baseline"}},
                                  "sd": model.state_dict()}}, path)
        with pytest.raises(WeightsError) as refused:
            load_model(path)
        message = str(refused.value)
        assert "\n" not in message and path.name in message and name in message and "non-finite" in message
