"""The history of results, seed control with a run count, the pinned viewer and A/B.

The artist's hands drive the real window: keys on the canvas, clicks on the
History dock's buttons and rows, the inspector's combo box, the viewer's wipe.
The engine is the scripted stand-in of ``test_runs`` (the real worker's event
protocol), except that its results are real ``.npy`` files whose colour comes
from the seed, so thumbnails, A/B and restore can be checked by their pixels.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QBuffer, QPoint, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from app.history import History, param_changes
from engines.planner import make_plan
from nodes import project as project_io
from tests.ui.test_runs import FakeEngine, build

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]


def seed_colour(seed: int) -> tuple[int, int, int]:
    return ((seed * 70 + 40) % 256, (seed * 30 + 90) % 256, (200 - seed * 50) % 256)


def jpeg(colour) -> str:
    image = QImage(32, 24, QImage.Format_RGB32)
    image.fill(QColor(*colour))
    buf = QBuffer()
    buf.open(QBuffer.WriteOnly)
    image.save(buf, "JPG")
    return base64.b64encode(bytes(buf.data())).decode()


class PaintingEngine(FakeEngine):
    """Results as real arrays: frame t of a seed's video is its colour, brightened by t."""

    folder: Path = Path(".")

    async def _play(self, job, project, targets):
        q = self.queues[job]
        async with self.lock:
            graph = project_io.from_dict(project).graph
            plan = make_plan(graph, targets)
            q.put_nowait({"event": "job_started", "job": job, "nodes": list(plan.order), "targets": targets})
            for node in plan.order:
                q.put_nowait({"event": "node_started", "job": job, "node": node})
                seed = int(graph.nodes[node].params.get("seed", 0))
                for step in range(1, self.steps + 1):
                    await asyncio.sleep(self.step_delay)
                    if job in self.cancelled:
                        q.put_nowait({"event": "node_failed", "job": job, "node": node, "kind": "cancelled",
                                      "error": "cancelled"})
                        q.put_nowait({"event": "job_finished", "job": job, "status": "cancelled",
                                      "failed": {node: "cancelled"}, "outputs": []})
                        return
                    event = {"event": "progress", "job": job, "node": node, "step": step, "total": self.steps}
                    if graph.nodes[node].type_id == "text_to_video":
                        event["preview"] = jpeg((250, 250, 250))
                    q.put_nowait(event)
                results = {}
                if graph.nodes[node].type_id == "text":
                    results = {"out": {"kind": "scalar", "value": graph.nodes[node].params.get("text", "")}}
                if graph.nodes[node].type_id == "text_to_video":
                    frames = np.zeros((5, 24, 32, 3), np.uint8)
                    for t in range(5):
                        frames[t] = np.minimum(255, np.array(seed_colour(seed)) + t * 10)
                    path = self.folder / f"{job}_{node}.npy"
                    np.save(path, frames)
                    results = {"video": {"kind": "Video", "fps": 8.0, "count": 5, "width": 32, "height": 24,
                                         "files": {"frames": str(path)}}}
                q.put_nowait({"event": "node_finished", "job": job, "node": node, "cached": False,
                              "outputs": [], "results": results,
                              "stats": {"seconds": 0.25, "peak_memory_bytes": 100 << 20}})
            q.put_nowait({"event": "job_finished", "job": job, "status": "ok", "failed": {}, "outputs": [],
                          "seconds": 0.5})


@pytest.fixture
def studio(make_window, tmp_path):
    FakeEngine.instances.clear()
    PaintingEngine.folder = tmp_path
    return make_window(client_factory=PaintingEngine)


def panel(w):
    return w._api(w.results_panel)


def click_row(qtbot, w, entry_id, mods=Qt.NoModifier):
    p = panel(w)
    if not p.tree.isVisible() and not p.sheet.isVisible():
        w.results_dock.raise_()  # the artist clicks the History tab
        qtbot.waitUntil(p.isVisible, timeout=2000)
    item = p.item_for(entry_id)
    assert item is not None, f"no row for {entry_id}"
    p.tree.scrollToItem(item)  # the artist scrolls to it
    rect = p.tree.visualItemRect(item)
    qtbot.mouseClick(p.tree.viewport(), Qt.LeftButton, mods, rect.center())
    return rect


def run_keys(qtbot, w):
    w.view.setFocus()
    qtbot.keyClick(w.view.viewport(), Qt.Key_Return, Qt.ControlModifier)


def wait_done(qtbot, w, n):
    qtbot.waitUntil(lambda: len([j for j in w.runner.jobs.values() if j.status == "done"]) >= n, timeout=10000)
    qtbot.waitUntil(lambda: len([e for e in panel(w).entries if e.status == "done"]) >= n, timeout=5000)


def pixel(image: QImage, x: int, y: int) -> tuple[int, int, int]:
    c = image.pixelColor(x, y)
    return (c.red(), c.green(), c.blue())


def close(a, b, tol=12) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b))


# -- the history ------------------------------------------------------------------------------------
def test_every_run_lands_in_the_history_and_restore_brings_its_graph_back(studio, make_window, qtbot):
    w = studio
    doc = w.document
    prompt, t2v, save = build(doc)
    doc.set_param(t2v, "seed", 3)
    run_keys(qtbot, w)
    wait_done(qtbot, w, 1)
    first = panel(w).entries[-1]
    # The row: a thumbnail of the first frame, how long it plays, the seconds it took.
    assert Path(first.thumbnail).is_file()
    thumb = QImage(first.thumbnail)
    assert close(pixel(thumb, thumb.width() // 2, thumb.height() // 2), seed_colour(3))
    item = panel(w).item_for(first.id)
    assert item.text(2) == "0.6 s" and item.text(3) == "0.5 s"
    assert "Text to Video" in item.text(0)
    # The artist changes the graph and runs again: the new row says what changed, by name.
    doc.set_param(t2v, "seed", 4)
    doc.set_param(t2v, "steps", 6)
    run_keys(qtbot, w)
    wait_done(qtbot, w, 2)
    second = panel(w).entries[-1]
    changed = panel(w).item_for(second.id).text(4)
    assert "Text to Video seed 3 \u2192 4" in changed and "Text to Video steps 4 \u2192 6" in changed
    # Then deletes the prompt, and restores the first run's graph from the History dock.
    doc.select([prompt])
    w.view.setFocus()
    qtbot.keyClick(w.view.viewport(), Qt.Key_Delete)
    assert prompt not in doc.graph.nodes
    click_row(qtbot, w, first.id)
    assert panel(w).restore_button.isEnabled()
    qtbot.mouseClick(panel(w).restore_button, Qt.LeftButton)
    assert prompt in doc.graph.nodes and prompt in w.view.gscene.nodes
    assert doc.graph.nodes[t2v].params["seed"] == 3 and doc.graph.nodes[t2v].params["steps"] == 4
    assert doc.graph.link_into(t2v, "prompt") is not None
    assert project_io.to_dict(doc.graph)["nodes"] == first.project["nodes"]
    # One undo step puts the artist's own graph back.
    assert "Restore graph" in doc.undo_stack.text(doc.undo_stack.index() - 1)
    qtbot.keyClick(w.view.viewport(), Qt.Key_Z, Qt.ControlModifier)
    assert prompt not in doc.graph.nodes and doc.graph.nodes[t2v].params["seed"] == 4
    # Double-click plays it: the viewer shows the first run's picture.
    rect = click_row(qtbot, w, first.id)
    qtbot.mouseDClick(panel(w).tree.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
    viewer = w._api(w.viewer)
    assert viewer.kind == "Video" and viewer.pinned
    image = viewer.current_image()
    assert close(pixel(image, 10, 10), seed_colour(3))
    # Across a restart: a new studio reads the same history.
    w2 = make_window(client_factory=PaintingEngine)
    ids = [e.id for e in panel(w2).entries]
    assert first.id in ids and second.id in ids
    assert panel(w2).item_for(second.id).text(4) == changed


def test_the_history_survives_a_studio_that_crashes_mid_run(tmp_path, data_dir):
    # A studio process queues a run and dies without a word (os._exit: no cleanup at all).
    code = ("import os, sys; from app.history import History; h = History(); "
            "h.record_queued('crashed1', project_name='shot', project_path='', title='shot: Save Video', "
            "models='tiny', project={'nodes': {}, 'links': []}, targets=['save']); h.record_started('crashed1'); "
            "os._exit(9)")
    env = {**__import__("os").environ, "WEFT_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT)
    assert done.returncode == 9
    history = History()
    (entry,) = history.entries()
    assert entry.id == "crashed1" and entry.status == "interrupted"
    assert "closed before it finished" in entry.detail


def test_param_changes_name_what_differs():
    a = {"nodes": {"t": {"type": "text_to_video", "params": {"seed": 1, "steps": 4}}}, "links": []}
    b = {"nodes": {"t": {"type": "text_to_video", "params": {"seed": 2, "steps": 4}},
                   "p": {"type": "text", "params": {}}}, "links": []}
    assert param_changes(a, b, {"t": "Text to Video", "p": "Prompt"}) == [
        ("Text to Video seed", 1, 2), ("Prompt", None, "added")]
    assert param_changes(None, b) == []


# -- seed control and a run count ----------------------------------------------------------------------
def test_seed_increment_across_a_run_count_makes_one_history_entry_per_variation(studio, qtbot):
    w = studio
    doc = w.document
    prompt, t2v, save = build(doc)
    doc.set_param(t2v, "seed", 10)
    # The artist picks "+1 after each run" on the seed in the inspector...
    doc.select([t2v])
    inspector = w._api(w.inspector)
    field = inspector.rows["seed"].field
    combo = field.after_run
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key_Down)
    assert combo.currentData() == "increment"
    assert doc.seed_control(t2v) == "increment"
    # ...which the node's face shows.
    assert "+1 after run" in w.view.gscene.nodes[t2v].seed_mark("seed")
    # ...and asks for 4 runs in the toolbar's count, then Ctrl+Enter.
    spin = w.runs_spin
    spin.selectAll()
    qtbot.keyClicks(spin, "4")
    assert spin.value() == 4
    doc.select([])
    run_keys(qtbot, w)
    wait_done(qtbot, w, 4)
    (engine,) = FakeEngine.instances
    seeds = [s["project"]["nodes"][t2v]["params"]["seed"] for s in engine.submitted]
    assert seeds == [10, 11, 12, 13]
    assert doc.graph.nodes[t2v].params["seed"] == 14  # ready for the next run
    entries = panel(w).entries[-4:]
    assert [e.variation for e in entries] == [1, 2, 3, 4] and len({e.group_id for e in entries}) == 1
    assert [e.project["nodes"][t2v]["params"]["seed"] for e in entries] == [10, 11, 12, 13]
    assert "seed 10 \u2192 11" in panel(w).item_for(entries[1].id).text(4)
    # The variations as a contact sheet: four thumbnails, each its own seed's colour.
    click_row(qtbot, w, entries[0].id)
    qtbot.mouseClick(panel(w).sheet_button, Qt.LeftButton)
    sheet = panel(w).sheet
    assert sheet.isVisible() and sheet.count() == 4
    for i, seed in enumerate(seeds):
        icon = sheet.item(i).icon().pixmap(160, 90).toImage()
        assert close(pixel(icon, icon.width() // 2, icon.height() // 2), seed_colour(seed))
    # The seeds' moves are one undo step; the seed mode is saved with the project.
    doc.undo_stack.undo()
    assert doc.graph.nodes[t2v].params["seed"] == 10
    assert doc.to_dict()["settings"]["seed_control"] == {f"{t2v}.seed": "increment"}


def test_a_fixed_seed_stays_and_random_moves(studio, qtbot):
    w = studio
    doc = w.document
    prompt, t2v, save = build(doc)
    doc.set_param(t2v, "seed", 5)
    w.runs_spin.setValue(2)
    run_keys(qtbot, w)
    wait_done(qtbot, w, 2)
    assert doc.graph.nodes[t2v].params["seed"] == 5
    doc.set_seed_control(t2v, "seed", "randomise")
    run_keys(qtbot, w)
    wait_done(qtbot, w, 4)
    seeds = [s["project"]["nodes"][t2v]["params"]["seed"] for s in FakeEngine.instances[0].submitted]
    assert seeds[:3] == [5, 5, 5] and seeds[3] != 5 and doc.graph.nodes[t2v].params["seed"] != seeds[3]


# -- the pinned viewer and A/B ----------------------------------------------------------------------------
def test_pinned_viewer_and_ab_compare(studio, qtbot):
    w = studio
    doc = w.document
    prompt, t2v, save = build(doc)
    doc.set_param(t2v, "seed", 1)
    doc.set_seed_control(t2v, "seed", "increment")
    w.runs_spin.setValue(2)
    run_keys(qtbot, w)
    wait_done(qtbot, w, 2)
    a, b = panel(w).entries[-2:]
    viewer = w._api(w.viewer)
    # Pin the viewer on the Text to Video node: clicking the prompt no longer changes it.
    doc.select([t2v])
    assert viewer.node_id == t2v
    qtbot.mouseClick(viewer.pin_button, Qt.LeftButton)
    assert viewer.pinned and viewer.pinned_node == t2v
    hands_click(qtbot, w, prompt)
    assert doc.selected_nodes() == [prompt] and viewer.node_id == t2v
    qtbot.mouseClick(viewer.pin_button, Qt.LeftButton)  # unpinned, it follows again
    hands_click(qtbot, w, save)
    assert not viewer.pinned
    # A/B: select both rows (Ctrl+click), Compare.
    click_row(qtbot, w, a.id)
    click_row(qtbot, w, b.id, Qt.ControlModifier)
    assert panel(w).compare_button.isEnabled()
    qtbot.mouseClick(panel(w).compare_button, Qt.LeftButton)
    assert viewer.kind == "compare" and viewer.pinned
    view = viewer.compare_view
    qtbot.waitUntil(lambda: view.isVisible(), timeout=2000)
    rect = view.picture_rect()
    # The wipe: drag it to a quarter; left of it is A (seed 1), right of it B (seed 2).
    y = int(rect.center().y())
    qtbot.mousePress(view, Qt.LeftButton, Qt.NoModifier, QPoint(int(rect.x() + rect.width() * 0.25), y))
    qtbot.mouseRelease(view, Qt.LeftButton, Qt.NoModifier, QPoint(int(rect.x() + rect.width() * 0.25), y))
    assert abs(view.wipe - 0.25) < 0.02
    shot = view.grab().toImage()
    assert close(pixel(shot, int(rect.x() + rect.width() * 0.1), y), seed_colour(1))
    assert close(pixel(shot, int(rect.x() + rect.width() * 0.6), y), seed_colour(2))
    # Side by side.
    viewer.compare_mode.setCurrentIndex(viewer.compare_mode.findData("side"))
    assert view.mode == "side"
    shot = view.grab().toImage()
    assert close(pixel(shot, view.width() // 4, view.height() // 2), seed_colour(1))
    assert close(pixel(shot, view.width() * 3 // 4, view.height() // 2), seed_colour(2))
    # Synced playback: stepping moves both to the same frame (each frame 10 brighter).
    viewer.setFocus()
    qtbot.keyClick(viewer, Qt.Key_Right)
    qtbot.keyClick(viewer, Qt.Key_Right)
    assert viewer.frame == 2
    shot = view.grab().toImage()
    brighter = lambda c: tuple(min(255, v + 20) for v in c)  # noqa: E731
    assert close(pixel(shot, view.width() // 4, view.height() // 2), brighter(seed_colour(1)))
    assert close(pixel(shot, view.width() * 3 // 4, view.height() // 2), brighter(seed_colour(2)))
    # Clicking nodes while comparing leaves the comparison on screen.
    hands_click(qtbot, w, t2v)
    assert viewer.kind == "compare"


def hands_click(qtbot, w, node_id):
    item = w.view.gscene.nodes[node_id]
    pos = item.mapToScene(item.title_rect().center())
    qtbot.mouseClick(w.view.viewport(), Qt.LeftButton, Qt.NoModifier, w.view.mapFromScene(pos))
    QApplication.processEvents()


def test_live_preview_stays_while_clicking_nodes_and_cancel_says_so(studio, qtbot):
    w = studio
    doc = w.document
    prompt, t2v, save = build(doc)
    first = w.run()
    qtbot.waitUntil(lambda: w.runner.jobs[first].status == "done", timeout=5000)
    engine = FakeEngine.instances[0]
    engine.steps, engine.step_delay = 200, 0.02
    viewer = w._api(w.viewer)
    job = w.run()
    qtbot.waitUntil(lambda: viewer.kind == "preview", timeout=5000)
    # Clicking the prompt (which has a result of its own) leaves the live preview up.
    hands_click(qtbot, w, prompt)
    hands_click(qtbot, w, t2v)
    assert viewer.kind == "preview" and "rendering" in viewer.info_label.text()
    qtbot.keyClick(w.view.viewport(), Qt.Key_Escape)
    qtbot.waitUntil(lambda: w.runner.jobs[job].status == "cancelled", timeout=5000)
    assert viewer.info_label.text() == "cancelled" and "Cancelled" in viewer.picture.badge
    assert "rendering" not in viewer.info_label.text()
    entry = panel(w).entries[-1]
    qtbot.waitUntil(lambda: panel(w).entries[-1].status == "cancelled", timeout=3000)
    assert json.loads(json.dumps(entry.project))["nodes"][t2v]


# -- quitting while a render runs ---------------------------------------------------------------------------
class StubbornEngine(PaintingEngine):
    """An engine that neither cancels nor shuts down when asked (a model loading, a stuck decode)."""

    async def cancel(self, job_id):
        pass

    async def close(self):
        await asyncio.sleep(30)


def test_quit_while_rendering_closes_within_a_second_and_says_what_it_does(make_window, qtbot, tmp_path):
    import time

    FakeEngine.instances.clear()
    PaintingEngine.folder = tmp_path
    w = make_window(client_factory=StubbornEngine)
    prompt, t2v, save = build(w.document)
    w.document.undo_stack.setClean()
    job = w.run()
    qtbot.waitUntil(lambda: bool(FakeEngine.instances), timeout=3000)
    FakeEngine.instances[0].steps, FakeEngine.instances[0].step_delay = 10000, 0.02
    qtbot.waitUntil(lambda: w.runner.jobs[job].status == "running", timeout=3000)
    messages = []
    w.statusBar().messageChanged.connect(messages.append)
    t0 = time.monotonic()
    w.quit_action.trigger()
    took = time.monotonic() - t0
    assert not w.isVisible()
    assert took < 1.0, f"quit took {took:.2f} s"
    assert any("Quitting: cancelling" in m and "stopping the engine" in m for m in messages)
    assert not FakeEngine.instances[0].alive  # killed, not left behind


# -- thumbnails on the nodes -------------------------------------------------------------------------------
def test_result_and_save_nodes_show_a_thumbnail_of_the_last_run(studio, qtbot):
    w = studio
    doc = w.document
    prompt, t2v, save = build(doc)
    doc.set_param(t2v, "seed", 1)
    item, save_item = w.view.gscene.nodes[t2v], w.view.gscene.nodes[save]
    height_before = item.height
    assert item.thumb is None and item.thumbnail_rect().isNull()
    run_keys(qtbot, w)
    wait_done(qtbot, w, 1)
    assert item.thumb is not None and save_item.thumb is not None and item.height > height_before
    assert w.view.gscene.nodes[prompt].thumb is None  # text: nothing to picture

    def face_colour(node_item):
        # What the canvas really draws there, grabbed from the view.
        w.view.centerOn(node_item)
        QApplication.processEvents()
        centre = node_item.mapToScene(node_item.thumbnail_rect().center())
        shot = w.view.viewport().grab().toImage()
        p = w.view.mapFromScene(centre)
        return pixel(shot, p.x(), p.y())

    assert close(face_colour(item), seed_colour(1), tol=20)
    assert close(face_colour(save_item), seed_colour(1), tol=20)
    # After the next run the face shows the new result.
    doc.set_param(t2v, "seed", 2)
    run_keys(qtbot, w)
    wait_done(qtbot, w, 2)
    assert close(face_colour(item), seed_colour(2), tol=20)


def test_a_sound_thumbnail_is_its_waveform(tmp_path, qapp):
    from app.ui import thumbnails
    rate = 8000
    t = np.arange(rate) / rate
    samples = np.zeros((1, rate), np.float32)
    samples[0, rate // 2:] = 0.9 * np.sin(2 * np.pi * 220 * t[rate // 2:])  # silence, then a loud tone
    path = tmp_path / "sound.npy"
    np.save(path, samples)
    image = thumbnails.thumbnail({"audio": {"kind": "Audio", "rate": rate, "files": {"samples": str(path)}}})
    assert image is not None and image.width() == thumbnails.SIZE.width()
    background = pixel(image, 2, 2)
    quiet_top, loud_top = pixel(image, 20, 15), pixel(image, image.width() - 20, 15)
    assert quiet_top == background and loud_top != background  # the tone reaches near the top, silence does not


def test_selecting_two_entries_from_code_keeps_both(studio, qtbot):
    w = studio
    prompt, t2v, save = build(w.document)
    w.document.set_seed_control(t2v, "seed", "increment")
    w.runs_spin.setValue(2)
    run_keys(qtbot, w)
    wait_done(qtbot, w, 2)
    a, b = panel(w).entries[-2:]
    panel(w).select([a.id, b.id])
    assert set(panel(w).selected_ids()) == {a.id, b.id} and panel(w).compare_button.isEnabled()


def test_a_weft_batch_job_in_the_history_plays_its_video(make_window, data_dir, tmp_path, qtbot):
    """weft batch leaves only files; double-clicking its job in the History plays the file."""
    from engines import media
    from nodes.graph import Graph
    from nodes.values import Video

    folder = tmp_path / "proj"
    folder.mkdir()
    frames = np.zeros((12, 32, 48, 3), np.uint8)
    for i in range(12):
        frames[i, :, : 4 * (i + 1)] = (230, 40, 40)  # a red bar that grows: every frame differs
    media.write_video(folder / "clip.mp4", Video(frames, 12.0))
    g = Graph()
    g.add_node("load_video", {"path": "clip.mp4"}, node_id="clip")
    g.add_node("reverse_video", node_id="rev")
    g.add_node("save_video", {"filename": "shot_{job}"}, node_id="save")
    g.connect("clip", "video", "rev", "video")
    g.connect("rev", "out", "save", "video")
    proj = project_io.save(project_io.Project(g), folder / "shot.weft")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "app", "batch", str(proj), "--sweep", "save.quality=high,low",
                           "--output-dir", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    w = make_window()
    p = panel(w)
    p.reload()
    jobs = [e for e in p.entries if e.source == "batch"]
    assert len(jobs) == 2 and all(e.playable for e in jobs)
    rect = click_row(qtbot, w, jobs[0].id)
    assert p.play_button.isEnabled()
    qtbot.mouseDClick(p.tree.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
    viewer = w._api(w.viewer)
    qtbot.waitUntil(lambda: viewer.frames is not None, timeout=5000)
    assert (viewer.frames.width, viewer.frames.height, viewer.frame_count) == (48, 32, 12)
    assert "12 fps" in viewer.info_label.text()
    # The job's own file, reversed: its first frame is the widest bar.
    first = viewer.frames.image(0)
    assert abs(QColor(first.pixel(44, 16)).red() - 230) < 40 and QColor(first.pixel(44, 16)).green() < 90
