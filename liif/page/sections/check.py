"""Check against the real photo: a photo whose original we have (or the visitor's own) is shrunk, brought
back by bicubic and LIIF, and both are compared with it. The work is liif/lessons/check.py's."""

import gradio as gr

from liif.lessons import check, originals
from liif.page import files
from liif.page.context import visitor
from liif.page.widgets import EXPECTED_PROBLEMS, PhotoUpload, click_in_turn, sentence, small_picture
from liif.render import imageio, pictures

OWN_PHOTO = "own"  # the check's choice for the visitor's own photo


class CheckSection:
    def __init__(self, page):
        self.page, self.ctx = page, page.ctx
        self.state = gr.State(None, time_to_live=files.OUTPUT_MAX_AGE)
        with gr.Accordion("1. Check against the real photo", open=True, elem_id="check-section"):
            gr.Markdown(
                "Pick a photo whose original we have, or upload a large photo of your own. It is shrunk the way "
                "the model's training inputs were made (antialiased bicubic), both methods bring the tiny version "
                "back, and both are compared with the real photo: here you can tell a *convincing* detail from "
                "a *true* one. Click any of the four pictures to move the magnifier.")
            with gr.Row(equal_height=False):
                with gr.Column(scale=2, min_width=280):
                    self.choice = gr.Radio(
                        [(f"{o.label} ({o.credit})", o.key) for o in originals.ORIGINALS.values()]
                        + [("My own photo", OWN_PHOTO)],
                        value=next(iter(originals.ORIGINALS)), label="The real photo", elem_id="check-choice")
                    self.scale = gr.Radio(list(check.SCALES), value=check.DEFAULT_SCALE, label="Shrink it by",
                                          elem_id="check-scale")
                    self.button = gr.Button("Check", variant="primary", elem_id="check-button")
                self.upload = PhotoUpload(
                    label=f"My own photo (at least {check.MIN_TINY_SIDE}× the scale a side; larger ones are "
                          f"reduced to {check.DEFAULT_WORKING_SIZE}× the scale)",
                    type="filepath", image_mode=None, sources=["upload", "clipboard"], height=200, scale=1,
                    min_width=240, elem_id="check-upload")
            # The pictures and maps appear with the first check (empty picture boxes before it are noise,
            # and Gradio's empty-box markup fails an accessibility check).
            with gr.Row(equal_height=True, elem_id="check-results", visible=False) as self.pictures:
                self.panels = [small_picture("check-tiny", "Tiny input", elem_classes=["pixelated"]),
                               small_picture("check-bicubic", "Bicubic"), small_picture("check-liif", "LIIF"),
                               small_picture("check-real", "The real photo")]
            with gr.Row(equal_height=False):
                self.magnifier = gr.Image(label="Magnifier", format="png", type="numpy", interactive=False,
                                          height=320, min_width=300, elem_id="check-magnifier", visible=False,
                                          elem_classes=["pixelated"])
                with gr.Column(scale=2, min_width=300):
                    self.text = gr.Markdown(elem_id="check-text")
            with gr.Row(equal_height=False, visible=False) as self.maps:
                self.errors = gr.Image(label="How far off: bicubic (left) and LIIF (right) against the real photo",
                                       format="png", interactive=False, min_width=300, scale=2, elem_id="check-errors")
                self.closer = gr.Image(label="Where LIIF is closer to the real photo than bicubic, per input pixel",
                                       format="png", interactive=False, min_width=300, scale=1, elem_id="check-closer")
            self.share = gr.DownloadButton("Download the comparison (PNG)", visible=False, elem_id="check-share")

    def wire(self):
        upscale = self.page.upscale
        click_in_turn(self.ctx, self.button, self.text, self.run_check,
                      [self.choice, self.upload, self.scale, upscale.model],
                      [self.state, *self.panels, self.magnifier, self.errors, self.closer, self.text, self.share,
                       self.pictures, self.maps],
                      show_progress_on=[self.text])
        for panel in self.panels:
            panel.select(self.pick_region, [self.state], [*self.panels, self.magnifier], api_visibility="private")
        self.upload.upload(lambda: OWN_PHOTO, None, [self.choice], api_visibility="private")
        upscale.upload.change(self.follow_upload, [upscale.upload], [self.choice, self.upload], api_visibility="private")

    def run_check(self, choice, own_photo, scale, model_name, progress=gr.Progress(), request: gr.Request = None):
        """Shrink the chosen photo, bring it back with bicubic and LIIF, and compare with the real one."""
        source = own_photo if choice == OWN_PHOTO else originals.original_path(choice) if choice else None
        try:
            with self.ctx.shelf.working(model_name, visitor(request)) as upscaler:
                result = check.check(upscaler, source, scale, model_name=self.ctx.model_label(model_name),
                                     progress=lambda f: progress(f, desc="LIIF: bringing the tiny photo back"),
                                     name=None if choice == OWN_PHOTO else originals.ORIGINALS[choice].label)
        except EXPECTED_PROBLEMS as exc:
            raise sentence(exc) from None
        share = self.ctx.outputs.save(result.share_image(), f"{result.name}-check-x{result.scale}.png")
        magnified, box = result.magnify()
        return (
            result,
            *self.panel_views(result, box),
            gr.update(value=magnified, label=self.magnifier_label(result, box), visible=True),
            result.error_maps_picture(),
            result.closer_picture(),
            result.markdown(),
            gr.update(value=str(share), visible=True, label=f"Download the comparison, ×{result.scale} (PNG)"),
            gr.update(visible=True),
            gr.update(visible=True),
        )

    @staticmethod
    def panel_views(result, box) -> list:
        h, w = result.tiny.shape[:2]
        real_h, real_w = result.real.shape[:2]
        return [
            # Short labels: two pictures a row in a 390 px window leave ~150 px for each.
            gr.update(value=pictures.draw_box(result.tiny_enlarged, box), label=f"Tiny input {w}×{h}"),
            gr.update(value=pictures.draw_box(result.bicubic, box), label=f"Bicubic ×{result.scale}"),
            gr.update(value=pictures.draw_box(result.liif, box), label=f"LIIF ×{result.scale}"),
            gr.update(value=pictures.draw_box(result.real, box), label=f"Real photo {real_w}×{real_h}"),
        ]

    @staticmethod
    def magnifier_label(result, box) -> str:
        x0, y0, x1, y1 = (v / result.scale for v in box)
        return f"Magnifier: input x {x0:.0f}–{x1:.0f}, y {y0:.0f}–{y1:.0f}"

    def pick_region(self, result, evt: gr.SelectData):
        """A click on any of the four check panels moves the check's magnifier there."""
        if result is None:
            raise gr.Error("Press Check first; then click a picture to look closer.", print_exception=False)
        magnified, box = result.magnify(centre=(evt.index[0], evt.index[1]))
        return (*self.panel_views(result, box), gr.update(value=magnified, label=self.magnifier_label(result, box)))

    @staticmethod
    def follow_upload(upload):
        """The check starts from the picture above: a shipped example's original, or the visitor's own photo
        when it is large enough to be shrunk by the default scale."""
        key = originals.original_for(upload)
        if key is not None:
            return key, gr.update()
        try:
            size = imageio.image_size(upload) if upload else None
        except imageio.ImageInputError:
            size = None
        if size is None or min(size) < check.DEFAULT_SCALE * check.MIN_TINY_SIDE:
            return gr.update(), gr.update()
        return OWN_PHOTO, upload
