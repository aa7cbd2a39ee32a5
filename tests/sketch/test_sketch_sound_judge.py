"""The shipped sketch-sound weights, judged: does the model make what it is asked?

Loads engines/sketch/weights/sketch-sound with the plain
`StableAudioPipeline.from_pretrained`, exactly as the real Stable Audio Open is
loaded, generates 30 fresh prompts from the sketch sound grammar, writes each
as a WAV, reads it back and asks the judge (engines/sketch/judge_sound.py).

Seed split: training clips use scenes from rng seed 1 and clip seeds
0..clips-1; the evaluation during training uses scenes from rng seed 7, lengths
from rng seed 8 and generator seeds from 1_000_000 (engines/sketch/train_sound.py).
This test draws scenes from rng seed 2027, lengths from 2028 and generator
seeds from 5_000_000, none of which training saw. (The grammar is small, so
captions repeat; the noise, lengths and sampling noise are fresh.)
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest

from engines.sketch import sounds

WEIGHTS = Path(__file__).resolve().parents[2] / "engines" / "sketch" / "weights" / "sketch-sound"
PROMPTS = 30
SCENES_SEED, LENGTHS_SEED, GENERATOR_SEED = 2027, 2028, 5_000_000
STEPS, GUIDANCE = 25, 5.0


def _prompts():
    scenes = np.random.default_rng(SCENES_SEED)
    lengths = np.random.default_rng(LENGTHS_SEED)
    return [(sounds.random_sound_scene(scenes), sounds.random_seconds(lengths)) for _ in range(PROMPTS)]


@pytest.mark.slow
@pytest.mark.timeout(1200)  # 30 generations at T=257 tokens: 1-4 min on a busy 2-core CPU
def test_the_shipped_model_makes_what_it_is_asked(tmp_path):
    if not (WEIGHTS / "model_index.json").exists():
        pytest.skip(f"no sketch-sound weights at {WEIGHTS} (train them: python -m engines.sketch.train_sound)")
    import torch
    from diffusers import StableAudioPipeline

    from engines.media.audio import read_audio, write_audio
    from engines.sketch.judge_sound import judge
    from nodes.values import Audio

    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    pipe = StableAudioPipeline.from_pretrained(WEIGHTS, torch_dtype=torch.float32, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    rate = pipe.vae.config.sampling_rate
    assert rate >= 16000

    confusion: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    content_right = full_right = 0
    lines = []
    for i, (scene, seconds) in enumerate(_prompts()):
        g = torch.Generator().manual_seed(GENERATOR_SEED + i)
        audio = pipe(prompt=scene.caption(), audio_end_in_s=seconds, num_inference_steps=STEPS,
                     guidance_scale=GUIDANCE, generator=g, output_type="np").audios[0]
        assert audio.shape[-1] == int(seconds * rate)
        path = tmp_path / f"{i:02d}.wav"
        write_audio(path, Audio(samples=np.clip(audio, -1, 1), rate=rate))
        back = read_audio(path)
        verdict = judge(back.samples, back.rate)
        asked = scene.caption()
        confusion[_label(scene)][_heard(verdict)] += 1
        content_right += verdict.content_matches(scene)
        full_right += verdict.matches(scene)
        mark = "ok " if verdict.content_matches(scene) else "BAD"
        lines.append(f"{mark} {asked!r:28} {seconds:4.2f}s -> {verdict.reason}")
    print("\n".join(lines))
    labels = sorted(set(confusion) | {h for c in confusion.values() for h in c})
    print("\nconfusion (rows: asked, columns: heard)")
    print(" " * 18 + " ".join(f"{h[:10]:>10}" for h in labels))
    for a in sorted(confusion):
        print(f"{a:>18}" + " ".join(f"{confusion[a][h]:>10}" for h in labels))
    print(f"\ncontent (kind, pitch class, count/sweep/rate) right: {content_right}/{PROMPTS}; "
          f"with loudness too: {full_right}/{PROMPTS}")
    # The bar is 90%. The weights shipped now do not reach it (the model
    # card's status, issue 9's note): until they do, the whole path (pipeline,
    # length, WAV round trip, judge) is still checked above and the shortfall is
    # reported as an expected failure with its figure, never as a pass.
    if content_right < 0.9 * PROMPTS:
        pytest.xfail(f"sketch-sound's content is right on {content_right}/{PROMPTS} fresh prompts, under the 90% bar")


def _label(scene: sounds.SoundScene) -> str:
    if scene.kind == "beeps":
        return f"{scene.count} {scene.pitch or '?'} beep"
    if scene.kind == "whistle":
        return f"{scene.direction} whistle"
    if scene.kind == "hum":
        return f"{scene.pitch or '?'} hum"
    if scene.kind == "clicks":
        return f"{scene.rate} clicks"
    return "noise"


def _heard(v) -> str:
    if v.kind == "beeps":
        return f"{v.count} {v.pitch or '?'} beep"
    if v.kind == "whistle":
        return f"{v.direction} whistle"
    if v.kind == "hum":
        return f"{v.pitch or '?'} hum"
    if v.kind == "clicks":
        return f"{v.rate} clicks"
    return v.kind
