"""Step 1 of the story: upscale your photo. The upload, the examples, the scale and size controls, Run,
and the results row (input, bicubic, LIIF, magnifier) with the compare slider and the download."""

from pathlib import Path

import gradio as gr
from PIL import Image

from liif.evaluation import card
from liif.lessons import explain
from liif.page import limits, scale_cap, session, wait
from liif.page.context import visitor
from liif.page.widgets import (
    PhotoUpload,
    click_in_turn,
    instant,
    model_work,
    picture,
    said_as_sentence,
    unless_expected,
    upload_size,
)
from liif.render import imageio, pictures

INFO = "How many times wider and taller the output is."


def example_caption(path: Path) -> str:
    """"Grace Hopper, 48×48" for assets/examples/grace-hopper-48.png: what and how tiny."""
    name = path.stem.rsplit("-", 1)[0].replace("-", " ").title()
    width, height = imageio.image_size(path)
    return f"{name}, {width}×{height}"


def is_jpeg(path) -> bool:
    """The file is a JPEG, from its header (its name may say anything)."""
    try:
        with Image.open(path) as image:
            return image.format == "JPEG"
    except Exception:  # not an image at all: Run says so in its own sentence
        return False


def output_label(what: str, request) -> str:
    return f"{what} {request.scale_label()}: {request.out_width}×{request.out_height} pixels"


# In the browser, on Run: the pictures fill in row by row below the controls, often below the fold on
# a laptop; once the LIIF picture is shown, it is brought to the middle of the window (if it is not on
# screen already). Waits at most 20 s for the first picture.
SHOW_RESULTS_JS = """() => {
  const started = Date.now();
  const look = () => {
    const picture = document.querySelector('#liif-output img');
    const box = picture && picture.getBoundingClientRect();
    if (box && box.height > 0) {
      if (box.top < 0 || box.bottom > window.innerHeight) {
        const still = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
        picture.scrollIntoView({block: 'center', behavior: still ? 'auto' : 'smooth'});
      }
      return;
    }
    if (Date.now() - started < 20000) setTimeout(look, 100);
  };
  setTimeout(look, 100);
}"""

# The magnifier's zoom control: how many input pixels across it shows (4: very close, 32: a wide view).
MAGNIFIER_SIDES = (4, 32)


def magnifier_start(result) -> int:
    """The magnifier's zoom after a run: twice as close as the output, within MAGNIFIER_SIDES."""
    return int(min(max(round(session.magnifier_side(result)), MAGNIFIER_SIDES[0]), MAGNIFIER_SIDES[1]))


class UpscaleSection:
    def __init__(self, page):
        self.page, self.ctx = page, page.ctx
        shelf = self.ctx.shelf
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=280):
                self.upload = PhotoUpload(label="Your photo (kept only for this visit, never altered)",
                                          type="filepath", image_mode=None, sources=["upload", "clipboard"],
                                          height=220, elem_id="upload-image")
                # A gallery rather than gr.Examples: its captions can sit under pictures that are shown
                # pixel for pixel, so a visitor sees how tiny they are.
                self.examples = gr.Gallery([(str(p), example_caption(p)) for p in self.ctx.examples],
                                           label="Tiny profile photos: click one", columns=6, height="auto",
                                           allow_preview=False, object_fit="contain", elem_id="examples", buttons=[])
            with gr.Column(scale=1, min_width=280):
                self.scale = scale_cap.ScaleSlider(1, 30, value=8, step=0.1, label="Scale", elem_id="scale-slider", info=INFO)
                self.cap = scale_cap.ScaleCap(self.ctx)  # the photo's largest scale, beside the slider
                # Folded: the scale is the story's control; an exact size is for the visitor who needs one.
                with gr.Accordion("Or an exact size in pixels", open=False, elem_id="size-options"):
                    with gr.Row():
                        self.target_width = gr.Number(0, precision=0, minimum=0, label="Width (0 = scale)",
                                                      elem_id="target-width")
                        self.target_height = gr.Number(0, precision=0, minimum=0, label="Height (0 = scale)",
                                                       elem_id="target-height")
                    self.stretch = gr.Checkbox(False, label="Stretch to exactly that size", elem_id="stretch",
                                               info="Otherwise the photo fits inside them, keeping its shape.")
                self.model = gr.Dropdown(shelf.choices, value=shelf.default_name, label="Model",
                                         visible=len(shelf.names) > 1, elem_id="model")
                self.jpeg_note = gr.Markdown("", elem_id="jpeg-note")
                gr.Markdown(limits.limits_text(), elem_id="limits")
                self.estimate_note = gr.Markdown("", elem_id="estimate")
                self.run_button = gr.Button("Run", variant="primary", elem_id="run-button")
                self.status = gr.Markdown("", elem_id="status")
                self.clicked = gr.State(None)  # when Run's click reached the page (wait.now()), for the Done line
                self.download = gr.DownloadButton("Download LIIF (PNG)", visible=False, elem_id="download")

        # Hidden until the first run: before it, the answer below is the first thing to read.
        with gr.Column(visible=False, elem_id="results-area") as self.results_area:
            with gr.Row(equal_height=True, elem_id="results"):
                self.input_view = picture("input-image", "Input", "Your photo, enlarged with its square pixels",
                                          elem_classes=["pixelated"])
                self.bicubic_view = picture("bicubic-output", "Bicubic (click to magnify)", "The bicubic enlargement")
                self.liif_view = picture("liif-output", "LIIF (click to magnify)", "The LIIF result")
                self.magnifier_view = picture("magnifier", "Magnifier",
                                              "Magnified region: input pixels, bicubic, LIIF and what LIIF added")
            with gr.Row(elem_id="magnify-keys"):
                self.magnify_x = gr.Number(0, precision=0, minimum=0, label="Magnifier centre x (output pixels)",
                                           elem_id="magnify-x")
                self.magnify_y = gr.Number(0, precision=0, minimum=0, label="Magnifier centre y (output pixels)",
                                           elem_id="magnify-y")
                self.magnify_button = gr.Button("Magnify there", elem_id="magnify-button")
                self.magnify_side = gr.Slider(MAGNIFIER_SIDES[0], MAGNIFIER_SIDES[1], value=16, step=1,
                                              label="Magnifier: input pixels across (fewer = closer)",
                                              elem_id="magnify-side")
            # No label: Gradio draws it over the picture's top. The handle starts a quarter in, off the middle
            # (where a face's eyes usually are), so the picture is seen first.
            self.compare_note = gr.Markdown("**Drag to compare**: bicubic on the left, LIIF on the right.",
                                            visible=False, elem_id="compare-note")
            self.compare_view = gr.ImageSlider(show_label=False, label="Bicubic (left) and LIIF (right)", format="png",
                                               type="numpy", visible=False, interactive=False, max_height=420,
                                               slider_position=25, elem_id="compare")

    def wire(self):
        page, explanation = self.page, self.page.explanation
        controls = [self.upload, self.scale, self.target_width, self.target_height, self.model]
        run_outputs = [page.run_state, self.results_area, self.input_view, self.bicubic_view, self.liif_view,
                       self.magnifier_view, self.compare_view, self.compare_note, self.download, self.status, self.magnify_x,
                       self.magnify_y, self.magnify_side, self.clicked] + explanation.outputs
        instant((self.upload.change,), self.suggest_model, [self.upload, self.model], [self.model, self.jpeg_note])
        instant((self.upload.change, self.model.change), self.scale_limit, [self.upload, self.scale, self.model],
                [self.scale])
        # The status line says the wait at once (click_in_turn's clock), and Gradio's tracker draws the live
        # queue place and seconds on it (assets/app.css puts it in the line's flow, where it is seen);
        # "minimal" so that it does not cover the line's own progress text.
        self.job = click_in_turn(self.ctx, self.run_button, self.status, self.run,
                                 controls[:4] + [self.model, self.stretch, self.clicked], run_outputs,
                                 clock=self.clicked, show_progress_on=[self.status], show_progress="minimal")
        instant((self.run_button.click,), None, None, None, js=SHOW_RESULTS_JS)
        magnifier_outputs = [self.bicubic_view, self.liif_view, self.magnifier_view, self.magnify_x, self.magnify_y]
        for clickable in (self.bicubic_view, self.liif_view):
            model_work(clickable.select, self.pick_region, [page.run_state, self.magnify_side], magnifier_outputs,
                       show_progress_on=[self.magnifier_view])
        model_work(self.magnify_side.release, self.pick_point,
                   [page.run_state, self.magnify_x, self.magnify_y, self.magnify_side],
                   magnifier_outputs + [page.point_state], show_progress_on=[self.magnifier_view])
        instant((self.examples.select,), self.pick_example, None, [self.upload])
        # Typed coordinates move the point the movie and the ladder use too, as a click does.
        click_in_turn(self.ctx, self.magnify_button, self.status, self.pick_point,
                      [page.run_state, self.magnify_x, self.magnify_y, self.magnify_side],
                      magnifier_outputs + [page.point_state],
                      show_progress_on=[self.magnifier_view])
        # Before a run: how long it will take, when that is more than a few seconds.
        instant([control.change for control in controls], self.estimate, controls, [self.estimate_note],
                show_progress="hidden")
        self.cap.wire(self.upload, self.model, self.scale)

    # -- handlers ------------------------------------------------------------------------------------

    def run(self, upload, scale, target_width, target_height, model_name, stretch=False, clicked=None,
            request: gr.Request = None):
        """Upscale the upload; yields what it is doing at once, previews while the decoder works, every
        picture, and last the Done line with the visitor's wait (`clicked`: when Run's click reached the
        page; wait.py; it is used up here, so that a run chained after another event, as the tour's, starts
        its own wait). The status line is the one progress readout (Gradio's own shows only the queue and
        the time)."""
        shelf, waited = self.ctx.shelf, wait.Wait.since(clicked)
        try:
            with said_as_sentence():
                loading = shelf.measured_speed(model_name) is None
                yield {self.status: waited.started_words(loading_model=loading), self.clicked: None}
                owner = visitor(request)
                request = limits.prepare(upload, scale, target_width, target_height, stretch=stretch,
                                          speed=shelf.speed(model_name))
                for step in session.run_steps(shelf, model_name, request, self.ctx.outputs, owner=owner):
                    if isinstance(step, session.Partial):
                        yield self.preview_view(request, step, waited)
                        if step.fraction > 0:
                            waited.rows_shown()  # resumed: Gradio has sent the rows
                yield self.pictures_view(step)
                waited.all_shown()  # resumed: Gradio has sent every picture
                yield self.done_view(step, waited)
                session.give_back_memory()
        except gr.Error as said:
            # the previous run's pictures and "Done" must not pass for this one's
            yield self.failed_view(said.message)
            raise

    def failed_view(self, reason: str) -> dict:
        # A fresh update each: Gradio consumes an update as it applies it.
        return self.previous_run_gone() | {view: gr.update(value=None) for view in
                                           (self.input_view, self.bicubic_view, self.liif_view)} | {
            self.status: f"**Not run**: {reason}."}

    def previous_run_gone(self) -> dict:
        """What of the previous run could pass for a new one's (or a failed one's): emptied or hidden."""
        return {self.page.run_state: None, self.magnifier_view: gr.update(value=None, label="Magnifier"),
                self.compare_view: gr.update(value=None, visible=False), self.compare_note: gr.update(visible=False),
                self.download: gr.update(visible=False)}

    def scale_limit(self, upload, scale, model_name):
        """After a photo or model is chosen: the slider goes only as far as the page accepts for it (the
        note beside it says how far, and why: ScaleCap.show)."""
        most = limits.SCALE_MAX
        if upload:  # from the header alone: this answers every new photo, unqueued
            most = unless_expected(lambda: limits.max_scale(*imageio.image_size(upload),
                                                            self.ctx.shelf.speed(model_name)))
            if most is None:
                return gr.update(maximum=limits.SCALE_MAX, info=INFO)  # Run gives the reason
            if most < 1 + limits.SCALE_STEP:
                # Nothing above x1 fits. A slider of 1 to 1 is an error in Gradio (minimum must be below
                # maximum), so it keeps its range and is held at 1; the note says what the page can do instead.
                return gr.update(maximum=limits.SCALE_MAX, value=1, interactive=False, info=INFO)
        return gr.update(maximum=most, value=min(float(scale or 1), most), interactive=True, info=INFO)

    def preview_view(self, request, partial, waited: wait.Wait) -> dict:
        """While the decoder works: the LIIF rows done so far; input and bicubic once, at the start."""
        loaded = request.loaded
        so_far = f"{waited.seconds_so_far():.1f} s {waited.since_words}"
        if partial.fraction < 1:
            doing = (f"**Rendering** {loaded.width}×{loaded.height} → {request.out_width}×{request.out_height}: "
                     f"{partial.fraction:.0%} of the rows done, {so_far} (the rest shows the faded bicubic guess).")
        else:
            doing = f"**Every row is done**, {so_far}; now writing the explanation and the PNG for download."
        view = {
            self.liif_view: gr.update(value=partial.preview_shown, label="LIIF: rendering" if partial.fraction < 1 else "LIIF"),
            self.status: doing,
        }
        if partial.fraction == 0:  # a new run: nothing of the previous one may pass for this one's
            view |= self.page.explanation.working_view() | self.previous_run_gone() | {
                self.results_area: gr.update(visible=True), self.input_view: self.input_display(request),
                self.bicubic_view: gr.update(value=partial.bicubic_shown, label=output_label("Bicubic", request))}
        return view

    def pictures_view(self, result: session.Run) -> dict:
        """Every picture of the finished run, and the explanation; the status still says the work goes on
        (done_view follows once these are sent)."""
        request, facts = result.request, result.facts
        side = magnifier_start(result)
        bicubic, liif, magnifier, x, y = self.magnify_at(result, side=side)
        return self.page.explanation.explanation_view(result) | {
            self.bicubic_view: gr.update(value=bicubic, label=output_label("Bicubic", request)),
            self.liif_view: gr.update(value=liif, label=output_label("LIIF", request)),
            self.magnifier_view: magnifier,
            self.compare_view: gr.update(value=session.compare_pair(result), visible=True),
            self.compare_note: gr.update(visible=True),
            self.status: "**Every picture is made**: sending them to your browser.",
            self.page.explanation.answer_note:
                f"**Your run**: {facts.in_width}×{facts.in_height} at {explain.scale_text(facts)}.",
            self.magnify_x: x, self.magnify_y: y, self.magnify_side: side,
        }

    def done_view(self, result: session.Run, waited: wait.Wait) -> dict:
        """Once every picture is sent: the run can be magnified and downloaded, and the Done line says how
        long the visitor waited for it."""
        facts = result.facts
        return {
            self.page.run_state: result,
            self.download: gr.update(label=f"Download LIIF {facts.out_width}×{facts.out_height} (PNG, lossless)",
                                     value=str(result.png_path), visible=True),
            self.status: (session.status_text(result, waited.done_words()) + self.cap.status_words(result)
                          + self.jpeg_words(result)),
        }

    def suggest_model(self, upload, model_name):
        """A JPEG photo gets the model trained on compressed inputs, when the page has one, and a sentence
        saying why (with the measured gain); any other photo leaves the menu as it is."""
        jpeg_model = self.ctx.shelf.jpeg_trained()
        if not upload or jpeg_model is None or not is_jpeg(upload):
            return gr.update(), ""
        gain = card.jpeg_gain_db()
        why = ("" if gain is None else f" On Set5's ×4 inputs saved as JPEG quality 50 it comes {gain:+.2f} dB closer "
               "to the real photos than the same model trained on clean ones (weights/README.md).")
        return jpeg_model, (
            f"**Your photo is a JPEG**: its 8×8 compression blocks are part of it now, and a model trained on clean "
            f"photos sharpens them as if they were detail. The Model menu now picks "
            f"{self.ctx.model_label(jpeg_model)}: it learned from JPEG inputs like yours.{why} Choose another "
            "model if you prefer.")

    def estimate(self, upload, scale, target_width, target_height, model_name):
        """Before a run: say how long it will take when that is more than a few seconds (else nothing)."""
        size = upload_size(upload)  # from the header alone: this answers every change of a control, unqueued
        if size is None:
            return ""  # Run says what is wrong, in one sentence
        return unless_expected(lambda: limits.estimate_text(
            self.ctx.shelf, model_name, size, limits.output_size_for(*size, scale, target_width, target_height)), "")

    def pick_example(self, evt: gr.SelectData):
        """A click on an example puts it in the upload box, as if the visitor had uploaded it."""
        return str(self.ctx.examples[evt.index])

    def pick_region(self, result, side=None, evt: gr.SelectData = None):
        """A click on an output moves the magnifier there."""
        return self.magnify_at(result, (evt.index[0], evt.index[1]), side)

    def pick_point(self, result, x, y, side=None):
        """The keyboard's way to the magnifier (x and y typed in output pixels), and its zoom: `side` input
        pixels across. The point also becomes the one the zoom movie and the scale ladder centre on (a
        click sets it through remember_point)."""
        *views, x, y = self.magnify_at(result, (x or 0, y or 0), side)
        return (*views, x, y, session.point_fraction(result, x, y))

    def magnify_at(self, result, centre=None, side=None) -> tuple:
        """(bicubic and LIIF with the magnifier's box, the magnifier, its centre x and y in output pixels) for
        the magnifier around output pixel `centre` (x, y) (else the middle), `side` input pixels across."""
        if result is None:
            raise gr.Error("Run the model first; then click the output to look closer.", print_exception=False)
        if centre is not None:
            centre = (min(max(int(centre[0]), 0), result.request.out_width - 1),
                      min(max(int(centre[1]), 0), result.request.out_height - 1))
        side = None if side is None else min(max(float(side), MAGNIFIER_SIDES[0]), MAGNIFIER_SIDES[1])
        magnified = session.magnify(self.ctx.shelf, result, centre=centre, side=side)
        x0, y0, x1, y1 = magnified.output_box
        # The keyboard inputs follow a click.
        x, y = centre if centre is not None else (round((x0 + x1) / 2), round((y0 + y1) / 2))
        return (pictures.draw_box(result.bicubic_display, magnified.output_box),
                pictures.draw_box(result.liif_display, magnified.output_box), self.magnifier_image(magnified), x, y)

    def jpeg_words(self, result) -> str:
        """For a JPEG photo: which kind of model this run used, in a sentence ("" for other photos)."""
        if result.request.loaded.format != "JPEG":
            return ""
        jpeg_model = self.ctx.shelf.jpeg_trained()
        used = self.ctx.model_label(result.model_name)
        if result.model_name == jpeg_model:
            return f"\n\nYour photo is a JPEG, and {used} was trained on compressed photos like it."
        advice = (f" {self.ctx.model_label(jpeg_model)}, in the Model menu, was trained on compressed photos."
                  if jpeg_model else "")
        return (f"\n\nYour photo is a JPEG: {used} was trained on clean photos and may sharpen the compression's "
                f"8×8 blocks as if they were detail.{advice}")

    @staticmethod
    def input_display(request) -> dict:
        loaded = request.loaded
        shown = pictures.enlarge_nearest(pictures.flatten(loaded.rgb, loaded.alpha),
                                         max(request.out_width, request.out_height))
        return gr.update(value=shown, label=f"Input: {loaded.width}×{loaded.height} pixels, each square one pixel")

    @staticmethod
    def magnifier_image(magnified) -> dict:
        x0, y0, x1, y1 = magnified.box
        return gr.update(value=magnified.image, label=f"Magnifier: input pixels x {x0:.1f}–{x1:.1f}, y {y0:.1f}–{y1:.1f}")
