"""A stranger cannot make the server read its own files (issue 20, point 1).

Every image input of every endpoint the app lists is sent a file object naming a path on the server
(no upload): a real image outside the upload folder, a text file, and a path that does not exist.
All of them must be refused, with one and the same sentence, so the answers are no oracle for which
files exist. Loopback only, a fixed number of requests.
"""

import json

import httpx
import numpy as np
import pytest
from PIL import Image

API = "gradio_api"


@pytest.fixture(scope="module")
def app_env(weights_path):
    return {"LIIF_WEIGHTS": str(weights_path), "LIIF_PAGE_SECONDS": "30"}


def _call(url: str, endpoint: str, data: list) -> tuple:
    answer = httpx.post(f"{url}{API}/call{endpoint}", json={"data": data}, timeout=60)
    if answer.status_code != 200:
        return "refused", answer.text
    event_id = answer.json()["event_id"]
    event = None
    with httpx.stream("GET", f"{url}{API}/call{endpoint}/{event_id}", timeout=120) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                return event, json.loads(line.split(":", 1)[1])
    return "closed", None


def _image_inputs(info: dict) -> dict:
    """endpoint -> list of (index, is_image) from the app's own API description."""
    listed = {}
    for endpoint, spec in info["named_endpoints"].items():
        kinds = [("image" in json.dumps(p.get("python_type", "")).lower() or "image" in str(p.get("component", "")).lower()
                  or "upload" in str(p.get("component", "")).lower()) for p in spec["parameters"]]
        if any(kinds):
            listed[endpoint] = (spec["parameters"], kinds)
    return listed


def _arguments(parameters: list, kinds: list, image: dict) -> list:
    values = []
    for parameter, is_image in zip(parameters, kinds):
        if is_image:
            values.append(image)
        elif parameter.get("parameter_has_default"):
            values.append(parameter.get("parameter_default"))
        else:
            values.append(4)  # every other input of these endpoints is a number
    return values


@pytest.mark.server
def test_no_endpoint_reads_a_server_file_and_the_answer_is_no_oracle(app_server, tmp_path):
    private = tmp_path / "private.png"  # outside the server's upload folder, readable by its process
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(private)
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    targets = [str(private), str(text), str(tmp_path / "missing.png"), "/etc/hostname"]

    info = httpx.get(f"{app_server.url}{API}/info", timeout=30).json()
    endpoints = _image_inputs(info)
    assert {"/upscale", "/check", "/zoom"} <= set(endpoints), sorted(info["named_endpoints"])
    for endpoint, (parameters, kinds) in endpoints.items():
        for meta in ({}, {"meta": {"_type": "gradio.FileData"}}):  # without meta used to be read (the hole)
            answers = set()
            for target in targets:
                event, data = _call(app_server.url, endpoint, _arguments(parameters, kinds, {"path": target, **meta}))
                assert event != "complete", f"{endpoint} read {target}: {data}"
                answers.add(json.dumps(data).replace(target, "PATH"))
            # One answer for all four: an existing image, a text file, a missing file, a system file.
            assert len(answers) == 1, f"{endpoint} {meta}: {answers}\n{app_server.log_tail()}"
