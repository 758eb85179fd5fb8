"""One experiment of the story as one spec, and the registry of them.

    from liif.lessons.experiment import Experiment, Field, Outcome, register
    register(Experiment("brightness", "A toy", "how bright the render is",
                        inputs=(Field("picture", "picture"), Field("scale", "float", 2.0)),
                        estimate=lambda speed, v: ..., run=lambda upscaler, v, progress: Outcome(...)))

An experiment says what it takes (typed `Field`s), what it will cost before it starts (`estimate`, from
the model's measured `Speed` and the inputs, read from the picture's header only) and how it runs
(`run`, with a model and the inputs, returning one `Outcome`). Everything else is made from the spec, once:
the command line (`liif/cli/experiments.py`: `python -m liif <name>`), the page's guarded handler and its
public API endpoint (`liif/page/experiments.py`: the visitor's turn, the budget, the model's lock and the
one-sentence error). A new experiment is one module that registers its spec, plus its tests.
"""

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from liif.render import imageio

# What a field holds: a picture (a file; the page's upload guard reads it), a number (with `choices`: one
# of them), a point (x, y), a choice among `choices`, words ("1920x1080", a folder), a yes/no switch, the name of a
# file the command writes besides -o (always `cli_only`: the page shows its pictures instead), or the name
# of a helper model the run opens itself with values[OPEN_MODEL] (check: the JPEG-trained model).
KINDS = ("picture", "int", "float", "point", "choice", "text", "flag", "path", "model")
# Keys of `values` the adaptors fill for the run: the model's name as the caller shows it, and
# open_model(name, required=True) -> (label, upscaler) for a helper model: on the command line loaded on the
# same device, on the page taken from the shelf under its own lock (after the main model's); the main
# model's own upscaler when `name` is that model; None when it is not here and not `required`.
# (An experiment that compares models of equal standing names them in `Experiment.models` instead.)
MODEL_LABEL, OPEN_MODEL = "model", "open_model"


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
class Model:
    """One of the models an experiment compares, when it runs more than the one model of every other step:
    the role its results give it, and the command's option choosing it (`default` None: the experiment's
    `load_models` decides)."""

    role: str
    option: str
    default: str | None = None
    help: str = ""


@dataclass(frozen=True)
class Experiment:
    name: str  # the command (`python -m liif <name>`) and the API endpoint (`/<name>`)
    title: str  # the step of the story it belongs to, as the page says it
    noun: str  # what it makes, in a sentence: "a zoom movie" ("... of this 640×480 picture would take ...")
    help: str  # one line: what it shows (the command's help)
    description: str  # the command's description
    inputs: tuple  # Fields; at most one picture
    # estimate(speed, values) -> seconds of model compute, from the picture's size only (values["picture"]
    # is a path or a LoadedImage); the page refuses above its budget before anything is decoded.
    estimate: Callable
    # run(upscaler, values, progress, out_path, speed, max_seconds) -> Outcome. progress(fraction, text) or
    # None; out_path: where to write the downloadable file (its suffix is `suffix`); with speed and
    # max_seconds the run fits itself in that compute (or refuses with its own sentence). values[MODEL_LABEL] and
    # values[OPEN_MODEL] as above.
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
    # more_json(outcome, values) -> numbers the command's --json adds, from more model work than the run's
    # (the API's JSON stays the summary).
    more_json: Callable | None = None
    # The models it compares, when more than one (seen: a photo model and a text model). Then `run` gets
    # ((label, Upscaler), ...) and `estimate` and `run` one Speed per model, in this order; the page's
    # section names the shelf's models for the roles, the command loads them with `load_models(names)` ->
    # [(label, LoadedModel)], one name (or None, the option's default) per role.
    models: tuple = ()
    load_models: Callable | None = None
    # refusal(values, seconds, budget) -> why the page does not start it, in its own words (default: the
    # page's, which advises a smaller picture).
    refusal: Callable | None = None
    advice: str = ""  # what the page's refusal suggests instead of the shrink that would fit ("choose a smaller scale")
    # The page's budget is at least this many renders of its floor (limits.budget_seconds: a 64×64 photo at
    # ×8), so a small photo always runs however slow the machine; 0: the page's budget alone.
    floor_renders: int = 0
    # The model trained to look real and its twin (the same network trained to be right on average): "" the
    # run does not draw with them; "also" it gets them beside the visitor's model as run(..., look_real=
    # (average, sharp)), None where they are not both here; "only" they are its models (the command's
    # --sharp-model names the sharp one) and `upscaler` is the average one.
    look_real: str = ""

    def __post_init__(self):
        if sum(f.kind == "picture" for f in self.inputs) > 1:
            raise ValueError(f"experiment {self.name}: one picture at most")
        if self.look_real not in ("", "also", "only"):
            raise ValueError(f"experiment {self.name}: look_real is '', 'also' or 'only', not {self.look_real!r}")

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


def loaded_picture(picture) -> imageio.LoadedImage:
    return picture if isinstance(picture, imageio.LoadedImage) else imageio.load_image(picture)
