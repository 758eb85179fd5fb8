"""LIIF Zoom: the web page. `python app.py` serves it on http://127.0.0.1:7860.

The page answers one question: "I upscaled a tiny profile photo 8x and it looked like a new photo;
how does AI fill in the missing detail?" This file only lays the page out and connects its events;
the work is in liif/page/session.py (what a run does) and liif/lessons/explain.py (the explanation).

Environment: LIIF_WEIGHTS (a weights file; default: the shipped one), GRADIO_SERVER_NAME and
GRADIO_SERVER_PORT (read by Gradio itself), LIIF_MAX_INPUT_PIXELS / LIIF_MAX_OUTPUT_PIXELS (limits),
LIIF_PAGE_SECONDS (the most model compute one request may ask for; default 10), LIIF_CLIENT_HEADER (behind a
reverse proxy: the header with the visitor's address, e.g. X-Forwarded-For; see liif/page/visitors.py),
OMP_NUM_THREADS (torch threads; default: one per core, see below), LIIF_PRECISION (auto, fp32 or bf16:
what the models compute in; auto picks bf16 where the CPU has fast bf16 units).
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: nothing phones home
# Torch threads (set before torch is imported): one per available core, and threads that sleep rather
# than spin while they wait. Measured on the 2-core machine (RDN, 64x64 at x8 through /upscale, seconds
# for unseen photos; docs/performance.md): idle, 1 thread 3.7-4.7, 2 spinning 2.3-2.8, 2 passive 2.6-2.7;
# beside a busy core, 1 thread 4.3-4.4, 2 spinning 7.7-9.0, 2 passive 4.3-5.3. Passive threads serve an
# idle Space or laptop nearly at full speed without the cliff of spinning threads on a shared machine.
os.environ.setdefault("OMP_NUM_THREADS", str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import atexit  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402
from gradio_client import utils as client_utils  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from liif.core.weights import WeightsError  # noqa: E402
from liif.lessons import check, explain, ladder, originals, zoom  # noqa: E402
from liif.page import guard, session, visitors  # noqa: E402
from liif.render import imageio, pictures  # noqa: E402

HERE = Path(__file__).resolve().parent
EXAMPLES = sorted((HERE / "assets" / "examples").glob("*.png"))
CSS_PATH = HERE / "assets" / "app.css"
# The page's font (DejaVu Sans, with its licence), served from here: nothing is fetched from elsewhere.
gr.set_static_paths([HERE / "assets" / "fonts"])
# The example run made at start, so the page answers the question before any visitor runs anything.
LANDING_EXAMPLE, LANDING_SCALE = HERE / "assets" / "examples" / "grace-hopper-48.png", 8
DISPLAY_HEIGHT = 360  # every picture in the results row is shown at this height
# A public server: each browser session may have 2 jobs waiting or running, everyone behind one address
# 40 (visitors.py; LIIF_JOBS_PER_SESSION, LIIF_JOBS_PER_ADDRESS), served in turns. The queue holds one
# full address and 16 more visitors. The heaviest job is bounded by session.PAGE_MODEL_SECONDS.
QUEUE_SIZE = visitors.jobs_per_address() + 16 * visitors.jobs_per_session()
# One model computation at a time: torch already uses both cores of the 2-core CPU this runs on, and
# the run, the magnifier and the API share one engine.
MODEL_WORK = "liif-model"
UPLOAD_LIMIT = "20mb"
# What uploads may occupy on disk: in all, and from one client within the time files are kept.
UPLOADS_TOTAL_BYTES = 1_000_000_000
UPLOADS_PER_CLIENT_BYTES = 100_000_000
OWN_PHOTO = "own"  # the check's choice for the visitor's own photo

shelf = session.ModelShelf()
for unusable, reason in shelf.unusable.items():
    print(f"not offered: {reason}", file=sys.stderr)
shelf.load_in_background()  # the default model is ready before the first visitor asks
# Everything visitors leave (uploads, Gradio's cache, downloads) goes in one folder of this server's,
# removed at exit; folders of servers that were killed are removed now.
session.OutputFolder.remove_leftovers()
landing: session.ExampleRun | None = None  # started with the server (below), not on import
landing_start = threading.Lock()
outputs = session.OutputFolder()
atexit.register(outputs.cleanup)
os.environ["GRADIO_TEMP_DIR"] = str(outputs.root)  # before any component exists: each reads it once


class PhotoUpload(gr.Image):
    """An image upload that passes the file on untouched, so liif.render.imageio judges every upload and a
    visitor gets its one-sentence reason (gr.Image would open it with Pillow first and fail with a
    traceback on a non-image). `is_template` makes Gradio draw it with gr.Image's frontend."""

    is_template = True

    def preprocess(self, payload):
        # Every image input of every endpoint comes through here. A file object may name any path: only
        # this server's own upload folder is read, and every other path gets one sentence (no oracle for
        # which files exist). A pasted picture (data URL) is saved there after a header-only check.
        if payload is None:
            return None
        try:
            if payload.path is None and (payload.url or "").startswith("data:"):
                return str(guard.save_data_url(payload.url, self.GRADIO_CACHE))
            return guard.refuse_foreign_path(payload.path, [self.GRADIO_CACHE])
        except imageio.ImageInputError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    # Gradio downloads an image given as a web address, with no size limit: refuse it instead.
    def move_resource_to_block_cache(self, url_or_file_path):
        _refuse_web_address(url_or_file_path)
        return super().move_resource_to_block_cache(url_or_file_path)

    async def async_move_resource_to_block_cache(self, url_or_file_path):
        _refuse_web_address(url_or_file_path)
        return await super().async_move_resource_to_block_cache(url_or_file_path)


def _refuse_web_address(path) -> None:
    if path is not None and client_utils.is_http_url_like(str(path)):
        raise gr.Error("Send the picture itself, not a web address: this page fetches nothing from the internet.",
                       print_exception=False)


# -- event handlers ---------------------------------------------------------------------------------


def visitor(request) -> str | None:
    """Whose work this is: the browser session (an API call is a session of its own). The engine keeps
    each visitor's encodings apart (ModelShelf.working)."""
    return getattr(request, "session_hash", None) or None


def run(upload, scale, target_width, target_height, model_name, stretch=False, request: gr.Request = None):
    """Upscale the upload; yields previews while the decoder works, then everything. The status line is
    the one progress readout (Gradio's own shows only the queue and the time)."""
    try:
        owner = visitor(request)
        request = session.prepare(upload, scale, target_width, target_height, stretch=stretch,
                                  speed=shelf.speed(model_name))
        steps = session.run_steps(shelf, model_name, request, outputs, owner=owner)
        for step in steps:
            if isinstance(step, session.Partial):
                yield preview_view(request, step)
        yield finished_view(step)
        session.give_back_memory()
    except (imageio.ImageInputError, WeightsError) as exc:
        yield failed_view(str(exc))  # the previous run's pictures and "Done" must not pass for this one's
        raise gr.Error(str(exc), print_exception=False) from None


def turn_check(request: gr.Request = None):
    """Instant (unqueued), before the page queues a job: when this visitor's session, or their network,
    already has as many jobs as the page takes, the sentence goes where they look (the text beside the
    button); the queue's own refusal would reach the page only as Gradio's generic "busy"."""
    queue = getattr(demo, "_queue", None)
    refusal = visitors.refusal_for(queue, request) if request is not None and queue is not None else None
    return (f"**Not started**: {refusal}" if refusal else gr.update()), refusal or ""


def stop_if_refused(refusal: str):
    if refusal:
        raise gr.Error(refusal, print_exception=False)  # ends the chain: the job is never queued


def click_in_turn(button, text_beside, fn, inputs, outputs, **kwargs):
    """button.click(fn, ...) for a model job, after turn_check has had its say in `text_beside`."""
    refusal = gr.State("")
    private = {"api_visibility": "private", "queue": False}
    (button.click(turn_check, None, [text_beside, refusal], show_progress="hidden", **private)
        .success(stop_if_refused, [refusal], None, **private)
        .success(fn, inputs, outputs, **kwargs))


def failed_view(reason: str) -> dict:
    cleared = [gr.update(value=None) for _ in range(3)]  # one each: Gradio consumes an update as it applies it
    return {
        run_state: None, input_view: cleared[0], bicubic_view: cleared[1], liif_view: cleared[2],
        magnifier_view: gr.update(value=None, label="Magnifier"), compare_view: gr.update(value=None, visible=False),
        download: gr.update(visible=False), status: f"**Not run**: {reason}.",
    }


def scale_limit(upload, scale, model_name):
    """After a photo or model is chosen: the slider goes only as far as the page accepts for it."""
    most = session.SCALE_MAX
    info = "How many times wider and taller the output is."
    if upload:
        try:  # from the header alone: this answers every new photo, unqueued
            width, height = imageio.image_size(upload)
            most = session.max_scale(width, height, shelf.speed(model_name))
        except (imageio.ImageInputError, WeightsError):
            return gr.update(maximum=session.SCALE_MAX, info=info)  # Run gives the reason
        if most < 1 + session.SCALE_STEP:
            # Nothing above x1 fits. A slider of 1 to 1 is an error in Gradio (minimum must be below
            # maximum), so it keeps its range, is held at 1, and says what the page can do instead.
            others = {model_label(name): shelf.speed(name) for name in shelf.names if name != (model_name or shelf.default_name)}
            text = session.cannot_enlarge_text(width, height, model_label(model_name), shelf.speed(model_name),
                                               others)
            return gr.update(maximum=session.SCALE_MAX, value=1, interactive=False, info=text)
        info += f" Up to ×{most:g} for this {width}×{height} photo with this model."
    return gr.update(maximum=most, value=min(float(scale or 1), most), interactive=True, info=info)


def preview_view(request, partial) -> dict:
    """While the decoder works: the LIIF rows done so far; input and bicubic once, at the start."""
    loaded = request.loaded
    if partial.fraction < 1:
        doing = (f"Rendering {loaded.width}×{loaded.height} → {request.out_width}×{request.out_height}: "
                 f"{partial.fraction:.0%} of the rows done (the rest shows the faded bicubic guess).")
    else:
        doing = "Every row is done; now writing the explanation and the PNG for download."
    view = {
        liif_view: gr.update(value=partial.preview, label="LIIF: rendering" if partial.fraction < 1 else "LIIF"),
        status: doing,
    }
    if partial.fraction == 0:  # a new run: nothing of the previous one may pass for this one's
        view |= {
            results_area: gr.update(visible=True), answer_note: "",
            input_view: input_display(request),
            bicubic_view: gr.update(value=partial.bicubic, label=output_label("Bicubic", request)),
            run_state: None, magnifier_view: gr.update(value=None, label="Magnifier"),
            compare_view: gr.update(value=None, visible=False), download: gr.update(visible=False),
            task_text: "_Working on it: the answer for your run appears here when it is done._", workflow_text: "", why_text: "",
            feature_view: gr.update(value=None, visible=False), added_view: gr.update(value=None, visible=False),
            consistency_view: gr.update(value=None, visible=False),
        }
    return view


def finished_view(result: session.Run) -> dict:
    request, facts = result.request, result.facts
    magnified = session.magnify(shelf, result)
    return explanation_view(result) | {
        run_state: result,
        bicubic_view: gr.update(value=pictures.draw_box(result.bicubic_display, magnified.output_box),
                                label=output_label("Bicubic", request)),
        liif_view: gr.update(value=pictures.draw_box(result.liif_display, magnified.output_box),
                             label=output_label("LIIF", request)),
        magnifier_view: magnifier_image(magnified),
        compare_view: gr.update(value=session.compare_pair(result), visible=True),
        download: gr.update(label=f"Download LIIF {facts.out_width}×{facts.out_height} (PNG, lossless)",
                            value=str(result.png_path), visible=True),
        status: session.status_text(result),
        answer_note: f"**Your run**: {facts.in_width}×{facts.in_height} at {explain.scale_text(facts)}.",
        magnify_x: round((magnified.output_box[0] + magnified.output_box[2]) / 2),
        magnify_y: round((magnified.output_box[1] + magnified.output_box[3]) / 2),
    }


def explanation_view(result: session.Run) -> dict:
    """The three-part answer of a run, with its pictures: for a visitor's run, and for the example run
    that the page shows before any."""
    words = result.explanation
    return {
        task_text: words.task,
        workflow_text: words.workflow,
        feature_view: gr.update(value=pictures.enlarge_nearest(words.feature_image, 256), visible=True),
        why_text: words.why,
        added_view: gr.update(value=explain.with_colour_bar(words.added_map), visible=True),
        consistency_view: gr.update(value=pictures.enlarge_nearest(words.consistency_image, 256), visible=True),
    }


def landing_view():
    """On page load: the answer from the example run made at start (waiting for it if it is still going)."""
    example = start_landing().wait(timeout=session.EXAMPLE_WAIT_SECONDS)
    if example is None:
        return {answer_note: landing.problem or "The example answer is not ready yet; run a photo meanwhile."}
    facts = example.facts
    return explanation_view(example) | {
        answer_note: (f"**An example answer**, from *{example_caption(LANDING_EXAMPLE)}* upscaled "
                      f"{explain.scale_text(facts)} when this page started. Run your own photo to replace it with "
                      f"your run's numbers. {session.model_line(facts)}"),
    }


def start_landing() -> session.ExampleRun:
    """The example run, started now if the app was not started with `python app.py` (e.g. by a reloader)."""
    global landing
    with landing_start:
        if landing is None:
            landing = session.ExampleRun(shelf, LANDING_EXAMPLE, LANDING_SCALE)
    return landing


def estimate(upload, scale, target_width, target_height, model_name):
    """Before a run: say how long it will take when that is more than a few seconds (else nothing)."""
    if not upload:
        return ""
    try:  # from the header alone: this answers every change of a control, unqueued
        size = imageio.image_size(upload)
        out_size = session.output_size_for(*size, scale, target_width, target_height)
        return session.estimate_text(shelf, model_name, size, out_size)
    except (imageio.ImageInputError, WeightsError):
        return ""  # Run says what is wrong, in one sentence


def pick_example(evt: gr.SelectData):
    """A click on an example puts it in the upload box, as if the visitor had uploaded it."""
    return str(EXAMPLES[evt.index])


def example_caption(path: Path) -> str:
    """"Grace Hopper, 48×48" for assets/examples/grace-hopper-48.png: what and how tiny."""
    name = path.stem.rsplit("-", 1)[0].replace("-", " ").title()
    loaded = imageio.load_image(path)
    return f"{name}, {loaded.width}×{loaded.height}"


def pick_region(result, evt: gr.SelectData):
    """A click on an output moves the magnifier there."""
    return magnify_at(result, evt.index[0], evt.index[1])


def pick_point(result, x, y):
    """The keyboard's way to the magnifier: x and y typed in output pixels."""
    return magnify_at(result, x or 0, y or 0)


def magnify_at(result, x, y):
    if result is None:
        raise gr.Error("Run the model first; then click the output to look closer.", print_exception=False)
    x = min(max(int(x), 0), result.request.out_width - 1)
    y = min(max(int(y), 0), result.request.out_height - 1)
    magnified = session.magnify(shelf, result, centre=(x, y))
    return (
        pictures.draw_box(result.bicubic_display, magnified.output_box),
        pictures.draw_box(result.liif_display, magnified.output_box),
        magnifier_image(magnified),
        x, y,  # the keyboard inputs follow a click
    )


def upscale_api(image, scale, request: gr.Request = None):
    """For scripts: (image file, scale) -> (the LIIF output as a lossless PNG, a JSON summary)."""
    try:
        owner = visitor(request)
        request = session.prepare(image, scale, speed=shelf.speed())
        result = session.run_to_end(shelf, None, request, outputs, owner=owner)
    except (imageio.ImageInputError, WeightsError) as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    answer = str(result.png_path), session.summary(result)
    del result
    session.give_back_memory()
    return answer


def input_display(request) -> dict:
    loaded = request.loaded
    picture = pictures.enlarge_nearest(pictures.flatten(loaded.rgb, loaded.alpha), max(request.out_width, request.out_height))
    return gr.update(value=picture, label=f"Input: {loaded.width}×{loaded.height} pixels, each square one pixel")


def output_label(what: str, request) -> str:
    return f"{what} {request.scale_label()}: {request.out_width}×{request.out_height} pixels"


def magnifier_image(magnified) -> dict:
    x0, y0, x1, y1 = magnified.box
    return gr.update(value=magnified.image, label=f"Magnifier: input pixels x {x0:.1f}–{x1:.1f}, y {y0:.1f}–{y1:.1f}")


# -- the experiments: check against the real photo, zoom movie, scale ladder -------------------------
# The work is in liif/lessons/check.py, liif/lessons/zoom.py and liif/lessons/ladder.py; these handlers only adapt it to the page.


def run_check(choice, own_photo, scale, model_name, progress=gr.Progress(), request: gr.Request = None):
    """Shrink the chosen photo, bring it back with bicubic and LIIF, and compare with the real one."""
    source = own_photo if choice == OWN_PHOTO else originals.original_path(choice) if choice else None
    try:
        with shelf.working(model_name, visitor(request)) as upscaler:
            result = check.check(upscaler, source, scale, model_name=model_label(model_name),
                                 progress=lambda f: progress(f, desc="LIIF: bringing the tiny photo back"),
                                 name=None if choice == OWN_PHOTO else originals.ORIGINALS[choice].label)
    except (imageio.ImageInputError, WeightsError) as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    share = outputs.save(result.share_image(), f"{result.name}-check-x{result.scale}.png")
    magnified, box = result.magnify()
    return (
        result,
        *check_panels(result, box),
        gr.update(value=magnified, label=check_magnifier_label(result, box), visible=True),
        result.error_maps_picture(),
        result.closer_picture(),
        result.markdown(),
        gr.update(value=str(share), visible=True, label=f"Download the comparison, ×{result.scale} (PNG)"),
        gr.update(visible=True),
        gr.update(visible=True),
    )


def check_panels(result, box) -> list:
    h, w = result.tiny.shape[:2]
    real_h, real_w = result.real.shape[:2]
    return [
        # Short labels: two pictures a row in a 390 px window leave ~150 px for each.
        gr.update(value=pictures.draw_box(result.tiny_enlarged, box), label=f"Tiny input {w}×{h}"),
        gr.update(value=pictures.draw_box(result.bicubic, box), label=f"Bicubic ×{result.scale}"),
        gr.update(value=pictures.draw_box(result.liif, box), label=f"LIIF ×{result.scale}"),
        gr.update(value=pictures.draw_box(result.real, box), label=f"Real photo {real_w}×{real_h}"),
    ]


def check_magnifier_label(result, box) -> str:
    x0, y0, x1, y1 = (v / result.scale for v in box)
    return f"Magnifier: input x {x0:.0f}–{x1:.0f}, y {y0:.0f}–{y1:.0f}"


def pick_check_region(result, evt: gr.SelectData):
    """A click on any of the four check panels moves the check's magnifier there."""
    if result is None:
        raise gr.Error("Press Check first; then click a picture to look closer.", print_exception=False)
    magnified, box = result.magnify(centre=(evt.index[0], evt.index[1]))
    return (*check_panels(result, box), gr.update(value=magnified, label=check_magnifier_label(result, box)))


def follow_upload(upload):
    """The check starts from the picture above: a shipped example's original, or the visitor's own photo
    when it is large enough to be shrunk by the default scale."""
    key = originals.original_for(upload)
    if key is not None:
        return key, gr.update()
    try:
        loaded = imageio.load_image(upload) if upload else None
    except imageio.ImageInputError:
        loaded = None
    if loaded is None or min(loaded.width, loaded.height) < check.DEFAULT_SCALE * check.MIN_TINY_SIDE:
        return gr.update(), gr.update()
    return OWN_PHOTO, upload


def remember_point(result, evt: gr.SelectData):
    """The magnifier's point, as fractions of the picture's width and height, for the movie and the ladder."""
    if result is None:
        return None
    sx, sy = result.scale
    loaded = result.request.loaded
    return (evt.index[0] + 0.5) / sx / loaded.width, (evt.index[1] + 0.5) / sy / loaded.height


def experiment_picture(result, upload, point):
    """(loaded picture, model name, centre in input pixels) for the movie and the ladder: the last run's
    picture, else the upload."""
    if result is not None:
        loaded, model_name = result.request.loaded, result.model_name
    elif upload:
        loaded, model_name = imageio.load_image(upload), None
    else:
        raise imageio.ImageInputError("run a photo first (try an example above): this zooms into that picture")
    centre = None if point is None else (point[0] * loaded.width, point[1] * loaded.height)
    return loaded, model_name, centre


def make_zoom(result, upload, point, zoom_factor, progress=gr.Progress(), request: gr.Request = None):
    try:
        loaded, model_name, centre = experiment_picture(result, upload, point)
        speed = shelf.speed(model_name)  # takes the model's lock itself
        with shelf.working(model_name, visitor(request)) as upscaler:
            movie = zoom.zoom_movie(upscaler, loaded, centre, zoom_factor,
                                    path=outputs.new_path("zoom.webp"),
                                    progress=lambda f, text: progress(f, desc=text),
                                    speed=speed, max_seconds=session.page_model_seconds())
    except (imageio.ImageInputError, WeightsError) as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    return (gr.update(value=str(movie.path), label=f"Zoom movie ×1 → ×{movie.zooms[-1]:.3g}: bicubic | LIIF"),
            movie.markdown(),
            gr.update(value=str(movie.path), visible=True))


def make_ladder(result, upload, point, request: gr.Request = None):
    try:
        loaded, model_name, centre = experiment_picture(result, upload, point)
        extra = result.scale[0] if result is not None else None
        speed = shelf.speed(model_name)  # takes the model's lock itself
        with shelf.working(model_name, visitor(request)) as upscaler:
            rungs = ladder.ladder(upscaler, loaded, centre, extra_scale=extra, speed=speed,
                                  max_seconds=session.page_model_seconds())
    except (imageio.ImageInputError, WeightsError) as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    return [(r.picture, r.caption) for r in rungs], "\n".join(f"- {r.sentence}" for r in rungs)


def check_api(image, scale, request: gr.Request = None):
    """For scripts: (photo, scale) -> (tiny | bicubic | LIIF | real as one PNG, the numbers as JSON)."""
    try:
        with shelf.working(None, visitor(request)) as upscaler:
            result = check.check(upscaler, image, scale, model_name=model_label(None))
    except (imageio.ImageInputError, WeightsError) as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    return str(outputs.save(result.share_image(), f"{result.name}-check-x{result.scale}.png")), result.summary()


def zoom_api(image, x, y, zoom_factor, request: gr.Request = None):
    """For scripts: (picture, x, y in input pixels (empty: the middle), zoom) -> (animated WebP, JSON)."""
    try:
        speed = shelf.speed(None)  # takes the model's lock itself
        if isinstance(image, str):  # a heavy movie is refused from the picture's header, before any decode
            zoom.fit_to_budget(*imageio.image_size(image), zoom.DEFAULT_FRAMES, zoom.DEFAULT_SIZE, speed,
                               session.page_model_seconds())
        loaded = imageio.load_image(image)
        centre = None if x is None or y is None else (x, y)
        with shelf.working(None, visitor(request)) as upscaler:
            movie = zoom.zoom_movie(upscaler, loaded, centre, zoom_factor,
                                    path=outputs.new_path("zoom.webp"), speed=speed,
                                    max_seconds=session.page_model_seconds())
    except (imageio.ImageInputError, WeightsError) as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    return str(movie.path), movie.summary()


def model_label(model_name) -> str:
    name = model_name or shelf.default_name
    return dict((value, label) for label, value in shelf.choices).get(name, name or "")


def experiments_sections(run_state, upload, model, bicubic_view, liif_view):
    """The three experiments, after the explanation, in accordions; their events; the public `check` and
    `zoom` endpoints. All in one function, so the rest of the page's layout can change around it."""
    check_state = gr.State(None, time_to_live=session.OUTPUT_MAX_AGE)
    point_state = gr.State(None)  # the magnifier's point as fractions of width and height; None: the middle
    with gr.Column(elem_id="experiments"):
        gr.Markdown("## Experiments: convincing or true?\nThree ways to see for yourself what the model drew.")
        # Accordions rather than tabs: in a 390 px window tabs fold into a "..." menu nobody opens.
        with gr.Accordion("1. Check against the real photo", open=True, elem_id="check-section"):
            gr.Markdown(
                "Pick a photo whose original we have, or upload a large photo of your own. It is shrunk the way "
                "the model's training inputs were made (antialiased bicubic), both methods bring the tiny version "
                "back, and both are compared with the real photo: here you can tell a *convincing* detail from "
                "a *true* one. Click any of the four pictures to move the magnifier.")
            with gr.Row(equal_height=False):
                with gr.Column(scale=2, min_width=280):
                    check_choice = gr.Radio(
                        [(f"{o.label} ({o.credit})", o.key) for o in originals.ORIGINALS.values()]
                        + [("My own photo", OWN_PHOTO)],
                        value=next(iter(originals.ORIGINALS)), label="The real photo", elem_id="check-choice")
                    check_scale = gr.Radio(list(check.SCALES), value=check.DEFAULT_SCALE, label="Shrink it by",
                                           elem_id="check-scale")
                    check_button = gr.Button("Check", variant="primary", elem_id="check-button")
                check_upload = PhotoUpload(
                    label=f"My own photo (at least {check.MIN_TINY_SIDE}× the scale a side; larger ones are "
                          f"reduced to {check.DEFAULT_WORKING_SIZE}× the scale)",
                    type="filepath", image_mode=None, sources=["upload", "clipboard"], height=200, scale=1,
                    min_width=240, elem_id="check-upload")
            # The pictures and maps appear with the first check (empty picture boxes before it are noise,
            # and Gradio's empty-box markup fails an accessibility check).
            with gr.Row(equal_height=True, elem_id="check-results", visible=False) as check_pictures:
                check_tiny = check_picture("check-tiny", "Tiny input", elem_classes=["pixelated"])
                check_bicubic = check_picture("check-bicubic", "Bicubic")
                check_liif = check_picture("check-liif", "LIIF")
                check_real = check_picture("check-real", "The real photo")
            with gr.Row(equal_height=False):
                check_magnifier = gr.Image(label="Magnifier", format="png", type="numpy", interactive=False,
                                           height=320, min_width=300, elem_id="check-magnifier", visible=False,
                                           elem_classes=["pixelated"])
                with gr.Column(scale=2, min_width=300):
                    check_text = gr.Markdown(elem_id="check-text")
            with gr.Row(equal_height=False, visible=False) as check_maps:
                check_errors = gr.Image(label="How far off: bicubic (left) and LIIF (right) against the real photo",
                                        format="png", interactive=False, min_width=300, scale=2,
                                        elem_id="check-errors")
                check_closer = gr.Image(label="Where LIIF is closer to the real photo than bicubic, per input pixel",
                                        format="png", interactive=False, min_width=300, scale=1,
                                        elem_id="check-closer")
            check_share = gr.DownloadButton("Download the comparison (PNG)", visible=False, elem_id="check-share")
        with gr.Accordion("2. Zoom movie: from the whole picture to a few pixels", open=False, elem_id="zoom-section"):
            gr.Markdown(
                "LIIF can be asked for any rectangle at any resolution. This movie zooms from your whole picture "
                "(the last run's, or the upload) down to a few input pixels around the magnifier's point (click "
                "an output above to move it), rendering every frame anew, with bicubic beside it.")
            with gr.Row():
                zoom_factor = gr.Radio([8, 16, 32], value=32, label="Zoom in to", elem_id="zoom-factor")
                zoom_button = gr.Button("Make the zoom movie", variant="primary", elem_id="zoom-button")
            zoom_text = gr.Markdown(elem_id="zoom-text")
            zoom_view = gr.Image(label="Zoom movie: bicubic | LIIF", type="filepath", interactive=False,
                                 elem_id="zoom-movie", buttons=["fullscreen"])
            zoom_download = gr.DownloadButton("Download the movie (animated WebP)", visible=False,
                                              elem_id="zoom-download")
        with gr.Accordion("3. Scale ladder: ×2 to ×16, what was seen in training and what is extrapolation",
                          open=False, elem_id="ladder-section"):
            gr.Markdown(
                "The same small region (around the magnifier's point) rendered at ×2, ×4, ×6, ×8, ×16 and your "
                "run's scale, each shown at the same size: watch how much has to be inferred as the scale grows.")
            ladder_button = gr.Button("Build the ladder", variant="primary", elem_id="ladder-button")
            ladder_gallery = gr.Gallery(label="Scale ladder", columns=6, height="auto", object_fit="contain",
                                        format="png", preview=False, allow_preview=True, elem_id="ladder",
                                        elem_classes=["pixelated"])
            ladder_text = gr.Markdown(elem_id="ladder-text")

    with gr.Row(visible=False):  # the scripting API for the experiments
        api_photo = PhotoUpload(label="photo", type="filepath", image_mode=None)
        api_check_scale = gr.Number(check.DEFAULT_SCALE, label="scale")
        api_share = gr.Image(label="tiny | bicubic | LIIF | real (PNG)", type="filepath", format="png")
        api_check_summary = gr.JSON(label="check summary")
        api_check = gr.Button("check")
        api_zoom_image = PhotoUpload(label="image", type="filepath", image_mode=None)
        api_x = gr.Number(None, label="x")
        api_y = gr.Number(None, label="y")
        api_zoom_factor = gr.Number(zoom.DEFAULT_ZOOM, label="zoom")
        api_movie = gr.File(label="zoom movie (animated WebP)")
        api_zoom_summary = gr.JSON(label="zoom summary")
        api_zoom = gr.Button("zoom")

    check_panels_out = [check_tiny, check_bicubic, check_liif, check_real]
    click_in_turn(check_button, check_text, run_check, [check_choice, check_upload, check_scale, model],
                  [check_state, *check_panels_out, check_magnifier, check_errors, check_closer, check_text,
                   check_share, check_pictures, check_maps],
                  api_visibility="private", concurrency_id=MODEL_WORK, show_progress_on=[check_text])
    for panel in check_panels_out:
        panel.select(pick_check_region, [check_state], [*check_panels_out, check_magnifier], api_visibility="private")
    check_upload.upload(lambda: OWN_PHOTO, None, [check_choice], api_visibility="private")
    upload.change(follow_upload, [upload], [check_choice, check_upload], api_visibility="private")
    for clickable in (bicubic_view, liif_view):
        clickable.select(remember_point, [run_state], [point_state], api_visibility="private")
    click_in_turn(zoom_button, zoom_text, make_zoom, [run_state, upload, point_state, zoom_factor],
                  [zoom_view, zoom_text, zoom_download],
                  api_visibility="private", concurrency_id=MODEL_WORK, show_progress_on=[zoom_text])
    click_in_turn(ladder_button, ladder_text, make_ladder, [run_state, upload, point_state], [ladder_gallery, ladder_text],
                  api_visibility="private", concurrency_id=MODEL_WORK, show_progress_on=[ladder_text])
    api_check.click(check_api, [api_photo, api_check_scale], [api_share, api_check_summary], api_name="check",
                    concurrency_id=MODEL_WORK)
    api_zoom.click(zoom_api, [api_zoom_image, api_x, api_y, api_zoom_factor], [api_movie, api_zoom_summary],
                   api_name="zoom", concurrency_id=MODEL_WORK)


def check_picture(elem_id: str, label: str, **kwargs) -> gr.Image:
    # 140 px wide at least: two a row in a 390 px window, four on a wide screen; as tall as the picture.
    return gr.Image(label=label, elem_id=elem_id, format="png", type="numpy", interactive=False,
                    min_width=140, buttons=["fullscreen"], **kwargs)


# -- the page ---------------------------------------------------------------------------------------


def picture(elem_id: str, label: str, alt_text: str, **kwargs) -> gr.Image:
    """An output picture of the results row: PNG (lossless), the same height as its neighbours, with a
    text for screen readers."""
    return gr.Image(label=label, elem_id=elem_id, format="png", type="numpy", interactive=False,
                    height=DISPLAY_HEIGHT, buttons=["fullscreen"], alt_text=alt_text, **kwargs)


with gr.Blocks(title="LIIF Zoom", delete_cache=(600, session.OUTPUT_MAX_AGE)) as demo:
    run_state = gr.State(None, time_to_live=session.OUTPUT_MAX_AGE)

    gr.Markdown(
        "# LIIF Zoom: where does the detail come from?\n"
        "Upscale a tiny photo to any size with LIIF, compare it with plain bicubic interpolation, and see "
        "which pixels were observed and which the model filled in.",
        elem_id="intro",
    )
    if shelf.problem:
        gr.Markdown(f"**No model can run yet.** {shelf.problem}", elem_id="weights-warning")

    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            upload = PhotoUpload(label="Your photo (kept only for this visit, never altered)", type="filepath",
                                 image_mode=None, sources=["upload", "clipboard"], height=220,
                                 elem_id="upload-image")
            # A gallery rather than gr.Examples: its captions can sit under pictures that are shown
            # pixel for pixel, so a visitor sees how tiny they are.
            examples = gr.Gallery([(str(p), example_caption(p)) for p in EXAMPLES], label="Tiny profile photos: click one",
                                  columns=6, height="auto", allow_preview=False, object_fit="contain",
                                  elem_id="examples", buttons=[])
        with gr.Column(scale=1, min_width=280):
            scale = gr.Slider(1, 30, value=8, step=0.1, label="Scale", elem_id="scale-slider",
                              info="How many times wider and taller the output is.")
            with gr.Row():
                target_width = gr.Number(0, precision=0, minimum=0, label="Width (0 = scale)",
                                         elem_id="target-width")
                target_height = gr.Number(0, precision=0, minimum=0, label="Height (0 = scale)",
                                          elem_id="target-height")
            stretch = gr.Checkbox(False, label="Stretch to exactly that size", elem_id="stretch",
                                  info="Otherwise the photo fits inside them, keeping its shape.")
            model = gr.Dropdown(shelf.choices, value=shelf.default_name, label="Model",
                                visible=len(shelf.names) > 1, elem_id="model")
            gr.Markdown(session.limits_text(), elem_id="limits")
            estimate_note = gr.Markdown("", elem_id="estimate")
            run_button = gr.Button("Run", variant="primary", elem_id="run-button")
            status = gr.Markdown("", elem_id="status")
            download = gr.DownloadButton("Download LIIF (PNG)", visible=False, elem_id="download")

    # Hidden until the first run: before it, the answer below is the first thing to read.
    with gr.Column(visible=False, elem_id="results-area") as results_area:
        with gr.Row(equal_height=True, elem_id="results"):
            input_view = picture("input-image", "Input", "Your photo, enlarged with its square pixels",
                                 elem_classes=["pixelated"])
            bicubic_view = picture("bicubic-output", "Bicubic (click to magnify)", "The bicubic enlargement")
            liif_view = picture("liif-output", "LIIF (click to magnify)", "The LIIF result")
            magnifier_view = picture("magnifier", "Magnifier",
                                     "Magnified region: input pixels, bicubic, LIIF and what LIIF added")
        with gr.Row(elem_id="magnify-keys"):
            magnify_x = gr.Number(0, precision=0, minimum=0, label="Magnifier centre x (output pixels)",
                                  elem_id="magnify-x")
            magnify_y = gr.Number(0, precision=0, minimum=0, label="Magnifier centre y (output pixels)",
                                  elem_id="magnify-y")
            magnify_button = gr.Button("Magnify there", elem_id="magnify-button")
        compare_view = gr.ImageSlider(label="Drag to compare: bicubic (left) | LIIF (right)", format="png",
                                      type="numpy", visible=False, interactive=False, max_height=420,
                                      elem_id="compare")

    with gr.Column(elem_id="explanation"):
        answer_note = gr.Markdown("The example answer is being made; it appears here in a moment.",
                                  elem_id="answer-note")
        task_text = gr.Markdown("")
        with gr.Row(elem_classes=["text-and-picture"]):
            workflow_text = gr.Markdown(scale=3, elem_id="workflow-text")
            feature_view = gr.Image(label="The encoder's feature grid (first 3 principal components)",
                                    format="png", interactive=False, visible=False, scale=1,
                                    elem_id="feature-grid", elem_classes=["pixelated"],
                                    alt_text="The encoder's description of each input pixel, in false colour")
        with gr.Row(elem_classes=["text-and-picture"]):
            why_text = gr.Markdown(scale=2)
            with gr.Column(scale=1):
                added_view = gr.Image(label="What was added: |LIIF − bicubic|, with its colour scale", format="png",
                                      interactive=False, visible=False, height=320, elem_id="added-map",
                                      alt_text="Heat map of how much LIIF changed each pixel over bicubic, with its colour scale")
                consistency_view = gr.Image(label="Your input | the LIIF output shrunk back", format="png",
                                            interactive=False, visible=False, elem_id="consistency",
                                            elem_classes=["pixelated"],
                                            alt_text="Your input beside the LIIF output shrunk back to its size")
        gr.Markdown(explain.sources_markdown(), elem_id="sources")

    experiments_sections(run_state, upload, model, bicubic_view, liif_view)

    # The scripting API: one public endpoint; every other event below is private.
    with gr.Row(visible=False):
        api_image = PhotoUpload(label="image", type="filepath", image_mode=None)
        api_scale = gr.Number(4, label="scale")
        api_result = gr.Image(label="LIIF output (PNG)", type="filepath", format="png")
        api_summary = gr.JSON(label="summary")
        api_trigger = gr.Button("upscale")

    explanation_outputs = [answer_note, task_text, workflow_text, feature_view, why_text, added_view, consistency_view]
    run_outputs = [run_state, results_area, input_view, bicubic_view, liif_view, magnifier_view, compare_view,
                   download, status, magnify_x, magnify_y] + explanation_outputs
    for chosen in (upload.change, model.change):
        chosen(scale_limit, [upload, scale, model], [scale], api_visibility="private", queue=False)
    # Gradio's tracker sits on the status line (tall enough to show it): the queue place and the time,
    # "minimal" so that it does not cover the line's own progress text.
    click_in_turn(run_button, status, run, [upload, scale, target_width, target_height, model, stretch], run_outputs,
                  api_visibility="private", concurrency_id=MODEL_WORK, show_progress_on=[status],
                  show_progress="minimal")
    magnifier_outputs = [bicubic_view, liif_view, magnifier_view, magnify_x, magnify_y]
    for clickable in (bicubic_view, liif_view):
        clickable.select(pick_region, [run_state], magnifier_outputs,
                         api_visibility="private", concurrency_id=MODEL_WORK, show_progress_on=[magnifier_view])
    examples.select(pick_example, None, [upload], api_visibility="private", queue=False)
    click_in_turn(magnify_button, status, pick_point, [run_state, magnify_x, magnify_y], magnifier_outputs,
                  api_visibility="private", concurrency_id=MODEL_WORK, show_progress_on=[magnifier_view])
    # Before a run: how long it will take, when that is more than a few seconds.
    for control in (upload, scale, target_width, target_height, model):
        control.change(estimate, [upload, scale, target_width, target_height, model], [estimate_note],
                       api_visibility="private", show_progress="hidden", queue=False)
    demo.load(landing_view, None, explanation_outputs, api_visibility="private", concurrency_limit=None)
    api_trigger.click(upscale_api, [api_image, api_scale], [api_result, api_summary], api_name="upscale",
                      concurrency_id=MODEL_WORK)


def _stop(signum, frame):
    raise KeyboardInterrupt  # SIGTERM (a restart) ends the server as Ctrl-C does, so its folder is removed


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop)
    start_landing()
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1)
    visitors.limit_jobs_per_client(demo._queue)
    upload_guard = Middleware(visitors.UploadGuard, folder=outputs, total_bytes=UPLOADS_TOTAL_BYTES,
                       client_bytes=UPLOADS_PER_CLIENT_BYTES, window=session.OUTPUT_MAX_AGE)
    try:
        demo.launch(max_file_size=UPLOAD_LIMIT, css_paths=[CSS_PATH], show_error=False,
                    app_kwargs={"middleware": [Middleware(guard.BodyLimit), upload_guard]})
    except KeyboardInterrupt:
        pass  # stopped while starting
    finally:
        outputs.cleanup()
        # A job may still be computing in a worker thread; finalising the interpreter under it aborts
        # (exit 134, "terminate called without an active exception"). Everything is closed: leave now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
