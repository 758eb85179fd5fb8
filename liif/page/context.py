"""What the page's sections share, made once per server (or per test): the models, the visitors' folder,
the examples, the example run made at start. Sections read it; nothing here is built on import.

    ctx = PageContext.start()                 # the server's: models loading, leftovers removed
    ctx = PageContext(shelf, outputs)         # a test's own
"""

import atexit
import secrets
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from liif.page import files, models, session

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "assets" / "examples").glob("*.png"))
# The example run made at start, so the page answers the question before any visitor runs anything.
LANDING_EXAMPLE, LANDING_SCALE = REPO / "assets" / "examples" / "grace-hopper-48.png", 8


@dataclass
class PageContext:
    shelf: models.ModelShelf
    outputs: files.OutputFolder
    examples: list = field(default_factory=lambda: list(EXAMPLES))
    landing_example: Path = LANDING_EXAMPLE
    landing_scale: int = LANDING_SCALE
    landing: session.ExampleRun | None = None
    queue: object = None  # gradio_adapter.QueueView, once the page is queued (visitors.refusal_for reads it)
    _landing_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def start(cls) -> "PageContext":
        """The server's context: the default model loads (and is timed) in the background, folders of
        servers that were killed are removed, and this server's folder is removed at exit."""
        shelf = models.ModelShelf()
        for reason in shelf.unusable.values():
            print(f"not offered: {reason}", file=sys.stderr)
        shelf.load_in_background()
        files.OutputFolder.remove_leftovers()
        outputs = files.OutputFolder()
        atexit.register(outputs.cleanup)
        return cls(shelf, outputs)

    def start_landing(self) -> session.ExampleRun:
        """The example run, started on first need (the server starts it before it listens)."""
        with self._landing_lock:
            if self.landing is None:
                self.landing = session.ExampleRun(self.shelf, self.landing_example, self.landing_scale)
        return self.landing

    def model_label(self, model_name) -> str:
        """What the menu calls a model ("" when there is none)."""
        name = model_name or self.shelf.default_name
        return dict((value, label) for label, value in self.shelf.choices).get(name, name or "")


def visitor(request) -> str:
    """Whose work this is: the browser session (an API call is a session of its own). The engine keeps
    each visitor's encodings apart (ModelShelf.working). A call without a session is an owner of its own:
    were they all one owner, a caller would see (as a faster run) that someone else ran the same picture."""
    return getattr(request, "session_hash", None) or f"call-{secrets.token_hex(8)}"
