"""The printed-text picture generator (liif/training/text_pictures.py) and `python -m liif make-data text`:
deterministic from the seed, picture i independent of the count, sizes and glyph heights as specified, and a
set that the project's own readers (the training loader, `python -m liif eval`) take as it is written."""

import json

import numpy as np
import pytest
from PIL import Image

from liif.training import text_pictures as tp

CLEAN = dict(backgrounds=("plain",), blur_share=0.0, noise_share=0.0)  # ink = every pixel off the background


def pixels(image):
    return np.asarray(image.convert("RGB"))


def test_the_same_seed_gives_the_same_pixels_and_files(tmp_path):
    first = pixels(tp.compose_text_picture(tp.picture_rng(7, 3)).image)
    again = pixels(tp.compose_text_picture(tp.picture_rng(7, 3)).image)
    assert np.array_equal(first, again)
    a = tp.write_text_set(tmp_path / "a", 3, seed=11)
    b = tp.write_text_set(tmp_path / "b", 3, seed=11)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert (tmp_path / "a" / tp.RECORD_NAME).read_text() == (tmp_path / "b" / tp.RECORD_NAME).read_text()


def test_other_seeds_and_other_indices_give_other_pictures():
    pictures = [pixels(tp.compose_text_picture(tp.picture_rng(seed, i)).image) for seed, i in [(1, 0), (2, 0), (1, 1)]]
    for j in range(3):
        for k in range(j + 1, 3):
            assert pictures[j].shape != pictures[k].shape or not np.array_equal(pictures[j], pictures[k])


def test_picture_i_is_the_same_whatever_the_count(tmp_path):
    small = tp.write_text_set(tmp_path / "small", 2, seed=4)
    large = tp.write_text_set(tmp_path / "large", 4, seed=4)
    assert [p.name for p in large] == ["text-00000.png", "text-00001.png", "text-00002.png", "text-00003.png"]
    assert [p.read_bytes() for p in small] == [p.read_bytes() for p in large[:2]]
    # And the files are what the one-picture function makes for (seed, i).
    assert np.array_equal(pixels(Image.open(large[3])), pixels(tp.compose_text_picture(tp.picture_rng(4, 3)).image))


def test_a_smaller_set_written_over_a_larger_one_leaves_no_stale_pictures(tmp_path):
    tp.write_text_set(tmp_path, 4, seed=0)
    tp.write_text_set(tmp_path, 2, seed=0)
    assert sorted(p.name for p in (tmp_path / "HR").iterdir()) == ["text-00000.png", "text-00001.png"]
    assert json.loads((tmp_path / tp.RECORD_NAME).read_text())["count"] == 2
    (tmp_path / "HR" / "mine.png").write_bytes(b"")
    with pytest.raises(ValueError, match="other files"):
        tp.write_text_set(tmp_path, 2, seed=0)


def test_sizes_stay_within_the_spec():
    sizes = [tp.compose_text_picture(tp.picture_rng(0, i)).image.size for i in range(12)]
    assert min(min(s) for s in sizes) >= 192
    assert max(max(s) for s in sizes) <= 512
    assert len(set(sizes)) > 6  # not one size for all
    spec = tp.TextPictureSpec(min_side=256, max_short_side=260, max_side=300)
    for i in range(4):
        w, h = tp.compose_text_picture(tp.picture_rng(0, i), spec).image.size
        assert 256 <= min(w, h) <= 260 and max(w, h) <= 300


@pytest.mark.parametrize("bad", [dict(min_side=128), dict(glyph_min=30, glyph_max=20), dict(glyph_max=100),
                                 dict(backgrounds=("stripes",)), dict(max_short_side=600)])
def test_the_spec_refuses_what_training_could_not_use(bad):
    with pytest.raises(ValueError):
        tp.TextPictureSpec(**bad)


def ink_height(image, box, size):
    """Rows of the line's columns (and a margin above and below) with a pixel off the background colour."""
    a = pixels(image).astype(int)
    background = a[0, 0]  # the margin keeps the corners free of text
    top, bottom = max(0, box[1] - size // 4), min(a.shape[0], box[3] + size // 4)
    region = a[top:bottom, max(0, box[0]):box[2]]
    rows = np.flatnonzero((np.abs(region - background).max(axis=2) > 40).any(axis=1))
    return 0 if rows.size == 0 else int(rows[-1] - rows[0] + 1)


@pytest.mark.parametrize("glyphs", [(12, 48), (20, 24)])
def test_glyph_heights_are_those_of_the_spec_measured_on_the_ink(glyphs):
    spec = tp.TextPictureSpec(glyph_min=glyphs[0], glyph_max=glyphs[1], **CLEAN)
    drawn = []
    for i in range(6):
        picture = tp.compose_text_picture(tp.picture_rng(3, i), spec)
        assert picture.lines, "every picture has text"
        for line in picture.lines:
            assert glyphs[0] <= line.size <= glyphs[1]
            height = ink_height(picture.image, line.box, line.size)
            # Lower-case only ("on") is about half the em; accents to descenders about 1.2 of it.
            assert 0.45 * line.size <= height <= 1.3 * line.size, (line, height)
            drawn.append(line.size)
    if glyphs == (12, 48):
        assert min(drawn) <= 16 and max(drawn) >= 36  # the whole range is used, small ones included


def test_fonts_default_to_the_shipped_ones_and_their_order_does_not_matter():
    shipped = tp.shipped_fonts()
    assert [p.name for p in shipped] == sorted(p.name for p in shipped) and len(shipped) >= 4
    used = {line.font for i in range(6) for line in tp.compose_text_picture(tp.picture_rng(5, i)).lines}
    assert used <= {p.name for p in shipped} and len(used) >= 2
    forward = tp.compose_text_picture(tp.picture_rng(5, 0), fonts=shipped).image
    backward = tp.compose_text_picture(tp.picture_rng(5, 0), fonts=shipped[::-1]).image
    assert np.array_equal(pixels(forward), pixels(backward))
    one = [p for p in shipped if p.name == "DejaVuSans-Bold.ttf"]
    assert {line.font for line in tp.compose_text_picture(tp.picture_rng(5, 0), fonts=one).lines} == {one[0].name}


def test_photo_backgrounds_come_only_from_the_given_photos():
    spec = tp.TextPictureSpec(backgrounds=("photo",))
    assert tp.compose_text_picture(tp.picture_rng(0, 0), spec).background == "photo"
    with pytest.raises(ValueError, match="no photos"):
        tp.compose_text_picture(tp.picture_rng(0, 0), spec, photos=[])
    kinds = {tp.compose_text_picture(tp.picture_rng(1, i), photos=[]).background for i in range(12)}
    assert "photo" not in kinds and len(kinds) >= 3


def test_the_command_writes_a_set_that_training_and_eval_read(tmp_path, capsys):
    from liif.cli import main
    from liif.evaluation.benchmark import load_pairs, run_benchmark
    from liif.training.data import decode, list_images

    out = tmp_path / "text-eval"
    assert main(["make-data", "text", "--out", str(out), "--count", "3", "--seed", "5"]) == 0
    assert "wrote 3 pictures" in capsys.readouterr().out
    images = list_images([out / "HR"])
    assert [p.name for p in images] == ["text-00000.png", "text-00001.png", "text-00002.png"]
    assert all(min(decode(p).shape[1:]) >= 192 for p in images)
    # The same files as the function makes for that seed.
    reference = tp.write_text_set(tmp_path / "ref", 3, seed=5)
    assert [p.read_bytes() for p in images] == [p.read_bytes() for p in reference]
    pairs, source = load_pairs(out, 4)
    assert len(pairs) == 3 and source == "generated" and all(p.lr.shape[0] * 4 == p.hr.shape[0] for p in pairs)
    report = run_benchmark(tmp_path, ["text-eval"], [2], bicubic_only=True, progress=False)
    assert report["results"]["bicubic"]["text-eval"]["x2"]["n_images"] == 3
    record = json.loads((out / tp.RECORD_NAME).read_text())
    assert record["seed"] == 5 and record["count"] == 3 and len(record["files"]) == 3
    assert record["fonts"] == [f"assets/fonts/{p.name}" for p in tp.shipped_fonts()]
    assert record["spec"]["glyph_min"] == 12 and record["spec"]["glyph_max"] == 48


def test_the_command_refuses_bad_options_in_one_line(tmp_path, capsys):
    from liif.cli import main

    assert main(["make-data", "text", "--out", str(tmp_path), "--count", "2", "--min-side", "100"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: min_side must be at least 192") and err.count("\n") == 1
    assert not (tmp_path / "HR").exists()
