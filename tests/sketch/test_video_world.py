"""The sketch world's grammar and drawing, and the judge on clips whose truth is known.

The judge decides whether trained models did what they were asked, so it is
itself tested first on the world's own clips, through the same MP4 round trip
a render goes through, and on clips that show the wrong thing.
"""

from __future__ import annotations

import numpy as np
import pytest

from engines.media.video import read_video, write_video
from engines.sketch import world
from engines.sketch.judge_video import judge
from nodes.values import Video


def test_captions_parse_back_to_their_scene():
    rng = np.random.default_rng(11)
    for _ in range(300):
        scene = world.random_scene(rng)
        assert world.parse(scene.caption()) == scene


def test_the_issue_examples_parse():
    s = world.parse("a green triangle moves up and a white circle moves left on a grey background")
    assert [(x.colour, x.shape, x.motion) for x in s.shapes] == [("green", "triangle", "up"),
                                                                ("white", "circle", "left")]
    assert s.background == "grey"
    s = world.parse("A small yellow square grows on a black background.")
    assert (s.shapes[0].size, s.shapes[0].motion) == ("small", "grows")
    assert world.parse("a red circle slowly moves right on a gray background").shapes[0].speed == "slowly"


@pytest.mark.parametrize("caption, words", [
    ("a red fox moves right on a blue background", "fox"),
    ("a red circle moves right on a blue background, cinematic, 4k", "cinematic, 4k"),
])
def test_unknown_words_are_named(caption, words):
    assert world.unknown_words(caption) == words.split(", ")
    with pytest.raises(world.CaptionError, match=words.split(",")[0]):
        world.parse(caption)


@pytest.mark.parametrize("caption, reason", [
    ("a red circle moves right on a red background", "same colour as the background"),
    ("a red circle moves right and a red square grows on a blue background", "different colours"),
    ("a red circle moves on a blue background", "which way"),
    ("a red circle moves right", "background"),
])
def test_captions_outside_the_grammar_say_why(caption, reason):
    with pytest.raises(world.CaptionError, match=reason):
        world.parse(caption)


def test_drawing_is_deterministic_by_seed():
    scene = world.parse("a big white circle shrinks and a red square moves down quickly on a black background")
    a, b, c = world.render(scene, 3), world.render(scene, 3), world.render(scene, 4)
    assert np.array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, c.frames)
    assert a.frames.shape == (17, 64, 64, 3) and a.frames.dtype == np.uint8


@pytest.mark.parametrize("placement", world.PLACEMENTS)
def test_moving_shapes_cross_at_least_a_third_of_the_frame(placement):
    rng = np.random.default_rng(3)
    for i in range(200):
        scene = world.random_scene(rng)
        for shape, track in zip(scene.shapes,
                                world.render(scene, i, size=16, supersample=1, placement=placement).tracks):
            if shape.motion in world.DIRECTIONS:
                travel = max(abs(track.x[-1] - track.x[0]), abs(track.y[-1] - track.y[0]))
                assert travel >= 1 / 3, (scene.caption(), travel)


def test_the_judge_reads_the_worlds_own_clips_through_an_mp4(tmp_path):
    rng = np.random.default_rng(2027)
    for i in range(40):
        scene = world.random_scene(rng)
        clip = world.render(scene, 10_000 + i)
        path = tmp_path / f"{i}.mp4"
        write_video(path, Video(frames=clip.frames, fps=clip.fps))
        frames = read_video(path).frames
        problems = judge(frames).problems(scene)
        assert not problems, (scene.caption(), problems)


def test_by_caption_placement_puts_a_caption_in_nearly_one_place():
    """One shape sits in the middle, two in their own halves; seeds move them only a little."""
    one = world.parse("a red circle grows on a blue background")
    centres = [(t.x[0], t.y[0]) for t in (world.render(one, s, size=16, placement="by_caption").tracks[0]
                                          for s in range(20))]
    assert np.allclose(centres, 0.5, atol=0.05)
    pair = world.parse("a red circle moves right and a white square moves left on a black background")
    for seed in range(20):
        first, second = world.render(pair, seed, size=16, placement="by_caption").tracks
        assert first.y.max() < 0.35 and second.y.min() > 0.65  # the first named on top, in their rows
        assert first.x[0] < first.x[-1] and second.x[0] > second.x[-1]
    free = [world.render(pair, s, size=16).tracks[0].y[0] for s in range(20)]
    assert np.ptp(free) > 0.2  # "anywhere" really is anywhere


def test_by_caption_pairs_touch_no_more_than_anywhere_and_the_judge_reads_them():
    # Some pairs (two big shapes moving quickly across and up) barely fit the frame
    # anywhere; both placements then give up after their tries, and a touch is allowed.
    rng = np.random.default_rng(41)
    wrong, touching = [], {p: 0 for p in world.PLACEMENTS}
    for i in range(150):
        scene = world.random_scene(rng, two_shapes=0.8)
        for placement in world.PLACEMENTS:
            clip = world.render(scene, i, placement=placement, size=16 if placement == "anywhere" else 64)
            touching[placement] += len(clip.tracks) == 2 and world._overlap(*clip.tracks)
        if judge(clip.frames).problems(scene):
            wrong.append(scene.caption())
    assert not wrong
    assert touching["by_caption"] <= touching["anywhere"], touching


def test_the_judge_reads_many_clips_right():
    rng = np.random.default_rng(99)
    wrong = [s.caption() for i, s in enumerate(world.random_scene(rng) for _ in range(300))
             if judge(world.render(s, i).frames).problems(s)]
    assert not wrong


def test_the_judge_refuses_clips_that_show_something_else():
    asked = world.parse("a red circle moves right and a yellow square grows on a blue background")
    shown = {
        "mirrored": world.flipped(asked, horizontal=True),
        "other background": world.parse("a red circle moves right and a yellow square grows on a black background"),
        "other colour": world.parse("a red circle moves right and a white square grows on a blue background"),
        "one shape": world.parse("a red circle moves right on a blue background"),
        "still": world.parse("a red circle stays still and a yellow square grows on a blue background"),
        "shrinks": world.parse("a red circle moves right and a yellow square shrinks on a blue background"),
    }
    for name, scene in shown.items():
        verdict = judge(world.render(scene, 5).frames)
        assert not verdict.matches(asked), name
        assert verdict.matches(scene), (name, verdict.problems(scene))


def test_noise_shows_nothing_asked_for():
    frames = np.random.default_rng(0).integers(0, 256, (17, 64, 64, 3), dtype=np.uint8)
    assert not judge(frames).matches(world.parse("a red circle moves right on a blue background"))


def test_an_extra_shape_is_caught_even_at_the_smallest_the_world_draws():
    asked = world.parse("a red circle moves right on a blue background")
    for extra in ("a red circle moves right and a small grey square shrinks on a blue background",
                  "a red circle moves right and a small orange triangle shrinks quickly on a blue background"):
        verdict = judge(world.render(world.parse(extra), 3).frames)
        assert not verdict.matches(asked), extra
        assert any(p.startswith("an unexpected") for p in verdict.problems(asked)), verdict.problems(asked)


def test_the_seam_where_two_colours_blend_is_not_a_shape():
    # What a 4x-compressing decoder gives at best: every 4x4 cell its mean colour. Blue
    # against yellow averages to grey, red against yellow to orange: seams, not shapes.
    for caption in ("a small blue triangle moves right on a yellow background",
                    "a big yellow square stays still on a red background"):
        scene = world.parse(caption)
        frames = world.render(scene, 4).frames.astype(np.float32)
        f, h, w, _ = frames.shape
        cells = frames.reshape(f, h // 4, 4, w // 4, 4, 3).mean(axis=(2, 4))
        blocky = np.repeat(np.repeat(cells, 4, axis=1), 4, axis=2).round().astype(np.uint8)
        verdict = judge(blocky)
        assert verdict.matches(scene), (caption, verdict.problems(scene))
