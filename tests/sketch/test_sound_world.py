"""The sketch sound world's grammar and rendering, and the sound judge on clips whose truth is known.

The judge decides whether the trained sketch-sound model did what it was
asked, so it is itself tested first on the world's own clips: straight from
the renderer, through a 16-bit WAV file (the project's own writer and reader,
at another rate and in stereo), through AAC in MP4, and on clips that show the
wrong thing.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engines.sketch import sounds
from engines.sketch.judge_sound import judge
from engines.sketch.sounds import CaptionError, SoundScene


def _clips(n: int, seed: int):
    rng = np.random.default_rng(seed)
    for i in range(n):
        scene = sounds.random_sound_scene(rng)
        yield scene, sounds.random_seconds(rng), 50_000 + seed * 1000 + i


def test_captions_parse_back_to_their_scene():
    rng = np.random.default_rng(11)
    seen = set()
    for _ in range(500):
        scene = sounds.random_sound_scene(rng)
        assert sounds.parse(scene.caption()) == scene
        seen.add(scene.kind)
    assert seen == set(sounds.KINDS)


@pytest.mark.parametrize("caption, scene", [
    ("a high beep", SoundScene("beeps", 1, pitch="high")),
    ("three low beeps", SoundScene("beeps", 3, pitch="low")),
    ("Two loud high beeps.", SoundScene("beeps", 2, pitch="high", loudness="loud")),
    ("a beep", SoundScene("beeps", 1)),
    ("four quiet beeps", SoundScene("beeps", 4, loudness="quiet")),
    ("a rising whistle", SoundScene("whistle", direction="rising")),
    ("a quiet falling whistle", SoundScene("whistle", direction="falling", loudness="quiet")),
    ("a low hum", SoundScene("hum", pitch="low")),
    ("soft noise", SoundScene("noise", loudness="quiet")),
    ("loud noise", SoundScene("noise", loudness="loud")),
    ("fast clicks", SoundScene("clicks", rate="fast")),
    ("quiet slow clicks", SoundScene("clicks", rate="slow", loudness="quiet")),
])
def test_the_issue_examples_parse(caption, scene):
    assert sounds.parse(caption) == scene


@pytest.mark.parametrize("caption, words", [
    ("a high meow", ["meow"]),
    ("three low beeps, reverb, 4k", ["reverb", "4k"]),
    ("a Rising whistle underwater", ["underwater"]),
])
def test_unknown_words_are_named(caption, words):
    assert sounds.unknown_words(caption) == words
    with pytest.raises(CaptionError, match=words[0]):
        sounds.parse(caption)


def test_the_vocabulary_covers_every_caption_and_nothing_is_dropped():
    rng = np.random.default_rng(3)
    for _ in range(200):
        assert sounds.unknown_words(sounds.random_sound_scene(rng).caption()) == []
    assert "beep" in sounds.VOCABULARY and "meow" not in sounds.VOCABULARY


@pytest.mark.parametrize("caption, needle", [
    ("two whistles", "whistle"),  # 'whistles' is not a word of the grammar
    ("two rising whistle", "only beeps can be counted"),
    ("a whistle", "rising or falling"),
    ("clicks", "fast or slow"),
    ("a high whistle", "high"),
    ("a loud quiet beep", "two loudness"),
    ("a beep hum", "one sound"),
])
def test_captions_outside_the_grammar_say_why(caption, needle):
    with pytest.raises(CaptionError, match=needle):
        sounds.parse(caption)


def test_rendering_is_deterministic_by_seed_and_has_the_asked_length():
    scene = SoundScene("beeps", 3, pitch="low", loudness="loud")
    a = sounds.render(scene, 5, 2.5)
    assert a.dtype == np.float32 and a.shape == (40000,)
    assert np.array_equal(a, sounds.render(scene, 5, 2.5))
    assert not np.array_equal(a, sounds.render(scene, 6, 2.5))
    assert np.abs(a).max() <= 1.0
    with pytest.raises(ValueError):
        sounds.render(scene, 5, 5.0)


def test_the_contract_frequencies_and_rates():
    low = judge(sounds.render(SoundScene("hum", pitch="low"), 1, 2.0))
    high = judge(sounds.render(SoundScene("hum", pitch="high"), 1, 2.0))
    assert 110 <= low.pitch_hz <= 250 and 1200 <= high.pitch_hz <= 2000
    up = judge(sounds.render(SoundScene("whistle", direction="rising"), 1, 3.0))
    assert up.octaves >= 1.0
    fast = judge(sounds.render(SoundScene("clicks", rate="fast"), 1, 3.0))
    slow = judge(sounds.render(SoundScene("clicks", rate="slow"), 1, 3.0))
    assert 0.11 < fast.spacing_s < 0.14 and 0.45 < slow.spacing_s < 0.55


@pytest.mark.slow  # 300 clips, about a minute
def test_the_judge_is_right_on_the_worlds_own_clips():
    wrong = []
    for scene, seconds, seed in _clips(300, seed=1):
        verdict = judge(sounds.render(scene, seed, seconds), sounds.RATE)
        if not verdict.matches(scene):
            wrong.append(f"{scene.caption()!r} ({seconds} s, seed {seed}): {verdict.problems(scene)}; {verdict.reason}")
    assert not wrong, "\n".join(wrong)


def test_by_caption_timing_gives_a_caption_nearly_one_sound_and_the_judge_hears_it():
    beeps = SoundScene("beeps", count=3, pitch="low")
    pitches = [judge(sounds.render(beeps, s, 2.0, timing="by_caption")).pitch_hz for s in range(8)]
    assert max(pitches) / min(pitches) < 1.08  # one pitch, give or take 3%
    free = [judge(sounds.render(beeps, s, 2.0)).pitch_hz for s in range(8)]
    assert max(free) / min(free) > 1.2
    onsets = [np.flatnonzero(np.abs(sounds.render(beeps, s, 2.0, timing="by_caption")) > 0.01)[0] / sounds.RATE
              for s in range(8)]
    assert np.ptp(onsets) < 0.03
    wrong = []
    for scene, seconds, seed in _clips(60, seed=4):
        verdict = judge(sounds.render(scene, seed, seconds, timing="by_caption"), sounds.RATE)
        if not verdict.matches(scene):
            wrong.append(f"{scene.caption()!r} ({seconds} s): {verdict.reason}")
    assert not wrong, "\n".join(wrong)


def test_the_judge_hears_the_wrong_thing_as_wrong():
    """Each clip judged against a scene that differs in one quality must fail."""
    changed = {"beeps": lambda s: replace(s, count=s.count % 4 + 1), "whistle": lambda s: replace(
        s, direction="falling" if s.direction == "rising" else "rising"),
               "hum": lambda s: replace(s, kind="beeps"), "noise": lambda s: replace(s, kind="clicks", rate="fast"),
               "clicks": lambda s: replace(s, rate="fast" if s.rate == "slow" else "slow")}
    for scene, seconds, seed in _clips(60, seed=2):
        verdict = judge(sounds.render(scene, seed, seconds))
        assert not verdict.matches(changed[scene.kind](scene)), scene.caption()
        if scene.loudness:
            other = replace(scene, loudness="quiet" if scene.loudness == "loud" else "loud")
            assert not verdict.matches(other), scene.caption()
        if scene.pitch:
            other = replace(scene, pitch="high" if scene.pitch == "low" else "low")
            assert not verdict.matches(other), scene.caption()


def test_the_judge_through_a_16_bit_stereo_wav_at_another_rate(tmp_path):
    from scipy.signal import resample_poly

    from engines.media.audio import read_audio, write_audio
    from nodes.values import Audio

    wrong = []
    for scene, seconds, seed in _clips(60, seed=3):
        mono = sounds.render(scene, seed, seconds)
        stereo = np.stack([mono, mono]) * 0.999
        up = resample_poly(stereo, 441, 160, axis=1).astype(np.float32)  # 16 kHz -> 44.1 kHz
        path = tmp_path / f"{seed}.wav"
        write_audio(path, Audio(samples=np.clip(up, -1, 1), rate=44100))
        back = read_audio(path)
        assert back.rate == 44100 and back.samples.shape[0] == 2
        verdict = judge(back.samples, back.rate)
        if not verdict.matches(scene):
            wrong.append(f"{scene.caption()!r} seed {seed}: {verdict.problems(scene)}; {verdict.reason}")
    assert not wrong, "\n".join(wrong)


def _aac_round_trip(mono: np.ndarray, rate: int, path) -> tuple[np.ndarray, int]:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=rate)
        stream.layout = "mono"
        stream.bit_rate = 64000
        frame = av.AudioFrame.from_ndarray(mono[None, :].astype(np.float32), format="flt", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    chunks = []
    with av.open(str(path)) as inp:
        for frame in inp.decode(audio=0):
            chunks.append(frame.to_ndarray().reshape(frame.to_ndarray().shape[0], -1).mean(axis=0))
            got_rate = frame.sample_rate
    return np.concatenate(chunks), got_rate


def test_the_judge_through_aac_in_mp4(tmp_path):
    wrong = []
    for scene, seconds, seed in _clips(40, seed=4):
        decoded, rate = _aac_round_trip(sounds.render(scene, seed, seconds), sounds.RATE, tmp_path / f"{seed}.mp4")
        verdict = judge(decoded, rate)
        if not verdict.matches(scene):
            wrong.append(f"{scene.caption()!r} seed {seed}: {verdict.problems(scene)}; {verdict.reason}")
    assert not wrong, "\n".join(wrong)


def test_silence_is_nothing():
    verdict = judge(np.zeros(32000, np.float32))
    assert verdict.kind == "silence"
    assert not verdict.matches(SoundScene("noise"))
