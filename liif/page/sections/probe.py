"""Inside one pixel: the colour of one output pixel, computed in front of the visitor from the four
feature vectors around it, with this run's own numbers (liif/lessons/probe.py)."""

import gradio as gr

from liif.lessons import probe
from liif.page.experiments import run_experiment
from liif.page.widgets import click_in_turn, page_work, shown


class ProbeSection:
    def __init__(self, page):
        self.page, self.ctx = page, page.ctx
        with gr.Accordion("5. Inside one pixel: how its colour was computed", open=False,
                          elem_id="probe-section") as self.accordion:
            gr.Markdown(
                "Each pixel of the LIIF picture blends the model's guesses at the few pixels of your photo around it. "
                "Click a point of the LIIF output above, then press the button to see which ones, and how much each "
                "counts.")
            self.button = gr.Button("Look inside the magnifier's pixel", variant="primary", elem_id="probe-button")
            # The step opens with one picture and one sentence for anyone (issue 34); the method, its numbers
            # and the other pictures are folded below. The pictures carry their own titles (Gradio's label over
            # them would hide their top) and are drawn probe_results.PICTURE_WIDTH wide, their labels
            # probe_pictures.LABEL_SIZE tall: a 390 px phone shrinks them to about 300 px, the labels to about
            # 12 px (tests/test_screenshots_experiments.py measures it).
            self.lead = gr.Markdown(elem_id="probe-lead")
            self.picture = shown(
                "probe-picture", "Your photo's pixels around the point, and the ones its colour is blended from",
                show_label=False, type="pil", visible=False, buttons=["fullscreen"],
                alt_text="Your photo's pixels around the point, with the point and the pixels where the model "
                         "guessed its colour, each with how much its guess counts")
            with gr.Accordion("How this was measured", open=False, visible=False, elem_id="probe-how") as self.how:
                with gr.Row(equal_height=False):
                    with gr.Column(min_width=280):
                        self.terms = shown(
                            "probe-terms", "The feature grid at the same place, and the decoder's answers",
                            show_label=False, type="pil", buttons=["fullscreen"],
                            alt_text="The same place in the encoder's feature grid with the four grid points "
                                     "the query uses; below, each point's answer, the weighted sum, the bicubic "
                                     "term and the colour")
                    with gr.Column(min_width=280):
                        self.profile = shown(
                            "probe-profile", "Along the output row: LIIF, bicubic and the input's pixels",
                            show_label=False, type="pil", buttons=["fullscreen"],
                            alt_text="Red, green and blue along the output row through the point: LIIF, the "
                                     "model's bicubic and the input's own pixels")
                self.text = gr.Markdown(elem_id="probe-text")

    def wire(self):
        page, upscale = self.page, self.page.upscale
        self.job = click_in_turn(self.ctx, self.button, self.lead, self.look_inside,
                                 [page.run_state, upscale.magnify_x, upscale.magnify_y],
                                 [self.lead, self.picture, self.how, self.terms, self.profile, self.text],
                                 show_progress_on=[self.lead])

    @page_work
    def look_inside(self, result, x, y, request: gr.Request = None):
        """Output pixel (x, y) of the last run, as the sum the model computes."""
        if result is None:
            raise gr.Error("Run a photo first; then click its LIIF output to choose a pixel.", print_exception=False)
        run = result.request
        found = run_experiment(self.ctx, probe.EXPERIMENT, {"picture": run.loaded, "scale": None, "at": (x or 0, y or 0),
                                                           "size": (run.out_width, run.out_height)},
                               result.model_name, request)
        (opening, _), (terms, _), (profile, _) = found.pictures
        return (found.lead, gr.update(value=opening, visible=True), gr.update(visible=True), terms, profile,
                found.markdown)
