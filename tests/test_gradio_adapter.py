"""The page's adaptations of Gradio (liif/page/gradio_adapter.py), pinned to the Gradio they were read from
(issue 32): every route the running app serves has a guard in ROUTES, and the routes closed are ones the
page never uses. A Gradio upgrade that adds a route fails here until the route is judged."""

import asyncio
import json
import socket

import gradio
import pytest

from liif.page import gradio_adapter, guard


def test_pinned_to_the_gradio_the_routes_were_read_from():
    assert gradio.__version__ == gradio_adapter.GRADIO_VERSION


def _served(routes, prefix: str = "") -> set:
    """(method, path) of every route of a running Starlette/FastAPI app, included routers unfolded."""
    found = set()
    for route in routes:
        inner = getattr(route, "original_router", None) or getattr(route, "router", None)
        if inner is not None and not hasattr(route, "methods"):
            found |= _served(inner.routes, prefix)
            continue
        for method in getattr(route, "methods", None) or ():
            found.add((method, prefix + route.path.rstrip("/") if route.path != "/" else "/"))
    return found


@pytest.fixture(scope="module")
def launched(weights_path, tmp_path_factory):
    """The page launched in this process as app.py launches it (queue and launch settings), on loopback."""
    from liif.page import files, models
    from liif.page.context import PageContext
    from liif.page.layout import build_page

    ctx = PageContext(models.ModelShelf(weights_path, device="cpu"), files.OutputFolder(parent=tmp_path_factory.mktemp("o")))
    page = build_page(ctx)
    demo = page.queue(max_size=8, default_concurrency_limit=1, **gradio_adapter.QUEUE_SETTINGS)
    with socket.socket() as probe:  # a free port on loopback, not Gradio's 7860 (another app may hold it)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                **gradio_adapter.LAUNCH_SETTINGS)
    yield demo
    demo.close()
    ctx.outputs.cleanup()


@pytest.mark.server
def test_every_route_of_the_running_app_has_its_guard(launched):
    served = _served(launched.server_app.routes)
    assert served == set(gradio_adapter.ROUTES), (
        f"not judged: {sorted(served - set(gradio_adapter.ROUTES))}; gone: {sorted(set(gradio_adapter.ROUTES) - served)}")
    assert not launched.api_open and not launched.run_history


@pytest.mark.server
def test_the_closed_routes_are_ones_the_page_never_uses(launched):
    config = launched.get_config_file()
    components = config["components"]
    # /component_server runs a component's server functions, /stream/ takes streamed input and serves
    # streamed media: the page has neither. /process_recording serves screen recordings: none either.
    assert not [c["type"] for c in components if c.get("props", {}).get("server_fns") or c.get("server_fns")]
    assert not [c["type"] for c in components if c.get("props", {}).get("streaming")]
    assert not any(getattr(fn, "connection", None) == "stream" for fn in launched.fns.values())
    # Every event that does model work is queued: api_open=False refuses it on /run and /api.
    work = {fn.api_name for fn in launched.fns.values() if fn.concurrency_id == "liif-model"}
    assert work and all(fn.queue for fn in launched.fns.values() if fn.api_name in work)


# -- RouteGuard on its own ------------------------------------------------------------------------------


class _Queue:
    def __init__(self, sessions=(), events=None):
        self.pending_messages_per_session = {s: object() for s in sessions}
        self.pending_event_ids_session = {}
        self.event_ids_to_events = events or {}


def _request(guard_app, method, path, body=b"", query=b""):
    sent, passed = [], []

    async def app(scope, receive, send):
        passed.append((await receive())["body"] if method == "POST" else b"")

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "query_string": query,
             "headers": [(b"content-type", b"application/json")]}
    asyncio.run(gradio_adapter.RouteGuard(app, gradio_adapter.QueueView(guard_app[0]), guard_app[1])(scope, receive, send))
    status = sent[0]["status"] if sent else None
    return status, (sent[1]["body"].decode() if sent else None), passed


def test_route_guard_answers_unknown_streams_and_closed_routes_with_404(tmp_path, capsys):
    setup = (_Queue(sessions=["known"]), tmp_path)
    assert _request(setup, "GET", "/gradio_api/queue/data", query=b"session_hash=known")[0] is None  # passed on
    assert _request(setup, "GET", "/gradio_api/queue/data", query=b"session_hash=nosuch")[0] == 404
    assert _request(setup, "GET", "/gradio_api/call/v2/upscale/0123abcd")[0] == 404
    assert _request(setup, "POST", "/gradio_api/process_recording")[0] == 404
    assert _request(setup, "POST", "/gradio_api/vibe-edit")[0] == 404
    assert capsys.readouterr().err.count("\n") == 4  # one line each


def test_route_guard_refuses_a_body_naming_a_file_outside_the_upload_folder(tmp_path):
    uploads = tmp_path / "uploads"
    (uploads / "abc").mkdir(parents=True)
    mine = uploads / "abc" / "photo.png"
    mine.write_bytes(b"x")
    setup = (_Queue(), uploads)
    for route in ("/gradio_api/call/upscale", "/gradio_api/call/v2/upscale", "/gradio_api/run/predict",
                  "/gradio_api/queue/join"):
        for outside in ("/etc/hostname", str(tmp_path / "missing.png"), str(uploads / ".." / "x.png")):
            body = json.dumps({"data": [{"path": outside, "meta": {"_type": "gradio.FileData"}}, 2]}).encode()
            status, text, passed = _request(setup, "POST", route, body)
            assert (status, text, passed) == (400, guard.FOREIGN_PATH, []), route
        body = json.dumps({"data": [{"path": str(mine), "meta": {"_type": "gradio.FileData"}}, 2]}).encode()
        assert _request(setup, "POST", route, body) == (None, None, [body])  # passed on, body intact
    assert list(gradio_adapter.file_paths({"image": {"path": "/a"}, "more": [{"path": "/b", "url": None}, 3]})) == ["/a", "/b"]


# -- QueueView against Gradio's own queue -----------------------------------------------------------------


def test_no_module_but_the_adapter_touches_the_queues_private_attributes():
    import pathlib
    import re

    private = re.compile(r"\._queue\b|event_queue_per_concurrency_id|active_jobs|pending_messages_per_session|"
                         r"pending_event_ids_session|event_ids_to_events")
    root = pathlib.Path(gradio_adapter.__file__).resolve().parents[2]
    touching = [str(path.relative_to(root)) for path in [root / "app.py", *sorted((root / "liif").rglob("*.py"))]
                if private.search(path.read_text()) and path.name != "gradio_adapter.py"]
    assert touching == []


@pytest.fixture
def small_queue(tmp_path, monkeypatch):
    """A one-event app whose job waits until released, queued and guarded as app.py does it, on loopback;
    visitors are told apart by X-Forwarded-For (LIIF_CLIENT_HEADER), so one test client can be many."""
    import threading

    import gradio as gr
    import httpx
    from starlette.middleware import Middleware

    from liif import settings
    from liif.page import visitors

    monkeypatch.setenv(settings.CLIENT_HEADER, "X-Forwarded-For")
    monkeypatch.setenv(settings.UNREAD_SECONDS, "60")
    release = threading.Event()

    def work(text):
        release.wait(30)
        return text

    with gr.Blocks() as demo:
        box, out = gr.Textbox(), gr.Textbox()
        box.submit(work, box, out, api_name="work", concurrency_id="liif-model")
    demo.queue(max_size=20, default_concurrency_limit=1, **gradio_adapter.QUEUE_SETTINGS)
    queue = gradio_adapter.QueueView.of(demo)
    visitors.limit_jobs_per_client(queue, per_session=2, per_address=3)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                **gradio_adapter.LAUNCH_SETTINGS,
                app_kwargs={"middleware": [Middleware(gradio_adapter.RouteGuard, queue=queue, folder=tmp_path)]})
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}{gradio_adapter.API}", timeout=30)

    def post(text, address):
        return client.post("/call/work", json={"data": [text]}, headers={"X-Forwarded-For": address})

    yield queue, post, client, release
    release.set()
    client.close()
    demo.close()


@pytest.mark.server
def test_queue_view_counts_admits_orders_and_knows_streams_on_the_real_queue(small_queue, monkeypatch):
    import time

    queue, post, client, release = small_queue
    ids = {}
    for text, address in (("b1", "198.51.100.2"), ("b2", "198.51.100.2"), ("b3", "198.51.100.2")):
        answer = post(text, address)
        assert answer.status_code == 200, answer.text
        ids[text] = answer.json()["event_id"]
    deadline = time.monotonic() + 10
    while not queue.running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(queue.running()) == 1 and len(queue.waiting()) == 2
    assert queue.jobs_from("198.51.100.2") == 3 and queue.jobs_from("203.0.113.7") == 0
    # The address's fourth job is refused with the page's sentence (Gradio's "queue full", 503).
    refused = post("b4", "198.51.100.2")
    assert refused.status_code == 503 and "3 requests from your network" in refused.text
    # Another visitor's job goes before the flooding address's waiting ones (visitors.take_turns).
    honest = post("a1", "203.0.113.7")
    assert honest.status_code == 200
    waiting_ids = [event._id for event in queue.waiting()]
    assert waiting_ids == [honest.json()["event_id"], ids["b2"], ids["b3"]]
    assert queue.jobs_from("203.0.113.7") == 1
    # Streams: a job's is known (and opening it notes it read); a made-up one is not, and gets 404.
    assert queue.stream_known(ids["b2"]) and not queue.stream_known("0" * 32)
    assert client.get(f"/call/work/{'0' * 32}").status_code == 404
    release.set()


@pytest.mark.server
def test_queue_view_drops_a_job_nobody_reads_from_the_real_queue(small_queue, monkeypatch):
    import time

    from liif import settings

    queue, post, client, release = small_queue
    monkeypatch.setenv(settings.UNREAD_SECONDS, "0.5")
    running = post("first", "198.51.100.2").json()["event_id"]
    unread = post("unread", "203.0.113.7").json()["event_id"]
    read = post("read", "192.0.2.5").json()["event_id"]
    queue.note_read(f"{gradio_adapter.API}/call/work/{read}")  # what RouteGuard notes when the stream opens
    assert [event._id for event in queue.waiting()] == [unread, read]
    time.sleep(1.5)
    assert [event._id for event in queue.waiting()] == [read]
    assert queue.running() and queue.running()[0]._id == running
    release.set()
