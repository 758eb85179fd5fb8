"""Many answers fit: sharp, different pictures that all shrink back to exactly the visitor's tiny photo,
beside LIIF's soft average. The pictures are made by back-projection (liif/lessons/answers.py), not by a
generative model, and the section says so."""

import gradio as gr

from liif.lessons import answers
from liif.page import limits
from liif.page.experiments import run_experiment
from liif.page.widgets import click_in_turn, instant, page_work, upload_size


class AnswersSection:
    def __init__(self, page):
        self.page, self.ctx = page, page.ctx
        with gr.Accordion("2. Many answers fit: sharp pictures that all shrink back to your photo", open=False,
                          elem_id="answers-section") as self.accordion:
            sharp = ("the sharp guess of the same network trained to look real, as it drew your photo and made "
                     "to fit; then " if self.ctx.shelf.look_real_trained() else "")
            gr.Markdown(
                "Your tiny photo is what many different sharp pictures look like when shrunk. Here are some: "
                f"{sharp}pictures made for your photo by back-projection (correcting a picture until its "
                f"{answers.OPERATOR}, the way the model's training inputs were made, gives back your pixels), "
                "**not** by a generative model: a detail taken from another photo, texture added to LIIF's answer, "
                "a completely different picture. Each one's numbers say how exactly it shrinks back to your photo.")
            with gr.Row():
                self.scale = gr.Radio(list(answers.SCALES), value=answers.DEFAULT_SCALE, label="Enlarged by",
                                      elem_id="answers-scale")
                self.button = gr.Button("Show answers that fit", variant="primary", elem_id="answers-button")
            self.gallery = gr.Gallery(label="They all shrink back to your photo", columns=5, height="auto",
                                      object_fit="contain", format="png", preview=False, allow_preview=True,
                                      elem_id="answers-gallery", visible=False)
            self.text = gr.Markdown(elem_id="answers-text")
            self.share = gr.DownloadButton("Download the sheet (PNG)", visible=False, elem_id="answers-share")

    def wire(self):
        page = self.page
        self.job = click_in_turn(self.ctx, self.button, self.text, self.show_answers,
                                 [page.run_state, page.upscale.upload, self.scale, page.upscale.model],
                                 [self.gallery, self.text, self.share], show_progress_on=[self.text])
        instant((page.upscale.upload.change, page.upscale.model.change), self.follow_photo,
                [page.upscale.upload, page.upscale.model], [self.scale])

    def follow_photo(self, upload, model_name):
        """A new photo or model: the scale starts at the default when the photo allows it, else at the largest
        that it allows (a step that starts refused shows nothing but a passing toast)."""
        size = upload_size(upload)
        if size is None:
            return gr.update()
        return limits.experiment_scale(answers.SCALES, answers.DEFAULT_SCALE, *size,
                                       self.ctx.shelf.speed(model_name))

    @page_work
    def show_answers(self, result, upload, scale, model_name, progress=gr.Progress(), request: gr.Request = None):
        """The last run's photo (else the upload), enlarged by `scale` in several ways that all fit it."""
        tiny, model_name, _ = self.page.experiment_picture(
            result, upload, model_name=model_name,
            missing="Run a photo first (try an example above): the answers are for that photo.")
        name = upload if result is None else result.request.name
        found = run_experiment(self.ctx, answers.EXPERIMENT, {"picture": tiny, "scale": scale, "name": name},
                               model_name, request, lambda f: progress(f, desc="LIIF's answer, then the others"))
        return gr.update(value=found.pictures, visible=True), found.markdown, gr.update(value=str(found.file), visible=True)
