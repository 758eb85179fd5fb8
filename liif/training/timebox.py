"""The time box (`train --minutes M`): a run that plans its own length so it ends, validated and
exported, M minutes after it started.

`TimeKeeper` times one training session's steps after a warm-up, says when enough are measured (the loop
then validates, checkpoints and plans), and afterwards shortens the plan whenever the run has slowed down
(a busy machine, throttling), never lengthening it.
"""

import time

from liif.render.engine import synchronize

# Steps are timed from SKIP steps after the session's first (compilation, kernel selection and the first
# allocations are over by then) for MEASURE steps, or fewer if they take more than MEASURE_SHARE of the
# budget. MARGIN: a share of the whole budget kept for jitter.
SKIP, MEASURE, MEASURE_SHARE, MARGIN = 5, 20, 0.1, 0.05


class TimeKeeper:
    """The time box of `minutes` from `start` (a time.perf_counter() value) over one session of a run that
    starts at step `first_step`."""

    def __init__(self, minutes: float, start: float, first_step: int, device):
        self.budget, self.end = minutes * 60, start + minutes * 60
        self.first_step, self.device = first_step, device
        self.measure_start = None
        self.planned = None  # (val_seconds, ckpt_seconds, step, time) once the plan is made
        self.paused = 0.0  # seconds in validations and checkpoints since the plan

    def measured(self, step: int):
        """After step `step` while measuring: (seconds per step, steps measured) once enough steps are
        timed, else None. The first SKIP steps of the session are not timed."""
        if step == self.first_step + SKIP:
            synchronize(self.device)
            self.measure_start = time.perf_counter()
        steps = step - self.first_step - SKIP
        if steps <= 0:
            return None
        seconds = time.perf_counter() - self.measure_start
        if steps < MEASURE and (steps < 3 or seconds < MEASURE_SHARE * self.budget):
            return None
        synchronize(self.device)
        return (time.perf_counter() - self.measure_start) / steps, steps

    def _steps(self, step: int, seconds_per_step: float, val_seconds: float, ckpt_seconds: float, cfg) -> int:
        """The total steps that end on time at this pace. The reserve covers the validations and checkpoints
        still to come, the final validation and the export, from what one of each took here."""
        left = self.end - time.perf_counter() - (val_seconds + 2 * ckpt_seconds + MARGIN * self.budget)
        per_step = seconds_per_step + val_seconds / cfg.val_every + ckpt_seconds / cfg.ckpt_every
        return step + max(1, int(left / per_step))

    def plan(self, step: int, seconds_per_step: float, val_seconds: float, ckpt_seconds: float, cfg) -> int:
        """The total steps that end the run on time; from now on the keeper watches the pace."""
        steps = self._steps(step, seconds_per_step, val_seconds, ckpt_seconds, cfg)
        self.planned = (val_seconds, ckpt_seconds, step, time.perf_counter())
        self.paused = 0.0
        return steps

    def pause(self, seconds: float) -> None:
        """Validations and checkpoints after the plan: `plan` counts them itself, the pace must not."""
        self.paused += seconds

    def shorter_plan(self, step: int, cfg) -> int | None:
        """A plan shorter than cfg.steps if the steps since planning ran slower than measured, else None."""
        val_seconds, ckpt_seconds, since_step, since = self.planned
        recent = (time.perf_counter() - since - self.paused) / (step - since_step)
        shorter = self._steps(step, recent, val_seconds, ckpt_seconds, cfg)
        return shorter if shorter < cfg.steps else None
