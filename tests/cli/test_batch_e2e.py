"""weft batch end to end on the tiny models: a batch killed mid-job resumes without
redoing finished jobs, and a Ray run gives the same videos as a local run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from app.cli import main
from nodes import project
from nodes.graph import Graph

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def own_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("WEFT_DATA_DIR", str(tmp_path / "data"))


def write_shot(path: Path, steps: int = 2) -> Path:
    g = Graph()
    g.add_node("text", {"text": "a paper boat floats down a gutter after the storm"}, node_id="prompt")
    g.add_node("text_to_video", {"width": 128, "height": 128, "frames": 5, "steps": steps}, node_id="t2v")
    g.add_node("save_video", node_id="save")
    g.connect("prompt", "out", "t2v", "prompt")
    g.connect("t2v", "video", "save", "video")
    return project.save(project.Project(g), path)


def events_of(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def video_of(job: dict) -> str:
    return next(p for p in job["outputs"] if p.endswith(".mp4"))


def only_file(folder: Path, pattern: str = "*.mp4") -> Path:
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, f"{folder}: {found}"
    return found[0]


def start_batch(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app", "batch", *args, "--json"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def read_until(batch: subprocess.Popen, stop, timeout: float = 240) -> list[dict]:
    """The batch's events up to and including the first one ``stop`` accepts."""
    assert batch.stdout is not None
    seen = []
    deadline = time.monotonic() + timeout
    for line in batch.stdout:
        seen.append(json.loads(line))
        if stop(seen[-1]):
            return seen
        assert time.monotonic() < deadline, f"waited {timeout} s; last event {seen[-1]}"
    pytest.fail(f"the batch ended (exit {batch.wait()}) before the awaited event; last: {seen[-1:]}")


def denoising(job: str):
    return lambda event: event["event"] == "progress" and event["job"] == job


@pytest.mark.slow
def test_kill_9_then_ctrl_c_then_resume_never_redoes_a_finished_job(tmp_path, engine_env, capsys):
    # Enough denoising steps that a job is surely still rendering when we stop the batch.
    proj = write_shot(tmp_path / "shot.weft", steps=30)
    out = tmp_path / "out"

    # 1. kill -9 the batch while job 0002 is denoising.
    batch = start_batch([str(proj), "--sweep", "t2v.seed=1..3", "--models", "tiny", "--output-dir", str(out)],
                        engine_env)
    try:
        events = read_until(batch, denoising("0002"))
        batch.send_signal(signal.SIGKILL)
        batch.wait(timeout=30)
    finally:
        if batch.poll() is None:
            batch.kill()
    # The orphaned worker sees its parent gone, cancels and leaves: within about a second
    # (engines/worker.py ORPHAN_GRACE_S; it used to linger 10-12 s holding its memory). The
    # bound here is loose for a busy CI machine, and still far below the old linger.
    worker_pid = events[0]["workers"][0]["pid"]
    killed_at = time.monotonic()
    if psutil.pid_exists(worker_pid):
        _, alive = psutil.wait_procs([psutil.Process(worker_pid)], timeout=30)
        assert not alive
    assert time.monotonic() - killed_at < 5.0, "the orphaned worker lingered"
    first = only_file(out / "0001_seed-1")
    first_mtime = first.stat().st_mtime_ns
    interrupted = out / "0002_seed-2"
    assert not interrupted.exists() or os.listdir(interrupted) == [], "the killed job left a file behind"
    assert main(["queue", "list", str(out), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [j["status"] for j in listed["jobs"]] == ["done", "running", "pending"]
    assert listed["running"] is None  # its coordinator is dead

    # 2. --resume renders the job that was in flight; Ctrl-C it while job 0003 is denoising.
    batch = start_batch(["--resume", str(out)], engine_env)
    try:
        events = read_until(batch, denoising("0003"))
        batch.send_signal(signal.SIGINT)
        events += [json.loads(line) for line in batch.stdout]  # type: ignore[union-attr]
        assert batch.wait(timeout=60) == 130
    finally:
        if batch.poll() is None:
            batch.kill()
    assert events[0]["event"] == "batch_started" and events[0]["recovered"] == ["0002"]
    assert [(e["job"], e["status"]) for e in events if e["event"] == "job_finished"] == [
        ("0002", "done"), ("0003", "interrupted")]
    assert events[-1]["event"] == "batch_finished" and events[-1]["exit_code"] == 130
    assert first.stat().st_mtime_ns == first_mtime, "a finished job was rendered again"
    second = only_file(out / "0002_seed-2")
    second_mtime = second.stat().st_mtime_ns

    # 3. --resume again: only job 0003 renders.
    assert main(["batch", "--resume", str(out), "--json"]) == 0
    events = events_of(capsys.readouterr().out)
    assert events[0]["recovered"] == []  # Ctrl-C already put 0003 back in the queue
    assert [e["job"] for e in events if e["event"] == "job_started"] == ["0003"]
    assert first.stat().st_mtime_ns == first_mtime and second.stat().st_mtime_ns == second_mtime
    for folder in ("0001_seed-1", "0002_seed-2", "0003_seed-3"):
        only_file(out / folder)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [(j["job"], j["status"]) for j in manifest["jobs"]] == [("0001", "done"), ("0002", "done"),
                                                                   ("0003", "done")]
    # Interrupted attempts (kill -9, Ctrl-C) are not held against --retries.
    assert [j["attempts"] for j in manifest["jobs"]] == [1, 1, 1]
    assert all(j["seconds"] > 0 and j["peak_memory_bytes"] > 0 for j in manifest["jobs"])
    assert all(j["nodes"]["t2v"]["nfe"] > 0 for j in manifest["jobs"])


def write_shot_with_plate(folder: Path) -> Path:
    """A shot plus an independent still: Load Image -> Save Image, to make some jobs fail."""
    from engines import media
    from nodes.values import Image
    folder.mkdir(parents=True, exist_ok=True)
    media.write_image(folder / "plate.png", Image(np.full((16, 16, 3), 90, np.uint8)))
    write_shot(folder / "shot.weft")
    loaded = project.load(folder / "shot.weft")
    g = loaded.graph
    g.add_node("load_image", {"path": "plate.png"}, node_id="plate")
    g.add_node("save_image", {"filename": "plate_{job}"}, node_id="still")
    g.connect("plate", "image", "still", "image")
    return project.save(loaded, folder / "shot.weft")


@pytest.mark.slow
def test_ray_run_makes_the_same_videos_as_a_local_run(tmp_path, engine_env, capsys, monkeypatch):
    pytest.importorskip("ray")
    from engines import media

    proj = write_shot_with_plate(tmp_path / "proj")
    # Four jobs; the two that read missing.png fail in their Load Image node
    # (their video still renders: an independent branch).
    sweep = ["--sweep", "t2v.seed=1,2", "--sweep", "plate.path=plate.png,missing.png", "--models", "tiny"]
    # Separate caches, so that each run really renders rather than reusing the other's results.
    assert main(["batch", str(proj), *sweep, "--output-dir", str(tmp_path / "local"),
                 "--cache-dir", str(tmp_path / "cache-local"), "--json"]) == 1
    capsys.readouterr()

    env = dict(engine_env)
    env.pop("RAY_ADDRESS", None)
    ray_run = subprocess.run(
        [sys.executable, "-m", "app", "batch", str(proj), *sweep, "--output-dir", str(tmp_path / "ray"),
         "--cache-dir", str(tmp_path / "cache-ray"), "--ray", "auto", "--workers", "1", "--retries", "1", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert ray_run.returncode == 1, ray_run.stderr[-3000:]
    events = events_of(ray_run.stdout)
    assert events[0]["workers"][0]["kind"] == "ray" and events[0]["workers"][0]["shared_storage"] is True
    # A failed job is tried again (--retries 1), then marked failed with its message; the rest finish.
    statuses = [(e["job"], e["status"]) for e in events if e["event"] == "job_finished"]
    assert statuses == [("0001", "done"), ("0002", "retrying"), ("0002", "failed"), ("0003", "done"),
                        ("0004", "retrying"), ("0004", "failed")]
    assert events[-1]["event"] == "batch_finished" and events[-1]["counts"]["done"] == 2

    local = json.loads((tmp_path / "local" / "manifest.json").read_text())["jobs"]
    remote = json.loads((tmp_path / "ray" / "manifest.json").read_text())["jobs"]
    assert [j["status"] for j in local] == [j["status"] for j in remote] == ["done", "failed", "done", "failed"]
    assert [j["attempts"] for j in remote] == [1, 2, 1, 2]
    assert "node Load Image (plate): parameter 'path': no such file" in remote[1]["error"]
    for a, b in zip(local, remote):
        assert a["folder"] == b["folder"]
        # Both rendered (nothing cached), and made the same result under the same content key...
        assert a["nodes"]["t2v"]["key"] == b["nodes"]["t2v"]["key"]
        video_a, video_b = video_of(a), video_of(b)
        if b["attempts"] == 1:
            assert video_a == video_b
        else:  # tried again: a new take next to the first attempt's (renders are never replaced)
            assert video_b == video_a.replace(".mp4", "_0002.mp4")
            assert (tmp_path / "ray" / video_a).is_file()
        # ...and the same pixels in the files.
        va = media.read_video(tmp_path / "local" / video_a)
        vb = media.read_video(tmp_path / "ray" / video_b)
        assert va.frames.shape == vb.frames.shape == (5, 128, 128, 3)
        assert np.array_equal(va.frames, vb.frames)
    assert [j["nodes"]["t2v"]["cached"] for j in remote] == [False, True, False, True]  # the shared cache
    seeds = [media.read_video(tmp_path / "ray" / video_of(j)).frames for j in (remote[0], remote[2])]
    assert not np.array_equal(seeds[0], seeds[1]), "two seeds gave the same video"
