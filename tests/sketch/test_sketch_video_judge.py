"""sketch-video, judged: 30 fresh prompts rendered the way an artist batch-renders them.

The prompts are drawn from the world's grammar with a generator seed the
training never used (training scenes come from seed 1, its evaluation from
seed 7; see engines/sketch/train_video.py), and each clip's noise seed is
new too. Every clip goes through `weft batch` on the shipped example project,
is written as an H.264 MP4, decoded again, and judged from the decoded frames.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engines.media.video import read_video
from engines.sketch.scorecard import VideoScorecard, judge_scenes
from engines.sketch.train_video import EVAL_SCENES_SEED, TRAIN_SCENES_SEED

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "assets" / "examples" / "sketch_text_to_video.weft"
JUDGE_SCENES_SEED = 2026
PROMPTS = 30

pytestmark = pytest.mark.slow


def test_the_judge_prompts_are_not_the_training_ones():
    assert JUDGE_SCENES_SEED not in (TRAIN_SCENES_SEED, EVAL_SCENES_SEED)


@pytest.mark.timeout(1500)  # 30 clips through weft batch: 2-5 min on a busy 2-core CPU
def test_sketch_video_shows_what_30_fresh_prompts_ask(tmp_path):
    scenes = judge_scenes(JUDGE_SCENES_SEED, PROMPTS)
    table = tmp_path / "prompts.csv"
    with open(table, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "prompt.text", "t2v.seed"])
        for i, scene in enumerate(scenes):
            writer.writerow([f"clip{i:02d}", scene.caption(), 5000 + i])
    out = tmp_path / "renders"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    result = subprocess.run([sys.executable, "-m", "app", "batch", str(EXAMPLE), "--from-csv", str(table),
                             "--output-dir", str(out), "--workers", "1"],
                            capture_output=True, text=True, env=env, timeout=1500)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    manifest = json.loads((out / "manifest.json").read_text())
    jobs = {job["label"].split()[0]: job for job in manifest["jobs"]}  # "NAME swept values"
    card = VideoScorecard()
    for i, scene in enumerate(scenes):
        job = jobs[f"clip{i:02d}"]
        mp4 = [Path(p) for p in job["outputs"] if str(p).endswith(".mp4")]
        assert len(mp4) == 1, job
        path = mp4[0] if mp4[0].is_absolute() else out / mp4[0]
        video = read_video(path)
        assert video.frames.shape == (17, 64, 64, 3)
        card.add(scene, video.frames)
    report = card.report()
    print(report)
    # The bar is 90%. The weights shipped now do not reach it (the model
    # card's score table, issue 9's note): until they do, the whole path (batch
    # render, MP4, decode, judge) is still checked above and the shortfall is
    # reported as an expected failure with its figure, never as a pass.
    if card.accuracy() < 0.9:
        pytest.xfail(f"sketch-video passes the judge on {card.accuracy():.0%} of 30 fresh prompts, under the 90% bar\n"
                     + report)
