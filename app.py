"""LIIF Zoom: the web page. `python app.py` serves it on http://127.0.0.1:7860.

The page answers one question: "I upscaled a tiny profile photo 8x and it looked like a new photo;
how does AI fill in the missing detail?" This file sets the environment, builds the page from a context
(liif/page/layout.py, whose sections are liif/page/sections/) and serves it behind the public Space's
guards (liif/page/visitors.py, liif/page/guard.py). Importing it does nothing else.

Environment: every LIIF_* variable is listed, with its default, in liif/settings.py and the README
(the weights, the precision, the limits, the visitor header); GRADIO_SERVER_NAME and GRADIO_SERVER_PORT
are read by Gradio itself; OMP_NUM_THREADS (torch threads; default: one per core, see below).
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: nothing phones home
# Torch threads (set before torch is imported): one per available core, and threads that sleep rather
# than spin while they wait. Measured on the 2-core machine (RDN, 64x64 at x8 through /upscale, seconds
# for unseen photos; docs/performance.md): idle, 1 thread 3.7-4.7, 2 spinning 2.3-2.8, 2 passive 2.6-2.7;
# beside a busy core, 1 thread 4.3-4.4, 2 spinning 7.7-9.0, 2 passive 4.3-5.3. Passive threads serve an
# idle Space or laptop nearly at full speed without the cliff of spinning threads on a shared machine.
os.environ.setdefault("OMP_NUM_THREADS", str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import signal  # noqa: E402
import sys  # noqa: E402

from starlette.middleware import Middleware  # noqa: E402

from liif.page import files, gradio_adapter, guard, visitors  # noqa: E402
from liif.page.context import PageContext  # noqa: E402
from liif.page.layout import CSS_PATH, PAGE_JS, build_page  # noqa: E402

UPLOAD_LIMIT = "20mb"
# What uploads may occupy on disk: in all, and from one client within the time files are kept.
UPLOADS_TOTAL_BYTES = 1_000_000_000
UPLOADS_PER_CLIENT_BYTES = 100_000_000


def queue_size() -> int:
    """Each browser session may have 2 jobs waiting or running, everyone behind one address 40
    (visitors.py; LIIF_JOBS_PER_SESSION, LIIF_JOBS_PER_ADDRESS), served in turns: the queue holds one full
    address and 16 more visitors. The heaviest job is bounded by LIIF_PAGE_SECONDS."""
    return visitors.jobs_per_address() + 16 * visitors.jobs_per_session()


def _stop(signum, frame):
    raise KeyboardInterrupt  # SIGTERM (a restart) ends the server as Ctrl-C does, so its folder is removed


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    ctx = PageContext.start()
    ctx.start_landing()  # the example answer is made while the page starts
    page = build_page(ctx)
    # Every route of Gradio's is guarded (liif/page/gradio_adapter.py lists them): model work only
    # through the queue and its per-visitor limits, the visitor's address from the socket.
    demo = page.queue(max_size=queue_size(), default_concurrency_limit=1, **gradio_adapter.QUEUE_SETTINGS)
    visitors.limit_jobs_per_client(ctx.queue)  # the page's view of Gradio's queue (gradio_adapter.QueueView)
    gradio_adapter.serve_socket_addresses()
    upload_guard = Middleware(visitors.UploadGuard, folder=ctx.outputs, total_bytes=UPLOADS_TOTAL_BYTES,
                              client_bytes=UPLOADS_PER_CLIENT_BYTES, window=files.OUTPUT_MAX_AGE)
    route_guard = Middleware(gradio_adapter.RouteGuard, queue=ctx.queue, folder=ctx.outputs.root)
    try:
        demo.launch(max_file_size=UPLOAD_LIMIT, css_paths=[CSS_PATH], js=PAGE_JS, show_error=False,
                    **gradio_adapter.LAUNCH_SETTINGS,
                    app_kwargs={"middleware": [Middleware(guard.BodyLimit), route_guard, upload_guard]})
    except KeyboardInterrupt:
        pass  # stopped while starting
    finally:
        ctx.outputs.cleanup()
        # A job may still be computing in a worker thread; finalising the interpreter under it aborts
        # (exit 134, "terminate called without an active exception"). Everything is closed: leave now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
