"""How long a second render takes after changing only a downstream parameter.

Renders assets/examples/video_with_sound.weft on the tiny models with an empty
cache, then changes Add Audio to Video's gain and renders again with the same
worker. Prints the second render's time as a fraction of the first.
Target: <= 0.05.

    .venv/bin/python bench/rerender.py
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from _common import ROOT, fresh_cache_dir


async def main() -> None:
    from engines.client import EngineClient
    from nodes import project

    example = ROOT / "assets" / "examples" / "video_with_sound.weft"
    loaded = project.load(example)
    out = Path(tempfile.mkdtemp(prefix="weft-bench-out-"))
    times, cached = [], []
    async with EngineClient(models="tiny", cache_dir=fresh_cache_dir()) as client:
        # Load the models once so that the first render is not charged for it.
        await client.ping()
        for gain in (0.0, -6.0):
            loaded.graph.set_param("mux", "gain", gain)
            t0 = time.perf_counter()
            reused = []
            async for event in client.run(project.to_dict(loaded.graph), output_dir=out,
                                          project_dir=example.parent, project_name="video_with_sound"):
                if event["event"] == "node_finished" and event["cached"]:
                    reused.append(event["node"])
                if event["event"] == "job_finished" and event["status"] != "ok":
                    raise SystemExit(f"render failed: {event}")
            times.append(time.perf_counter() - t0)
            cached.append(reused)
    print(f"video_with_sound.weft on the tiny models (the first render includes loading the models)")
    print(f"  first render                 : {times[0]:7.2f} s")
    print(f"  after changing mux.gain      : {times[1]:7.2f} s   (from cache: {', '.join(cached[1])})")
    print(f"  fraction                     : {times[1] / times[0]:7.3f}   (target <= 0.05)")


if __name__ == "__main__":
    asyncio.run(main())
