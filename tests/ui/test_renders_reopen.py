"""A render dropped on the studio opens the graph that made it; examples open
as untitled copies and never write into the install folder.

The render is made by the real `weft render` on the tiny models; the drop is
the drag-and-drop event a file manager sends; the example runs in the real
engine worker.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from engines import media
from nodes import project as project_io
from nodes.graph import Graph
from nodes.values import Video

pytestmark = pytest.mark.ui
ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"


def drop_files(view, paths, scene_pos=QPointF(0, 0)) -> None:
    """What a file manager's drag and drop sends the canvas."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = view.mapFromScene(scene_pos)
    enter = QDragEnterEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    QApplication.sendEvent(view.viewport(), QDropEvent(QPointF(pos), Qt.CopyAction, mime, Qt.LeftButton,
                                                       Qt.NoModifier))


@pytest.fixture
def rendered(engine_env, tmp_path) -> tuple[Path, dict]:
    """A project rendered by `weft render` on the tiny models: (the MP4, the project file's dict)."""
    folder = tmp_path / "shots"
    folder.mkdir()
    g = Graph()
    g.add_node("text", {"text": "a lantern floating on a lake"}, node_id="prompt", position=(-40, 10))
    g.add_node("text_to_video", {"width": 64, "height": 48, "frames": 9, "steps": 2, "seed": 4242,
                                 "guidance": 4.5}, node_id="t2v", title="Lantern", position=(320, 0))
    g.add_node("save_video", {"filename": "lantern_{version}"}, node_id="save", position=(700, 30))
    g.connect("prompt", "out", "t2v", "prompt")
    g.connect("t2v", "video", "save", "video")
    path = folder / "lantern.weft"
    project_io.save(project_io.Project(g, {"quality": "final"}), path)
    done = subprocess.run([sys.executable, "-m", "app", "render", str(path), "--models", "tiny", "--output-dir",
                           str(tmp_path / "renders")], cwd=tmp_path, env={**engine_env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return tmp_path / "renders" / "lantern_0001.mp4", json.loads(path.read_text())


@pytest.mark.slow
def test_dropping_a_render_opens_the_graph_that_made_it(window, rendered):
    mp4, saved = rendered
    doc = window.document
    doc.add_node("text", (0, 0), {"text": "something else"})  # the artist's current (discarded) work
    drop_files(window.view, [mp4])
    assert doc.to_dict() == saved  # every node, parameter, seed, model id, title, position and setting
    assert doc.graph.nodes["t2v"].params["seed"] == 4242
    assert doc.graph.nodes["t2v"].params["model"] == saved["nodes"]["t2v"]["params"]["model"]
    # ...as a new untitled project: Save asks where; relative inputs still start at the project's folder.
    assert doc.path is None and doc.origin == mp4.resolve() and not doc.dirty
    assert doc.name == "lantern" and doc.base_dir == mp4.parent.parent / "shots"
    assert "untitled copy" in window.windowTitle()
    # The same code opens it without a drop (File > Open, `weft gui RENDER.mp4`).
    doc.new()
    assert window.open_path(mp4, ask=False) and doc.to_dict() == saved


def test_dropping_a_video_without_a_graph_makes_a_loader(window, tmp_path):
    plain = tmp_path / "plate.mp4"
    media.write_video(plain, Video(np.zeros((3, 16, 16, 3), np.uint8), 8.0))  # not a Save node's: no project
    doc = window.document
    drop_files(window.view, [plain])
    (node,) = doc.graph.nodes.values()
    assert node.type_id == "load_video" and node.params["path"] == str(plain)
    assert doc.origin is None


def test_dropping_a_weft_opens_it(window, tmp_path):
    g = Graph()
    g.add_node("text", {"text": "a heron"}, node_id="prompt")
    path = tmp_path / "heron.weft"
    project_io.save(project_io.Project(g), path)
    drop_files(window.view, [path])
    assert window.document.path == path.resolve()
    assert window.document.graph.nodes["prompt"].params["text"] == "a heron"


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """The shipped files (git's) under ``folder``: size and modification time."""
    tracked = subprocess.run(["git", "ls-files", str(folder)], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    return {name: ((ROOT / name).stat().st_size, (ROOT / name).stat().st_mtime_ns) for name in tracked}


def written_into(folder: Path, outputs: list[str]) -> list[Path]:
    """Files under ``folder`` named like a render's outputs (or a renders folder next to the examples)."""
    names = {Path(p).name for p in outputs}
    return [p for p in folder.rglob("*") if p.name in names or p.name == "renders"]


@pytest.mark.slow
def test_an_example_renders_outside_the_install_folder_and_saves_elsewhere(window, engine_env, data_dir, qtbot,
                                                                          tmp_path, monkeypatch):
    example = ASSETS / "examples" / "edit_cut.weft"  # no model: the real engine renders it in seconds
    before = snapshot(ASSETS)
    shipped = example.read_bytes()
    assert window.open_path(example)
    doc = window.document
    assert doc.path is None and doc.origin == example.resolve() and doc.name == "edit_cut"

    job = window.run()
    assert job is not None
    qtbot.waitUntil(lambda: window.runner.jobs[job].status in ("done", "failed"), timeout=300_000)
    info = window.runner.jobs[job]
    assert info.status == "done", info.error
    assert info.outputs and all(Path(p).is_relative_to(data_dir / "renders") for p in info.outputs)
    assert snapshot(ASSETS) == before and written_into(ASSETS, info.outputs) == []  # nothing in the install folder

    # Save (Ctrl+S) asks where; the shipped file can not be chosen.
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (asked.append(a[2]) or str(example), ""))
    monkeypatch.setattr("app.ui.main_window.QMessageBox.critical", lambda *a, **k: None)
    qtbot.keyClick(window, Qt.Key_S, Qt.ControlModifier)
    assert asked and Path(asked[0]).name == "edit_cut.weft" and Path(asked[0]).parent != example.parent
    assert example.read_bytes() == shipped and doc.path is None

    mine = tmp_path / "mine" / "cut.weft"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(mine), ""))
    qtbot.keyClick(window, Qt.Key_S, Qt.ControlModifier)
    assert doc.path == mine.resolve() and example.read_bytes() == shipped
    # The copy still finds the example's input clips from its new folder.
    reopened = project_io.load(mine)
    clips = [n.params["path"] for n in reopened.graph.nodes.values() if n.type_id == "load_video"]
    assert clips and all(Path(c).is_absolute() and Path(c).is_file() for c in clips)
    assert snapshot(ASSETS) == before and written_into(ASSETS, info.outputs + [str(mine)]) == []
