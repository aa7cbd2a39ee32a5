"""Audio utilities: trim, mix, fade, resample, and taking a video's sound apart.

Model-free and exact (``engines.audio_ops``): a length asked in seconds is
``round(seconds x rate)`` samples, never a codec frame more.
"""

from __future__ import annotations

from typing import Any

from nodes import types as T
from nodes.definition import Input, NodeError, NodeType, Output, Param, RunContext
from nodes.values import Audio, Video

_GAIN_HELP = "Loudness of this track in decibels: 0 as it is, -6 about half as loud, +6 about twice."


class _AudioTool(NodeType):
    category = "Audio"


class TrimAudio(_AudioTool):
    type_id = "trim_audio"
    title = "Trim Audio"
    description = "Keeps part of a sound."
    tags = ("cut", "shorten", "clip")

    audio = Input(T.AUDIO)
    out = Output(T.AUDIO, label="Audio")

    start = Param.float(0.0, min=0.0, max=1e6, step=0.1, help="Where the kept part begins, in seconds.")
    length = Param.float(0.0, min=0.0, max=1e6, step=0.1,
                         help="How many seconds to keep. 0 keeps everything to the end; a length past the "
                              "end keeps what there is.")

    def run(self, ctx: RunContext, *, audio: Audio, start: float, length: float, **_: Any) -> dict[str, Any]:
        if start >= audio.seconds:
            raise NodeError(f"parameter 'start': the sound lasts {audio.seconds:.2f} s; "
                            f"start {start:g} s is past its end")
        return {"out": ctx.audio.trim(audio, start, None if length == 0 else start + length)}


class MixAudio(_AudioTool):
    type_id = "mix_audio"
    title = "Mix Audio"
    description = "Plays up to four sounds together, each at its own loudness."
    tags = ("sum", "layer", "combine", "blend", "volume")

    track_1 = Input(T.AUDIO)
    track_2 = Input(T.AUDIO)
    track_3 = Input(T.AUDIO, required=False, help="Optional.")
    track_4 = Input(T.AUDIO, required=False, help="Optional.")
    out = Output(T.AUDIO, label="Audio",
                 help="At the highest sample rate and the most channels of the tracks (mono is doubled to "
                      "stereo).")

    gain_1 = Param.float(0.0, min=-60.0, max=24.0, step=0.5, help=_GAIN_HELP)
    gain_2 = Param.float(0.0, min=-60.0, max=24.0, step=0.5, help=_GAIN_HELP)
    gain_3 = Param.float(0.0, min=-60.0, max=24.0, step=0.5, help=_GAIN_HELP)
    gain_4 = Param.float(0.0, min=-60.0, max=24.0, step=0.5, help=_GAIN_HELP)
    length = Param.choice("longest", ("longest", "shortest", "first"),
                          help="longest: as long as the longest track, the others end in silence; shortest: cut "
                               "to the shortest; first: as long as track 1.")
    overflow = Param.choice("normalize", ("normalize", "clip"),
                            help="What happens when the sum is louder than full scale: normalize turns the whole "
                                 "mix down just enough (nothing distorts); clip cuts off the peaks.")

    def run(self, ctx: RunContext, *, track_1: Audio, track_2: Audio, track_3: Audio | None = None,
            track_4: Audio | None = None, gain_1: float, gain_2: float, gain_3: float, gain_4: float,
            length: str, overflow: str, **_: Any) -> dict[str, Any]:
        pairs = [(t, g) for t, g in ((track_1, gain_1), (track_2, gain_2), (track_3, gain_3), (track_4, gain_4))
                 if t is not None]
        return {"out": ctx.audio.mix([t for t, _ in pairs], [g for _, g in pairs], length=length,
                                     overflow=overflow)}


class FadeAudio(_AudioTool):
    type_id = "fade_audio"
    title = "Fade Audio"
    description = "Fades a sound in at its start and out at its end."
    tags = ("fade in", "fade out", "ramp")

    audio = Input(T.AUDIO)
    out = Output(T.AUDIO, label="Audio")

    fade_in = Param.float(0.5, min=0.0, max=600.0, step=0.1, help="Seconds from silence to full level at the start.")
    fade_out = Param.float(0.5, min=0.0, max=600.0, step=0.1, help="Seconds from full level to silence at the end.")
    curve = Param.choice("linear", ("linear", "equal_power"),
                         help="linear: the level changes in a straight line; equal_power: a gentler curve "
                              "that sounds even, best when two fades overlap.")

    def run(self, ctx: RunContext, *, audio: Audio, fade_in: float, fade_out: float, curve: str,
            **_: Any) -> dict[str, Any]:
        return {"out": ctx.audio.fade(audio, fade_in, fade_out, curve)}


class ResampleAudio(_AudioTool):
    type_id = "resample_audio"
    title = "Resample Audio"
    description = "Changes a sound's sample rate and channel count; its duration stays the same."
    tags = ("sample rate", "44100", "48000", "mono", "stereo", "convert")

    audio = Input(T.AUDIO)
    out = Output(T.AUDIO, label="Audio")

    rate = Param.int(48000, min=8000, max=192000, step=100,
                     help="Samples per second of the result: 48000 for video, 44100 for music CDs, 16000 or "
                          "24000 for speech models. Filtered properly (polyphase sinc), not just interpolated.")
    channels = Param.choice("keep", ("keep", "mono", "stereo"),
                            help="mono averages the channels; stereo doubles a mono sound; keep leaves them.")

    def run(self, ctx: RunContext, *, audio: Audio, rate: int, channels: str, **_: Any) -> dict[str, Any]:
        out = ctx.audio.resample(audio, rate)
        if channels != "keep":
            out = ctx.audio.to_channels(out, 1 if channels == "mono" else 2)
        return {"out": out}


class ExtractAudio(_AudioTool):
    type_id = "extract_audio"
    title = "Extract Audio"
    description = "The sound track of a video, exactly as long as its picture."
    tags = ("demux", "sound track", "separate")

    video = Input(T.VIDEO)
    audio = Output(T.AUDIO, help="Cut or padded with silence to the picture's length; silence (48 kHz stereo) "
                                 "if the video has no sound.")

    def run(self, ctx: RunContext, *, video: Video, **_: Any) -> dict[str, Any]:
        return {"audio": ctx.edits.track_for(video)}


class RemoveAudio(_AudioTool):
    type_id = "remove_audio"
    title = "Remove Audio"
    description = "The video without its sound track."
    tags = ("mute", "silent", "strip")

    video = Input(T.VIDEO)
    out = Output(T.VIDEO, label="Video")

    def run(self, ctx: RunContext, *, video: Video, **_: Any) -> dict[str, Any]:
        return {"out": video.with_audio(None)}
