"""The scale control's limit, said where a visitor looks: the photo's largest scale in a note right under
the slider (the slider's own hint is hidden on a phone, assets/app.css), a typed scale past it put back to
it in sight with the reason, and the largest scale again in the status line after a run.

    self.scale = ScaleSlider(1, 30, value=8, ...)
    self.cap = ScaleCap(ctx)                      # lays out the note where it is called
    self.cap.wire(upload, model, self.scale)
"""

import gradio as gr

from liif.page import limits
from liif.page.widgets import instant, upload_size


class ScaleSlider(gr.Slider):
    """The scale slider, holding a number typed past its end to its end instead of refusing it: Gradio's own
    check answers "Value 8 is greater than maximum value 4.8" in a toast and leaves 8 in the box (and every
    handler that reads the slider fails). ScaleCap.hold then puts the end in the box, with the reason.
    `is_template` makes Gradio draw it with gr.Slider's frontend."""

    is_template = True

    def preprocess(self, payload):
        if isinstance(payload, (int, float)) and self.maximum is not None and payload > self.maximum:
            payload = self.maximum
        return super().preprocess(payload)


class ScaleCap:
    def __init__(self, ctx):
        self.ctx = ctx
        # Hidden while empty: an empty block still takes a row's gap, and a phone needs Run above the fold.
        self.note = gr.Markdown("", visible=False, elem_id="scale-cap")
        self.state = gr.State(None)  # (largest scale, width, height, model) of the photo and model chosen

    def wire(self, upload, model, scale):
        instant((upload.change, model.change), self.show, [upload, model], [self.note, self.state])
        # preprocess=False: `hold` must see the number as typed (ScaleSlider holds it to the end).
        instant((scale.change,), self.hold, [scale, self.state], [scale, self.note], preprocess=False,
                show_progress="hidden")

    def photo_cap(self, upload, model_name):
        """(largest scale, width, height, model) of the upload with this model, from its header; None without
        a photo the page can read, or when the slider's own end is the limit."""
        size = upload_size(upload)
        if size is None:
            return None  # Run gives the reason
        width, height = size
        most = limits.max_scale(width, height, self.ctx.shelf.speed(model_name))
        return (most, width, height, model_name) if most < limits.SCALE_MAX else None

    def show(self, upload, model_name):
        """After a photo or a model is chosen: (the note, the state)."""
        cap = self.photo_cap(upload, model_name)
        text = "" if cap is None else self.text(cap)
        return gr.update(value=text, visible=bool(text)), cap

    def text(self, cap) -> str:
        """How far the slider goes for this photo and why, or, when it cannot go past x1, what the page can
        do with the photo instead."""
        shelf = self.ctx.shelf
        most, width, height, model_name = cap
        if most >= 1 + limits.SCALE_STEP:
            return limits.cap_text(width, height, most, shelf.speed(model_name))
        chosen = model_name or shelf.default_name
        others = {self.ctx.model_label(name): shelf.speed(name) for name in shelf.names if name != chosen}
        return limits.cannot_enlarge_text(width, height, self.ctx.model_label(model_name), shelf.speed(model_name),
                                          others)

    def hold(self, scale, cap):
        """(slider, note) after the scale changes: a scale past the photo's largest is set to the largest, with
        a sentence why. At the largest itself the sentence stays: the correction's own change lands here too."""
        try:
            asked = float(scale)
        except (TypeError, ValueError, OverflowError):
            asked = None
        if cap is None or asked is None or cap[0] < 1 + limits.SCALE_STEP:  # held at x1: nothing to correct
            return gr.update(), gr.update()
        most, width, height, model_name = cap
        if asked > most + 1e-9:
            speed = self.ctx.shelf.speed(model_name)
            return gr.update(value=most), limits.capped_text(asked, most, width, height, speed)
        return gr.update(), (gr.update() if asked == most else self.text(cap))

    def status_words(self, result) -> str:
        """For the status line after a run: the photo's largest scale, when it has one ("" otherwise)."""
        loaded = result.request.loaded
        most = limits.max_scale(loaded.width, loaded.height, self.ctx.shelf.speed(result.model_name))
        if most >= limits.SCALE_MAX:
            return ""
        return f"\n\n×{most:g} is the largest scale this page takes for this {loaded.width}×{loaded.height} photo."
