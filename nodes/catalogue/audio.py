"""Sound: putting audio on a video."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nodes import types as T
from nodes.definition import Input, NodeType, Output, Param, RunContext
from nodes.values import Audio, Video

# numpy is imported where it is used, not with the module: the command line loads every
# node type to check a project and should not pay numpy's import for it (nodes/values.py).
if TYPE_CHECKING:
    import numpy as np


def fit_audio(audio: Audio, seconds: float, *, offset: float = 0.0, gain_db: float = 0.0,
              fit: str = "trim_or_pad") -> Audio:
    """``audio`` placed ``offset`` seconds into a track of ``seconds`` length.

    ``fit``: "trim_or_pad" cuts what runs past the end and leaves silence where
    the sound is shorter; "loop" repeats the sound to fill the track;
    "keep" keeps the sound's own length (the track may end before or after the
    picture).
    """
    import numpy as np

    rate = audio.rate
    samples = audio.samples * np.float32(10.0 ** (gain_db / 20.0))
    shift = int(round(offset * rate))
    if fit == "keep":
        if shift >= 0:
            out = np.concatenate([np.zeros((audio.channels, shift), np.float32), samples], axis=1)
        else:
            out = samples[:, -shift:]
        return Audio(np.clip(out, -1.0, 1.0), rate)
    total = int(round(seconds * rate))
    out = np.zeros((audio.channels, total), np.float32)
    if fit == "loop" and samples.shape[1] > 0:
        reps = int(np.ceil((total + abs(shift)) / samples.shape[1])) + 1
        samples = np.tile(samples, (1, reps))
    if shift >= 0:
        start, src = shift, samples
    else:
        start, src = 0, samples[:, -shift:]
    n = max(0, min(total - start, src.shape[1]))
    if n:
        out[:, start:start + n] = src[:, :n]
    return Audio(np.clip(out, -1.0, 1.0), rate)


class AddAudioToVideo(NodeType):
    type_id = "add_audio_to_video"
    title = "Add Audio to Video"
    category = "Audio"
    description = "Puts a sound track on a video, replacing the sound it had or mixed with it."
    tags = ("mux", "soundtrack", "sound")

    video = Input(T.VIDEO)
    audio = Input(T.AUDIO)
    out = Output(T.VIDEO, label="Video")

    gain = Param.float(0.0, min=-60.0, max=24.0, step=0.5, help="Loudness change in decibels.")
    offset = Param.float(0.0, min=-600.0, max=600.0, step=0.1,
                         help="Start the sound this many seconds into the video (negative: skip its start).")
    fit = Param.choice("trim_or_pad", ("trim_or_pad", "loop", "keep"),
                       help="trim_or_pad: exactly the video's length, cut or padded with silence; "
                            "loop: repeated to fill the video; keep: the sound's own length.")
    mode = Param.choice("replace", ("replace", "mix"),
                        help="replace: the new sound replaces the video's own; mix: both play together (the "
                             "video's own sound at 'original gain'). A video without sound just gets the new one.")
    original_gain = Param.float(0.0, min=-60.0, max=24.0, step=0.5,
                                help="In mix mode, the loudness change of the video's own sound, in decibels.")

    @classmethod
    def inactive_params(cls, params: dict[str, Any]) -> dict[str, str]:
        if params.get("mode", "replace") != "mix":
            return {"original_gain": "used only when Mode is mix"}
        return {}

    def run(self, ctx: RunContext, *, video: Video, audio: Audio, gain: float, offset: float, fit: str,
            mode: str = "replace", original_gain: float = 0.0, **_: Any) -> dict[str, Any]:
        track = fit_audio(audio, video.seconds, offset=offset, gain_db=gain, fit=fit)
        if mode == "mix" and video.audio is not None:
            # The video's own sound sets nothing: the mix takes the higher
            # rate and the wider layout of the two, and the new track's length
            # (which fit decided) unless the video's own runs longer.
            track = ctx.audio.mix([track, ctx.edits.track_for(video)], [0.0, original_gain],
                                  length="first" if fit != "keep" else "longest", overflow="normalize")
        return {"out": video.with_audio(track)}
