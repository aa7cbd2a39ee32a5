"""Without the real default model, a new model node starts on the shipped sketch model, and
picking a sketch model brings its one shape along. The real window, the real disk (an empty
models folder and an empty Hugging Face cache), Tab-search as an artist adds nodes."""

from __future__ import annotations

import pytest

from tests.ui.test_estimates import add_by_search

pytestmark = pytest.mark.ui


@pytest.fixture
def no_real_models(tmp_path, monkeypatch):
    from huggingface_hub import constants

    from app.ui.panels import models_info

    monkeypatch.setenv("WEFT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    models_info.forget()
    yield
    models_info.forget()


def test_a_new_node_starts_on_the_sketch_model_where_the_real_one_is_absent(make_window, qtbot, no_real_models):
    w = make_window(models="default")
    doc = w.document
    t2v = doc.graph.nodes[add_by_search(qtbot, w, "text to video")].params
    assert t2v["model"] == "sketch-video"
    assert (t2v["width"], t2v["height"], t2v["frames"], t2v["fps"], t2v["negative_prompt"]) == (64, 64, 17, 8.0, "")
    t2a = doc.graph.nodes[add_by_search(qtbot, w, "text to audio")].params
    assert (t2a["model"], t2a["negative_prompt"]) == ("sketch-sound", "")
    assert 1.0 <= t2a["seconds"] <= 4.0


def test_the_tiny_profile_keeps_the_real_defaults(make_window, qtbot, no_real_models):
    w = make_window()  # tiny: the twins of the real models are built on first use
    t2v = w.document.graph.nodes[add_by_search(qtbot, w, "text to video")].params
    assert t2v["model"] == "wan2.1-t2v-1.3b"


def test_picking_sketch_video_brings_its_shape_in_one_undo_step(make_window, qtbot):
    w = make_window()
    doc = w.document
    node = doc.add_node("text_to_video", (0, 0), {"model": "wan2.1-t2v-1.3b", "aspect": "custom", "width": 832,
                                                  "height": 480, "frames": 81, "fps": 16.0})
    doc.set_param(node, "model", "sketch-video")
    params = doc.graph.nodes[node]
    assert (params.params["width"], params.params["height"], params.params["frames"], params.params["fps"]) == \
        (64, 64, 17, 8.0)
    assert params.params["negative_prompt"] == ""
    from nodes.validation import validate
    assert [p for p in validate(doc.graph, [node]) if p.code == "bad_value"] == []
    doc.undo_stack.undo()
    assert (params.params["model"], params.params["width"], params.params["frames"]) == ("wan2.1-t2v-1.3b", 832, 81)
    # Another real model: the artist's settings stay as they are.
    doc.set_param(node, "model", "cogvideox-2b")
    assert params.params["width"] == 832
