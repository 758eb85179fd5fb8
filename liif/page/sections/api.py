"""The scripting API: hidden components whose events are the page's public endpoints (`upscale`, `check`,
`zoom`, `answers`, `probe`, `seen`). Every other event of the page is private. Each endpoint calls the same library function as the
page and the command line, through the same guards (PhotoUpload, compute limits, per-visitor caches)."""

from contextlib import ExitStack

import gradio as gr

from liif.lessons import check, probe, seen
from liif.lessons.experiment import experiments
from liif.page import limits, session
from liif.page.context import visitor
from liif.page.experiments import ExperimentEndpoint
from liif.page.widgets import MODEL_WORK, PhotoUpload, page_work
from liif.render import imageio, sizes


class ApiSection:
    def __init__(self, page):
        self.page, self.ctx = page, page.ctx
        with gr.Row(visible=False):  # the experiments' endpoints
            self.check_photo = PhotoUpload(label="photo", type="filepath", image_mode=None)
            self.check_scale = gr.Number(check.DEFAULT_SCALE, label="scale")
            self.check_share = gr.Image(label="tiny | bicubic | LIIF | real (PNG)", type="filepath", format="png")
            self.check_summary = gr.JSON(label="check summary")
            self.check_trigger = gr.Button("check")
        with gr.Row(visible=False):  # the lessons' endpoints
            self.probe_photo = PhotoUpload(label="photo", type="filepath", image_mode=None)
            self.probe_scale = gr.Number(8, label="scale")
            self.probe_x = gr.Number(0, label="x (output pixels)")
            self.probe_y = gr.Number(0, label="y (output pixels)")
            self.probe_summary = gr.JSON(label="probe summary")
            self.probe_trigger = gr.Button("probe")
            self.seen_photo = PhotoUpload(label="tiny picture", type="filepath", image_mode=None)
            self.seen_scale = gr.Number(seen.DEFAULT_SCALE, label="scale")
            self.seen_sheet = gr.Image(label="tiny | bicubic | photo model | text model (| real), as one sheet (PNG)",
                                       type="filepath", format="png")
            self.seen_summary = gr.JSON(label="seen summary")
            self.seen_trigger = gr.Button("seen")
        with gr.Row(visible=False):  # the upscaler's endpoint
            self.image = PhotoUpload(label="image", type="filepath", image_mode=None)
            self.scale = gr.Number(4, label="scale")
            self.model = gr.Textbox("", label="model (empty: the default; or rdn, edsr-baseline, edsr-baseline-gan, ...)")
            self.blend = gr.Number(None, label="blend (0 the average .. 1 the sharp guess; empty: none)")
            self.result = gr.Image(label="LIIF output (PNG)", type="filepath", format="png")
            self.summary = gr.JSON(label="summary")
            self.trigger = gr.Button("upscale")
        # One endpoint per registered experiment that has one, made from its spec: /answers, /zoom, /ladder, ...
        self.endpoints = {spec.name: ExperimentEndpoint(self.ctx, spec) for spec in experiments() if spec.endpoint}

    def wire(self):
        self.check_trigger.click(self.check_api, [self.check_photo, self.check_scale],
                                 [self.check_share, self.check_summary], api_name="check", concurrency_id=MODEL_WORK)
        self.probe_trigger.click(self.probe_api, [self.probe_photo, self.probe_scale, self.probe_x, self.probe_y],
                                 [self.probe_summary], api_name="probe", concurrency_id=MODEL_WORK)
        self.seen_trigger.click(self.seen_api, [self.seen_photo, self.seen_scale], [self.seen_sheet, self.seen_summary],
                                api_name="seen", concurrency_id=MODEL_WORK)
        for endpoint in self.endpoints.values():
            endpoint.wire()
        self.trigger.click(self.upscale_api, [self.image, self.scale, self.model, self.blend], [self.result, self.summary],
                           api_name="upscale", concurrency_id=MODEL_WORK)

    @page_work
    def upscale_api(self, image, scale, model="", blend=None, request: gr.Request = None):
        """For scripts: (image file, scale, model name, blend) -> (the LIIF output as a lossless PNG, a JSON
        summary). `blend` (0..1) runs the model between the one trained to look real and its twin."""
        shelf = self.ctx.shelf
        owner = visitor(request)
        name = shelf.model_named(model, blend)
        request = limits.prepare(image, scale, speed=shelf.speed(name))
        result = session.run_to_end(shelf, name, request, self.ctx.outputs, owner=owner)
        answer = str(result.png_path), session.summary(result)
        del result
        session.give_back_memory()
        return answer

    @page_work
    def check_api(self, image, scale, request: gr.Request = None):
        """For scripts: (photo, scale) -> (tiny | bicubic | LIIF | real as one PNG, the numbers as JSON)."""
        with self.ctx.shelf.working(None, visitor(request)) as upscaler:
            result = check.check(upscaler, image, scale, model_name=self.ctx.model_label(None))
        return str(self.ctx.outputs.save(result.share_image(), f"{result.name}-check-x{result.scale}.png")), result.summary()

    @page_work
    def probe_api(self, image, scale, x, y, request: gr.Request = None):
        """For scripts: (photo, scale, x, y in output pixels) -> JSON: the pixel's colour as the model computes it."""
        shelf = self.ctx.shelf
        speed = shelf.speed(None)  # takes the model's lock itself
        width, height = imageio.image_size(image)  # the output size from the header: nothing decoded yet
        out_size = limits.output_size_for(width, height, scale, speed=speed)
        loaded = imageio.load_image(image)
        with shelf.working(None, visitor(request)) as upscaler:
            found = probe.probe(upscaler, loaded, x, y, out_size, speed=speed,
                                max_seconds=limits.page_model_seconds())
        return found.summary()

    @page_work
    def seen_api(self, image, scale, request: gr.Request = None):
        """For scripts: (tiny picture, scale) -> (tiny | bicubic | photo model | text model (| real) as one PNG,
        JSON with each model's numbers and what it was trained on). A shipped sign's or photo's exact shrink
        (assets/seen/sign-x4.png) is recognised by its pixels and measured against its real picture."""
        shelf, section = self.ctx.shelf, self.page.seen
        missing = section.missing_sentence()
        if missing:
            raise gr.Error(missing, print_exception=False)
        photo_name, text_name = section.photo_model, section.text_model
        scale = check.check_scale(scale)
        if isinstance(image, str):  # what the header rules out is refused before any model loads (16 s)
            width, height = imageio.image_size(image)
            sizes.check_output_size(width, height, width * scale, height * scale,
                                    max_pixels=limits.max_output_pixels())
        speeds = [shelf.speed(photo_name), shelf.speed(text_name)]  # each takes its lock itself
        if isinstance(image, str):  # a heavy request is refused from the picture's header, before any decode
            seen.check_compute(width, height, scale, speeds, limits.budget_seconds(*speeds))
        with ExitStack() as held:  # the photo model's lock first, then the text model's, as the section does
            photo = held.enter_context(shelf.working(photo_name, visitor(request)))
            text = held.enter_context(shelf.working(text_name, visitor(request)))
            result = seen.seen(((self.ctx.model_label(photo_name), photo), (self.ctx.model_label(text_name), text)),
                               image, scale, speeds=speeds, max_seconds=limits.budget_seconds(*speeds))
        return str(self.ctx.outputs.save(result.sheet(), f"{result.name}-seen-x{result.scale}.png")), result.summary()
