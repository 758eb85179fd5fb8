"""Sharing one small server fairly between visitors: the page's guards for a public deployment, as rules
that touch nothing of Gradio's (gradio_adapter.QueueView applies the queue's to Gradio's queue).

    limit_jobs_per_client(QueueView.of(demo), 2)  # after demo.queue(): a third waiting job is refused
    demo.launch(app_kwargs={"middleware": [Middleware(UploadGuard, folder=outputs, ...)]})

Why: the model runs one job at a time, so without these one client can fill the queue (a script that
posts jobs and never reads them) or the disk (uploads), and every other visitor is turned away.

A client is the address the request came from. Behind a reverse proxy every request comes from the
proxy; set LIIF_CLIENT_HEADER to the header that carries the visitor's address (e.g. X-Forwarded-For).
Each proxy appends the address it saw to that header, and everything to the left of what our own proxies
appended is the client's own claim: so the visitor is the entry LIIF_TRUSTED_PROXIES (default 1) from the
right end. Trust that header only behind a proxy that sets it: anyone can send it.
"""

import re
import threading
import time
from collections import Counter, OrderedDict, defaultdict, deque

from liif import settings
from liif.page.guard import content_length, plain_response

# A job posted to /call/<api> whose result nobody has started reading this many seconds later is taken
# out of the queue (if it has not started): a script that posts and never reads holds no place. A job
# joined through /queue/join is read through its session's stream, /queue/data?session_hash=...: a
# session whose stream nobody opens holds no place either. Gradio already drops the jobs of a page whose
# visitor left. $LIIF_UNREAD_SECONDS overrides it.
UNREAD_SECONDS = 10.0
# What the page answers when a file link no longer leads anywhere (Gradio's own answer is a bare
# "File not allowed"): results are removed after a while, and with the server that made them.
EXPIRED_FILE = ("This file is no longer here: results and uploads are kept only for a visit (at most 30 minutes) "
                "and never past a restart of the server. Run the photo again to get it back.")


def client_key(headers, peer: str | None) -> str:
    """Who sent a request: `headers` maps lower-case header names to values, `peer` is the socket's
    address."""
    name = settings.client_header()
    if name:
        entries = [entry.strip() for entry in headers.get(name, "").split(",") if entry.strip()]
        if entries:
            # The right-most entries are our proxies' own; with fewer entries than proxies the left-most
            # is still the nearest to the visitor that a proxy wrote.
            trusted = settings.trusted_proxies() or 1
            return entries[-min(trusted, len(entries))]
    return peer or "unknown"


def request_client(request) -> str:
    """client_key of a Starlette/FastAPI request (what Gradio's queue keeps with each job)."""
    peer = request.client.host if getattr(request, "client", None) else None
    return client_key(request.headers, peer)


# -- the queue's rules (gradio_adapter.QueueView applies them to Gradio's queue) -----------------------------


def take_turns(waiting: list, running: list, who) -> list:
    """The waiting jobs reordered so that visitors take turns: round k holds every address's k-th job
    (counting its running job as its first), in order of arrival; within one address (a classroom behind
    one public address), its browser sessions take turns the same way. `who(event)` -> (address, session).

    So a visitor who joins behind someone else's 30 jobs waits for at most the one that is running, and
    30 visitors behind one address each get their first run before anyone's second."""
    address_served = Counter(who(event)[0] for event in running)
    session_turns = Counter(who(event) for event in running)  # each session's turns so far, then as given
    by_address = OrderedDict()
    for arrival, event in enumerate(waiting):
        by_address.setdefault(who(event)[0], []).append((session_turns[who(event)], arrival, event))
        session_turns[who(event)] += 1
    # Within an address, its sessions' turns set its order; across addresses, each address's own turns.
    ranked = sorted((address_served[address] + turn, arrival, event) for address, events in by_address.items()
                    for turn, (_, arrival, event) in enumerate(sorted(events, key=lambda item: item[:2])))
    return [event for _, _, event in ranked]


# Defaults of the two limits; LIIF_JOBS_PER_SESSION and LIIF_JOBS_PER_ADDRESS override them.
JOBS_PER_SESSION = 2
JOBS_PER_ADDRESS = 40  # a class of 30 behind one school address, each with a run and a check


def jobs_per_session() -> int:
    return settings.jobs_per_session() or JOBS_PER_SESSION


def jobs_per_address() -> int:
    return settings.jobs_per_address() or JOBS_PER_ADDRESS


def refusal_for(queue, request, per_session: int | None = None, per_address: int | None = None) -> str | None:
    """The sentence a visitor gets when their browser session, or everyone behind their address, already
    has as many jobs waiting or running as the page takes; None when a new job would be accepted. `queue`
    counts them (`jobs_from(address, session=None)`: gradio_adapter.QueueView). The page asks this before
    queueing a job, to say it next to the button pressed (the queue's own refusal reaches the page only as
    Gradio's generic "busy" message), and the queue asks it of every job it is given."""
    client = request_client(request)
    session = getattr(request, "session_hash", None)
    most = per_session or jobs_per_session()
    if session is not None and queue.jobs_from(client, session) >= most:
        return (f"You already have {most} requests waiting or running, as many as this page takes from one "
                "visitor at a time: wait for one to finish, then press again.")
    most = per_address or jobs_per_address()
    if queue.jobs_from(client) >= most:
        return (f"{most} requests from your network (everyone behind your public address, e.g. a school or an "
                "office) are waiting or running, as many as this page takes from one network at a time: wait a "
                "minute, then press again.")
    return None


def limit_jobs_per_client(queue, per_session: int | None = None, per_address: int | None = None) -> None:
    """Refuse a job when its browser session already has `per_session` waiting or running, or its address
    `per_address` (defaults: jobs_per_session(), jobs_per_address()); the refusal is Gradio's "queue full"
    answer with a sentence saying why. Accepted jobs are served in turns (take_turns). A job posted to
    /call/, or joined through /queue/join, whose result stream is not opened within unread_seconds() leaves
    the queue. `queue`: gradio_adapter.QueueView."""
    queue.install_admission(lambda request: refusal_for(queue, request, per_session, per_address),
                            order=take_turns, unread_after=unread_seconds)


def unread_seconds() -> float:
    return settings.unread_seconds() or UNREAD_SECONDS


UNREAD_DROPPED = ("This job was taken out of the queue because nobody read its result within {seconds:g} s "
                  "of posting it; post it again and read the result at once.")


# -- uploads and file links ------------------------------------------------------------------------------


class UploadGuard:
    """ASGI middleware: bounds what uploads can occupy and words the answer to an expired file link.

    An upload is refused (HTTP 413, one sentence) when it would take the server's folder past
    `total_bytes`, or its client past `client_bytes` within the last `window` seconds, or when it does
    not say its size. A job's JSON body of PASTED_BYTES or more (a pasted picture) counts the same way;
    a body the server refuses (4xx/5xx) is not counted. A 403 for a file link gets EXPIRED_FILE instead of a bare "File not allowed".
    """

    def __init__(self, app, folder, total_bytes: int, client_bytes: int, window: float):
        self.app, self.folder = app, folder
        self.total_bytes, self.client_bytes, self.window = total_bytes, client_bytes, window
        self._recent = defaultdict(deque)  # client -> (time, bytes) of its uploads in the window
        self._lock = threading.Lock()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope.get("path", ""), scope.get("method", "")
        upload = method == "POST" and path.rstrip("/").endswith("/upload")
        if upload or (method == "POST" and _carries_pictures(path) and content_length(scope) >= PASTED_BYTES):
            refusal, entry = self._take(scope, must_say_size=upload)
            if refusal is not None:
                return await plain_response(send, 413, refusal)
            if entry is not None:
                return await self.app(scope, receive, self._forgetting_if_refused(send, *entry))
        elif method in ("GET", "HEAD") and "/file=" in path:
            return await self.app(scope, receive, _replacing_403(send, EXPIRED_FILE))
        return await self.app(scope, receive, send)

    def _take(self, scope, must_say_size: bool) -> tuple:
        """(refusal, None), or (None, (client, entry)) with the body's bytes counted for its client."""
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope.get("headers", [])}
        size = content_length(scope)
        if size < 0:
            if must_say_size:
                return "Uploads must say their size (Content-Length); send the file as a browser does.", None
            return None, None  # a JSON body without a length: LIIF_MAX_BODY_BYTES bounds it (guard.BodyLimit)
        client = client_key(headers, (scope.get("client") or (None,))[0])
        now = time.monotonic()
        with self._lock:
            recent = self._recent[client]
            while recent and recent[0][0] < now - self.window:
                recent.popleft()
            if sum(n for _, n in recent) + size > self.client_bytes:
                return (f"You have uploaded {self.client_bytes / 1e6:.0f} MB in the last {self.window / 60:.0f} minutes, "
                        "as much as this page takes from one visitor; try again later."), None
            if self.folder.size_bytes() + size > self.total_bytes:
                return "This server's space for uploads is full just now; try again in a few minutes.", None
            entry = (now, size)
            recent.append(entry)
        return None, (client, entry)

    def _forgetting_if_refused(self, send, client, entry):
        """A `send` that uncounts the body when the server refuses it (e.g. Gradio's max_file_size): a
        refused upload occupies nothing, so it must not use up the visitor's share."""

        async def wrapped(message):
            if message["type"] == "http.response.start" and message["status"] >= 400:
                with self._lock:
                    try:
                        self._recent[client].remove(entry)
                    except ValueError:
                        pass  # already out of the window
            return await send(message)

        return wrapped


# A JSON body this large carries a pasted picture (a data URL): it counts in the visitor's upload share.
PASTED_BYTES = 64_000
_PICTURE_ROUTES = re.compile(r"/(queue/join|call/(?:v2/)?[^/]+|run/[^/]+|api/[^/]+)/?$")


def _carries_pictures(path: str) -> bool:
    return bool(_PICTURE_ROUTES.search(path))


def _replacing_403(send, text: str):
    """A `send` that turns a 403 response into `text` (same status), leaving every other response alone."""
    replaced = False

    async def wrapped(message):
        nonlocal replaced
        if message["type"] == "http.response.start" and message["status"] == 403:
            replaced = True
            return await plain_response(send, 403, text)
        if replaced:
            return None  # the original body is dropped
        return await send(message)

    return wrapped
