"""Every route Gradio serves, and how the page guards each one: Gradio's own switches where it has them
(`QUEUE_SETTINGS`, `LAUNCH_SETTINGS`), uvicorn's for the visitor's address (`serve_socket_addresses`), one
ASGI middleware (`RouteGuard`) for the rest, and the page's one handle on Gradio's queue (`QueueView`).

    serve_socket_addresses()                              # before launch: the address is the socket's
    queue = QueueView.of(page.queue(..., **QUEUE_SETTINGS))
    visitors.limit_jobs_per_client(queue)                 # the page's rules for taking a job
    demo.launch(..., **LAUNCH_SETTINGS, app_kwargs={"middleware": [..., Middleware(RouteGuard, queue=queue,
                                                                                   folder=outputs.root)]})

Why one module: these lean on how Gradio GRADIO_VERSION names and serves its routes and keeps its queue
(private attributes: nothing else in the page touches them), and an upgrade can add a route that runs work
or rename what the queue keeps. `ROUTES` lists every route of the running app with its guard, and
tests/test_gradio_adapter.py fails when the app serves a route the list does not name, or when QueueView
no longer reads the real queue.
"""

import asyncio
import json
import os
import re
import sys
from collections import OrderedDict
from types import SimpleNamespace

from liif.page import visitors
from liif.page.guard import FOREIGN_PATH, header, inside, plain_response, read_messages, replaying

GRADIO_VERSION = "6.31.0"  # what ROUTES and RouteGuard were read from
API = "/gradio_api"
_CLOSED = re.compile(API + r"/(process_recording|component_server|stream/|vibe-|undo-vibe-edit|dev/reload|runs)")
_QUEUE_DATA = re.compile(API + r"/queue/data/?$")
_QUEUE_JOIN = re.compile(API + r"/queue/join/?$")
_CALL_READ = re.compile(API + r"/call/(?:v2/)?[^/]+/([^/]+)/?$")
_CARRIES_DATA = re.compile(API + r"/(run|api|call|call/v2)/[^/]+/?$|" + API + r"/queue/join/?$")
_SESSION = re.compile(r"(?:^|&)session_hash=([^&]*)")

# Gradio's switches. api_open=False: /run/<api> and /api/<api> refuse every queued event (404), so model
# work goes through the queue and its per-visitor limits; they still run the page's unqueued helpers,
# which the browser posts there and which read headers at most. run_history=False: no /run-history routes.
QUEUE_SETTINGS = {"api_open": False}
LAUNCH_SETTINGS = {"run_history": False}

QUEUED = "queued: visitors.limit_jobs_per_client through QueueView (per session and per address, in turns, unread jobs leave)"
UNQUEUED = "queued events refused (api_open=False, 404); runs only the page's unqueued helpers"
READ = "a result stream: unknown session or event -> 404 (RouteGuard); opening it marks the job read (QueueView)"
CLOSED = "closed: 404 (RouteGuard), the page never uses it"
UPLOAD = "visitors.UploadGuard (1 GB in all, 100 MB per address in 30 min) and max_file_size"
FILES = "Gradio's allowed paths; an expired link gets one sentence (visitors.UploadGuard)"
QUIET = "no model work, no files: the page's own, or a setting that is off (auth, monitoring)"
# Every route of the app as Gradio GRADIO_VERSION serves it: (method, path) -> its guard. A bare path
# stands for itself and itself with a trailing slash.
ROUTES = {
    **{("POST", f"{API}/{route}"): QUEUED for route in ("call/{api_name}", "call/v2/{api_name}", "queue/join")},
    **{("POST", f"{API}/{route}"): UNQUEUED for route in ("run/{api_name}", "api/{api_name}")},
    **{("GET", f"{API}/{route}"): READ for route in ("queue/data", "call/{api_name}/{event_id}",
                                                      "call/v2/{api_name}/{event_id}")},
    ("POST", f"{API}/upload"): UPLOAD,
    **{(method, f"{API}/{route}"): FILES for route in ("file={path_or_url:path}", "proxy={url_path:path}")
       for method in ("GET", "HEAD")},
    ("GET", f"{API}/file/{{path:path}}"): FILES,
    **{(method, f"{API}/{route}"): CLOSED for method, route in (
        ("POST", "process_recording"), ("POST", "component_server"), ("POST", "stream/{event_id}"),
        ("POST", "stream/{event_id}/close"), ("GET", "stream/{session_hash}/{run}/{component_id}/playlist.m3u8"),
        ("GET", "stream/{session_hash}/{run}/{component_id}/{segment_id}.{ext}"),
        ("GET", "stream/{session_hash}/{run}/{component_id}/playlist-file"), ("POST", "vibe-edit"),
        ("POST", "undo-vibe-edit"), ("GET", "vibe-code"), ("POST", "vibe-code"), ("POST", "vibe-starter-queries"),
        ("GET", "dev/reload"), ("GET", "runs"))},
    **{(method, path): QUIET for method, path in (
        ("GET", "/"), ("HEAD", "/"), ("GET", "/config"), ("GET", "/openapi.json"), ("HEAD", "/openapi.json"),
        ("POST", "/login"), ("GET", "/logout"), ("GET", "/svelte/{path:path}"), ("GET", "/static/{path:path}"),
        ("GET", "/assets/{path:path}"), ("GET", "/favicon.ico"), ("GET", "/theme.css"), ("GET", "/robots.txt"),
        ("GET", "/pwa_icon"), ("GET", "/pwa_icon/{size}"), ("GET", "/manifest.json"), ("GET", "/monitoring"),
        ("GET", "/monitoring/summary"), ("GET", "/monitoring/{key}"), ("GET", f"{API}/deep_link"),
        ("GET", f"{API}/user"), ("GET", f"{API}/login_check"), ("GET", f"{API}/token"), ("GET", f"{API}/app_id"),
        ("GET", f"{API}/info"), ("GET", f"{API}/openapi.json"), ("GET", f"{API}/theme.css"),
        ("GET", f"{API}/custom_component/{{id}}/{{environment}}/{{type}}/{{file_name}}"),
        ("POST", f"{API}/reset"), ("GET", f"{API}/heartbeat/{{session_hash}}"), ("POST", f"{API}/cancel"),
        ("GET", f"{API}/queue/status"), ("GET", f"{API}/upload_progress"), ("GET", f"{API}/startup-events"))},
}


def serve_socket_addresses() -> None:
    """Make uvicorn leave the client's address as the socket gave it. By default it trusts
    X-Forwarded-For from 127.0.0.1, so anyone on the machine (or a proxy that passes the header on)
    could be any visitor; the page reads that header itself, and only when LIIF_CLIENT_HEADER says so
    (visitors.client_key). FORWARDED_ALLOW_IPS is uvicorn's own setting, read when Gradio starts it."""
    os.environ["FORWARDED_ALLOW_IPS"] = ""


# -- the queue -------------------------------------------------------------------------------------------


class QueueView:
    """Gradio's queue as the page sees it: whose jobs wait or run (`jobs_from`), the page's rules applied to
    every job it is given (`install_admission`), which result streams are open (`note_read`, `stream_known`).
    Gradio GRADIO_VERSION has no public hook for these; this reads and patches its queue's private
    attributes, and nothing else does."""

    def __init__(self, queue):
        self._queue = queue
        self._read_events = OrderedDict()  # event ids whose result stream was opened (the latest 10,000)
        self._read_sessions = OrderedDict()  # session hashes whose /queue/data stream was opened

    @classmethod
    def of(cls, demo) -> "QueueView":  # after demo.queue()
        return cls(demo._queue)

    def waiting(self) -> list:
        return [event for events in self._queue.event_queue_per_concurrency_id.values() for event in events.queue]

    def running(self) -> list:
        return [event for job in self._queue.active_jobs if job for event in job]

    def jobs_from(self, address: str, session: str | None = None) -> int:
        """Jobs waiting or running from this address (visitors.request_client), of that browser session only
        when `session` is given."""
        return sum(1 for event in self.waiting() + self.running()
                   if visitors.request_client(event.request) == address and (session is None or event.session_hash == session))

    def install_admission(self, refuse, order, unread_after) -> None:
        """Every job the queue is given first goes through `refuse(request)` (request: its client, headers
        and session_hash), a sentence refusing it with Gradio's "queue full" answer, or None; an accepted job's
        queue is put in `order(waiting, running, who)` (who(job) -> (address, session)); a job posted to
        /call/ or joined through /queue/join whose result stream is not opened within `unread_after()`
        seconds leaves the queue."""
        queue, push = self._queue, self._queue.push

        async def push_within_limit(body, request, username):
            session = getattr(body, "session_hash", None)
            # The job's request with the session it is for (Gradio keeps the session in the body).
            refusal = refuse(SimpleNamespace(client=getattr(request, "client", None), headers=request.headers,
                                             session_hash=session))
            if refusal is not None:
                return False, refusal, "queue_full"
            answer = await push(body, request, username)
            success, event_id = answer[0], answer[1]
            if success:
                self._put_in_order(event_id, order)
            if success and ("/call/" in request.url.path or _QUEUE_JOIN.search(request.url.path)):
                joined = None if "/call/" in request.url.path else session
                asyncio.get_running_loop().call_later(unread_after(), lambda: asyncio.ensure_future(
                    self._drop_if_unread(event_id, joined, unread_after())))
            return answer

        queue.push = push_within_limit

    def _put_in_order(self, event_id: str, order) -> None:
        """Put the waiting line that now holds `event_id` in `order`; the other lines are untouched."""
        for events in self._queue.event_queue_per_concurrency_id.values():
            if any(event._id == event_id for event in events.queue):
                concurrency = getattr(events, "concurrency_id", None)
                running = [event for event in self.running() if getattr(event, "concurrency_id", None) == concurrency]
                events.queue[:] = order(list(events.queue), running,
                                        lambda event: (visitors.request_client(event.request), event.session_hash))
                return

    async def _drop_if_unread(self, event_id: str, session: str | None, seconds: float) -> None:
        """Take the job out of the queue unless its result is being read: its /call/ stream (by event id)
        or, for a /queue/join job, its session's /queue/data stream."""
        from gradio.server_messages import ProcessCompletedMessage

        if self._read_events.pop(event_id, None) is not None or (session is not None and session in self._read_sessions):
            return
        waiting = next((event for event in self.waiting() if event._id == event_id), None)
        if waiting is None:
            return  # running or done: it runs to its end
        await self._queue.clean_events(event_id=event_id)
        # A late reader gets this answer and a closed stream, not a wait for a job that will never run.
        messages = self._queue.pending_messages_per_session.get(waiting.session_hash)
        if messages is not None:
            messages.put_nowait(ProcessCompletedMessage(
                output={"error": visitors.UNREAD_DROPPED.format(seconds=seconds)}, success=False, event_id=event_id))

    def note_read(self, path: str, query: str = "") -> None:
        """A result stream was opened (RouteGuard sees every GET of one): its job is being read."""
        match = _CALL_READ.search(path)
        found = _SESSION.search(query) if _QUEUE_DATA.search(path) else None
        for notes, key in ((self._read_events, match and match.group(1)), (self._read_sessions, found and found.group(1))):
            if key:
                notes[key] = True
                notes.move_to_end(key)
                while len(notes) > 10_000:
                    notes.popitem(last=False)

    def stream_known(self, event_id: str | None = None, session: str | None = None) -> bool:
        """Whether Gradio's queue would find the stream of this event (a /call/ read) or session (a
        /queue/data read), found as its routes find it."""
        queue = self._queue
        if event_id is not None:
            event = queue.event_ids_to_events.get(event_id)
            session = event.session_hash if event is not None else next(
                (s for s, ids in list(queue.pending_event_ids_session.items()) if event_id in ids), event_id)
        return session is not None and session in queue.pending_messages_per_session


# -- the middleware -------------------------------------------------------------------------------------

UNKNOWN_STREAM = "No job of this page has this id (it has ended, or never was)."


class RouteGuard:
    """ASGI middleware, inside guard.BodyLimit (it reads bodies whole): closed routes get 404; a result
    stream for a session or event the queue does not hold gets 404 before Gradio opens it (Gradio would
    answer from inside the stream, with three tracebacks in the log); a job whose body names a file
    outside `folder` (the upload folder) is refused before Gradio checks it (a 24-line traceback), with
    guard.FOREIGN_PATH, the answer every such path gets. Each refusal writes one log line. A stream it
    lets through is noted as read in `queue` (a QueueView: a job whose result nobody reads leaves it)."""

    def __init__(self, app, queue: QueueView, folder):
        self.app, self.queue, self.folder = app, queue, os.path.realpath(os.fspath(folder))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope.get("path", ""), scope.get("method", "")
        if _CLOSED.match(path):
            return await _refuse(send, 404, "Not found.", method, path, "closed route")
        if method == "GET" and (_QUEUE_DATA.match(path) or _CALL_READ.match(path)):
            query = scope.get("query_string", b"").decode("latin-1")
            call, session = _CALL_READ.match(path), _SESSION.search(query)
            if not self.queue.stream_known(call and call.group(1), None if call or not session else session.group(1)):
                return await _refuse(send, 404, UNKNOWN_STREAM, method, path, "unknown session")
            self.queue.note_read(path, query)
        content_type = header(scope, b"content-type")  # Gradio parses a body without a type as JSON too
        if method == "POST" and _CARRIES_DATA.match(path) and (content_type is None or b"json" in content_type.lower()):
            messages, received = await read_messages(receive)
            body = b"".join(message.get("body", b"") for message in messages)
            if received is not None and self._names_foreign_file(body):
                return await _refuse(send, 400, FOREIGN_PATH, method, path, "a file outside the upload folder")
            return await self.app(scope, replaying(messages, receive), send)
        return await self.app(scope, receive, send)

    def _names_foreign_file(self, body: bytes) -> bool:
        try:
            data = json.loads(body)
        except ValueError:
            return False  # Gradio answers malformed JSON itself (422), without a traceback
        for path in file_paths(data):
            if path.startswith(("http://", "https://")):
                continue  # a web address: the image input refuses it with its own sentence
            try:
                if not inside(os.path.realpath(path), self.folder):
                    return True
            except (ValueError, OSError):
                return True
        return False


def file_paths(data, depth: int = 0):
    """The `path` of every file object (a dict with a string `path`, as Gradio reads them) in a JSON body."""
    if depth > 32:
        return
    if isinstance(data, dict):
        if isinstance(data.get("path"), str):
            yield data["path"]
        for value in data.values():
            yield from file_paths(value, depth + 1)
    elif isinstance(data, list):
        for value in data:
            yield from file_paths(value, depth + 1)


async def _refuse(send, status: int, text: str, method: str, path: str, why: str) -> None:
    print(f"refused {method} {path[:120]}: {why} ({status})", file=sys.stderr, flush=True)  # one line, no traceback
    await plain_response(send, status, text)
