"""The media values that flow along links: Video, Image, Mask and Audio.

They are plain numpy containers so that every layer (engine, command line,
tests) can use them without torch or Qt. Conventions, fixed once for the whole
project so that no node has to guess:

- pixels are ``uint8`` RGB, shape ``(height, width, 3)`` for an image and
  ``(frames, height, width, 3)`` for a video;
- a mask is ``float32`` in ``[0, 1]``, ``1`` meaning "this region", shape
  ``(height, width)`` for a still mask or ``(frames, height, width)`` per frame;
- audio is ``float32`` in ``[-1, 1]``, shape ``(channels, samples)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from nodes import types as T
from nodes.types import DataType

# numpy is imported where a value is made, not with the module: the command line reads
# projects through this package and would otherwise pay numpy's import on every `weft render`.
if TYPE_CHECKING:
    import numpy as np


@dataclass(eq=False)
class Audio:
    data_type: ClassVar[DataType] = T.AUDIO
    samples: np.ndarray
    rate: int

    def __post_init__(self) -> None:
        import numpy as np

        samples = np.asarray(self.samples, dtype=np.float32)
        if samples.ndim == 1:
            samples = samples[None, :]
        if samples.ndim != 2:
            raise ValueError(f"audio samples must be (channels, samples), got shape {samples.shape}")
        if self.rate <= 0:
            raise ValueError(f"audio sample rate must be positive, got {self.rate}")
        self.samples = samples
        self.rate = int(self.rate)

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def num_samples(self) -> int:
        return int(self.samples.shape[1])

    @property
    def seconds(self) -> float:
        return self.num_samples / self.rate

    @property
    def nbytes(self) -> int:
        return int(self.samples.nbytes)


@dataclass(eq=False)
class Image:
    data_type: ClassVar[DataType] = T.IMAGE
    pixels: np.ndarray

    def __post_init__(self) -> None:
        import numpy as np

        pixels = np.asarray(self.pixels)
        if pixels.ndim == 2:
            pixels = np.repeat(pixels[:, :, None], 3, axis=2)
        if pixels.ndim != 3 or pixels.shape[2] != 3:
            raise ValueError(f"image pixels must be (height, width, 3), got shape {pixels.shape}")
        if pixels.dtype != np.uint8:
            raise ValueError(f"image pixels must be uint8, got {pixels.dtype}")
        self.pixels = pixels

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def nbytes(self) -> int:
        return int(self.pixels.nbytes)


@dataclass(eq=False)
class Mask:
    data_type: ClassVar[DataType] = T.MASK
    values: np.ndarray

    def __post_init__(self) -> None:
        import numpy as np

        values = np.asarray(self.values, dtype=np.float32)
        if values.ndim not in (2, 3):
            raise ValueError(f"mask must be (height, width) or (frames, height, width), got shape {values.shape}")
        self.values = np.clip(values, 0.0, 1.0)

    @property
    def per_frame(self) -> bool:
        return self.values.ndim == 3

    @property
    def width(self) -> int:
        return int(self.values.shape[-1])

    @property
    def height(self) -> int:
        return int(self.values.shape[-2])

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes)


@dataclass(eq=False)
class Video:
    data_type: ClassVar[DataType] = T.VIDEO
    frames: np.ndarray
    fps: float
    audio: Audio | None = field(default=None)

    def __post_init__(self) -> None:
        import numpy as np

        frames = np.asarray(self.frames)
        if frames.ndim != 4 or frames.shape[3] != 3:
            raise ValueError(f"video frames must be (frames, height, width, 3), got shape {frames.shape}")
        if frames.dtype != np.uint8:
            raise ValueError(f"video frames must be uint8, got {frames.dtype}")
        if not self.fps or self.fps <= 0:
            raise ValueError(f"video fps must be positive, got {self.fps}")
        self.frames = frames
        self.fps = float(self.fps)

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def width(self) -> int:
        return int(self.frames.shape[2])

    @property
    def height(self) -> int:
        return int(self.frames.shape[1])

    @property
    def seconds(self) -> float:
        return self.num_frames / self.fps

    @property
    def nbytes(self) -> int:
        return int(self.frames.nbytes) + (self.audio.nbytes if self.audio is not None else 0)

    def with_audio(self, audio: Audio | None) -> "Video":
        return Video(self.frames, self.fps, audio)


class MediaError(ValueError):
    """A file exists but is not the media that was expected, or an output path
    asks for a format Weft does not write.

    Raised by the runtime's readers and writers, caught by node bodies (the domain) to
    name the node and parameter. A ``ValueError`` so that callers validating user input can catch both bad
    values and bad files with one clause.
    """
