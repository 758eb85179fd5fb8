"""The page's explanation of one run: what was asked, what the model did, and what it cannot do.

Pure functions of a run's facts and images, so every number on the page is unit-tested:

    facts = RunFacts(in_width=64, in_height=64, out_width=512, out_height=512, ...)
    explanation = explain(facts, feat, input_rgb, bicubic_rgb, liif_rgb)
    explanation.markdown()         # the whole text; .feature_image, .added_map, .consistency_image

The question it answers: "a tiny photo upscaled 8x looks like a new photo; where does the detail come
from?" The numbers that answer it are the share of output pixels that were observed (1/s²), what the
model added over plain interpolation (heat map), and whether it kept what was observed (shrink the
result back and compare with the input).
"""

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from liif import colormaps
from liif.metrics import psnr

# |LIIF - bicubic| at or above this many levels (of 255) is drawn at the colour map's brightest.
# Fixed, not per image, so two runs' heat maps can be compared by eye.
HEAT_FULL_SCALE = 32.0
# PSNR above which two 8-bit images are, for practical purposes, the same picture.
SAME_PICTURE_DB = 40.0
CLOSE_PICTURE_DB = 30.0

LIIF_ARXIV = "https://arxiv.org/abs/2012.09161"
LIIF_CODE = "https://github.com/yinboc/liif"
DA_FUSION_ARXIV = "https://arxiv.org/abs/2302.07944"
DA_FUSION_CODE = "https://github.com/brandontrabucco/da-fusion"
INSTANCE_AUG_ARXIV = "https://arxiv.org/abs/2406.08249"
INSTANCE_AUG_CODE = "https://github.com/KupynOrest/instance_augmentation"

ENCODER_DESCRIPTIONS = {
    "edsr-baseline": "EDSR-baseline, a 16-block convolutional network",
    "rdn": "RDN, a convolutional network of 16 densely connected blocks",
}


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


def shrink(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Antialiased bicubic reduction: how the training inputs were made from photos (liif/data.py)."""
    t = torch.from_numpy(np.array(rgb, dtype=np.float64)).permute(2, 0, 1)[None] / 255
    small = F.interpolate(t, size=(height, width), mode="bicubic", antialias=True, align_corners=False)
    return (small[0].clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()


def consistency(output_rgb: np.ndarray, input_rgb: np.ndarray):
    """Shrink the output back to the input's size and compare: (shrunk uint8, PSNR in dB)."""
    height, width = input_rgb.shape[:2]
    shrunk = shrink(output_rgb, width, height)
    return shrunk, float(psnr(shrunk, input_rgb))


def side_by_side(*images: np.ndarray, gap: int = 1) -> np.ndarray:
    """Same-height uint8 images in a row, separated by white columns."""
    height = images[0].shape[0]
    spacer = np.full((height, gap, 3), 255, np.uint8)
    parts = []
    for image in images:
        parts += [image, spacer]
    return np.concatenate(parts[:-1], axis=1)


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
        "consistency_psnr_db": liif_db,
        "bicubic_consistency_psnr_db": bicubic_db,
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


def scale_text(facts: RunFacts) -> str:
    sx, sy = facts.out_width / facts.in_width, facts.out_height / facts.in_height
    if math.isclose(sx, sy, rel_tol=0.01):
        return f"×{_number(sx)}"
    return f"×{_number(sx)} wide and ×{_number(sy)} tall"


def task_markdown(facts: RunFacts) -> str:
    return (
        "### 1. The task: single-image super-resolution, at any scale\n"
        f"From one small photo of {_size(facts.in_width, facts.in_height)}, make a larger one of "
        f"{_size(facts.out_width, facts.out_height)} ({scale_text(facts)}). The model gets this one picture "
        "and nothing else: no other photos of the same face, no camera burst. LIIF can answer at *any* "
        "scale (×2, ×8.5 or ×30 alike) because it treats a picture as a continuous surface it can ask about "
        "any point, not as a fixed grid of squares."
    )


def workflow_markdown(facts: RunFacts, numbers: dict) -> str:
    share = numbers["observed_share"]
    encoder = ENCODER_DESCRIPTIONS.get(facts.encoder, facts.encoder)
    if facts.encoder_reused:
        first = f" (it took {_seconds(facts.first_encoder_seconds)} the first time)" if facts.first_encoder_seconds else ""
        encoder_time = f"Reused from an earlier run on this same picture{first}, so it cost nothing this time."
    else:
        encoder_time = f"Took {_seconds(facts.encoder_seconds)}."
    neighbours = "the 4 nearest grid points" if facts.local_ensemble else "the nearest grid point"
    per_pixel = "× 4 neighbours" if facts.local_ensemble else "× 1 grid point"
    residual = (
        " Its answer is *added to* a plain bicubic estimate of that point: the network supplies only the "
        "difference, which is exactly the detail shown in the heat map below."
        if facts.residual == "bicubic" else ""
    )
    blend = " The four answers are blended, each weighted by how close its grid point is." if facts.local_ensemble else ""
    return (
        "### 2. Input → model → output\n"
        f"1. **Input**: {_size(facts.in_width, facts.in_height)}, {_count(facts.in_pixels)} pixels of three numbers "
        "each (red, green, blue).\n"
        f"2. **Encoder** ({encoder}) turns every input pixel into a list of {facts.feature_channels} numbers "
        "that describe its neighbourhood: edges, textures, what lies around it. The picture beside this text "
        f"shows that {facts.in_width}×{facts.in_height} grid of {facts.feature_channels}-number vectors squeezed "
        "to three numbers each (their first three principal components as red, green and blue): areas of the "
        f"same colour are areas the model describes alike. {encoder_time}\n"
        "3. **Implicit decoder**: a small neural network is asked, for each output pixel, *what colour is at "
        f"this exact point?* It is given the feature vectors of {neighbours}, where the point lies relative to "
        f"each, and how big the output pixel is.{blend}{residual} This run asked it "
        f"**{_count(numbers['queries'])} questions** ({_count(facts.out_pixels)} output pixels {per_pixel}), "
        f"in {_seconds(facts.decoder_seconds)}.\n"
        f"4. **Output**: {_size(facts.out_width, facts.out_height)}, {_count(facts.out_pixels)} pixels. "
        f"Only **{_percent(share)}** of them stand for something the camera recorded; the other "
        f"**{_percent(1 - share)}** are inferred.\n\n"
        f"Ran on **{facts.device}** in **{facts.precision}**"
        + (f" with the model `{facts.model_name}`." if facts.model_name else ".")
    )


def why_markdown(facts: RunFacts, numbers: dict, enlarged: bool = True) -> str:
    share = numbers["observed_share"]
    liif_db, bicubic_db = numbers["consistency_psnr_db"], numbers["bicubic_consistency_psnr_db"]
    if liif_db >= SAME_PICTURE_DB:
        verdict = "practically the same picture: the model kept what was observed and only added what shrinking throws away."
    elif liif_db >= CLOSE_PICTURE_DB:
        verdict = "close: the model mostly kept what was observed."
    else:
        verdict = ("noticeably different: this model changed what was observed. An untrained or unsuitable "
                   "model does this; a trained one should not.")
    inferred = (
        f"{_percent(1 - share)} of the output pixels were never observed. "
        if enlarged else "This run made the picture smaller, so nothing had to be invented. "
    )
    return (
        "### 3. Why it looks convincing, and what it cannot do\n"
        f"- **The detail comes from training photos, not from your photo.** {inferred}"
        "The model learned from many high-resolution photos how edges, hair, skin and fabric usually look "
        "when enlarged, and it paints the fine structure that *typically* goes with the coarse patterns it "
        "sees here. That is why the result looks like a photo: it is built from the statistics of real photos.\n"
        "- **Where many answers are possible, it stays smooth.** It was trained to make its average error "
        "small (an L1 loss). When many details would fit (the exact strands of hair, pores, the weave of a "
        "sweater), the answer with the smallest average error is a compromise between them, which looks "
        "smooth. Clear structures such as edges come out crisp; guesses come out soft.\n"
        "- **It cannot recover the true face.** Whatever was smaller than one input pixel (a freckle, the exact "
        "shape of an eye, a scar) is gone from the input; the model fills those places with what is likely, not "
        f"with what was there. A sharper face at {scale_text(facts)} shows a plausible face, not evidence of the real one.\n\n"
        f"**What was added** (heat map): |LIIF − bicubic| at every output pixel; black means no change, the "
        f"brightest colour {HEAT_FULL_SCALE:.0f} or more levels out of 255. On average the model moved each "
        f"colour by **{numbers['added_mean_levels']:.2f} levels** away from plain bicubic interpolation.\n\n"
        f"**Consistency check**: the LIIF output shrunk back to {_size(facts.in_width, facts.in_height)} "
        "(antialiased bicubic, as the training inputs were made) compared with your input: "
        f"**{_db(liif_db)}** PSNR, {verdict} (Plain bicubic, shrunk back the same way: {_db(bicubic_db)}.)"
    )


def sources_markdown() -> str:
    return (
        "### Papers and tools\n"
        f"- **LIIF**: Chen, Liu and Wang, *Learning Continuous Image Representation with Local Implicit "
        f"Image Function* ([arXiv:2012.09161]({LIIF_ARXIV}), [code]({LIIF_CODE})). The method this page runs: "
        "an encoder and a decoder that can be asked for the colour at any continuous coordinate, which is what "
        "makes any scale possible.\n"
        f"- **DA-Fusion**: Trabucco et al., *Effective Data Augmentation With Diffusion Models* "
        f"([arXiv:2302.07944]({DA_FUSION_ARXIV}), [code]({DA_FUSION_CODE})). A model knows only what its training "
        "data showed it; DA-Fusion widens a training set by having a text-to-image diffusion model make new "
        "variations of its images.\n"
        f"- **Instance-level augmentation**: Kupyn and Rupprecht, *Dataset Enhancement with Instance-Level "
        f"Augmentations* ([arXiv:2406.08249]({INSTANCE_AUG_ARXIV}), [code]({INSTANCE_AUG_CODE})). It widens "
        "training data too, by redrawing individual objects in existing photos with a diffusion model while "
        "keeping the scene's layout, so a model sees more varied examples of the same things."
    )


# -- formatting ------------------------------------------------------------------------------------


def _size(width: int, height: int) -> str:
    return f"{width}×{height}"


def _count(n: int) -> str:
    return f"{n:,}"


def _number(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _percent(fraction: float) -> str:
    percent = 100 * fraction
    if percent == 0 or percent >= 10:
        return f"{percent:.1f}%"
    return f"{percent:.2g}%" if percent < 1 else f"{percent:.2f}%"


def _seconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _db(value: float) -> str:
    return "∞ dB (identical)" if math.isinf(value) else f"{value:.1f} dB"
