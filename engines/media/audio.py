"""Sound files: read anything FFmpeg reads, write WAV and FLAC.

Everything goes through PyAV so that the audio track of a video and a
standalone sound file are decoded by the same code, with the same sample
conversion, and there is one native dependency to ship instead of three.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

from nodes.values import Audio

from . import provenance as _provenance
from ._files import MediaError, PathLike, atomic_output, existing_file, output_extension

# 16-bit PCM is what every player, DAW and browser opens; float WAV is not.
# FLAC is lossless at the same depth and about half the size.
AUDIO_FORMATS = {".wav": ("wav", "pcm_s16le"), ".flac": ("flac", "flac")}

# Samples handed to the encoder per call: big enough that per-frame overhead
# does not matter, small enough that int16 copies stay in cache.
_CHUNK = 1 << 15


def read_audio(path: PathLike) -> Audio:
    """Decode the first audio stream of ``path`` (a sound file, or the audio
    track of a video) to float32 ``(channels, samples)`` at its own rate."""
    p = existing_file(path)
    container = open_media(p)
    with container:
        if not container.streams.audio:
            raise MediaError(f"{p} has no audio stream (expected a sound file or a video with sound)")
        audio, _ = decode_audio_stream(container, container.streams.audio[0], p)
    return audio


def write_audio(path: PathLike, audio: Audio, *, provenance: str | None = None, overwrite: bool = True) -> None:
    """Write ``audio`` as 16-bit ``.wav`` or ``.flac``, atomically.

    Samples outside [-1, 1] are clipped (not wrapped); the rate and channel
    count are kept as given. ``provenance`` (engines.media.provenance) goes
    into the file's tags; ``overwrite=False`` refuses to replace a file.
    """
    ext = output_extension(path, AUDIO_FORMATS, "audio")
    if audio.num_samples == 0:
        raise MediaError(f"cannot write {path}: the sound is empty (0 samples)")
    container_format, codec = AUDIO_FORMATS[ext]
    layout = layout_for(audio.channels)
    # Quantise here rather than leave it to the resampler so clipping and
    # rounding are explicit: round-to-nearest, symmetric scale, no wrap-around.
    pcm = np.round(np.clip(audio.samples, -1.0, 1.0) * 32767.0).astype(np.int16)
    interleaved = np.ascontiguousarray(pcm.T)  # packed s16 is (samples, channels)
    with atomic_output(path, overwrite=overwrite) as temp:
        with av.open(str(temp), "w", format=container_format) as container:
            if provenance is not None:
                container.metadata.update(_provenance.container_tags(provenance, container_format))
            stream = container.add_stream(codec, rate=audio.rate)
            stream.layout = layout
            stream.format = "s16"
            for start in range(0, audio.num_samples, _CHUNK):
                chunk = interleaved[start : start + _CHUNK]
                frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout=layout)
                frame.sample_rate = audio.rate
                frame.pts = start
                frame.time_base = Fraction(1, audio.rate)
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))


# --------------------------------------------------------------------------
# Shared with engines.media.video


def open_media(p) -> "av.container.InputContainer":
    """Open ``p`` for reading, turning FFmpeg's errors into MediaError."""
    try:
        return av.open(str(p), "r")
    except av.FFmpegError as error:
        raise MediaError(f"{p} could not be opened as media ({error.strerror or error})") from error


def layout_for(channels: int) -> str:
    if channels == 1:
        return "mono"
    if channels == 2:
        return "stereo"
    # No speaker positions are implied for other counts: a model that emits
    # four channels has not said they are quad.
    return f"{channels} channels"


def frame_to_float(frame: "av.AudioFrame") -> np.ndarray:
    """One decoded audio frame as float32 ``(channels, samples)``.

    Converted by hand rather than with an AudioResampler: the resampler needs
    a known channel layout (some files have none) and may remix, while this is
    a plain scale of whatever sample format the decoder produced.
    """
    fmt = frame.format
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if not fmt.is_planar:
        data = data.reshape(-1, channels).T
    if data.dtype == np.uint8:
        return (data.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(data.dtype, np.integer):
        return (data.astype(np.float64) / float(np.iinfo(data.dtype).max + 1)).astype(np.float32)
    return data.astype(np.float32, copy=False)


def stream_duration(stream) -> float | None:
    """Seconds the container says ``stream`` lasts, or None if it does not say.

    MP4 records it per stream; Matroska/WebM only as a ``DURATION`` tag.
    """
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    tag = (stream.metadata or {}).get("DURATION")
    if tag:
        try:
            h, m, s = tag.split(":")
            return int(h) * 3600 + int(m) * 60 + float(s)
        except ValueError:
            return None
    return None


def decode_audio_stream(container, stream, p) -> tuple[Audio, float]:
    """Decode all of ``stream``; returns the audio and the time of its first
    sample in seconds (for lining it up with video frames)."""
    pieces: list[np.ndarray] = []
    first_time: float | None = None
    rate = stream.rate or stream.codec_context.sample_rate
    try:
        for frame in container.decode(stream):
            if first_time is None and frame.time is not None:
                first_time = float(frame.time)
            rate = frame.sample_rate or rate
            pieces.append(frame_to_float(frame))
    except av.FFmpegError as error:
        raise MediaError(f"{p}: the audio stream could not be decoded ({error.strerror or error})") from error
    if not pieces:
        channels = stream.codec_context.channels or 1
        return Audio(np.zeros((channels, 0), np.float32), rate or 48000), 0.0
    samples = np.concatenate(pieces, axis=1)
    # AAC pads its last frame to 1024 samples and FFmpeg does not drop that
    # tail when decoding; the container's duration is the real length.
    seconds = stream_duration(stream)
    if seconds is not None:
        expected = int(round(seconds * rate))
        if 0 < expected < samples.shape[1]:
            samples = samples[:, :expected]
    return Audio(np.ascontiguousarray(samples), rate), first_time or 0.0
