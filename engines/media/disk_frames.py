"""Video frames kept on disk instead of in the process's memory.

A loaded clip's frames, and what the model-free edits make from them, are a
read-only ``uint8 (frames, height, width, 3)`` numpy array mapped from a file
in the scratch folder. Every numpy operation works on it; the pages a reader
touches come from the page cache, which the kernel can drop at any time, so
the process's private memory does not grow with the clip's length.

- **Written with file writes, one frame at a time** (:class:`FrameFile`), never
  through a writable mapping: the frames go to the page cache, not into the
  process's resident set.
- **Read through a read-only shared mapping.** Readers that walk a whole clip
  (an encoder, the result cache) use :func:`iter_frames`, which tells the
  kernel every few frames that the pages read so far may leave this process
  (``MADV_DONTNEED``; harmless on a read-only shared mapping: a page read
  again comes back from the page cache or the file), so even the resident
  size stays at a few frames.
- **No file to clean up.** The file is a ``tempfile.TemporaryFile``: unnamed on
  POSIX, delete-on-close on Windows. It lasts while any array viewing it
  does, and its disk space is freed when the last one goes.

The scratch folder is, in order: ``WEFT_SCRATCH_DIR``; the folder given to
:func:`use_folder` (the worker's result cache puts it beside its results, on
the disk set aside for Weft's big data); the system's temporary folder, last
because on many Linux systems it is a RAM disk (tmpfs), where a "file" is
memory again.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

# How many bytes of a mapped clip a reader may hold resident before they are released.
RELEASE_BYTES = 32 << 20

_folder: Path | None = None


def use_folder(path: str | os.PathLike | None) -> None:
    """Put scratch files in ``path`` (None: back to the default)."""
    global _folder
    _folder = Path(path) if path is not None else None


def folder() -> Path:
    env = os.environ.get("WEFT_SCRATCH_DIR")
    chosen = Path(env) if env else (_folder or Path(tempfile.gettempdir()) / "weft-scratch")
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen


def _mapping(array: np.ndarray) -> np.memmap | None:
    """The read-only np.memmap ``array`` views, if any."""
    a = array
    while isinstance(a, np.ndarray):
        if isinstance(a, np.memmap) and getattr(a, "_mmap", None) is not None:
            return a if a.mode == "r" else None
        a = a.base
    return None


def is_disk_backed(array: np.ndarray) -> bool:
    """True when ``array`` is a view of a read-only file mapping (a scratch
    file here, or a result the cache memory-maps)."""
    return _mapping(array) is not None


def release(array: np.ndarray) -> None:
    """Let the pages of ``array``'s read-only mapping leave this process's
    resident set (they stay in the page cache). A no-op for arrays in memory."""
    mapped = _mapping(array)
    if mapped is None or not hasattr(mmap, "MADV_DONTNEED"):
        return
    try:
        mapped._mmap.madvise(mmap.MADV_DONTNEED)
    except (OSError, ValueError):  # closed, or a platform that refuses: only an optimisation
        pass


def iter_frames(frames: np.ndarray, order: Iterable[int] | None = None) -> Iterator[np.ndarray]:
    """The frames of ``frames`` one at a time: in order, or the indices in
    ``order``. For a disk-backed clip the pages read are released every
    :data:`RELEASE_BYTES`, so walking a clip of any length keeps only a few
    frames resident."""
    indices = range(frames.shape[0]) if order is None else order
    if not is_disk_backed(frames):
        for i in indices:
            yield frames[i]
        return
    per_frame = max(1, int(np.prod(frames.shape[1:])) * frames.dtype.itemsize)
    every = max(1, RELEASE_BYTES // per_frame)
    for n, i in enumerate(indices, start=1):
        yield frames[i]
        if n % every == 0:
            release(frames)
    release(frames)


class FrameFile:
    """Frames appended one at a time to a scratch file, then mapped read-only.

    ::

        out = FrameFile(height, width)
        for frame in frames:
            out.append(frame)
        pixels = out.finish()   # read-only uint8 (n, height, width, 3), disk-backed
    """

    def __init__(self, height: int, width: int):
        self.shape = (int(height), int(width), 3)
        self.count = 0
        self._file = tempfile.TemporaryFile(prefix="frames-", dir=folder())

    def append(self, frame: np.ndarray) -> None:
        frame = np.asarray(frame)
        if frame.shape != self.shape or frame.dtype != np.uint8:
            raise ValueError(f"frame {self.count} is {frame.dtype} {frame.shape}, expected uint8 {self.shape}")
        self._file.write(np.ascontiguousarray(frame).data)
        self.count += 1

    def extend(self, frames: Iterable[np.ndarray]) -> "FrameFile":
        for frame in frames:
            self.append(frame)
        return self

    def finish(self) -> np.ndarray:
        """The frames written, as a read-only array mapped from the file."""
        try:
            if self.count == 0:
                return np.zeros((0, *self.shape), np.uint8)
            self._file.flush()
            # The mapping keeps its own handle: the file lives as long as the array.
            mapped = np.memmap(self._file, dtype=np.uint8, mode="r", shape=(self.count, *self.shape))
            return np.asarray(mapped)
        finally:
            self._file.close()

    def discard(self) -> None:
        self._file.close()


def collect(frames: Iterable[np.ndarray], count: int, height: int, width: int, *, on_disk: bool) -> np.ndarray:
    """``count`` frames from ``frames`` as one array: disk-backed (a
    :class:`FrameFile`) when ``on_disk``, else in memory, allocated once."""
    if on_disk:
        out = FrameFile(height, width)
        try:
            return out.extend(frames).finish()
        except BaseException:
            out.discard()
            raise
    pixels = np.empty((count, height, width, 3), np.uint8)
    for i, frame in enumerate(frames):
        pixels[i] = frame
    return pixels
