"""The page, section by section in the order of its story, built from a context:

    page = build_page(PageContext.start())    # what app.py serves
    page = build_page(PageContext(shelf, outputs))   # a test's own page; call page.upscale.run(...) directly

Each section (liif/page/sections/) lays itself out when constructed and wires its events once all exist.
"""

import os

import gradio as gr

from liif.lessons import answers, sharp
from liif.lessons.experiment import picture_size
from liif.page import files, session
from liif.page.context import REPO, PageContext, visitor
from liif.page.gradio_adapter import QueueView
from liif.page.sections.answers import AnswersSection
from liif.page.sections.api import ApiSection
from liif.page.sections.check import CheckSection
from liif.page.sections.explanation import ExplanationSection
from liif.page.sections.ladder import LadderSection
from liif.page.sections.probe import ProbeSection
from liif.page.sections.seen import SeenSection
from liif.page.sections.sharp import SharpSection
from liif.page.sections.tour import TourSection
from liif.page.sections.upscale import UpscaleSection
from liif.page.sections.zoom import ZoomSection
from liif.page.widgets import instant
from liif.render import imageio

CSS_PATH = REPO / "assets" / "app.css"
FONTS = REPO / "assets" / "fonts"  # the page's font (DejaVu Sans, with its licence): nothing fetched elsewhere

INTRO = ("# LIIF Zoom: where does the detail come from?\n"
         "Upscale a tiny photo to any size with LIIF, compare it with plain bicubic interpolation, and see "
         "what your photo recorded, what the model drew on top of it (LIIF minus bicubic) and why.")
# The page tells one story, in this order; each step is a section (liif/page/sections/) with its own anchor.
STORY = (("1. Upscale your photo", "run-button"), ("2. Many answers fit", "answers-section"),
         ("3. What it has seen decides what it draws", "seen-section"), ("4. Check against the real photo", "check-section"),
         ("5. Inside one pixel", "probe-section"), ("6. Zoom and scale", "zoom-section"))
# Every step after the first starts folded, so a phone shows the story's headings, not one long scroll; a
# link to a step (the table of contents, the answer's links) unfolds it, then brings it on screen.
# app.py hands it to launch(js=...), with the CSS.
PAGE_JS = """() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#"]');
    const target = link && document.getElementById(decodeURIComponent(link.getAttribute('href').slice(1)));
    const toggle = target && target.querySelector('button.label-wrap');
    if (!toggle || toggle.classList.contains('open')) return;
    event.preventDefault();
    toggle.click();
    setTimeout(() => target.scrollIntoView({block: 'start'}), 50);
  }, true);
}"""
EXPERIMENTS = ("## Experiments: convincing or true?\nSee for yourself what the model drew, and why. The story in "
               f"{len(STORY)} steps: " + " · ".join(f"[{title}](#{anchor})" for title, anchor in STORY))


class Page:
    """The built page: its gr.Blocks (`demo`), its context, the state the sections share, and the sections."""

    def __init__(self, ctx: PageContext):
        self.ctx = ctx
        # Everything visitors leave (uploads, Gradio's cache, downloads) goes in the context's folder; each
        # component reads this once, when it is made.
        os.environ["GRADIO_TEMP_DIR"] = str(ctx.outputs.root)
        gr.set_static_paths([FONTS])
        with gr.Blocks(title="LIIF Zoom", delete_cache=(600, files.OUTPUT_MAX_AGE)) as self.demo:
            self.run_state = gr.State(None, time_to_live=files.OUTPUT_MAX_AGE)
            # The magnifier's point as fractions of width and height, for the movie and the ladder.
            self.point_state = gr.State(None)
            gr.Markdown(INTRO, elem_id="intro")
            if ctx.shelf.problem:
                gr.Markdown(f"**No model can run yet.** {ctx.shelf.problem}", elem_id="weights-warning")
            self.upscale = UpscaleSection(self)
            self.sharp = SharpSection(self)
            self.explanation = ExplanationSection(self)
            with gr.Column(elem_id="experiments"):
                gr.Markdown(EXPERIMENTS)
                self.tour = TourSection(self)  # one click: every step on the chosen photo, for a class
                # Accordions rather than tabs: in a 390 px window tabs fold into a "..." menu nobody opens.
                self.answers = AnswersSection(self)
                self.seen = SeenSection(self)
                self.check = CheckSection(self)
                self.probe = ProbeSection(self)
                self.zoom = ZoomSection(self)
                self.ladder = LadderSection(self)
            self.api = ApiSection(self)
            for section in (self.upscale, self.sharp, self.explanation, self.answers, self.seen, self.check, self.probe, self.zoom,
                            self.ladder, self.api, self.tour):  # the tour last: it chains the others' jobs
                section.wire()
            instant((self.upscale.bicubic_view.select, self.upscale.liif_view.select), self.remember_point,
                    [self.run_state], [self.point_state])

    def queue(self, **kwargs) -> gr.Blocks:
        """Queue the page's events (demo.queue) and let the sections see the queue (visitor turns)."""
        self.demo.queue(**kwargs)
        self.ctx.queue = QueueView.of(self.demo)
        return self.demo

    def sharp_render(self, tiny, scale, request=None):
        """The sharp guesser's render of a tiny photo at ×scale (its own lock held, the visitor's cache), for the
        answers and the guessing game; None when the page has no model trained to look real."""
        pair = self.ctx.shelf.look_real_trained()
        if pair is None or tiny is None:
            return None
        scale = answers.answers_scale(scale)  # the answers' whole scales, refused with their sentence
        width, height = picture_size(tiny)
        if not answers.MIN_TINY_SIDE <= min(width, height) <= max(width, height) <= answers.MAX_TINY_SIDE:
            return None  # not a tiny photo: the lesson refuses it with its own sentence, before any model work
        with self.ctx.shelf.working(pair[1], visitor(request)) as engine:
            return sharp.guess_picture(engine, tiny, scale)

    @staticmethod
    def remember_point(result, evt: gr.SelectData):
        """The magnifier's point, as fractions of the picture's width and height, for the movie and the ladder."""
        return None if result is None else session.point_fraction(result, evt.index[0], evt.index[1])

    @staticmethod
    def experiment_picture(result, upload, point=None, model_name=None,
                           missing="run a photo first (try an example above): this zooms into that picture"):
        """(picture, model name, centre in input pixels) for a step after the first: the last run's picture and
        model, else the upload (its file: the experiment's estimate reads its header before anything is decoded)
        and `model_name`; `missing` says there is neither."""
        if result is not None:
            picture, model_name = result.request.loaded, result.model_name
        elif upload:
            picture = upload
        else:
            raise imageio.ImageInputError(missing)
        width, height = picture_size(picture)
        centre = None if point is None else (point[0] * width, point[1] * height)
        return picture, model_name, centre


def build_page(ctx: PageContext) -> Page:
    return Page(ctx)
