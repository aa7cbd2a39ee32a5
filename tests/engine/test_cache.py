"""The result cache on its own: what comes back from disk, where it lives, and what a disk budget drops."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from engines.cache import ResultCache, store_for_viewer
from nodes.values import Audio, Image, Mask, Video

RNG = np.random.default_rng(7)


def sound(channels=2, samples=800, rate=16000) -> Audio:
    return Audio(RNG.uniform(-1, 1, (channels, samples)).astype(np.float32), rate)


def clip(frames=3, audio=None) -> Video:
    return Video(RNG.integers(0, 256, (frames, 8, 12, 3), dtype=np.uint8), 12.5, audio)


def from_disk(tmp_path, values):
    """Stored by one cache, read back by another on the same folder (a new session: nothing in memory)."""
    ResultCache(tmp_path).put("k" * 40, values)
    fresh = ResultCache(tmp_path)
    assert not fresh.in_memory("k" * 40)
    return fresh.get("k" * 40)


def test_a_video_comes_back_from_disk_with_its_sound(tmp_path):
    original = clip(audio=sound())
    (back,) = from_disk(tmp_path, {"video": original}).values()
    assert np.array_equal(back.frames, original.frames) and back.fps == 12.5
    assert back.audio is not None and back.audio.rate == 16000
    assert np.array_equal(back.audio.samples, original.audio.samples)


def test_a_silent_video_comes_back_silent(tmp_path):
    original = clip()
    (back,) = from_disk(tmp_path, {"video": original}).values()
    assert np.array_equal(back.frames, original.frames) and back.audio is None


def test_images_masks_and_sounds_come_back_from_disk(tmp_path):
    image = Image(RNG.integers(0, 256, (6, 10, 3), dtype=np.uint8))
    mask = Mask(RNG.uniform(0, 1, (6, 10)))
    audio = sound(channels=1, rate=22050)
    back = from_disk(tmp_path, {"image": image, "mask": mask, "audio": audio})
    assert np.array_equal(back["image"].pixels, image.pixels)
    assert np.array_equal(back["mask"].values, mask.values)
    assert isinstance(back["audio"], Audio) and back["audio"].rate == 22050
    assert np.array_equal(back["audio"].samples, audio.samples)


def test_text_numbers_switches_and_nothing_come_back_from_disk(tmp_path):
    values = {"prompt": "a fox in the snow", "seed": 1234, "strength": 0.75, "loop": True, "none": None}
    assert from_disk(tmp_path, values) == values


def test_a_value_it_cannot_store_is_refused_by_name(tmp_path):
    cache = ResultCache(tmp_path)
    with pytest.raises(TypeError, match="cannot cache a value of type dict"):
        cache.put("k" * 40, {"out": {"not": "a value"}})
    assert not cache.contains("k" * 40)


def test_the_cache_folder_is_made_where_there_is_none_yet(tmp_path):
    # A first start on a fresh machine: ~/.cache/weft/results and its parents do not exist.
    root = tmp_path / "home" / ".cache" / "weft" / "results"
    ResultCache(root).put("k" * 40, {"prompt": "a fox"})
    assert ResultCache(root).get("k" * 40) == {"prompt": "a fox"}


def aged(cache: ResultCache, key: str, seconds: float) -> None:
    """As if the entry was last used ``seconds`` ago."""
    stamp = time.time() - seconds
    os.utime(cache.folder(key) / "outputs.json", (stamp, stamp))


def test_a_disk_budget_drops_the_least_recently_used_results_first(tmp_path):
    cache = ResultCache(tmp_path)
    for n, key in enumerate(("a" * 40, "b" * 40, "c" * 40)):
        cache.put(key, {"image": Image(np.full((100, 100, 3), n, np.uint8))})  # 30 kB of pixels each
    aged(cache, "a" * 40, 300)
    aged(cache, "b" * 40, 200)
    aged(cache, "c" * 40, 100)
    cache.forget_memory()
    cache.get("a" * 40)  # the oldest, used again just now
    b_bytes = sum(f.stat().st_size for f in cache.folder("b" * 40).iterdir())
    total = cache.disk_bytes()
    freed = cache.prune(max_bytes=total - b_bytes // 2)  # room for two of the three
    assert freed == b_bytes
    assert [cache.contains(k * 40) for k in "abc"] == [True, False, True]
    assert cache.disk_bytes() == total - b_bytes
    assert cache.prune(max_bytes=total) == 0  # fits already: nothing more goes


def test_what_the_disk_budget_drops_is_gone_from_memory_too(tmp_path):
    cache = ResultCache(tmp_path, memory_budget=1 << 20)
    cache.put("a" * 40, {"image": Image(np.zeros((100, 100, 3), np.uint8))})
    cache.put("b" * 40, {"image": Image(np.ones((100, 100, 3), np.uint8))})
    aged(cache, "a" * 40, 100)
    assert cache.memory_bytes == 60_000
    cache.prune(max_bytes=cache.disk_bytes() - 1)  # one has to go: the older
    assert cache.get("a" * 40) is None and not cache.contains("a" * 40)
    assert cache.memory_bytes == 30_000
    assert cache.get("b" * 40)["image"].pixels.max() == 1


def test_the_memory_tier_keeps_what_was_used_last_within_its_byte_budget(tmp_path):
    cache = ResultCache(tmp_path, memory_budget=70_000)  # two 30 000-byte images fit, not three
    for k, v in zip("abc", (0, 1, 2)):
        if k == "c":
            cache.get("a" * 40)  # a was just looked at: b is now the least recently used
        cache.put(k * 40, {"image": Image(np.full((100, 100, 3), v, np.uint8))})
    assert [cache.in_memory(k * 40) for k in "abc"] == [True, False, True]
    assert cache.memory_bytes == 60_000
    assert cache.get("b" * 40)["image"].pixels.max() == 1  # still on disk
    big = ResultCache(tmp_path / "big", memory_budget=20_000)
    big.put("d" * 40, {"image": Image(np.zeros((100, 100, 3), np.uint8))})  # larger than the whole tier
    assert not big.in_memory("d" * 40) and big.memory_bytes == 0 and big.contains("d" * 40)


def test_without_a_disk_budget_nothing_is_pruned(tmp_path):
    cache = ResultCache(tmp_path)
    cache.put("a" * 40, {"prompt": "a fox"})
    assert cache.prune() == 0 and cache.contains("a" * 40)
    assert ResultCache(tmp_path, disk_budget=0).prune() > 0
    assert not ResultCache(tmp_path).contains("a" * 40)


def test_a_file_stored_for_the_viewer_is_described_with_files_it_can_map(tmp_path):
    # As the history panel plays a rendered file: decoded once into a folder of its own under
    # the data folder, which may not exist yet on a fresh machine.
    folder = tmp_path / "data" / "played" / "0123abcd"
    video = clip(frames=4, audio=sound())
    described = store_for_viewer(folder, "video", video)
    assert {k: described[k] for k in ("kind", "fps", "width", "height", "count", "rate")} == {
        "kind": "Video", "fps": 12.5, "width": 12, "height": 8, "count": 4, "rate": 16000}
    assert np.array_equal(np.load(described["files"]["frames"], mmap_mode="r"), video.frames)
    assert np.array_equal(np.load(described["files"]["audio"], mmap_mode="r"), video.audio.samples)
    # Its description lost (a damaged results.json): the same folder is written again.
    again = store_for_viewer(folder, "video", video)
    assert again == described
