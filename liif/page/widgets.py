"""The page's building blocks that every section uses: the guarded image input, pictures of one look, the
one way a button queues model work, and the one way a failure becomes a sentence."""

import functools
import inspect
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import gradio as gr
from gradio_client import utils as client_utils

from liif.core.weights import WeightsError
from liif.page import guard, visitors, wait
from liif.render import imageio

DISPLAY_HEIGHT = 360  # every picture in the results row is shown at this height
# One model computation at a time: torch already uses both cores of the 2-core CPU this runs on, and
# the run, the magnifier, the experiments and the API share one engine.
MODEL_WORK = "liif-model"
# What a visitor's input can get wrong, or a model that cannot run: said in one sentence, never a traceback.
EXPECTED_PROBLEMS = (imageio.ImageInputError, WeightsError)


class PhotoUpload(gr.Image):
    """An image upload that passes the file on untouched, so liif.render.imageio judges every upload and a
    visitor gets its one-sentence reason (gr.Image would open it with Pillow first and fail with a
    traceback on a non-image). `is_template` makes Gradio draw it with gr.Image's frontend."""

    is_template = True

    def preprocess(self, payload):
        # Every image input of every endpoint comes through here. A file object may name any path: only
        # this server's own upload folder is read, and every other path gets one sentence (no oracle for
        # which files exist). A pasted picture (data URL) is saved there after a header-only check.
        if payload is None:
            return None
        try:
            if payload.path is None and (payload.url or "").startswith("data:"):
                return str(guard.save_data_url(payload.url, self.GRADIO_CACHE))
            return guard.refuse_foreign_path(payload.path, [self.GRADIO_CACHE])
        except imageio.ImageInputError as exc:
            raise sentence(exc) from None

    # Gradio downloads an image given as a web address, with no size limit: refuse it instead.
    def move_resource_to_block_cache(self, url_or_file_path):
        _refuse_web_address(url_or_file_path)
        return super().move_resource_to_block_cache(url_or_file_path)

    async def async_move_resource_to_block_cache(self, url_or_file_path):
        _refuse_web_address(url_or_file_path)
        return await super().async_move_resource_to_block_cache(url_or_file_path)


def _refuse_web_address(path) -> None:
    if path is not None and client_utils.is_http_url_like(str(path)):
        raise gr.Error("Send the picture itself, not a web address: this page fetches nothing from the internet.",
                       print_exception=False)


def sentence(exc: Exception) -> gr.Error:
    """An expected problem as the error the page shows: its one sentence, no traceback, no server path."""
    return gr.Error(guard.without_paths(str(exc)), print_exception=False)


@contextmanager
def said_as_sentence():
    """Model work for a visitor: an EXPECTED_PROBLEM inside becomes the page's one sentence (`sentence`).
    Every handler's model work runs inside it (directly, or through liif/page/experiments.py)."""
    try:
        yield
    except EXPECTED_PROBLEMS as exc:
        raise sentence(exc) from None


def unless_expected(compute, otherwise=None):
    """compute(), or `otherwise` when an expected problem stops it: for the instant answers that follow a new
    photo or control (unqueued), where saying nothing is right, because Run says why, in its sentence."""
    try:
        return compute()
    except EXPECTED_PROBLEMS:
        return otherwise


def upload_size(upload) -> tuple | None:
    """(width, height) of an upload from its header alone; None when there is no picture the page can read."""
    return unless_expected(lambda: imageio.image_size(upload)) if upload else None


def page_work(handler):
    """`said_as_sentence` around a whole handler (a generator handler's every step included)."""
    if inspect.isgeneratorfunction(handler):
        @functools.wraps(handler)
        def stepping(*args, **kwargs):
            with said_as_sentence():
                yield from handler(*args, **kwargs)
        return stepping

    @functools.wraps(handler)
    def calling(*args, **kwargs):
        with said_as_sentence():
            return handler(*args, **kwargs)
    return calling


def instant(triggers, fn, inputs, outputs, **kwargs) -> None:
    """fn on each of `triggers` (events of components, e.g. `upload.change`), private and unqueued: a quick
    helper (a file's header read at most), as the queue, and each visitor's share of it, holds model work only."""
    for trigger in triggers:
        trigger(fn, inputs, outputs, api_visibility="private", queue=False, **kwargs)


def model_work(trigger, fn, inputs, outputs, **kwargs):
    """trigger(fn, ...) as private model work, one job at a time (MODEL_WORK), for an event that needs no turn
    check (a click on a picture made for this visitor)."""
    return trigger(fn, inputs, outputs, api_visibility="private", concurrency_id=MODEL_WORK, **kwargs)


def shown(elem_id: str, label: str, **kwargs) -> gr.Image:
    """A picture the page shows (never an input), as PNG: lossless."""
    return gr.Image(label=label, elem_id=elem_id, format="png", interactive=False, **kwargs)


def picture(elem_id: str, label: str, alt_text: str, **kwargs) -> gr.Image:
    """An output picture of the results row: the same height as its neighbours, with a text for screen readers."""
    return shown(elem_id, label, height=DISPLAY_HEIGHT, buttons=["fullscreen"], alt_text=alt_text, **kwargs)


def small_picture(elem_id: str, label: str, **kwargs) -> gr.Image:
    """A picture of an experiment's row: 140 px wide at least (two a row in a 390 px window, four on a
    wide screen), as tall as the picture."""
    return shown(elem_id, label, min_width=140, buttons=["fullscreen"], **kwargs)


@dataclass(frozen=True)
class Job:
    """A button's model work as `click_in_turn` queued it: the event, and what it runs, so that the tour
    (liif/page/sections/tour.py) can run the same work after another event."""

    fn: Callable
    inputs: list
    outputs: list
    options: dict
    event: object  # the queued event (a Gradio Dependency), for .then()

    def then_after(self, event):
        return model_work(event.then, self.fn, self.inputs, self.outputs, **self.options)


def click_in_turn(ctx, button, text_beside, fn, inputs, outputs, clock=None, **kwargs) -> Job:
    """button.click(fn, ...) for model work, after the visitor's turn is checked: when their session or
    their network already has as many jobs as the page takes, the sentence goes into `text_beside` (where
    they look) and the job is never queued; the queue's own refusal would reach the page only as Gradio's
    generic "busy".

    `clock`, a gr.State among fn's inputs, is for a handler that says the visitor's wait (liif/page/wait.py):
    the moment the click reached the page goes in it, and `text_beside` says at once whether the job waits
    behind others (the handler overwrites it as it starts)."""

    def turn_check(request: gr.Request = None):
        refusal = visitors.refusal_for(ctx.queue, request) if request is not None and ctx.queue is not None else None
        if refusal:
            said = f"**Not started**: {refusal}"
        elif clock is not None:
            jobs = len(ctx.queue.waiting()) + len(ctx.queue.running()) if ctx.queue is not None else 0
            said = wait.waiting_words(jobs)  # anyone's jobs: the page queues model work only
        else:
            said = gr.update()
        if clock is None:
            return said, refusal or ""
        return said, refusal or "", gr.update() if refusal else wait.now()  # a refused click starts no wait

    def stop_if_refused(refusal: str):
        if refusal:
            raise gr.Error(refusal, print_exception=False)  # ends the chain: the job is never queued

    refusal = gr.State("")
    private = {"api_visibility": "private", "queue": False}
    checked = [text_beside, refusal] + ([clock] if clock is not None else [])
    event = (button.click(turn_check, None, checked, show_progress="hidden", **private)
             .success(stop_if_refused, [refusal], None, **private)
             .success(fn, inputs, outputs, api_visibility="private", concurrency_id=MODEL_WORK, **kwargs))
    return Job(fn, inputs, outputs, kwargs, event)
