"""Network interpolation (Wang et al., ESRGAN, 2018): one model between two trainings of the same network.

    between = blend(average, sharp, 0.3)     # 30% of the way from the L1 model to the adversarial one

Both models share an architecture and a starting point (the adversarial one was fine-tuned from the L1
one), so every weight has a counterpart and a weighted mean of the two weight sets is itself a model: one
render costs what a render of either costs. At 0 it is the average-minded model, at 1 the sharp guesser,
and in between its invented detail grows with the weight (tests/test_sharp.py measures that).
"""

from pathlib import Path

import torch

from liif.core.model import LIIF


def blend(average: LIIF, sharp: LIIF, weight: float) -> LIIF:
    """A new LIIF whose floating-point weights are (1 - weight) * average's + weight * sharp's."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"a blend weight is between 0 and 1, not {weight}")
    if average.config != sharp.config:
        raise ValueError(f"only two trainings of one architecture blend: {average.config} vs {sharp.config}")
    model = LIIF(average.config)
    a, b = average.state_dict(), sharp.state_dict()
    with torch.no_grad():
        mixed = {key: torch.lerp(a[key].float(), b[key].float(), weight).to(a[key].dtype)
                 if a[key].is_floating_point() else a[key] for key in a}
    model.load_state_dict(mixed)
    return model.to(next(average.parameters()).device).eval()


def twin_path(sharp_path, training: dict | None, weights_dir) -> Path | None:
    """The weights file a sharp model was fine-tuned from (`init` in its training record), looked for
    beside it and in `weights_dir`; None when the record names none or the file is not there."""
    init = (training or {}).get("init")
    if not init:
        return None
    for folder in (Path(sharp_path).parent, Path(weights_dir)):
        candidate = folder / Path(str(init)).name
        if candidate.is_file() and candidate.resolve() != Path(sharp_path).resolve():
            return candidate
    return None
