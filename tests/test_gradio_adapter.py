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
    asyncio.run(gradio_adapter.RouteGuard(app, guard_app[0], guard_app[1])(scope, receive, send))
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
