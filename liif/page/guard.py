"""What every image input of a public page passes before anything reads it: only this server's own files,
a pasted picture's header checked before it is decoded, and bodies of bounded size.

    path = refuse_foreign_path(payload.path, [outputs.root])         # an upload, or one sentence
    path = save_data_url(payload.url, outputs.root)                  # a pasted picture, as an upload
    demo.launch(app_kwargs={"middleware": [Middleware(BodyLimit)]})  # 413 past LIIF_MAX_BODY_BYTES

Why: Gradio checks a file object against its upload folder only when it carries Gradio's `meta`, so an
API client could name any file of the server (`{"path": "/srv/private.png"}`) and get it back upscaled;
and a data URL in a JSON body was decoded by Pillow whole, with no size check, before our code saw it.
Imports nothing from Gradio: the page calls these from its components (`liif` stays usable without it).
"""

import base64
import binascii
import math
import os
import re
import tempfile
from pathlib import Path

from liif import settings
from liif.render import imageio
from liif.render.imageio import ImageInputError

# One sentence for every path that is not this server's own upload, whether or not such a file exists
# (different answers would tell a stranger which files the server holds).
FOREIGN_PATH = ("This picture did not come from this page: send the picture itself (upload or paste it), "
                "not the name of a file on the server.")
# A path inside the upload folder that is not a file (a folder, an upload removed after its visit): one
# sentence for every endpoint (they used to say "a folder" or "no such file", each its own way).
UPLOAD_GONE = ("This picture is no longer on the server (uploads are kept for a visit, at most 30 minutes): "
               "upload it again.")
# The largest request body other than a file upload: a pasted 2 MP photo as JPEG or WebP fits easily.
MAX_BODY_BYTES = 4_000_000
TOO_LARGE_BODY = ("This request is larger than {limit:,} bytes, the most this page takes in one request; "
                  "upload a large picture as a file instead of pasting it.")
_DATA_URL = re.compile(r"data:(image/[A-Za-z0-9.+-]+)((?:;[A-Za-z0-9=.+-]+)*);base64,", re.ASCII)
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "BMP": "bmp", "TIFF": "tif", "GIF": "gif"}


def inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def refuse_foreign_path(path, allowed_roots) -> str:
    """`path` resolved (symlinks followed, `..` removed), when it is a file inside one of `allowed_roots`
    (this server's upload and cache folders, also resolved); else ImageInputError(FOREIGN_PATH), or
    ImageInputError(UPLOAD_GONE) for what lies inside but is no file."""
    try:
        real = os.path.realpath(os.fspath(path))
    except (TypeError, ValueError, OSError):  # not a path at all, or a NUL byte in it
        raise ImageInputError(FOREIGN_PATH) from None
    for root in allowed_roots:
        if inside(real, os.path.realpath(os.fspath(root))):
            if not os.path.isfile(real):
                raise ImageInputError(UPLOAD_GONE)
            return real
    raise ImageInputError(FOREIGN_PATH)


# An absolute path in a sentence: a sentence keeps only its last part (the file's name).
_SERVER_PATH = re.compile(r"(?<![\w.~:/-])/(?:[^\s/'\"`,;:()]+/)+([^\s/'\"`,;:()]+)")


def without_paths(text: str) -> str:
    """`text` with every absolute path cut to its file's name: what a visitor reads never shows where the
    server keeps its uploads or its weights ("/tmp/liif-zoom-41-x/3fa.../big.png is 1400×1400" becomes
    "big.png is 1400×1400")."""
    return _SERVER_PATH.sub(lambda match: match.group(1), text)


def max_body_bytes() -> int:
    return settings.max_body_bytes() or MAX_BODY_BYTES


def save_data_url(url: str, folder, max_bytes: int | None = None) -> Path:
    """Write the picture of a `data:image/...;base64,...` URL to a new file in `folder` (the upload folder,
    so it counts as an upload does) and return its path. Only the base64 text is decoded, at most
    `max_bytes` of it (default: LIIF_MAX_BODY_BYTES); the header's format and size are checked with
    `imageio.check_header` before the file exists, and no pixel is decoded here at all."""
    max_bytes, name = max_bytes or max_body_bytes(), "the pasted picture"
    match = _DATA_URL.match(url) if isinstance(url, str) else None
    if match is None:
        raise ImageInputError(f"{name} is not an image this program reads (a data URL must start with "
                              f"data:image/...;base64,); supported: {imageio.SUPPORTED_NAMES}")
    text = url[match.end():]
    if len(text) > (max_bytes + 2) // 3 * 4 + 4:  # base64 is 4 characters per 3 bytes: bounded before decoding
        raise ImageInputError(f"{name} is larger than {max_bytes:,} bytes; upload it as a file instead")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ImageInputError(f"{name} could not be read (its base64 text is damaged)") from None
    fmt, _, _ = imageio.check_header(data, None, name)
    path = Path(tempfile.mkdtemp(prefix="pasted-", dir=folder)) / f"pasted.{EXTENSIONS.get(fmt, 'img')}"
    path.write_bytes(data)
    return path


class BodyLimit:
    """ASGI middleware: a request whose body is larger than LIIF_MAX_BODY_BYTES gets HTTP 413 and one
    sentence, judged on its Content-Length before it is read and, when it gives none or lies, while it
    streams (at most that many bytes are ever held). File uploads (`.../upload`) are left to the upload
    guard and Gradio's max_file_size, which bound them by their own rules."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path", "").rstrip("/").endswith("/upload"):
            return await self.app(scope, receive, send)
        limit = max_body_bytes()
        if header(scope, b"content-length") is not None and content_length(scope) < 0:
            return await plain_response(send, 400, "This request's Content-Length is not a number.")
        if content_length(scope) > limit:
            return await plain_response(send, 413, TOO_LARGE_BODY.format(limit=limit))
        if scope.get("method", "GET") in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        # A body without Content-Length, or one longer than it said, is cut off at the limit.
        messages, received = await read_messages(receive, limit)
        if received is not None and received > limit:
            return await plain_response(send, 413, TOO_LARGE_BODY.format(limit=limit))
        return await self.app(scope, replaying(messages, receive), send)


def header(scope, name: bytes) -> bytes | None:
    """The value of the request's header `name` (lower case), or None."""
    return next((value for key, value in scope.get("headers", []) if key.lower() == name), None)


def content_length(scope) -> int:
    """The request's Content-Length, or -1 when it gives none (or not a number)."""
    try:
        return int(header(scope, b"content-length"))
    except (TypeError, ValueError):
        return -1


async def read_messages(receive, limit: float = math.inf) -> tuple:
    """(messages, bytes received) of a request read until its body ends or passes `limit` bytes (so at most
    that many are held); bytes None when the client went away (the application, handed the messages, sees
    that too)."""
    messages, received = [], 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        received += len(message.get("body", b""))
        if received > limit or not message.get("more_body", False):
            return messages, received


def replaying(messages, receive):
    """A `receive` that hands the application the messages already read, then the rest."""
    async def replay():
        return messages.pop(0) if messages else await receive()

    return replay


async def plain_response(send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
