"""Loaded clips live on disk (engines/media/disk_frames.py): Load Video, the
model-free edits, the result cache and Save Video never hold a whole clip in
the process's memory, and what they write is what the in-memory path wrote."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from engines import edits, media, streams
from engines.cache import ResultCache
from engines.executor import Executor, Job
from engines.media import disk_frames
from nodes.graph import Graph
from nodes.values import Audio, Video

ROOT = Path(__file__).resolve().parents[2]


def _clip(path: Path, n: int = 30, size=(64, 48), fps: float = 24.0, sound: bool = True) -> Path:
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    frames = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        frames[i, ..., 0] = (x * 4 + i * 8) % 256
        frames[i, ..., 1] = (y * 4) % 256
        frames[i, ..., 2] = i * 5 % 256
    audio = None
    if sound:
        t = np.arange(int(n / fps * 48000)) / 48000
        audio = Audio(np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)]).astype(np.float32),
                      48000)
    media.write_video(path, Video(frames, fps, audio))
    return path


def test_a_loaded_clip_is_on_disk_and_decodes_as_in_memory(tmp_path):
    path = _clip(tmp_path / "clip.mp4")
    loaded = streams.load_video(path)
    assert disk_frames.is_disk_backed(loaded.frames)
    assert not loaded.frames.flags.writeable  # read-only: no edit may change a clip in place
    in_memory = media.read_video(path)
    assert not disk_frames.is_disk_backed(in_memory.frames)
    np.testing.assert_array_equal(loaded.frames, in_memory.frames)
    assert loaded.audio.num_samples == in_memory.audio.num_samples

    part = streams.load_video(path, start_frame=5, max_frames=10)
    np.testing.assert_array_equal(part.frames, in_memory.frames[5:15])
    assert disk_frames.is_disk_backed(part.frames)


def test_an_image_sequence_loads_onto_disk_too(tmp_path):
    loaded = streams.load_video(_clip(tmp_path / "clip.mp4", n=6))
    streams.write_sequence(tmp_path / "seq", loaded)
    again = streams.load_sequence(tmp_path / "seq", 24.0)
    assert disk_frames.is_disk_backed(again.frames)
    np.testing.assert_array_equal(again.frames, loaded.frames)


@pytest.fixture
def encoded(monkeypatch) -> list[np.ndarray]:
    """Every frame handed to the encoder (VideoWriter.write), copied."""
    frames: list[np.ndarray] = []
    write = media.VideoWriter.write

    def recording(self, pixels):
        frames.append(np.array(pixels))
        write(self, pixels)

    monkeypatch.setattr(media.VideoWriter, "write", recording)
    return frames


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def test_save_video_from_a_disk_backed_clip_encodes_the_same_frames(tmp_path, encoded):
    path = _clip(tmp_path / "clip.mp4")
    encoded.clear()  # the clip's own frames
    loaded = streams.load_video(path)
    copied = Video(np.array(loaded.frames), loaded.fps, loaded.audio)  # the old design: frames in RAM
    media.write_video(tmp_path / "from_disk.mp4", loaded)
    from_disk = encoded[:]
    encoded.clear()
    media.write_video(tmp_path / "from_ram.mp4", copied)
    # The encoder is handed exactly the frames it was handed from RAM, in order.
    assert len(from_disk) == len(encoded) == 30
    for a, b in zip(from_disk, encoded):
        np.testing.assert_array_equal(a, b)
    # The files are compared as pictures: x264 may take other decisions for the same
    # input from one run to the next (tests/sketch/test_sketch_examples.py saw it in CI).
    a, b = media.read_video(tmp_path / "from_disk.mp4"), media.read_video(tmp_path / "from_ram.mp4")
    assert a.num_frames == b.num_frames == 30 and a.fps == b.fps == 24.0
    assert _psnr(a.frames, b.frames) > 35
    assert a.audio.num_samples == b.audio.num_samples


def test_load_then_save_through_the_executor(tmp_path, encoded):
    path = _clip(tmp_path / "clip.mp4")
    encoded.clear()
    graph = Graph()
    graph.add_node("load_video", {"path": str(path)}, node_id="load")
    graph.add_node("save_video", {"filename": "saved", "format": "mp4"}, node_id="save")
    graph.connect("load", "video", "save", "video")
    events: list[dict] = []
    cache = ResultCache(tmp_path / "cache")
    result = Executor(cache, None, events.append, "tiny").run(
        Job(id="j", graph=graph, output_dir=tmp_path / "out", project_dir=tmp_path))
    assert result["status"] == "ok", result
    expected = media.read_video(path).frames
    np.testing.assert_array_equal(np.stack(encoded), expected)  # what Save Video encoded: the file's frames
    saved = media.read_video(tmp_path / "out" / "saved.mp4")
    assert saved.num_frames == 30 and _psnr(saved.frames, expected) > 35
    # The cache wrote the frames a frame at a time as a plain .npy, and keeps the
    # disk-backed result out of its memory tier (its scratch file can go).
    loaded = next(e for e in events if e.get("node") == "load" and e["event"] == "node_finished")
    np.testing.assert_array_equal(np.load(loaded["results"]["video"]["files"]["frames"]), expected)
    assert not cache.in_memory(loaded["key"])


EDITS = {
    "trim": lambda v: edits.trim(v, 3, 20),
    "change_fps down": lambda v: edits.change_fps(v, 10),
    "change_fps up": lambda v: edits.change_fps(v, 50),
    "change_fps same": lambda v: edits.change_fps(v, 24),
    "change_speed": lambda v: edits.change_speed(v, 1.5),
    "reverse": lambda v: edits.reverse(v),
    "concatenate": lambda v: edits.concatenate([v, v]),
    "crossfade": lambda v: edits.crossfade(v, v, 0.25),
    "reframe": lambda v: edits.reframe(v, 40, 40, "fit"),
    "color_adjust": lambda v: edits.color_adjust(v, brightness=0.1, saturation=0.5),
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_edits_keep_a_disk_backed_clip_on_disk_with_the_same_result(tmp_path, name):
    loaded = streams.load_video(_clip(tmp_path / "clip.mp4"))
    in_memory = Video(np.array(loaded.frames), loaded.fps, loaded.audio)
    edit = EDITS[name]
    on_disk, in_ram = edit(loaded), edit(in_memory)
    assert disk_frames.is_disk_backed(on_disk.frames)
    assert not disk_frames.is_disk_backed(in_ram.frames)
    np.testing.assert_array_equal(on_disk.frames, in_ram.frames)
    assert on_disk.fps == in_ram.fps
    if name in ("trim", "change_fps same"):  # a run of frames: a view, nothing copied
        assert np.shares_memory(on_disk.frames, loaded.frames)


def test_the_cache_writes_a_reversed_view_without_copying_it_whole(tmp_path):
    loaded = streams.load_video(_clip(tmp_path / "clip.mp4"))
    view = Video(loaded.frames[::-1], loaded.fps)
    cache = ResultCache(tmp_path / "cache")
    cache.put("k" * 40, {"video": view})
    got = cache.get("k" * 40)["video"]
    assert disk_frames.is_disk_backed(got.frames)
    np.testing.assert_array_equal(got.frames, loaded.frames[::-1])


_CHILD = textwrap.dedent("""
    import json, sys, threading
    from pathlib import Path
    from engines.cache import ResultCache
    from engines.executor import Executor, Job
    from nodes.graph import Graph

    def anon():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) * 1024 for l in f if l.startswith("RssAnon:"))

    clip, out = Path(sys.argv[1]), Path(sys.argv[2])
    graph = Graph()
    graph.add_node("load_video", {"path": str(clip)}, node_id="load")
    graph.add_node("save_video", {"filename": "saved", "format": "mp4", "quality": "low"}, node_id="save")
    graph.connect("load", "video", "save", "video")
    executor = Executor(ResultCache(out / "cache"), None, None, "tiny")
    base, peak, stop = anon(), [0], threading.Event()
    def sample():
        while not stop.wait(0.005):
            peak[0] = max(peak[0], anon())
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    status = executor.run(Job(id="j", graph=graph, output_dir=out, project_dir=out))["status"]
    stop.set(); thread.join()
    print(json.dumps({"status": status, "growth": max(peak[0], anon()) - base}))
""")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RssAnon from Linux's /proc")
def test_load_then_save_of_a_long_clip_keeps_private_memory_far_below_the_clip(tmp_path):
    """100 s of small frames: 105 MB as one array in RAM (the old design).
    The encoder's look-ahead and the decoder hold a few dozen small frames, so
    the process's anonymous memory grows by a fraction of that."""
    n, size = 2400, (160, 96)
    clip = _long_clip(tmp_path / "long.mp4", n, size)
    in_ram = n * size[0] * size[1] * 3
    run = subprocess.run([sys.executable, "-c", _CHILD, str(clip), str(tmp_path / "out")], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["status"] == "ok"
    assert media.probe(tmp_path / "out" / "saved.mp4").frames == n
    assert report["growth"] < in_ram / 3, (report, in_ram)


def _long_clip(path: Path, n: int, size) -> Path:
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    with media.VideoWriter(path, 24, quality="low") as writer:
        for i in range(n):
            frame = np.empty((h, w, 3), np.uint8)
            frame[..., 0] = (x + 3 * i) % 256
            frame[..., 1] = (y + i) % 256
            frame[..., 2] = i % 256
            writer.write(frame)
    return path
