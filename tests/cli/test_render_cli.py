"""`weft render` end to end on the tiny models, as a script or an artist would run it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engines import media
from nodes import project
from nodes.graph import Graph

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def small_project(path: Path, *, steps=2, frames=9, broken_frames: Path | None = None) -> Path:
    g = Graph()
    g.add_node("text", {"text": "a paper boat on a river"}, node_id="prompt")
    g.add_node("text_to_video", {"width": 64, "height": 48, "frames": frames, "steps": steps}, node_id="t2v")
    g.add_node("save_video", node_id="save")
    g.connect("prompt", "out", "t2v", "prompt")
    g.connect("t2v", "video", "save", "video")
    if broken_frames is not None:
        g.add_node("load_image_sequence", {"path": str(broken_frames)}, node_id="plate", title="Plate frames")
        g.add_node("save_video", node_id="plate_out")
        g.connect("plate", "video", "plate_out", "video")
    project.save(project.Project(g), path)
    return path


def weft(*args, env, **kw):
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600, **kw)


def test_json_events_and_exit_0(engine_env, tmp_path):
    p = small_project(tmp_path / "boat.weft")
    out = weft("render", str(p), "--models", "tiny", "--json", "--output-dir", str(tmp_path / "out"),
               "--set", "t2v.seed=3", env=engine_env)
    assert out.returncode == 0, out.stderr
    assert "output is noise" in out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "job_started" and kinds[-1] == "job_finished"
    assert {"node_started", "progress", "node_finished"} <= set(kinds)
    done = {e["node"]: e for e in events if e["event"] == "node_finished"}
    assert done["t2v"]["cached"] is False and done["t2v"]["stats"]["nfe"] == 4
    saved = Path(done["save"]["outputs"][0])
    assert saved == (tmp_path / "out" / "boat_save.mp4").resolve()
    assert media.probe(saved).frames == 9


def test_a_render_failure_exits_1_and_names_the_node(engine_env, tmp_path):
    # The check before work reads only a sequence's first image, so a damaged later frame is found while
    # rendering: the failure names the node and the file, and the independent branch still finishes.
    frames = tmp_path / "plate"
    frames.mkdir()
    media.write_image(frames / "0001.png", np.zeros((48, 64, 3), np.uint8))
    (frames / "0002.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    p = small_project(tmp_path / "shot.weft", broken_frames=frames)
    out = weft("render", str(p), "--models", "tiny", "--output-dir", str(tmp_path / "out"), env=engine_env)
    assert out.returncode == 1, out.stderr
    assert "node Plate frames (plate) failed: parameter 'path':" in out.stderr
    assert "0002.png" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    assert (tmp_path / "out" / "shot_save.mp4").exists()  # the independent branch finished


def test_several_projects_share_one_worker_and_its_cache(engine_env, tmp_path):
    a = small_project(tmp_path / "a.weft")
    b = small_project(tmp_path / "b.weft")  # same upstream graph: its video comes from the cache
    out = weft("render", str(a), str(b), "--models", "tiny", "--json", "--output-dir", str(tmp_path / "out"),
               env=engine_env)
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    t2v = [e for e in events if e["event"] == "node_finished" and e["node"] == "t2v"]
    assert [e["cached"] for e in t2v] == [False, True]
    assert (tmp_path / "out" / "a_save.mp4").exists() and (tmp_path / "out" / "b_save.mp4").exists()


def test_ctrl_c_cancels_cleanly_with_exit_130_and_no_partial_files(engine_env, tmp_path):
    p = small_project(tmp_path / "long.weft", steps=200)
    out_dir = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "app", "render", str(p), "--models", "tiny", "--json",
                             "--output-dir", str(out_dir)], cwd=ROOT, env=engine_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if json.loads(line).get("event") == "progress":
                break
        proc.send_signal(signal.SIGINT)
        t0 = time.perf_counter()
        code = proc.wait(timeout=30)
        waited = time.perf_counter() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 130, proc.stderr.read()
    assert waited < 10
    assert "cancelled" in proc.stderr.read()
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_quality_draft_renders_fewer_steps_without_touching_the_project(engine_env, tmp_path):
    p = small_project(tmp_path / "boat.weft", steps=10, frames=5)
    before = p.read_text()
    out = weft("render", str(p), "--models", "tiny", "--json", "--quality", "draft",
               "--output-dir", str(tmp_path / "out"), env=engine_env)
    assert out.returncode == 0, out.stderr
    done = {e["node"]: e for e in map(json.loads, out.stdout.splitlines()) if e["event"] == "node_finished"}
    assert done["t2v"]["stats"]["steps"] < 10
    assert p.read_text() == before
    final = weft("render", str(p), "--models", "tiny", "--json", "--quality", "final",
                 "--output-dir", str(tmp_path / "out"), env=engine_env)
    done = {e["node"]: e for e in map(json.loads, final.stdout.splitlines()) if e["event"] == "node_finished"}
    assert done["t2v"]["stats"]["steps"] == 10


def test_calibrate_magcache_on_a_tiny_twin_stores_ratios(engine_env, tmp_path):
    env = {**engine_env, "WEFT_MAGCACHE_DIR": str(tmp_path / "ratios"), "WEFT_TINY_DIR": engine_env["WEFT_TINY_DIR"]}
    out = weft("models", "calibrate-magcache", "wan2.1-t2v-1.3b", "--models", "tiny", "--steps", "6", env=env)
    assert out.returncode == 0, out.stderr
    assert "output is noise" in out.stderr
    stored = json.loads((tmp_path / "ratios" / "wan2.1-t2v-1.3b.json").read_text())
    assert stored["model"] == "wan2.1-t2v-1.3b" and len(stored["profiles"]["tiny"]["cond"]) == 6
    wrong = weft("models", "calibrate-magcache", "wan9-t2v", env=env)
    assert wrong.returncode == 2 and "wan9-t2v" in wrong.stderr
