"""Studio benchmarks: how fast a big project opens and draws, and whether the
GUI stays responsive while the engine renders.

    .venv/bin/python bench/gui.py            # both
    .venv/bin/python bench/gui.py --no-render

Prints:
  - the time to open a 500-node, 700-link project and draw it (target < 1 s),
    split into reading the file, building the canvas, and the first paints;
  - the time to select everything and move it (one undo step) and redraw;
  - the longest stall of the Qt event loop (a 5 ms timer's worst lateness)
    while a tiny render runs in the worker (target < 50 ms), and the most CPU
    time the GUI thread itself spent within one gap: on a loaded machine a
    stall can be the scheduler's (other processes) rather than the GUI's.
Runs offscreen; uses the tiny models (random weights: the render is noise).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def big_project(path: Path, n_nodes: int = 500, n_links: int = 700, seed: int = 1) -> None:
    """A layered graph of real node types with type-correct, acyclic links."""
    from nodes import project as project_io
    from nodes.graph import Graph
    from nodes.types import can_connect

    rng = random.Random(seed)
    g = Graph()
    types = [t for t in g.registry if t.type_id not in ("save_image_sequence",)]
    sources = [t for t in types if not t.inputs]
    # Nodes with several inputs more often, so that 500 nodes can take 700 links.
    weighted = [t for t in types for _ in range(1 + 2 * len(t.inputs))]
    columns = 25
    per_column = n_nodes // columns
    placed: list[tuple[str, int]] = []
    for i in range(n_nodes):
        col, row = divmod(i, per_column)
        t = rng.choice(sources if col == 0 else weighted)
        node = g.add_node(t.type_id, position=(col * 320.0, row * 340.0))
        placed.append((node.id, col))
    by_col: dict[int, list[str]] = {}
    for node_id, col in placed:
        by_col.setdefault(col, []).append(node_id)
    attempts = 0
    while len(g.links) < n_links and attempts < 200_000:
        attempts += 1
        target, col = rng.choice(placed)
        if col == 0:
            continue
        t_type = g.node_type(target)
        free = [s for s in t_type.inputs.values() if g.link_into(target, s.name) is None]
        if not free:
            continue
        socket = rng.choice(free)
        src_col = rng.randrange(max(0, col - 3), col)
        candidates = [(n, o.name) for n in by_col[src_col] for o in g.node_type(n).outputs.values()
                      if can_connect(o.type, socket.type)]
        if candidates:
            source, out = rng.choice(candidates)
            g.connect(source, out, target, socket.name)
    project_io.save(project_io.Project(g), path)


def bench_open(path: Path) -> dict[str, float]:
    from PySide6.QtCore import QCoreApplication, QPointF

    from app.ui.main import install_loop, make_app
    from app.ui.main_window import MainWindow

    app = make_app()
    install_loop(app)
    out: dict[str, float] = {}
    t = time.perf_counter()
    window = MainWindow(models="tiny", interactive=False, autosave=False)
    window.show()
    QCoreApplication.processEvents()
    out["window"] = time.perf_counter() - t

    from nodes import project as project_io
    t0 = time.perf_counter()
    project = project_io.load(path)
    out["read file"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    window.document.replace_project(project)
    out["build canvas"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    window.view.frame_all()
    window.view.viewport().repaint()
    out["first paint (framed, zoomed out)"] = time.perf_counter() - t2
    out["open and draw, total"] = time.perf_counter() - t0

    t3 = time.perf_counter()
    window.view.set_zoom(1.0, QPointF(1500, 1500))
    window.view.viewport().repaint()
    out["paint at 100% zoom"] = time.perf_counter() - t3

    doc = window.document
    t4 = time.perf_counter()
    window.view.select_all()
    QCoreApplication.processEvents()
    out["select all"] = time.perf_counter() - t4
    t5 = time.perf_counter()
    doc.move_nodes({n: (x + 40, y + 40) for n, (x, y) in doc.graph.positions.items()})
    QCoreApplication.processEvents()  # links are redrawn once, after all their ends moved
    window.view.frame_all()
    window.view.viewport().repaint()
    out["move all (one undo step) and redraw"] = time.perf_counter() - t5
    t6 = time.perf_counter()
    doc.undo_stack.undo()
    QCoreApplication.processEvents()
    window.view.viewport().repaint()
    out["undo the move and redraw"] = time.perf_counter() - t6
    out["nodes"], out["links"] = len(doc.graph.nodes), len(doc.graph.links)
    window.close_without_asking()
    return out


def bench_stall(tmp: Path) -> dict[str, float]:
    """The worst lateness of a 5 ms timer while the worker renders."""
    from PySide6.QtCore import QCoreApplication, QElapsedTimer, QTimer  # noqa: F401

    from app.ui.main import make_app
    from app.ui.main_window import MainWindow
    from app.ui.runner import wait_for
    from nodes import project as project_io
    from nodes.graph import Graph

    app = make_app()
    g = Graph()
    g.add_node("text", {"text": "a lighthouse in a storm"}, node_id="prompt", position=(0, 0))
    g.add_node("text_to_video", {"width": 64, "height": 48, "frames": 9, "steps": 12, "fps": 16.0},
               node_id="t2v", position=(350, 0))
    g.add_node("save_video", {"filename": "clip"}, node_id="save", position=(700, 0))
    g.connect("prompt", "out", "t2v", "prompt")
    g.connect("t2v", "video", "save", "video")
    path = tmp / "tiny.weft"
    project_io.save(project_io.Project(g), path)

    window = MainWindow(models="tiny", interactive=False, autosave=False)
    window.show()
    window.open_path(path, ask=False)
    QCoreApplication.processEvents()

    gaps: list[float] = []
    busy: list[float] = []  # main-thread CPU time within each gap: the GUI's own work
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed(), time.thread_time()]

    def tick() -> None:
        now, cpu = clock.nsecsElapsed(), time.thread_time()
        gaps.append((now - last[0]) / 1e6)
        busy.append((cpu - last[1]) * 1e3)
        last[0], last[1] = now, cpu

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()
    t = time.perf_counter()
    job = window.run()
    progress = [0]
    window.document.node_status_changed.connect(lambda n: progress.__setitem__(0, progress[0] + 1))
    wait_for(lambda: not window.runner.busy, 300)
    seconds = time.perf_counter() - t
    timer.stop()
    status = window.runner.jobs[job].status if job else "not run"
    window.runner.shutdown(timeout=15)
    window.close_without_asking()
    gaps.sort()
    busy.sort()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {"render status": status, "render seconds (worker start included)": seconds,
            "timer ticks": len(gaps), "status updates": progress[0],
            "longest stall ms (5 ms timer interval)": gaps[-1] if gaps else float("nan"),
            "99th percentile gap ms": gaps[int(len(gaps) * 0.99)] if gaps else float("nan"),
            "longest GUI work in one gap, CPU ms": busy[-1] if busy else float("nan"),
            "machine load average (1 min)": load,
            "CPU cores": float(os.cpu_count() or 0)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-render", action="store_true", help="skip the render stall measurement")
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--links", type=int, default=700)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ.setdefault("WEFT_DATA_DIR", str(tmp / "data"))
        os.environ.setdefault("WEFT_CACHE_DIR", str(tmp / "cache"))
        path = tmp / "big.weft"
        big_project(path, args.nodes, args.links)
        print(f"Open and draw a {args.nodes}-node, {args.links}-link project (target: under 1 s in total)")
        for name, value in bench_open(path).items():
            print(f"  {name:40s} {value:8.3f}{' s' if isinstance(value, float) else ''}")
        if not args.no_render:
            print("Event-loop stalls while a tiny render runs in the worker (target: longest under 50 ms)")
            for name, value in bench_stall(tmp).items():
                print(f"  {name:40s} {value:>8.3f}" if isinstance(value, float) else f"  {name:40s} {value:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
