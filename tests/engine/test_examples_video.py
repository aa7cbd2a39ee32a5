"""The video-generation examples render with `weft render --models tiny`, and what they
write is what an artist would check: frames, size, fps; the masked edit and the
populated scene keep their untouched pixels through the MP4 round trip.

One `weft render` call renders all six projects with one engine worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engines import media

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "assets" / "examples"
INPUTS = ROOT / "assets" / "inputs"
MINE = ("text_to_video", "image_to_video", "personalize_two_subjects", "edit_restyle", "edit_masked",
        "populate_scene")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, tiny_models_dir):
    out = tmp_path_factory.mktemp("video-examples")
    env = dict(os.environ, WEFT_TINY_DIR=str(tiny_models_dir), WEFT_CACHE_DIR=str(out / "cache"))
    projects = [str(EXAMPLES / f"{name}.weft") for name in MINE]
    done = subprocess.run([sys.executable, "-m", "app", "render", *projects, "--models", "tiny", "--json",
                           "--output-dir", str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return out, events


def test_the_inputs_are_made_by_the_project_and_committed():
    script = (ROOT / "assets" / "make_example_inputs.py").read_text()
    assert "engines import media" in script and "cv2" in script
    for name in ("subject_mia.png", "subject_leo.png", "scene_park.png", "region_bench.png", "clip_street.mp4",
                 "mask_sign.png"):
        assert (INPUTS / name).stat().st_size < 100_000


@pytest.mark.parametrize("name, frames, size, fps", [
    ("text_to_video", 25, (480, 272), 16.0),  # 16:9 preview, 1.5 s at 16 fps -> 25 (4k+1)
    ("image_to_video", 25, (352, 416), 24.0),  # the portrait's 4:5 at the preview area, multiples of 32
    ("personalize_two_subjects", 17, (480, 272), 16.0),
    ("edit_restyle", 33, (320, 176), 16.0),  # the street clip's own length, size and rate
    ("edit_masked", 33, (320, 176), 16.0),
    ("populate_scene", 17, (480, 272), 16.0),
])
def test_each_example_writes_the_video_it_promises(rendered, name, frames, size, fps):
    out, events = rendered
    info = media.probe(out / f"{name}.mp4")
    assert (info.frames, (info.width, info.height), info.fps) == (frames, size, fps)


def test_every_model_node_reported_each_step(rendered):
    _, events = rendered
    finished = [e for e in events if e["event"] == "node_finished" and e["stats"].get("nfe")]
    assert sorted(e["node"] for e in finished) == ["cast", "edit", "i2v", "populate", "restyle", "t2v"]
    for event in finished:
        progress = [e for e in events if e["event"] == "progress" and e["job"] == event["job"]
                    and e["node"] == event["node"]]
        total = progress[-1]["total"]
        assert [(e["step"], e["total"]) for e in progress] == [(i, total) for i in range(1, total + 1)]


def test_the_personalised_example_puts_mia_first(rendered):
    _, events = rendered
    cast = next(e for e in events if e["event"] == "node_finished" and e["node"] == "cast")
    assert cast["stats"]["reference_order"] == ["reference_1", "reference_2"]


def _far_outside(mask: np.ndarray, margin: int) -> np.ndarray:
    import cv2

    outside = (mask < 0.5).astype(np.uint8)
    return cv2.erode(outside, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)).astype(bool)


def test_the_masked_edit_keeps_the_street_outside_the_sign(rendered):
    out, _ = rendered
    clip = media.read_video(INPUTS / "clip_street.mp4")
    edited = media.read_video(out / "edit_masked.mp4")
    far = _far_outside(media.read_mask(INPUTS / "mask_sign.png").values, 8)
    error = np.abs(edited.frames[:, far].astype(int) - clip.frames[:, far])
    assert error.mean() < 2.5 and np.percentile(error, 99.9) < 24


def test_the_populated_scene_keeps_the_park_outside_the_region(rendered, tmp_path):
    from engines.video_models import fit_frames, fit_mask
    from nodes.values import Video

    out, _ = rendered
    video = media.read_video(out / "populate_scene.mp4")
    plate = fit_frames(media.read_image(INPUTS / "scene_park.png").pixels[None], 480, 272)[0]
    # The park as the same codec shows it (chroma subsampling blurs its sharp coloured edges).
    media.write_video(tmp_path / "plate.mp4", Video(np.repeat(plate[None], video.num_frames, axis=0), video.fps))
    park = media.read_video(tmp_path / "plate.mp4").frames
    far = _far_outside(fit_mask(media.read_mask(INPUTS / "region_bench.png").values, 1, 480, 272)[0], 8)
    error = np.abs(video.frames[1:, far].astype(int) - park[1:, far])
    assert error.mean() < 1.5 and np.percentile(error, 99.9) < 12
