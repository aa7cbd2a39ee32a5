"""The sketch sound world: simple sounds described in words.

The contract the sketch-sound model is trained on, the sound judge checks and
the tests use. A clip is one sound, 1-4 s long, mono:

    "a high beep"            "three quiet low beeps"     "a loud rising whistle"
    "a falling whistle"      "a low hum"                 "soft noise"
    "fast clicks"            "quiet slow clicks"         "loud noise"

Everything here is numpy only and deterministic by seed: the same scene, seed
and length always give the same samples, so a training run can be resumed
exactly and a judge test can name the clip that failed.

Grammar (one sound; word order inside the phrase is free, captions drawn here
use the order shown):

    beeps    := ("a" | "one" | "two" | "three" | "four") [loudness] [pitch] ("beep" | "beeps")
    whistle  := "a" [loudness] direction "whistle"
    hum      := "a" [loudness] [pitch] "hum"
    noise    := [loudness] "noise"                 ("soft noise" is quiet noise)
    clicks   := [loudness] rate "clicks"
    loudness := "loud" | "quiet" | "soft"          ("soft" means "quiet")
    pitch    := "low" (110-250 Hz) | "high" (1200-2000 Hz)
    direction:= "rising" | "falling"               (at least an octave over its length)
    rate     := "fast" (~8 clicks/s) | "slow" (~2 clicks/s)

A pitch or loudness left out is the renderer's choice (pitch: low or high by
seed; loudness: the loud level), and the judge does not check it. Beeps are
separated by silence; clicks are short broadband transients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nodes import sketch_words
from nodes.sketch_words import (COUNT_WORDS, KINDS, LOUDNESSES, NOUNS, PITCHES,  # noqa: F401 (used by the trainer)
                                RATES, SOUND_WORDS)
from nodes.sketch_words import SWEEPS as DIRECTIONS

NUMBER_WORDS = {1: "a", 2: "two", 3: "three", 4: "four"}

# Frequency ranges of the contract (Hz).
LOW_HZ = (110.0, 250.0)
HIGH_HZ = (1200.0, 2000.0)
# A whistle sweeps from WHISTLE_LOW_HZ up by this ratio (or down to it).
WHISTLE_LOW_HZ = (500.0, 800.0)
WHISTLE_RATIO = (2.2, 3.0)
# Clicks per second.
CLICK_RATE = {"fast": 8.0, "slow": 2.0}
# Peak amplitudes (tones, clicks) and RMS (noise) of the two loudness levels:
# about 20 dB apart, so a loud/quiet threshold halfway has 8-10 dB either side.
_TONE_AMP = {"loud": (0.5, 0.7), "quiet": (0.05, 0.075)}
_NOISE_RMS = {"loud": (0.18, 0.25), "quiet": (0.018, 0.026)}
_CLICK_AMP = {"loud": (0.7, 0.9), "quiet": (0.07, 0.1)}

MIN_SECONDS, MAX_SECONDS = sketch_words.SOUND_SECONDS
RATE = 16000

# Every word a sketch sound caption can use (the domain's table); anything else is unknown to the model.
VOCABULARY = SOUND_WORDS


class CaptionError(ValueError):
    """A caption outside the sketch sound grammar; the message says which word and why."""


@dataclass(frozen=True)
class SoundScene:
    """What a caption says: one sound and its qualities ("" = not said)."""

    kind: str = "beeps"  # one of KINDS
    count: int = 1  # beeps only (1-4); 1 for every other kind
    pitch: str = ""  # beeps and hum: "low" | "high" | ""
    direction: str = ""  # whistle: "rising" | "falling"
    rate: str = ""  # clicks: "fast" | "slow"
    loudness: str = ""  # "loud" | "quiet" | ""

    def caption(self) -> str:
        loud = [self.loudness] if self.loudness else []
        pitch = [self.pitch] if self.pitch else []
        if self.kind == "beeps":
            words = [NUMBER_WORDS[self.count], *loud, *pitch, "beep" if self.count == 1 else "beeps"]
        elif self.kind == "whistle":
            words = ["a", *loud, self.direction, "whistle"]
        elif self.kind == "hum":
            words = ["a", *loud, *pitch, "hum"]
        elif self.kind == "noise":
            words = [{"quiet": "soft"}.get(self.loudness, self.loudness)] if self.loudness else []
            words.append("noise")
        else:
            words = [*loud, self.rate, "clicks"]
        return " ".join(words)


def caption(scene: SoundScene) -> str:
    return scene.caption()


def unknown_words(text: str) -> list[str]:
    """The words of `text` the sketch sound model was never taught, in order, once each."""
    return sketch_words.unknown_words("sketch-sound", text)


def parse(text: str) -> SoundScene:
    """The sound a caption describes. Raises CaptionError naming the word it could not place."""
    words = sketch_words.words(text)
    unknown = unknown_words(text)
    if unknown:
        raise CaptionError(f"the sketch sound model does not know the word(s): {', '.join(unknown)}")
    nouns = [w for w in words if w in NOUNS]
    if len(nouns) != 1:
        raise CaptionError("a sketch sound caption names one sound: beep(s), whistle, hum, noise or clicks"
                           + (f" (found: {', '.join(nouns)})" if nouns else ""))
    kind = NOUNS[nouns[0]]

    def one_of(options, what: str) -> str:
        found = [w for w in words if w in options]
        if len(found) > 1:
            raise CaptionError(f"'{text}' gives two {what}s: {', '.join(found)}")
        return found[0] if found else ""

    loudness = one_of({"loud", "quiet", "soft"}, "loudness")
    loudness = "quiet" if loudness == "soft" else loudness
    pitch = one_of(set(PITCHES), "pitch")
    direction = one_of(set(DIRECTIONS), "direction")
    rate = one_of(set(RATES), "rate")
    counts = [w for w in words if w in COUNT_WORDS]
    if len(counts) > 1:
        raise CaptionError(f"'{text}' gives two counts: {', '.join(counts)}")
    count = COUNT_WORDS[counts[0]] if counts else 1
    if count > 1 and kind != "beeps":
        raise CaptionError(f"only beeps can be counted ('{counts[0]}' {nouns[0]})")
    if pitch and kind not in ("beeps", "hum"):
        raise CaptionError(f"'{pitch}' applies to beeps and hums, not to {kind}")
    if direction and kind != "whistle":
        raise CaptionError(f"'{direction}' applies to a whistle, not to {kind}")
    if rate and kind != "clicks":
        raise CaptionError(f"'{rate}' applies to clicks, not to {kind}")
    if kind == "whistle" and not direction:
        raise CaptionError("say whether the whistle is rising or falling")
    if kind == "clicks" and not rate:
        raise CaptionError("say whether the clicks are fast or slow")
    if kind == "beeps" and nouns[0] == "beeps" and not counts:
        raise CaptionError("say how many beeps (two, three or four)")
    return SoundScene(kind=kind, count=count, pitch=pitch, direction=direction, rate=rate, loudness=loudness)


# --- Drawing a random scene from the grammar ------------------------------------------


def random_sound_scene(rng: np.random.Generator) -> SoundScene:
    """A scene drawn from the grammar: beeps most often (they have the most variants)."""
    kind = KINDS[int(rng.choice(5, p=[0.32, 0.17, 0.17, 0.14, 0.20]))]
    u = rng.random()
    loudness = "loud" if u < 0.4 else "quiet" if u < 0.8 else ""
    if kind == "beeps":
        pitch = PITCHES[rng.integers(2)] if rng.random() < 0.9 else ""
        return SoundScene(kind=kind, count=int(rng.integers(1, 5)), pitch=pitch, loudness=loudness)
    if kind == "whistle":
        return SoundScene(kind=kind, direction=DIRECTIONS[rng.integers(2)], loudness=loudness)
    if kind == "hum":
        pitch = PITCHES[rng.integers(2)] if rng.random() < 0.9 else ""
        return SoundScene(kind=kind, pitch=pitch, loudness=loudness)
    if kind == "noise":
        return SoundScene(kind=kind, loudness=loudness)
    return SoundScene(kind=kind, rate=RATES[rng.integers(2)], loudness=loudness)


def random_seconds(rng: np.random.Generator) -> float:
    """A clip length drawn evenly from 1-4 s, to a hundredth of a second."""
    return round(float(rng.uniform(MIN_SECONDS, MAX_SECONDS)), 2)


# --- Rendering ------------------------------------------------------------------------


def _fade(n: int, fade: int) -> np.ndarray:
    """A raised-cosine on/off envelope of n samples with `fade`-sample ramps."""
    env = np.ones(n, np.float64)
    fade = max(1, min(fade, n // 2))
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)
    env[:fade] = ramp
    env[n - fade:] = ramp[::-1]
    return env


def _tone(freq: float, n: int, rate: int, phase: float) -> np.ndarray:
    """A steady tone; low tones carry a quieter second harmonic (the fundamental stays dominant)."""
    t = np.arange(n) / rate
    wave = np.sin(2 * np.pi * freq * t + phase)
    if freq < 600:
        wave = (wave + 0.3 * np.sin(4 * np.pi * freq * t + 2 * phase)) / 1.3
    return wave


def _pitch_hz(pitch: str, rng: np.random.Generator) -> float:
    pitch = pitch or PITCHES[rng.integers(2)]
    lo, hi = LOW_HZ if pitch == "low" else HIGH_HZ
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


# "by_caption" timing: each quality at one value, give or take a little (see render).
_CAPTION_HZ = {"low": 170.0, "high": 1550.0}
_CAPTION_WHISTLE_LOW_HZ, _CAPTION_WHISTLE_RATIO = 640.0, 2.6
_CAPTION_JITTER = 0.03  # +-3% on frequencies and rates, +-10 ms on times
TIMINGS = ("free", "by_caption")


def render(scene: SoundScene, seed: int, seconds: float = 2.0, rate: int = RATE, *,
           timing: str = "free") -> np.ndarray:
    """The samples a scene describes: float32 mono in [-1, 1], `seconds` long (1-4 s).

    The seed picks the exact frequencies, timings, phases and level. With
    `timing` "free" it picks them anywhere the contract allows; with
    "by_caption" each sits at one value for what the caption says (a low tone
    near 170 Hz, beeps 0.14 s long every 0.32 s from 0.15 s, a whistle over the
    middle 85% of the clip...), give or take a little, so a caption names nearly
    one sound: what a small model learns in CPU minutes. Phases and noise stay
    random either way.
    """
    if not MIN_SECONDS <= seconds <= MAX_SECONDS + 1e-9:
        raise ValueError(f"sketch sounds are {MIN_SECONDS:g}-{MAX_SECONDS:g} s long, not {seconds}")
    if timing not in TIMINGS:
        raise ValueError(f"timing must be one of {TIMINGS}, not {timing!r}")
    rng = np.random.default_rng(seed)
    fixed = timing == "by_caption"

    def near(value: float) -> float:  # a caption's value, jittered by the seed
        return value * (1 + rng.uniform(-_CAPTION_JITTER, _CAPTION_JITTER))

    def about(t: float) -> float:
        return t + rng.uniform(-0.01, 0.01)
    n = int(round(seconds * rate))
    out = np.zeros(n, np.float64)
    level = scene.loudness or "loud"

    def at(t: float) -> int:
        return int(round(t * rate))

    if scene.kind == "beeps":
        freq = near(_CAPTION_HZ[scene.pitch or PITCHES[rng.integers(2)]]) if fixed else _pitch_hz(scene.pitch, rng)
        amp = rng.uniform(*_TONE_AMP[level])
        if fixed:
            length, gap, start = about(0.14), about(0.18), about(0.15)
        else:
            length, gap = rng.uniform(0.10, 0.18), rng.uniform(0.12, 0.22)
            start = rng.uniform(0.05, 0.2)
        k = scene.count
        room = seconds - 0.08 - start
        need = k * length + (k - 1) * gap
        if need > room:  # short clips squeeze the pattern, keeping its proportions
            length, gap = length * room / need, gap * room / need
        for i in range(k):
            a = at(start + i * (length + gap))
            m = at(length)
            out[a:a + m] += amp * _fade(m, at(0.008)) * _tone(freq, m, rate, rng.uniform(0, 2 * np.pi))
    elif scene.kind == "whistle":
        amp = rng.uniform(*_TONE_AMP[level])
        if fixed:
            low, ratio = near(_CAPTION_WHISTLE_LOW_HZ), _CAPTION_WHISTLE_RATIO
            length = seconds * 0.85
            a = at(about((seconds - length) / 2))
        else:
            low = rng.uniform(*WHISTLE_LOW_HZ)
            ratio = rng.uniform(*WHISTLE_RATIO)
            length = seconds * rng.uniform(0.75, 0.92)
            a = at(rng.uniform(0.02, seconds - length - 0.02))
        m = at(length)
        t = np.arange(m) / rate
        f0, r = (low, ratio) if scene.direction == "rising" else (low * ratio, 1 / ratio)
        # An exponential sweep: the pitch moves evenly in octaves.
        phase = 2 * np.pi * f0 * length / math.log(r) * (np.power(r, t / length) - 1)
        out[a:a + m] += amp * _fade(m, at(0.03)) * np.sin(phase + rng.uniform(0, 2 * np.pi))
    elif scene.kind == "hum":
        freq = near(_CAPTION_HZ[scene.pitch or PITCHES[rng.integers(2)]]) if fixed else _pitch_hz(scene.pitch, rng)
        amp = rng.uniform(*_TONE_AMP[level])
        a = at(rng.uniform(0.03, 0.05) if fixed else rng.uniform(0.0, 0.08))
        m = n - a - at(rng.uniform(0.03, 0.05) if fixed else rng.uniform(0.0, 0.08))
        out[a:a + m] += amp * _fade(m, at(0.05)) * _tone(freq, m, rate, rng.uniform(0, 2 * np.pi))
    elif scene.kind == "noise":
        rms = rng.uniform(*_NOISE_RMS[level])
        a = at(rng.uniform(0.04, 0.06) if fixed else rng.uniform(0.0, 0.1))
        m = n - a - at(rng.uniform(0.04, 0.06) if fixed else rng.uniform(0.0, 0.1))
        out[a:a + m] += rms * _fade(m, at(0.05)) * rng.standard_normal(m)
    elif scene.kind == "clicks":
        amp = rng.uniform(*_CLICK_AMP[level])
        if fixed:
            period = near(1.0 / CLICK_RATE[scene.rate])
            t = about(0.06)
        else:
            period = 1.0 / CLICK_RATE[scene.rate] * rng.uniform(0.93, 1.07)
            t = rng.uniform(0.03, min(0.2, period * 0.6))
        click_n = at(0.006)
        decay = np.exp(-np.arange(click_n) / (0.0015 * rate))
        while t + 0.01 < seconds:
            a = at(t)
            burst = rng.standard_normal(click_n) * decay
            burst *= amp / max(np.abs(burst).max(), 1e-9)
            m = min(click_n, n - a)
            out[a:a + m] += burst[:m]
            t += period * (1.0 if fixed else rng.uniform(0.97, 1.03))
    else:
        raise ValueError(f"unknown sound kind {scene.kind!r}")
    return np.clip(out, -1.0, 1.0).astype(np.float32)
