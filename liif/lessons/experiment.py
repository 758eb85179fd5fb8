"""One experiment of the story as one spec, and the registry of them.

    from liif.lessons.experiment import Experiment, Field, Outcome, register
    register(Experiment("brightness", "A toy", "how bright the render is",
                        inputs=(Field("picture", "picture"), Field("scale", "float", 2.0)),
                        estimate=lambda speeds, v: ..., run=lambda models, v, progress: Outcome(...)))

An experiment says what it takes (typed `Field`s), which models it draws with (`Role`s: the visitor's model
unless it says more), what it will cost before it starts (`estimate`, from the models' measured `Speed`s and
the inputs, read from the picture's header only) and how it runs (`run`, with the models and the inputs,
returning one `Outcome`). Everything else is made from the spec, once:
the command line (`liif/cli/experiments.py`: `python -m liif <name>`), the page's guarded handler and its
public API endpoint (`liif/page/experiments.py`: the visitor's turn, the budget, the model's lock and the
one-sentence error). A new experiment is one module that registers its spec, plus its tests.
"""

import importlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from liif.render import imageio

# What a field holds: a picture (a file; the page's upload guard reads it), a number (with `choices`: one
# of them), a point (x, y), a choice among `choices`, words ("1920x1080", a folder), a yes/no switch, or the
# name of a file the command writes besides -o (always `cli_only`: the page shows its pictures instead).
KINDS = ("picture", "int", "float", "point", "choice", "text", "flag", "path")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    default: object = None
    help: str = ""
    choices: tuple = ()
    flag: str = ""  # the command line's option ("--centre"); default "--<name>". A picture is positional.
    cli_only: bool = False  # an option of the command only: the page and the API use the default
    label: str = ""  # its name on the endpoint (default: `name`) and, upper-cased, the command's metavar
    metavar: str = ""  # the command's name for the value ("N"), where it is not the label's
    required: bool = False  # the command needs the option
    # Fields with the same `one_of` are alternatives: the command takes exactly one of them (--scale | --size).
    one_of: str = ""
    # The command hands `run` the option's text as typed, for the lesson to read: a bad value is then the
    # lesson's own sentence (exit 2, one line), not argparse's usage.
    as_typed: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"field {self.name}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind == "path" and not self.cli_only:
            raise ValueError(f"field {self.name}: a file to write is an option of the command only (cli_only)")

    @property
    def option(self) -> str:
        return self.flag or f"--{self.name.replace('_', '-')}"


@dataclass
class Outcome:
    """What an experiment found, one shape for all: the numbers (JSON-ready), the words (Markdown, generated
    from the numbers), pictures with captions, and the file to download (a sheet or a movie)."""

    summary: dict
    markdown: str
    pictures: list = field(default_factory=list)  # (uint8 (h, w, 3) array, caption)
    file: Path | None = None
    line: str = ""  # what the command prints after "IN -> OUT": the file's contents in a few words
    result: object = None  # the lesson's own result, for a section that shows more than `pictures`
    text: str = ""  # what the command prints, where it is not the markdown without its emphasis
    lead: str = ""  # the one sentence for anyone that the page's step opens with, where it has one


@dataclass(frozen=True)
class Role:
    """One model a run draws with, and how the adaptors find it when their caller names none. `find`: ""
    the visitor's model (the page's menu; the command's --model, --blend and device options); "average" or
    "sharp", that half of the pair trained to look real (the shelf's pair; on the command line the model the
    sharp role's option names, edsr-baseline-gan by default, and the model its training started from); any
    other text, a model by name or tag, or find(found) -> a name from the roles found before it (seen: the
    text model's twin): the command loads it, the page's section names it from its shelf. A model the caller
    names is required."""

    name: str = "model"  # its key in run's `models` and estimate's speeds
    find: object = ""
    option: str = ""  # the command's option naming it (the visitor's model: --model)
    required: bool = True  # else None in `models` when it is not here
    help: str = ""
    metavar: str = ""
    when: Callable | None = None  # when(values): whether the run needs it (the check's JPEG model: with a quality)
    json_only: bool = False  # only for the command's --json (`more_json`'s numbers): the page never opens it


class Models(dict):
    """What `run` gets: role -> (label, Upscaler), or None for a model it does not get (optional and not here,
    or not needed for these values); `named`: the roles whose model the caller chose."""

    def __init__(self, found, named=()):
        super().__init__(found)
        self.named = frozenset(named)


@dataclass(frozen=True)
class Experiment:
    name: str  # the command (`python -m liif <name>`) and the API endpoint (`/<name>`)
    title: str  # the step of the story it belongs to, as the page says it
    noun: str  # what it makes, in a sentence: "a zoom movie" ("... of this 640×480 picture would take ...")
    help: str  # one line: what it shows (the command's help)
    description: str  # the command's description
    inputs: tuple  # Fields; at most one picture
    # estimate(speeds, values) -> seconds of model compute, from the picture's size only (values["picture"]
    # is a path or a LoadedImage) and the speed of each required role's model (role -> Speed); the page refuses
    # above its budget before anything is decoded.
    estimate: Callable
    # run(models, values, progress, out_path, speeds, max_seconds) -> Outcome. models: `Models`; progress(fraction,
    # text) or None; out_path: where to write the downloadable file (its suffix is `suffix`); with speeds and
    # max_seconds the run fits itself in that compute (or refuses with its own sentence).
    run: Callable
    suffix: str = ".png"
    # The command's file option: "required", "optional" or "none" (the experiment writes no file of its own);
    # its flags and help.
    output: str = "required"
    output_flags: tuple = ("-o", "--output")
    output_help: str = "the file to write"
    file_name: Callable | None = None  # file_name(values) -> the page's name for the file; "<name><suffix>"
    endpoint: bool = True  # False: no public API endpoint (the page's handler and the command only)
    endpoint_picture: bool = False  # the endpoint gives the file as a picture (gr.Image), not a gr.File
    # more_json(outcome, values, models) -> numbers the command's --json adds, from more model work than the
    # run's (the API's JSON stays the summary).
    more_json: Callable | None = None
    models: tuple = (Role(),)  # the models it draws with, by role
    # refusal(values, seconds, budget) -> why the page does not start it, in its own words (default: the
    # page's, which advises a smaller picture).
    refusal: Callable | None = None
    advice: str = ""  # what the page's refusal suggests instead of the shrink that would fit ("choose a smaller scale")
    # The page's budget is at least the renders of its floor (limits.budget_seconds: a 64×64 photo at ×8) by
    # these roles' models, one per render, so a small photo always runs however slow the machine; (): the
    # page's budget alone.
    floor: tuple = ()

    def __post_init__(self):
        if sum(f.kind == "picture" for f in self.inputs) > 1:
            raise ValueError(f"experiment {self.name}: one picture at most")

    def defaults(self) -> dict:
        return {f.name: f.default for f in self.inputs}


_REGISTRY: dict = {}
# The modules whose experiments ship with the page, in the order of the story.
SHIPPED = ("liif.lessons.sharp", "liif.lessons.answers", "liif.lessons.seen", "liif.lessons.check_experiment",
           "liif.lessons.probe", "liif.lessons.zoom", "liif.lessons.ladder")


def register(experiment: Experiment) -> Experiment:
    """Add an experiment to the story; a second one of the same name is refused (it would silently replace
    the first's command and endpoint)."""
    if experiment.name in _REGISTRY:
        raise ValueError(f"an experiment named {experiment.name!r} is already registered")
    _REGISTRY[experiment.name] = experiment
    return experiment


def unregister(name: str) -> None:
    """Take an experiment out again (a test's own experiment, once the test is done)."""
    _REGISTRY.pop(name, None)


def experiments() -> tuple:
    """Every registered experiment, in the order registered (the story's order)."""
    for module in SHIPPED:  # each registers its spec when first imported
        importlib.import_module(module)
    return tuple(_REGISTRY.values())


def experiment(name: str) -> Experiment:
    for found in experiments():
        if found.name == name:
            return found
    raise KeyError(name)


def picture_size(picture) -> tuple:
    """(width, height) of a field's picture, from the header alone when it is a file."""
    if isinstance(picture, imageio.LoadedImage):
        return picture.width, picture.height
    if isinstance(picture, np.ndarray):
        return picture.shape[1], picture.shape[0]
    return imageio.image_size(picture)


def too_much(what: str, width: int, height: int, cost: str, max_seconds: float, speed,
             advice: str = "") -> imageio.ImageInputError:
    """The one-sentence refusal of `what` ("a zoom movie") for a picture that would `cost` ("take about 40 s
    of computing here") more than `max_seconds`; `advice` may say {side}, the side of the largest square
    picture whose encoding takes half of them (default: shrink the picture to it)."""
    side = math.isqrt(int(max_seconds / 2 / speed.encoder_seconds_per_pixel))
    advice = (advice or "Shrink the picture to about {side}×{side} pixels first").format(side=side)
    return imageio.ImageInputError(f"{what} of this {width}×{height} picture would {cost}; this server takes requests "
                                   f"of up to {max_seconds:.0f} s. {advice}")


def loaded_picture(picture) -> imageio.LoadedImage:
    return picture if isinstance(picture, imageio.LoadedImage) else imageio.load_image(picture)
