"""Can this file be read as the media a node expects? Said before a render starts.

``media_problem(path, kind)`` is the engine's side of the domain's
``nodes.validation.MediaProbe``: validation asks it about every file a Load
node names, so a missing, truncated or wrong file is reported (node, parameter,
path, reason) before any model runs, not after. It opens the file and decodes
its first picture or sound, never the whole of it: under a second even for a
long clip.
"""

from __future__ import annotations

from pathlib import Path

from ._files import MediaError


def media_problem(path: Path, kind: str) -> str | None:
    """Why ``path`` cannot be read as ``kind`` ("image", "video", "audio", "image sequence"), or None."""
    # The readers (PyAV, OpenCV) are imported here, when a project names a file, not with
    # the module: a render that loads no media should not pay their import.
    from .images import read_image

    try:
        if kind == "image":
            read_image(path)
        elif kind == "image sequence":
            from nodes.sequences import sequence_files

            files = sequence_files(path)
            if not files:
                return f"{path} names no images (PNG, JPEG or WebP)"
            read_image(files[0])
        elif kind == "video":
            return _video_problem(path)
        elif kind == "audio":
            return _audio_problem(path)
        else:
            raise ValueError(f"unknown media kind {kind!r}")
    except (MediaError, FileNotFoundError) as exc:
        return str(exc)
    return None


def _video_problem(path: Path) -> str | None:
    import av

    from .audio import open_media
    from .video import footage_stream

    with open_media(path) as container:
        stream = footage_stream(container, path)  # MediaError: no footage (a still, cover art) or no video
        try:
            for _ in container.decode(stream):
                return None
        except av.FFmpegError as error:
            return f"{path}: the video stream could not be decoded ({error.strerror or error})"
    return f"{path}: the video stream holds no frames"


def _audio_problem(path: Path) -> str | None:
    import av

    from .audio import open_media

    with open_media(path) as container:
        if not container.streams.audio:
            return f"{path} has no sound (expected a sound file, or a video with a sound track)"
        try:
            for _ in container.decode(container.streams.audio[0]):
                return None
        except av.FFmpegError as error:
            return f"{path}: the sound could not be decoded ({error.strerror or error})"
    return f"{path}: the sound track is empty"
