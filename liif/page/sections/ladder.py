"""The scale ladder: one small region at ×2 to ×16 and the run's own scale, each shown at the same size,
saying which scales the model saw in training. The work is liif/lessons/ladder.py's."""

import gradio as gr

from liif.lessons import ladder
from liif.page.experiments import run_experiment
from liif.page.widgets import click_in_turn, page_work


class LadderSection:
    def __init__(self, page):
        self.page, self.ctx = page, page.ctx
        with gr.Accordion("6b. Scale ladder: ×2 to ×16, what was seen in training and what is extrapolation",
                          open=False, elem_id="ladder-section") as self.accordion:
            gr.Markdown(
                "The same small region (around the magnifier's point) rendered at ×2, ×4, ×6, ×8, ×16 and your "
                "run's scale, each shown at the same size; the text below measures how much each step changes it.")
            self.button = gr.Button("Build the ladder", variant="primary", elem_id="ladder-button")
            self.gallery = gr.Gallery(label="Scale ladder", columns=6, height="auto", object_fit="contain",
                                      format="png", preview=False, allow_preview=True, elem_id="ladder",
                                      elem_classes=["pixelated"])
            self.text = gr.Markdown(elem_id="ladder-text")

    def wire(self):
        page = self.page
        self.job = click_in_turn(self.ctx, self.button, self.text, self.make_ladder,
                                 [page.run_state, page.upscale.upload, page.point_state], [self.gallery, self.text],
                                 show_progress_on=[self.text])

    @page_work
    def make_ladder(self, result, upload, point, request: gr.Request = None):
        picture, model_name, centre = self.page.experiment_picture(result, upload, point)
        extra = result.scale[0] if result is not None else None
        found = run_experiment(self.ctx, ladder.EXPERIMENT, {"picture": picture, "centre": centre, "scale": extra},
                               model_name, request)
        return found.pictures, found.markdown
