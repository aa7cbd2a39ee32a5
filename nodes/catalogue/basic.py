"""Inputs: prompts and media loaded from disk."""

from __future__ import annotations

import os
from typing import Any

from nodes import types as T
from nodes.definition import Input, NodeError, NodeType, Output, Param, RunContext


class Text(NodeType):
    type_id = "text"
    title = "Text"
    category = "Input"
    description = "A prompt or any other words, to feed one or more nodes."
    tags = ("prompt", "string")

    text = Param.text("", multiline=True, help="The words this node gives out.")
    out = Output(T.TEXT, label="Text", help="The text above.")

    def run(self, ctx: RunContext, *, text: str, **_: Any) -> dict[str, Any]:
        return {"out": text}


def file_salt(path: str | os.PathLike) -> str:
    """What a loaded file's result depends on besides its name: size and time
    of last change, so editing the file on disk invalidates the cache."""
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    return f"{st.st_size}:{st.st_mtime_ns}"


class _LoadFile(NodeType):
    category = "Input"
    cacheable = True
    kind = ""

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[tuple[str, str]]:
        if not str(params.get("path", "")).strip():
            return [("path", f"choose a {cls.kind} file")]
        return []

    @classmethod
    def cache_salt(cls, params: dict[str, Any], resolve_path) -> str:
        return file_salt(resolve_path(str(params.get("path", ""))))

    def _resolve(self, ctx: RunContext, path: str) -> str:
        resolved = ctx.resolve_path(path)
        if not os.path.exists(resolved):
            raise NodeError(f"parameter 'path': no such file: {resolved}")
        return str(resolved)


class LoadImage(_LoadFile):
    type_id = "load_image"
    title = "Load Image"
    description = "An image from disk (PNG, JPEG, WebP, ...)."
    tags = ("picture", "photo", "png", "jpeg")
    kind = "image"

    path = Param.file("image", help="The image file. Relative paths are relative to the project file.")
    image = Output(T.IMAGE)

    def run(self, ctx: RunContext, *, path: str, **_: Any) -> dict[str, Any]:
        from engines import media
        return {"image": media.read_image(self._resolve(ctx, path))}


class LoadVideo(_LoadFile):
    type_id = "load_video"
    title = "Load Video"
    description = "A video from disk (MP4, MOV, WebM, ...), with its sound if it has any."
    tags = ("clip", "movie", "mp4")
    kind = "video"

    path = Param.file("video", help="The video file. Relative paths are relative to the project file.")
    max_frames = Param.int(0, min=0, max=100000, help="Read at most this many frames (0: all).")
    video = Output(T.VIDEO)
    audio = Output(T.AUDIO, help="The video's sound track (silence if it has none).")

    def run(self, ctx: RunContext, *, path: str, max_frames: int, **_: Any) -> dict[str, Any]:
        from engines import media
        from nodes.values import Audio
        import numpy as np
        video = media.read_video(self._resolve(ctx, path), max_frames=max_frames or None)
        audio = video.audio or Audio(np.zeros((2, int(round(video.seconds * 48000))), np.float32), 48000)
        return {"video": video, "audio": audio}


class LoadAudio(_LoadFile):
    type_id = "load_audio"
    title = "Load Audio"
    description = "Sound from disk (WAV, FLAC, MP3, ...), or the sound track of a video file."
    tags = ("sound", "wav", "music")
    kind = "audio"

    path = Param.file("audio", help="The sound file. Relative paths are relative to the project file.")
    audio = Output(T.AUDIO)

    def run(self, ctx: RunContext, *, path: str, **_: Any) -> dict[str, Any]:
        from engines import media
        return {"audio": media.read_audio(self._resolve(ctx, path))}
