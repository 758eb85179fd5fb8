"""Which one is real? The check's real photo among sharp pictures that all shrink back to the same tiny input.

    from liif.lessons import check, guess, originals
    result = check.check(engine, originals.original_path("astronaut"), scale=8)
    game = guess.guess(result)            # no model run: the check's own LIIF render is reused
    game.letters, game.labels()           # ["A", "B", ...], shuffled, what each one is hidden
    guess.reveal(game, "C"), game.markdown("C"), game.labels(revealed=True, guess="C"), game.summary()

The candidates are the answers lesson's (liif/lessons/answers.py), made for the check's tiny input with the
check's own LIIF render and its real photo: the real photo (unchanged: the tiny input was shrunk from it),
LIIF's answer (as the model drew it, not adjusted) and the sharp pictures made to fit it by back-projection
(detail from a donor photo, LIIF's render plus grain, a completely different picture). Each is measured
against the tiny input (its shrink, rounded to 8 bits: the largest and mean |difference| and its PSNR) and
against the real photo (PSNR-Y with `scale` pixels shaved per border, as the check measures, and the
largest |difference| at any pixel and channel, borders included). Every number is of the 8-bit picture shown.

The order is `order(tiny, scale, n)`: `np.random.default_rng(seed).permutation(n)` with seed =
`answers.picture_seed(tiny, scale)`, the first 48 bits of the SHA-256 of the tiny input's shape, the scale
and its pixels' bytes. The same tiny input at the same scale always gives the same order (a run can be
repeated, and a visitor cannot reshuffle by asking again); another input almost always gives another one.
"""

import time
from dataclasses import dataclass

import numpy as np

from liif.core import fmt
from liif.evaluation.faces import count_faces
from liif.lessons import answers, check
from liif.lessons.answers_fit import GOAL_LEVELS, OPERATOR
from liif.lessons.answers_sheet import db, levels, span, within_levels
from liif.render import imageio

LETTERS = "ABCDEFGH"  # the neutral labels, in the order shown
GAME_LEAVES_OUT = ("guess-fit", "different")  # when the sharp guess plays (see from_answers)


@dataclass
class Entry(answers.Candidate):
    """One picture of the game: a candidate of the answers (measured against the tiny input and the real
    photo, on the 8-bit picture shown) under its neutral letter."""

    letter: str = ""
    max_levels_to_real: int = 0  # max |picture - real photo| at any pixel and channel
    mean_levels_to_real: float = 0.0

    @property
    def identity(self) -> str:
        """What it is, in words: the answers' label ("the real photo", "LIIF (the average)", ...)."""
        return self.label

    @property
    def is_real(self) -> bool:
        return self.kind == "real"

    def distance(self) -> str:
        """Its distance to the real photo, short: "identical" or "24.3 dB"."""
        return db(self.psnr_to_real_db, exact="identical")

    def summary(self) -> dict:
        return {
            "letter": self.letter, "kind": self.kind, "identity": self.identity, "how": self.how,
            "max_abs_levels": self.max_abs_levels, "mean_abs_levels": self.mean_abs_levels,
            "consistency_psnr_db": answers.finite(self.consistency_psnr_db),
            "psnr_to_real_db": answers.finite(self.psnr_to_real_db),
            "max_levels_to_real": self.max_levels_to_real, "mean_levels_to_real": self.mean_levels_to_real,
        }


@dataclass
class Guess:
    scale: int
    tiny: np.ndarray  # (h, w, 3) uint8: the input every picture shrinks back to
    entries: list  # of Entry, in the shuffled order, lettered A, B, C...
    seed: int  # answers.picture_seed(tiny, scale): the order's
    seconds: float = 0.0  # making the pictures (the donor search and the back-projections; no model run)
    operator: str = OPERATOR
    faces: int = 0  # frontal faces OpenCV's cascade finds in the tiny input (the reveal's words)

    @property
    def letters(self) -> list:
        return [e.letter for e in self.entries]

    @property
    def real(self) -> Entry:
        return next(e for e in self.entries if e.is_real)

    def entry(self, letter) -> Entry:
        """The picture with that letter; an unknown letter is one sentence (ImageInputError)."""
        found = next((e for e in self.entries if e.letter == str(letter or "").strip().upper()), None)
        if found is None:
            raise imageio.ImageInputError(
                f"there is no picture {letter!r} to guess; choose one of {', '.join(self.letters)}")
        return found

    def kind(self, kind: str) -> Entry | None:
        return next((e for e in self.entries if e.kind == kind), None)

    def labels(self, revealed: bool = False, guess: str | None = None) -> list:
        """Each picture's label: its letter alone before the guess; after it, what it is and how far it is from
        the real photo (PSNR-Y), the visitor's own pick marked."""
        if not revealed:
            return list(self.letters)
        picked = self.entry(guess).letter if guess else None
        return [f"{e.letter}: {e.identity}, {e.distance()}" + (" (your guess)" if e.letter == picked else "")
                for e in self.entries]

    def question(self) -> str:
        """What the visitor is asked, before the guess: no identities, no numbers that would give one away."""
        h, w = self.tiny.shape[:2]
        made = len([e for e in self.entries if e.kind not in ("real", "liif", "guess")])
        drawn = (", one was drawn by the same network trained to look real (the sharp guess)"
                 if self.kind("guess") is not None else "")
        return (f"**Which one is real?** One of these {len(self.entries)} pictures ({', '.join(self.letters)}) is "
                f"the real photo the {fmt.size(w, h)} tiny input was shrunk from; one is LIIF's answer{drawn}, and "
                f"{made} were made here by back-projection to shrink back ×{self.scale} to that "
                "same tiny input. Click the one you think is real, or choose its letter and press Reveal. "
                f"(Made in {fmt.seconds(self.seconds)} from the check's own pictures"
                + (" and the sharp guess's drawing" if drawn else "") + ": LIIF did not run again.)")

    def markdown(self, guess) -> str:
        """The reveal's sentences and every picture's numbers, for the page and the command line."""
        rows = ["| picture | what it is | shrinks back to the tiny input: max, PSNR | to the real photo: PSNR-Y, max |",
                "| --- | --- | --- | --- |"]
        picked = self.entry(guess).letter
        for e in self.entries:
            name = f"**{e.letter}** (your guess)" if e.letter == picked else e.letter
            rows.append(f"| {name} | {e.identity} | {levels(e.max_abs_levels)}, {db(e.consistency_psnr_db)} | "
                        f"{e.distance()}, {levels(e.max_levels_to_real)} |")
        how = "\n".join(f"- *{e.letter}, {e.identity}*: {e.how}" for e in self.entries)
        return "\n\n".join(["\n".join(f"- {s}" for s in reveal(self, guess)), "\n".join(rows), how])

    def summary(self) -> dict:
        """The JSON description: the order, the real one's letter and every picture's numbers (a PSNR of null:
        exact, or identical)."""
        return {"seed": self.seed, "scale": self.scale, "real": self.real.letter, "operator": self.operator,
                "goal_levels": GOAL_LEVELS, "seconds": self.seconds,
                "candidates": [e.summary() for e in self.entries]}


# -- the game --------------------------------------------------------------------------------------


def guess(result, donors=None, sharp=None) -> Guess:
    """The game for a plain check (`check.check`'s result): its real photo, its LIIF render and the answers'
    sharp pictures for its tiny input, shuffled by `order`. The model is not run again. `donors`: as in
    `answers.answers` (default: every shipped original but the one checked). A JPEG check (whose tiny input
    the real photo does not shrink to) is refused with one sentence. `sharp`: the render of the model trained to
    look real at the real photo's size (lessons/sharp.guess_picture), added as drawn and made to fit."""
    if not isinstance(result, check.Check):
        raise imageio.ImageInputError(
            "the guessing game takes the plain check: with a JPEG the real photo no longer shrinks back to the "
            "tiny input")
    start = time.perf_counter()
    found = answers.answers(None, result.tiny, result.scale, real=result.real, liif=result.liif, donors=donors,
                            name=result.name, model_name=result.model_name, sharp=sharp)
    game = from_answers(found, result.real)
    game.seconds = time.perf_counter() - start
    return game


def from_answers(found: answers.Answers, real: np.ndarray) -> Guess:
    """The game from an answers run that had the real photo: every candidate, shuffled and lettered, measured
    against `real`. The real photo must be among them unchanged."""
    shown = found.candidate("real")
    if shown is None or not np.array_equal(shown.picture, real):
        raise imageio.ImageInputError(
            "the real photo does not shrink back to the tiny input within "
            f"{levels(GOAL_LEVELS)}, so it cannot be shown unchanged among the answers")
    # With a sharp guess the game shows it as drawn, and leaves out its made-to-fit twin (nearly the same
    # picture) and the completely different picture (no one takes it for the photo): five pictures again.
    shown = [c for c in found.candidates
             if found.candidate("guess") is None or c.kind not in GAME_LEAVES_OUT]
    if len(shown) > len(LETTERS):
        raise ValueError(f"at most {len(LETTERS)} pictures, not {len(shown)}")
    real = np.asarray(real)
    entries = []
    for letter, i in zip(LETTERS, order(found.tiny, found.scale, len(shown))):
        c = shown[i]
        off = np.abs(c.picture.astype(np.int16) - real.astype(np.int16))
        entries.append(Entry(**vars(c), letter=letter, max_levels_to_real=int(off.max()),
                             mean_levels_to_real=float(off.mean())))
    return Guess(scale=found.scale, tiny=found.tiny, entries=entries, seed=answers.picture_seed(found.tiny, found.scale),
                 seconds=found.seconds, operator=found.operator, faces=count_faces(found.tiny))


def order(tiny: np.ndarray, scale: int, n: int) -> list:
    """The shown order of n pictures (indices): drawn from the tiny input's pixels and the scale alone."""
    return [int(i) for i in np.random.default_rng(answers.picture_seed(tiny, scale)).permutation(n)]


# -- the reveal's words ----------------------------------------------------------------------------


def reveal(game: Guess, guess) -> list:
    """Sentences for the visitor's guess (a letter), each from this game's own numbers: right or wrong, how close
    each picture is to the real photo, and how exactly each one shrinks back to the tiny input."""
    picked, real = game.entry(guess), game.real
    others = sorted((e for e in game.entries if not e.is_real), key=lambda e: -e.psnr_to_real_db)
    if picked.is_real:
        sentences = [f"**Right: {picked.letter} is the real photo.**" + (
            f" Of the others, {others[0].letter} ({others[0].identity}) comes closest to it, "
            f"{others[0].distance()} PSNR-Y." if others else "")]
    else:
        rank = 1 + sum(e.psnr_to_real_db > picked.psnr_to_real_db for e in others)
        place = "the closest" if rank == 1 else f"only the {_ordinal(rank)} closest"
        sentences = [
            f"**Not this one: {picked.letter} is {picked.identity}**, {picked.distance()} from the real photo (PSNR-Y), "
            f"up to {levels(picked.max_levels_to_real)} off at some pixel. The real photo is **{real.letter}**. Of "
            f"the {len(others)} pictures that are not the real one, yours is {place} to it."]
    listing = "; ".join(f"{e.letter}, {e.identity}: {e.distance()}" for e in [real, *others])
    sentences.append(f"**How close each one is** to the real photo (PSNR-Y, higher is closer): {listing}.")
    sentences.append(_cannot_tell(game))
    drawn = game.kind("guess")
    if drawn is not None:
        face = "faces" if game.faces else "photos"
        sentences.append(
            f"**What you decided with.** Not the tiny input: every picture gives it back. You judged which one looks "
            f"like a real photo, from what you know {face} look like. The sharp guess ({drawn.letter}) was drawn the "
            f"same way, from what the model learned {face} look like in its training photos: that is what makes it "
            f"convincing, and it is {drawn.distance()} from the real photo"
            + (f", against {game.kind('liif').distance()} for LIIF's average." if game.kind("liif") else "."))
    liif = game.kind("liif")
    sharp = [e for e in others if e.kind != "liif"]
    if liif is not None and sharp:
        if all(liif.psnr_to_real_db > e.psnr_to_real_db for e in sharp):
            sentences.append(
                f"**Sharp is not closer.** {liif.letter}, LIIF's soft answer, is nearer the real photo than every "
                f"sharp picture that fits ({liif.distance()}, against {span([e.psnr_to_real_db for e in sharp])} dB): "
                "detail drawn in the wrong place is further from the truth than a soft average.")
        else:
            best = max(sharp, key=lambda e: e.psnr_to_real_db)
            sentences.append(
                f"**{best.letter}** ({best.identity}) is nearer the real photo than LIIF's answer {liif.letter} here "
                f"({best.distance()} against {liif.distance()}): the tiny input allowed it, but nothing in it "
                "could have said that this one was right.")
    return sentences


def _cannot_tell(game: Guess) -> str:
    """How exactly each picture shrinks back to the tiny input, and what that means for telling them apart."""
    h, w = game.tiny.shape[:2]
    real, liif, drawn = game.real, game.kind("liif"), game.kind("guess")
    sharp = [e for e in game.entries if e.kind not in ("liif", "guess")]  # the models' drawings are not adjusted
    worst = max(e.max_abs_levels for e in sharp)
    alike = sharp + ([liif] if liif is not None and liif.max_abs_levels <= worst else [])
    who = f"all {len(alike)}" if len(alike) == len(game.entries) else ", ".join(
        e.letter for e in game.entries if e in alike)
    head = ("**The tiny input cannot tell them apart.**" if worst <= GOAL_LEVELS
            else "**The tiny input hardly tells them apart.**")
    text = (f"{head} Shrunk ×{game.scale} with the {game.operator} (how the model's training inputs were made) and "
            f"rounded to 8 bits, {who} give back the same {fmt.size(w, h)} tiny input {_within(worst)} at "
            f"every pixel (the real photo {within_levels(real.max_abs_levels)}): from the tiny input alone nothing "
            f"marks the real one out, since what tells them apart is finer than one of its pixels.")
    if liif is not None and liif not in alike:
        text += (f" LIIF's answer ({liif.letter}), as the model drew it and not adjusted, gives it back only "
                 f"{within_levels(liif.max_abs_levels)} ({liif.mean_abs_levels:.2f} on average).")
    if drawn is not None:
        text += (f" The sharp guess ({drawn.letter}), as drawn, gives it back {within_levels(drawn.max_abs_levels)} "
                 f"({drawn.mean_abs_levels:.2f} on average).")
    return text


# -- helpers ---------------------------------------------------------------------------------------


def _within(n: int) -> str:
    return "exactly" if n == 0 else f"to within {levels(n)} of 255"


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"

