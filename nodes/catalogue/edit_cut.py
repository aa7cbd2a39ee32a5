"""Model-free video edits: trim, join, reframe, retime, reverse, dissolve, colour.

Exact and deterministic (numpy/OpenCV in ``engines.edits``): the same input
always gives the same frames, and the sound is carried along wherever the
edit has an obvious meaning for it. The rules for joining clips of different
frame rates or sizes are spelled out in ``engines/edits.py`` and in each
node's help.
"""

from __future__ import annotations

import re
from typing import Any

from nodes import types as T
from nodes.aspects import ASPECT_CHOICES
from nodes.definition import Input, NodeError, NodeType, Output, Param, RunContext
from nodes.values import Video

_JOIN_RULE = ("The first clip sets the frame rate and size: a clip at another frame rate is retimed to it "
              "(frames repeated or dropped, its duration kept) and a clip of another size is fitted inside "
              "the frame with black bars. Clips without sound get silence.")


class _Edit(NodeType):
    category = "Edit"


class TrimVideo(_Edit):
    type_id = "trim_video"
    title = "Trim Video"
    description = "Keeps part of a video, by frames or by seconds; its sound is cut at the same instants."
    tags = ("cut", "clip", "in point", "out point", "shorten")

    video = Input(T.VIDEO)
    out = Output(T.VIDEO, label="Video")

    unit = Param.choice("seconds", ("seconds", "frames"),
                        help="Whether start and length are counted in seconds or in frames. Seconds are "
                             "rounded to the nearest frame (frame = round(seconds x fps)).")
    start = Param.float(0.0, min=0.0, max=1e6, step=0.1, help="Where the kept part begins (0: the first frame).")
    length = Param.float(0.0, min=0.0, max=1e6, step=0.1,
                         help="How much to keep from the start. 0 keeps everything to the end. A length past "
                              "the end keeps what there is.")

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[tuple[str, str]]:
        if params["unit"] != "frames":
            return []
        return [(name, f"{params[name]:g} is not a whole number of frames")
                for name in ("start", "length") if not float(params[name]).is_integer()]

    def run(self, ctx: RunContext, *, video: Video, unit: str, start: float, length: float,
            **_: Any) -> dict[str, Any]:
        if unit == "frames":
            first, count = int(start), int(length)
        else:
            first, count = ctx.edits.frame_at(start, video.fps), ctx.edits.frame_at(length, video.fps)
        if first >= video.num_frames:
            raise NodeError(f"parameter 'start': the video has only {video.num_frames} frames "
                            f"({video.seconds:.2f} s); start {start:g} {unit} is past its end")
        end = None if length == 0 else first + max(1, count)
        return {"out": ctx.edits.trim(video, first, end)}


class ConcatenateVideos(_Edit):
    type_id = "concatenate_videos"
    title = "Concatenate Videos"
    description = "Plays clips one after another, in socket order (1, 2, 3, 4), with their sound."
    tags = ("join", "append", "sequence", "splice")

    clip_1 = Input(T.VIDEO, help="Plays first; sets the frame rate and size of the result.")
    clip_2 = Input(T.VIDEO, help="Plays second.")
    clip_3 = Input(T.VIDEO, required=False, help="Plays third (optional).")
    clip_4 = Input(T.VIDEO, required=False, help="Plays fourth (optional).")
    out = Output(T.VIDEO, label="Video", help=_JOIN_RULE)

    def run(self, ctx: RunContext, *, clip_1: Video, clip_2: Video, clip_3: Video | None = None,
            clip_4: Video | None = None, **_: Any) -> dict[str, Any]:
        clips = [c for c in (clip_1, clip_2, clip_3, clip_4) if c is not None]
        return {"out": ctx.edits.concatenate(clips)}


_COLOR = re.compile(r"^#?([0-9a-fA-F]{6})$")


def parse_color(text: str) -> tuple[int, int, int]:
    match = _COLOR.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a colour; write it as #rrggbb, e.g. #000000 for black")
    value = match.group(1)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


class ReframeVideo(_Edit):
    type_id = "reframe_video"
    title = "Resize / Crop / Pad"
    description = ("Changes a video's size or aspect: fit inside with bars (pad), fill and crop the "
                   "overflow, or stretch.")
    tags = ("resize", "scale", "crop", "pad", "letterbox", "aspect", "16:9", "9:16")

    video = Input(T.VIDEO)
    out = Output(T.VIDEO, label="Video")

    aspect = Param.choice("keep", ("keep", *ASPECT_CHOICES),
                          help="The shape of the result. keep: the source's shape. With an aspect and no size, "
                               "fill crops to the biggest frame of that shape inside the source and fit pads to "
                               "the smallest frame around it, both without scaling.")
    width = Param.int(0, min=0, max=8192, help="Width in pixels. 0: from the height and the aspect "
                                                 "(rounded to an even number).")
    height = Param.int(0, min=0, max=8192, help="Height in pixels. 0: from the width and the aspect "
                                                  "(rounded to an even number).")
    mode = Param.choice("fit", ("fit", "fill", "stretch"),
                        help="fit: the whole picture, with bars where the shapes differ (pad); fill: the frame "
                             "covered, the overflow cropped equally from both sides (crop); stretch: exactly "
                             "the size, distorted if the shapes differ.")
    pad_color = Param.text("#000000", help="Colour of the bars in fit mode, as #rrggbb.")

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[tuple[str, str]]:
        problems = []
        if params["width"] and params["height"] and params["aspect"] != "keep":
            problems.append(("aspect", "with both width and height set the aspect is already fixed; "
                                       "set the aspect to keep or one side to 0"))
        try:
            parse_color(params["pad_color"])
        except ValueError as exc:
            problems.append(("pad_color", str(exc)))
        return problems

    def run(self, ctx: RunContext, *, video: Video, aspect: str, width: int, height: int, mode: str,
            pad_color: str, **_: Any) -> dict[str, Any]:
        w, h = ctx.edits.target_size(width, height, src_w=video.width, src_h=video.height, aspect=aspect, mode=mode)
        return {"out": ctx.edits.reframe(video, w, h, mode, parse_color(pad_color))}


class ChangeFrameRate(_Edit):
    type_id = "change_fps"
    title = "Change Frame Rate"
    description = "The same clip at another frame rate and the same duration; its sound is untouched."
    tags = ("fps", "retime", "conform", "frame rate")

    video = Input(T.VIDEO)
    out = Output(T.VIDEO, label="Video")

    fps = Param.float(24.0, min=1.0, max=240.0, step=1.0,
                      help="Frames per second of the result. Going up repeats frames, going down drops them "
                           "(nearest earlier frame, no blending); the count becomes round(frames x new / old).")

    def run(self, ctx: RunContext, *, video: Video, fps: float, **_: Any) -> dict[str, Any]:
        return {"out": ctx.edits.change_fps(video, fps)}


class ChangeSpeed(_Edit):
    type_id = "change_speed"
    title = "Change Speed"
    description = "Plays a clip faster or slower (slow motion, time-lapse) at the same frame rate."
    tags = ("slow motion", "fast forward", "timelapse", "speed ramp")

    video = Input(T.VIDEO)
    out = Output(T.VIDEO, label="Video")

    speed = Param.float(2.0, min=0.05, max=20.0, step=0.25,
                        help="2 plays twice as fast (half the frames), 0.5 at half speed (each frame shown "
                             "twice). Frames are picked, never blended.")
    audio = Param.choice("tape", ("tape", "mute"),
                         help="tape: the sound is sped up or slowed down with the picture and stays in sync, "
                              "its pitch following (2x is an octave up); mute: the result has no sound.")

    def run(self, ctx: RunContext, *, video: Video, speed: float, audio: str, **_: Any) -> dict[str, Any]:
        return {"out": ctx.edits.change_speed(video, speed, audio=audio)}


class ReverseVideo(_Edit):
    type_id = "reverse_video"
    title = "Reverse Video"
    description = "Plays a clip backwards, last frame first."
    tags = ("rewind", "backwards")

    video = Input(T.VIDEO)
    out = Output(T.VIDEO, label="Video")

    reverse_audio = Param.bool(True, help="Play the sound backwards too; off drops the sound.")

    def run(self, ctx: RunContext, *, video: Video, reverse_audio: bool, **_: Any) -> dict[str, Any]:
        return {"out": ctx.edits.reverse(video, reverse_audio=reverse_audio)}


class Crossfade(_Edit):
    type_id = "crossfade_videos"
    title = "Crossfade"
    description = "The first clip dissolves into the second; their sounds crossfade over the same time."
    tags = ("dissolve", "transition", "blend", "mix")

    first = Input(T.VIDEO, help="The outgoing clip; sets the frame rate and size.")
    second = Input(T.VIDEO, help="The incoming clip. " + _JOIN_RULE)
    out = Output(T.VIDEO, label="Video")

    seconds = Param.float(0.5, min=0.0, max=60.0, step=0.1,
                          help="Length of the dissolve, rounded to whole frames and at most the shorter clip. "
                               "The result is that much shorter than the two clips end to end.")

    def run(self, ctx: RunContext, *, first: Video, second: Video, seconds: float, **_: Any) -> dict[str, Any]:
        return {"out": ctx.edits.crossfade(first, second, seconds)}


class ColorAdjust(_Edit):
    type_id = "color_adjust"
    title = "Colour Adjust"
    description = "Brightness, contrast, saturation and gamma, applied in that order."
    tags = ("grade", "color", "colour", "exposure", "desaturate", "black and white")

    video = Input(T.VIDEO)
    out = Output(T.VIDEO, label="Video")

    brightness = Param.float(0.0, min=-1.0, max=1.0, step=0.05,
                             help="Added to every value (0 black .. 1 white): 0.1 lifts everything a tenth.")
    contrast = Param.float(1.0, min=0.0, max=4.0, step=0.05,
                           help="Spread around mid-grey: 1 unchanged, 0 flat grey, 2 twice the spread.")
    saturation = Param.float(1.0, min=0.0, max=4.0, step=0.05,
                             help="Colourfulness: 1 unchanged, 0 black and white, 2 twice as vivid.")
    gamma = Param.float(1.0, min=0.1, max=5.0, step=0.05,
                        help="Mid-tones: above 1 brighter, below 1 darker; black and white stay put.")

    def run(self, ctx: RunContext, *, video: Video, brightness: float, contrast: float, saturation: float,
            gamma: float, **_: Any) -> dict[str, Any]:
        return {"out": ctx.edits.color_adjust(video, brightness=brightness, contrast=contrast,
                                          saturation=saturation, gamma=gamma)}
