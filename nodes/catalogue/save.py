"""Outputs: nodes that write files. `weft render` runs every one of them."""

from __future__ import annotations

from typing import Any

from nodes import types as T
from nodes.definition import Input, NodeType, Param, RunContext
from nodes.values import Audio, Image, Video

_NAME_HELP = ("File name without extension, inside the output folder. Empty: the project's name and "
              "this node's id. {project}, {node} and {seed} are filled in.")


class _Save(NodeType):
    category = "Output"
    is_output = True
    # Saving is cheap next to generating, and the file must exist after every
    # render even if the artist deleted it, so a save node always runs.
    cacheable = False

    filename = Param.text("", help=_NAME_HELP)


class SaveVideo(_Save):
    type_id = "save_video"
    title = "Save Video"
    description = "Writes a video file: MP4 (H.264, with AAC sound), MOV or WebM (VP9, Opus)."
    tags = ("export", "write", "mp4", "render")

    video = Input(T.VIDEO)
    format = Param.choice("mp4", ("mp4", "mov", "webm"),
                          help="mp4 and mov: H.264 picture, AAC sound (plays everywhere); webm: VP9 picture, Opus "
                               "sound (for the web). The frame rate is kept exactly; sound at 44.1 or 48 kHz is "
                               "kept, other rates are converted to 48 kHz.")
    quality = Param.choice("high", ("high", "medium", "low"),
                           help="high is visually lossless for generated footage; medium and low make smaller "
                                "files.")

    def run(self, ctx: RunContext, *, video: Video, filename: str, format: str, quality: str = "high",
            **_: Any) -> dict[str, Any]:
        from engines import media
        media.write_video(ctx.output_path(f"{filename or '{project}_{node}'}.{format}"), video, quality=quality)
        return {}


class SaveImageSequence(_Save):
    type_id = "save_image_sequence"
    title = "Save Image Sequence"
    description = "Writes every frame of a video as a numbered still: <name>/<name>_0001.png, ... (no sound)."
    tags = ("export", "frames", "png sequence", "stills")

    video = Input(T.VIDEO)
    format = Param.choice("png", ("png", "jpg", "webp"),
                          help="png is lossless; jpg and webp are smaller (quality 95).")
    first_number = Param.int(1, min=0, max=10_000_000, help="The number of the first frame's file.")

    def run(self, ctx: RunContext, *, video: Video, filename: str, format: str, first_number: int,
            **_: Any) -> dict[str, Any]:
        from engines import streams
        folder = ctx.output_path(filename or "{project}_{node}")
        streams.write_sequence(folder, video, stem=folder.name, ext=f".{format}", first_number=first_number)
        return {}


class SaveImage(_Save):
    type_id = "save_image"
    title = "Save Image"
    description = "Writes an image file: PNG, JPEG or WebP."
    tags = ("export", "write", "png", "still")

    image = Input(T.IMAGE)
    format = Param.choice("png", ("png", "jpg", "webp"), help="File format.")

    def run(self, ctx: RunContext, *, image: Image, filename: str, format: str, **_: Any) -> dict[str, Any]:
        from engines import media
        media.write_image(ctx.output_path(f"{filename or '{project}_{node}'}.{format}"), image)
        return {}


class SaveAudio(_Save):
    type_id = "save_audio"
    title = "Save Audio"
    description = "Writes a sound file: WAV (16-bit) or FLAC, at the sound's own sample rate and channels."
    tags = ("export", "write", "wav", "flac")

    audio = Input(T.AUDIO)
    format = Param.choice("wav", ("wav", "flac"), help="File format.")

    def run(self, ctx: RunContext, *, audio: Audio, filename: str, format: str, **_: Any) -> dict[str, Any]:
        from engines import media
        media.write_audio(ctx.output_path(f"{filename or '{project}_{node}'}.{format}"), audio)
        return {}
