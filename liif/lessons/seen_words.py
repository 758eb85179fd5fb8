"""The words and numbers of "what it has seen decides what it draws" (liif/lessons/seen.py): every
sentence made from the result's own measurements and the models' training records and data facts."""

from liif.core import fmt
from liif.lessons.check import SCALES

TIE_DB = 0.05  # two models this close in PSNR-Y come out the same
# Below these the two models barely differ on a picture, and the step says so and where they do differ: a
# gain against the real picture (dB), or without it the mean difference between their drawings (levels).
SMALL_GAIN_DB = 0.5
SMALL_DIFFERENCE_LEVELS = 4.0


def findings(result) -> list:
    """Four to six sentences, each true of this result."""
    photo, text = result.models
    h, w = result.tiny.shape[:2]
    sentences = [_verdict(result)]
    little = little_difference(result)
    if little:
        sentences.append(little)
    sentences += [f"**Both were given the same {fmt.size(w, h)} pixels**; their pictures differ by "
                 f"{result.difference()['mean_levels']:.1f} levels on average, and "
                 f"{fmt.percent(result.difference()['share_different'])} of the pixels by "
                 f"{result.difference()['different_levels']} levels or more. The input is the same, so every "
                 "difference comes from what each model learned in training."]
    sentences.append(model_words(photo))
    sentences.append(model_words(text, before=photo))
    related = _relation(result)
    if related:
        sentences.append(related)
    return sentences


def little_difference(result) -> str:
    """When the two models barely differ on this picture: that, plainly, with the measured numbers, and where
    they do differ (the held-out text's gains by scale, when measured) with the picture to choose; "" when
    they differ more."""
    difference, gain = result.difference(), result.gain_db
    if gain is not None:
        if abs(gain) >= SMALL_GAIN_DB:
            return ""
        apart = f"{abs(gain):.2f} dB apart against the real picture, {difference['mean_levels']:.1f} levels on average"
    else:
        if difference["mean_levels"] >= SMALL_DIFFERENCE_LEVELS:
            return ""
        apart = (f"{difference['mean_levels']:.1f} levels apart on average, and only "
                 f"{fmt.percent(difference['share_different'])} of the pixels by {difference['different_levels']} "
                 "levels or more")
    words = f"**Here the two models barely differ** ({apart}): on this picture, at ×{result.scale}, what they learned differently hardly shows."
    gains = result.held_out.get("gains")
    if not gains:
        return words + " Try the tiny sign (printed text, like the text model's training pictures) at another scale."
    measured = ", ".join(f"{g:+.2f} dB at ×{k}" for k, g in gains.items())
    pictures = result.held_out.get("pictures")
    words += (f" On {fmt.count(pictures) + ' ' if pictures else ''}held-out pictures of printed text, measured for "
              f"the model card, the text model's lead over the photo model (PSNR-Y) is {measured}.")
    better = [k for k, g in gains.items() if g >= SMALL_GAIN_DB and k in SCALES]
    if result.kind == "text" and result.scale in better:
        return words
    if better:
        return words + f" To see the difference, choose the tiny sign at ×{' or ×'.join(map(str, better))}."
    return words


def _verdict(result) -> str:
    photo, text = result.models
    if result.real is None:
        return ("**Nobody here knows the real picture** behind this tiny input, so which drawing is closer cannot be "
                "measured, only looked at: give the real picture (or pick a shipped one) to measure it.")
    what = {"text": "sign", "photo": "photo"}.get(result.kind, "picture")
    gain, bicubic = result.gain_db, result.bicubic_psnr
    numbers = (f"{text.psnr:.2f} dB for {text.label} and {photo.psnr:.2f} dB for {photo.label} PSNR-Y against the "
               f"real {what} ({text.psnr - bicubic:+.2f} and {photo.psnr - bicubic:+.2f} dB over bicubic's "
               f"{bicubic:.2f} dB)")
    if abs(gain) < TIE_DB:
        return f"**On this {what} the two models come out the same** (within {TIE_DB} dB): {numbers}."
    closer, further = (text, photo) if gain > 0 else (photo, text)
    return f"**On this {what}, {closer.label} is {abs(gain):.2f} dB closer** to the truth than {further.label}: {numbers}."


def model_words(drawn, before=None) -> str:
    """What one model was trained on, from its stages; `before`: the other model, when this one continued it."""
    stages = drawn.stages
    if not stages:
        return f"**{drawn.label}** has no training record in its weights file, so what it has seen is not known here."
    shared = before is not None and len(stages) > len(before.stages) and all(
        (a.steps, a.pictures) == (b.steps, b.pictures) for a, b in zip(stages, before.stages))
    if shared:
        start = f"**{drawn.label}** started from {before.label} itself ({_steps(before.stages)} steps), then trained"
        own = stages[len(before.stages):]
    else:
        first = stages[0]
        start = f"**{drawn.label}** trained {fmt.count(first.steps)} steps{_batch(first)} on {_pictures(first)}"
        own = stages[1:]
        if own:
            start += ", then"
    parts = [f"{fmt.count(s.steps)} more steps{_batch(s)} on {_pictures(s)}" for s in own]
    words = [start + (" " + "; then ".join(parts) if parts else "") + "."]
    words += [_details(s) for s in (own if shared else stages) if _details(s)]
    kinds = {}
    for s in stages:
        kind = (s.facts or {}).get("kind", "unknown")
        kinds[kind] = kinds.get(kind, 0) + s.steps
    total = sum(kinds.values())
    if len(kinds) > 1 and total:
        named = {"text": "printed text", "unknown": "pictures not described"}
        words.append("Of all its training steps, " + ", ".join(
            f"{fmt.percent(n / total)} were on {named.get(k, k)}" for k, n in kinds.items()) + ".")
    return " ".join(words)


def _steps(stages) -> str:
    return fmt.count(sum(s.steps for s in stages))


def _batch(stage) -> str:
    return f" of {stage.batch_size} crops" if stage.batch_size else ""


def _short(label: str) -> str:
    return label.split(" (")[0]


def _pictures(stage) -> str:
    """"524 of the 528 photographs in its folder (4 held out for validation)", from a stage's facts."""
    facts, n = stage.facts, stage.pictures
    if facts is None:
        return f"{fmt.count(n) if n else 'some'} pictures (no data facts beside its weights say what they were)"
    noun = "pictures of printed text drawn by our generator" if facts.get("kind") == "text" else "photographs"
    if n and n != facts["pictures"]:
        return (f"{fmt.count(n)} of the {fmt.count(facts['pictures'])} {noun} in its folder "
                f"({fmt.count(facts['pictures'] - n)} held out for validation)")
    return f"{fmt.count(facts['pictures'])} {noun}"


def _details(stage) -> str:
    """What a stage's pictures were, by area, and how many show a face, from its facts ("" without)."""
    facts = stage.facts
    if facts is None:
        return ""
    words = []
    text = facts.get("text")
    if text:
        fonts = text.get("fonts") or []
        heights = text.get("glyph_heights")
        words.append(f"The text is set in {len(fonts)} fonts ({', '.join(f.removesuffix('.ttf') for f in fonts)})"
                     + (f", {heights[0]}–{heights[1]} px tall" if heights else "") + ".")
    shares = facts.get("sources") or []
    if shares:
        words.append(("Their backgrounds, by area: " if text else "By area: ") + ", ".join(
            f"{fmt.percent(s['area_share'])} {_short(s['label'])} ({fmt.count(s['pictures'])} pictures)"
            for s in shares) + ".")
    found = facts.get("faces")
    if found:
        count = found["pictures_with_faces"]
        if count:
            words.append(f"OpenCV's Haar face detector finds a face in {fmt.count(count)} of the "
                         f"{fmt.count(facts['pictures'])} ({fmt.percent(found['area_share'])} of the training area; the "
                         f"faces themselves cover {found['face_area_share']:.1%}; the detector misses turned and small "
                         "faces and takes some textures for faces).")
        else:
            words.append(f"OpenCV's Haar face detector finds no face in the {fmt.count(facts['pictures'])}.")
    return " ".join(words)


def _relation(result) -> str:
    """How the input relates to the text model's training pictures, when the facts say."""
    facts = (result.models[1].stages or [None])[-1]
    text = ((facts.facts if facts else None) or {}).get("text")
    original = result.original
    if original is None or not text:
        return ""
    if result.kind == "text":
        if text.get("seed") is None or getattr(original, "seed", None) == text.get("seed"):
            return ""
        return (f"**This sign** comes from the same generator as the text model's training pictures, from another "
                f"seed ({original.seed}, theirs {text['seed']}), so it is none of them: that model has seen its "
                "fonts and kinds of background, not this picture.")
    if original.file in (text.get("background_photos") or []):
        photo_share = next((s for s in facts.facts.get("sources", []) if s["key"] == "photo"), None)
        many = f" ({fmt.count(photo_share['pictures'])} of them have such a background)" if photo_share else ""
        return (f"**This photo** is one of the {len(text['background_photos'])} photos the text generator fades in "
                f"behind some of its text{many}: the text model has seen faded crops of it, under text.")
    return ""


def markdown(result) -> str:
    rows = [("bicubic", result.bicubic_psnr)] + [(m.label, m.psnr) for m in result.models]
    h, w = result.tiny.shape[:2]
    if result.real is not None:
        table = "| against the real picture | PSNR-Y |\n| --- | --- |\n" + "".join(
            f"| {what} | {db:.2f} dB |\n" for what, db in rows)
        how = (f"The real picture ({fmt.size(w * result.scale, h * result.scale)}) was shrunk ×{result.scale} to "
               f"{fmt.size(w, h)} the way the models' training inputs were made; bicubic and both models brought "
               f"that back. Y channel, {result.scale} pixels left out at each border; {fmt.seconds(result.seconds)}.")
    else:
        table = ""
        how = (f"The {fmt.size(w, h)} input was enlarged ×{result.scale} by bicubic and by both models; "
               f"{fmt.seconds(result.seconds)}.")
    return "\n\n".join(part for part in [table, how, "\n".join(f"- {s}" for s in findings(result))] if part)


def summary(result) -> dict:
    """The API's and the command line's JSON description."""
    h, w = result.tiny.shape[:2]
    return {
        "scale": result.scale, "tiny": {"width": w, "height": h},
        "out": {"width": w * result.scale, "height": h * result.scale},
        "real_known": result.real is not None, "input": result.original.key if result.original else None,
        "kind": result.kind, "psnr_y_db": result.psnr, "text_model_gain_db": result.gain_db,
        "models": [{"role": m.role, "model": m.label, "psnr_y_db": m.psnr,
                    "gain_over_bicubic_db": None if m.psnr is None else m.psnr - result.bicubic_psnr,
                    "trained_on": [_stage_summary(s) for s in m.stages]} for m in result.models],
        "difference": result.difference(), "held_out_text": result.held_out, "findings": findings(result),
        "seconds": result.seconds,
        "notices": list(result.notices),
    }


def _stage_summary(stage) -> dict:
    facts = stage.facts or {}
    found = facts.get("faces") or {}
    return {"steps": stage.steps, "batch_size": stage.batch_size, "pictures": stage.pictures,
            "kind": facts.get("kind"), "folder_pictures": facts.get("pictures"),
            "training_megapixels": facts.get("training_megapixels"),
            "sources": [{k: s[k] for k in ("key", "pictures", "area_share")} for s in facts.get("sources", [])],
            "pictures_with_faces": found.get("pictures_with_faces"), "face_pictures_area_share": found.get("area_share")}


def sheet_caption(result) -> str:
    """The sheet's caption (the sheet is drawn by seen.Seen.sheet): the numbers, and which model is which."""
    if result.real is not None:
        caption = (f"x{result.scale}: PSNR-Y against the real picture, bicubic {result.bicubic_psnr:.2f} dB, "
                   + ", ".join(f"{m.role} {m.psnr:.2f} dB" for m in result.models) + ".")
    else:
        caption = f"x{result.scale}: the real picture is not known here."
    named = "; ".join(f"{m.role}: {m.label}" for m in result.models if m.label != m.role)
    return f"{caption} {named[:140]}" if named else caption


def panels(result) -> list:
    """(picture, caption) for the page's panels: the tiny input (enlarged, whole pixels), bicubic, the two
    models, and the real picture where it is known; each captioned with its PSNR-Y where that is measured."""
    h, w = result.tiny.shape[:2]

    def caption(what, db):
        return f"{what} ×{result.scale}" + ("" if db is None else f", {db:.2f} dB")

    shown = [(result.tiny_enlarged, f"Tiny input {w}×{h}"), (result.bicubic, caption("Bicubic", result.bicubic_psnr))]
    shown += [(m.picture, caption(m.role.capitalize(), m.psnr)) for m in result.models]
    if result.real is not None:
        shown.append((result.real, f"The real picture {result.real.shape[1]}×{result.real.shape[0]}"))
    return shown
