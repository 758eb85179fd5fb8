"""The answer: input -> model -> output with the numbers of the run that just happened (or of the example
run made at start), its pictures, and the works it cites. The words are liif/lessons/explain.py's."""

import gradio as gr

from liif.lessons import explain
from liif.page import session
from liif.page.sections.upscale import example_caption
from liif.page.widgets import instant, shown, small_picture
from liif.render import pictures

EXAMPLE_HEIGHT = 240  # the example's three pictures, small: the answer's text is what they illustrate


class ExplanationSection:
    def __init__(self, page):
        self.page, self.ctx = page, page.ctx
        with gr.Column(elem_id="explanation"):
            self.answer_note = gr.Markdown("The example answer is being made; it appears here in a moment.",
                                           elem_id="answer-note")
            # Before any run, the pictures the example answer talks about (a visitor's own run has them above).
            with gr.Row(visible=False, elem_id="example-pictures") as self.example_row:
                # (alt texts: each picture is in a button, which a screen reader names by them)
                self.example_views = [small_picture("example-input", "Input", height=EXAMPLE_HEIGHT,
                                                    elem_classes=["pixelated"],
                                                    alt_text="The example's photo, enlarged with its square pixels"),
                                      small_picture("example-bicubic", "Bicubic", height=EXAMPLE_HEIGHT,
                                                    alt_text="The example enlarged by bicubic interpolation"),
                                      small_picture("example-liif", "LIIF", height=EXAMPLE_HEIGHT,
                                                    alt_text="The example enlarged by LIIF")]
            self.task_text = gr.Markdown("")
            self.workflow_text = gr.Markdown(elem_id="workflow-text")
            self.why_text = gr.Markdown(elem_id="why-text")
            # The answer reads first; the pictures that measure it fold below (a phone's page stays short).
            with gr.Accordion("How this was measured: the encoder's features, what LIIF added, the shrink-back check",
                              open=False, elem_id="answer-how") as self.how:
                with gr.Row(equal_height=False):
                    self.feature_view = shown(
                        "feature-grid", "Encoder features (3 main components)", visible=False, min_width=160,
                        elem_classes=["pixelated"],
                        alt_text="The encoder's description of each input pixel, in false colour")
                    self.added_view = shown(
                        "added-map", "What was added: |LIIF − bicubic|, with its colour scale", visible=False,
                        height=320, min_width=160,
                        alt_text="Heat map of how much LIIF changed each pixel over bicubic, with its colour scale")
                    self.consistency_view = shown(
                        "consistency", "Your input | the LIIF output shrunk back", visible=False, min_width=160,
                        elem_classes=["pixelated"],
                        alt_text="Your input beside the LIIF output shrunk back to its size")
            gr.Markdown(explain.sources_markdown(), elem_id="sources")
        self.outputs = [self.answer_note, self.example_row, *self.example_views, self.task_text, self.workflow_text,
                        self.feature_view, self.why_text, self.added_view, self.consistency_view]

    def wire(self):
        # Unqueued: the queue holds model work only, and the example waited for is made once, at start.
        instant((self.page.demo.load,), self.landing_view, None, self.outputs)

    def explanation_view(self, result: session.Run) -> dict:
        """The three-part answer of a run, with its pictures: for a visitor's run, and for the example run
        that the page shows before any."""
        words = result.explanation
        return {
            self.example_row: gr.update(visible=False),
            self.task_text: words.task,
            self.workflow_text: words.workflow,
            self.feature_view: gr.update(value=pictures.enlarge_nearest(words.feature_image, 256), visible=True),
            self.why_text: words.why,
            self.added_view: gr.update(value=explain.with_colour_bar(words.added_map), visible=True),
            self.consistency_view: gr.update(value=pictures.enlarge_nearest(words.consistency_image, 256), visible=True),
        }

    def working_view(self) -> dict:
        """While a new run works: the previous answer goes, so that nothing of it passes for this one's."""
        return {
            self.answer_note: "", self.example_row: gr.update(visible=False),
            self.task_text: "_Working on it: the answer for your run appears here when it is done._",
            self.workflow_text: "", self.why_text: "", self.feature_view: gr.update(value=None, visible=False),
            self.added_view: gr.update(value=None, visible=False),
            self.consistency_view: gr.update(value=None, visible=False),
        }

    def example_pictures(self, example: session.Run) -> dict:
        """The example's input (its pixels as squares), bicubic and LIIF, small, labelled short enough to fit
        three a row on a phone (the sizes are in the answer's first line)."""
        loaded, facts = example.request.loaded, example.facts
        scale = explain.scale_text(facts)
        input_squares = pictures.enlarge_nearest(pictures.flatten(loaded.rgb, loaded.alpha),
                                                 max(facts.out_width, facts.out_height))
        views = [(input_squares, "Input"), (example.bicubic_display, f"Bicubic {scale}"),
                 (example.liif_display, f"LIIF {scale}")]
        return {self.example_row: gr.update(visible=True)} | {
            view: gr.update(value=rgb, label=label) for view, (rgb, label) in zip(self.example_views, views)}

    def landing_view(self):
        """On page load: the answer from the example run made at start (waiting for it if it is still going)."""
        landing = self.ctx.start_landing()
        example = landing.wait(timeout=session.EXAMPLE_WAIT_SECONDS)
        if example is None:
            return {self.answer_note: landing.problem or "The example answer is not ready yet; run a photo meanwhile."}
        facts = example.facts
        return self.explanation_view(example) | self.example_pictures(example) | {
            self.answer_note: (f"**An example answer**, from *{example_caption(self.ctx.landing_example)}* upscaled "
                               f"{explain.scale_text(facts)} when this page started. Run your own photo to replace "
                               f"it with your run's numbers. {session.model_line(facts)}"),
        }
