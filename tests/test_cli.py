"""`python -m liif upscale` and `python -m liif info`, end to end with a small random model.

A few runs go through a real subprocess, as a user would type them; the rest call `cli.main` in this
process, which runs the same code without paying for a fresh `import torch` each time.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from liif import cli
from liif.core import weights
from liif.core.model import LIIF, LIIFConfig

REPO = Path(__file__).resolve().parent.parent
# Renders here are a few hundred pixels. On a shared 2-core machine (a training run beside the tests),
# torch's default thread pool spins waiting for CPU time and makes each test 20-50x slower; one thread
# does not.
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    torch.manual_seed(0)
    return weights.save_weights(LIIF(LIIFConfig(encoder="edsr-baseline")), tmp_path_factory.mktemp("model") / "m.safetensors")


@pytest.fixture
def photo(tmp_path):
    """A 16x12 RGB PNG."""
    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (12, 16, 3), dtype=np.uint8)).save(path)
    return path


def liif_cli(*args, model=None):
    """Run `python -m liif ...` from the repository root, as the README does."""
    command = [sys.executable, "-m", "liif", *map(str, args)]
    if model is not None:
        command += ["--model", str(model), "--device", "cpu"]
    return subprocess.run(command, cwd=REPO, env=ONE_THREAD, capture_output=True, text=True, timeout=300)


def run_main(capsys, *args, model=None):
    argv = [*map(str, args)] + (["--model", str(model), "--device", "cpu"] if model is not None else [])
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def size_of(path) -> tuple:
    with Image.open(path) as image:
        return image.size


def test_batch_with_a_bad_file_in_the_middle(tmp_path, photo, model_path):
    bad = tmp_path / "broken.png"
    bad.write_text("not an image")
    grey = tmp_path / "grey.jpg"
    Image.new("L", (10, 8), 120).save(grey)
    out_dir = tmp_path / "out"
    result = liif_cli("upscale", photo, bad, grey, "--scale", "2.5", "--out-dir", out_dir, model=model_path)
    assert result.returncode == 1, result.stderr
    assert size_of(out_dir / "photo.png") == (40, 30)
    with Image.open(out_dir / "grey.png") as image:
        assert (image.size, image.mode) == ((25, 20), "L")
    assert not (out_dir / "broken.png").exists()
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "broken.png" in errors[0], result.stderr
    assert "Traceback" not in result.stderr


def test_region_renders_that_box_at_the_scale(capsys, tmp_path, photo, model_path):
    out = tmp_path / "zoom.png"
    code, _, err = run_main(capsys, "upscale", photo, "--region", "2,2,10.5,8", "--scale", "4", "-o", out,
                            model=model_path)
    assert code == 0, err
    assert size_of(out) == (34, 24)  # (10.5 - 2) x 4 by (8 - 2) x 4


def test_region_is_that_crop_of_the_full_render(capsys, tmp_path, photo, model_path):
    """X is columns and Y rows: a region on the x2 grid matches the same crop of the whole x2 image."""
    full, crop = tmp_path / "full.png", tmp_path / "crop.png"
    for extra, out in (([], full), (["--region", "4,2,12,8"], crop)):
        code, _, err = run_main(capsys, "upscale", photo, "--scale", "2", *extra, "-o", out, "--precision", "fp32",
                                model=model_path)
        assert code == 0, err
    whole, part = np.asarray(Image.open(full), np.int16), np.asarray(Image.open(crop), np.int16)
    assert part.shape == (12, 16, 3)
    assert np.abs(part - whole[4:16, 8:24]).max() <= 1


def test_info_describes_the_model(model_path):
    result = liif_cli("info", model=model_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for part in ("m.safetensors", "edsr-baseline", "bicubic", "cpu", "encoder", "decoder"):
        assert part in text, (part, text)
    total = sum(p.numel() for p in LIIF(LIIFConfig(encoder="edsr-baseline")).parameters())
    assert f"{total:,}" in text


def test_size_and_width_and_height(capsys, tmp_path, photo, model_path):
    for option, value, expected in (("--size", "20x9", (20, 9)), ("--width", "24", (24, 18)),
                                    ("--height", "6", (8, 6))):
        out = tmp_path / f"{option[2:]}.png"
        code, _, err = run_main(capsys, "upscale", photo, option, value, "-o", out, model=model_path)
        assert code == 0, err
        assert size_of(out) == expected


def test_alpha_survives(capsys, tmp_path, model_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[:, 4:, 3] = 255
    source = tmp_path / "icon.png"
    Image.fromarray(rgba, "RGBA").save(source)
    code, _, err = run_main(capsys, "upscale", source, "--scale", "3", "-o", tmp_path / "icon_x3", model=model_path)
    assert code == 0, err
    with Image.open(tmp_path / "icon_x3.png") as image:  # the .png suffix is added
        assert (image.mode, image.size) == ("RGBA", (24, 24))
        alpha = np.asarray(image)[:, :, 3]
    assert alpha[:, :9].max() == 0 and alpha[:, 15:].min() == 255


def test_refusals_are_one_line_each(capsys, tmp_path, photo, model_path):
    code, _, err = run_main(capsys, "upscale", photo, "--scale", "1000", "-o", tmp_path / "huge.png", model=model_path)
    assert "--region" in err  # the command line's own advice, which the web page never shows
    assert code == 1 and "--max-output-pixels" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "huge.png").exists()

    code, _, err = run_main(capsys, "upscale", photo, "--max-input-pixels", "100", "--scale", "2",
                            "-o", tmp_path / "x.png", model=model_path)
    assert code == 1 and "16×12" in err and len(err.strip().splitlines()) == 1

    code, _, err = run_main(capsys, "upscale", photo, "--region", "0,0,99,5", "--scale", "2",
                            "-o", tmp_path / "x.png", model=model_path)
    assert code == 1 and "region" in err

    code, _, err = run_main(capsys, "upscale", photo, photo, "--scale", "2", "-o", tmp_path / "x.png", model=model_path)
    assert code == 2 and "--out-dir" in err

    code, _, err = run_main(capsys, "upscale", photo, "--scale", "2", "-o", tmp_path / "x.jpg", model=model_path)
    assert code == 2 and ".png" in err
    assert not (tmp_path / "x.png").exists()


def test_bad_arguments_are_argparse_errors(capsys, photo, tmp_path):
    for bad in (["--scale", "-2"], ["--size", "12by4"], ["--width", "2.5"], ["--region", "1,2,3"]):
        with pytest.raises(SystemExit) as caught:
            cli.main(["upscale", str(photo), *bad, "-o", str(tmp_path / "x.png")])
        assert caught.value.code == 2
        assert "error:" in capsys.readouterr().err


def test_inputs_are_never_overwritten(capsys, tmp_path, model_path):
    png, jpg = tmp_path / "same.png", tmp_path / "same.jpg"
    Image.new("RGB", (4, 4), (1, 2, 3)).save(png)
    Image.new("RGB", (4, 4), (3, 2, 1)).save(jpg)
    before = png.read_bytes(), jpg.read_bytes()
    # Both would be written to same.png, which is one of the inputs.
    code, _, err = run_main(capsys, "upscale", png, jpg, "--scale", "2", "--out-dir", tmp_path, model=model_path)
    assert code == 1 and err.count("overwrite") == 2
    assert (png.read_bytes(), jpg.read_bytes()) == before


def test_missing_weights_say_how_to_get_them(capsys, tmp_path, photo, monkeypatch):
    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path / "no-weights-here")
    for command in (["upscale", str(photo), "--scale", "2", "-o", str(tmp_path / "x.png")], ["info"]):
        code, _, err = run_main(capsys, *command)
        assert code == 2
        assert err.count("\n") == 1 and "python -m liif train" in err and "--model" in err
    code, _, err = run_main(capsys, "info", "--model", tmp_path / "nothing.safetensors")
    assert code == 2 and "nothing.safetensors" in err


def test_python_api_matches_the_command_line(capsys, tmp_path, photo, model_path):
    from liif.api import bicubic_image, upscale_file
    from liif.render.imageio import ImageInputError, load_image

    image = upscale_file(photo, tmp_path / "api.png", scale=2, model_path=model_path, device="cpu", precision="fp32")
    assert image.size == (32, 24) and size_of(tmp_path / "api.png") == (32, 24)
    code, _, err = run_main(capsys, "upscale", photo, "--scale", "2", "--precision", "fp32", "-o", tmp_path / "cli.png",
                            model=model_path)
    assert code == 0, err
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "api.png")), np.asarray(Image.open(tmp_path / "cli.png")))
    with pytest.raises(ImageInputError, match="exactly one"):
        upscale_file(photo, scale=2, width=10, model_path=model_path)
    baseline = bicubic_image(load_image(photo), 40, 30)
    assert (baseline.mode, baseline.size) == ("RGB", (40, 30))


# -- a public deployment's probes (issue 15) ------------------------------------------------------------


@pytest.fixture
def model_must_not_load(monkeypatch):
    """Fail the test if the CLI builds a model: what it refuses must be refused before that."""
    from liif.render import engine

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded before the inputs and outputs were checked")

    monkeypatch.setattr(engine, "Upscaler", no_model)


def test_unwritable_output_is_refused_before_loading_the_model(capsys, tmp_path, photo, model_must_not_load):
    """A read-only folder used to be found after the whole render; the model was loaded first too."""
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    for where in (["--out-dir", "/proc/liif-out"], ["-o", "/proc/x.png"], ["--out-dir", a_file]):
        code, _, err = run_main(capsys, "upscale", photo, "--scale", "2", *where)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert "not writable" in err or "is a file, not a folder" in err, err
        assert "File exists" not in err


def test_bad_inputs_are_found_before_loading_the_model(capsys, tmp_path, model_must_not_load):
    bad = tmp_path / "bad.png"
    bad.write_text("not a picture")
    code, _, err = run_main(capsys, "upscale", bad, "--scale", "2", "--out-dir", tmp_path / "out")
    assert code == 1 and "bad.png is not an image" in err


@pytest.mark.parametrize("size", [["--scale", "1e308"], ["--width", "9" * 300], ["--size", "9" * 300 + "x4"]])
def test_absurd_sizes_are_one_line_not_tracebacks(capsys, tmp_path, photo, model_path, size):
    try:
        code, _, err = run_main(capsys, "upscale", photo, *size, "-o", tmp_path / "x.png", model=model_path)
    except SystemExit as stop:  # argparse's refusal of the value: also one line
        code, err = stop.code, capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # argparse prints its usage first
    assert code in (1, 2) and "Traceback" not in err and "error:" in last and len(last) < 300


def test_an_allocation_failure_fails_that_file_and_the_batch_goes_on(capsys, tmp_path, photo, model_path, monkeypatch):
    """PyTorch reports a failed CPU allocation as RuntimeError, which used to abort the whole batch."""
    from liif.render import upscale

    real = upscale.upscale_image
    calls = []

    def first_fails(upscaler, loaded, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")
        return real(upscaler, loaded, *args, **kwargs)

    monkeypatch.setattr(upscale, "upscale_image", first_fails)
    second = tmp_path / "second.png"
    Image.open(photo).save(second)
    code, out, err = run_main(capsys, "upscale", photo, second, "--scale", "2", "--out-dir", tmp_path / "out",
                              model=model_path)
    assert code == 1 and "ran out of memory" in err and "Traceback" not in err
    assert (tmp_path / "out" / "second.png").is_file()


def test_ctrl_c_is_one_line(capsys, tmp_path, photo, model_path, monkeypatch):
    from liif.render import upscale

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(upscale, "upscale_image", interrupted)
    code, _, err = run_main(capsys, "upscale", photo, "--scale", "2", "-o", tmp_path / "x.png", model=model_path)
    assert code == 130 and err.strip() == "interrupted"


@pytest.mark.slow
def test_a_long_job_without_a_terminal_prints_progress_lines_and_an_estimate(tmp_path, model_path):
    """An 11-minute job used to print nothing when its output went to a log."""
    big = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(big)
    command = [sys.executable, "-c",
               "import sys; from liif import cli; from liif.cli import upscale; upscale.PROGRESS_LINE_SECONDS = 0; "
               "upscale.ESTIMATE_AFTER_SECONDS = 0; sys.exit(cli.main(sys.argv[1:]))",
               "upscale", str(big), "--scale", "25", "-o", str(tmp_path / "out.png"),
               "--model", str(model_path), "--device", "cpu"]
    done = subprocess.run(command, cwd=REPO, env=ONE_THREAD, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert "will take about" in lines[0] and "1000×1000" in lines[0]  # first; 1 MP is the smallest job given one
    assert sum("rows" in line and "left" in line for line in lines) >= 2


def test_a_region_starting_below_zero_gets_the_regions_own_sentence(capsys, tmp_path, photo, model_path):
    """`--region -1,0,4,4` used to fail in argparse with "expected one argument"."""
    code, _, err = run_main(capsys, "upscale", photo, "--region", "-1,0,4,4", "--scale", "2",
                            "-o", tmp_path / "x.png", model=model_path)
    assert code == 1 and "the region -1,0,4,4 goes outside" in err and "expected one argument" not in err
    assert cli.attach_negative_values(["--region", "-1,0,4,4", "--scale", "-2"]) == ["--region=-1,0,4,4", "--scale", "-2"]
    assert cli.attach_negative_values(["--region", "--scale", "2"]) == ["--region", "--scale", "2"]


def test_the_command_line_honours_liif_weights_as_the_app_does(capsys, tmp_path, model_path, monkeypatch):
    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path / "no-weights-here")  # so nothing else could answer
    monkeypatch.setenv("LIIF_WEIGHTS", str(model_path))
    code, out, err = run_main(capsys, "info", "--device", "cpu")
    assert code == 0 and str(model_path) in out, err
    code, _, err = run_main(capsys, "info", "--model", tmp_path / "nothing.safetensors")  # --model still wins
    assert code == 2 and "nothing.safetensors" in err
