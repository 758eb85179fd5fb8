"""The whole story on one photo, with one click (for a class): step 1's run, the sharp guess, then steps 2-6,
each section opened and filled as its step finishes, and every step's sheet in one zip at the end.

The tour is a chain of the sections' own jobs (`widgets.click_in_turn` returns each one), so a step of the
tour is exactly what the step's button does, with the same limits; each queues on its own, so another
visitor's run can go between two steps. Before anything runs, `plan` sets every step to the same scale
(the largest the photo allows, up to ×8) and says what the whole tour will cost, from the measured speed.
"""

import zipfile

import gradio as gr
import numpy as np
from PIL import Image

from liif.lessons import answers, check, experiment, seen, sharp
from liif.page import limits
from liif.page.widgets import click_in_turn, instant, model_work, page_work, upload_size
from liif.render import imageio, pictures

TOUR_SCALE = 8  # the story's scale: the asker's "8x"
# The steps, in the story's order: each section's attribute on the page.
STEPS = ("upscale", "sharp", "answers", "seen", "check", "probe", "zoom", "ladder")


def tour_scale(width: int, height: int, speed) -> float:
    """The tour's scale for a photo: TOUR_SCALE, or the largest the page accepts for it below that."""
    return min(float(TOUR_SCALE), limits.max_scale(width, height, speed))


def plan_seconds(width: int, height: int, scale: float, speed) -> dict:
    """Each step's model compute for a photo at `scale`, estimated from the model's measured speed (the
    same estimates the steps refuse by): {step: seconds}."""
    out = round(width * scale) * round(height * scale)
    one_render = speed.seconds(limits.encoded_pixels(width, height), out)
    whole = min(int(scale), max(answers.SCALES))
    at_whole = speed.seconds(width * height, width * height * whole * whole)
    working = check.DEFAULT_WORKING_SIZE  # the check's photo, shrunk to this long side at most
    values = {"picture": np.zeros((height, width, 3), np.uint8)}  # the specs read the picture's size only
    return {
        "upscale": one_render,
        "sharp": sharp.estimate_seconds(speed, (width, height), (round(width * scale), round(height * scale))),
        "answers": at_whole,
        "seen": 2 * at_whole,  # two models
        "check": speed.seconds(working * working, (working * whole) ** 2),
        "probe": speed.seconds(limits.encoded_pixels(width, height), 1),
        "zoom": experiment.experiment("zoom").estimate({"model": speed}, values),
        "ladder": experiment.experiment("ladder").estimate({"model": speed}, values),
    }


def rgb_of(picture) -> np.ndarray:
    """A picture as the page hands it back (a file, a PIL image or an array) as (h, w, 3) uint8."""
    if isinstance(picture, (str, bytes)) or hasattr(picture, "__fspath__"):
        picture = Image.open(picture)
    if isinstance(picture, Image.Image):
        picture = picture.convert("RGB")
    return np.ascontiguousarray(np.asarray(picture)[..., :3]).astype(np.uint8)


def step_one_sheet(run, magnifier) -> Image.Image:
    """Step 1 as one picture: input (its pixels enlarged) | bicubic | LIIF | the magnifier, labelled."""
    liif = run.liif_rgb
    height = liif.shape[0]
    panels = [(pictures.enlarge_nearest(run.request.loaded.rgb, max(liif.shape[:2])), "input"),
              (run.bicubic_rgb, "bicubic"), (liif, "LIIF")]
    if magnifier is not None:
        panels.append((rgb_of(magnifier), "magnifier"))
    shown = []
    for rgb, text in panels:
        rgb = rgb_of(rgb)
        scaled = Image.fromarray(rgb).resize((max(1, round(rgb.shape[1] * height / rgb.shape[0])), height),
                                             Image.Resampling.NEAREST)
        shown.append(pictures.label(np.asarray(scaled), text))
    return Image.fromarray(pictures.side_by_side(*shown, gap=4))


class TourSection:
    def __init__(self, page):
        self.page, self.ctx = page, page.ctx
        with gr.Row(elem_id="tour"):
            self.button = gr.Button("Run the whole story on this photo", variant="primary", elem_id="tour-button",
                                    scale=2)
            self.projector = gr.Button("Projector view", elem_id="projector-button", scale=1)
        self.text = gr.Markdown(elem_id="tour-text")
        self.download = gr.DownloadButton("Download every step's sheet (zip)", visible=False, elem_id="tour-download")

    def wire(self):
        page = self.page
        up = page.upscale
        # Steps 2-4 take whole scales from their own lists; a section without one (a model not shipped) has none.
        self.scale_controls = [(section.scale, scales) for section, scales in
                               ((page.answers, answers.SCALES), (page.seen, seen.SCALES), (page.check, check.SCALES))
                               if getattr(section, "scale", None) is not None]
        event = click_in_turn(self.ctx, self.button, self.text, self.plan, [up.upload, up.scale, up.model],
                              [self.text, self.download, up.scale, *(control for control, _ in self.scale_controls)]
                              ).event
        for attribute in STEPS:
            section = getattr(page, attribute)
            if getattr(section, "job", None) is None:  # a step this server cannot run (a model not shipped)
                continue
            if getattr(section, "accordion", None) is not None:
                event = event.then(lambda: gr.update(open=True), None, [section.accordion], api_visibility="private",
                                   queue=False)
            event = section.job.then_after(event)
        # Each step's downloadable sheet (or the picture it is made from), named for the zip, where the step is
        # on this page.
        sources = (("2-answers.png", page.answers, "share"), ("3-seen.png", page.seen, "share"),
                   ("4-check.png", page.check, "share"), ("5-one-pixel.png", page.probe, "picture"),
                   ("6a-zoom.webp", page.zoom, "download"), ("6b-ladder.png", page.ladder, "gallery"))
        sources = [(name, getattr(section, attribute)) for name, section, attribute in sources
                   if hasattr(section, attribute)]
        self.sheet_names = [name for name, _ in sources]
        model_work(event.then, self.finish, [page.run_state, up.magnifier_view, *(made for _, made in sources)],
                   [self.text, self.download])
        # A class sees the pictures and the sentences from the back of the room: larger type, the numbers
        # folded away (assets/app.css, body.projector).
        instant((self.projector.click,), None, None, None, js="() => document.body.classList.toggle('projector')")

    @page_work
    def plan(self, upload, scale, model_name):
        """Before the tour: every step at one scale, and what it will cost in all."""
        size = upload_size(upload)
        if size is None:
            raise imageio.ImageInputError("choose a photo first (try an example above): the tour runs every step on it")
        speed = self.ctx.shelf.speed(model_name)
        width, height = size
        chosen = tour_scale(width, height, speed)
        if chosen < 1:
            raise imageio.ImageInputError(f"this {width}×{height} photo is more than this page can upscale at all; "
                                          "the tour needs a smaller one (a profile photo: 32 to 128 pixels a side)")
        whole = max([s for s in answers.SCALES if s <= chosen] or [min(answers.SCALES)])
        steps = plan_seconds(width, height, chosen, speed)
        total = sum(steps.values())
        text = (f"**The whole story** on your {width}×{height} photo at ×{chosen:g} (steps 2–4 at ×{whole}): about "
                f"{total:.0f} s of computing in all here, each step within this page's limit of "
                f"{limits.page_model_seconds():.0f} s. Each step opens below as it finishes.")
        nearest = [min(scales, key=lambda s: abs(s - whole)) for _, scales in self.scale_controls]
        return (text, gr.update(visible=False), chosen, *nearest)

    def finish(self, run, magnifier, *made):
        """Every step's sheet, in one zip, named by step."""
        sheets = []
        if run is not None:
            sheets.append(("1-upscale.png", self.ctx.outputs.save(step_one_sheet(run, magnifier), "1-upscale.png")))
        for name, value in zip(self.sheet_names, made):
            path = self.sheet_file(name, value)
            if path is not None:
                sheets.append((name, path))
        if not sheets:
            return "**The whole story**: no step finished (each says why in its section).", gr.update(visible=False)
        bundle = self.ctx.outputs.new_path("liif-zoom-story.zip")
        with zipfile.ZipFile(bundle, "w") as zipped:
            for name, path in sheets:
                zipped.write(path, name)
        said = ", ".join(name.split(".")[0] for name, _ in sheets)
        return (f"**The whole story is done**: {len(sheets)} sheets ({said}), in one zip below.",
                gr.update(value=str(bundle), visible=True))

    def sheet_file(self, name: str, value):
        """The file of one step's sheet: the step's own download, or a sheet drawn from its pictures (a picture,
        or a gallery's (picture, caption) items); None when the step made nothing."""
        if value is None or (isinstance(value, (str, list, tuple)) and not value):
            return None
        if isinstance(value, (str, bytes)) or hasattr(value, "__fspath__"):
            return value
        if isinstance(value, (np.ndarray, Image.Image)):
            return self.ctx.outputs.save(Image.fromarray(rgb_of(value)), name)
        panels = []
        for item in value:  # a gallery: (picture, caption)
            picture, caption = (item if isinstance(item, (tuple, list)) else (item, ""))
            panels.append(pictures.label(rgb_of(picture), caption or ""))
        return self.ctx.outputs.save(Image.fromarray(pictures.side_by_side(*panels, gap=4)), name)
