"""The zoom movie: from the whole picture down to a few input pixels around the magnifier's point, LIIF
rendering every frame anew beside bicubic. The work is liif/lessons/zoom.py's."""

import gradio as gr

from liif.lessons import zoom
from liif.page import limits
from liif.page.context import visitor
from liif.page.widgets import EXPECTED_PROBLEMS, click_in_turn, sentence


class ZoomSection:
    def __init__(self, page):
        self.page, self.ctx = page, page.ctx
        with gr.Accordion("6a. Zoom movie: from the whole picture to a few pixels", open=False, elem_id="zoom-section"):
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
        click_in_turn(self.ctx, self.button, self.text, self.make_zoom,
                      [page.run_state, page.upscale.upload, page.point_state, self.factor],
                      [self.view, self.text, self.download], show_progress_on=[self.text])

    def make_zoom(self, result, upload, point, zoom_factor, progress=gr.Progress(), request: gr.Request = None):
        shelf = self.ctx.shelf
        try:
            loaded, model_name, centre = self.page.experiment_picture(result, upload, point)
            speed = shelf.speed(model_name)  # takes the model's lock itself
            with shelf.working(model_name, visitor(request)) as upscaler:
                movie = zoom.zoom_movie(upscaler, loaded, centre, zoom_factor,
                                        path=self.ctx.outputs.new_path("zoom.webp"),
                                        progress=lambda f, text: progress(f, desc=text),
                                        speed=speed, max_seconds=limits.page_model_seconds())
        except EXPECTED_PROBLEMS as exc:
            raise sentence(exc) from None
        return (gr.update(value=str(movie.path), label=f"Zoom movie ×1 → ×{movie.zooms[-1]:.3g}: bicubic | LIIF"),
                movie.markdown(),
                gr.update(value=str(movie.path), visible=True))
