"""What a node's ``run()`` may ask of the runtime: the services on its run context.

The domain (nodes/) never imports the runtime (engines/): imports go one way,
app > engines > nodes, checked by import-linter (pyproject.toml). A node body
that reads a file, cuts a clip or renders with a model asks the context for it,
``ctx.edits.trim(video, 0, 24)``, and the engine hands every context the same
implementations: the modules engines/media, engines/streams, engines/edits,
engines/audio_ops, engines/video_models and engines/audio_models, which satisfy
these Protocols structurally (a module is a valid Protocol implementation).
tests/unit/test_layers.py checks every member here against its implementation,
name and parameters, so the two cannot drift apart.

Why services rather than moving node bodies into engines/: a node stays one
class in one file (its sockets, parameters, checks and what it does), which is
what a newcomer adding a node wants to read; only the work itself lives below.
InvokeAI's invocation context (``context.images.save``, ``context.models.load``)
is the same idea.

Only what node bodies use is declared here; add a member when a node needs one.
Rules that need no runtime (sizes, lengths, words, catalogue) are plain domain
modules instead: nodes/video_rules.py, sound_rules.py, sketch_words.py,
model_catalogue.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Protocol, Sequence

from nodes.values import Audio, Image, Video
from nodes.video_rules import VideoShape

if TYPE_CHECKING:  # numpy for annotations only: see nodes/values.py
    import numpy as np

    from nodes.definition import RunContext

PathLike = str | os.PathLike


class MediaFiles(Protocol):
    """Reading and writing single media files (engines/media)."""

    def read_image(self, path: PathLike) -> Image: ...

    def read_audio(self, path: PathLike) -> Audio: ...

    def write_image(self, path: PathLike, image: Image | np.ndarray, *, quality: int = 95,
                    provenance: str | None = None, overwrite: bool = True) -> None: ...

    def write_audio(self, path: PathLike, audio: Audio, *, provenance: str | None = None,
                    overwrite: bool = True) -> None: ...

    def write_video(self, path: PathLike, video: Video, *, quality: str = "high", provenance: str | None = None,
                    overwrite: bool = True) -> None: ...


class Streams(Protocol):
    """Clips and image sequences read and written frame by frame (engines/streams.py)."""

    def load_video(self, path: PathLike, *, start_frame: int = 0, max_frames: int | None = None) -> Video: ...

    def load_sequence(self, pattern: PathLike, fps: float, *, start_frame: int = 0,
                      max_frames: int | None = None) -> Video: ...

    def write_sequence(self, folder: PathLike, video: Video, *, stem: str = "frame", ext: str = ".png",
                       first_number: int = 1, provenance: str | None = None) -> list[Path]: ...


class Edits(Protocol):
    """Cutting, joining and adjusting clips, their sound kept in step (engines/edits.py)."""

    def trim(self, video: Video, start: int, end: int | None = None) -> Video: ...

    def concatenate(self, videos: Sequence[Video]) -> Video: ...

    def crossfade(self, a: Video, b: Video, seconds: float) -> Video: ...

    def change_fps(self, video: Video, fps: float) -> Video: ...

    def change_speed(self, video: Video, speed: float, *, audio: str = "tape") -> Video: ...

    def reverse(self, video: Video, *, reverse_audio: bool = True) -> Video: ...

    def reframe(self, video: Video, width: int, height: int, mode: str = "fit",
                pad_color: tuple[int, int, int] = (0, 0, 0)) -> Video: ...

    def color_adjust(self, video: Video, *, brightness: float = 0.0, contrast: float = 1.0,
                     saturation: float = 1.0, gamma: float = 1.0) -> Video: ...

    def track_for(self, video: Video) -> Audio: ...

    def frame_at(self, seconds: float, fps: float) -> int: ...

    def target_size(self, width: int, height: int, *, src_w: int, src_h: int, aspect: str = "keep",
                    mode: str = "fit") -> tuple[int, int]: ...


class AudioOps(Protocol):
    """Sound as samples: cut, fade, mix, resample (engines/audio_ops.py)."""

    def trim(self, audio: Audio, start: float = 0.0, end: float | None = None) -> Audio: ...

    def fade(self, audio: Audio, fade_in: float = 0.0, fade_out: float = 0.0, curve: str = "linear") -> Audio: ...

    def fit_length(self, audio: Audio, samples: int) -> Audio: ...

    def mix(self, tracks: Sequence[Audio], gains_db: Sequence[float] | None = None, *, length: str = "longest",
            overflow: str = "normalize", offsets: Sequence[float] | None = None) -> Audio: ...

    def resample(self, audio: Audio, rate: int) -> Audio: ...

    def to_channels(self, audio: Audio, channels: int) -> Audio: ...

    def seconds_to_samples(self, seconds: float, rate: int) -> int: ...


class VideoModels(Protocol):
    """Frames fitted to a model, and the model run (engines/video_models.py).

    ``render`` takes the run context itself: it loads the pipeline through it and
    reports progress and previews on it.
    """

    def render(self, ctx: RunContext, model_id: str, task: str, *, shape: VideoShape, prompt: str,
               negative_prompt: str, steps: int, guidance: float, shift: float | None, seed: int,
               strength: float = 1.0, reference_frames: int = 0, schedule: str = "default",
               **call: Any) -> np.ndarray: ...

    def fit_frames(self, frames: np.ndarray, width: int, height: int) -> np.ndarray: ...

    def resize_frames(self, frames: np.ndarray, width: int, height: int) -> np.ndarray: ...

    def fit_mask(self, values: np.ndarray, frames: int, width: int, height: int) -> np.ndarray: ...

    def pad_frames(self, frames: np.ndarray, count: int) -> np.ndarray: ...

    def soft_mask(self, mask: np.ndarray, feather: float) -> np.ndarray: ...

    def composite(self, original: np.ndarray, generated: np.ndarray, weight: np.ndarray) -> np.ndarray: ...

    def to_pil(self, frames: Iterable[np.ndarray]) -> list[Any]: ...

    def mask_to_pil(self, masks: np.ndarray) -> list[Any]: ...

    def reference_images(self, images: list[Image], width: int, height: int) -> list[Any]: ...

    def image_call(self, model_id: str, first: np.ndarray, last: np.ndarray | None = None,
                   last_index: int = 0) -> dict[str, Any]: ...

    def ltx_condition(self, *, image: Any = None, video: list[Any] | None = None, frame_index: int = 0,
                      strength: float = 1.0) -> Any: ...


class SoundModels(Protocol):
    """Sound made by a model, alone or with its picture (engines/audio_models.py)."""

    def generate_sound(self, ctx: RunContext, model_id: str, *, prompt: str, negative_prompt: str, seconds: float,
                       steps: int, guidance: float, seed: int, lyrics: str = "", bpm: int = 0,
                       keyscale: str = "") -> Audio: ...

    def generate_video_with_sound(self, ctx: RunContext, model_id: str, *, prompt: str, negative_prompt: str,
                                  width: int, height: int, frames: int, fps: float, steps: int, guidance: float,
                                  audio_guidance: float, stg: float, modality: float,
                                  seed: int) -> tuple[np.ndarray, Audio]: ...


# The services a run context carries, by attribute name (RunContext declares them).
SERVICES: dict[str, type] = {
    "media": MediaFiles, "streams": Streams, "edits": Edits, "audio": AudioOps,
    "video": VideoModels, "sound": SoundModels,
}
