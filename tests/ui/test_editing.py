"""Edits through the document, the clipboard, files, autosave and recovery."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from app.ui.autosave import find_recoveries
from nodes import project as project_io
from nodes.graph import GraphError

pytestmark = pytest.mark.ui


def build(doc):
    prompt = doc.add_node("text", (0, 0), {"text": "a lighthouse at dusk"})
    t2v = doc.add_node("text_to_video", (350, 0), {"steps": 4})
    save = doc.add_node("save_video", (700, 0))
    doc.connect(prompt, "out", t2v, "prompt")
    doc.connect(t2v, "video", save, "video")
    return prompt, t2v, save


def test_parameter_edits_merge_into_one_undo_step(window):
    doc = window.document
    prompt, t2v, save = build(doc)
    steps_before = doc.undo_stack.count()
    for value in (5, 6, 7, 8):  # dragging a slider
        doc.set_param(t2v, "steps", value)
    assert doc.undo_stack.count() == steps_before + 1
    doc.set_param(t2v, "seed", 42)
    doc.set_param(t2v, "steps", 9)
    assert doc.undo_stack.count() == steps_before + 3
    item = window.view.gscene.nodes[t2v]
    assert doc.graph.nodes[t2v].params["steps"] == 9
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.graph.nodes[t2v].params["seed"] == 0 and doc.graph.nodes[t2v].params["steps"] == 8
    doc.undo_stack.undo()
    assert doc.graph.nodes[t2v].params["steps"] == 4
    doc.undo_stack.redo()
    assert doc.graph.nodes[t2v].params["steps"] == 8
    assert item.scene() is not None
    # A refused value says why and changes nothing.
    with pytest.raises(GraphError, match="below the minimum"):
        doc.set_param(t2v, "steps", 0)
    assert doc.graph.nodes[t2v].params["steps"] == 8
    # The history view lists the steps by name.
    assert "Set Text to Video steps" in doc.undo_stack.text(doc.undo_stack.index() - 1)


def test_edits_back_to_the_start_leave_no_step(window):
    doc = window.document
    prompt, t2v, save = build(doc)
    doc.undo_stack.setClean()
    doc.set_param(t2v, "steps", 10)
    doc.set_param(t2v, "steps", 4)
    assert not doc.dirty


def test_copy_and_paste_through_the_clipboard_into_another_project(make_window, qtbot):
    a = make_window()
    prompt, t2v, save = build(a.document)
    a.document.select([prompt, t2v])
    a.view.setFocus()
    qtbot.keyClick(a.view.viewport(), Qt.Key_C, Qt.ControlModifier)
    text = QGuiApplication.clipboard().text()
    data = json.loads(text)  # plain project JSON: pastable into a text editor too
    assert set(data["nodes"]) == {prompt, t2v} and data["weft"]["schema"] == project_io.SCHEMA_VERSION

    # Paste into the same project: new ids, internal link kept, at the cursor.
    a.view.set_zoom(1.0, QPointF(300, 300))
    a.view.last_scene_pos = QPointF(100, 400)
    qtbot.keyClick(a.view.viewport(), Qt.Key_V, Qt.ControlModifier)
    pasted = a.document.selected_nodes()
    assert len(pasted) == 2 and not set(pasted) & {prompt, t2v}
    links = [(l.source, l.target) for l in a.document.graph.links if l.target in pasted]
    assert links == [(pasted[0], pasted[1])]
    assert a.document.graph.positions[pasted[0]] == pytest.approx((100, 400))
    a.document.undo_stack.undo()  # the paste is one step
    assert set(a.document.graph.nodes) == {prompt, t2v, save}

    # And into another project.
    b = make_window()
    b.view.setFocus()
    qtbot.keyClick(b.view.viewport(), Qt.Key_V, Qt.ControlModifier)
    nodes = b.document.graph.nodes
    assert sorted(n.type_id for n in nodes.values()) == ["text", "text_to_video"]
    assert [n.params for n in nodes.values() if n.type_id == "text"][0]["text"] == "a lighthouse at dusk"
    assert len(b.document.graph.links) == 1

    # Cut removes what it copied.
    a.document.select([save])
    a.view.setFocus()
    qtbot.keyClick(a.view.viewport(), Qt.Key_X, Qt.ControlModifier)
    assert save not in a.document.graph.nodes
    assert "save_video" in QGuiApplication.clipboard().text()


def test_paste_with_input_links(window):
    doc = window.document
    prompt, t2v, save = build(doc)
    data = doc.copy_nodes([t2v])
    (plain,) = doc.paste(data)
    assert doc.graph.link_into(plain, "prompt") is None
    (linked,) = doc.paste(data, keep_input_links=True)
    assert doc.graph.link_into(linked, "prompt").source == prompt


def test_pasting_text_that_is_not_weft_is_harmless(window, qtbot):
    QGuiApplication.clipboard().setText("just some words")
    window.view.setFocus()
    qtbot.keyClick(window.view.viewport(), Qt.Key_V, Qt.ControlModifier)
    assert not window.document.graph.nodes


def test_save_and_reopen_gives_the_same_graph(make_window, tmp_path):
    a = make_window()
    doc = a.document
    prompt, t2v, save = build(doc)
    doc.set_title(t2v, "Hero shot")
    doc.set_bypassed([save], True)
    doc.add_backdrop((-40, -60, 1000, 300), "Shot 1")
    link = doc.graph.links[0]
    doc.add_reroute(link, (200, 100))
    assert a.isWindowModified() and "untitled" in a.windowTitle()
    path = tmp_path / "shot.weft"
    assert a._save_to(path)
    assert not doc.dirty and not a.isWindowModified() and "shot.weft" in a.windowTitle()
    saved = json.loads(path.read_text())

    # The bend is layout, saved with the positions; the settings (sent to the
    # engine with every run) stay for render settings.
    key = f"{link.source}.{link.source_socket}>{link.target}.{link.target_socket}"
    assert saved["weft"] == {"schema": project_io.SCHEMA_VERSION}
    assert saved["layout"]["reroutes"] == {key: [[200, 100]]}
    assert "reroutes" not in saved["settings"]

    b = make_window()
    assert b.open_path(path)
    assert b.document.to_dict() == saved
    assert set(b.view.gscene.nodes) == {prompt, t2v, save}
    assert len(b.view.gscene.links) == 2 and len(b.view.gscene.reroutes) == 1
    assert b.document.reroutes(link) == [(200, 100)]
    assert b.view.gscene.reroutes[0].pos() == QPointF(200, 100)
    assert len(b.view.gscene.backdrops) == 1
    assert not b.document.dirty
    assert str(path.resolve()) in b.settings.recent_files()


def test_delete_then_undo_leaves_the_file_unchanged(window):
    doc = window.document
    prompt, t2v, save = build(doc)
    doc.add_reroute(doc.graph.links[0], (200, 100))
    doc.add_reroute(doc.graph.links[1], (500, 80))
    before = project_io.dumps(doc.graph, doc.settings)
    doc.remove_nodes([prompt, t2v])
    assert doc.graph.reroutes == {} and not window.view.gscene.reroutes
    assert "reroutes" not in json.loads(project_io.dumps(doc.graph, doc.settings))["layout"]
    doc.undo_stack.undo()
    assert project_io.dumps(doc.graph, doc.settings) == before  # the bends came back with their links
    assert len(window.view.gscene.reroutes) == 2
    doc.undo_stack.redo()
    assert doc.graph.reroutes == {} and not window.view.gscene.reroutes


def test_bends_of_a_replaced_or_cut_link_come_back_on_undo(window):
    doc = window.document
    prompt, t2v, save = build(doc)
    link = doc.graph.link_into(t2v, "prompt")
    doc.add_reroute(link, (150, 60))
    other = doc.add_node("text", (0, 200), {"text": "a storm"})
    doc.connect(other, "out", t2v, "prompt")  # replaces the bent link
    assert doc.reroutes(link) == [] and not window.view.gscene.reroutes
    doc.undo_stack.undo()
    assert doc.reroutes(link) == [(150, 60)] and len(window.view.gscene.reroutes) == 1
    doc.disconnect([link])
    assert doc.reroutes(link) == [] and not window.view.gscene.reroutes
    doc.undo_stack.undo()
    assert doc.reroutes(link) == [(150, 60)] and len(window.view.gscene.reroutes) == 1
    assert "reroutes" not in doc.settings


def test_undoing_a_link_replacement_restores_the_links_in_their_order(window):
    # The saved file lists links in this order, so undo must give back the same file, not a re-sorted one.
    doc = window.document
    prompt, t2v, save = build(doc)
    before = doc.graph.links  # a tuple: a snapshot of the order
    saved = doc.to_dict()["links"]
    other = doc.add_node("text", (0, 200), {"text": "a storm"})
    doc.connect(other, "out", t2v, "prompt")  # replaces the first link
    assert doc.graph.links != before
    doc.undo_stack.undo()  # the connect
    doc.undo_stack.undo()  # the added node
    assert doc.graph.links == before
    assert doc.to_dict()["links"] == saved


def test_a_schema_1_project_opens_with_its_bends(window, tmp_path):
    doc = window.document
    prompt, t2v, save = build(doc)
    key = f"{prompt}.out>{t2v}.prompt"
    data = doc.to_dict()
    data["weft"] = {"schema": 1}
    data["settings"] = {"reroutes": {key: [[120, 40]]}}
    path = tmp_path / "old.weft"
    path.write_text(json.dumps(data))
    assert window.open_path(path, ask=False)
    link = doc.graph.link_into(t2v, "prompt")
    assert doc.reroutes(link) == [(120, 40)] and len(window.view.gscene.reroutes) == 1
    assert doc.settings == {}
    assert doc.migration_notes == ["project file upgraded to schema 2"]
    saved = json.loads(project_io.dumps(doc.graph, doc.settings))
    assert saved["weft"]["schema"] == 2 and saved["layout"]["reroutes"] == {key: [[120, 40]]}


def test_unsaved_changes_are_asked_about(window, tmp_path):
    doc = window.document
    build(doc)
    asked = []
    window.ask_unsaved = lambda: asked.append(1) or "cancel"
    window.new_project()
    assert asked and doc.graph.nodes  # cancelled: still there
    window.ask_unsaved = lambda: "discard"
    window.new_project()
    assert not doc.graph.nodes and not doc.dirty
    build(doc)
    window.ask_unsaved = lambda: "cancel"
    window.close()
    assert window.isVisible()  # closing was refused


def test_autosave_and_recovery_after_a_crash(make_window, data_dir, tmp_path):
    a = make_window()
    prompt, t2v, save = build(a.document)
    a.document.set_param(t2v, "steps", 12)
    assert a.autosaver.save_now()
    note = json.loads(a.autosaver.note_file.read_text())
    assert note["pid"] == os.getpid()
    expected = a.document.to_dict()
    # This process is alive, so its own autosave is not offered...
    assert find_recoveries() == []
    # ...but one left by a process that died is.
    note["pid"] = 2 ** 22 + 12345
    a.autosaver.note_file.write_text(json.dumps(note))
    a.autosaver.stop()
    a.autosaver = None  # the crashed session never cleans up

    b = make_window()
    b.ask_recover = lambda recovery: "recover"
    assert b.offer_recovery()
    assert b.document.to_dict() == expected
    assert b.document.dirty  # recovered work still needs saving
    assert b.document.graph.nodes[t2v].params["steps"] == 12
    assert [r for r in find_recoveries() if r.pid == note["pid"]] == []


def test_an_autosave_whose_pid_went_to_another_program_is_still_offered(make_window, data_dir):
    a = make_window()
    build(a.document)
    assert a.autosaver.save_now()
    note = json.loads(a.autosaver.note_file.read_text())
    # The studio that wrote it died and the system gave its pid to a program running now.
    note["pid"] = os.getppid()
    note["pid_started"] -= 3600
    a.autosaver.note_file.write_text(json.dumps(note))
    a.autosaver.stop()
    a.autosaver = None
    assert [r.pid for r in find_recoveries()] == [os.getppid()]


def test_saving_removes_the_autosave(window, tmp_path):
    build(window.document)
    assert window.autosaver.save_now()
    assert window.autosaver.project_file.exists()
    window._save_to(tmp_path / "p.weft")
    assert not window.autosaver.project_file.exists()
    assert not window.autosaver.save_now()  # nothing unsaved, nothing written


def drop(view, mime: QMimeData, scene_pos: QPointF) -> None:
    pos = view.mapFromScene(scene_pos)
    from PySide6.QtGui import QDragEnterEvent
    enter = QDragEnterEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(pos), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(view.viewport(), event)


def test_dropping_media_files_creates_loader_nodes(window, tmp_path):
    files = [tmp_path / "plate.png", tmp_path / "take 2.mov", tmp_path / "room tone.wav", tmp_path / "notes.txt"]
    for f in files:
        f.write_bytes(b"")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    drop(window.view, mime, QPointF(0, 0))
    nodes = list(window.document.graph.nodes.values())
    assert [(n.type_id, Path(n.params["path"]).name) for n in nodes] == [
        ("load_image", "plate.png"), ("load_video", "take 2.mov"), ("load_audio", "room tone.wav")]
    window.document.undo_stack.undo()
    assert not window.document.graph.nodes


def test_dropping_a_node_type_from_the_library(window):
    mime = QMimeData()
    mime.setData("application/x-weft-node-type", b"text_to_audio")
    drop(window.view, mime, QPointF(300, 200))
    (node,) = window.document.graph.nodes.values()
    assert node.type_id == "text_to_audio"
    x, y = window.document.graph.positions[node.id]
    assert abs(x + 105 - 300) < 2 and abs(y + 12 - 200) < 2


def test_examples_open(window):
    examples = window.example_files()
    assert examples, "assets/examples has example projects"
    for path in examples:
        assert window.open_path(path)
        assert window.document.graph.nodes
        # an untitled copy (tests/ui/test_renders_reopen.py: nothing is written next to it)
        assert window.document.path is None and window.document.origin == path.resolve()


def test_settings_dialog_switches_the_keymap(window, hands):
    from app.ui.settings import SettingsDialog
    dialog = SettingsDialog(window.settings, window)
    dialog.keymap.setCurrentIndex(dialog.keymap.findData("blender"))
    dialog.cache_size.setValue(12)
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    dialog.apply()
    window.apply_settings()
    assert window.view.keymap.preset == "blender"
    kwargs = window.runner.engine_kwargs
    assert kwargs["disk_budget"] == 12 << 30 and kwargs["env"]["WEFT_DEVICE"] == "cpu"
    doc = window.document
    node = doc.add_node("text", (0, 0))
    doc.select([node])
    hands.key(Qt.Key_M)
    assert doc.graph.nodes[node].bypassed


def test_the_keys_and_mouse_sheet_follows_the_keymap(window):
    assert "Bypass" in window.keys_text() and "<b>D</b>" in window.keys_text()
    window.view.set_keymap("blender")
    assert "<b>M</b>" in window.keys_text() and "Blender" in window.keys_text()
    assert "Bypass\tM" == window.view.actions_by_id["bypass"].text()


def test_undo_and_redo_by_keys_on_the_canvas_and_from_the_edit_menu(window, hands, qtbot):
    doc = window.document
    prompt, t2v, save = build(doc)
    window.show()
    qtbot.waitExposed(window)
    window.view.setFocus()
    doc.select([t2v])
    hands.key(Qt.Key_Delete)
    assert t2v not in doc.graph.nodes
    index = doc.undo_stack.index()
    hands.key(Qt.Key_Z, Qt.ControlModifier)  # one press, one step back (one binding for the key)
    assert t2v in doc.graph.nodes and doc.undo_stack.index() == index - 1
    assert len(doc.graph.links) == 2  # the node comes back with its links
    hands.key(Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert t2v not in doc.graph.nodes and doc.undo_stack.index() == index
    hands.key(Qt.Key_Z, Qt.ControlModifier)
    hands.key(Qt.Key_Y, Qt.ControlModifier)  # the other Redo artists know
    assert t2v not in doc.graph.nodes
    edit = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    undo = next(a for a in edit.actions() if a.text().startswith("&Undo"))
    assert "Delete" in undo.text()  # the menu names the step it will undo
    undo.trigger()
    assert t2v in doc.graph.nodes

