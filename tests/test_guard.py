"""liif/page/guard.py at unit level: foreign paths, pasted pictures checked before decoding, body sizes."""

import asyncio
import base64
import io
import os

import pytest
from PIL import Image

from liif.page import guard
from liif.render.imageio import ImageInputError


def _png(w=8, h=6) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (w, h), (200, 30, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def _bomb_png(side=13_000) -> bytes:
    """A PNG whose header declares side×side pixels (169 MP) but holds almost nothing: decoding it whole
    would allocate about 0.5 GB; its header alone says it is too large."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _data_url(data: bytes, mime="image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


# -- paths -----------------------------------------------------------------------------------------------


def test_a_file_in_the_upload_folder_passes_resolved(tmp_path):
    uploads = tmp_path / "uploads"
    (uploads / "abc").mkdir(parents=True)
    (uploads / "abc" / "photo.png").write_bytes(_png())
    assert guard.refuse_foreign_path(uploads / "abc" / "photo.png", [uploads]) == os.path.realpath(uploads / "abc" / "photo.png")


def test_foreign_paths_get_one_sentence_whether_they_exist_or_not(tmp_path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    private = tmp_path / "private.png"
    private.write_bytes(_png())
    (tmp_path / "notes.txt").write_text("secret")
    (uploads / "link.png").symlink_to(private)  # a link inside that leads outside
    (tmp_path / "uploads-evil").mkdir()  # a sibling whose name starts like the folder's
    (tmp_path / "uploads-evil" / "x.png").write_bytes(_png())
    attempts = [private, tmp_path / "notes.txt", tmp_path / "missing.png", "/etc/passwd",
                uploads / ".." / "private.png", uploads / "link.png", tmp_path / "uploads-evil" / "x.png",
                "relative.png", "bad\0path", 42]
    answers = set()
    for attempt in attempts:
        with pytest.raises(ImageInputError) as refused:
            guard.refuse_foreign_path(attempt, [uploads])
        answers.add(str(refused.value))
    assert answers == {guard.FOREIGN_PATH}


# -- pasted pictures ---------------------------------------------------------------------------------------


def test_a_pasted_picture_becomes_a_file_in_the_upload_folder(tmp_path):
    path = guard.save_data_url(_data_url(_png()), tmp_path)
    assert path.parent.parent == tmp_path and path.suffix == ".png"
    assert path.read_bytes() == _png()
    assert guard.refuse_foreign_path(path, [tmp_path]) == os.path.realpath(path)
    with Image.open(path) as im:
        assert im.size == (8, 6)


@pytest.mark.parametrize("side", [13_000, 3_000])  # past Pillow's own bomb limit; past only ours (2 MP)
def test_a_pasted_bomb_is_refused_from_its_header_without_being_decoded(tmp_path, monkeypatch, side):
    def no_decoding(*args, **kwargs):
        raise AssertionError("a pixel was decoded")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr(Image.Image, "convert", no_decoding)
    with pytest.raises(ImageInputError, match="(too large|the limit here)"):  # and no pixel decoded (above)
        guard.save_data_url(_data_url(_bomb_png(side)), tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("url, words", [
    ("data:text/plain;base64,aGVsbG8=", "not an image"),
    ("/etc/passwd", "not an image"),
    (_data_url(b"not a picture at all"), "not an image this program reads"),
    ("data:image/png;base64,@@@@", "damaged"),
    (_data_url(b""), "empty"),
])
def test_bad_pasted_pictures_get_a_sentence(tmp_path, url, words):
    with pytest.raises(ImageInputError, match=words):
        guard.save_data_url(url, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_pasted_picture_larger_than_the_body_limit_is_refused_before_decoding_base64(tmp_path, monkeypatch):
    monkeypatch.setattr(guard.base64, "b64decode", lambda *a, **k: pytest.fail("decoded"))
    with pytest.raises(ImageInputError, match="larger than 1,000 bytes"):
        guard.save_data_url(_data_url(b"\0" * 1200), tmp_path, max_bytes=1000)


# -- body sizes --------------------------------------------------------------------------------------------


def _call(app, body: bytes, headers=(), chunks=1, path="/gradio_api/queue/join"):
    """Run one POST through the ASGI `app`; (status, response body, bytes the application read)."""
    sent, read = [], []
    pieces = [body[i * len(body) // chunks:(i + 1) * len(body) // chunks] for i in range(chunks)]
    incoming = [{"type": "http.request", "body": piece, "more_body": i < chunks - 1} for i, piece in enumerate(pieces)]

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": list(headers)}
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"), read


async def _echo(scope, receive, send):
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_bodies_over_the_limit_get_413_by_content_length_and_while_streaming(monkeypatch):
    monkeypatch.delenv("LIIF_MAX_BODY_BYTES", raising=False)
    app = guard.BodyLimit(_echo)
    big = b"x" * (4_000_001)
    status, text, _ = _call(app, big, [(b"content-length", str(len(big)).encode())])
    assert status == 413 and b"4,000,000 bytes" in text
    status, _, _ = _call(app, big, chunks=40)  # no Content-Length: counted as it arrives
    assert status == 413
    status, _, _ = _call(app, big, [(b"content-length", b"10")], chunks=40)  # a Content-Length that lies
    assert status == 413
    small = b'{"data": [1]}' * 1000
    assert _call(app, small, [(b"content-length", str(len(small)).encode())], chunks=3)[:2] == (200, small)


def test_the_body_limit_is_a_setting_and_uploads_are_left_to_their_own_guard(monkeypatch):
    monkeypatch.setenv("LIIF_MAX_BODY_BYTES", "1000")
    app = guard.BodyLimit(_echo)
    assert _call(app, b"x" * 1001)[0] == 413
    assert _call(app, b"x" * 1000)[0] == 200
    assert _call(app, b"x" * 5000, path="/gradio_api/upload")[0] == 200
