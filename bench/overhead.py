"""What Weft adds on top of diffusers for one Text to Video node.

Times the same tiny-architecture Wan pipeline (random weights, the real code
path) called directly and rendered by Weft (graph -> worker process ->
executor -> cache), both warm (model resident), with a fresh seed per run so
Weft's cache never answers. Prints the ratio Weft / bare. Target: <= 1.05.

    .venv/bin/python bench/overhead.py [--width 480 --height 272 --frames 33 --steps 30 --repeats 5]

Both sides run with the thread settings the engine worker uses
(OMP_WAIT_POLICY=PASSIVE, OPENBLAS_NUM_THREADS=1; see engines/client.py), so
the ratio measures what Weft adds, not a difference in thread policy.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import os

# Before torch or numpy load: the same thread settings as the worker's.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from _common import fresh_cache_dir, t2v_graph  # noqa: E402

PROMPT = "a lighthouse on a cliff in a storm, waves crashing"
NEGATIVE = "blurry"


async def measure(args, folder) -> tuple[list[float], list[float]]:
    """Pairs of (bare, weft) timings, taken one right after the other so that a
    busy machine slows both sides of a pair alike."""
    import torch
    from diffusers import WanPipeline

    from engines.client import EngineClient
    from nodes import project

    pipe = WanPipeline.from_pretrained(folder, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)

    def bare(seed: int, steps: int) -> float:
        t0 = time.perf_counter()
        pipe(prompt=PROMPT, negative_prompt=NEGATIVE, width=args.width, height=args.height, num_frames=args.frames,
             num_inference_steps=steps, guidance_scale=5.0, output_type="np",
             generator=torch.Generator("cpu").manual_seed(seed))
        return time.perf_counter() - t0

    async def weft(client: EngineClient, seed: int, steps: int) -> float:
        g = t2v_graph(width=args.width, height=args.height, frames=args.frames, steps=steps, seed=seed,
                      prompt=PROMPT)
        g.set_param("t2v", "negative_prompt", NEGATIVE)
        t0 = time.perf_counter()
        async for event in client.run(project.to_dict(g), targets=["t2v"]):
            if event["event"] == "job_finished" and event["status"] != "ok":
                raise SystemExit(f"render failed: {event}")
        return time.perf_counter() - t0

    bare_times, weft_times = [], []
    async with EngineClient(models="tiny", cache_dir=fresh_cache_dir()) as client:
        bare(1000, 1)  # warm-up: first call allocates, and the worker loads the model
        await weft(client, 1000, 1)
        for seed in range(args.repeats):
            bare_times.append(bare(seed, args.steps))
            weft_times.append(await weft(client, seed, args.steps))  # a new seed: never a cache hit
    return bare_times, weft_times


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
    ratios = [w / b for b, w in zip(bare_times, weft_times)]
    print(f"Text to Video, tiny Wan 2.1 architecture, {args.width}x{args.height}, {args.frames} frames, "
          f"{args.steps} steps, guidance 5 ({args.repeats} pairs)")
    print(f"  bare diffusers pipeline call : median {statistics.median(bare_times):6.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in bare_times)})")
    print(f"  weft render (warm worker)    : median {statistics.median(weft_times):6.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in weft_times)})")
    print(f"  ratio weft / bare, per pair  : median {statistics.median(ratios):6.3f}  "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f}; target <= 1.05)")


if __name__ == "__main__":
    main()
