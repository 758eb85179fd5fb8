"""The zoom movie: from the whole picture down to a few input pixels around the magnifier's point, LIIF
rendering every frame anew beside bicubic. The work is liif/lessons/zoom.py's."""

import gradio as gr

from liif.lessons import zoom
from liif.page.experiments import run_experiment
from liif.page.widgets import click_in_turn, page_work


class ZoomSection:
    def __init__(self, page):
        self.page, self.ctx = page, page.ctx
        with gr.Accordion("6a. Zoom movie: from the whole picture to a few pixels", open=False,
                          elem_id="zoom-section") as self.accordion:
            gr.Markdown(
                "LIIF can be asked for any rectangle at any resolution. This movie zooms from your whole picture "
                "(the last run's, or the upload) down to a few input pixels around the magnifier's point (click "
                "an output above to move it), rendering every frame anew, with bicubic beside it.")
            with gr.Row():
                self.factor = gr.Radio([8, 16, 32], value=32, label="Zoom in to", elem_id="zoom-factor")
                self.button = gr.Button("Make the zoom movie", variant="primary", elem_id="zoom-button")
            self.text = gr.Markdown(elem_id="zoom-text")
            self.view = gr.Image(label="Zoom movie: bicubic | LIIF", type="filepath", interactive=False,
                                 elem_id="zoom-movie", buttons=["fullscreen"])
            self.download = gr.DownloadButton("Download the movie (animated WebP)", visible=False,
                                              elem_id="zoom-download")

    def wire(self):
        page = self.page
        self.job = click_in_turn(self.ctx, self.button, self.text, self.make_zoom,
                                 [page.run_state, page.upscale.upload, page.point_state, self.factor],
                                 [self.view, self.text, self.download], show_progress_on=[self.text])

    @page_work
    def make_zoom(self, result, upload, point, zoom_factor, progress=gr.Progress(), request: gr.Request = None):
        picture, model_name, centre = self.page.experiment_picture(result, upload, point)
        movie = run_experiment(self.ctx, zoom.EXPERIMENT, {"picture": picture, "centre": centre, "zoom": zoom_factor},
                               model_name, request, progress=lambda f, text: progress(f, desc=text))
        path = str(movie.file)
        return (gr.update(value=path, label=f"Zoom movie ×1 → ×{movie.summary['zoom']:.3g}: bicubic | LIIF"),
                movie.markdown, gr.update(value=path, visible=True))
