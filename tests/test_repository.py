"""The repository's own rules, checked: every test that starts a server or a browser is marked."""

import json
import subprocess
import sys
from pathlib import Path

from conftest import BROWSER_FIXTURES, SERVER_FIXTURES

REPO = Path(__file__).resolve().parent.parent


def test_server_and_browser_tests_are_marked(tmp_path):
    report = tmp_path / "markers.json"
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           f"--marker-report={report}", "tests"], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    tests = json.loads(report.read_text())
    assert len(tests) > 100  # the whole suite was collected
    unmarked = []
    for test in tests:
        fixtures, markers = set(test["fixtures"]), set(test["markers"])
        if fixtures & SERVER_FIXTURES and "server" not in markers:
            unmarked.append(f"{test['id']}: starts the app but is not marked `server`")
        if (fixtures & BROWSER_FIXTURES or test["playwright"]) and "browser" not in markers:
            unmarked.append(f"{test['id']}: drives a browser but is not marked `browser`")
    assert not unmarked, "\n".join(unmarked)
