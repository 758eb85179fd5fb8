"""A visitor's wait for a run, as the page measures it and says it on the status line under Run.

    wait = Wait.since(clicked)        # clicked: when the click reached the page (click_in_turn's clock)
    ...                               # yield the first rows, then:  wait.rows_shown()
    ...                               # yield the last pictures, then: wait.all_shown()
    wait.done_words()                 # ", 19.9 s after you pressed Run (3.2 s of it ...); the first ..."

Why the moments are taken after a `yield`: Gradio resumes a handler's generator only once it has turned
the previous update into its message (the pictures encoded as PNG files) and sent it, so the moment the
generator resumes is when the visitor's browser was given those pictures. Times measured inside the
computation alone (session.Run.seconds_total) left out the queue, the loading of the model, the magnifier
and the encoding of a dozen pictures: a visitor who waited 20 s was told 4.
"""

import time
from dataclasses import dataclass

# Below this, the time between the click and the start is the page's own round trips, not a queue.
QUEUE_WORTH_SAYING = 0.5  # seconds


def now() -> float:
    """The page's clock for waits: monotonic, shared by the click's handler and the run's."""
    return time.monotonic()


def waiting_words(jobs: int) -> str:
    """What the status line says the moment Run is pressed, given the model jobs (any visitor's) now
    waiting or running. Gradio's own tracker draws the live place and seconds on the same line."""
    if jobs <= 0:
        return "**Starting** your run."
    ahead = "1 job is" if jobs == 1 else f"{jobs} jobs are"
    return (f"**Waiting for your turn**: the model works on one job at a time, and {ahead} waiting or running "
            "now. Below, live: your place in the queue and the seconds waited (of those expected).")


@dataclass
class Wait:
    """Moments of one run on the page's clock (`now()`): the click, the handler's start, the first LIIF
    rows and the last picture handed to the browser."""

    clicked: float
    started: float
    pressed: bool = True  # the wait began with the visitor's click on Run (not: a run the tour chained)
    first_rows: float | None = None
    last_picture: float | None = None

    @classmethod
    def since(cls, clicked: float | None) -> "Wait":
        """A wait that started at `clicked` (None: a run without its own click, which starts now)."""
        started = now()
        if clicked is None:
            return cls(clicked=started, started=started, pressed=False)
        return cls(clicked=min(clicked, started), started=started)

    @property
    def since_words(self) -> str:
        return "since you pressed Run" if self.pressed else "since it started"

    @property
    def queued_seconds(self) -> float:
        return self.started - self.clicked

    def seconds_so_far(self) -> float:
        return now() - self.clicked

    def rows_shown(self) -> None:
        """The first update with LIIF rows in it has been sent (later calls change nothing)."""
        if self.first_rows is None:
            self.first_rows = now()

    def all_shown(self) -> None:
        """The update with the last pictures has been sent."""
        self.last_picture = now()
        if self.first_rows is None:  # every row came at once, with the last pictures
            self.first_rows = self.last_picture

    def queue_words(self, words=" ({:.1f} s of it waiting for the model to be free)") -> str:
        """`words` with the seconds queued, or "" when there was no queue to speak of."""
        return words.format(self.queued_seconds) if self.queued_seconds >= QUEUE_WORTH_SAYING else ""

    def started_words(self, loading_model: bool) -> str:
        """The status line when the handler starts: how long the queue took, and what comes first."""
        queued = self.queue_words(" after {:.1f} s waiting for the model to be free")
        first = ("reading your photo, then loading this model and timing it (its first use since the server "
                 "started: this takes a few seconds)" if loading_model else "reading your photo")
        return f"**Started**{queued}: {first}."

    def done_words(self) -> str:
        """The Done line's times, once everything is shown: from the click to the last picture, and to the
        first LIIF rows."""
        if self.last_picture is None:
            raise ValueError("done_words before all_shown: the wait is not over")
        after = "after you pressed Run" if self.pressed else "after it started"
        return (f", {self.last_picture - self.clicked:.1f} s {after}{self.queue_words()}; "
                f"the first LIIF rows showed after {self.first_rows - self.clicked:.1f} s")
