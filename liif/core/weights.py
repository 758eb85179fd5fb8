"""Loading and saving LIIF weights.

Our format is `.safetensors` with the architecture in its metadata (key `config`, JSON) and the
authors' parameter names, so a state dict moves between their code and ours unchanged. The authors'
released `.pth` checkpoints (`{'model': {'name': 'liif', 'args': {...}, 'sd': state_dict}}`) load too.
Every failure is a `WeightsError` whose message names the file and the problem.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from liif.core.model import LIIF, LIIFConfig

WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"


PHOTO = "photo"  # the training tag of a model trained on plain photos


@dataclass(frozen=True)
class ShippedModel:
    """A model shipped in weights/, named as timm names pretrained weights: its architecture (the encoder's
    registry name) and a tag for what it was trained on, `edsr-baseline.jpeg`. Everything that treats one
    model unlike another (the text model for "what it has seen", the JPEG model's clean twin) asks the tag."""

    arch: str  # the encoder: "rdn", "edsr-baseline"
    tag: str  # what it learned from: "photo", "jpeg" (compressed inputs), "text" (printed text), "gan" (to look real)
    filename: str  # in weights/
    label: str  # what the model card calls it
    menu_label: str  # what the page's model menu shows a visitor: short enough for a phone's menu (~35 characters)
    aliases: tuple = ()  # short names `--model` also takes

    @property
    def key(self) -> str:
        return f"{self.arch}.{self.tag}"

    @property
    def name(self) -> str:
        """The name `--model` and the API have always taken: `rdn`, `edsr-baseline-jpeg`."""
        return self.arch if self.tag == PHOTO else f"{self.arch}-{self.tag}"

    @property
    def names(self) -> tuple:
        return (self.key, self.name, *self.aliases)


SHIPPED: dict = {}  # key -> ShippedModel, in the library's order: the default first


def register(model: ShippedModel, registry: dict = SHIPPED) -> ShippedModel:
    """Add a shipped model. A name or file already there is refused: a second entry would silently change
    which file `--model` loads."""
    taken = {n for known in registry.values() for n in (*known.names, known.filename)}
    clash = sorted({*model.names, model.filename} & taken)
    if clash:
        raise ValueError(f"a shipped model called {clash[0]!r} is registered already")
    registry[model.key] = model
    return model


def shipped(name: str) -> ShippedModel | None:
    """The shipped model a name (`rdn`, `edsr-baseline.jpeg`, `edsr-baseline-jpeg`, `text`) or a weights
    file's name stands for; None for any other."""
    return next((m for m in SHIPPED.values() if name in (*m.names, m.filename)), None)


register(ShippedModel("rdn", PHOTO, "rdn-liif.safetensors", "LIIF-RDN (the paper's architecture, trained here)",
                      "LIIF-RDN (the paper's, sharper)"))
register(ShippedModel("edsr-baseline", PHOTO, "edsr-baseline-liif.safetensors",
                      "LIIF-EDSR-baseline (faster, less sharp)", "LIIF-EDSR-baseline (faster, softer)"))
register(ShippedModel("edsr-baseline", "jpeg", "edsr-baseline-jpeg-liif.safetensors",
                      "LIIF-EDSR-baseline for JPEG inputs (trained on compressed photos)", "LIIF-EDSR-baseline for JPEGs"))
# Continued from edsr-baseline on pictures of printed text (`python -m liif make-data text`). Like every
# shipped model it is offered only when its file is in weights/: without it the menu, the card and the
# "what it has seen" section go on without it, and `--model text` says the file is missing.
register(ShippedModel("edsr-baseline", "text", "edsr-baseline-text-liif.safetensors",
                      "LIIF-EDSR-baseline for text (trained on printed text)", "LIIF-EDSR-baseline for text", ("text",)))
# Continued from edsr-baseline with a critic (`python -m liif train --adversarial`): the same network
# trained to look real, not to be right on average. The page blends the two (liif/core/blend.py).
register(ShippedModel("edsr-baseline", "gan", "edsr-baseline-gan-liif.safetensors",
                      "LIIF-EDSR-baseline trained to look real (adversarial)", "LIIF-EDSR-baseline, sharp guess",
                      ("gan", "sharp")))
# Parameters the authors' EDSR state dict carries but never uses in its forward pass.
IGNORED_KEYS = ("encoder.sub_mean.", "encoder.add_mean.")


class WeightsError(Exception):
    pass


@dataclass
class LoadedModel:
    """A LIIF and what its weights file says about it, read once: where it came from, its format and
    its training record (with the records of the runs it continued). A model made in memory has none."""

    model: LIIF
    path: Path | None = None
    format: str = "in memory"  # "liif-zoom" (ours, .safetensors) or "authors-pth"
    metadata: dict = field(default_factory=dict)  # the file's raw metadata, strings as stored
    training: dict | None = None  # the training record: steps, hardware, wall_seconds, n_train_images...

    @property
    def config(self) -> LIIFConfig:
        return self.model.config

    @property
    def lineage(self) -> list:
        """The training records of this file and of every run it continued, oldest first."""
        if self.format == "authors-pth":
            return [{"source": f"the LIIF authors' checkpoint {self.path.name}"}]
        if self.training is None:
            return [{"source": f"{self.path.name if self.path else 'this model'} (no training record)"}]
        record = dict(self.training)
        return [*record.pop("lineage", []), record]


def training_record(metadata: dict) -> dict | None:
    """The `training` entry of a weights file's metadata, parsed; None when absent or unreadable (an
    unreadable record is left out rather than guessed at)."""
    raw = metadata.get("training")
    if not raw:
        return None
    try:
        record = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except (TypeError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def default_weights_path() -> Path:
    for model in SHIPPED.values():
        if (WEIGHTS_DIR / model.filename).is_file():
            return WEIGHTS_DIR / model.filename
    shipped = sorted(WEIGHTS_DIR.glob("*.safetensors"))
    if shipped:
        return shipped[0]
    raise WeightsError(
        f"no trained weights found in {WEIGHTS_DIR}. Train a model with "
        "`python -m liif train --data ../shared/data/train/natural --export weights/edsr-baseline-liif.safetensors` "
        "or pass --model PATH (a .safetensors file of ours or the authors' .pth checkpoint)."
    )


def list_shipped() -> list:
    return sorted(WEIGHTS_DIR.glob("*.safetensors"))


def resolve_weights(model=None) -> Path:
    """A weights file from `--model`'s value: None (the default), a shipped model's name (`rdn`,
    `edsr-baseline.text`, `edsr-baseline-text` or its alias `text`: `shipped`) or a path."""
    if model is None:
        return default_weights_path()
    entry = shipped(str(model))
    if entry is None or str(model) == entry.filename:
        return Path(model)
    path = WEIGHTS_DIR / entry.filename
    if not path.is_file():
        called = f"{entry.name} (--model {model})" if str(model) != entry.name else entry.name
        raise WeightsError(f"the {called} model is not shipped here: {path} is missing")
    return path


def display_label(path) -> str:
    """The page's name for a weights file: the shipped model's menu label, else the file's name."""
    path = Path(path)
    entry = shipped(path.name) if path.resolve().parent == WEIGHTS_DIR else None
    return entry.menu_label if entry is not None else path.name


def save_weights(model: LIIF, path, dtype=torch.float16, extra_metadata: dict | None = None) -> Path:
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
    metadata = {"format": "liif-zoom", "config": json.dumps(model.config.to_dict()), "residual": model.config.residual}
    for key, value in (extra_metadata or {}).items():
        metadata[key] = value if isinstance(value, str) else json.dumps(value)
    save_file(tensors, str(path), metadata=metadata)
    return path


def load_model(path=None, device="cpu") -> LIIF:
    """The LIIF network of a weights file (see `load_weights`), ready for `Upscaler` or training."""
    return load_weights(path, device).model


def load_weights(path=None, device="cpu") -> LoadedModel:
    """Build a LIIF from a weights file (ours or the authors'), or a shipped model's name (`rdn`,
    `edsr-baseline`); the default is the shipped default model."""
    path = resolve_weights(path)
    if not path.exists():
        raise WeightsError(f"{path}: no such weights file")
    if not path.is_file():
        raise WeightsError(f"{path}: not a file")
    if path.suffix == ".safetensors":
        config, state, metadata = _read_safetensors(path)
    elif path.suffix in (".pth", ".pt"):
        config, state = _read_authors_checkpoint(path)
        metadata = {"format": "authors-pth"}
    else:
        raise WeightsError(f"{path}: unknown weights format {path.suffix!r} (expected .safetensors or .pth)")
    model = LIIF(config)
    state = {k: v for k, v in state.items() if not k.startswith(IGNORED_KEYS)}
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise WeightsError(
            f"{path}: does not match a LIIF with encoder {config.encoder!r}: "
            f"{len(missing)} missing parameters (e.g. {missing[:2]}), {len(unexpected)} unexpected (e.g. {unexpected[:2]})"
        )
    for key, value in state.items():
        if value.shape != expected[key].shape:
            raise WeightsError(f"{path}: parameter {key} has shape {tuple(value.shape)}, expected {tuple(expected[key].shape)}")
    _refuse_non_finite(path, state)
    model.load_state_dict({k: v.float() for k, v in state.items()})
    return LoadedModel(model.to(device).eval(), path, metadata.get("format", "liif-zoom"), metadata,
                       training_record(metadata))


def _refuse_non_finite(path: Path, state: dict) -> None:
    """A file can parse and still hold garbage (a training run that diverged, a bit flip): NaN or Inf
    parameters turn every output black without an error, so they are refused here with one line."""
    for key, value in state.items():
        if value.is_floating_point() and not torch.isfinite(value).all():
            bad = int((~torch.isfinite(value)).sum())
            raise WeightsError(f"{path}: parameter {key} holds {bad} non-finite values (NaN or Inf) of {value.numel()}; "
                               "these weights would give a black picture (a training run that diverged?)")


def read_metadata(path) -> dict:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


def _read_safetensors(path: Path):
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        metadata = read_metadata(path)
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file (truncated or corrupt?): {exc}") from None
    if "config" not in metadata:
        raise WeightsError(f"{path}: safetensors file has no 'config' in its metadata; it was not written by liif")
    try:
        config = json.loads(metadata["config"])
        if "residual" in metadata:
            config["residual"] = metadata["residual"]
        return LIIFConfig(**config), state, metadata
    except (ValueError, TypeError) as exc:
        raise WeightsError(f"{path}: unreadable config in metadata: {exc}") from None


def _read_authors_checkpoint(path: Path):
    try:
        checkpoint = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for truncated or foreign files
        raise WeightsError(f"{path}: not a readable PyTorch checkpoint (truncated or corrupt?): {exc}") from None
    try:
        spec = checkpoint["model"]
        args = spec["args"]
        state = spec["sd"]
        encoder = args["encoder_spec"]["name"]
    except (KeyError, TypeError):
        raise WeightsError(f"{path}: not a LIIF checkpoint (expected {{'model': {{'name', 'args', 'sd'}}}})") from None
    if spec.get("name") != "liif":
        raise WeightsError(f"{path}: checkpoint holds model {spec.get('name')!r}, not 'liif'")
    hidden = args.get("imnet_spec", {}).get("args", {}).get("hidden_list", [256, 256, 256, 256])
    config = LIIFConfig(
        encoder=encoder,
        feat_unfold=args.get("feat_unfold", True),
        local_ensemble=args.get("local_ensemble", True),
        cell_decode=args.get("cell_decode", True),
        residual="none",  # the authors' models are the paper's LIIF
        hidden=list(hidden),
    )
    return config, state
