"""Reading and writing the media that flows along links: video, sound,
images and masks, as the numpy values in ``nodes.values``.

Torch-free and Qt-free, so the engine, the command line and tests can all use
it. PyAV handles all video and audio; OpenCV (with Pillow as a fallback)
handles still images. Every writer is atomic: the file appears complete at
its path or not at all.
"""

from __future__ import annotations

import importlib

from ._files import MediaError

# Where each public name lives. The readers and writers are imported on first use
# (PEP 562), not here: PyAV and OpenCV take a fifth of a second to import, and the
# command line imports this package (its submodules) on every `weft render`, even one
# that reads no file at all.
_HOMES = {
    "AUDIO_FORMATS": "audio", "read_audio": "audio", "write_audio": "audio",
    "BACKGROUND": "images", "IMAGE_FORMATS": "images", "preview_jpeg": "images", "read_image": "images",
    "read_mask": "images", "write_image": "images", "write_mask": "images",
    "QUALITIES": "video", "VIDEO_FORMATS": "video", "MediaInfo": "video", "VideoWriter": "video",
    "exact_rate": "video", "iter_video_frames": "video", "probe": "video", "read_video": "video",
    "write_video": "video",
}


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value  # found once, then an ordinary module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


__all__ = [
    "AUDIO_FORMATS",
    "BACKGROUND",
    "IMAGE_FORMATS",
    "QUALITIES",
    "VIDEO_FORMATS",
    "MediaError",
    "MediaInfo",
    "VideoWriter",
    "exact_rate",
    "iter_video_frames",
    "preview_jpeg",
    "probe",
    "read_audio",
    "read_image",
    "read_mask",
    "read_video",
    "write_audio",
    "write_image",
    "write_mask",
    "write_video",
]
