"""Inputs: prompts and media loaded from disk."""

from __future__ import annotations

import os
from typing import Any

from nodes import types as T
from nodes.definition import NodeError, NodeType, Output, Param, RunContext
from nodes.sequences import sequence_files
from nodes.values import MediaError


class Text(NodeType):
    type_id = "text"
    title = "Text"
    category = "Input"
    description = "A prompt or any other words, to feed one or more nodes."
    tags = ("prompt", "string")

    text = Param.text("", multiline=True, help="The words this node gives out.")
    out = Output(T.TEXT, label="Text", help="The text above.")

    @classmethod
    def static_output(cls, params: dict[str, Any], socket: str) -> Any:
        return params.get("text") if socket == "out" else None

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
            return [("path", f"choose {'an' if cls.kind[0] in 'aeiou' else 'a'} {cls.kind} file")]
        return []

    @classmethod
    def cache_salt(cls, params: dict[str, Any], resolve_path) -> str:
        return file_salt(resolve_path(str(params.get("path", ""))))

    @classmethod
    def input_files(cls, params: dict[str, Any]) -> list[tuple[str, str, str]]:
        path = str(params.get("path", "")).strip()
        return [("path", path, cls.kind)] if path else []

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
        try:
            return {"image": ctx.media.read_image(self._resolve(ctx, path))}
        except MediaError as exc:
            raise NodeError(f"parameter 'path': {exc}") from None


class LoadVideo(_LoadFile):
    type_id = "load_video"
    title = "Load Video"
    description = "A video from disk (MP4, MOV, WebM, ...), with its sound if it has any."
    tags = ("clip", "movie", "mp4")
    kind = "video"

    path = Param.file("video", help="The video file (MP4, MOV, WebM, MKV, ...). Relative paths are relative to "
                                    "the project file.")
    max_frames = Param.int(0, min=0, max=100000, help="Read at most this many frames (0: all).")
    start_frame = Param.int(0, min=0, max=10_000_000,
                            help="The first frame to read (0: the first). The sound is cut to the frames read.")
    video = Output(T.VIDEO, help="At the file's own frame rate; its sound as in the file, cut to the frames read.")
    audio = Output(T.AUDIO, help="The video's sound track under the frames read (silence if it has none).")

    def run(self, ctx: RunContext, *, path: str, max_frames: int, start_frame: int = 0,
            **_: Any) -> dict[str, Any]:
        # Streamed onto disk: the frames are a read-only array mapped from a scratch
        # file, so memory does not grow with the clip (engines/streams.py states the bound).
        resolved = self._resolve(ctx, path)
        try:
            video = ctx.streams.load_video(resolved, start_frame=start_frame, max_frames=max_frames or None)
        except MediaError as exc:
            raise NodeError(f"parameter 'path': {exc}") from None
        except ValueError as exc:
            raise NodeError(f"parameter 'start_frame': {exc}") from None
        return {"video": video, "audio": ctx.edits.track_for(video)}


class LoadImageSequence(_LoadFile):
    type_id = "load_image_sequence"
    title = "Load Image Sequence"
    description = "Numbered stills (PNG, JPEG, WebP) played as a video: a folder of them, or a file pattern."
    tags = ("frames", "png sequence", "exr", "stills", "folder")
    kind = "image sequence"

    path = Param.file("folder", help="A folder (every PNG/JPEG/WebP in it, in natural order: 2 before 10), a "
                                     "pattern with the frame number as %04d (shot_%04d.png) or a glob "
                                     "(shot_*.png). Relative paths are relative to the project file.")
    fps = Param.float(24.0, min=1.0, max=240.0, help="Frames per second to play the stills at.")
    start_frame = Param.int(0, min=0, max=10_000_000, help="Skip this many images at the start.")
    max_frames = Param.int(0, min=0, max=100000, help="Read at most this many images (0: all).")
    video = Output(T.VIDEO, help="Silent; every image must be the size of the first.")

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[tuple[str, str]]:
        if not str(params.get("path", "")).strip():
            return [("path", "choose a folder of images or a pattern like frames/shot_%04d.png")]
        return []

    @classmethod
    def cache_salt(cls, params: dict[str, Any], resolve_path) -> str:
        try:
            files = sequence_files(resolve_path(str(params.get("path", ""))))
        except OSError:
            return "missing"
        return ";".join(f"{f.name}:{file_salt(f)}" for f in files)

    def run(self, ctx: RunContext, *, path: str, fps: float, start_frame: int, max_frames: int,
            **_: Any) -> dict[str, Any]:
        try:
            video = ctx.streams.load_sequence(ctx.resolve_path(path), fps, start_frame=start_frame,
                                          max_frames=max_frames or None)
        except (MediaError, FileNotFoundError) as exc:
            raise NodeError(f"parameter 'path': {exc}") from None
        except ValueError as exc:
            raise NodeError(f"parameter 'start_frame': {exc}") from None
        return {"video": video}


class LoadAudio(_LoadFile):
    type_id = "load_audio"
    title = "Load Audio"
    description = "Sound from disk (WAV, FLAC, MP3, ...), or the sound track of a video file."
    tags = ("sound", "wav", "music")
    kind = "audio"

    path = Param.file("audio", help="The sound file. Relative paths are relative to the project file.")
    audio = Output(T.AUDIO)

    def run(self, ctx: RunContext, *, path: str, **_: Any) -> dict[str, Any]:
        try:
            return {"audio": ctx.media.read_audio(self._resolve(ctx, path))}
        except MediaError as exc:
            raise NodeError(f"parameter 'path': {exc}") from None
