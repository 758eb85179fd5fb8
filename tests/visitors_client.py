"""A plain HTTP client of the page's public API, as a script or a stranger would call it, for the
public-deployment tests and the load test (`python tests/visitors_client.py URL` runs the load test).

Each "visitor" may carry its own X-Forwarded-For address: the app under test is started with
LIIF_CLIENT_HEADER=x-forwarded-for, so several clients can be told apart on 127.0.0.1.
"""

import json
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

API = "gradio_api"


def headers_for(client: str | None) -> dict:
    return {"X-Forwarded-For": client} if client else {}


def upload(base_url: str, path, client: str | None = None, timeout: float = 60) -> dict:
    """Upload a file; returns the FileData the API takes."""
    with open(path, "rb") as f:
        response = httpx.post(f"{base_url}{API}/upload", files={"files": (Path(path).name, f, "image/png")},
                              headers=headers_for(client), timeout=timeout)
    response.raise_for_status()
    return {"path": response.json()[0], "meta": {"_type": "gradio.FileData"}}


def submit(base_url: str, image: dict, scale, client: str | None = None, timeout: float = 60) -> httpx.Response:
    """POST /call/upscale: the job is queued; the answer holds its event id (or why it was refused)."""
    return httpx.post(f"{base_url}{API}/call/upscale", json={"data": [image, scale, "", None]},
                      headers=headers_for(client), timeout=timeout)


def result(base_url: str, event_id: str, client: str | None = None, timeout: float = 600) -> tuple:
    """Read a job's stream to its end: ("complete", data) or ("error", message)."""
    event = None
    with httpx.stream("GET", f"{base_url}{API}/call/upscale/{event_id}", headers=headers_for(client),
                      timeout=timeout) as response:
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                return event, json.loads(line.split(":", 1)[1])
    return "closed", None


@dataclass
class Visit:
    outcome: str  # "served", "turned away" or "error: ..."
    wait: float  # seconds from submitting to the answer


def visit(base_url: str, image_path, scale, client: str) -> Visit:
    start = time.monotonic()
    try:
        image = upload(base_url, image_path, client)
        answer = submit(base_url, image, scale, client)
        if answer.status_code == 503:
            return Visit("turned away", time.monotonic() - start)
        answer.raise_for_status()
        event, data = result(base_url, answer.json()["event_id"], client)
        return Visit("served" if event == "complete" else f"error: {event} {data}", time.monotonic() - start)
    except Exception as exc:  # the load test reports every other outcome as it is
        return Visit(f"error: {exc!r}", time.monotonic() - start)


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its children (Linux /proc)."""
    total = 0
    for p in [pid] + _children(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


def _children(pid: int) -> list:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        return []
    return kids + [g for k in kids for g in _children(k)]


def load_test(base_url: str, image_path, scale, visitors: int = 20, pid: int | None = None) -> dict:
    """`visitors` simultaneous visitors (distinct clients), one request each: who was served, who was
    turned away, the waits, and the server's peak memory while they were at it."""
    peak, stop = [0], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_bytes(pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    if pid:
        sampler.start()
    barrier = threading.Barrier(visitors)

    def one(i):
        barrier.wait()
        return visit(base_url, image_path, scale, client=f"198.51.100.{i + 1}")

    with ThreadPoolExecutor(visitors) as pool:
        visits = list(pool.map(one, range(visitors)))
    stop.set()
    served = [v.wait for v in visits if v.outcome == "served"]
    return {
        "served": len(served),
        "turned away": sum(v.outcome == "turned away" for v in visits),
        "errors": [v.outcome for v in visits if v.outcome.startswith("error")],
        "median wait s": round(statistics.median(served), 1) if served else None,
        "worst wait s": round(max(served), 1) if served else None,
        "peak RSS MB": round(peak[0] / 1e6) if pid else None,
    }


if __name__ == "__main__":
    url, pid = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None
    picture = sys.argv[3] if len(sys.argv) > 3 else "assets/examples/grace-hopper-64.png"
    print(json.dumps(load_test(url if url.endswith("/") else url + "/", picture, 8, pid=pid), indent=1))
