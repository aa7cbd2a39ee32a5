"""Outputs: nodes that write files. `weft render` runs every one of them."""

from __future__ import annotations

from typing import Any

from nodes import filenames
from nodes import types as T
from nodes.definition import Input, NodeType, Param, RunContext
from nodes.values import Audio, Image, Video

_NAME_HELP = ("File name without extension, inside the output folder (it may start with folders: "
              "shots/{project}). Empty: {project}_{node}. {project}, {node}, {seed} and {version} are filled "
              "in. Every render writes a new file: {version} is the render's number (0001, 0002, ...: one more "
              "than the highest already in the folder under this name); a name without {version} is used as "
              "written the first time, then _0002, _0003 ... is added. Nothing earlier is replaced unless "
              "Overwrite is on.")
_OVERWRITE_HELP = ("Replace the file of the last render instead of writing a new one (the name as written; with "
                   "{version}, the highest number in the folder).")


def _provenance(ctx: RunContext) -> str | None:
    # A context without it (a bare test harness) saves files without their project.
    provenance = getattr(ctx, "provenance", None)
    return provenance() if callable(provenance) else None


class _Save(NodeType):
    category = "Output"
    is_output = True
    # Saving is cheap next to generating, and the file must exist after every
    # render even if the artist deleted it, so a save node always runs.
    cacheable = False
    # 2: versioned names (a new file each render) and the overwrite switch.
    version = 2

    filename = Param.text("", help=_NAME_HELP)
    overwrite = Param.bool(False, help=_OVERWRITE_HELP)

    @classmethod
    def migrate(cls, params: dict[str, Any], from_version: int) -> dict[str, Any]:
        """Version 1 replaced its file on every render; version 2 keeps every render.
        Old projects get the new behaviour (overwrite off): nothing is lost by it."""
        if from_version == 1:
            return {**params, "overwrite": False}
        return super().migrate(params, from_version)

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[tuple[str, str]]:
        pattern = params.get("filename")
        problem = filenames.pattern_problem(pattern) if isinstance(pattern, str) else None
        return [("filename", problem)] if problem else []

    @classmethod
    def output_name(cls, params: dict[str, Any]) -> tuple[str, str] | None:
        pattern = params.get("filename")
        fmt = params.get("format")
        return (pattern if isinstance(pattern, str) and pattern else filenames.DEFAULT_PATTERN,
                f".{fmt}" if isinstance(fmt, str) and fmt else "")


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
            overwrite: bool = False, **_: Any) -> dict[str, Any]:
        ctx.media.write_video(ctx.output_path(filename or filenames.DEFAULT_PATTERN, ext=f".{format}"), video,
                          quality=quality, provenance=_provenance(ctx), overwrite=overwrite)
        return {}


class SaveImageSequence(_Save):
    type_id = "save_image_sequence"
    title = "Save Image Sequence"
    description = ("Writes every frame of a video as a numbered still: <name>/<name>_0001.png, ... (no sound). "
                   "Each render gets its own folder, named as the Save nodes name files.")
    tags = ("export", "frames", "png sequence", "stills")

    video = Input(T.VIDEO)
    format = Param.choice("png", ("png", "jpg", "webp"),
                          help="png is lossless; jpg and webp are smaller (quality 95).")
    first_number = Param.int(1, min=0, max=10_000_000, help="The number of the first frame's file.")

    @classmethod
    def output_name(cls, params: dict[str, Any]) -> tuple[str, str] | None:
        named = super().output_name(params)
        return (named[0], "") if named else None  # a folder of frames

    def run(self, ctx: RunContext, *, video: Video, filename: str, format: str, first_number: int,
            overwrite: bool = False, **_: Any) -> dict[str, Any]:
        folder = ctx.output_path(filename or filenames.DEFAULT_PATTERN)
        ctx.streams.write_sequence(folder, video, stem=folder.name, ext=f".{format}", first_number=first_number,
                               provenance=_provenance(ctx))
        return {}


class SaveImage(_Save):
    type_id = "save_image"
    title = "Save Image"
    description = "Writes an image file: PNG, JPEG or WebP."
    tags = ("export", "write", "png", "still")

    image = Input(T.IMAGE)
    format = Param.choice("png", ("png", "jpg", "webp"), help="File format.")

    def run(self, ctx: RunContext, *, image: Image, filename: str, format: str, overwrite: bool = False,
            **_: Any) -> dict[str, Any]:
        ctx.media.write_image(ctx.output_path(filename or filenames.DEFAULT_PATTERN, ext=f".{format}"), image,
                          provenance=_provenance(ctx), overwrite=overwrite)
        return {}


class SaveAudio(_Save):
    type_id = "save_audio"
    title = "Save Audio"
    description = "Writes a sound file: WAV (16-bit) or FLAC, at the sound's own sample rate and channels."
    tags = ("export", "write", "wav", "flac")

    audio = Input(T.AUDIO)
    format = Param.choice("wav", ("wav", "flac"), help="File format.")

    def run(self, ctx: RunContext, *, audio: Audio, filename: str, format: str, overwrite: bool = False,
            **_: Any) -> dict[str, Any]:
        ctx.media.write_audio(ctx.output_path(filename or filenames.DEFAULT_PATTERN, ext=f".{format}"), audio,
                          provenance=_provenance(ctx), overwrite=overwrite)
        return {}
