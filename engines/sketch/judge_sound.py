"""The sketch sound judge: what a decoded sound is, read from its samples alone.

It answers the questions a sketch sound caption asks (see engines/sketch/sounds.py):
which kind of sound (beeps, whistle, hum, noise, clicks), low or high (beeps
and hum), how many beeps, rising or falling (whistle), fast or slow (clicks),
loud or quiet. It knows nothing about how the clip was made, so the same judge
reads the world's own renders and a model's generations, through any file
format: give it samples at any rate, mono or (channels, samples) or
(samples, channels).

How it decides, in order:
1. Loudness envelope: RMS in 10 ms frames every 5 ms. Frames within 18 dB of
   the loudest (and above -60 dBFS) are "sounding"; runs of sounding frames
   closer than 25 ms are one event.
2. Spectrum of the sounding frames (64 ms windows): the share of energy near
   the strongest peak says tonal (a tone puts most of its energy there) or
   broadband (noise and clicks spread it).
3. Broadband: short events (median under 40 ms), two or more of them, are
   clicks; their median spacing under 0.25 s is fast (the world's fast is
   0.125 s, slow 0.5 s). Anything else broadband is noise.
4. Tonal: two or more events are beeps (their number is the count); one event
   shorter than 0.45 s is one beep; a longer one is a whistle if its pitch
   track (fitted in octaves over time) moves at least half an octave over the
   event, else a hum. Pitch class from the median peak frequency: under
   500 Hz low, over 900 Hz high (the world's ranges are 110-250 and 1200-2000).
5. Loudness: the loudest 10 ms frame at -17 dBFS or more is loud (for clicks,
   the sample peak at -11 dBFS or more), else quiet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engines.sketch.sounds import SoundScene

RATE = 16000
_FRAME, _HOP = 160, 80  # 10 ms frames every 5 ms
_NFFT, _SHOP = 1024, 160  # spectrum: 64 ms windows every 10 ms
_RANGE_DB = 18.0
_FLOOR_DB = -60.0
_MERGE_S = 0.025
LOUD_DB = -17.0
LOUD_PEAK_DB = -11.0  # clicks: sample peak
LOW_MAX_HZ, HIGH_MIN_HZ = 500.0, 900.0


@dataclass
class SoundVerdict:
    """What the judge heard. Fields the sound does not have are ""/0."""

    kind: str = "silence"
    pitch: str = ""
    count: int = 0
    direction: str = ""
    rate: str = ""
    loudness: str = ""
    # Measurements behind the verdict, for the reason string.
    peak_db: float = -120.0
    tonality: float = 0.0
    events: list[tuple[float, float]] = field(default_factory=list)
    pitch_hz: float = 0.0
    octaves: float = 0.0
    spacing_s: float = 0.0

    def summary(self) -> str:
        """The verdict in the caption grammar's words."""
        if self.kind == "beeps":
            words = [str(self.count), self.loudness, self.pitch, "beep" if self.count == 1 else "beeps"]
        elif self.kind == "whistle":
            words = [self.loudness, self.direction, "whistle"]
        elif self.kind == "hum":
            words = [self.loudness, self.pitch, "hum"]
        elif self.kind == "clicks":
            words = [self.loudness, self.rate, "clicks"]
        else:
            words = [self.loudness, self.kind]
        return " ".join(w for w in words if w)

    @property
    def reason(self) -> str:
        events = ", ".join(f"{a:.2f}-{b:.2f}" for a, b in self.events[:8]) + (" ..." if len(self.events) > 8 else "")
        return (f"heard {self.summary()!r}: peak {self.peak_db:.1f} dBFS, tonality {self.tonality:.2f}, "
                f"{len(self.events)} event(s) [{events}] s, pitch {self.pitch_hz:.0f} Hz, "
                f"sweep {self.octaves:+.2f} octaves, spacing {self.spacing_s:.3f} s")

    def problems(self, scene: SoundScene, *, loudness: bool = True) -> list[str]:
        """What differs from the scene (empty when it matches); unsaid qualities are not checked."""
        out = []
        if self.kind != scene.kind:
            return [f"kind: asked {scene.kind}, heard {self.kind}"]
        if scene.kind == "beeps" and self.count != scene.count:
            out.append(f"count: asked {scene.count}, heard {self.count}")
        if scene.pitch and self.pitch != scene.pitch:
            out.append(f"pitch: asked {scene.pitch}, heard {self.pitch or 'neither'} ({self.pitch_hz:.0f} Hz)")
        if scene.kind == "whistle" and self.direction != scene.direction:
            out.append(f"sweep: asked {scene.direction}, heard {self.direction} ({self.octaves:+.2f} oct)")
        if scene.kind == "clicks" and self.rate != scene.rate:
            out.append(f"rate: asked {scene.rate}, heard {self.rate} ({self.spacing_s:.3f} s apart)")
        if loudness and scene.loudness and self.loudness != scene.loudness:
            out.append(f"loudness: asked {scene.loudness}, heard {self.loudness} ({self.peak_db:.1f} dB)")
        return out

    def matches(self, scene: SoundScene) -> bool:
        return not self.problems(scene)

    def content_matches(self, scene: SoundScene) -> bool:
        """Kind, pitch class, count, sweep and rate right (loudness not checked)."""
        return not self.problems(scene, loudness=False)


def to_mono(audio: np.ndarray, rate: int) -> np.ndarray:
    """Samples as float mono at the judge's rate: channels averaged, resampled."""
    from scipy.signal import resample_poly

    x = np.asarray(audio)
    if x.dtype.kind in "iu":
        x = x.astype(np.float64) / float(np.iinfo(x.dtype).max)
    x = x.astype(np.float64)
    if x.ndim == 2:  # the shorter axis is the channels
        x = x.mean(axis=0 if x.shape[0] <= x.shape[1] else 1)
    elif x.ndim != 1:
        x = x.reshape(-1)
    if rate != RATE:
        g = math.gcd(int(rate), RATE)
        x = resample_poly(x, RATE // g, int(rate) // g)
    return x


def _events(active: np.ndarray, hop_s: float) -> list[tuple[int, int]]:
    """Runs of active frames, closer runs merged: (first, last+1) frame indices."""
    idx = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(np.int8), [0]])))
    runs = list(zip(idx[::2], idx[1::2]))
    merged: list[list[int]] = []
    gap = int(round(_MERGE_S / hop_s))
    for a, b in runs:
        if merged and a - merged[-1][1] <= gap:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def judge(audio: np.ndarray, rate: int = RATE) -> SoundVerdict:
    """Decide what the clip is (see the module docstring)."""
    x = to_mono(audio, rate)
    v = SoundVerdict()
    if len(x) < _NFFT or not np.isfinite(x).all():
        return v  # too short to judge, or not a sound at all (a model that gave NaN): "silence"
    # 1. envelope and events
    n_frames = 1 + (len(x) - _FRAME) // _HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, _FRAME)[::_HOP][:n_frames]
    rms_db = 10 * np.log10(np.mean(frames * frames, axis=1) + 1e-12)
    v.peak_db = float(rms_db.max())
    if v.peak_db < _FLOOR_DB:
        return v
    active = rms_db >= max(v.peak_db - _RANGE_DB, _FLOOR_DB)
    hop_s = _HOP / RATE
    events = [(a, b) for a, b in _events(active, hop_s)]
    # Frame i covers samples [i*HOP, i*HOP+FRAME): an event's time span.
    spans = [(a * hop_s, (b - 1) * hop_s + _FRAME / RATE) for a, b in events]
    if not spans:
        return v
    # 2. spectrum of the sounding part
    from scipy.signal import stft

    freqs, times, Z = stft(x, fs=RATE, nperseg=_NFFT, noverlap=_NFFT - _SHOP, boundary="even", padded=True)
    power = np.abs(Z) ** 2  # (F, T); column j is centred at times[j]
    band = (freqs >= 60) & (freqs <= 7000)
    power = power[band]
    fb = freqs[band]
    col_energy = power.sum(axis=0)
    centre = times
    env_at = np.interp(centre, np.arange(n_frames) * hop_s + _FRAME / RATE / 2, rms_db)
    sounding = env_at >= max(v.peak_db - _RANGE_DB, _FLOOR_DB)
    if not sounding.any():
        sounding = col_energy >= col_energy.max() * 0.1
    peak_bin = power.argmax(axis=0)
    # Energy within 3 bins of each column's peak, as a share of the column's.
    padded = np.pad(power, ((3, 3), (0, 0)))
    cols = np.arange(power.shape[1])
    near = sum(padded[peak_bin + 3 + d, cols] for d in range(-3, 4)) / (col_energy + 1e-20)
    near = np.where(sounding, near, 0.0)
    w = col_energy * sounding
    v.tonality = float((near * w).sum() / (w.sum() + 1e-20))
    peak_hz = fb[peak_bin]

    # 5. loudness (set for every kind below)
    def loud_from_rms() -> str:
        return "loud" if v.peak_db >= LOUD_DB else "quiet"

    durations = np.array([b - a for a, b in spans])
    v.events = [(round(a, 3), round(b, 3)) for a, b in spans]
    if v.tonality < 0.35:
        # 3. broadband
        if len(spans) >= 2 and np.median(durations) < 0.04:
            v.kind = "clicks"
            starts = np.array([a for a, _ in spans])
            v.spacing_s = float(np.median(np.diff(starts)))
            v.rate = "fast" if v.spacing_s < 0.25 else "slow"
            peak = 20 * math.log10(np.abs(x).max() + 1e-12)
            v.loudness = "loud" if peak >= LOUD_PEAK_DB else "quiet"
        else:
            v.kind = "noise"
            v.loudness = loud_from_rms()
        return v
    # 4. tonal
    v.loudness = loud_from_rms()
    keep = [(a, b) for a, b in spans if b - a >= 0.03]
    if not keep:
        keep = spans
    v.events = [(round(a, 3), round(b, 3)) for a, b in keep]
    tonal_cols = sounding & (near > 0.3)
    if not tonal_cols.any():
        tonal_cols = sounding
    v.pitch_hz = float(np.median(peak_hz[tonal_cols]))
    v.pitch = "low" if v.pitch_hz < LOW_MAX_HZ else "high" if v.pitch_hz > HIGH_MIN_HZ else ""
    if len(keep) >= 2 or keep[0][1] - keep[0][0] < 0.45:
        v.kind = "beeps"
        v.count = len(keep)
        return v
    a, b = keep[0]
    inner = tonal_cols & (centre >= a + 0.05 * (b - a)) & (centre <= b - 0.05 * (b - a))
    if inner.sum() >= 4:
        t = centre[inner]
        f = np.log2(np.maximum(peak_hz[inner], 1.0))
        slope = np.polyfit(t, f, 1)[0]
        v.octaves = float(slope * (t[-1] - t[0]))
    if abs(v.octaves) >= 0.5:
        v.kind = "whistle"
        v.direction = "rising" if v.octaves > 0 else "falling"
        v.pitch = ""
    else:
        v.kind = "hum"
        v.count = 0
    return v
