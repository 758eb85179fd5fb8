"""What a refusal says and what it costs (issue 32, point 6): no server path in any sentence, one sentence
for what lies in the upload folder but is no picture file, a model that fails its check is not loaded
again per request, and a call without a session owns its encodings alone."""

import pytest
import torch

from liif.core.model import LIIF, LIIFConfig
from liif.core.weights import WeightsError, save_weights
from liif.page import context, guard, models, visitors
from liif.page.gradio_adapter import QueueView
from liif.render.imageio import ImageInputError


def test_sentences_keep_a_files_name_never_its_folder():
    said = guard.without_paths("/tmp/liif-zoom-41-x1/3fa9/big1400.png is 1400×1400; see https://example.com/a/b, fp32/bf16")
    assert said == "big1400.png is 1400×1400; see https://example.com/a/b, fp32/bf16"
    assert guard.without_paths("/srv/w/random.safetensors: parameter x holds NaN") == "random.safetensors: parameter x holds NaN"


def test_a_folder_or_a_removed_upload_in_the_upload_folder_gets_one_sentence(tmp_path):
    (tmp_path / "abc").mkdir()
    for inside in (tmp_path / "abc", tmp_path / "abc" / "gone.png", tmp_path):
        with pytest.raises(ImageInputError) as refused:
            guard.refuse_foreign_path(inside, [tmp_path])
        assert str(refused.value) == guard.UPLOAD_GONE


def test_a_model_that_fails_its_check_is_not_loaded_again(tmp_path, monkeypatch):
    model = LIIF(LIIFConfig(encoder="edsr-baseline"))
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    path = save_weights(model, tmp_path / "nan.safetensors")
    shelf = models.ModelShelf(path, device="cpu")
    loads = []
    real = models.load_weights
    monkeypatch.setattr(models, "load_weights", lambda p: loads.append(p) or real(p))
    answers = set()
    for _ in range(3):
        with pytest.raises(WeightsError) as refused:
            shelf.upscaler()
        answers.add(str(refused.value))
    assert len(loads) == 1 and len(answers) == 1
    assert str(tmp_path) not in answers.pop()


def test_each_call_without_a_session_is_an_owner_of_its_own():
    class Request:
        session_hash = None

    assert context.visitor(Request()) != context.visitor(Request())
    Request.session_hash = "browser-session"
    assert context.visitor(Request()) == "browser-session"


def test_call_v2_reads_and_pasted_pictures_are_recognised():
    event = "0123456789abcdef0123456789abcdef"
    queue = QueueView(None)
    queue.note_read(f"/gradio_api/call/v2/upscale/{event}")
    assert queue._read_events.pop(event, None) is True  # read: not dropped as unread
    assert visitors._carries_pictures("/gradio_api/call/v2/upscale")  # counts against the upload share
