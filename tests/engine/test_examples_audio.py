"""The sound and cutting examples render with `weft render --models tiny`, and what
they write is what an artist would check: frames, size, fps, sound length and rate.

One `weft render` call renders the three sound-and-cut projects with one engine
worker, as a script would, exactly as shipped. video_with_sound (whose
text-to-video node is the slow part of this suite) renders in a second call
with its step counts lowered by `--set`: what it is checked for, the picture and
the sound lining up, does not depend on the number of steps.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engines import media

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "assets" / "examples"
# (projects, --set overrides) per render call.
RENDERS = (
    (("edit_cut", "soundtrack_for_video", "joint_audio_video"), ()),
    (("video_with_sound",), ("t2v.steps=2", "t2a.steps=2")),
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, tiny_models_dir):
    import os

    out = tmp_path_factory.mktemp("examples")
    # OMP_WAIT_POLICY=PASSIVE: on a shared, oversubscribed CPU, OpenMP threads that spin while
    # waiting made the tiny LTX-2 render 5x slower (27 s against 5.6 s, measured); it changes
    # nothing in what is rendered.
    env = dict(os.environ, WEFT_TINY_DIR=str(tiny_models_dir), WEFT_CACHE_DIR=str(out / "cache"),
               OMP_WAIT_POLICY="PASSIVE")
    events = []
    for names, overrides in RENDERS:
        projects = [str(EXAMPLES / f"{name}.weft") for name in names]
        sets = [arg for o in overrides for arg in ("--set", o)]
        done = subprocess.run([sys.executable, "-m", "app", "render", *projects, *sets, "--models", "tiny",
                               "--json", "--output-dir", str(out)], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        events += [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return out, events


def test_the_inputs_are_made_by_the_project_and_committed():
    script = (ROOT / "assets" / "make_audio_inputs.py").read_text()
    assert "engines import media" in script
    for name in ("clip_orbit.mp4", "clip_bars.mp4", "chime.wav"):
        assert (ROOT / "assets" / "inputs" / name).stat().st_size < 400_000


def test_edit_cut_is_exact_in_length_and_carries_the_sound(rendered):
    out, _ = rendered
    info = media.probe(out / "edit_cut.mp4")
    # 25 graded orbit frames + the 1 s bars clip retimed to 16 fps (16 frames), dissolving over
    # 4 frames into the rewound orbit at double speed (13 frames).
    assert (info.width, info.height, info.fps) == (320, 192, 16.0)
    assert info.frames == 25 + 16 + 13 - 4
    assert info.has_audio and info.audio_seconds == pytest.approx(info.frames / 16.0, abs=0.03)
    square = media.probe(out / "edit_cut_square.mp4")
    assert (square.width, square.height, square.frames) == (192, 192, info.frames)


def test_video_with_sound_keeps_working(rendered):
    out, _ = rendered
    info = media.probe(out / "video_with_sound.mp4")
    assert (info.frames, info.width, info.height, info.fps) == (33, 480, 272, 16.0)
    assert info.audio_codec == "aac" and info.audio_seconds == pytest.approx(33 / 16, abs=0.03)


def test_soundtrack_is_exactly_as_long_as_the_clip(rendered):
    out, events = rendered
    info = media.probe(out / "soundtrack_for_video.mp4")
    assert (info.frames, info.fps, info.width, info.height) == (33, 16.0, 320, 192)
    # Mixed with the clip's own 48 kHz sound: the mix takes the higher rate.
    assert info.audio_rate == 48000 and info.audio_seconds == pytest.approx(33 / 16, abs=0.03)
    score = media.read_audio(out / "soundtrack_for_video_score.wav")
    assert (score.rate, score.channels) == (44100, 2)
    assert score.num_samples == round(33 / 16 * 44100)  # mixed to the first track's length, sample-exact
    scored = [e for e in events if e["event"] == "node_finished" and e["node"] == "score" and not e["cached"]]
    assert scored and scored[0]["stats"]["nfe"] == 2 * 8  # 8 guided steps


def test_joint_audio_video_has_picture_and_sound_of_one_length(rendered):
    out, _ = rendered
    info = media.probe(out / "joint_audio_video.mp4")
    assert (info.frames, info.width, info.height, info.fps) == (49, 512, 288, 24.0)
    assert info.has_audio and info.audio_seconds == pytest.approx(49 / 24, abs=0.03)
    sound = media.read_audio(out / "joint_audio_video_sound.flac")
    assert (sound.rate, sound.channels, sound.num_samples) == (24000, 2, round(49 / 24 * 24000))
