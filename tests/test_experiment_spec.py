"""An experiment is one spec (liif/lessons/experiment.py): registering tests/tiny_experiment.py is all it
takes for `python -m liif brightness`, the API endpoint /brightness and the page's guarded handler to work,
refusals included."""

import json

import gradio as gr
import numpy as np
import pytest
import tiny_experiment
from PIL import Image

from liif import cli
from liif.lessons import experiment
from liif.render.engine import Speed, Upscaler

GLACIAL = Speed(encoder_seconds_per_pixel=1e-2, decoder_seconds_per_pixel=1e-2)


@pytest.fixture(scope="module")
def registered():
    spec = experiment.register(tiny_experiment.EXPERIMENT)
    yield spec
    experiment.unregister(spec.name)


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny") / "tiny.png"
    y, x = np.mgrid[0:12, 0:16]
    Image.fromarray(np.stack([x * 15, y * 20, (x * y) % 255], -1).astype(np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def tiny_page(registered, weights_path):
    from liif.page import files, models
    from liif.page.context import PageContext
    from liif.page.layout import build_page

    folder = files.OutputFolder()
    yield build_page(PageContext(models.ModelShelf(weights_path, device="cpu"), folder))
    folder.cleanup()


def test_a_second_experiment_of_the_same_name_is_refused(registered):
    with pytest.raises(ValueError, match="already registered"):
        experiment.register(tiny_experiment.EXPERIMENT)
    assert experiment.experiment("brightness") is registered


def test_its_command_runs_from_the_spec(registered, picture, weights_path, tmp_path, capsys):
    out = tmp_path / "sheet.png"
    code = cli.main(["brightness", str(picture), "--scale", "3", "-o", str(out), "--json", "--model", str(weights_path)])
    said = capsys.readouterr()
    assert code == 0, said.err
    summary = json.loads(said.out)
    assert summary["scale"] == 3.0 and np.isfinite(summary["brighter_levels"])
    assert Image.open(out).size == (2 * 48, 36)  # bicubic | LIIF, each 16×12 at ×3
    assert cli.main(["brightness", str(picture), "-o", str(tmp_path / "sheet.webp"), "--model", str(weights_path)]) == 2
    assert "name a .png file" in capsys.readouterr().err


def test_its_api_endpoint_and_page_handler_run_and_refuse(tiny_page, picture, monkeypatch):
    from liif.page.experiments import run_experiment

    endpoint = tiny_page.api.endpoints["brightness"]
    assert endpoint.trigger.click  # wired into the page, under the spec's name
    api_names = {fn.api_name for fn in tiny_page.demo.fns.values()}
    assert "brightness" in api_names
    sheet, summary = endpoint.call(str(picture), 2)
    assert Image.open(sheet).size == (64, 24) and summary["scale"] == 2.0
    outcome = run_experiment(tiny_page.ctx, tiny_page.api.endpoints["brightness"].spec, {"picture": str(picture)})
    assert "than bicubic" in outcome.markdown and outcome.pictures[0][0].shape == (24, 32, 3)

    def no_model_work(*args, **kwargs):
        raise AssertionError("the model ran before the refusal")

    monkeypatch.setattr(tiny_page.ctx.shelf, "speed", lambda name=None: GLACIAL)
    monkeypatch.setattr(Upscaler, "render_region", no_model_work)
    for call in (lambda: endpoint.call(str(picture), 8),
                 lambda: run_experiment(tiny_page.ctx, endpoint.spec, {"picture": str(picture), "scale": 8})):
        with pytest.raises(gr.Error, match=r"a brightness check of this 16×12 picture would take about \d+ s"):
            call()
    with pytest.raises(gr.Error, match="not an image|cannot be read|no such"):
        endpoint.call(__file__, 2)


def test_a_role_finds_its_model_on_both_sides_and_an_optional_one_may_be_missing(tiny_page, picture, weights_path,
                                                                                   tmp_path, capsys):
    """Every model a run gets comes through its spec's roles: the visitor's model, and here an optional model
    by name that is not on this machine, which the run gets as None; named on the command line, it must be
    there."""
    import dataclasses

    from liif.page.experiments import run_experiment

    given = []

    def run(models, values, **kwargs):
        given.append(models)
        return tiny_experiment.run(models, values, **kwargs)

    other = experiment.Role("other", "no-such-model", "--other-model", required=False, help="a second model")
    spec = experiment.register(dataclasses.replace(tiny_experiment.EXPERIMENT, name="brightness-roles", run=run,
                                                   models=(experiment.Role(), other)))
    try:
        model = ["--model", str(weights_path), "--json"]
        assert cli.main(["brightness-roles", str(picture), "-o", str(tmp_path / "a.png"), *model]) == 0
        run_experiment(tiny_page.ctx, spec, {"picture": str(picture)})
        for models in given:  # the command's, then the page's
            assert models["other"] is None and isinstance(models["model"][1], Upscaler) and not models.named
        capsys.readouterr()
        named = ["--other-model", "no-such-model", "-o", str(tmp_path / "b.png")]
        assert cli.main(["brightness-roles", str(picture), *named, *model]) == 2
        assert "no-such-model" in capsys.readouterr().err
    finally:
        experiment.unregister(spec.name)
