"""The shipped photos whose originals we have: the check compares against them, the examples are cut from them.

assets/make_examples.py cuts the examples from ../shared/assets-src (terms in assets/README.md); an
example file named "<key>-<size>.png" is a reduction of the original <key>.
"""

from dataclasses import dataclass
from pathlib import Path

from liif.render.imageio import ImageInputError

ORIGINALS_DIR = Path(__file__).resolve().parents[2] / "assets" / "originals"


@dataclass(frozen=True)
class Original:
    key: str
    file: str
    label: str  # what the page's menu says
    credit: str  # who made it, and its terms
    focus: tuple = (0.5, 0.5)  # where the magnifier starts (the face), as fractions of width and height
    donor: bool = True  # lends its detail to the many-answers step (liif/lessons/answers_donors.py)
    face: bool = False  # a portrait: the donor a face is given, so one sharp candidate is a plausible face


# The shipped examples' originals (assets/make_examples.py cuts them from ../shared/assets-src; terms in
# assets/README.md). An example file named "<key>-<size>.png" is a reduction of the original <key>.
ORIGINALS = {
    o.key: o for o in (
        # The focus is the centre of the example's crop box (assets/make_examples.py) in the original.
        Original("astronaut", "astronaut.jpg", "Astronaut Eileen Collins", "NASA, public domain", (0.44, 0.2),
                 face=True),
        Original("grace-hopper", "grace-hopper.jpg", "Grace Hopper", "US Navy, public domain", (0.51, 0.36),
                 face=True),
        Original("cat", "cat.jpg", "Chelsea the cat", "Stefan van der Walt, CC0", (0.49, 0.5)),
        Original("coffee", "coffee.jpg", "A cup of coffee", "Rachel Michetti, CC0", (0.51, 0.39)),
        # A regular structure: the launch site's lattice towers (the magnifier starts on the left one). No
        # donor: a night sky holds little fine detail to lend, so a picture made from it stays near LIIF's.
        Original("rocket", "rocket.jpg", "Launch towers", "SpaceX, public domain", (0.1, 0.45), donor=False),
    )
}


@dataclass(frozen=True)
class Generated(Original):
    """A picture our text generator (liif/training/text_pictures.py) drew: picture `picture` of seed `seed`."""

    seed: int = 0
    picture: int = 0


# Pictures of printed text that assets/make_examples.py draws with the text generator from a fixed seed (no
# photo, no terms beyond the DejaVu fonts'), with their tiny versions in assets/seen/. Kept apart from
# ORIGINALS, the photos, so the check's menu and the answers' donors stay photos; the "what it has seen"
# section (liif/lessons/seen.py) uses both.
GENERATED = {
    o.key: o for o in (
        Generated("sign", "sign.png", "A printed sign", "drawn here by our text generator; DejaVu fonts",
                  (0.5, 0.5), seed=2026, picture=4),
    )
}
SEEN_DIR = ORIGINALS_DIR.parent / "seen"


def original_path(key: str) -> Path:
    if key not in ORIGINALS:
        raise ImageInputError(f"there is no shipped photo called {key!r}; choose one of {', '.join(ORIGINALS)}")
    return ORIGINALS_DIR / ORIGINALS[key].file


def original_for(path) -> str | None:
    """The shipped original of an example file ("astronaut-64.png" -> "astronaut"), or None."""
    if path is None:
        return None
    stem = Path(str(path)).stem
    return next((key for key in ORIGINALS if stem == key or stem.startswith(key + "-")), None)


def named(photo) -> str | None:
    """The shipped photo that `photo` names (its key, or the path of its own file): its key; else None."""
    original = known(photo)
    return original.key if original is not None and original.key in ORIGINALS else None


def shipped_focus(source) -> tuple:
    """A shipped picture's focus; the middle for any other."""
    original = known(source)
    return original.focus if original is not None else (0.5, 0.5)


def known(source) -> Original | None:
    """The shipped photo or generated picture that `source` names (its key, or its file), else None."""
    if isinstance(source, str) and source in {**ORIGINALS, **GENERATED}:
        return {**ORIGINALS, **GENERATED}[source]
    if isinstance(source, (str, Path)):
        try:
            resolved = Path(source).resolve()
        except (OSError, ValueError):
            return None
        return next((o for o in [*ORIGINALS.values(), *GENERATED.values()]
                     if resolved == (ORIGINALS_DIR / o.file).resolve()), None)
    return None


def known_path(key: str) -> Path:
    """The file of a shipped photo or of a generated picture, by its key."""
    if key in GENERATED:
        return ORIGINALS_DIR / GENERATED[key].file
    return original_path(key)
