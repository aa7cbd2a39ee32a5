"""`weft engine start`: a warm engine that `weft render` uses while it runs, reached over a private Unix socket."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engines import media
from tests.cli.test_render_cli import ROOT, small_project, weft

pytestmark = pytest.mark.slow


@pytest.fixture
def runtime(engine_env, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    return {**engine_env, "XDG_RUNTIME_DIR": str(folder)}


def start_engine(env) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "app", "engine", "start", "--models", "tiny"], cwd=ROOT, env=env,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()  # printed once the worker has started and the socket listens
    assert "engine for the tiny models ready" in line, line
    return proc


def test_renders_go_to_the_resident_engine_and_reuse_its_worker(runtime, tmp_path):
    engine = start_engine(runtime)
    try:
        sock = Path(runtime["XDG_RUNTIME_DIR"]) / "weft" / "engine-tiny.sock"
        assert stat.S_ISSOCK(sock.stat().st_mode)
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600  # the user's own, never a network port
        assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700

        status = weft("engine", "status", "--models", "tiny", env=runtime)
        assert status.returncode == 0 and "0 renders" in status.stdout
        worker = status.stdout.split("worker ")[1].split(",")[0]

        p = small_project(tmp_path / "boat.weft")
        for seed in (1, 2):
            out = weft("render", str(p), "--models", "tiny", "--output-dir", str(tmp_path / "out"),
                       "--set", f"t2v.seed={seed}", env=runtime)
            assert out.returncode == 0, out.stderr
            assert "rendering on the resident engine" in out.stderr
        files = sorted((tmp_path / "out").glob("*.mp4"))
        assert len(files) == 2 and all(media.probe(f).frames == 9 for f in files)
        status = weft("engine", "status", "--models", "tiny", env=runtime)
        assert "2 renders" in status.stdout and f"worker {worker}," in status.stdout  # one warm worker

        # A default-models render does not use the tiny engine.
        assert "no engine for the default models" in weft("engine", "status", env=runtime).stdout

        stopped = weft("engine", "stop", "--models", "tiny", env=runtime)
        assert stopped.returncode == 0, stopped.stderr
        assert engine.wait(timeout=30) == 0
        assert not sock.exists()
    finally:
        if engine.poll() is None:
            engine.kill()

    # With no engine running, a render starts its own worker as before.
    out = weft("render", str(p), "--models", "tiny", "--output-dir", str(tmp_path / "out2"), env=runtime)
    assert out.returncode == 0, out.stderr
    assert "resident" not in out.stderr


def test_a_second_engine_for_the_same_models_is_refused(runtime):
    engine = start_engine(runtime)
    try:
        again = subprocess.run([sys.executable, "-m", "app", "engine", "start", "--models", "tiny"], cwd=ROOT,
                               env=runtime, capture_output=True, text=True, timeout=120)
        assert again.returncode == 1 and "already runs" in again.stderr
        assert weft("engine", "status", "--models", "tiny", env=runtime).returncode == 0  # the first is unharmed
    finally:
        engine.terminate()  # SIGTERM stops it cleanly too
        assert engine.wait(timeout=30) == 0
    assert not (Path(runtime["XDG_RUNTIME_DIR"]) / "weft" / "engine-tiny.sock").exists()
