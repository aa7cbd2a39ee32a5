"""The studio with the real engine worker on the tiny models.

One session (``gui_tiny_run.py``, in its own process) renders, cancels, has
its engine killed mid-run and renders again; this test checks what it saw.
The worker builds the tiny models on first use (shared across the session
through ``WEFT_TINY_DIR``) and renders noise: what matters here is that the
GUI drives it without blocking, survives it dying, and never imports torch.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nodes import project as project_io
from nodes.graph import Graph

pytestmark = [pytest.mark.ui, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def tiny_graph(steps: int = 2) -> Graph:
    g = Graph()
    g.add_node("text", {"text": "a lighthouse in a storm"}, node_id="prompt", position=(0, 0))
    g.add_node("text_to_video", {"width": 64, "height": 48, "frames": 9, "steps": steps, "fps": 16.0},
               node_id="t2v", position=(350, 0))
    g.add_node("save_video", {"filename": "clip"}, node_id="save", position=(700, 0))
    g.connect("prompt", "out", "t2v", "prompt")
    g.connect("t2v", "video", "save", "video")
    return g


@pytest.fixture(scope="module")
def session(tmp_path_factory, tiny_models_dir):
    tmp = tmp_path_factory.mktemp("gui-session")
    path = tmp / "tiny.weft"
    project_io.save(project_io.Project(tiny_graph()), path)
    report = tmp / "report.json"
    import os
    env = {**os.environ, "WEFT_DATA_DIR": str(tmp / "data"), "WEFT_CACHE_DIR": str(tmp / "cache"),
           "WEFT_TINY_DIR": str(tiny_models_dir), "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-m", "tests.ui.gui_tiny_run", str(path), str(report)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(report.read_text())
    result["stderr"] = proc.stderr[-4000:]
    result["folder"] = tmp
    print("GUI session timings (s):", result["timings"])
    return result


def test_a_tiny_render_reaches_the_viewer(session):
    render = session["render"]
    assert session["opened"] and render["status"] == "done", session
    assert render["states"] == {"prompt": "done", "t2v": "done", "save": "done"}
    seconds, memory, _ = render["t2v"]
    assert seconds > 0 and memory > 0  # shown on the node
    assert ["t2v", {"video": "Video"}] in session["shown"]  # the viewer got the video
    assert render["outputs"] == [str((session["folder"] / "renders" / "clip.mp4").resolve())]
    assert session["first_worker_pid"] != session["gui_pid"]


def test_the_gui_process_never_imports_torch(session):
    assert session["heavy_after_open"] == []
    assert session["heavy_after_render"] == []
    assert session["heavy_at_end"] == []


def test_cancel_stops_the_run_within_a_second(session):
    cancel = session["cancel"]
    assert cancel["status"] == "cancelled"
    assert cancel["states"]["t2v"] == "cancelled"
    assert cancel["seconds"] < 2.0  # the worker stops between denoising steps


def test_a_killed_engine_is_reported_and_the_next_run_starts_a_new_one(session):
    kill, again = session["kill"], session["again"]
    assert kill["status"] == "failed"
    assert kill["states"]["t2v"] == "failed" and "t2v" in kill["t2v"][2]
    assert kill["died"] and "Text to Video" in kill["died"][0]  # the GUI says which node was running
    assert kill["graph_untouched"]
    assert again["status"] == "done", again
    assert again["worker_pid"] != session["first_worker_pid"]
