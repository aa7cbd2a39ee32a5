"""The studio's panels, used the way an artist uses them.

Runs without a display (offscreen). The inspector is tested against a small
stand-in for ``app.ui.document.Document`` that keeps its contract (graph,
undo stack, selection, set_param that merges, set_title), plus one test with
the real Document when it can be imported.

``WEFT_SCREENSHOTS=1`` also writes the panel pictures to docs/screenshots/.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QToolButton

from app.ui.document import Document
from app.ui.panels import InspectorPanel, LogPanel, NodeLibraryPanel, QueuePanel, ViewerPanel
from app.ui.panels import models_info
from app.ui.panels.anchors import prompt_problems, prompt_references
from app.ui.panels.fields import ModelField, NumberField, PromptField, SeedField, read_number
from app.ui.panels.library import NODE_TYPE_MIME
from nodes.search import match_score
from app.ui.panels.media import SampleStream, envelope
from app.ui.panels.palette import CATEGORY_COLORS, category_color, type_color
from engines.cache import ResultCache
from nodes import types as T
from nodes.definition import Input, NodeType, Output, Param
from nodes.registry import Registry, default_registry, node_types_in
from nodes.values import Audio, Image, Mask, Video

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"


# A personalising node of the kind a later issue adds: numbered reference inputs.
class Personalise(NodeType):
    type_id = "test_personalise"
    title = "Personalise (test)"
    category = "Generate"
    description = "Puts the people of the reference pictures into a video."
    reference_1 = Input(T.IMAGE, required=False)
    reference_2 = Input(T.IMAGE, required=False)
    prompt = Param.text("", multiline=True, help="Name each reference with an anchor: [1], [2] or its label.")
    label_1 = Param.text("")  # labels are the node's own parameters, as on the real Personalise node
    label_2 = Param.text("")
    negative_prompt = Param.text("", multiline=True)
    likeness = Param.float(0.8, min=0.0, max=1.0, step=0.05, advanced=True,
                           help="How closely the people follow their references.")
    video = Output(T.VIDEO)


def _test_registry() -> Registry:
    registry = Registry()
    for module in ("nodes.catalogue.basic", "nodes.catalogue.generate", "nodes.catalogue.audio",
                   "nodes.catalogue.save"):
        for node_type in node_types_in(module):
            registry.register(node_type)
    registry.register(Personalise)
    return registry


@pytest.fixture
def doc() -> Document:
    # The real document model: what the inspector edits in the studio.
    return Document(_test_registry())


@pytest.fixture
def models_known(monkeypatch):
    """The Wan model is installed, every other model is not (no disk is looked at)."""
    monkeypatch.setattr(models_info, "_is_installed", lambda model_id, profile: model_id.startswith("wan"))
    models_info.forget()
    yield
    models_info.forget()


def _inspector(qtbot, doc, node_id: str) -> InspectorPanel:
    panel = InspectorPanel(doc)
    qtbot.addWidget(panel)
    panel.resize(380, 760)
    doc.select([node_id])
    assert panel.node_id == node_id
    return panel


def _type_into(qtbot, line_edit, text: str) -> None:
    line_edit.setFocus()
    line_edit.selectAll()
    qtbot.keyClicks(line_edit, text)
    qtbot.keyClick(line_edit, Qt.Key_Return)


# -- inspector -------------------------------------------------------------------------------------
def test_typing_a_number_sets_the_parameter_through_the_document_and_merges(qtbot, doc, models_known):
    node = doc.graph.add_node("text_to_video")
    panel = _inspector(qtbot, doc, node.id)
    steps = panel.field("steps")
    assert isinstance(steps, NumberField) and steps.slider is not None
    assert steps.entry.text() == "30"

    _type_into(qtbot, steps.entry, "42")
    assert doc.graph.nodes[node.id].params["steps"] == 42
    assert doc.undo_stack.text(doc.undo_stack.index() - 1).endswith("steps")  # one undoable step
    _type_into(qtbot, steps.entry, "43")
    assert doc.graph.nodes[node.id].params["steps"] == 43
    assert doc.undo_stack.count() == 1, "consecutive edits of one parameter are one undo step"
    assert steps.slider.value() == 43 - 1  # the slider follows (1..200 in steps of 1)

    # The slider edits through the document too, and a drag is one undo step.
    for tick in (50, 60, 70):
        steps.slider.setValue(tick)
    assert doc.graph.nodes[node.id].params["steps"] == 71
    assert steps.entry.text() == "71"

    doc.undo_stack.undo()
    assert doc.graph.nodes[node.id].params["steps"] == 30
    assert steps.entry.text() == "30", "an undo shows in the inspector"
    assert doc.undo_stack.count() == 1 and doc.undo_stack.index() == 0, "showing the undo pushed nothing"

    # Up/Down step the value by the parameter's step.
    guidance = panel.field("guidance")
    guidance.entry.setFocus()
    qtbot.keyClick(guidance.entry, Qt.Key_Up)
    assert doc.graph.nodes[node.id].params["guidance"] == 5.5


def test_out_of_range_values_are_clamped_with_a_message_and_nonsense_is_refused(qtbot, doc, models_known):
    node = doc.graph.add_node("text_to_video")
    panel = _inspector(qtbot, doc, node.id)
    width = panel.field("width")

    _type_into(qtbot, width.entry, "5000")
    assert doc.graph.nodes[node.id].params["width"] == 1920
    assert width.entry.text() == "1920"
    assert any("above the maximum 1920" in m for m in panel.messages("width"))
    assert panel.rows["width"].note.isVisibleTo(panel)

    _type_into(qtbot, width.entry, "banana")
    assert doc.graph.nodes[node.id].params["width"] == 1920
    assert width.entry.text() == "1920"
    assert any("not a number" in m for m in panel.messages("width"))

    # A fraction in a whole-number field is rounded and said so; the type's own
    # check says a width must be a multiple of 16.
    _type_into(qtbot, width.entry, "100.4")
    assert doc.graph.nodes[node.id].params["width"] == 100
    messages = panel.messages("width")
    assert any("rounded to 100" in m for m in messages)
    assert any("multiple of 16" in m for m in messages)

    _type_into(qtbot, panel.field("fps").entry, "0,5")  # a decimal comma; below the minimum 1
    assert doc.graph.nodes[node.id].params["fps"] == 1.0
    assert any("below the minimum 1" in m for m in panel.messages("fps"))


def test_read_number_says_what_it_did():
    param = Param.int(5, min=1, max=10)
    assert read_number(" 7 ", param) == (7, "")
    assert read_number("12", param)[0] == 10
    with pytest.raises(ValueError, match="not a number"):
        read_number("seven", param)
    assert read_number("2,5", Param.float(1.0))[0] == 2.5


def test_choice_combo_lists_the_options_and_sets_the_choice(qtbot, doc):
    node = doc.graph.add_node("save_video")
    panel = _inspector(qtbot, doc, node.id)
    combo = panel.field("format").combo
    assert [combo.itemData(i) for i in range(combo.count())] == ["mp4", "mov", "webm"]
    assert combo.currentData() == "mp4"
    combo.setCurrentIndex(2)
    assert doc.graph.nodes[node.id].params["format"] == "webm"
    doc.undo_stack.undo()
    assert combo.currentData() == "mp4"


def test_seed_randomise_changes_it_and_lock_prevents_it(qtbot, doc, models_known):
    node = doc.graph.add_node("text_to_video")
    panel = _inspector(qtbot, doc, node.id)
    seed = panel.field("seed")
    assert isinstance(seed, SeedField)

    qtbot.mouseClick(seed.randomise_button, Qt.LeftButton)
    first = doc.graph.nodes[node.id].params["seed"]
    assert first != 0 and 0 <= first <= 2**32 - 1
    assert seed.entry.text() == str(first)

    qtbot.mouseClick(seed.lock_button, Qt.LeftButton)
    assert seed.locked and panel.seed_locked(node.id, "seed")
    assert not seed.randomise_button.isEnabled()
    assert seed.randomise() is False
    assert doc.graph.nodes[node.id].params["seed"] == first
    _type_into(qtbot, seed.entry, "7")  # read-only while locked
    assert doc.graph.nodes[node.id].params["seed"] == first

    # The lock belongs to the node: it is still locked after looking at another node.
    other = doc.graph.add_node("text")
    doc.select([other.id])
    doc.select([node.id])
    assert panel.field("seed").locked
    panel.field("seed").set_locked(False)
    assert panel.field("seed").randomise() is True
    assert doc.graph.nodes[node.id].params["seed"] != first


def test_the_inspector_and_the_render_agree_on_anchors(qtbot):
    """The inspector shows what the render will do: the same anchors, the same
    labels, the same messages (nodes.anchors is the one parser)."""
    from nodes.anchors import anchor_problems as render_problems, bind_prompt, find_anchors
    from nodes.validation import validate

    doc = Document(default_registry())
    g = doc.graph
    mia = g.add_node("load_image", title="Someone")
    leo = g.add_node("load_image", title="Leo")  # a title is not a label: the render ignores it
    text = r"[Mia] waves at \[2] and [Leo]"
    words = g.add_node("text", {"text": text})
    cast = g.add_node("personalize", {"label_1": "Mia"})
    g.connect(mia.id, "image", cast.id, "reference_1")
    g.connect(leo.id, "image", cast.id, "reference_2")
    g.connect(words.id, "out", cast.id, "prompt")

    refs = prompt_references(g, words.id, "text")
    assert refs == {"reference_1": "Mia", "reference_2": ""}
    assert [a.text for a in find_anchors(text)] == ["[Mia]", "[Leo]"]  # an escaped \[2] is prose

    panel = _inspector(qtbot, doc, words.id)
    shown = panel.messages("text")
    node_type = g.node_type(cast.id)
    params = {**node_type.default_params(), **g.nodes[cast.id].params}
    render = [m for _, m in node_type.check_links(params, frozenset({"reference_1", "reference_2", "prompt"}),
                                                  {"prompt": text})]
    assert shown == render == [p.message for p in render_problems(text, refs)]
    assert len(shown) == 2 and "[Leo]" in shown[0] and "reference 2" in shown[1]
    assert set(shown) <= {p.message for p in validate(g)}  # the words a render's check uses

    field = panel.field("text")
    ok = field.highlighter.format_at(0, text.index("[Mia]") + 1)
    bad = field.highlighter.format_at(0, text.index("[Leo]") + 1)
    assert ok is not None and ok.underlineStyle() == ok.UnderlineStyle.NoUnderline
    assert bad is not None and bad.underlineStyle() != bad.UnderlineStyle.NoUnderline
    assert field.highlighter.format_at(0, text.index("[2]") + 1) is None  # escaped: not underlined

    # [Mia] and [2] name both references: nothing to say, and the render agrees.
    fixed = r"[Mia] waves at \[2] and [2]"
    words_field = panel.field("text")
    words_field.editor.setPlainText(fixed)
    words_field.commit()
    assert panel.messages("text") == []
    assert node_type.check_links(params, frozenset({"reference_1", "reference_2", "prompt"}), {"prompt": fixed}) == []
    assert bind_prompt(fixed, refs).order == ("reference_1", "reference_2")
    assert words_field.highlighter.format_at(0, fixed.index("[2]", fixed.index("and")) + 1).underlineStyle() \
        == ok.UnderlineStyle.NoUnderline

    # A label used twice is the label field's problem, in the render's words, not the prompt's.
    g.set_param(cast.id, "label_2", "mia")
    doc.select([cast.id])
    duplicate = [p.message for p in render_problems("", {"reference_1": "Mia", "reference_2": "mia"})
                 if p.kind == "label"]
    assert duplicate and all(m in panel.messages("label_2") for m in duplicate)
    doc.select([words.id])
    assert prompt_problems(fixed, prompt_references(g, words.id, "text")) == []


def test_prompt_anchors_are_highlighted_and_checked_against_connected_references(qtbot, doc):
    g = doc.graph
    mia = g.add_node("load_image", title="Mia")
    other = g.add_node("load_image")
    node = g.add_node("test_personalise", {"prompt": "[Mia] walks a dog past [2]", "label_1": "Mia"})
    g.connect(mia.id, "image", node.id, "reference_1")
    panel = _inspector(qtbot, doc, node.id)
    prompt = panel.field("prompt")
    assert isinstance(prompt, PromptField)
    assert prompt_references(g, node.id, "prompt") == {"reference_1": "Mia"}

    messages = panel.messages("prompt")
    assert any(m.startswith("[2] has no reference: nothing is connected") for m in messages)
    text = prompt.text()
    good = prompt.highlighter.format_at(0, text.index("[Mia]") + 1)
    bad = prompt.highlighter.format_at(0, text.index("[2]") + 1)
    assert good is not None and good.foreground().color() == QColor("#6fb1ff")
    assert bad is not None and bad.underlineStyle() != bad.UnderlineStyle.NoUnderline

    # Connecting the second reference fixes [2]: the inspector follows the link.
    g.connect(other.id, "image", node.id, "reference_2")
    assert not any("[2]" in m for m in panel.messages("prompt"))
    bad_now = prompt.highlighter.format_at(0, text.index("[2]") + 1)
    assert bad_now.underlineStyle() == bad_now.UnderlineStyle.NoUnderline

    # Typing a prompt that forgets reference 2 (committed when the field loses focus).
    prompt.editor.setFocus()
    prompt.editor.selectAll()
    qtbot.keyClicks(prompt.editor, "[1] alone on the beach")
    prompt.commit()
    assert g.nodes[node.id].params["prompt"] == "[1] alone on the beach"
    assert any("reference 2 is connected but the prompt never names it" in m for m in panel.messages("prompt"))
    # The negative prompt says what to avoid: it is not asked to name anyone.
    assert panel.messages("negative_prompt") == []

    # Advanced settings wait behind a toggle.
    likeness = panel.field("likeness")
    assert not likeness.isVisibleTo(panel)
    toggle = next(b for b in panel.findChildren(QToolButton) if b.text() == "Advanced")
    toggle.click()
    assert likeness.isVisibleTo(panel)

    # A Text node that feeds the prompt is checked against the same references.
    words = g.add_node("text", {"text": "[Mia] and [Bob]"})
    plain = g.add_node("test_personalise")
    g.connect(mia.id, "image", plain.id, "reference_1")
    assert prompt_references(g, words.id, "text") is None  # feeds nothing with references yet
    doc.select([words.id])
    assert panel.messages("text") == []
    # (The personalising node's prompt is a parameter here; a Text input named
    # "prompt" on such a node is checked the same way, through the link.)


def test_file_picker_shows_a_thumbnail_and_says_when_the_file_is_missing(qtbot, doc, tmp_path):
    picture = QImage(120, 60, QImage.Format_RGB888)
    picture.fill(QColor("#3070c0"))
    assert picture.save(str(tmp_path / "mia.png"))
    node = doc.graph.add_node("load_image", {"path": str(tmp_path / "mia.png")})
    panel = _inspector(qtbot, doc, node.id)
    path = panel.field("path")
    thumb = path.thumbnail.pixmap()
    assert not thumb.isNull() and thumb.width() <= 96 and thumb.height() <= 64
    assert "120 \u00d7 60" in path.info.text()
    assert panel.messages("path") == []

    path.choose(str(tmp_path / "nobody.png"))  # as when a file is dropped on the field
    assert doc.graph.nodes[node.id].params["path"] == str(tmp_path / "nobody.png")
    assert any("No such file" in m for m in panel.messages("path"))
    # The node type's own check speaks when the path is empty.
    path.entry.setFocus()
    path.entry.clear()
    qtbot.keyClick(path.entry, Qt.Key_Return)
    assert doc.graph.nodes[node.id].params["path"] == ""
    assert any(m.startswith("choose") for m in panel.messages("path"))
    assert path.thumbnail.text() == "none"


def test_a_prompt_commits_to_its_own_node_when_the_selection_moves_on(qtbot, doc):
    first = doc.graph.add_node("text", {"text": "one"})
    second = doc.graph.add_node("text", {"text": "two"})
    panel = _inspector(qtbot, doc, first.id)
    field = panel.field("text")
    field.editor.setPlainText("one fox")  # typed, not committed yet
    doc.select([second.id])
    assert doc.graph.nodes[first.id].params["text"] == "one fox"
    assert doc.graph.nodes[second.id].params["text"] == "two"
    assert panel.field("text").text() == "two"


def test_model_picker_says_installed_or_not_with_size_and_licence(qtbot, doc, models_known):
    video = doc.graph.add_node("text_to_video")
    panel = _inspector(qtbot, doc, video.id)
    picker = panel.field("model")
    assert isinstance(picker, ModelField)
    combo = picker.combo
    assert combo.count() >= 1
    assert "installed" in picker.list_text(0) and "not installed" not in picker.list_text(0)
    assert combo.itemText(0) == "Wan 2.1 Text to Video 1.3B"  # the closed combo: short
    assert "Installed" in picker.details.text()
    assert "Apache-2.0" in picker.details.text()

    sound = doc.graph.add_node("text_to_audio")
    doc.select([sound.id])
    picker = panel.field("model")
    assert "not installed" in picker.list_text(0)
    assert "GB download" in picker.list_text(0)
    details = picker.details.text()
    assert "Not installed" in details and "licence" in details and "Hugging Face login" in details

    # With the tiny test models, the sizes are said to be the real model's, not the twin's.
    panel.set_models_profile("tiny")
    doc.select([video.id])
    details = panel.field("model").details.text()
    assert ">Tiny twin built (random weights) · the real model: 29 GB download" in details
    assert "Installed (" not in details


@pytest.mark.parametrize("profile", ["default", "tiny"])
def test_model_picker_lists_the_sketch_models_as_installed_toy_models(qtbot, doc, profile):
    # The real disk: the sketch models ship in the package, in every profile.
    models_info.forget()
    for type_id, model_id in (("text_to_video", "sketch-video"), ("text_to_audio", "sketch-sound")):
        node = doc.graph.add_node(type_id, {"model": model_id})
        panel = _inspector(qtbot, doc, node.id)
        panel.set_models_profile(profile)
        doc.select([node.id])
        picker = panel.field("model")
        index = next(i for i in range(picker.combo.count()) if picker.combo.itemData(i) == model_id)
        assert picker.list_text(index).endswith("\u2014 installed, toy model, shipped with Weft")
        details = picker.details.text()
        assert "Installed: a toy model of a toy world, shipped with Weft (" in details and " MB)" in details
        assert "random weights" not in details and "Tiny twin" not in details and "licence Apache-2.0" in details
    models_info.forget()


def test_model_picker_degrades_when_the_catalogue_cannot_be_read(qtbot, doc, monkeypatch):
    monkeypatch.setattr(models_info, "_is_installed", lambda model_id, profile: None)
    models_info.forget()
    node = doc.graph.add_node("text_to_video")
    panel = _inspector(qtbot, doc, node.id)
    assert panel.field("model").combo.count() >= 1  # listed, installed state unknown
    models_info.forget()


def test_title_is_edited_through_the_document_and_follows_undo(qtbot, doc, models_known):
    node = doc.graph.add_node("text_to_video")
    panel = _inspector(qtbot, doc, node.id)
    assert panel.title_edit.placeholderText() == "Text to Video"
    _type_into(qtbot, panel.title_edit, "Opening shot")
    assert doc.graph.nodes[node.id].title == "Opening shot"
    doc.undo_stack.undo()
    assert panel.title_edit.text() == ""


def test_inspector_follows_selection_and_removal(qtbot, doc, models_known):
    a = doc.graph.add_node("text_to_video")
    b = doc.graph.add_node("save_video")
    panel = _inspector(qtbot, doc, a.id)
    doc.select([a.id, b.id])
    assert panel.node_id == b.id and panel.selection_note.isVisibleTo(panel)
    doc.graph.remove_node(b.id)  # the shown node goes: the one still selected is shown
    assert doc.selected_nodes() == [a.id]
    assert panel.node_id == a.id and not panel.selection_note.isVisibleTo(panel)
    doc.graph.remove_node(a.id)
    assert panel.node_id is None and panel.empty_label.isVisibleTo(panel)
    doc.select([])
    assert panel.node_id is None


def test_inspector_with_the_real_document(qtbot, models_known):
    document_module = pytest.importorskip("app.ui.document")
    document = document_module.Document(_test_registry())
    node_id = document.add_node("text_to_video", (0.0, 0.0))
    panel = InspectorPanel(document)
    qtbot.addWidget(panel)
    document.select([node_id])
    _type_into(qtbot, panel.field("steps").entry, "12")
    _type_into(qtbot, panel.field("steps").entry, "13")
    assert document.graph.nodes[node_id].params["steps"] == 13
    document.undo_stack.undo()
    assert panel.field("steps").entry.text() == "30"


def test_the_inspector_dims_what_a_preset_overrides_and_says_what_it_makes(qtbot, doc, models_known):
    node = doc.graph.add_node("text_to_video", {"aspect": "custom", "width": 640, "height": 352,
                                                "duration_unit": "frames", "frames": 33, "fps": 16.0})
    panel = _inspector(qtbot, doc, node.id)
    assert panel.inactive_reason("width") == "" and panel.inactive_reason("resolution") != ""
    assert "640 x 352" in panel.summary_label.text() and "33 frames" in panel.summary_label.text()

    combo = panel.field("aspect").combo
    combo.setCurrentIndex(combo.findData("16:9"))  # as an artist picks the preset
    assert doc.graph.nodes[node.id].params["aspect"] == "16:9"
    assert panel.inactive_reason("width") == "used only when Aspect is custom"
    assert "Not used now" in panel.rows["width"].note.text()
    assert "832 x 480" in panel.summary_label.text()
    _type_into(qtbot, panel.field("width").entry, "512")  # still editable for later
    assert doc.graph.nodes[node.id].params["width"] == 512

    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert panel.inactive_reason("width") == "" and "640 x 352" in panel.summary_label.text()


# -- library ----------------------------------------------------------------------------------------
def test_library_finds_text_to_video_by_tag_or_word_and_requests_it(qtbot):
    panel = NodeLibraryPanel(default_registry())
    qtbot.addWidget(panel)
    assert "text_to_video" in panel.visible_types()

    qtbot.keyClicks(panel.search, "t2v")
    assert panel.visible_types()[0] == "text_to_video"
    assert panel.best_match() == "text_to_video"
    with qtbot.waitSignal(panel.node_requested) as blocker:
        qtbot.keyClick(panel.search, Qt.Key_Return)
    assert blocker.args == ["text_to_video"]

    panel.search.clear()
    qtbot.keyClicks(panel.search, "video")
    shown = panel.visible_types()
    assert "text_to_video" in shown and "load_video" in shown and "save_video" in shown
    assert "text_to_audio" not in shown
    assert "load_audio" not in shown, "a word in a description does not count while names match"

    panel.set_filter("ambience")  # in no name or tag: the descriptions are searched
    assert panel.visible_types() == ["text_to_audio"]
    assert "description" in panel.empty_label.text()

    panel.set_filter("ttv")  # initials
    assert "text_to_video" in panel.visible_types()
    panel.set_filter("zzqx")
    assert panel.visible_types() == [] and panel.empty_label.isVisibleTo(panel)
    panel.set_filter("")
    assert len(panel.visible_types()) == len(default_registry())

    item = panel.item_for("save_audio")
    with qtbot.waitSignal(panel.node_requested) as blocker:
        panel.tree.itemDoubleClicked.emit(item, 0)
    assert blocker.args == ["save_audio"]
    panel.tree.setCurrentItem(panel.item_for("load_image"))
    with qtbot.waitSignal(panel.node_requested) as blocker:
        qtbot.keyClick(panel.tree, Qt.Key_Return)
    assert blocker.args == ["load_image"]


def test_library_entries_show_category_colour_and_description(qtbot):
    panel = NodeLibraryPanel(default_registry())
    qtbot.addWidget(panel)
    item = panel.item_for("text_to_video")
    assert "A video generated from a prompt." in item.toolTip(0)
    pixel = item.icon(0).pixmap(10, 10).toImage().pixelColor(5, 5)
    assert pixel.name() == category_color("Generate").name()
    assert match_score("t2v", default_registry().get("text_to_video")) is not None
    assert match_score("t2v", default_registry().get("save_audio")) is None


def test_dragging_a_library_entry_carries_the_node_type(qtbot):
    panel = NodeLibraryPanel(default_registry())
    qtbot.addWidget(panel)
    assert panel.tree.mimeTypes() == [NODE_TYPE_MIME]
    data = panel.tree.mimeData([panel.item_for("text_to_video")])
    assert bytes(data.data(NODE_TYPE_MIME)).decode("utf-8") == "text_to_video"
    assert panel.item_for("text_to_video").flags() & Qt.ItemIsDragEnabled
    assert not panel.tree.topLevelItem(0).flags() & Qt.ItemIsDragEnabled  # categories are not nodes


# -- viewer -------------------------------------------------------------------------------------------
def _cached(tmp_path: Path, values: dict[str, Any]) -> dict[str, dict]:
    """Stores results the way the engine does and returns the event's ``results``."""
    cache = ResultCache(tmp_path / "cache")
    key = "ab" + "0" * 38
    cache.put(key, values)
    return cache.describe(key)


def _frames(count=12, height=24, width=40) -> np.ndarray:
    frames = np.zeros((count, height, width, 3), np.uint8)
    for i in range(count):
        frames[i, :, :, 0] = i * 20
        frames[i, :, :, 1] = 255 - i * 20
    return frames


def _sine(seconds=1.0, rate=8000, channels=2) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = (0.8 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    return np.stack([wave * (0.5 if c else 1.0) for c in range(channels)])


def _center(image: QImage) -> QColor:
    return image.pixelColor(image.width() // 2, image.height() // 2)


def test_viewer_shows_and_steps_the_frames_of_a_cached_video(qtbot, tmp_path):
    results = _cached(tmp_path, {"video": Video(_frames(), 10.0, Audio(_sine(), 8000))})
    assert results["video"]["kind"] == "Video" and "frames" in results["video"]["files"]
    viewer = ViewerPanel()
    qtbot.addWidget(viewer)
    viewer.resize(520, 400)
    viewer.show_result("text_to_video", results)

    assert viewer.kind == "Video" and viewer.frame_count == 12 and viewer.frame == 0
    assert _center(viewer.current_image()).red() == 0
    assert "40\u00d724" in viewer.info_label.text() and "12 frames" in viewer.info_label.text()
    viewer.step(1)
    assert viewer.frame == 1 and _center(viewer.current_image()).red() == 20
    viewer.step(3)
    viewer.step(-1)
    assert viewer.frame == 3 and _center(viewer.current_image()).red() == 60
    viewer.scrubber.setValue(11)
    assert viewer.frame == 11 and viewer.time_label.text().startswith("12 / 12")
    viewer.step(5)
    assert viewer.frame == 11, "stepping stops at the last frame"

    # The sound is drawn under the picture; without Qt Multimedia the viewer says so.
    assert viewer.track.isVisibleTo(viewer) and viewer.track.has_samples
    if not viewer.sound_available:
        assert "Sound playback is unavailable" in viewer.sound_note.text()
        assert viewer.sound_note.isVisibleTo(viewer)

    # Memory stays bounded: a handful of frames are kept as images, the rest stay on disk.
    for i in range(12):
        viewer.seek_frame(i)
    assert viewer.frames.cached_frames() <= viewer.frames.keep
    assert isinstance(viewer.frames.array, np.memmap)

    # Play follows the clock (a stand-in here, so a busy machine cannot make it flaky) and loops.
    now = [100.0]
    viewer.now = lambda: now[0]
    viewer.seek_frame(0)
    viewer.set_loop(True)
    viewer.play()
    assert viewer.is_playing
    now[0] += 0.25
    viewer._tick()
    assert viewer.frame == 2  # 0.25 s at 10 fps
    now[0] += 1.0  # past the end (1.2 s): back to the start
    viewer._tick()
    assert viewer.is_playing and viewer.frame == 0
    viewer.pause()
    assert not viewer.is_playing
    viewer.seek_frame(10)
    viewer.set_loop(False)
    viewer.play()
    now[0] += 5.0
    viewer._tick()
    assert not viewer.is_playing and viewer.frame == 11
    viewer.play()  # at the end, play starts again from the start
    assert viewer.frame == 0 and viewer.is_playing
    viewer.pause()


def test_viewer_plays_the_sound_from_where_the_playhead_is(qtbot, tmp_path):
    frames = np.repeat(_frames(count=10), 4, axis=0)  # 40 frames, 4 s at 10 fps
    results = _cached(tmp_path, {"video": Video(frames, 10.0, Audio(_sine(seconds=4.0), 8000))})
    viewer = ViewerPanel()
    qtbot.addWidget(viewer)
    viewer.show_result("text_to_video", results)
    if not viewer.sound_available:
        pytest.skip(viewer.sound.reason)  # no Qt Multimedia, libpulse or sound device on this machine
    viewer.seek_frame(20)  # 2 s in
    viewer.play()
    stream = viewer.sound._stream
    assert stream is not None and stream.position >= 2 * 8000
    start = stream.position
    qtbot.waitUntil(lambda: stream.position > start, timeout=5000)  # the sink pulls samples
    viewer.pause()
    assert viewer.sound._stream is None


def test_viewer_shows_images_masks_sound_and_words(qtbot, tmp_path):
    pixels = np.zeros((30, 50, 3), np.uint8)
    pixels[..., 2] = 200
    mask = np.zeros((30, 50), np.float32)
    mask[:, 25:] = 1.0
    results = _cached(tmp_path, {"image": Image(pixels), "mask": Mask(mask), "sound": Audio(_sine(2.0), 8000),
                                 "count": 3})
    viewer = ViewerPanel()
    qtbot.addWidget(viewer)
    viewer.resize(520, 360)
    viewer.show_result("node", results, title="Many outputs")

    assert viewer.output == "image" and viewer.output_combo.isVisibleTo(viewer)
    assert viewer.output_combo.count() == 4
    assert _center(viewer.current_image()).blue() == 200
    assert not viewer.transport.isVisibleTo(viewer)

    viewer.select_output("mask")
    image = viewer.current_image()
    assert image.pixelColor(5, 5).value() == 0 and image.pixelColor(45, 5).value() == 255

    viewer.select_output("sound")
    assert viewer.kind == "Audio" and viewer.stack.currentWidget() is viewer.waveform
    assert abs(viewer.duration - 2.0) < 1e-6
    assert viewer.waveform.column_extent(100) == pytest.approx(0.8, abs=0.05)
    viewer.step(3)
    assert viewer.position == pytest.approx(0.3)
    viewer.waveform.seeked.emit(1.5)
    assert viewer.position == pytest.approx(1.5)

    viewer.select_output("count")
    assert viewer.text_view.text() == "3"

    viewer.clear()
    assert viewer.kind is None and viewer.frames is None and viewer.samples is None


def test_viewer_shows_live_previews_and_missing_files(qtbot, tmp_path):
    viewer = ViewerPanel()
    qtbot.addWidget(viewer)
    image = QImage(64, 32, QImage.Format_RGB888)
    image.fill(QColor("#ff0000"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.WriteOnly)
    image.save(buffer, "JPEG")
    viewer.show_preview("text_to_video", bytes(data), step=3, total=30)
    assert viewer.kind == "preview"
    assert _center(viewer.current_image()).red() > 200
    assert "3/30" in viewer.picture.badge

    results = _cached(tmp_path, {"image": Image(np.zeros((4, 4, 3), np.uint8))})
    Path(results["image"]["files"]["pixels"]).unlink()
    viewer.show_result("gone", results)
    assert "run the node again" in viewer.empty_label.text()


def test_sample_stream_and_envelope_read_long_sounds_in_pieces():
    samples = _sine(3.0, 8000)
    stream = SampleStream(samples, 8000)
    stream.open(QIODevice.ReadOnly)
    first = bytes(stream.read(400))
    assert len(first) == 400  # 100 stereo frames of 16 bits
    pcm = np.frombuffer(first, "<i2").reshape(-1, 2)
    assert abs(pcm[1:, 0].astype(int) - np.round(samples[0, 1:100] * 32767)).max() <= 1
    stream.seek_seconds(2.999)
    assert stream.remaining_frames() == 8
    stream.close()

    long = np.tile(_sine(1.0, 8000), (1, 300))  # 2.4 M samples per channel: several chunks
    mins, maxs = envelope(long, 1000)
    assert mins.shape == (2, 1000) and maxs[0].max() == pytest.approx(0.8, abs=1e-3)
    assert mins[1].min() == pytest.approx(-0.4, abs=1e-3)


# -- queue and log ---------------------------------------------------------------------------------
def test_queue_panel_shows_each_run_and_its_status(qtbot):
    clock = [1000.0]
    panel = QueuePanel()
    qtbot.addWidget(panel)
    panel.model.clock = lambda: clock[0]
    panel.add_job("j1", "Render all")
    panel.add_job("j2", "Render Save Video")
    model = panel.model
    assert [j.status for j in model.jobs()] == ["queued", "queued"]
    assert "2 queued" in panel.summary.text()

    panel.update_job("j1", "running", "Text to Video 3/30")
    clock[0] += 12.5
    assert model.data(model.index(0, 1)) == "Running"
    assert model.data(model.index(0, 3)) == "12.5 s"
    assert model.data(model.index(0, 4)) == "Text to Video 3/30"
    panel.update_job("j1", "done")
    panel.update_job("j2", "failed", "Save Video: the disk is full\nTraceback ...")
    assert model.data(model.index(1, 1)) == "Failed"
    assert model.data(model.index(1, 4)) == "Save Video: the disk is full"
    assert "Traceback" in model.data(model.index(1, 0), Qt.ToolTipRole)
    assert model.data(model.index(1, 1), Qt.ForegroundRole) == QColor("#e0524f")
    assert "1 failed" in panel.summary.text() and "1 done" in panel.summary.text()
    assert not panel.cancel_button.isEnabled()

    panel.add_job("j3", "Render again")
    with qtbot.waitSignal(panel.cancel_requested) as blocker:
        panel.cancel_button.click()
    assert blocker.args == ["j3"]
    panel.update_job("j3", "cancelled")
    panel.model.clear_finished()
    assert model.rowCount() == 0 and panel.empty_label.isVisibleTo(panel)
    with pytest.raises(ValueError):
        panel.update_job("j3", "exploded")


def test_log_colours_levels_caps_its_length_and_copies(qtbot):
    panel = LogPanel(max_entries=50)
    qtbot.addWidget(panel)
    panel.append("worker started")
    panel.append("Text to Video: 81 frames is a lot for this GPU", "warning")
    panel.append("Save Video failed: the disk is full", "error")
    text = panel.text()
    assert "worker started" in text and "warning: Text to Video" in text and "error: Save Video" in text
    assert "1 error" in panel.counts_label.text()

    panel.set_min_level("error")
    assert "worker started" not in panel.text() and "disk is full" in panel.text()
    panel.set_min_level("info")

    panel.copy_all()
    assert "disk is full" in QGuiApplication.clipboard().text()

    for i in range(200):
        panel.append(f"line {i}")
    assert len(panel.entries()) == 50
    assert panel.view.document().blockCount() <= 50
    assert "line 199" in panel.text() and "line 100" not in panel.text()


# -- colours, and the GUI never loads torch ---------------------------------------------------
def test_palette_colours_match_the_data_types_and_categories():
    assert type_color(T.VIDEO) == QColor(T.VIDEO.color)
    assert type_color("Audio") == QColor(T.AUDIO.color)
    assert set(CATEGORY_COLORS) >= {"Input", "Generate", "Edit", "Audio", "Output", "Misc"}
    assert category_color("Some plug-in") == category_color("Some plug-in")


def test_panels_do_not_import_torch():
    """Built in a fresh process: other tests of the session may have loaded torch."""
    import subprocess

    code = ("import sys\n"
            "from PySide6.QtWidgets import QApplication\n"
            "app = QApplication([])\n"
            "from app.ui.panels import InspectorPanel, LogPanel, NodeLibraryPanel, QueuePanel, ViewerPanel\n"
            "from app.ui.panels.models_info import model_infos\n"
            "from nodes.registry import default_registry\n"
            "NodeLibraryPanel(default_registry()); ViewerPanel(); QueuePanel(); LogPanel()\n"
            "model_infos(['wan2.1-t2v-1.3b'])\n"
            "heavy = sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules)\n"
            "print(heavy)\n"
            "sys.exit(1 if heavy else 0)\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


# -- pictures of the panels ------------------------------------------------------------------------
@pytest.fixture
def dark_app(qapp):
    """The studio's dark look for the pictures, put back afterwards."""
    style, palette_, sheet = qapp.style().name(), qapp.palette(), qapp.styleSheet()
    try:
        from app.ui import theme
        theme.apply(qapp)
    except Exception:
        qapp.setStyle("Fusion")
    yield qapp
    qapp.setStyle(style)
    qapp.setPalette(palette_)
    qapp.setStyleSheet(sheet)


def _save(widget, name: str, tmp_path: Path) -> Path:
    widget.show()
    QApplication.processEvents()
    picture = widget.grab()
    out = tmp_path / f"panel_{name}.png"
    assert picture.save(str(out))
    if os.environ.get("WEFT_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        picture.save(str(SHOTS / f"panel_{name}.png"))
    return out


def test_pictures_of_each_panel(qtbot, tmp_path, dark_app, models_known):
    doc = Document(_test_registry())
    g = doc.graph
    prompt = g.add_node("text", {"text": "A red fox runs through snow at dawn, [1] follows"}, title="Prompt")
    video = g.add_node("text_to_video", {"width": 840, "steps": 24}, title="Fox run")
    g.connect(prompt.id, "out", video.id, "prompt")
    inspector = InspectorPanel(doc)
    qtbot.addWidget(inspector)
    inspector.resize(380, 900)
    doc.select([video.id])
    assert _save(inspector, "inspector", tmp_path).stat().st_size > 0

    mia = g.add_node("load_image", title="Mia")
    person = g.add_node("test_personalise", {"prompt": "[Mia] waves at [2] from a balcony", "label_1": "Mia"},
                        title="Mia waves")
    g.connect(mia.id, "image", person.id, "reference_1")
    doc.select([person.id])
    inspector.resize(380, 520)
    _save(inspector, "inspector_anchors", tmp_path)

    library = NodeLibraryPanel(default_registry())
    qtbot.addWidget(library)
    library.resize(300, 520)
    library.set_filter("video")
    _save(library, "library", tmp_path)

    frames = np.zeros((24, 90, 160, 3), np.uint8)
    y, x = np.mgrid[0:90, 0:160]
    for i in range(24):
        frames[i, ..., 0] = ((x + i * 6) % 160 * 255 // 160).astype(np.uint8)
        frames[i, ..., 1] = (y * 255 // 90).astype(np.uint8)
        frames[i, ..., 2] = 120
    t = np.arange(16000) / 8000
    beat = np.exp(-((t * 2) % 1.0) * 6)  # a drum-like pulse twice a second over a hum
    rng = np.random.default_rng(3)
    left = (0.15 * np.sin(2 * np.pi * 110 * t) + 0.7 * beat * rng.uniform(-1, 1, t.size)).astype(np.float32)
    right = (0.6 * left + 0.1 * np.sin(2 * np.pi * 165 * t)).astype(np.float32)
    results = _cached(tmp_path, {"video": Video(frames, 12.0, Audio(np.stack([left, right]), 8000))})
    viewer = ViewerPanel()
    qtbot.addWidget(viewer)
    viewer.resize(560, 420)
    viewer.show_result(video.id, results, title="Fox run")
    viewer.seek_frame(7)
    _save(viewer, "viewer", tmp_path)

    queue = QueuePanel()
    qtbot.addWidget(queue)
    queue.resize(560, 220)
    clock = [1_760_000_000.0]
    queue.model.clock = lambda: clock[0]
    for job, title, status, detail, took in (
            ("1", "Render all", "done", "", 48.2),
            ("2", "Render Fox run", "failed", "Save Video: the disk is full", 95.0),
            ("3", "Render Fox run", "running", "Text to Video: step 12/24", 31.4),
            ("4", "Render all", "queued", "", 0)):
        queue.add_job(job, title)
        clock[0] += 20
        if status != "queued":
            queue.update_job(job, "running", detail)
            clock[0] += took
            if status != "running":
                queue.update_job(job, status, detail)
    _save(queue, "queue", tmp_path)

    log = LogPanel()
    qtbot.addWidget(log)
    log.resize(560, 220)
    log.append("Worker ready: cpu, tiny models (random weights: the output is noise)")
    log.append("Run 3: Text to Video started")
    log.append("Text to Video: 81 frames at 832x480 needs about 8 GB of GPU memory", "warning")
    log.append("Save Video failed: the disk is full", "error")
    _save(log, "log", tmp_path)
