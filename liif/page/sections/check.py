"""Check against the real photo: a photo whose original we have (or the visitor's own) is shrunk, brought
back by bicubic and LIIF, and both are compared with it. The work is liif/lessons/check.py's. With the
tiny version saved as a JPEG first (liif/lessons/check_jpeg.py), the photo model and the JPEG-trained model
both bring the same JPEG back. After a plain check, "Which one is real?" (liif/lessons/guess.py) shows the real
photo among LIIF's answer and sharp pictures made to shrink back to the same tiny input, unlabelled until the
visitor guesses."""

import gradio as gr

from liif.lessons import check, check_experiment, check_jpeg, guess, originals
from liif.page import files
from liif.page.experiments import run_experiment
from liif.page.widgets import (
    EXPECTED_PROBLEMS,
    PhotoUpload,
    click_in_turn,
    instant,
    model_work,
    page_work,
    shown,
    small_picture,
    upload_size,
)
from liif.render import pictures

OWN_PHOTO = "own"  # the check's choice for the visitor's own photo
NO_JPEG = 0  # the JPEG choice for the plain check
JPEG_CHOICES = [("none", NO_JPEG)] + [(f"JPEG {q}", q) for q in check_jpeg.JPEG_QUALITIES]
# Short: a label longer than its picture is cut ("…"); the check's text says the rest.
ERRORS_LABEL = "How far off: bicubic (left), LIIF (right)"
CLOSER_LABEL = "Where LIIF is closer than bicubic"
GUESS_SLOTS = 5  # the game's pictures: the real photo, LIIF's answer and the answers' three sharp ones
GUESS_INTRO = ("### Which one is real?\nThe real photo shrinks to the tiny input; every other picture here but "
               "the models' own drawings (shown as they drew them) was made to shrink back "
               "to that same tiny input. Guess which one is real: click "
               "it, or choose its letter and press Reveal. The real photo, the magnifier and the maps of the "
               "errors appear below once you have guessed.")


class CheckSection:
    def __init__(self, page):
        self.page, self.ctx = page, page.ctx
        self.state = gr.State(None, time_to_live=files.OUTPUT_MAX_AGE)
        self.guess_state = gr.State(None, time_to_live=files.OUTPUT_MAX_AGE)
        with gr.Accordion("4. Check against the real photo", open=False, elem_id="check-section") as self.accordion:
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
                    self.jpeg = gr.Radio(JPEG_CHOICES, value=NO_JPEG, label="Save the tiny photo as",
                                         elem_id="check-jpeg")
                    self.button = gr.Button("Check", variant="primary", elem_id="check-button")
                self.upload = PhotoUpload(
                    label=f"My own photo (at least {check.MIN_TINY_SIDE}× the scale a side; larger ones are "
                          f"reduced to {check.DEFAULT_WORKING_SIZE}× the scale)",
                    type="filepath", image_mode=None, sources=["upload", "clipboard"], height=200, scale=1,
                    min_width=240, elem_id="check-upload")
            # "Which one is real?": above the check's pictures, so that it is seen before the real photo is.
            with gr.Column(visible=False, elem_id="check-guess") as self.guess_box:
                gr.Markdown(GUESS_INTRO)
                with gr.Row(equal_height=True):
                    self.guess_pictures = [small_picture(f"check-guess-{letter.lower()}", letter)
                                           for letter in guess.LETTERS[:GUESS_SLOTS]]
                with gr.Row(equal_height=True):
                    self.guess_choice = gr.Radio(list(guess.LETTERS[:GUESS_SLOTS]), value=None, scale=3,
                                                 label="Which one is the real photo?", elem_id="check-guess-choice")
                    self.guess_button = gr.Button("Reveal", scale=1, elem_id="check-guess-reveal")
                self.guess_text = gr.Markdown(elem_id="check-guess-text")
            # The pictures and maps appear with the first check (empty picture boxes before it are noise,
            # and Gradio's empty-box markup fails an accessibility check).
            with gr.Row(equal_height=True, elem_id="check-results", visible=False) as self.pictures:
                self.panels = [small_picture("check-tiny", "Tiny input", elem_classes=["pixelated"]),
                               small_picture("check-bicubic", "Bicubic"), small_picture("check-liif", "LIIF"),
                               small_picture("check-real", "The real photo")]
                # The JPEG-trained model's picture, shown only by a JPEG check that had that model.
                self.jpeg_panel = small_picture("check-liif-jpeg", "JPEG model", visible=False)
            with gr.Row(equal_height=False):
                self.magnifier = shown("check-magnifier", "Magnifier", height=320, min_width=300, visible=False,
                                       elem_classes=["pixelated"])
                with gr.Column(scale=2, min_width=300):
                    self.text = gr.Markdown(elem_id="check-text")
            with gr.Row(equal_height=False, visible=False) as self.maps:
                self.errors = shown("check-errors", ERRORS_LABEL, min_width=300, scale=2)
                self.closer = shown("check-closer", CLOSER_LABEL, min_width=300, scale=1)
            self.share = gr.DownloadButton("Download the comparison (PNG)", visible=False, elem_id="check-share")
        # What a check sets up for the game: its state, its box, its pictures, the choice and the text.
        self.guess_outputs = [self.guess_state, self.guess_box, *self.guess_pictures, self.guess_choice, self.guess_text]
        # What shows the real photo, hidden while the game waits for a guess.
        self.after_guess = [self.pictures, self.magnifier, self.maps, self.share]

    def wire(self):
        upscale = self.page.upscale
        self.job = click_in_turn(self.ctx, self.button, self.text, self.run_check,
                                 [self.choice, self.upload, self.scale, upscale.model, self.jpeg],
                                 [self.state, *self.panels, self.magnifier, self.errors, self.closer, self.text, self.share,
                                  self.pictures, self.maps, self.jpeg_panel, *self.guess_outputs],
                                 show_progress_on=[self.text])
        # The guess only words what the check already measured: no model work, so no queue turn.
        revealed = [*self.guess_pictures, self.guess_choice, self.guess_text, *self.after_guess]
        instant((self.guess_button.click,), self.reveal_guess, [self.guess_state, self.guess_choice], revealed)
        for index, picture in enumerate(self.guess_pictures):
            instant((picture.select,), self.guess_by_click(index), [self.guess_state], revealed)
        for panel in [*self.panels, self.jpeg_panel]:
            model_work(panel.select, self.pick_region, [self.state], [*self.panels, self.jpeg_panel, self.magnifier])
        instant((self.upload.upload,), lambda: OWN_PHOTO, None, [self.choice])
        instant((upscale.upload.change,), self.follow_upload, [upscale.upload], [self.choice, self.upload])

    @page_work
    def run_check(self, choice, own_photo, scale, model_name, jpeg=NO_JPEG, progress=gr.Progress(),
                  request: gr.Request = None):
        """Shrink the chosen photo, bring it back with bicubic and LIIF, and compare with the real one. With a
        JPEG quality, the tiny version is saved as that JPEG first and the JPEG-trained model (when the shelf
        has one) brings it back too."""
        source = own_photo if choice == OWN_PHOTO else originals.original_path(choice) if choice else None
        quality = check_jpeg.check_quality(jpeg)
        photo_name, jpeg_name = (model_name, None) if quality is None else self.jpeg_pair(model_name)
        outcome = run_experiment(self.ctx, check_experiment.EXPERIMENT,
                                 {"picture": source, "scale": scale, "jpeg_quality": quality},
                                 (photo_name, jpeg_name), request, progress=lambda f, text: progress(f, desc=text))
        result = outcome.result
        jpeg_run = isinstance(result, check_jpeg.JpegCheck)
        game, problem = None, ""
        if not jpeg_run:  # a JPEG's tiny input is not the real photo's shrink: no game
            progress(1.0, desc="Which one is real? Making sharp pictures that fit the tiny input")
            try:
                game = guess.guess(result, sharp=self.page.sharp_render(result.tiny, result.scale, request))
            except EXPECTED_PROBLEMS as exc:
                problem = f"**Which one is real?** Not this time: {exc}."
        magnified, box = result.magnify()
        two = jpeg_run and result.jpeg is not None
        # With a game, the real photo (in the pictures, the magnifier and the maps) waits for the guess.
        shown = game is None
        return {
            self.state: result,
            **self.panel_views(result, box),
            self.magnifier: gr.update(value=magnified, label=self.magnifier_label(result, box), visible=shown),
            self.errors: gr.update(value=result.error_maps_picture(), label=(
                f"How far off: bicubic, {'photo model, JPEG model' if two else 'LIIF'} (left to right)"
                if jpeg_run else ERRORS_LABEL)),
            self.closer: gr.update(value=result.closer_picture(), label=(
                "Where the JPEG model is closer than the photo model" if two else CLOSER_LABEL)),
            self.text: outcome.markdown,
            self.share: gr.update(value=str(outcome.file), visible=shown,
                                  label=f"Download the comparison, ×{result.scale} (PNG)"),
            self.pictures: gr.update(visible=shown),
            self.maps: gr.update(visible=shown),
            **dict(zip(self.guess_outputs, self.guess_views(game, problem))),
        }

    @staticmethod
    def guess_views(game, problem: str = "") -> tuple:
        """The game's row after a check, unlabelled (letters only); hidden after a JPEG check, and only the
        sentence when the pictures could not be made."""
        if game is None:
            return (None, gr.update(visible=bool(problem)),
                    *[gr.update(value=None, visible=False)] * GUESS_SLOTS, gr.update(value=None), problem)
        pictures_ = [gr.update(value=e.picture, label=label, visible=True)
                     for e, label in zip(game.entries, game.labels())]
        pictures_ += [gr.update(value=None, visible=False)] * (GUESS_SLOTS - len(pictures_))
        return (game, gr.update(visible=True), *pictures_, gr.update(choices=game.letters, value=None),
                game.question())

    @page_work
    def reveal_guess(self, game, letter):
        """The visitor's guess (a letter): each picture's label gains what it is and how far it is from the real
        photo, and the text says whether the guess was right. Words only: the check measured everything."""
        if game is None:
            raise gr.Error("Press Check first; then guess which picture is the real photo.", print_exception=False)
        if not letter:
            raise gr.Error("Choose a letter first (or click the picture you think is real).", print_exception=False)
        labels, words = game.labels(revealed=True, guess=letter), game.markdown(letter)
        labels += [None] * (GUESS_SLOTS - len(labels))
        return (*[gr.update(label=label) if label else gr.update() for label in labels],
                gr.update(value=game.entry(letter).letter), words, *[gr.update(visible=True)] * len(self.after_guess))

    def guess_by_click(self, index: int):
        """The handler of a click on the game's picture `index`: that picture is the guess."""
        def guess_clicked(game):
            if game is None or index >= len(game.entries):
                raise gr.Error("Press Check first; then guess which picture is the real photo.", print_exception=False)
            return self.reveal_guess(game, game.entries[index].letter)
        return guess_clicked

    def jpeg_pair(self, model_name) -> tuple:
        """(the photo model, the JPEG-trained model or None) for a JPEG check: the menu's model and the shelf's
        JPEG-trained one; when the menu names that one, the photo model is its clean twin (the shipped photo model
        of its architecture: trained the same way on clean photos), or another model."""
        shelf = self.ctx.shelf
        photo, jpeg = model_name or shelf.default_name, shelf.jpeg_trained()
        if jpeg is None or photo != jpeg:
            return photo, jpeg
        twin = shelf.clean_twin(jpeg)
        return (jpeg, None) if twin is None else (twin, jpeg)  # alone, the words say no clean model is there

    def panel_views(self, result, box) -> dict:
        """The check's pictures with the magnifier's box drawn on them; the JPEG-trained model's only after a
        JPEG check that had that model."""
        h, w = result.tiny.shape[:2]
        real_h, real_w = result.real.shape[:2]
        jpeg_run = isinstance(result, check_jpeg.JpegCheck)
        jpeg_model = jpeg_run and result.jpeg is not None
        tiny, bicubic, liif, real = self.panels
        return {
            # Short labels: two pictures a row in a 390 px window leave ~150 px for each.
            tiny: gr.update(value=pictures.draw_box(result.tiny_enlarged, box),
                            label=f"Tiny JPEG {result.quality}, {w}×{h}" if jpeg_run else f"Tiny input {w}×{h}"),
            bicubic: gr.update(value=pictures.draw_box(result.bicubic, box), label=f"Bicubic ×{result.scale}"),
            liif: gr.update(value=pictures.draw_box(result.liif, box),
                            label=f"Photo model ×{result.scale}" if jpeg_run else f"LIIF ×{result.scale}"),
            real: gr.update(value=pictures.draw_box(result.real, box), label=f"Real photo {real_w}×{real_h}"),
            self.jpeg_panel: gr.update(value=pictures.draw_box(result.jpeg.liif, box), label=f"JPEG model ×{result.scale}",
                                       visible=True) if jpeg_model else gr.update(visible=False),
        }

    @staticmethod
    def magnifier_label(result, box) -> str:
        x0, y0, x1, y1 = (v / result.scale for v in box)
        return f"Magnifier: input x {x0:.0f}–{x1:.0f}, y {y0:.0f}–{y1:.0f}"

    def pick_region(self, result, evt: gr.SelectData):
        """A click on any of the check's panels moves the check's magnifier there."""
        if result is None:
            raise gr.Error("Press Check first; then click a picture to look closer.", print_exception=False)
        magnified, box = result.magnify(centre=(evt.index[0], evt.index[1]))
        return {**self.panel_views(result, box),
                self.magnifier: gr.update(value=magnified, label=self.magnifier_label(result, box))}

    @staticmethod
    def follow_upload(upload):
        """The check starts from the picture above: a shipped example's original, or the visitor's own photo
        when it is large enough to be shrunk by the default scale."""
        key = originals.original_for(upload)
        if key is not None:
            return key, gr.update()
        size = upload_size(upload)
        if size is None or min(size) < check.DEFAULT_SCALE * check.MIN_TINY_SIDE:
            return gr.update(), gr.update()
        return OWN_PHOTO, upload
