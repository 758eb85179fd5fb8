"""Step 1's second half: the average and the sharp guess. The visitor's photo through the same network
trained two ways (to be right on average, to look real), side by side, and a slider between them that
re-renders at that blend (liif/lessons/sharp.py). Shown when the page has both models."""

import gradio as gr

from liif.lessons import sharp
from liif.lessons.experiment import picture_size
from liif.page import limits
from liif.page.experiments import run_experiment
from liif.page.widgets import click_in_turn, model_work, page_work, small_picture
from liif.render import sizes

INTRO = ("**The average and the sharp guess.** One network trained two ways: to be right on average (soft: the "
         "mean of every detail that fits) and, against a critic, to look real (one sharp guess). The slider blends "
         "them; it starts half way, as our briefly trained model draws a faint grid near the sharp end.")


class SharpSection:
    def __init__(self, page):
        self.page, self.ctx = page, page.ctx
        self.pair = self.ctx.shelf.look_real_trained()  # (average-minded, sharp) model names, or None
        self.state = gr.State(None)  # the last guess: the blend re-renders only its own picture
        with gr.Column(visible=self.pair is not None, elem_id="sharp-section"):
            gr.Markdown(INTRO, elem_id="sharp-intro")
            with gr.Row(equal_height=False):
                self.button = gr.Button("Draw the average and the sharp guess", variant="primary",
                                        elem_id="sharp-button", scale=1)
                self.blend = gr.Slider(0, 1, value=sharp.DEFAULT_BLEND, step=sharp.BLEND_STEP,
                                       label="Average (0) ↔ sharp guess (1)", elem_id="sharp-blend", scale=2)
            with gr.Row(equal_height=True, visible=False) as self.pictures:  # shown once drawn
                # Small pictures: two side by side even in a 390 px window.
                self.average_view = small_picture("sharp-average", "Trained to be right on average",
                                                  alt_text="The photo drawn by the model trained to be right on average")
                self.blend_view = small_picture("sharp-blended", "Trained to look real",
                                                alt_text="The photo drawn by the blend of the two trainings")
            self.text = gr.Markdown("", elem_id="sharp-text")

    def wire(self):
        up = self.page.upscale
        outputs = [self.state, self.average_view, self.blend_view, self.text, self.pictures]
        self.job = click_in_turn(self.ctx, self.button, self.text, self.draw,
                                 [self.page.run_state, up.upload, up.scale, self.blend], outputs, show_progress_on=[self.text])
        model_work(self.blend.release, self.reblend, [self.state, self.blend], outputs,
                   show_progress_on=[self.blend_view])

    # -- handlers ------------------------------------------------------------------------------------

    @page_work
    def draw(self, result, upload, scale, blend, progress=gr.Progress(), request: gr.Request = None):
        """The last run's photo (else the upload) at its scale, by both trainings and by the blend."""
        picture, _, _ = self.page.experiment_picture(result, upload,
                                                     missing="choose a photo first (try an example above)")
        scale = scale if result is None else result.scale[0]
        return self._guess({"picture": picture, "scale": float(scale or 8), "blend": float(blend)}, request,
                           lambda f: progress(f, desc="the average, the sharp guess, then the blend"))

    @page_work
    def reblend(self, guess, blend, request: gr.Request = None):
        """The slider moved: one render at the new blend, beside the same average."""
        if guess is None:
            raise gr.Error("Press the button first: the slider blends the two pictures it draws.", print_exception=False)
        return self._guess({"picture": guess.tiny, "scale": guess.scale_asked, "blend": float(blend), "keep": guess},
                           request)

    def _guess(self, values, request, progress=None):
        """The guess (`keep`: the last one, whose two ends are kept) and the section's view of it."""
        width, height = picture_size(values["picture"])
        sizes.check_output_size(width, height, round(width * values["scale"]), round(height * values["scale"]),
                                max_pixels=limits.max_output_pixels())
        found = run_experiment(self.ctx, sharp.EXPERIMENT, values, request=request, progress=progress)
        (average, _), (blended, label) = found.pictures
        return (found.result, gr.update(value=average, label="Trained to be right on average"),
                gr.update(value=blended, label=label), found.markdown, gr.update(visible=True))
