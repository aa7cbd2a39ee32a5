"""The result cache: every node's outputs, under a key made of what produced them.

Two tiers. Results are written once to a content-addressed folder on disk
(``<root>/<key[:2]>/<key>/``), so they survive the worker, a crash and the
next session, and the GUI and the command line can read them by path. A
memory tier keeps the most recently used results as Python objects up to a
byte budget; what falls out of it is reloaded from disk (memory-mapped, so a
large video costs nothing until it is read).

Values are stored as ``.npy`` arrays plus a small JSON manifest: no pickles,
so a cache folder can never run code. A video's frames are written a frame at
a time (a disk-backed clip, or a reversed view of one, is never copied whole
into memory), and a result whose frames are on disk is not kept in the memory
tier: reloading it maps the cached file, and its scratch file can go.

The cache's folder also holds the worker's scratch files (``<root>/scratch``:
the frames of loaded clips, engines/media/disk_frames.py): it is the disk set
aside for Weft's big data.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from cachetools import LRUCache

from engines.media import disk_frames
from nodes.values import Audio, Image, Mask, Video

MANIFEST = "outputs.json"


def cache_key(parts: dict[str, Any]) -> str:
    """A stable hash of a JSON-able description of how a result was made."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def value_nbytes(value: Any) -> int:
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    if isinstance(value, str):
        return len(value.encode())
    return 64


# -- (de)serialising values -----------------------------------------------------
def _save_value(folder: Path, name: str, value: Any) -> dict[str, Any]:
    def arr(suffix: str, array: np.ndarray) -> str:
        file = f"{name}{suffix}.npy"
        np.save(folder / file, np.ascontiguousarray(array), allow_pickle=False)
        return file

    if isinstance(value, Video):
        entry: dict[str, Any] = {"kind": "Video", "frames": _save_frames(folder, name, value.frames),
                                 "fps": value.fps,
                                 "width": value.width, "height": value.height, "count": value.num_frames}
        if value.audio is not None:
            entry["audio"] = arr(".audio", value.audio.samples)
            entry["rate"] = value.audio.rate
        return entry
    if isinstance(value, Image):
        return {"kind": "Image", "pixels": arr("", value.pixels), "width": value.width, "height": value.height}
    if isinstance(value, Mask):
        return {"kind": "Mask", "values": arr("", value.values)}
    if isinstance(value, Audio):
        return {"kind": "Audio", "samples": arr("", value.samples), "rate": value.rate,
                "seconds": value.seconds}
    if isinstance(value, (str, bool, int, float)) or value is None:
        return {"kind": "scalar", "value": value}
    raise TypeError(f"cannot cache a value of type {type(value).__name__}")


def _save_frames(folder: Path, name: str, frames: np.ndarray) -> str:
    """``frames`` as ``<name>.npy``, written a frame at a time: the same file
    np.save writes, without the whole-clip copy np.ascontiguousarray makes of
    a view that is not contiguous (a reversed clip), and releasing the pages
    of a disk-backed clip as they are read."""
    file = f"{name}.npy"
    header = {"descr": np.lib.format.dtype_to_descr(frames.dtype), "fortran_order": False,
              "shape": tuple(frames.shape)}
    with open(folder / file, "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        for frame in disk_frames.iter_frames(frames):
            f.write(np.ascontiguousarray(frame).data)
    return file


def _load_value(folder: Path, entry: dict[str, Any]) -> Any:
    def arr(file: str) -> np.ndarray:
        return np.load(folder / file, mmap_mode="r", allow_pickle=False)

    kind = entry["kind"]
    if kind == "Video":
        audio = Audio(np.asarray(arr(entry["audio"])), entry["rate"]) if "audio" in entry else None
        return Video(arr(entry["frames"]), entry["fps"], audio)
    if kind == "Image":
        return Image(arr(entry["pixels"]))
    if kind == "Mask":
        return Mask(np.asarray(arr(entry["values"])))
    if kind == "Audio":
        return Audio(np.asarray(arr(entry["samples"])), entry["rate"])
    if kind == "scalar":
        return entry["value"]
    raise ValueError(f"unknown cached kind {kind!r}")


_FILE_KEYS = ("frames", "pixels", "values", "samples", "audio")


def store_for_viewer(folder: Path, name: str, value: Any) -> dict[str, Any]:
    """Writes ``value`` into ``folder`` as the cache writes a result and says what an event
    would say about it (for a file read outside a run: a batch job's output)."""
    folder.mkdir(parents=True, exist_ok=True)
    return describe_result(folder, _save_value(folder, name, value))


def describe_result(folder: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """What an event says about one output: its kind, its shape, and its files
    (``.npy`` arrays a viewer can memory-map)."""
    out = {k: v for k, v in entry.items() if k not in _FILE_KEYS}
    files = {k: str(folder / entry[k]) for k in _FILE_KEYS if k in entry}
    if files:
        out["files"] = files
    return out


class ResultCache:
    def __init__(self, root: Path, memory_budget: int = 2 << 30, disk_budget: int | None = None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        disk_frames.use_folder(self.root / "scratch")
        self.memory_budget = memory_budget
        self.disk_budget = disk_budget
        # The memory tier: the newest results, least recently used out first, within
        # memory_budget bytes (cachetools counts each entry's bytes with getsizeof).
        self._memory: LRUCache[str, tuple[dict[str, Any], int]] = LRUCache(
            maxsize=max(1, memory_budget), getsizeof=lambda entry: entry[1])
        self._lock = threading.Lock()

    def folder(self, key: str) -> Path:
        return self.root / key[:2] / key

    def contains(self, key: str) -> bool:
        with self._lock:
            if key in self._memory:
                return True
        return (self.folder(key) / MANIFEST).is_file()

    def manifest(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads((self.folder(key) / MANIFEST).read_text())
        except (OSError, ValueError):
            return None

    def describe(self, key: str) -> dict[str, Any]:
        manifest = self.manifest(key) or {}
        folder = self.folder(key)
        return {name: describe_result(folder, entry) for name, entry in manifest.get("outputs", {}).items()}

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            hit = self._memory.get(key)  # a hit is the most recently used from now on
            if hit is not None:
                return hit[0]
        manifest = self.manifest(key)
        if manifest is None:
            return None
        folder = self.folder(key)
        try:
            values = {name: _load_value(folder, entry) for name, entry in manifest["outputs"].items()}
        except (OSError, ValueError, KeyError):
            # A damaged entry (disk full, killed mid-prune): treat it as a miss.
            shutil.rmtree(folder, ignore_errors=True)
            return None
        _touch(folder / MANIFEST)
        return values

    def put(self, key: str, values: dict[str, Any], info: dict[str, Any] | None = None) -> None:
        folder = self.folder(key)
        if not (folder / MANIFEST).is_file():
            folder.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=folder.parent))
            try:
                outputs = {name: _save_value(tmp, name, value) for name, value in values.items()}
                (tmp / MANIFEST).write_text(json.dumps({"outputs": outputs, "info": info or {},
                                                        "created": time.time()}))
                try:
                    os.replace(tmp, folder)
                except OSError:
                    # Another worker stored the same result first: same key, same content.
                    shutil.rmtree(tmp, ignore_errors=True)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        self._remember(key, values)

    def _remember(self, key: str, values: dict[str, Any]) -> None:
        if any(isinstance(v, Video) and disk_frames.is_disk_backed(v.frames) for v in values.values()):
            return  # costs no memory to reload (mapped from the cache's file); keeping it would keep its scratch file
        size = sum(value_nbytes(v) for v in values.values())
        with self._lock:
            if key in self._memory:
                self._memory.get(key)  # now the most recently used
                return
            if size > self.memory_budget:
                return  # on disk only: it would push everything else out
            self._memory[key] = (values, size)

    @property
    def memory_bytes(self) -> int:
        return int(self._memory.currsize)

    def in_memory(self, key: str) -> bool:
        with self._lock:
            return key in self._memory

    def forget_memory(self) -> None:
        with self._lock:
            self._memory.clear()

    def disk_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.root.rglob("*") if f.is_file())

    def prune(self, max_bytes: int | None = None) -> int:
        """Delete least recently used entries until the disk tier fits; returns bytes freed."""
        limit = self.disk_budget if max_bytes is None else max_bytes
        if limit is None:
            return 0
        entries = []
        for manifest in self.root.glob("*/*/" + MANIFEST):
            folder = manifest.parent
            size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
            entries.append((manifest.stat().st_mtime, size, folder))
        total = sum(e[1] for e in entries)
        freed = 0
        for _, size, folder in sorted(entries):
            if total - freed <= limit:
                break
            with self._lock:
                self._memory.pop(folder.name, None)
            shutil.rmtree(folder, ignore_errors=True)
            freed += size
        return freed


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass
