"""One key table (app/ui/keys.py) for the window's actions, the canvas and the viewer:
keys pressed as an artist presses them, in the real window."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.ui import keys
from app.ui.keys import Keymap
from engines.cache import ResultCache
from nodes.values import Video


@pytest.mark.parametrize("preset", list(keys.CANVAS_PRESETS))
def test_no_key_is_bound_twice_where_both_could_fire(preset, qapp):  # standard keys need the app
    assert Keymap(preset).conflicts() == []


def test_a_canvas_key_equal_to_a_window_key_is_a_conflict(monkeypatch, qapp):
    # The check the test above relies on: Ctrl+Z on the canvas would fight the Edit menu's Undo.
    monkeypatch.setitem(keys.CANVAS_PRESETS["vfx"], "copy", ["Ctrl+C", "Ctrl+Z"])
    found = Keymap("vfx").conflicts()
    assert [(k, a, b) for k, a, b in found] == [("Ctrl+Z", "undo", "copy")]


def _video_in_viewer(w, tmp_path, count=8):
    frames = np.zeros((count, 24, 40, 3), np.uint8)
    for i in range(count):
        frames[i, :, :, 0] = i * 20
    cache = ResultCache(tmp_path / "cache")
    key = "ab" + "0" * 38
    cache.put(key, {"video": Video(frames, 8.0)})
    w.viewer.show_result("text_to_video", cache.describe(key))
    assert w.viewer.frame_count == count


def test_the_viewer_keys_play_step_jump_and_loop_when_the_viewer_has_focus(window, qtbot, tmp_path):
    w = window
    viewer = w.viewer
    _video_in_viewer(w, tmp_path)
    viewer.setFocus()
    qtbot.waitUntil(viewer.hasFocus, timeout=2000)
    qtbot.keyClick(viewer, Qt.Key_Right)
    qtbot.keyClick(viewer, Qt.Key_Right)
    qtbot.keyClick(viewer, Qt.Key_Left)
    assert viewer.frame == 1
    qtbot.keyClick(viewer, Qt.Key_End)
    assert viewer.frame == 7
    qtbot.keyClick(viewer, Qt.Key_Home)  # also a canvas key (Frame All): here it goes to frame 1
    assert viewer.frame == 0
    looping = viewer.loop_button.isChecked()
    qtbot.keyClick(viewer, Qt.Key_L)
    assert viewer.loop_button.isChecked() != looping
    qtbot.keyClick(viewer, Qt.Key_Space)
    assert viewer.is_playing
    qtbot.keyClick(viewer, Qt.Key_Space)
    assert not viewer.is_playing


def test_viewer_keys_do_nothing_while_the_canvas_has_focus(window, qtbot, tmp_path):
    w = window
    _video_in_viewer(w, tmp_path)
    w.view.setFocus()
    qtbot.waitUntil(w.view.hasFocus, timeout=2000)
    qtbot.keyClick(w.view.viewport(), Qt.Key_End)
    qtbot.keyClick(w.view.viewport(), Qt.Key_Right)
    assert w.viewer.frame == 0


def test_the_keys_help_lists_the_window_canvas_and_viewer_keys(window):
    text = window.keys_text()
    for heading in ("Canvas keys: VFX", "Viewer keys", "Everywhere"):
        assert heading in text
    assert "Play / Pause</td><td><b>Space" in text
    assert "Bypass</td><td><b>D" in text
    assert "Redo</td><td><b>" in text and "Ctrl+Y" in text


def test_menu_actions_take_their_keys_from_the_table(window):
    run = window.run_action.shortcuts()
    assert [s.toString() for s in run] == ["Ctrl+Return", "Ctrl+Enter"]
    assert "Ctrl+Shift+Z" in [s.toString() for s in window.redo_action.shortcuts()]
