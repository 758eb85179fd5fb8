"""What it has seen decides what it draws: the same tiny input through the model trained on photos and the
model trained on printed text, side by side, with bicubic and, for the shipped sign and face, the real
picture. The work and the words are liif/lessons/seen.py's; without the text model on the shelf the section
says so in one sentence and offers no button."""

import gradio as gr

from liif.lessons import originals, seen, sources
from liif.page import limits
from liif.page.experiments import run_experiment
from liif.page.widgets import click_in_turn, instant, page_work, small_picture, upload_size

TITLE = "3. What it has seen decides what it draws"
OWN_PHOTO = "own"
FACE = "grace-hopper"
CHOICES = [("A tiny sign (printed text, drawn by our text generator)", "sign"),
           (f"A tiny face ({originals.ORIGINALS[FACE].label}, {originals.ORIGINALS[FACE].credit})", FACE),
           ("The photo above, as it is (its real picture is not known)", OWN_PHOTO)]
INTRO = ("Two models with the same architecture, one trained on photographs and one that went on to train on "
         "pictures of printed text, get the same tiny picture. Whatever differs between their drawings came from "
         "their training pictures, not from the input. For the sign and the face the real picture is known, so "
         "the numbers say which drawing is closer to the truth; below them, what each model was trained on, as "
         "counted from its training pictures.")


class SeenSection:
    def __init__(self, page):
        self.page, self.ctx = page, page.ctx
        self.text_model, self.photo_model = self.model_pair(self.ctx.shelf)
        self.button = None
        with gr.Accordion(TITLE, open=False, elem_id="seen-section") as self.accordion:
            gr.Markdown(INTRO)
            gr.Markdown(sources.augmentation_markdown(), elem_id="seen-sources")
            missing = self.missing_sentence()
            if missing:
                gr.Markdown(missing, elem_id="seen-missing")
                return
            with gr.Row():
                self.choice = gr.Radio(CHOICES, value="sign", label="The tiny picture", elem_id="seen-choice")
                self.scale = gr.Radio(list(seen.SCALES), value=self.main_scale(page.upscale.scale.value),
                                      label="Enlarged by", elem_id="seen-scale")
                self.button = gr.Button("Draw it with both models", variant="primary", elem_id="seen-button")
            with gr.Row(equal_height=True, visible=False, elem_id="seen-results") as self.pictures:
                self.panels = [small_picture("seen-tiny", "Tiny input", elem_classes=["pixelated"]),
                               small_picture("seen-bicubic", "Bicubic"),
                               small_picture("seen-photo-model", "Photo model"),
                               small_picture("seen-text-model", "Text model"),
                               small_picture("seen-real", "The real picture")]
            self.text = gr.Markdown(elem_id="seen-text")
            self.share = gr.DownloadButton("Download the sheet (PNG)", visible=False, elem_id="seen-share")

    @staticmethod
    def model_pair(shelf) -> tuple:
        """(the text-trained model, the photo model to compare it with: its clean twin, the JPEG-trained model
        only when no other is there); None where absent."""
        text = shelf.text_trained()
        return (None, None) if text is None else (text, shelf.clean_twin(text, avoid=shelf.jpeg_trained()))

    def model_names(self) -> tuple:
        """(the photo model, the text model) on the shelf, for the experiment's roles; gr.Error saying why this
        server cannot run it when one is missing."""
        missing = self.missing_sentence()
        if missing:
            raise gr.Error(missing, print_exception=False)
        return self.photo_model, self.text_model

    def missing_sentence(self) -> str:
        if self.text_model is None:
            return ("The model trained on printed text is not on this server, so this comparison cannot run here.")
        if self.photo_model is None:
            return ("Only the model trained on printed text is on this server; the comparison needs a model "
                    "trained on photos beside it.")
        return ""

    def wire(self):
        if self.button is None:
            return
        self.job = click_in_turn(self.ctx, self.button, self.text, self.run_seen,
                                 [self.choice, self.scale, self.page.upscale.upload],
                                 [self.pictures, *self.panels, self.text, self.share],
                                 show_progress_on=[self.text])
        upscale = self.page.upscale
        instant((upscale.scale.change,), self.follow_main, [self.choice, upscale.upload, upscale.scale], [self.scale])
        instant((upscale.upload.change, self.choice.change), self.follow_photo,
                [self.choice, upscale.upload, self.scale], [self.scale])

    @staticmethod
    def main_scale(scale) -> int:
        """The step's scale for the page's main scale: the largest of its scales not above it (issue 34: a ×8
        run is followed by ×8 here, not by a default of its own)."""
        below = [s for s in seen.SCALES if s <= float(scale or 0)]
        return max(below) if below else min(seen.SCALES)

    def follow_main(self, choice, upload, main_scale):
        """The page's main scale changed: this step's follows it, as far as the visitor's own photo allows."""
        scale = self.main_scale(main_scale)
        return self.photo_allows(upload, scale) if choice == OWN_PHOTO else scale

    def follow_photo(self, choice, upload, scale):
        """With the visitor's own photo chosen (or a new one uploaded), the scale stays where it is when the photo
        allows it with both models, else goes to the largest it allows; the sign and the face take any."""
        return self.photo_allows(upload, scale) if choice == OWN_PHOTO else gr.update()

    def photo_allows(self, upload, scale):
        size = upload_size(upload)  # from the header alone, unqueued
        if size is None:
            return scale
        width, height = size
        speeds = [self.ctx.shelf.speed(self.photo_model), self.ctx.shelf.speed(self.text_model)]
        return limits.experiment_scale(seen.SCALES, int(scale or seen.DEFAULT_SCALE), width, height, *speeds)

    @page_work
    def run_seen(self, choice, scale, upload, progress=gr.Progress(), request: gr.Request = None):
        """The chosen tiny picture through both models (and bicubic), against its real picture when known."""
        if choice == OWN_PHOTO and not upload:
            raise gr.Error("Upload a photo above first (or choose the sign or the face).", print_exception=False)
        found = run_experiment(self.ctx, seen.EXPERIMENT, {"picture": upload if choice == OWN_PHOTO else choice or "sign",
                                                          "scale": scale}, self.model_names(), request, progress)
        shown = [gr.update(value=picture, label=caption) for picture, caption in found.pictures]
        if len(shown) < len(self.panels):  # the real picture is not known
            shown.append(gr.update(value=None, visible=False))
        else:
            shown[-1]["visible"] = True
        return (gr.update(visible=True), *shown, found.markdown,
                gr.update(value=str(found.file), visible=True, label=f"Download the sheet, ×{found.summary['scale']} (PNG)"))
