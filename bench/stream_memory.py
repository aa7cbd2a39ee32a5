"""Memory of Load Video -> Save Video as the clip gets longer.

Makes synthetic clips (a moving pattern with a stereo tone, written by Weft's
own VideoWriter), then renders each through a two-node graph, Load Video ->
Save Video (mp4, quality high), with the engine's executor and result cache
(the path `weft render` and the studio's worker take), in a fresh subprocess
per clip. A thread in that process samples /proc/self/status every 10 ms:

- private: RssAnon, the anonymous memory the process owns (heap, numpy
  arrays in RAM, codec buffers); what the kernel cannot give back without
  killing it. The figure the bound is about.
- resident: VmRSS, which also counts file pages mapped in (a disk-backed
  clip's pages while they are read), which the kernel can drop at will.

Beside them: what the old design held in RAM for the frames alone
(frames x height x width x 3 bytes, one uint8 array of the whole clip), and,
with --old, the old design measured (media.read_video, which still decodes
into one in-memory array, then media.write_video), in the same kind of
subprocess.

    .venv/bin/python bench/stream_memory.py            # 360p 5 s and 60 s, 720p 5 s and 20 s
    .venv/bin/python bench/stream_memory.py --old      # also the in-RAM design, 720p
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import ROOT  # (importing it puts the project on sys.path)

CASES = [(640, 360, 5), (640, 360, 60), (1280, 720, 5), (1280, 720, 20)]
FPS = 24
MB = 2**20


# -- the clips -----------------------------------------------------------------
def make_clip(path: Path, width: int, height: int, seconds: float) -> None:
    import numpy as np
    from engines.media import VideoWriter
    from nodes.values import Audio

    n = int(seconds * FPS)
    t = np.arange(int(seconds * 48000)) / 48000
    tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    audio = Audio(np.stack([tone, tone]), 48000)
    y, x = np.mgrid[0:height, 0:width]
    with VideoWriter(path, FPS, audio=audio, quality="low") as writer:
        for i in range(n):
            frame = np.empty((height, width, 3), np.uint8)
            frame[..., 0] = (x + 4 * i) % 256
            frame[..., 1] = (y + 2 * i) % 256
            frame[..., 2] = (i * 3) % 256
            writer.write(frame)


# -- the measured process ------------------------------------------------------
def _status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                out[key] = int(rest.split()[0]) * 1024
    return out


class Sampler:
    def __init__(self, interval: float = 0.01):
        self.interval = interval
        self.peak = {"VmRSS": 0, "RssAnon": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while True:
            for key, value in _status().items():
                self.peak[key] = max(self.peak[key], value)
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def child(clip: Path, out: Path, design: str) -> None:
    from engines import media
    from engines.cache import ResultCache
    from engines.executor import Executor, Job
    from nodes.graph import Graph

    events: list[dict] = []
    graph = Graph()
    graph.add_node("load_video", {"path": str(clip)}, node_id="load")
    graph.add_node("save_video", {"filename": "saved", "format": "mp4"}, node_id="save")
    graph.connect("load", "video", "save", "video")
    executor = Executor(ResultCache(out / "cache"), None, events.append, "tiny")
    base = _status()
    t0 = time.perf_counter()
    with Sampler() as sampler:
        if design == "disk":
            result = executor.run(Job(id="bench", graph=graph, output_dir=out, project_dir=out))
            if result["status"] != "ok":
                raise SystemExit(f"render failed: {result}")
        else:  # the old design: the whole clip decoded into one array in RAM, then encoded
            media.write_video(out / "saved.mp4", media.read_video(clip))
    seconds = time.perf_counter() - t0
    saved = sorted(out.glob("saved*.mp4"))[-1]
    node_peaks = {e["node"]: e["stats"].get("peak_memory_bytes") for e in events
                  if e.get("event") == "node_finished" and "stats" in e}
    print(json.dumps({"base": base, "peak": sampler.peak, "seconds": seconds, "nodes": node_peaks,
                      "frames_out": media.probe(saved).frames}))


# -- the report ----------------------------------------------------------------
def measure(clip: Path, design: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="weft-bench-stream-") as out:
        run = subprocess.run([sys.executable, __file__, "--child", str(clip), out, design], cwd=ROOT,
                             capture_output=True, text=True, check=False)
        if run.returncode:
            raise SystemExit(f"the measured process failed:\n{run.stderr[-3000:]}")
        return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", action="store_true", help="also measure the in-RAM design at 720p")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]), args.child[2])
        return
    print(f"Load Video -> Save Video (mp4, high), {FPS} fps, stereo 48 kHz; one fresh process per row; "
          f"MB = 2^20 bytes")
    print(f"{'clip':>16} {'frames':>6} {'old design: frames in RAM':>26} {'design':>7} "
          f"{'private peak':>12} {'growth':>7} {'resident peak':>13} {'seconds':>7}")
    with tempfile.TemporaryDirectory(prefix="weft-bench-clips-") as folder:
        for width, height, seconds in CASES:
            clip = Path(folder) / f"clip_{width}x{height}_{seconds}s.mp4"
            make_clip(clip, width, height, seconds)
            frames = seconds * FPS
            in_ram = frames * width * height * 3
            designs = ["disk"] + (["ram"] if args.old and height == 720 else [])
            for design in designs:
                r = measure(clip, design)
                if r["frames_out"] != frames:
                    raise SystemExit(f"{clip.name}: the saved file has {r['frames_out']} frames, not {frames}")
                growth = r["peak"]["RssAnon"] - r["base"]["RssAnon"]
                print(f"{width}x{height} {seconds:>3} s {frames:>6} {in_ram / MB:>22.0f} MB "
                      f"{design:>7} {r['peak']['RssAnon'] / MB:>9.0f} MB {growth / MB:>4.0f} MB "
                      f"{r['peak']['VmRSS'] / MB:>10.0f} MB {r['seconds']:>7.1f}", flush=True)
            clip.unlink()
    print("private: peak RssAnon (anonymous memory; growth: above the process before the render); "
          "resident: peak VmRSS (with mapped file pages)")


if __name__ == "__main__":
    main()
