"""Batch throughput: jobs per minute for 1, 2 and 4 local workers and for a local Ray run.

Renders a sweep of seeds of one Text to Video shot on the tiny models, each
configuration with an empty result cache (so every job really renders) and the
tiny models already built. Runs `weft batch` exactly as a user would, and reads
its --json events as they arrive. Two figures per configuration:

- end to end: jobs / (launch to exit): what a user waits for, including
  starting the workers (or Ray) and loading the models once per worker;
- steady: jobs / (first job started to last job finished), after start-up.

    .venv/bin/python bench/batch.py                  # 8 seeds, workers 1 2 4, and Ray
    .venv/bin/python bench/batch.py --seeds 16 --workers 1 2 --no-ray
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, fresh_cache_dir

from nodes import project


def write_shot(folder: Path, *, width: int, height: int, frames: int, steps: int) -> Path:
    from nodes.graph import Graph
    g = Graph()
    g.add_node("text", {"text": "drone shot over green hills and a winding river, golden hour"}, node_id="prompt")
    g.add_node("text_to_video", {"width": width, "height": height, "frames": frames, "steps": steps}, node_id="t2v")
    g.add_node("save_video", node_id="save")
    g.connect("prompt", "out", "t2v", "prompt")
    g.connect("t2v", "video", "save", "video")
    return project.save(project.Project(g), folder / "shot.weft")


def run_batch(shot: Path, seeds: int, extra: list[str], env: dict[str, str]) -> dict[str, float]:
    out = Path(tempfile.mkdtemp(prefix="weft-bench-batch-"))
    args = [sys.executable, "-m", "app", "batch", str(shot), "--sweep", f"t2v.seed=1..{seeds}", "--models", "tiny",
            "--output-dir", str(out / "renders"), "--cache-dir", str(fresh_cache_dir()), "--json", *extra]
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first_start = last_end = None
    done = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        now = time.perf_counter() - t0
        if event["event"] == "job_started" and first_start is None:
            first_start = now
        elif event["event"] == "job_finished":
            last_end = now
            done += event["status"] == "done"
    code = proc.wait()
    wall = time.perf_counter() - t0
    if code != 0 or done != seeds:
        raise SystemExit(f"batch {' '.join(extra)} failed (exit {code}, {done} of {seeds} done):\n"
                         + (proc.stderr.read()[-3000:] if proc.stderr else ""))
    steady = (last_end or wall) - (first_start or 0.0)
    return {"wall": wall, "steady": steady, "per_min": 60 * seeds / wall, "steady_per_min": 60 * seeds / steady}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--ray-workers", type=int, default=2)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--frames", type=int, default=17)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="weft-bench-"))
    shot = write_shot(tmp, width=args.size, height=args.size, frames=args.frames, steps=args.steps)
    env = dict(os.environ)
    env.setdefault("WEFT_TINY_DIR", str(Path(tempfile.gettempdir()) / "weft-bench-tiny"))
    env.setdefault("WEFT_DATA_DIR", str(tmp / "data"))
    env.setdefault("HF_HUB_OFFLINE", "1")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"weft batch on the tiny models: {args.seeds} seeds of a {args.size}x{args.size}, {args.frames}-frame, "
          f"{args.steps}-step Text to Video; {cores} CPU cores, no GPU", flush=True)
    # Build the tiny models once, outside the timings.
    run_batch(shot, 1, ["--workers", "1"], env)

    # Each worker gets cores / workers threads (app/batch/local.py), so 1 worker uses every core.
    configs: list[tuple[str, list[str], dict[str, str]]] = [
        (f"local, {n} worker{'s' if n > 1 else ''}", ["--workers", str(n)], {}) for n in args.workers]
    if cores and cores > 1 and 1 in args.workers:
        # The same single worker held to one thread: shows what OpenMP threads cost when the
        # cores are shared (a descheduled thread stalls every barrier).
        configs.insert(1, ("local, 1 worker, 1 thread", ["--workers", "1"],
                           {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}))
    if not args.no_ray:
        try:
            import ray  # noqa: F401
            configs.append((f"Ray (local), {args.ray_workers} actors", ["--ray", "auto", "--workers",
                                                                        str(args.ray_workers)], {}))
        except ImportError:
            print("  (Ray is not installed: pip install 'ray[default]>=2.40' to measure it)")
    print(f"  {'configuration':<26} {'wall s':>8} {'jobs/min':>9} {'steady s':>9} {'jobs/min':>9}  load avg")
    for name, extra, overrides in configs:
        r = run_batch(shot, args.seeds, extra, {**env, **overrides})
        # The load average says whether other programs shared the cores during the run.
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"  {name:<26} {r['wall']:8.1f} {r['per_min']:9.1f} {r['steady']:9.1f} {r['steady_per_min']:9.1f}"
              f"  {load:8.1f}", flush=True)
    print("  (wall: launch to exit, with start-up and model loading; steady: first job started to last finished)")


if __name__ == "__main__":
    main()
