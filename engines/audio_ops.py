"""Sound operations on ``nodes.values.Audio``: trim, fade, resample, channels, mix.

Plain numpy (and scipy's polyphase resampler, a declared dependency), torch-free, so nodes and tests use them
directly. Every function returns a new Audio and leaves its argument alone.

Conventions, so the nodes that use these agree with each other:

- times are seconds and become sample indices by rounding to the nearest
  sample (``round(t * rate)``), the same rule the video edits use for frames;
- lengths are exact: asking for ``s`` seconds gives ``round(s * rate)``
  samples, never one more from a codec frame or a filter's tail;
- levels are float32 in [-1, 1]; a result that would go past full scale is
  either clipped or scaled down, and the caller says which.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import gcd

import numpy as np

from nodes.values import Audio

# The rate and layout Weft uses where a sound has to be invented (silence for
# a video without a track): the video standard, stereo.
DEFAULT_RATE = 48000
DEFAULT_CHANNELS = 2


def db_to_gain(db: float) -> np.float32:
    return np.float32(10.0 ** (float(db) / 20.0))


def seconds_to_samples(seconds: float, rate: int) -> int:
    return int(round(float(seconds) * int(rate)))


def silence(seconds: float, rate: int = DEFAULT_RATE, channels: int = DEFAULT_CHANNELS) -> Audio:
    return Audio(np.zeros((channels, max(0, seconds_to_samples(seconds, rate))), np.float32), rate)


def trim(audio: Audio, start: float = 0.0, end: float | None = None) -> Audio:
    """The part of ``audio`` from ``start`` to ``end`` seconds (``None``: to its end).

    Times past the end are clamped, so trimming never invents sound.
    """
    a = min(max(0, seconds_to_samples(start, audio.rate)), audio.num_samples)
    b = audio.num_samples if end is None else min(max(a, seconds_to_samples(end, audio.rate)), audio.num_samples)
    return Audio(np.ascontiguousarray(audio.samples[:, a:b]), audio.rate)


def fit_length(audio: Audio, samples: int) -> Audio:
    """Cut or pad with silence at the end to exactly ``samples`` samples."""
    samples = max(0, int(samples))
    data = audio.samples
    if data.shape[1] >= samples:
        return Audio(np.ascontiguousarray(data[:, :samples]), audio.rate)
    return Audio(np.pad(data, ((0, 0), (0, samples - data.shape[1]))), audio.rate)


def fade(audio: Audio, fade_in: float = 0.0, fade_out: float = 0.0, curve: str = "linear") -> Audio:
    """Fade in over the first ``fade_in`` seconds and out over the last ``fade_out``.

    ``curve``: "linear" (gain rises in a straight line) or "equal_power"
    (a quarter sine: sounds even when two fades overlap in a crossfade).
    A fade longer than the sound covers all of it.
    """
    data = audio.samples.copy()
    n = data.shape[1]
    n_in = min(n, seconds_to_samples(fade_in, audio.rate))
    n_out = min(n, seconds_to_samples(fade_out, audio.rate))
    if n_in:
        data[:, :n_in] *= _ramp(n_in, curve)
    if n_out:
        data[:, n - n_out:] *= _ramp(n_out, curve)[::-1]
    return Audio(data, audio.rate)


def _ramp(n: int, curve: str) -> np.ndarray:
    """Gains from 0 towards 1 over ``n`` samples (the first is 0, the last just below 1)."""
    t = np.arange(n, dtype=np.float64) / n
    if curve == "equal_power":
        t = np.sin(t * np.pi / 2)
    elif curve != "linear":
        raise ValueError(f"unknown fade curve {curve!r}; use linear or equal_power")
    return t.astype(np.float32)


def resample(audio: Audio, rate: int) -> Audio:
    """``audio`` at another sample rate, same duration (``round(n * rate / old)`` samples).

    Polyphase filtering (scipy's ``resample_poly``, a Kaiser-windowed sinc)
    rather than linear interpolation, which would alias highs down into the
    audible band when going down and dull them when going up.
    """
    rate = int(rate)
    if rate <= 0:
        raise ValueError(f"sample rate must be positive, got {rate}")
    if rate == audio.rate or audio.num_samples == 0:
        return Audio(audio.samples.copy() if rate == audio.rate else np.zeros((audio.channels, 0), np.float32), rate)
    from scipy.signal import resample_poly

    g = gcd(rate, audio.rate)
    up, down = rate // g, audio.rate // g
    out = resample_poly(audio.samples.astype(np.float64), up, down, axis=1)
    wanted = int(round(audio.num_samples * rate / audio.rate))
    out = out[:, :wanted]
    if out.shape[1] < wanted:
        out = np.pad(out, ((0, 0), (0, wanted - out.shape[1])))
    return Audio(out.astype(np.float32), rate)


def to_channels(audio: Audio, channels: int) -> Audio:
    """Mono doubled to stereo, stereo averaged to mono; otherwise channels are
    repeated or dropped. Averaging (not summing) keeps a downmix from clipping."""
    have = audio.channels
    if channels == have:
        return audio
    data = audio.samples
    if channels == 1:
        return Audio(data.mean(axis=0, keepdims=True), audio.rate)
    if have == 1:
        return Audio(np.repeat(data, channels, axis=0), audio.rate)
    if channels < have:
        return Audio(np.ascontiguousarray(data[:channels]), audio.rate)
    extra = np.repeat(data[-1:], channels - have, axis=0)
    return Audio(np.concatenate([data, extra], axis=0), audio.rate)


def conform(audio: Audio, rate: int, channels: int) -> Audio:
    """``audio`` at ``rate`` with ``channels`` channels (a no-op when it already is)."""
    return to_channels(resample(audio, rate), channels)


def common_format(tracks: Sequence[Audio]) -> tuple[int, int]:
    """The rate and channel count several tracks are mixed or joined at: the
    highest rate among them (nothing is thrown away) and the most channels."""
    return max(t.rate for t in tracks), max(t.channels for t in tracks)


def limit(samples: np.ndarray, overflow: str) -> np.ndarray:
    """Keep samples within full scale: "clip" cuts peaks off, "normalize"
    scales the whole sound down so its peak is at full scale (only when it is
    over; quieter sounds are left as they are)."""
    if overflow == "normalize":
        peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        if peak > 1.0:
            samples = samples / np.float32(peak)
        return samples.astype(np.float32, copy=False)
    if overflow != "clip":
        raise ValueError(f"unknown overflow rule {overflow!r}; use clip or normalize")
    return np.clip(samples, -1.0, 1.0).astype(np.float32, copy=False)


def mix(tracks: Sequence[Audio], gains_db: Sequence[float] | None = None, *, length: str = "longest",
        overflow: str = "normalize", offsets: Sequence[float] | None = None) -> Audio:
    """Sum ``tracks`` (each at its gain, in decibels, starting ``offsets`` seconds in).

    The tracks are first brought to a common rate and channel count
    (:func:`common_format`). ``length``: "longest" pads the shorter tracks
    with silence, "shortest" cuts to the shortest, "first" keeps the first
    track's length. ``overflow``: see :func:`limit`.
    """
    if not tracks:
        raise ValueError("nothing to mix")
    gains_db = list(gains_db) if gains_db is not None else [0.0] * len(tracks)
    offsets = list(offsets) if offsets is not None else [0.0] * len(tracks)
    rate, channels = common_format(tracks)
    placed = []
    for track, offset in zip(tracks, offsets):
        data = conform(track, rate, channels).samples
        shift = seconds_to_samples(offset, rate)
        if shift > 0:
            data = np.pad(data, ((0, 0), (shift, 0)))
        elif shift < 0:
            data = data[:, -shift:]
        placed.append(data)
    lengths = [p.shape[1] for p in placed]
    if length == "longest":
        total = max(lengths)
    elif length == "shortest":
        total = min(lengths)
    elif length == "first":
        total = lengths[0]
    else:
        raise ValueError(f"unknown mix length rule {length!r}; use longest, shortest or first")
    out = np.zeros((channels, total), np.float32)
    for data, gain in zip(placed, gains_db):
        n = min(total, data.shape[1])
        out[:, :n] += data[:, :n] * db_to_gain(gain)
    return Audio(limit(out, overflow), rate)


def concatenate(tracks: Sequence[Audio]) -> Audio:
    """``tracks`` one after another, at their common format."""
    rate, channels = common_format(tracks)
    return Audio(np.concatenate([conform(t, rate, channels).samples for t in tracks], axis=1), rate)


def crossfade(a: Audio, b: Audio, seconds: float) -> Audio:
    """``a`` then ``b``, overlapping by ``seconds`` with equal-power fades.

    The result lasts ``len(a) + len(b) - overlap`` samples.
    """
    rate, channels = common_format([a, b])
    x, y = conform(a, rate, channels).samples, conform(b, rate, channels).samples
    n = min(seconds_to_samples(seconds, rate), x.shape[1], y.shape[1])
    if n == 0:
        return Audio(np.concatenate([x, y], axis=1), rate)
    ramp = _ramp(n, "equal_power")
    middle = x[:, x.shape[1] - n:] * ramp[::-1] + y[:, :n] * ramp
    out = np.concatenate([x[:, : x.shape[1] - n], middle, y[:, n:]], axis=1)
    return Audio(np.clip(out, -1.0, 1.0), rate)


def reverse(audio: Audio) -> Audio:
    return Audio(np.ascontiguousarray(audio.samples[:, ::-1]), audio.rate)


def change_speed(audio: Audio, speed: float) -> Audio:
    """Play ``audio`` ``speed`` times as fast, like a tape: the pitch moves with
    the speed (twice as fast is an octave up). Length becomes
    ``round(n / speed)`` samples at the same rate."""
    if speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    if speed == 1.0 or audio.num_samples == 0:
        return Audio(audio.samples.copy(), audio.rate)
    wanted = max(0, int(round(audio.num_samples / speed)))
    # Resample as if the sound had been recorded at rate*speed; the exact
    # length is then fixed up (at most a sample of rounding).
    from fractions import Fraction

    ratio = Fraction(speed).limit_denominator(1000)
    fake = Audio(audio.samples, audio.rate * ratio.numerator)
    out = resample(fake, audio.rate * ratio.denominator).samples
    return fit_length(Audio(out, audio.rate), wanted)


def peak_db(audio: Audio) -> float:
    """The loudest sample in decibels relative to full scale (-inf for silence)."""
    peak = float(np.max(np.abs(audio.samples))) if audio.samples.size else 0.0
    return float("-inf") if peak == 0.0 else 20.0 * float(np.log10(peak))
