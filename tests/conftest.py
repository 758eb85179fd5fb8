"""Shared fixtures.

`app_server` starts the demo the way the README does (`python app.py` from the repository root) on a
free port, waits until it answers HTTP, and stops it after the module. A test module changes the app's
environment by overriding the module-scoped `app_env` fixture, e.g. to point LIIF_WEIGHTS elsewhere;
`start_app(env)` starts further, independent instances (e.g. a fresh process with empty caches).
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Importing torch and gradio on a busy 2-core machine can take a while; override with APP_START_TIMEOUT.
APP_START_TIMEOUT = float(os.environ.get("APP_START_TIMEOUT", "180"))


def _free_port() -> int:
    # Port 0 makes the OS choose; another process could take it before the app binds it, but that race
    # is rare enough on a test machine, and the app would then fail loudly rather than hang.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run torch on one thread for a module. On a shared 2-core machine two torch threads that wait on
    each other while the other core is taken run 5-50x slower than one (measured); the sums are the same."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def weights_path(tmp_path_factory):
    """A small untrained model (fixed seed) in a weights file: for tests of plumbing, not of quality."""
    import torch

    from liif.core.model import LIIF, LIIFConfig
    from liif.core.weights import save_weights

    torch.manual_seed(0)
    return save_weights(LIIF(LIIFConfig(encoder="edsr-baseline")), tmp_path_factory.mktemp("weights") / "random.safetensors")


@pytest.fixture(scope="module")
def built_page(weights_path):
    """A page of its own (liif/page/layout.py) on the small random weights, with its own visitors' folder."""
    from liif.page import files, models
    from liif.page.context import PageContext
    from liif.page.layout import build_page

    folder = files.OutputFolder()
    yield build_page(PageContext(models.ModelShelf(weights_path, device="cpu"), folder))
    folder.cleanup()


@pytest.fixture
def free_port() -> int:
    return _free_port()


@dataclass
class AppServer:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


@pytest.fixture(scope="module")
def app_env() -> dict:
    """Extra environment for the app under test (module-scoped so a test module can override it)."""
    return {}


@pytest.fixture(scope="module")
def start_app(tmp_path_factory):
    """Factory: start_app(extra_env) starts one more app process and returns its AppServer. Every
    process it started is stopped when the module's tests are done."""
    started = []

    def start(extra_env: dict | None = None) -> AppServer:
        port = _free_port()
        env = {
            **os.environ,
            "GRADIO_SERVER_NAME": "127.0.0.1",
            "GRADIO_SERVER_PORT": str(port),
            "GRADIO_ANALYTICS_ENABLED": "False",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        log_path = tmp_path_factory.mktemp("app") / "app.log"
        with open(log_path, "wb") as log:
            # Output goes to a file, not a pipe, so a chatty app can never block on a full pipe.
            process = subprocess.Popen(
                [sys.executable, "app.py"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so teardown stops any children too
            )
        started.append(process)
        server = AppServer(f"http://127.0.0.1:{port}/", process, log_path)
        _wait_until_up(server)
        return server

    yield start
    for process in started:
        _stop(process)


@pytest.fixture(scope="module")
def app_server(start_app, app_env) -> AppServer:
    """The app, started as the README does, with `app_env` added to its environment."""
    return start_app(app_env)


def _wait_until_up(server: AppServer) -> None:
    deadline = time.monotonic() + APP_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"app.py exited with code {server.process.returncode} before answering:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(f"app.py did not answer on {server.url} within {APP_START_TIMEOUT:.0f} s:\n{server.log_tail()}")


def _stop(process: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)  # the group we created at start, i.e. our app and its children
            process.wait(timeout=15)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


# -- markers ------------------------------------------------------------------------------------------
# A test that starts the app (these fixtures) must be marked `server`; one that drives Chromium must be
# marked `browser`, so `pytest -m "not browser and not server and not slow"` is the fast loop.
# tests/test_repository.py checks it through `--marker-report`.
SERVER_FIXTURES = {"app_server", "start_app"}
BROWSER_FIXTURES = {"browser"}


def pytest_addoption(parser):
    parser.addoption("--marker-report", metavar="PATH",
                     help="write each collected test's fixtures, markers and whether it drives a browser (JSON)")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects anything
def pytest_collection_modifyitems(config, items):
    path = config.getoption("--marker-report")
    if not path:
        return
    import inspect
    import json

    report = []
    for item in items:
        function = getattr(item, "function", None)
        try:
            source = inspect.getsource(function) if function is not None else ""
        except (OSError, TypeError):
            source = ""
        report.append({
            "id": item.nodeid,
            "fixtures": sorted(item.fixturenames),
            "markers": sorted({mark.name for mark in item.iter_markers()}),
            "playwright": "sync_playwright" in source,
        })
    Path(path).write_text(json.dumps(report))
