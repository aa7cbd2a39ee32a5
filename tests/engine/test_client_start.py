"""Several jobs submitted at once (the studio's run count) start one worker, not one each."""

from __future__ import annotations

import asyncio

from engines.client import EngineClient


def test_concurrent_starts_share_one_worker(tmp_path):
    client = EngineClient(models="tiny", cache_dir=tmp_path / "cache")
    spawned = []

    class Proc:
        returncode = None

    async def spawn():
        spawned.append(1)
        await asyncio.sleep(0.05)  # a worker takes a while to spawn: the others wait meanwhile
        client._proc = Proc()

    client._start = spawn
    async def four_jobs_at_once():
        await asyncio.wait_for(asyncio.gather(*(client.start() for _ in range(4))), 5)

    asyncio.run(four_jobs_at_once())
    assert len(spawned) == 1 and client.alive
