"""Telling visitors apart behind a proxy (liif/page/visitors.py), at unit level: no server is started."""

import pytest

from liif import settings
from liif.page.gradio_adapter import QueueView
from liif.page.visitors import client_key


@pytest.fixture
def behind_a_proxy(monkeypatch):
    monkeypatch.setenv(settings.CLIENT_HEADER, "X-Forwarded-For")
    monkeypatch.delenv(settings.TRUSTED_PROXIES, raising=False)
    return monkeypatch


def test_the_visitor_is_the_entry_the_proxy_appended_not_the_clients_own_claim(behind_a_proxy):
    """A client may send any X-Forwarded-For; the proxy appends what it saw. Rotating the left part must
    not make a new visitor."""
    keys = {client_key({"x-forwarded-for": f"10.0.0.{n}, 203.0.113.7"}, "127.0.0.1") for n in range(30)}
    assert keys == {"203.0.113.7"}
    assert client_key({"x-forwarded-for": "198.51.100.2"}, "127.0.0.1") == "198.51.100.2"


def test_more_trusted_proxies_count_from_the_right(behind_a_proxy):
    behind_a_proxy.setenv(settings.TRUSTED_PROXIES, "2")
    header = {"x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.1.1.1"}  # claim, visitor, our first proxy
    assert client_key(header, "127.0.0.1") == "203.0.113.7"
    assert client_key({"x-forwarded-for": "203.0.113.7"}, "127.0.0.1") == "203.0.113.7"  # fewer than 2


def test_without_the_header_setting_the_socket_decides(monkeypatch):
    monkeypatch.delenv(settings.CLIENT_HEADER, raising=False)
    assert client_key({"x-forwarded-for": "6.6.6.6"}, "192.0.2.1") == "192.0.2.1"
    assert client_key({}, None) == "unknown"


def test_an_unusable_proxy_count_falls_back_to_one(behind_a_proxy):
    behind_a_proxy.setenv(settings.TRUSTED_PROXIES, "two")
    assert settings.trusted_proxies() is None
    assert client_key({"x-forwarded-for": "6.6.6.6, 203.0.113.7"}, None) == "203.0.113.7"


class _FakeQueue:
    """What QueueView uses of Gradio's queue: push, the waiting events, clean_events (tests/test_gradio_adapter.py
    runs the same rules on the real one)."""

    def __init__(self):
        import asyncio
        from types import SimpleNamespace

        self.waiting, self.cleaned, self.active_jobs = [], [], []
        self.event_queue_per_concurrency_id = {"model": SimpleNamespace(queue=self.waiting)}
        self.pending_messages_per_session = {}
        self._asyncio, self._ns = asyncio, SimpleNamespace

    async def push(self, body, request, username):
        event_id = f"{len(self.waiting) + len(self.cleaned):032x}"
        self.waiting.append(self._ns(_id=event_id, session_hash=body.session_hash, request=request))
        self.pending_messages_per_session.setdefault(body.session_hash, self._asyncio.Queue())
        return True, event_id, "success"

    async def clean_events(self, event_id=None, session_hash=None):
        self.cleaned.append(event_id)
        self.waiting[:] = [e for e in self.waiting if e._id != event_id]


def _join(queue, session: str, path="/gradio_api/queue/join"):
    from types import SimpleNamespace

    request = SimpleNamespace(url=SimpleNamespace(path=path), headers={}, client=SimpleNamespace(host="203.0.113.9"))
    return queue.push(SimpleNamespace(session_hash=session), request, None)


def test_a_queue_join_whose_stream_is_never_opened_leaves_the_queue(monkeypatch):
    """Like a /call job nobody reads: 30 joins that never open /queue/data must not hold the worker."""
    import asyncio

    from liif.page import visitors

    monkeypatch.setenv(settings.UNREAD_SECONDS, "0.05")
    monkeypatch.delenv(settings.CLIENT_HEADER, raising=False)

    async def scenario():
        queue = _FakeQueue()
        view = QueueView(queue)
        visitors.limit_jobs_per_client(view, 2)
        _, abandoned, _ = await _join(queue, "never-reads")
        _, honest, _ = await _join(queue, "reads")
        view.note_read("/gradio_api/queue/data", "session_hash=reads")  # what RouteGuard notes on GET
        await asyncio.sleep(0.2)
        return queue, abandoned, honest

    queue, abandoned, honest = asyncio.run(scenario())
    assert queue.cleaned == [abandoned]
    assert [event._id for event in queue.waiting] == [honest]
    told = queue.pending_messages_per_session["never-reads"].get_nowait()
    assert "nobody read its result" in told.output["error"]


def test_the_route_guard_notes_which_session_streams_are_open(tmp_path):
    import asyncio

    from liif.page.gradio_adapter import RouteGuard

    async def app(scope, receive, send):
        return None

    queue = _FakeQueue()
    queue.pending_messages_per_session["s3ss10n"] = asyncio.Queue()
    view = QueueView(queue)
    guard = RouteGuard(app, view, tmp_path)
    scope = {"type": "http", "method": "GET", "path": "/gradio_api/queue/data",
             "query_string": b"session_hash=s3ss10n", "headers": []}
    asyncio.run(guard(scope, None, None))
    assert "s3ss10n" in view._read_sessions


class _Folder:
    def size_bytes(self):
        return 0


def _post(guard, size, path, status=200, client="203.0.113.9"):
    import asyncio

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    guard.app, sent = app, []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "client": (client, 1),
             "headers": [(b"content-length", str(size).encode())]}
    asyncio.run(guard(scope, None, send))
    return sent[0]["status"]


def test_pasted_pictures_count_in_the_visitors_upload_share_and_refused_uploads_do_not(monkeypatch):
    from liif.page import visitors

    monkeypatch.delenv(settings.CLIENT_HEADER, raising=False)
    share = 300_000
    guard = visitors.UploadGuard(None, folder=_Folder(), total_bytes=10**9, client_bytes=share, window=60)
    # Uploads Gradio refuses (too large for max_file_size: 413) occupy nothing and use up nothing.
    for _ in range(5):
        assert _post(guard, 200_000, "/gradio_api/upload", status=413) == 413
    assert _post(guard, 200_000, "/gradio_api/upload") == 200
    # A job whose JSON carries a pasted picture counts like an upload: this one is past the share.
    assert _post(guard, 200_000, "/gradio_api/queue/join") == 413
    assert _post(guard, 200_000, "/gradio_api/call/upscale", client="198.51.100.1") == 200
    assert _post(guard, 200_000, "/gradio_api/call/upscale", client="198.51.100.1") == 413
    assert _post(guard, 500, "/gradio_api/queue/join") == 200  # small JSON (no picture) is not counted


def _job(address: str, session: str, name: str):
    from types import SimpleNamespace

    return SimpleNamespace(address=address, session=session, name=name)


def _names(events) -> list:
    return [event.name for event in events]


def test_visitors_take_turns_behind_someone_elses_flood():
    """The honest visitor's job goes right after the abuser's running one, not behind their 29 waiting."""
    from liif.page.visitors import take_turns

    who = lambda event: (event.address, event.session)  # noqa: E731
    running = [_job("B", "b0", "b-run")]
    waiting = [_job("B", f"b{k}", f"b{k}") for k in range(1, 30)] + [_job("A", "a", "honest")]
    assert _names(take_turns(waiting, running, who))[0] == "honest"
    # With nothing running, round 0 holds each address's first job in order of arrival.
    order = _names(take_turns(waiting, [], who))
    assert order[:2] == ["b1", "honest"] and order[2:] == [f"b{k}" for k in range(2, 30)]


def test_a_class_behind_one_address_gets_everyones_first_run_before_anyones_second():
    from liif.page.visitors import take_turns

    who = lambda event: (event.address, event.session)  # noqa: E731
    waiting = []
    for pupil in range(30):
        waiting += [_job("school", f"p{pupil}", f"p{pupil}-run"), _job("school", f"p{pupil}", f"p{pupil}-check")]
    order = _names(take_turns(waiting, [], who))
    assert order[:30] == [f"p{pupil}-run" for pupil in range(30)]
    assert order[30:] == [f"p{pupil}-check" for pupil in range(30)]
    assert sorted(order) == sorted(_names(waiting))  # nothing lost, nothing doubled


def test_limits_count_per_session_inside_a_cap_per_address(monkeypatch):
    """Three browser contexts on one address used to share 2 jobs: the third visitor was refused."""
    import asyncio

    from liif.page import visitors

    monkeypatch.delenv(settings.CLIENT_HEADER, raising=False)
    monkeypatch.setenv(settings.UNREAD_SECONDS, "60")

    async def scenario():
        queue = _FakeQueue()
        visitors.limit_jobs_per_client(QueueView(queue), per_session=2, per_address=5)
        answers = [await _join(queue, f"visitor{k}") for k in (1, 1, 1, 2, 3, 4)]
        return queue, answers

    queue, answers = asyncio.run(scenario())
    assert [a[0] for a in answers] == [True, True, False, True, True, True]
    assert "You already have 2 requests waiting or running" in answers[2][1]
    assert len(queue.waiting) == 5
    # Visitors take turns in the queue itself: visitor 1's second job is after everyone's first.
    assert [e.session_hash for e in queue.waiting] == ["visitor1", "visitor2", "visitor3", "visitor4", "visitor1"]

    async def one_more():
        return await _join(queue, "visitor5")

    visitors.limit_jobs_per_client(QueueView(queue), per_session=2, per_address=5)
    refused = asyncio.run(one_more())
    assert refused[0] is False and "5 requests from your network" in refused[1]


def test_the_job_limits_are_settings(monkeypatch):
    from liif.page import visitors

    monkeypatch.setenv(settings.JOBS_PER_SESSION, "3")
    monkeypatch.setenv(settings.JOBS_PER_ADDRESS, "100")
    assert visitors.jobs_per_session() == 3 and visitors.jobs_per_address() == 100
    monkeypatch.setenv(settings.JOBS_PER_ADDRESS, "lots")
    assert visitors.jobs_per_address() == visitors.JOBS_PER_ADDRESS


def test_the_page_can_ask_before_queueing_and_gets_the_sentence(monkeypatch):
    """Three browser tabs behind one address were shown only red "Error" pills: the queue's refusal
    reaches the page as Gradio's generic "busy". The page asks first (refusal_for) and says why."""
    import asyncio
    from types import SimpleNamespace

    from liif.page import visitors

    monkeypatch.delenv(settings.CLIENT_HEADER, raising=False)
    monkeypatch.setenv(settings.UNREAD_SECONDS, "60")

    async def fill():
        queue = QueueView(_FakeQueue())
        visitors.limit_jobs_per_client(queue, per_session=2, per_address=40)
        for _ in range(2):
            await _join(queue._queue, "busy-tab")
        return queue

    queue = asyncio.run(fill())

    def tab(session):
        return SimpleNamespace(session_hash=session, headers={}, client=SimpleNamespace(host="203.0.113.9"))

    assert "You already have 2 requests waiting or running" in visitors.refusal_for(queue, tab("busy-tab"))
    assert visitors.refusal_for(queue, tab("other-tab")) is None  # same address, another visitor: served
    assert "from your network" in visitors.refusal_for(queue, tab("other-tab"), per_address=2)
