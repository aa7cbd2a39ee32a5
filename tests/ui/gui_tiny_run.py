"""An artist's session with the real engine on the tiny models, reported as JSON.

Opens a project in the studio, renders it (the viewer must get the video),
starts a long render and cancels it, starts it again and kills the engine
mid-run, edits the graph, and renders once more on a new engine. Run as its
own process by ``test_engine.py``, so that what it reports about
``sys.modules`` is the GUI process's own (pytest imports every test module's
dependencies). Usage: python -m tests.ui.gui_tiny_run PROJECT OUT.json
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HEAVY = ("torch", "diffusers", "transformers")


def heavy_modules() -> list[str]:
    return sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)


def main(project: str, report: str) -> int:
    from app.ui.main import close_loop, install_loop, make_app
    from app.ui.main_window import MainWindow
    from app.ui.runner import wait_for

    app = make_app()
    loop = install_loop(app)
    window = MainWindow(models="tiny", interactive=False)
    window.ask_unsaved = lambda: "discard"
    doc, runner = window.document, window.runner
    out: dict = {"timings": {}}
    t0 = time.monotonic()

    def lap(name: str) -> None:
        out["timings"][name] = round(time.monotonic() - t0, 2)
    shown: list[tuple[str, dict]] = []
    viewer = window._api(window.viewer)
    original = viewer.show_result
    viewer.show_result = lambda node_id, results: (shown.append((node_id, results)), original(node_id, results))
    died: list[str] = []
    runner.worker_died.connect(died.append)

    def wait(condition, timeout: float) -> bool:
        return wait_for(condition, timeout)

    def job_report(job):
        info = runner.jobs.get(job) if job else None
        return {"job": job, "status": info.status if info else None, "outputs": info.outputs if info else [],
                "states": {n: doc.node_status(n).state for n in doc.graph.nodes},
                "t2v": [doc.node_status("t2v").seconds, doc.node_status("t2v").memory,
                        doc.node_status("t2v").message]}

    window.show()
    out["opened"] = window.open_path(project, ask=False)
    out["heavy_after_open"] = heavy_modules()
    out["panel_errors"] = window.panel_errors

    # 1. Render: the nodes report time and memory, the viewer gets the video.
    job = window.run()
    wait(lambda: not runner.busy, 240)
    out["render"] = job_report(job)
    lap("render")
    out["shown"] = [[node_id, {k: v.get("kind") for k, v in results.items()}] for node_id, results in shown]
    out["heavy_after_render"] = heavy_modules()
    out["gui_pid"], out["first_worker_pid"] = os.getpid(), runner.client.pid if runner.client else None

    # 2. A long render, cancelled from the toolbar.
    doc.set_param("t2v", "steps", 200)
    job = window.run()
    wait(lambda: doc.node_status("t2v").state == "running" and doc.node_status("t2v").step >= 2, 120)
    asked = time.monotonic()
    window.cancel_action.trigger()
    wait(lambda: not runner.busy, 30)
    out["cancel"] = {**job_report(job), "seconds": round(time.monotonic() - asked, 3)}
    lap("cancel")

    # 3. Again, and the engine dies mid-run.
    job = window.run()
    wait(lambda: doc.node_status("t2v").state == "running" and doc.node_status("t2v").step >= 1, 120)
    before = doc.to_dict()
    window.restart_engine()  # kills the engine process
    wait(lambda: not runner.busy, 30)
    out["kill"] = {**job_report(job), "died": died, "graph_untouched": doc.to_dict() == before,
                   "log_title": window.windowTitle()}
    lap("kill")

    # 4. Keep working: edit (and undo/redo), then render on a new engine.
    doc.set_param("t2v", "steps", 3)
    doc.undo_stack.undo()
    doc.undo_stack.redo()
    job = window.run()
    wait(lambda: not runner.busy, 240)
    out["again"] = {**job_report(job), "worker_pid": runner.client.pid if runner.client else None}
    out["heavy_at_end"] = heavy_modules()
    lap("again")

    runner.shutdown(timeout=15)
    window.close_without_asking()
    close_loop(loop)
    with open(report, "w") as fh:
        json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
