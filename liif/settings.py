"""Every `LIIF_*` environment variable: its name, default and meaning, and the one parser of each.

    from liif import settings
    settings.max_input_pixels()          # $LIIF_MAX_INPUT_PIXELS as a number, or None when unset

Nothing else in `liif/` reads a `LIIF_*` variable (tests/test_repository.py checks it), and the README
lists every one of them. Values are read when asked for, not at import, so a launcher or a test can set
the environment first. The layer below everything: it imports nothing from `liif`.
"""

import math
import os
from dataclasses import dataclass
from pathlib import Path

WEIGHTS = "LIIF_WEIGHTS"
PRECISION = "LIIF_PRECISION"
MAX_INPUT_PIXELS = "LIIF_MAX_INPUT_PIXELS"
MAX_OUTPUT_PIXELS = "LIIF_MAX_OUTPUT_PIXELS"
PAGE_SECONDS = "LIIF_PAGE_SECONDS"
CLIENT_HEADER = "LIIF_CLIENT_HEADER"
UNREAD_SECONDS = "LIIF_UNREAD_SECONDS"
TRUSTED_PROXIES = "LIIF_TRUSTED_PROXIES"
MAX_BODY_BYTES = "LIIF_MAX_BODY_BYTES"
JOBS_PER_SESSION = "LIIF_JOBS_PER_SESSION"
JOBS_PER_ADDRESS = "LIIF_JOBS_PER_ADDRESS"

# What the engine can compute in (liif/render/precision.py says what each one means and how auto chooses).
PRECISIONS = ("fp32", "bf16", "int8")


@dataclass(frozen=True)
class Variable:
    name: str
    default: str  # in words, as the README gives it
    meaning: str


VARIABLES = (
    Variable(WEIGHTS, "every file in weights/", "the one weights file the page offers (ours or the authors' .pth)"),
    Variable(PRECISION, "auto", "fp32, bf16, int8 or auto: what the page's models compute in (auto: int8 on x86 CPUs, with a bf16 encoder where the CPU has bf16 units; bf16 on CUDA; fp32 elsewhere)"),
    Variable(MAX_INPUT_PIXELS, "2,000,000", "the largest input accepted, in pixels"),
    Variable(MAX_OUTPUT_PIXELS, "36,000,000 (the page: 2,000,000)", "the largest output made, in pixels"),
    Variable(PAGE_SECONDS, "10", "the most model compute one page request may ask for, in seconds"),
    Variable(CLIENT_HEADER, "none", "behind a reverse proxy: the header with the visitor's address"),
    Variable(UNREAD_SECONDS, "10", "a posted job whose result nobody reads within this many seconds leaves the queue"),
    Variable(TRUSTED_PROXIES, "1", "how many proxies append to LIIF_CLIENT_HEADER: the visitor is that many entries from its right end"),
    Variable(MAX_BODY_BYTES, "4,000,000", "the largest request body other than a file upload, in bytes (JSON with a pasted picture)"),
    Variable(JOBS_PER_SESSION, "2", "jobs one browser session (or one API call) may have waiting or running"),
    Variable(JOBS_PER_ADDRESS, "40", "jobs everyone behind one address (a school, an office) may have waiting or running"),
)


class SettingError(ValueError):
    """A variable set to a value that cannot be used; the message names the variable."""


def _text(name: str, environ=None) -> str:
    return (os.environ if environ is None else environ).get(name, "").strip()


def parse_count(value, what: str) -> int:
    """A whole number at least 1: 2000000, "2_000_000" or "2e6" -> 2000000. Raises SettingError naming `what`."""
    try:
        n = float(value.replace("_", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise SettingError(f"{what} must be a whole number of pixels, not {value!r}") from None
    if not math.isfinite(n) or n < 1 or n != int(n):
        raise SettingError(f"{what} must be a whole number of pixels, at least 1, not {value!r}")
    return int(n)


def _seconds(name: str, environ=None) -> float | None:
    """A positive number of seconds, or None when unset or unusable (the caller's default applies: a
    server must not refuse to start over a typo in a limit)."""
    text = _text(name, environ)
    try:
        seconds = float(text) if text else math.nan
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def weights(environ=None) -> Path | None:
    text = _text(WEIGHTS, environ)
    return Path(text) if text else None


def precision(environ=None) -> str:
    """fp32, bf16, int8 or auto (unset). Raises SettingError for anything else: a typo must not quietly
    run another precision than the one asked for."""
    text = _text(PRECISION, environ).lower() or "auto"
    if text not in PRECISIONS + ("auto",):
        raise SettingError(f"{PRECISION} must be one of {', '.join(PRECISIONS)} or auto, not {text!r}")
    return text


def max_input_pixels(environ=None) -> int | None:
    return _count(MAX_INPUT_PIXELS, environ)


def max_output_pixels(environ=None) -> int | None:
    return _count(MAX_OUTPUT_PIXELS, environ)


def page_seconds(environ=None) -> float | None:
    return _seconds(PAGE_SECONDS, environ)


def client_header(environ=None) -> str:
    """The lower-case header name, or "" to use the socket's address."""
    return _text(CLIENT_HEADER, environ).lower()


def unread_seconds(environ=None) -> float | None:
    return _seconds(UNREAD_SECONDS, environ)


def _count_or_none(name: str, environ=None) -> int | None:
    """A whole number at least 1, or None when unset or unusable (the caller's default applies)."""
    try:
        return _count(name, environ)
    except SettingError:
        return None


def _count(name: str, environ=None) -> int | None:
    text = _text(name, environ)
    return parse_count(text, name) if text else None


def trusted_proxies(environ=None) -> int | None:
    return _count_or_none(TRUSTED_PROXIES, environ)


def max_body_bytes(environ=None) -> int | None:
    return _count_or_none(MAX_BODY_BYTES, environ)


def jobs_per_session(environ=None) -> int | None:
    return _count_or_none(JOBS_PER_SESSION, environ)


def jobs_per_address(environ=None) -> int | None:
    return _count_or_none(JOBS_PER_ADDRESS, environ)

