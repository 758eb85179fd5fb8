"""X-Forwarded-For from loopback makes no new visitor (issue 32, point 2): the app runs as a fresh clone
does, without LIIF_CLIENT_HEADER, so the visitor is the socket's address whatever a client writes, and
uvicorn must not rewrite it from the header either. Loopback only, 80 requests, every wait bounded."""

import io
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from PIL import Image

from liif import settings

pytestmark = pytest.mark.server
API = "gradio_api"


@pytest.fixture(scope="module")
def app_env(weights_path):
    # Unread jobs stay for the length of the test: the count below is of jobs held, not of jobs dropped.
    return {"LIIF_WEIGHTS": str(weights_path), settings.UNREAD_SECONDS: "60", settings.PRECISION: "fp32"}


def test_eighty_jobs_with_spoofed_addresses_from_loopback_are_limited_as_one_address(app_server):
    url = f"{app_server.url}{API}"
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buffer, "PNG")
    uploaded = httpx.post(f"{url}/upload", files={"files": ("p.png", buffer.getvalue(), "image/png")}, timeout=60)
    picture = {"path": uploaded.json()[0], "meta": {"_type": "gradio.FileData"}}

    def post(k):
        spoofed = {"X-Forwarded-For": f"203.0.{k // 250}.{k % 250 + 1}"}  # a new "visitor" every time
        return httpx.post(f"{url}/call/upscale", json={"data": [picture, 4, "", None]}, headers=spoofed, timeout=60)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(post, range(80)))
    accepted = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code != 200]
    print(f"80 spoofed jobs from loopback: {len(accepted)} accepted, {len(refused)} refused "
          f"({sum('from your network' in a.text for a in refused)} as one network)")
    # One address may hold 40 (LIIF_JOBS_PER_ADDRESS); a few end while the rest are posted. Were each header
    # a visitor, none would be refused as a network (the queue's 72 would refuse 8 as "full").
    assert len(refused) >= 30 and all("from your network" in a.text for a in refused), \
        [(a.status_code, a.text[:80]) for a in refused]
    for answer in accepted:  # nobody reads them: take them out of the queue
        httpx.post(f"{url}/cancel", json={"event_id": answer.json()["event_id"], "session_hash": answer.json()["event_id"],
                                          "fn_index": 0}, timeout=30)
