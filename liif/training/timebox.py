"""The time box (`train --minutes M`): a run that plans its own length so it ends, validated and
exported, M minutes after it started.

`TimeBox` is the arithmetic; `TimeKeeper` applies it to one training session: it times the steps after a
warm-up, says when enough are measured (the loop then validates, checkpoints and plans), and afterwards
shortens the plan whenever the run has slowed down (a busy machine, throttling), never lengthening it.
"""

import time
from dataclasses import dataclass

from liif.training.trainer import synchronize


@dataclass
class TimeBox:
    """Plans a run's length from its own measured speed so that it ends `minutes` after `start`.

    Steps are timed from `skip` steps after the session's first (compilation, kernel selection and the
    first allocations are over by then) for `measure` steps, or fewer if they take more than
    `measure_share` of the budget; then `plan` fixes the total. The reserve covers the validations and
    checkpoints still to come, the final validation and the export, from what one of each took here.
    """

    minutes: float
    start: float
    skip: int = 5
    measure: int = 20
    measure_share: float = 0.1
    margin: float = 0.05  # of the whole budget, for jitter

    def plan(self, step: int, seconds_per_step: float, val_seconds: float, ckpt_seconds: float, cfg) -> int:
        left = self.start + self.minutes * 60 - time.perf_counter()
        left -= val_seconds + 2 * ckpt_seconds + self.margin * self.minutes * 60  # final validation, export
        per_step = seconds_per_step + val_seconds / cfg.val_every + ckpt_seconds / cfg.ckpt_every
        return step + max(1, int(left / per_step))

    def measured_enough(self, steps: int, seconds: float) -> bool:
        return steps >= self.measure or (steps >= 3 and seconds >= self.measure_share * self.minutes * 60)


class TimeKeeper:
    """The time box over one session of a run that starts at step `first_step`."""

    def __init__(self, box: TimeBox, first_step: int, device):
        self.box, self.first_step, self.device = box, first_step, device
        self.measure_start = None
        self.planned = None  # (val_seconds, ckpt_seconds, step, time) once the plan is made
        self.paused = 0.0  # seconds in validations and checkpoints since the plan

    def measured(self, step: int):
        """After step `step` while measuring: (seconds per step, steps measured) once enough steps are
        timed, else None. The first `skip` steps of the session are not timed."""
        if step == self.first_step + self.box.skip:
            synchronize(self.device)
            self.measure_start = time.perf_counter()
        steps = step - self.first_step - self.box.skip
        if steps <= 0 or not self.box.measured_enough(steps, time.perf_counter() - self.measure_start):
            return None
        synchronize(self.device)
        return (time.perf_counter() - self.measure_start) / steps, steps

    def plan(self, step: int, seconds_per_step: float, val_seconds: float, ckpt_seconds: float, cfg) -> int:
        """The total steps that end the run on time; from now on the keeper watches the pace."""
        steps = self.box.plan(step, seconds_per_step, val_seconds, ckpt_seconds, cfg)
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
        shorter = self.box.plan(step, recent, val_seconds, ckpt_seconds, cfg)
        return shorter if shorter < cfg.steps else None
