"""The page's explanation of one run: what was asked, what the model did, and what it cannot do.

Pure functions of a run's facts and images, so every number on the page is unit-tested:

    facts = RunFacts(in_width=64, in_height=64, out_width=512, out_height=512, ...)
    explanation = explain(facts, feat, input_rgb, bicubic_rgb, liif_rgb)
    explanation.markdown()         # the whole text; .feature_image, .added_map, .consistency_image

The question it answers: "a tiny photo upscaled 8x looks like a new photo; where does the detail come
from?" The answer sorts the output into what was observed (each input pixel is roughly the average of
an s x s block of the output), what was learned (how such structures look when sharp, from this model's
training photos, as its weights file records them) and what was invented (everything finer than one
input pixel, which an L1-trained model like this one fills with an average of what would fit). Its
pictures are what the model added over plain interpolation (heat map) and whether it kept what was
observed (shrink the result back and compare with the input).

Each section is a short paragraph to read at a glance, with its details folded (<details>).
"""

from dataclasses import dataclass, field

import numpy as np
import torch

from liif.core import encoders, fmt
from liif.evaluation.faces import count_faces
from liif.evaluation.metrics import psnr
from liif.lessons.explain_words import (
    EDGE_FRACTION,
    HEAT_FULL_SCALE,
    scale_text,
    why_markdown,
)
from liif.lessons.sources import sources_markdown
from liif.render import colormaps
from liif.render.pictures import shrink, side_by_side
from liif.render.precision import precision_words


@dataclass
class RunFacts:
    """What happened in one run, as the app measured it."""

    in_width: int
    in_height: int
    out_width: int
    out_height: int
    encoder_seconds: float  # time spent in the encoder during this run (about 0 when reused)
    decoder_seconds: float
    device: str = "cpu"
    precision: str = "fp32"
    model_name: str = ""
    encoder: str = "edsr-baseline"
    feature_channels: int = 64
    local_ensemble: bool = True
    residual: str = "bicubic"  # "bicubic": the decoder's term is added to a bicubic estimate
    encoder_reused: bool = False  # the features came from an earlier run on the same picture
    first_encoder_seconds: float | None = None  # what the encoder took when it did run
    # Counted from the model that ran (model_facts), so the text describes that model, not a typed one.
    encoder_blocks: int = 0
    block_convolutions: int = 0
    encoder_parameters: int = 0
    model_parameters: int = 0
    # The weights file's own record of its training (steps, hardware, wall_seconds, n_train_images), if any.
    training: dict | None = None
    weights_sha256: str = ""  # the start of the weights file's SHA-256
    jpeg_quality: int | None = None  # the photo is a JPEG of about this quality (from its tables)

    @property
    def in_pixels(self) -> int:
        return self.in_width * self.in_height

    @property
    def out_pixels(self) -> int:
        return self.out_width * self.out_height


@dataclass
class Explanation:
    task: str
    workflow: str
    why: str
    sources: str
    feature_image: np.ndarray  # (h, w, 3) uint8, one pixel per latent code
    added_map: np.ndarray  # (H, W, 3) uint8, the output's size
    consistency_image: np.ndarray  # input | LIIF shrunk back, side by side, input-sized each
    numbers: dict = field(default_factory=dict)

    def markdown(self) -> str:
        return "\n\n".join((self.task, self.workflow, self.why, self.sources))


# -- the numbers -----------------------------------------------------------------------------------


def observed_share(in_width: int, in_height: int, out_width: int, out_height: int) -> float:
    """The fraction of output pixels that stand for a pixel the camera recorded: 1/s² at scale s.

    At most 1: shrinking observes everything (and more).
    """
    return min(1.0, (in_width * in_height) / (out_width * out_height))


def query_count(out_width: int, out_height: int, local_ensemble: bool = True) -> int:
    """How many times the decoder was asked for a colour: once per output pixel and nearby latent code."""
    return out_width * out_height * (4 if local_ensemble else 1)


def feature_pca_image(feat: torch.Tensor) -> np.ndarray:
    """The latent grid (1, C, h, w) as an (h, w, 3) uint8 picture: its first three principal components
    as red, green and blue.

    The components are the eigenvectors of the C x C covariance of the codes (the same as an SVD of the
    centred codes, and exact, where torch.pca_lowrank is randomised). Each component's sign is fixed so
    the picture does not flip colours between runs, and its 1st-99th percentiles are stretched to 0-255.
    """
    _, c, h, w = feat.shape
    codes = feat[0].reshape(c, h * w).t().double()  # (N, C)
    centred = codes - codes.mean(0, keepdim=True)
    covariance = centred.t() @ centred / max(1, h * w - 1)
    _, vectors = torch.linalg.eigh(covariance)  # ascending eigenvalues
    top = vectors[:, -3:].flip(-1)  # (C, 3), largest first
    strongest = top.abs().argmax(0)
    signs = torch.sign(top[strongest, torch.arange(3)])
    top = top * torch.where(signs == 0, 1.0, signs)
    components = (centred @ top).numpy()  # (N, 3)
    lo = np.percentile(components, 1, axis=0)
    hi = np.percentile(components, 99, axis=0)
    span = np.where(hi - lo > 1e-12, hi - lo, 1.0)
    scaled = np.where(hi - lo > 1e-12, (components - lo) / span, 0.5)  # a flat grid shows as grey
    return np.round(np.clip(scaled, 0, 1) * 255).astype(np.uint8).reshape(h, w, 3)


def added_detail(liif_rgb: np.ndarray, bicubic_rgb: np.ndarray):
    """What the model changed over plain interpolation: (heat map uint8 (H, W, 3), mean |difference|
    in levels of 255, averaged over pixels and channels)."""
    if liif_rgb.shape != bicubic_rgb.shape:
        raise ValueError(f"shapes differ: {liif_rgb.shape} vs {bicubic_rgb.shape}")
    difference = np.abs(liif_rgb.astype(np.float64) - bicubic_rgb.astype(np.float64))
    per_pixel = difference.mean(axis=-1)
    return colormaps.sequential(per_pixel / HEAT_FULL_SCALE), float(difference.mean())


def added_on_edges(liif_rgb: np.ndarray, bicubic_rgb: np.ndarray, fraction: float = EDGE_FRACTION) -> float:
    """The share of |LIIF - bicubic| that lies on the `fraction` of output pixels where the bicubic
    picture (the photo's own content, enlarged) has its strongest edges. Around `fraction` when the added
    detail ignores the edges; near 1 when it all sits on them."""
    added = np.abs(liif_rgb.astype(np.float64) - bicubic_rgb.astype(np.float64)).mean(axis=-1)
    total = added.sum()
    if total == 0 or added.size < 2:
        return 0.0
    grey = bicubic_rgb.astype(np.float64).mean(axis=-1)
    dy, dx = np.gradient(grey) if min(grey.shape) > 1 else (np.zeros_like(grey), np.zeros_like(grey))
    strength = np.hypot(dx, dy).ravel()
    strongest = np.argsort(strength, kind="stable")[-max(1, round(fraction * strength.size)):]
    return float(added.ravel()[strongest].sum() / total)


def with_colour_bar(heat_map: np.ndarray) -> np.ndarray:
    """The heat map with its colour bar underneath, as wide as the map: what the colours mean."""
    width = heat_map.shape[1]
    bar = colormaps.colour_bar(colormaps.sequential, "0 levels: unchanged", f"{HEAT_FULL_SCALE:.0f}+ levels",
                               width=width)
    gap = np.full((4, width, 3), 255, np.uint8)
    return np.concatenate([heat_map, gap, bar], axis=0)


def consistency(output_rgb: np.ndarray, input_rgb: np.ndarray):
    """Shrink the output back to the input's size and compare: (shrunk uint8, PSNR in dB)."""
    height, width = input_rgb.shape[:2]
    shrunk = shrink(output_rgb, width, height)
    return shrunk, float(psnr(shrunk, input_rgb))


# -- the text --------------------------------------------------------------------------------------


def explain(facts: RunFacts, feat: torch.Tensor, input_rgb: np.ndarray, bicubic_rgb: np.ndarray,
            liif_rgb: np.ndarray) -> Explanation:
    """Everything the explanation panel shows for one run."""
    added_map, added_mean = added_detail(liif_rgb, bicubic_rgb)
    enlarged = facts.out_pixels >= facts.in_pixels
    shrunk, liif_db = consistency(liif_rgb, input_rgb)
    _, bicubic_db = consistency(bicubic_rgb, input_rgb)
    numbers = {
        "observed_share": observed_share(facts.in_width, facts.in_height, facts.out_width, facts.out_height),
        "queries": query_count(facts.out_width, facts.out_height, facts.local_ensemble),
        "added_mean_levels": added_mean,
        "added_on_edges_share": added_on_edges(liif_rgb, bicubic_rgb),
        "consistency_psnr_db": liif_db,
        "bicubic_consistency_psnr_db": bicubic_db,
        "faces": count_faces(input_rgb),
    }
    return Explanation(
        task=task_markdown(facts),
        workflow=workflow_markdown(facts, numbers),
        why=why_markdown(facts, numbers, enlarged),
        sources=sources_markdown(),
        feature_image=feature_pca_image(feat),
        added_map=added_map,
        consistency_image=side_by_side(input_rgb, shrunk),
        numbers=numbers,
    )


def model_facts(model, training: dict | None = None) -> dict:
    """What the explanation says about a model, counted from the model itself: its encoder's blocks and
    the convolutions in each, and parameter counts; `training` is its weights file's training record
    (`LoadedModel.training`)."""
    encoder = model.encoder
    blocks = list(getattr(encoder, "blocks", []))
    convolutions = sum(isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3) for m in blocks[0].modules()) if blocks else 0
    return {
        "encoder_blocks": len(blocks),
        "block_convolutions": convolutions,
        "encoder_parameters": sum(p.numel() for p in encoder.parameters()),
        "model_parameters": sum(p.numel() for p in model.parameters()),
        "training": training,
    }


def encoder_text(facts: RunFacts) -> str:
    """The encoder that ran, e.g. "RDN: 16 residual dense blocks of 8 convolutions, 22.0 M parameters"."""
    name = encoders.label(facts.encoder)
    if not facts.encoder_blocks:
        return name
    blocks = encoders.ENCODERS[facts.encoder].block_kind if facts.encoder in encoders.ENCODERS else "blocks"
    return (f"{name}: {facts.encoder_blocks} {blocks} of {facts.block_convolutions} convolutions each, "
            f"{fmt.millions(facts.encoder_parameters)} parameters")


def encoder_short(facts: RunFacts) -> str:
    """The encoder's name and size, e.g. "RDN, 22.0 M parameters"."""
    name = encoders.label(facts.encoder)
    return f"{name}, {fmt.millions(facts.encoder_parameters)} parameters" if facts.encoder_parameters else name


def task_markdown(facts: RunFacts) -> str:
    return (
        "### 1. The task: make a small photo larger\n"
        f"From one photo of {fmt.size(facts.in_width, facts.in_height)} pixels, make one of "
        f"{fmt.size(facts.out_width, facts.out_height)} ({scale_text(facts)}). The model gets this one picture and "
        "nothing else: no other photo of the same scene or person.\n\n"
        "<details><summary>Why any scale works</summary>\n\n"
        "LIIF treats a picture as a continuous surface that can be asked for the colour at any point, not as a "
        "fixed grid of squares. So ×2, ×8.5 or any width and height are the same question, asked at different "
        "points.\n\n</details>"
    )


def workflow_markdown(facts: RunFacts, numbers: dict) -> str:
    if facts.encoder_reused:
        first = f" (it took {fmt.seconds(facts.first_encoder_seconds)} the first time)" if facts.first_encoder_seconds else ""
        encoder_time = f"Reused from an earlier run on this same picture{first}, so it cost nothing this time."
    else:
        encoder_time = f"Took {fmt.seconds(facts.encoder_seconds)}."
    neighbours = "the 4 nearest grid points" if facts.local_ensemble else "the nearest grid point"
    per_pixel = "× 4 neighbours" if facts.local_ensemble else "× 1 grid point"
    residual = (
        " Its answer is *added to* a plain bicubic estimate of that point: the network supplies only the "
        "difference, which is the detail shown in the heat map of section 3. This bicubic residual is this "
        "project's change to LIIF, not part of the paper: a model trained briefly then starts from bicubic's "
        "quality instead of first having to learn to reproduce colours."
        if facts.residual == "bicubic" else ""
    )
    blend = " The four answers are blended, each weighted by how close its grid point is." if facts.local_ensemble else ""
    parameters = (f" The whole model has {fmt.millions(facts.model_parameters)} parameters."
                  if facts.model_parameters else "")
    weights = f"`{facts.model_name}`" if facts.model_name else "the model"
    digest = f" (SHA-256 {facts.weights_sha256[:12]})" if facts.weights_sha256 else ""
    return (
        "### 2. Input → model → output\n"
        f"An **encoder** ({encoder_short(facts)}) describes each of the {fmt.count(facts.in_pixels)} input pixels with "
        f"{facts.feature_channels} numbers; then a small **decoder** network is asked for the colour at each of "
        f"the {fmt.count(facts.out_pixels)} output pixels: **{fmt.count(numbers['queries'])} questions** in all.\n\n"
        "<details><summary>The steps, with this run's numbers</summary>\n\n"
        f"1. **Input**: {fmt.size(facts.in_width, facts.in_height)}, {fmt.count(facts.in_pixels)} pixels of three numbers "
        "each (red, green, blue).\n"
        f"2. **Encoder** ({encoder_text(facts)}) turns every input pixel into a list of {facts.feature_channels} "
        "numbers that describe its neighbourhood: edges, textures, what lies around it. The picture beside this "
        f"text shows that {facts.in_width}×{facts.in_height} grid squeezed to three numbers per pixel (the first "
        "three principal components as red, green and blue): areas of one colour are areas the model describes "
        f"alike. {encoder_time}\n"
        "3. **Implicit decoder**: a small neural network is asked, for each output pixel, *what colour is at "
        f"this exact point?* It is given the feature vectors of {neighbours}, where the point lies relative to "
        f"each, and how big the output pixel is.{blend}{residual} [Inside one pixel](#probe-section) (below) opens one "
        f"pixel of this run: {neighbours} on your input's pixels and on this feature grid, what the decoder was given "
        "and answered for each, and how that adds up to its colour. This run asked it "
        f"{fmt.count(numbers['queries'])} questions ({fmt.count(facts.out_pixels)} output pixels {per_pixel}), in "
        f"{fmt.seconds(facts.decoder_seconds)}.\n"
        f"4. **Output**: {fmt.size(facts.out_width, facts.out_height)}, {fmt.count(facts.out_pixels)} pixels.\n\n"
        f"Ran on **{facts.device}** in **{precision_words(facts.precision)}** with {weights}{digest}.{parameters}\n\n</details>"
    )
