"""Makes the studio's screenshots in docs/screenshots/ (offscreen).

    .venv/bin/python docs/screenshots/make_screenshots.py            # all
    .venv/bin/python docs/screenshots/make_screenshots.py --no-render

studio_<example>.png   each example project, as `weft gui EXAMPLE --screenshot` draws it
studio_after_run.png   after a render on the tiny models (noise: random weights), a node selected
studio_running.png     during a render: progress on the node, the queue, a step preview
canvas_feedback.png    run feedback on the nodes: progress, cache mark, time and memory, a failure,
                       a problem found before running, a bypassed node, a backdrop, a reroute dot
canvas_search.png      the Tab search, filtered to the nodes that take a dropped Video link
canvas_500_nodes.png   a 500-node, 700-link project, framed (zoomed-out drawing)
studio_history.png     the History dock after "run 3 variations" (seed +1 after each run): thumbnails,
                       time, length, seconds taken, what changed; thumbnails on the node faces
history_contact_sheet.png  the same three variations as a contact sheet
studio_compare.png     two history entries A/B in the viewer, with the wipe
viewer_side_by_side.png    the viewer's A/B side by side
canvas_long_render_node.png  the node says how long it will take here (amber: long)
studio_long_render.png a render that will take long here, said on the node and in the status bar
                       before it starts
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = Path(__file__).resolve().parent


def settle(app, ms: int = 150) -> None:
    from PySide6.QtCore import QEventLoop, QTimer
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def window(app, **kwargs):
    from app.ui.main_window import MainWindow
    w = MainWindow(models="tiny", interactive=False, autosave=False, **kwargs)
    w.ask_unsaved = lambda: "discard"
    w.resize(1600, 1000)
    w.show()
    settle(app)
    return w


def examples(app) -> None:
    from app.ui.main import take_screenshot
    for path in sorted((ROOT / "assets" / "examples").glob("*.weft")):
        w = window(app)
        w.open_path(path, ask=False)
        take_screenshot(w, OUT / f"studio_{path.stem}.png", app)
        w.close_without_asking()


def feedback(app) -> None:
    w = window(app)
    doc = w.document
    prompt = doc.add_node("text", (0, 0), {"text": "A paper boat drifts down a rain-soaked street at dusk"})
    t2v = doc.add_node("text_to_video", (300, -40), {"steps": 30})
    save = doc.add_node("save_video", (900, 0))
    sound = doc.add_node("text", (0, 260), {"text": "rain on tin roofs, distant thunder"})
    t2a = doc.add_node("text_to_audio", (300, 300))
    mux = doc.add_node("add_audio_to_video", (600, 80))
    photo = doc.add_node("load_image", (0, 560), {"path": ""})
    still = doc.add_node("save_image", (300, 620))
    doc.connect(prompt, "out", t2v, "prompt")
    doc.connect(t2v, "video", mux, "video")
    doc.connect(t2a, "audio", mux, "audio")
    doc.connect(mux, "out", save, "video")
    doc.connect(photo, "image", still, "image")
    doc.add_backdrop((-30, -110, 1170, 590), "Shot 12: the boat")
    doc.add_reroute(doc.graph.link_into(t2a, "prompt") or doc.connect(sound, "out", t2a, "prompt"), (240, 330))
    doc.set_title(t2v, "Boat, wide")
    doc.set_bypassed([still], True)
    doc.set_status(prompt, state="cached")
    doc.set_status(sound, state="cached")
    doc.set_status(t2v, state="running", step=18, total=30)
    doc.set_status(t2a, state="done", seconds=41.7, memory=6_900 << 20)
    doc.set_status(mux, state="failed", message="out of memory: CUDA ran out of memory while muxing")
    doc.check([photo])
    doc.select([t2v])
    from app.ui.canvas.view import GraphView
    view = GraphView(doc)  # the canvas alone, as large as the picture
    view.resize(1500, 820)
    view.show()
    settle(app)
    view.frame_all()
    settle(app)
    view.grab().save(str(OUT / "canvas_feedback.png"))
    view.gscene.detach()
    view.close()
    w.close_without_asking()


def search(app) -> None:
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QPainter

    from app.ui.canvas.view import GraphView
    w = window(app)
    doc = w.document
    prompt = doc.add_node("text", (0, 0), {"text": "a lighthouse in a storm"})
    t2v = doc.add_node("text_to_video", (300, 0))
    doc.connect(prompt, "out", t2v, "prompt")
    w.settings.remember_node("save_video")
    view = GraphView(doc, recent_nodes=w.settings.recent_nodes)
    view.resize(1100, 640)
    view.show()
    view.minimap.hide()
    view.set_zoom(1.0, QPointF(480, 200))
    settle(app)
    view.open_search_for_link(t2v, "out", "video", "Video", QPointF(580, 60))
    settle(app)
    picture = view.grab()
    painter = QPainter(picture)
    popup = view.popup
    at = view.mapFromGlobal(popup.pos())
    painter.drawPixmap(QPoint(at.x(), at.y()), popup.grab())
    painter.end()
    picture.save(str(OUT / "canvas_search.png"))
    popup.close()
    view.gscene.detach()
    view.close()
    w.close_without_asking()


def big(app) -> None:
    from bench.gui import big_project
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.weft"
        big_project(path)
        w = window(app)
        w.open_path(path, ask=False)
        settle(app)
        w.view.frame_all()
        settle(app)
        w.view.grab().save(str(OUT / "canvas_500_nodes.png"))
        w.close_without_asking()


def shrink_video(doc, *, steps: int) -> str | None:
    """Makes the project's Text to Video small enough for the tiny models on a CPU
    (the picture is noise: random weights); returns its node id."""
    video = None
    for node_id, node in doc.graph.nodes.items():
        if node.type_id == "text_to_video":
            for name, value in (("width", 128), ("height", 80), ("frames", 9), ("steps", steps)):
                doc.set_param(node_id, name, value)
            video = node_id
    return video


def after_run(app) -> None:
    from app.ui.runner import wait_for
    w = window(app)
    w.open_path(ROOT / "assets" / "examples" / "text_to_video.weft", ask=False)
    doc = w.document
    video = shrink_video(doc, steps=4)
    job = w.run()
    wait_for(lambda: not w.runner.busy, 600)
    print("render:", w.runner.jobs[job].status if job else "not run", file=sys.stderr)
    if video:
        doc.select([video])
    settle(app, 600)
    w.view.frame_all()
    settle(app, 300)
    w.grab().save(str(OUT / "studio_after_run.png"))
    w.runner.shutdown(timeout=15)
    w.close_without_asking()


def running(app) -> None:
    """Mid-render: progress on the node, the run in the queue, a step preview in the viewer."""
    from app.ui.runner import wait_for
    w = window(app)
    w.open_path(ROOT / "assets" / "examples" / "video_with_sound.weft", ask=False)
    doc = w.document
    video = shrink_video(doc, steps=60)  # many steps: time to catch it mid-render
    w.run()
    wait_for(lambda: doc.node_status(video).state == "running" and doc.node_status(video).step >= 12, 600)
    settle(app, 400)
    w.grab().save(str(OUT / "studio_running.png"))
    w.cancel_run()
    wait_for(lambda: not w.runner.busy, 60)
    w.runner.shutdown(timeout=15)
    w.close_without_asking()


def variations(app) -> None:
    """Three variations of text_to_video.weft (seed +1 after each run) in the History, then A/B."""
    from PySide6.QtCore import Qt
    from app.ui.runner import wait_for
    w = window(app)
    w.open_path(ROOT / "assets" / "examples" / "text_to_video.weft", ask=False)
    doc = w.document
    video = shrink_video(doc, steps=4)
    doc.set_seed_control(video, "seed", "increment")
    w.runs_spin.setValue(3)
    w.run()
    wait_for(lambda: not w.runner.busy, 900)
    history = w._api(w.results_panel)
    history.reload()
    w.results_dock.show()
    w.results_dock.raise_()
    w.resizeDocks([w.results_dock], [330], Qt.Vertical)
    done = [e for e in history.entries if e.status == "done"]
    history.select([done[-1].id])
    doc.select([video])
    settle(app, 400)
    w.view.frame_all()
    settle(app, 400)
    w.grab().save(str(OUT / "studio_history.png"))
    history.show_contact_sheet(True)
    settle(app, 300)
    history.grab().save(str(OUT / "history_contact_sheet.png"))
    history.show_contact_sheet(False)
    history.select([done[0].id, done[-1].id])
    history.compare_button.click()
    viewer = w._api(w.viewer)
    w.resizeDocks([w.viewer_dock], [620], Qt.Horizontal)
    settle(app, 300)
    viewer.compare_view.set_wipe(0.5)
    settle(app, 200)
    w.grab().save(str(OUT / "studio_compare.png"))
    viewer.set_compare_mode("side")
    settle(app, 200)
    viewer.grab().save(str(OUT / "viewer_side_by_side.png"))
    w.runner.shutdown(timeout=15)
    w.close_without_asking()


def long_render(app) -> None:
    """A render that will take long on this machine says so on the node and as it is queued."""
    from app.ui.runner import wait_for
    w = window(app)
    w.open_path(ROOT / "assets" / "examples" / "text_to_video.weft", ask=False)
    doc = w.document
    video = next(n for n, node in doc.graph.nodes.items() if node.type_id == "text_to_video")
    for name, value in (("aspect", "custom"), ("duration_unit", "frames"), ("width", 832), ("height", 480),
                        ("frames", 81), ("steps", 50)):
        doc.set_param(video, name, value)
    doc.select([video])
    w.view.frame_all()
    settle(app, 300)
    item = w.view.gscene.nodes[video]
    w.view.centerOn(item)
    settle(app, 200)
    w.view.grab().save(str(OUT / "canvas_long_render_node.png"))
    w.run()
    settle(app, 300)
    w.log_dock.raise_()
    w.view.frame_all()
    settle(app, 300)
    w.grab().save(str(OUT / "studio_long_render.png"))
    w.cancel_run()
    wait_for(lambda: not w.runner.busy, 120)
    w.runner.shutdown(timeout=15)
    w.close_without_asking()


SHOTS = {"examples": examples, "feedback": feedback, "search": search, "big": big, "after_run": after_run,
         "running": running, "variations": variations, "long_render": long_render}
RENDERS = ("after_run", "running", "variations", "long_render")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-render", action="store_true")
    parser.add_argument("--only", nargs="*", choices=sorted(SHOTS), help="make only these screenshots")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    os.environ.setdefault("WEFT_DATA_DIR", str(Path(tmp) / "data"))
    os.environ.setdefault("WEFT_CACHE_DIR", str(Path(tmp) / "cache"))
    from app.ui.main import install_loop, make_app
    app = make_app()
    install_loop(app)
    for name, make in SHOTS.items():
        if args.only and name not in args.only:
            continue
        if args.no_render and name in RENDERS:
            continue
        make(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
