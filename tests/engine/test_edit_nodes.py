"""Model-free video edits: exact frames, exact lengths, sound carried along.

The clips are colour-coded: frame ``i`` of clip ``k`` is filled with a value
that encodes both, so every test can read back which source frame ended up
where. No codec is involved (that would blur the codes); saving and loading
are tested in test_audio_nodes.py and the example tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engines import edits
from engines.cache import ResultCache
from engines.executor import Executor, Job
from media_helpers import coded, greens, reds, run
from nodes.graph import Graph
from nodes.registry import default_registry
from nodes.validation import validate
from nodes.values import Audio, Video


# ---- trim -----------------------------------------------------------------------


def test_trim_by_frames_keeps_exactly_those_frames_and_their_sound():
    clip = coded(33)
    out = run("trim_video", video=clip, unit="frames", start=5, length=12)["out"]
    assert reds(out) == list(range(5, 17))
    assert out.fps == 16.0
    assert out.audio.num_samples == round(12 / 16 * 48000)
    # The sound starts where frame 5 starts: its ramp reads 5/16 s.
    assert out.audio.samples[0, 0] * 100 == pytest.approx(5 / 16, abs=1e-6)


def test_trim_by_seconds_rounds_to_frames_and_zero_length_runs_to_the_end():
    clip = coded(33)
    out = run("trim_video", video=clip, unit="seconds", start=0.5, length=0.0)["out"]
    assert reds(out) == list(range(8, 33))
    assert out.audio.seconds == pytest.approx(25 / 16)


def test_trim_by_seconds_with_a_length_gives_exactly_that_many_frames():
    # The default unit: start 0.25 s and 1 s long at 16 fps is frames 4..19, 16 of them, sound cut alike.
    out = run("trim_video", video=coded(33), unit="seconds", start=0.25, length=1.0)["out"]
    assert reds(out) == list(range(4, 20))
    assert out.audio.seconds == pytest.approx(1.0)


def test_trim_past_the_end_is_a_clear_error_and_fractional_frames_are_refused():
    from nodes.definition import NodeError

    with pytest.raises(NodeError, match="only 33 frames"):
        run("trim_video", video=coded(33), unit="frames", start=40, length=2)
    node_type = default_registry().get("trim_video")
    problems = node_type.check({**node_type.default_params(), "unit": "frames", "start": 1.5})
    assert problems == [("start", "1.5 is not a whole number of frames")]


# ---- concatenate -------------------------------------------------------------------


def test_concatenate_keeps_socket_order_and_every_frame():
    a, b, c = coded(9, clip=1), coded(5, clip=2), coded(3, clip=3)
    out = run("concatenate_videos", clip_1=a, clip_2=b, clip_3=c)["out"]
    assert out.num_frames == 17
    assert greens(out) == [40] * 9 + [80] * 5 + [120] * 3
    assert reds(out) == list(range(9)) + list(range(5)) + list(range(3))
    assert out.audio.num_samples == round(17 / 16 * 48000)
    # Each clip's sound sits under its own frames.
    level = out.audio.samples[1]
    assert level[round(4 / 16 * 48000)] == pytest.approx(0.2)
    assert level[round(11 / 16 * 48000)] == pytest.approx(0.3)
    assert level[round(15.5 / 16 * 48000)] == pytest.approx(0.4)


def test_concatenate_retimes_a_clip_at_another_fps_to_the_first_and_keeps_its_duration():
    a = coded(16, clip=1, fps=16.0)  # 1 s
    b = coded(24, clip=2, fps=24.0, size=(48, 16))  # 1 s, twice as wide
    out = run("concatenate_videos", clip_1=a, clip_2=b)["out"]
    assert out.fps == 16.0 and (out.width, out.height) == (24, 16)
    assert out.num_frames == 32  # 1 s + 1 s at 16 fps
    # Frame j of the retimed clip shows the 24 fps frame on screen at j/16 s.
    assert reds(out)[16:] == [int(j * 24 / 16) for j in range(16)]
    # The wider clip is letterboxed: black bars above and below, picture in the middle.
    second = out.frames[20]
    assert second[0].max() == 0 and second[-1].max() == 0 and second[8, 12, 1] == 80
    assert out.audio.seconds == pytest.approx(2.0)


def test_concatenate_gives_silence_to_a_clip_without_sound():
    out = run("concatenate_videos", clip_1=coded(8, clip=1, sound=False), clip_2=coded(8, clip=2))["out"]
    assert out.audio.seconds == pytest.approx(1.0)
    assert np.all(out.audio.samples[:, : round(0.5 * 48000) - 1] == 0)
    assert out.audio.samples[1, -1] == pytest.approx(0.3)


# ---- reframe -------------------------------------------------------------------------


@pytest.mark.parametrize("mode, size", [("fill", (16, 16)), ("fit", (24, 24)), ("stretch", (24, 24))])
def test_square_aspect_crops_pads_or_stretches_without_scaling(mode, size):
    clip = coded(3, size=(24, 16))
    out = run("reframe_video", video=clip, aspect="1:1", mode=mode)["out"]
    assert (out.width, out.height) == size
    assert out.num_frames == 3 and out.audio is clip.audio
    if mode == "fit":
        assert out.frames[1, 0].max() == 0 and out.frames[1, 12, 12, 0] == 1  # bars, then the picture


def test_fit_scales_to_the_side_that_limits_and_bars_the_other():
    wide = edits.reframe(coded(2, size=(24, 16)), 48, 16, "fit")  # height limits: pillarbox
    assert (wide.width, wide.height) == (48, 16)
    assert wide.frames[1, :, :12].max() == 0 and wide.frames[1, :, 36:].max() == 0
    assert np.all(wide.frames[1, :, 12:36, 0] == 1)  # the picture, unscaled, in the middle
    small = edits.reframe(coded(2, size=(64, 48)), 32, 32, "fit")  # width limits, shrinking: letterbox
    assert small.frames[1, :4].max() == 0 and small.frames[1, 28:].max() == 0
    assert np.all(small.frames[1, 4:28, :, 0] == 1)


def stripes(period_axis: int) -> Video:
    """Thin stripes, one bright line in three, across the width (axis 2) or down the height (axis 1)."""
    frames = np.zeros((1, 48, 48, 3), np.uint8)
    index = [slice(None)] * 4
    index[period_axis] = slice(0, None, 3)
    frames[tuple(index)] = 255
    return Video(frames, 16.0)


@pytest.mark.parametrize("axis, size", [(2, (16, 48)), (1, (48, 16))])
def test_shrinking_averages_fine_detail_instead_of_aliasing_it(axis, size):
    # Stretched to a third along the stripes' period: every output pixel covers one bright
    # line and two dark ones, so the picture turns an even grey (85), not black or white.
    out = edits.reframe(stripes(axis), *size, "stretch")
    assert (out.width, out.height) == size
    assert np.abs(out.frames.astype(int) - 85).max() <= 1


def test_reframe_to_a_width_derives_an_even_height_from_the_aspect():
    out = run("reframe_video", video=coded(2, size=(64, 48)), aspect="16:9", width=100, mode="fill")["out"]
    assert (out.width, out.height) == (100, 56)


def test_reframe_validation_names_the_parameter():
    node_type = default_registry().get("reframe_video")
    params = {**node_type.default_params(), "width": 320, "height": 200, "aspect": "16:9", "pad_color": "red"}
    messages = dict(node_type.check(params))
    assert "aspect is already fixed" in messages["aspect"]
    assert "#rrggbb" in messages["pad_color"]


# ---- time ------------------------------------------------------------------------------


def test_change_fps_keeps_duration_by_repeating_or_dropping_frames():
    clip = coded(16, fps=16.0)
    up = run("change_fps", video=clip, fps=24.0)["out"]
    assert up.num_frames == 24 and up.fps == 24.0
    assert reds(up) == [int(j * 16 / 24) for j in range(24)]
    assert up.audio is clip.audio
    down = run("change_fps", video=clip, fps=8.0)["out"]
    assert reds(down) == list(range(0, 16, 2))


def test_double_speed_takes_every_other_frame_and_halves_the_sound():
    clip = coded(32, fps=16.0)
    out = run("change_speed", video=clip, speed=2.0)["out"]
    assert reds(out) == list(range(0, 32, 2)) and out.fps == 16.0
    assert out.audio.num_samples == round(16 / 16 * 48000)
    # The ramp now climbs twice as fast (tape-style speed-up).
    t = round(0.25 * 48000)
    assert out.audio.samples[0, t] * 100 == pytest.approx(0.5, abs=2e-3)


def test_half_speed_shows_each_frame_twice_and_can_drop_the_sound():
    out = run("change_speed", video=coded(8), speed=0.5, audio="mute")["out"]
    assert reds(out) == [i // 2 for i in range(16)]
    assert out.audio is None


def test_reverse_plays_the_last_frame_first_and_the_sound_backwards():
    clip = coded(9)
    out = run("reverse_video", video=clip)["out"]
    assert reds(out) == list(range(8, -1, -1))
    assert np.array_equal(out.audio.samples, clip.audio.samples[:, ::-1])


# ---- crossfade --------------------------------------------------------------------------


def test_crossfade_blends_over_the_overlap_and_shortens_by_it():
    a, b = coded(10, clip=1), coded(10, clip=2)
    out = run("crossfade_videos", first=a, second=b, seconds=0.25)["out"]  # 4 frames at 16 fps
    assert out.num_frames == 16
    g = greens(out)
    assert g[:6] == [40] * 6 and g[10:] == [80] * 6
    assert g[6:10] == [round(40 + 40 * (j + 1) / 5) for j in range(4)]  # rising weights of the second clip
    assert out.audio.num_samples == round(16 / 16 * 48000)


def test_a_crossfade_keeps_the_sound_when_only_one_clip_has_any():
    for a, b in ((coded(10, clip=1), coded(10, clip=2, sound=False)),
                 (coded(10, clip=1, sound=False), coded(10, clip=2))):
        out = run("crossfade_videos", first=a, second=b, seconds=0.25)["out"]
        assert out.audio is not None and out.audio.num_samples == round(16 / 16 * 48000)
        assert out.audio.samples.any()
    silent = run("crossfade_videos", first=coded(10, sound=False), second=coded(10, sound=False),
                 seconds=0.25)["out"]
    assert silent.audio is None


# ---- colour ------------------------------------------------------------------------------


def test_colour_adjust_is_exact_at_neutral_and_does_what_it_says():
    rng = np.random.default_rng(0)
    clip = Video(rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8), 16.0)
    same = run("color_adjust", video=clip)["out"]
    assert np.array_equal(same.frames, clip.frames)
    grey = run("color_adjust", video=clip, saturation=0.0)["out"].frames.astype(int)
    assert np.abs(grey[..., 0] - grey[..., 1]).max() <= 1 and np.abs(grey[..., 1] - grey[..., 2]).max() <= 1
    bright = run("color_adjust", video=Video(np.full((1, 2, 2, 3), 100, np.uint8), 16.0), brightness=0.2)["out"]
    assert int(bright.frames[0, 0, 0, 0]) == round((100 / 255 + 0.2) * 255)
    flat = run("color_adjust", video=clip, contrast=0.0)["out"]
    assert set(np.unique(flat.frames)) == {128}
    lifted = run("color_adjust", video=Video(np.array([[[[0, 64, 255]]]], np.uint8), 16.0), gamma=2.0)["out"]
    assert lifted.frames[0, 0, 0].tolist() == [0, round((64 / 255) ** 0.5 * 255), 255]


def test_more_saturation_clips_a_full_colour_at_full_scale():
    red = Video(np.array([[[[255, 0, 0], [200, 40, 40]]]], np.uint8), 16.0)
    out = run("color_adjust", video=red, saturation=2.0)["out"].frames[0, 0]
    assert out[0].tolist() == [255, 0, 0]  # as red as it gets: clipped, never wrapped round to dark
    assert out[1, 0] == 255 and out[1, 1] == out[1, 2] < 40


# ---- in a graph --------------------------------------------------------------------------


def test_missing_clips_and_wrong_media_are_reported_before_and_during_a_render(tmp_path):
    from engines import media

    g = Graph()
    g.add_node("load_video", {"path": "sound.wav"}, node_id="clip")
    g.add_node("concatenate_videos", node_id="join")
    g.add_node("save_video", node_id="save")
    g.connect("clip", "video", "join", "clip_1")
    g.connect("join", "out", "save", "video")
    problems = [str(p) for p in validate(g)]
    assert any("input 'clip_2': needs a Video connected" in p for p in problems), problems

    media.write_audio(tmp_path / "sound.wav", Audio(np.zeros((1, 4800), np.float32), 48000))
    g.connect("clip", "video", "join", "clip_2")
    assert validate(g) == []
    events: list[dict] = []
    result = Executor(ResultCache(tmp_path / "cache"), emit=events.append).run(
        Job("j", g, output_dir=tmp_path / "out", project_dir=tmp_path))
    assert result["status"] == "failed"
    assert "parameter 'path'" in result["failed"]["clip"]
    assert "has no video stream (expected a video file)" in result["failed"]["clip"]


def test_edits_chain_through_the_executor_and_save(tmp_path):
    from engines import media

    media.write_video(tmp_path / "a.mp4", coded(33, clip=1, size=(64, 48)))
    g = Graph()
    g.add_node("load_video", {"path": "a.mp4"}, node_id="clip")
    g.add_node("trim_video", {"unit": "frames", "start": 4, "length": 17}, node_id="trim")
    g.add_node("reverse_video", node_id="rev")
    g.add_node("concatenate_videos", node_id="join")
    g.add_node("save_video", {"filename": "cut"}, node_id="save")
    g.connect("clip", "video", "trim", "video")
    g.connect("trim", "out", "rev", "video")
    g.connect("trim", "out", "join", "clip_1")
    g.connect("rev", "out", "join", "clip_2")
    g.connect("join", "out", "save", "video")
    result = Executor(ResultCache(tmp_path / "cache")).run(Job("j", g, output_dir=tmp_path, project_dir=tmp_path))
    assert result["status"] == "ok", result
    info = media.probe(tmp_path / "cut.mp4")
    assert (info.frames, info.fps, info.width, info.height) == (34, 16.0, 64, 48)
    assert info.audio_seconds == pytest.approx(34 / 16, abs=0.03)


def test_edits_module_rules_directly():
    assert edits.target_size(0, 0, src_w=320, src_h=192, aspect="9:16", mode="fill") == (108, 192)
    assert edits.target_size(0, 0, src_w=320, src_h=192, aspect="9:16", mode="fit") == (320, 568)
    assert edits.target_size(0, 100, src_w=320, src_h=192) == (166, 100)
    assert list(edits.retime_indices(6, 24.0, 24.0, 1.5)) == [0, 1, 3, 4]


def test_every_audio_and_edit_node_explains_every_parameter():
    modules = ("nodes.catalogue.edit_cut", "nodes.catalogue.audio_tools", "nodes.catalogue.audio",
               "nodes.catalogue.audio_generate", "nodes.catalogue.joint")
    from nodes.registry import node_types_in

    types = [t for m in modules for t in node_types_in(m)]
    assert len(types) >= 18
    for node_type in types:
        info = node_type.describe()
        assert info["description"], node_type.type_id
        for param in info["params"]:
            assert param["help"], f"{node_type.type_id}.{param['name']} has no help"
