"""Cached results as pictures and sound, with bounded memory.

The engine leaves each result as ``.npy`` arrays in its cache folder. The
viewer memory-maps them (nothing is read until a frame is shown), turns one
frame at a time into a ``QImage`` (a few recent ones are kept), reduces a
sound to a fixed-size min/max envelope for drawing, and streams samples to
the sound card from the map. A ten-minute video costs a few frames of memory.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
from PySide6.QtCore import QIODevice
from PySide6.QtGui import QImage

ENVELOPE_BUCKETS = 2048
_CHUNK_SAMPLES = 1 << 20


def load_array(path: str | Path) -> np.ndarray:
    """A cached array, memory-mapped (never unpickled)."""
    return np.load(str(path), mmap_mode="r", allow_pickle=False)


def rgb_qimage(pixels: np.ndarray) -> QImage:
    """An (H, W, 3) uint8 array as a QImage that owns its memory."""
    pixels = np.ascontiguousarray(pixels)
    if pixels.ndim == 2:
        return gray_qimage(pixels)
    if pixels.dtype != np.uint8:
        pixels = np.clip(pixels, 0, 255).astype(np.uint8)
    height, width = pixels.shape[:2]
    if pixels.shape[2] == 4:
        image = QImage(pixels.data, width, height, width * 4, QImage.Format_RGBA8888)
    else:
        image = QImage(pixels.data, width, height, width * 3, QImage.Format_RGB888)
    return image.copy()  # detach from the numpy buffer (or the map)


def gray_qimage(values: np.ndarray) -> QImage:
    """A 2-D array as greyscale: uint8 as it is, floats as 0..1 (a mask)."""
    values = np.asarray(values)
    if values.dtype != np.uint8:
        values = (np.clip(values.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    values = np.ascontiguousarray(values)
    height, width = values.shape
    return QImage(values.data, width, height, width, QImage.Format_Grayscale8).copy()


class FrameSource:
    """Frames of a video (T, H, W, 3), a per-frame mask (T, H, W) or one picture,
    as QImages made on demand, with the most recent few kept."""

    def __init__(self, array: np.ndarray, *, mask: bool = False, keep: int = 8):
        self.array = array
        self.mask = mask
        still_ndim = 2 if mask else 3
        self.still = array.ndim == still_ndim
        self.keep = keep
        self._recent: OrderedDict[int, QImage] = OrderedDict()

    @property
    def count(self) -> int:
        return 1 if self.still else int(self.array.shape[0])

    @property
    def width(self) -> int:
        return int(self.array.shape[-1] if self.mask else self.array.shape[-2])

    @property
    def height(self) -> int:
        return int(self.array.shape[-2] if self.mask else self.array.shape[-3])

    def image(self, index: int) -> QImage:
        index = max(0, min(int(index), self.count - 1))
        hit = self._recent.get(index)
        if hit is not None:
            self._recent.move_to_end(index)
            return hit
        frame = self.array if self.still else self.array[index]
        image = gray_qimage(frame) if self.mask else rgb_qimage(frame)
        self._recent[index] = image
        while len(self._recent) > self.keep:
            self._recent.popitem(last=False)
        return image

    def cached_frames(self) -> int:
        return len(self._recent)


def as_channels(samples: np.ndarray) -> np.ndarray:
    """Samples as (channels, n), whatever way round they came."""
    if samples.ndim == 1:
        return samples[None, :]
    if samples.ndim == 2 and samples.shape[0] > 8 and samples.shape[1] <= 8:
        return samples.T  # (n, channels)
    return samples


def envelope(samples: np.ndarray, buckets: int = ENVELOPE_BUCKETS) -> tuple[np.ndarray, np.ndarray]:
    """Per channel, the min and max of each of ``buckets`` equal slices: (C, B) each.

    Reads the (memory-mapped) samples in chunks, so a long sound never has to
    fit in memory twice.
    """
    samples = as_channels(samples)
    channels, n = samples.shape
    if n == 0:
        zeros = np.zeros((channels, 1), np.float32)
        return zeros, zeros
    buckets = max(1, min(buckets, n))
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    mins = np.empty((channels, buckets), np.float32)
    maxs = np.empty((channels, buckets), np.float32)
    b = 0
    while b < buckets:
        # As many whole buckets as fit in a chunk (at least one).
        end_b = b + 1
        while end_b < buckets and edges[end_b + 1] - edges[b] <= _CHUNK_SAMPLES:
            end_b += 1
        chunk = np.asarray(samples[:, edges[b]:edges[end_b]], dtype=np.float32)
        starts = edges[b:end_b] - edges[b]
        mins[:, b:end_b] = np.minimum.reduceat(chunk, starts, axis=1)
        maxs[:, b:end_b] = np.maximum.reduceat(chunk, starts, axis=1)
        b = end_b
    return np.clip(mins, -1.0, 1.0), np.clip(maxs, -1.0, 1.0)


class SampleStream(QIODevice):
    """Float samples (C, N), memory-mapped, read out as 16-bit interleaved PCM
    for an audio sink; at most stereo. Reads only what the sink asks for."""

    def __init__(self, samples: np.ndarray, rate: int, parent=None):
        super().__init__(parent)
        self.samples = as_channels(samples)
        self.rate = int(rate)
        self.channels = min(2, int(self.samples.shape[0]))
        self.position = 0  # in sample frames

    @property
    def bytes_per_frame(self) -> int:
        return 2 * self.channels

    def seek_seconds(self, seconds: float) -> None:
        self.position = max(0, min(int(seconds * self.rate), self.samples.shape[1]))

    def remaining_frames(self) -> int:
        return max(0, self.samples.shape[1] - self.position)

    def isSequential(self) -> bool:  # noqa: N802
        return True

    def bytesAvailable(self) -> int:  # noqa: N802
        return self.remaining_frames() * self.bytes_per_frame + super().bytesAvailable()

    def readData(self, maxlen: int) -> bytes:  # noqa: N802
        frames = min(self.remaining_frames(), max(0, int(maxlen)) // self.bytes_per_frame)
        if frames <= 0:
            return b""
        chunk = np.asarray(self.samples[:self.channels, self.position:self.position + frames], dtype=np.float32)
        self.position += frames
        pcm = (np.clip(chunk.T, -1.0, 1.0) * 32767.0).astype("<i2")
        return pcm.tobytes()

    def writeData(self, data) -> int:  # noqa: N802
        return -1


class SoundOutput:
    """Plays samples through Qt Multimedia when this Qt has it.

    PySide6-Essentials ships without Qt Multimedia (it is in PySide6-Addons);
    then ``available`` is False and ``reason`` says why, in words for the viewer.
    """

    def __init__(self):
        self.available = False
        self.reason = ""
        self._sink = None
        self._stream: SampleStream | None = None
        try:
            from PySide6 import QtMultimedia  # noqa: F401
        except ModuleNotFoundError:
            self.reason = ("Sound playback is unavailable: this Qt has no Qt Multimedia "
                           "(install PySide6-Addons). The waveform shows the sound.")
            return
        except ImportError as exc:  # installed, but a system library is missing (libpulse on Linux)
            self.reason = (f"Sound playback is unavailable: Qt Multimedia cannot load ({exc}). "
                           "The waveform shows the sound.")
            return
        try:
            from PySide6.QtMultimedia import QMediaDevices
            if QMediaDevices.defaultAudioOutput().isNull():
                self.reason = "Sound playback is unavailable: no sound output device was found."
                return
        except Exception as exc:  # a broken multimedia backend must not break the viewer
            self.reason = f"Sound playback is unavailable: {exc}"
            return
        self.available = True

    def play(self, samples: np.ndarray, rate: int, start_seconds: float = 0.0) -> None:
        if not self.available:
            return
        from PySide6.QtMultimedia import QAudioFormat, QAudioSink, QMediaDevices

        self.stop()
        stream = SampleStream(samples, rate)
        stream.seek_seconds(start_seconds)
        stream.open(QIODevice.ReadOnly)
        try:
            fmt = QAudioFormat()
            fmt.setSampleRate(stream.rate)
            fmt.setChannelCount(stream.channels)
            fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
            sink = QAudioSink(QMediaDevices.defaultAudioOutput(), fmt)
            sink.start(stream)
        except Exception as exc:  # a sink that cannot start must never break the viewer
            stream.close()
            self.available = False
            self.reason = f"Sound playback failed: {exc}"
            return
        self._sink, self._stream = sink, stream

    def stop(self) -> None:
        if self._sink is not None:
            self._sink.stop()
            self._sink.deleteLater()
            self._sink = None
        if self._stream is not None:
            self._stream.close()
            self._stream = None


__all__ = [
    "FrameSource", "SampleStream", "SoundOutput", "envelope", "gray_qimage", "load_array", "rgb_qimage",
]
