"""The engine end to end on the tiny models: worker process, cache, media, events."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from engines import media
from engines.client import EngineClient
from nodes import project
from nodes.graph import Graph

pytestmark = pytest.mark.slow


def t2v_graph(*, steps=2, frames=9, width=64, height=48, with_sound=False, seconds=None) -> Graph:
    g = Graph()
    g.add_node("text", {"text": "a lighthouse in a storm"}, node_id="prompt")
    g.add_node("text_to_video", {"width": width, "height": height, "frames": frames, "steps": steps,
                                 "fps": 16.0}, node_id="t2v")
    g.add_node("save_video", {"filename": "clip"}, node_id="save")
    g.connect("prompt", "out", "t2v", "prompt")
    if with_sound:
        g.add_node("text", {"text": "waves crashing, wind"}, node_id="sound_prompt")
        g.add_node("text_to_audio", {"seconds": seconds or 1.0, "steps": 2}, node_id="t2a")
        g.add_node("add_audio_to_video", node_id="mux")
        g.connect("sound_prompt", "out", "t2a", "prompt")
        g.connect("t2v", "video", "mux", "video")
        g.connect("t2a", "audio", "mux", "audio")
        g.connect("mux", "out", "save", "video")
    else:
        g.connect("t2v", "video", "save", "video")
    return g


async def collect(client: EngineClient, graph: Graph, out: Path, **kw) -> list[dict]:
    return [e async for e in client.run(project.to_dict(graph), output_dir=out, **kw)]


def by_node(events, kind="node_finished"):
    return {e["node"]: e for e in events if e["event"] == kind}


def test_text_to_video_with_sound_renders_an_mp4_whose_audio_matches(engine_env, tmp_path):
    async def go():
        async with EngineClient(models="tiny", env=engine_env) as client:
            return await collect(client, t2v_graph(with_sound=True, seconds=3.0), tmp_path)

    events = asyncio.run(go())
    done = events[-1]
    assert done["event"] == "job_finished" and done["status"] == "ok", events[-3:]
    info = media.probe(tmp_path / "clip.mp4")
    assert (info.frames, info.width, info.height, info.fps) == (9, 64, 48, 16.0)
    assert info.has_audio and info.audio_codec == "aac"
    # Add Audio to Video fits the 3 s of sound to the 9/16 s of picture.
    assert info.audio_seconds == pytest.approx(9 / 16, abs=0.03)
    stats = by_node(events)["t2v"]["stats"]
    assert stats["nfe"] == 2 * 2  # 2 steps, guided: conditional + unconditional
    assert stats["peak_memory_bytes"] > 10 * 2**20 and stats["seconds"] > 0
    assert by_node(events)["save"]["outputs"] == [str((tmp_path / "clip.mp4").resolve())]


def test_changing_a_downstream_parameter_leaves_upstream_cached(engine_env, tmp_path):
    async def go():
        async with EngineClient(models="tiny", env=engine_env) as client:
            first = await collect(client, t2v_graph(with_sound=True), tmp_path)
            g = t2v_graph(with_sound=True)
            g.set_param("mux", "gain", -6.0)
            second = await collect(client, g, tmp_path)
            return first, second

    first, second = asyncio.run(go())
    assert not any(e["cached"] for e in by_node(first).values())
    cached = {n: e["cached"] for n, e in by_node(second).items()}
    assert cached == {"prompt": True, "sound_prompt": True, "t2v": True, "t2a": True, "mux": False,
                      "save": False}


def test_cancel_during_denoising_returns_within_a_second(engine_env, tmp_path):
    async def go():
        async with EngineClient(models="tiny", env=engine_env) as client:
            job = await client.submit(project.to_dict(t2v_graph(steps=200)), output_dir=tmp_path)
            asked = None
            async for event in client.events(job):
                if event["event"] == "progress" and event["step"] == 3 and asked is None:
                    await client.cancel(job)
                    asked = time.perf_counter()
                if event["event"] == "job_finished":
                    return event, time.perf_counter() - asked

    finished, waited = asyncio.run(go())
    assert finished["status"] == "cancelled"
    assert waited < 1.0
    assert not list(tmp_path.glob("*.mp4"))


def test_a_killed_worker_is_reported_and_replaced(engine_env, tmp_path):
    async def go():
        async with EngineClient(models="tiny", env=engine_env) as client:
            job = await client.submit(project.to_dict(t2v_graph(steps=200)), output_dir=tmp_path)
            events = []
            async for event in client.events(job):
                events.append(event)
                if event["event"] == "progress" and event["step"] == 2:
                    first_pid = client.pid
                    client.kill()
            # The next run starts a new worker and succeeds.
            again = await collect(client, t2v_graph(), tmp_path)
            return events, first_pid, client.pid, again

    events, first_pid, second_pid, again = asyncio.run(go())
    failed = by_node(events, "node_failed")["t2v"]
    assert failed["kind"] == "worker_died"
    assert "killed by SIGKILL" in failed["error"] and "t2v" in failed["error"]
    assert events[-1]["status"] == "failed"
    assert second_pid != first_pid
    assert again[-1]["status"] == "ok"


def test_a_render_failure_names_the_node_and_independent_branches_finish(engine_env, tmp_path):
    g = t2v_graph()
    g.add_node("load_image", {"path": "nowhere.png"}, node_id="photo")
    g.add_node("save_image", node_id="still")
    g.connect("photo", "image", "still", "image")

    async def go():
        async with EngineClient(models="tiny", env=engine_env) as client:
            return await collect(client, g, tmp_path, project_dir=tmp_path)

    events = asyncio.run(go())
    assert events[-1]["status"] == "failed"
    assert "no such file" in events[-1]["failed"]["photo"] and "nowhere.png" in events[-1]["failed"]["photo"]
    assert (tmp_path / "clip.mp4").exists()
