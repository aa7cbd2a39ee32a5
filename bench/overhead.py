"""What Weft adds on top of diffusers for one Text to Video node.

Times the same tiny-architecture Wan pipeline (random weights, the real code
path) called directly and rendered by Weft (graph -> worker process ->
executor -> cache), both warm (model resident), with a fresh seed per run so
Weft's cache never answers. Prints the ratio Weft / bare. Target: <= 1.05.

    .venv/bin/python bench/overhead.py [--width 480 --height 272 --frames 33 --steps 30 --repeats 5]

The bare side is diffusers as a user runs it: its own process, started with
the environment this bench was started with (no Weft thread or malloc
settings), timed from the same pipeline folder. The Weft side runs with
whatever the engine worker sets (engines/client.py: engine_process_env). So
the ratio is what an artist sees when switching from a script to Weft,
thread policy included. Run it on a quiet machine: a loaded CPU makes both
numbers meaningless.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time

from _common import fresh_cache_dir, t2v_graph  # noqa: E402

PROMPT = "a lighthouse on a cliff in a storm, waves crashing"
NEGATIVE = "blurry"


# One bare diffusers process: load, warm up, then time each seed's call. Printed as JSON.
BARE = """
import json, sys, time
import torch
from diffusers import WanPipeline
folder, width, height, frames, steps, repeats, prompt, negative = sys.argv[1:]
pipe = WanPipeline.from_pretrained(folder, local_files_only=True)
pipe.set_progress_bar_config(disable=True)
def call(seed, n):
    t0 = time.perf_counter()
    pipe(prompt=prompt, negative_prompt=negative, width=int(width), height=int(height), num_frames=int(frames),
         num_inference_steps=n, guidance_scale=5.0, output_type="np",
         generator=torch.Generator("cpu").manual_seed(seed))
    return time.perf_counter() - t0
call(1000, 1)
print(json.dumps([call(seed, int(steps)) for seed in range(int(repeats))]))
"""


def bare_times(args, folder) -> list[float]:
    """diffusers alone, in a process with the user's environment as it is."""
    out = subprocess.run([sys.executable, "-c", BARE, str(folder), str(args.width), str(args.height),
                          str(args.frames), str(args.steps), str(args.repeats), PROMPT, NEGATIVE],
                         env=dict(os.environ), capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


async def measure(args, folder) -> tuple[list[float], list[float]]:
    """(bare, weft) timings: bare diffusers first, in its own process with the default
    environment, then Weft's warm worker. Run on a quiet machine."""
    from engines.client import EngineClient
    from nodes import project

    async def weft(client: EngineClient, seed: int, steps: int) -> float:
        g = t2v_graph(width=args.width, height=args.height, frames=args.frames, steps=steps, seed=seed,
                      prompt=PROMPT)
        g.set_param("t2v", "negative_prompt", NEGATIVE)
        t0 = time.perf_counter()
        async for event in client.run(project.to_dict(g), targets=["t2v"]):
            if event["event"] == "job_finished" and event["status"] != "ok":
                raise SystemExit(f"render failed: {event}")
        return time.perf_counter() - t0

    bare = bare_times(args, folder)
    weft_times = []
    async with EngineClient(models="tiny", cache_dir=fresh_cache_dir()) as client:
        await weft(client, 1000, 1)  # warm-up: the worker loads the model
        for seed in range(args.repeats):
            weft_times.append(await weft(client, seed, args.steps))  # a new seed: never a cache hit
    return bare, weft_times


def main() -> None:
    parser = argparse.ArgumentParser()
    # Sized so that one render takes over 5 s on a 2-core CPU.
    parser.add_argument("--width", type=int, default=480)
    parser.add_argument("--height", type=int, default=272)
    parser.add_argument("--frames", type=int, default=33)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from engines.models.manager import ModelManager
    folder = ModelManager(profile="tiny").ensure_tiny("wan2.1-t2v-1.3b")
    bare_times, weft_times = asyncio.run(measure(args, folder))
    ratio = statistics.median(weft_times) / statistics.median(bare_times)
    print(f"Text to Video, tiny Wan 2.1 architecture, {args.width}x{args.height}, {args.frames} frames, "
          f"{args.steps} steps, guidance 5 ({args.repeats} runs each)")
    print(f"  bare diffusers pipeline call : median {statistics.median(bare_times):6.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in bare_times)})")
    print(f"  weft render (warm worker)    : median {statistics.median(weft_times):6.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in weft_times)})")
    print(f"  ratio weft / bare (medians)  : {ratio:6.3f}  (target <= 1.05; bare diffusers in the "
          f"default environment, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')})")


if __name__ == "__main__":
    main()
