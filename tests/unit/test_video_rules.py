"""What each video model accepts (nodes/video_rules.py): the sizes, lengths and settings a
node's parameters turn into, as the render will get them."""

from __future__ import annotations

import pytest

from nodes.aspects import ASPECTS
from nodes.graph import Graph
from nodes.validation import validate
from nodes.video_rules import RESOLUTIONS, recommended, resolve_shape, working_size

WAN = "wan2.1-t2v-1.3b"


def shape(model, **params):
    return resolve_shape(model, {"aspect": "16:9", "resolution": "480p", "duration_unit": "seconds",
                                 "seconds": 2.0, "fps": 16.0, **params})


def test_seconds_become_the_nearest_frame_count_the_model_makes():
    # Wan 2.1 makes 4k+1 frames (..., 73, 77, 81, ...).
    assert shape(WAN, seconds=4.6).frames == 73  # 73.6 frames asked: 73 is nearer than 77
    assert shape(WAN, seconds=4.9).frames == 77  # 78.4: 77 is nearer than 81
    assert shape(WAN, seconds=75 / 16).frames == 77  # 75, halfway: a little longer rather than shorter


@pytest.mark.parametrize("model, resolution, size", [(WAN, "480p", (832, 480)), (WAN, "720p", (1280, 720)),
                                                     ("wan2.2-ti2v-5b", "720p", (1280, 704)),
                                                     ("ltx-video-0.9.5", "480p", (832, 480))])
def test_the_wide_and_tall_presets_are_the_size_the_model_was_trained_at(model, resolution, size):
    # 16:9 is within 3% of each model's own landscape size: that size, not one a few pixels off it.
    wide = shape(model, resolution=resolution)
    tall = shape(model, resolution=resolution, aspect="9:16")
    assert (wide.width, wide.height) == size
    assert (tall.width, tall.height) == size[::-1]


def test_the_sketch_model_makes_64x64_and_17_frames_whatever_the_preset():
    for aspect in ASPECTS:
        for resolution in RESOLUTIONS:
            made = shape("sketch-video", aspect=aspect, resolution=resolution, fps=8.0, seconds=2.125)
            assert (made.width, made.height, made.frames) == (64, 64, 17), (aspect, resolution)
    g = Graph()
    g.add_node("text", {"text": "a red circle moves right on a blue background"}, node_id="prompt")
    g.add_node("text_to_video", {"model": "sketch-video", "width": 64, "height": 96, "frames": 17,
                                 "negative_prompt": ""}, node_id="t2v")
    g.connect("prompt", "out", "t2v", "prompt")
    assert [str(p) for p in validate(g)] == [
        "node Text to Video (t2v): parameter 'height': Sketch Video (toy model) was trained at 64x64 only, not 96; "
        "use height 64 (or an aspect preset)"]
    g.set_param("t2v", "height", 64)
    assert validate(g) == []


def test_zero_means_the_models_own_steps_guidance_and_shift():
    assert recommended(WAN, {"steps": 0, "guidance": 0.0, "shift": 0.0}) == (30, 5.0, None)  # None: as shipped
    assert recommended(WAN, {"steps": 12, "guidance": 3.5, "shift": 8.0}) == (12, 3.5, 8.0)
    # LTX-Video has no flow shift to set: the node's value is not passed on.
    assert recommended("ltx-video-0.9.5", {"steps": 12, "guidance": 3.5, "shift": 8.0}) == (12, 3.5, None)


def test_a_clip_is_restyled_at_its_aspect_in_the_preset_but_never_blown_up():
    assert working_size(WAN, 1920, 1080, "480p") == (832, 480)
    assert working_size(WAN, 1080, 1920, "480p") == (480, 832)
    assert working_size(WAN, 320, 180, "480p") == (320, 176)  # smaller than 480p: its own size, snapped to 16
