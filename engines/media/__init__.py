"""Reading and writing the media that flows along links: video, sound,
images and masks, as the numpy values in ``nodes.values``.

Torch-free and Qt-free, so the engine, the command line and tests can all use
it. PyAV handles all video and audio; OpenCV (with Pillow as a fallback)
handles still images. Every writer is atomic: the file appears complete at
its path or not at all.
"""

from ._files import MediaError
from .audio import AUDIO_FORMATS, read_audio, write_audio
from .images import BACKGROUND, IMAGE_FORMATS, preview_jpeg, read_image, read_mask, write_image, write_mask
from .video import (
    QUALITIES,
    VIDEO_FORMATS,
    MediaInfo,
    VideoWriter,
    exact_rate,
    iter_video_frames,
    probe,
    read_video,
    write_video,
)

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
