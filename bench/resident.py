"""`weft render` from the command, as a user runs it: a fresh worker each time vs the resident engine.

Renders assets/examples/sketch_text_to_video.weft (the shipped sketch-video
model) ROUNDS times each way, interleaved, each with a new seed (so the result
cache never answers), and prints the wall time of the whole command. The
resident engine (`weft engine start`) is started once before its rounds; its
start is reported apart.

    .venv/bin/python bench/resident.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT


def weft(*args: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"weft {' '.join(args)} failed:\n{done.stderr}")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="weft-bench-resident-"))
    env = {**os.environ, "XDG_RUNTIME_DIR": str(work / "run"), "WEFT_CACHE_DIR": str(work / "cache")}
    (work / "run").mkdir(mode=0o700)
    example = ROOT / "assets" / "examples" / "sketch_text_to_video.weft"

    def render(seed: int) -> float:
        return weft("render", str(example), "--output-dir", str(work / "out"), "--set", f"t2v.seed={seed}", env=env)

    t0 = time.perf_counter()
    engine = subprocess.Popen([sys.executable, "-m", "app", "engine", "start"], cwd=ROOT, env=env,
                              stderr=subprocess.PIPE, text=True)
    engine.stderr.readline()
    started = time.perf_counter() - t0
    try:
        fresh, resident, seed = [], [], 100
        for _ in range(args.rounds):
            weft("engine", "stop", env=env)
            engine.wait()
            fresh.append(render(seed := seed + 1))
            engine = subprocess.Popen([sys.executable, "-m", "app", "engine", "start"], cwd=ROOT, env=env,
                                      stderr=subprocess.PIPE, text=True)
            engine.stderr.readline()
            render(seed := seed + 1)  # the engine's first render loads the model once
            resident.append(render(seed := seed + 1))
    finally:
        if engine.poll() is None:
            weft("engine", "stop", env=env)
    print(f"weft render sketch_text_to_video.weft, {args.rounds} rounds, a new seed each render")
    print(f"  resident engine start (once)            : {started:6.2f} s")
    print(f"  fresh worker each render (median)       : {statistics.median(fresh):6.2f} s   {fresh}")
    print(f"  on the warm resident engine (median)    : {statistics.median(resident):6.2f} s   {resident}")
    print(f"  resident / fresh                        : {statistics.median(resident) / statistics.median(fresh):6.2f}")


if __name__ == "__main__":
    main()
