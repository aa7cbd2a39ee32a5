"""Audio utilities and media I/O: exact lengths, rates and channels; files in and out.

Model-free, so fast; the model-driven audio nodes are tested on the tiny
twins in test_examples_audio.py and below (marked slow).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from engines import audio_ops, media
from engines.cache import ResultCache
from engines.executor import Executor, Job
from nodes.definition import NodeError
from nodes.graph import Graph
from nodes.registry import default_registry
from nodes.validation import validate
from nodes.values import Audio, Video

from media_helpers import Ctx, coded, reds, run

pytestmark = pytest.mark.filterwarnings("ignore:Should have:UserWarning")  # torchsde, harmless

# Before torch starts its OpenMP threads (they are read once): threads that sleep
# while waiting, instead of spinning, keep the tiny-model tests fast on a shared,
# oversubscribed CPU (see test_examples_audio.py). No effect on results.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def tone(seconds: float, rate: int = 44100, channels: int = 2, freq: float = 440.0, level: float = 0.5) -> Audio:
    t = np.arange(int(round(seconds * rate))) / rate
    wave = (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return Audio(np.repeat(wave[None], channels, axis=0), rate)


# ---- audio utilities ---------------------------------------------------------------


def test_trim_audio_is_sample_exact():
    out = run("trim_audio", audio=tone(3.0), start=0.5, length=1.25)["out"]
    assert out.num_samples == round(1.25 * 44100) and out.rate == 44100
    with pytest.raises(NodeError, match="lasts 3.00 s"):
        run("trim_audio", audio=tone(3.0), start=4.0)


def test_mix_brings_tracks_to_a_common_format_and_never_clips():
    a = tone(1.0, rate=44100, channels=1, level=0.8)
    b = tone(2.0, rate=48000, channels=2, freq=220.0, level=0.8)
    out = run("mix_audio", track_1=a, track_2=b)["out"]
    assert (out.rate, out.channels) == (48000, 2)
    assert out.num_samples == 2 * 48000  # longest
    assert np.max(np.abs(out.samples)) <= 1.0 + 1e-6  # normalized, not clipped
    shortest = run("mix_audio", track_1=a, track_2=b, length="shortest", gain_2=-60.0)["out"]
    assert shortest.num_samples == 48000
    # At -60 dB the second track is a thousandth: the mix is the first track, resampled.
    assert np.max(np.abs(shortest.samples)) == pytest.approx(0.8, abs=0.01)


def test_mix_takes_up_to_four_tracks_with_their_gains():
    ones = [Audio(np.full((1, 100), 0.1, np.float32), 1000) for _ in range(4)]
    out = run("mix_audio", track_1=ones[0], track_2=ones[1], track_3=ones[2], track_4=ones[3],
              gain_4=-120.0, overflow="clip")["out"]
    assert out.samples[0, 50] == pytest.approx(0.3, abs=1e-4)


def test_fade_starts_and_ends_in_silence():
    steady = Audio(np.ones((2, 44100), np.float32), 44100)
    out = run("fade_audio", audio=steady, fade_in=0.25, fade_out=0.5)["out"]
    s = out.samples[0]
    assert s[0] == 0.0 and s[-1] < 1e-4
    assert s[round(0.125 * 44100)] == pytest.approx(0.5, abs=1e-3)  # halfway up the linear ramp
    assert s[round(0.4 * 44100)] == pytest.approx(1.0, abs=1e-3)


def test_resample_keeps_the_duration_and_the_pitch():
    src = tone(1.0, rate=44100, freq=1000.0)
    out = run("resample_audio", audio=src, rate=16000, channels="mono")["out"]
    assert (out.rate, out.channels, out.num_samples) == (16000, 1, 16000)
    spectrum = np.abs(np.fft.rfft(out.samples[0]))
    assert np.argmax(spectrum) == 1000  # 1 Hz bins over one second


def test_extract_and_remove_audio():
    clip = coded(16, fps=16.0)
    track = run("extract_audio", video=clip)["audio"]
    assert track.seconds == pytest.approx(1.0) and track.rate == 48000
    silent = run("extract_audio", video=coded(8, sound=False))["audio"]
    assert silent.seconds == pytest.approx(0.5) and not silent.samples.any()
    assert run("remove_audio", video=clip)["out"].audio is None


def test_add_audio_replaces_by_default_and_can_mix_with_the_videos_own_sound():
    clip = coded(16, fps=16.0)  # 1 s; its right channel is a steady 0.1
    new = Audio(np.full((2, 48000 * 2), 0.25, np.float32), 48000)
    replaced = run("add_audio_to_video", video=clip, audio=new)["out"]
    assert replaced.audio.seconds == pytest.approx(1.0)
    assert replaced.audio.samples[1, 100] == pytest.approx(0.25)
    mixed = run("add_audio_to_video", video=clip, audio=new, mode="mix", original_gain=0.0)["out"]
    assert mixed.audio.num_samples == 48000
    assert mixed.audio.samples[1, 100] == pytest.approx(0.35)


def test_audio_ops_speed_and_crossfade_lengths():
    a = tone(1.0, rate=48000)
    assert audio_ops.change_speed(a, 1.5).num_samples == 32000
    assert audio_ops.crossfade(a, a, 0.25).num_samples == 48000 * 2 - 12000


def steady(level: float, samples: int = 1000, channels: int = 1, rate: int = 1000) -> Audio:
    return Audio(np.full((channels, samples), level, np.float32), rate)


def test_an_equal_power_fade_is_at_minus_3_db_halfway_and_keeps_the_power_of_a_crossfade():
    up = audio_ops.fade(steady(1.0), fade_in=1.0, curve="equal_power").samples[0]
    down = audio_ops.fade(steady(1.0), fade_out=1.0, curve="equal_power").samples[0]
    assert 20 * np.log10(up[500]) == pytest.approx(-3.01, abs=0.01)
    assert up[0] == 0.0 and down[0] == pytest.approx(1.0, abs=1e-5)
    # Where one sound fades out as the other fades in, their powers add up to full level throughout.
    assert np.max(np.abs(up ** 2 + down ** 2 - 1.0)) < 0.01


def test_a_crossfade_hands_one_sound_over_to_the_other_with_equal_power():
    half = steady(0.5)
    out = audio_ops.crossfade(half, steady(0.0), 0.5).samples[0]  # fading out into silence
    assert len(out) == 1500
    assert out[499] == 0.5 and out[500] == pytest.approx(0.5, abs=1e-3)  # the overlap starts at full level
    assert out[750] == pytest.approx(0.5 * 2 ** -0.5, abs=2e-3)  # -3 dB halfway
    assert out[999] == pytest.approx(0.0, abs=2e-3) and not out[1000:].any()
    out = audio_ops.crossfade(steady(0.0), half, 0.5).samples[0]  # fading in from silence
    assert not out[:500].any() and out[500] == 0.0
    assert out[750] == pytest.approx(0.5 * 2 ** -0.5, abs=2e-3)
    assert out[999] == pytest.approx(0.5, abs=2e-3) and np.all(out[1000:] == 0.5)


def test_mix_offsets_start_a_track_later_or_cut_its_start():
    out = audio_ops.mix([steady(0.25, 100), steady(0.5, 100)], offsets=[0.0, 0.05], overflow="clip").samples
    assert out.shape == (1, 150)  # the later track ends 50 ms after the first
    assert np.all(out[0, :50] == 0.25) and np.all(out[0, 50:100] == 0.75) and np.all(out[0, 100:] == 0.5)
    cut = audio_ops.mix([steady(0.25, 100), steady(0.5, 100)], offsets=[0.0, -0.05], overflow="clip").samples
    assert cut.shape == (1, 100)  # the second track's first 50 ms are gone
    assert np.all(cut[0, :50] == 0.75) and np.all(cut[0, 50:] == 0.25)


def test_fit_length_pads_with_silence_at_the_end_and_cuts_at_the_end():
    sound = Audio(np.stack([np.full(10, 0.5), np.full(10, -0.5)]).astype(np.float32), 1000)
    longer = audio_ops.fit_length(sound, 15)
    assert (longer.channels, longer.num_samples, longer.rate) == (2, 15, 1000)
    assert np.array_equal(longer.samples[:, :10], sound.samples) and not longer.samples[:, 10:].any()
    shorter = audio_ops.fit_length(sound, 4)
    assert np.array_equal(shorter.samples, sound.samples[:, :4])


# ---- media I/O --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, codec", [("mp4", "aac"), ("mov", "aac"), ("webm", "opus")])
def test_save_video_formats_keep_frames_fps_and_sound(tmp_path, fmt, codec):
    clip = coded(17, fps=24.0, size=(64, 48))
    run_save = __import__("nodes.registry", fromlist=["x"]).default_registry().get("save_video")
    ctx = Ctx(tmp_path)
    run_save().run(ctx, video=clip, filename="clip", format=fmt, quality="medium")
    info = media.probe(tmp_path / f"clip.{fmt}")
    assert (info.frames, info.fps, info.width, info.height) == (17, 24.0, 64, 48)
    assert info.audio_codec == codec
    assert info.audio_seconds == pytest.approx(17 / 24, abs=0.03)
    back = run("load_video", path=str(tmp_path / f"clip.{fmt}"))
    assert (back["video"].num_frames, back["video"].fps) == (17, 24.0)
    assert back["audio"].seconds == pytest.approx(17 / 24, abs=1e-3)


def test_load_video_streams_a_frame_range_with_the_sound_under_it(tmp_path):
    media.write_video(tmp_path / "clip.mp4", coded(33, fps=16.0, size=(64, 48)))
    out = run("load_video", path=str(tmp_path / "clip.mp4"), start_frame=8, max_frames=10)
    video, audio = out["video"], out["audio"]
    assert video.frames.dtype == np.uint8 and video.num_frames == 10 and video.fps == 16.0
    assert [abs(r - e) <= 2 for r, e in zip(reds(video), range(8, 18))] == [True] * 10  # H.264 is near-exact
    assert audio.seconds == pytest.approx(10 / 16, abs=1e-3) and audio.rate == 48000
    # The ramp in the left channel says the sound starts at frame 8 (0.5 s).
    assert audio.samples[0, 2000] * 100 == pytest.approx(0.5 + 2000 / 48000, abs=0.01)


def test_load_video_errors_name_the_parameter(tmp_path):
    media.write_audio(tmp_path / "beep.wav", tone(0.2))
    with pytest.raises(NodeError, match=r"parameter 'path': .*beep.wav has no video stream"):
        run("load_video", path=str(tmp_path / "beep.wav"))
    media.write_video(tmp_path / "short.mp4", coded(5, size=(16, 16)))
    with pytest.raises(NodeError, match="parameter 'start_frame': the video has 5 frames"):
        run("load_video", path=str(tmp_path / "short.mp4"), start_frame=9)
    with pytest.raises(NodeError, match="parameter 'path': .*could not be decoded as an image"):
        run("load_image", path=str(tmp_path / "beep.wav"))


def test_image_sequences_round_trip_in_order(tmp_path):
    clip = coded(12, fps=12.0, size=(32, 16), sound=False)
    save = __import__("nodes.registry", fromlist=["x"]).default_registry().get("save_image_sequence")
    save().run(Ctx(tmp_path), video=clip, filename="shot", format="png", first_number=1)
    files = sorted(p.name for p in (tmp_path / "shot").iterdir())
    assert files[0] == "shot_0001.png" and files[-1] == "shot_0012.png" and len(files) == 12
    for pattern in ("shot", "shot/shot_%04d.png", "shot/shot_*.png"):
        video = run("load_image_sequence", path=str(tmp_path / pattern), fps=12.0)["video"]
        assert video.num_frames == 12 and video.fps == 12.0
        assert np.array_equal(video.frames, clip.frames)  # PNG is lossless
    part = run("load_image_sequence", path=str(tmp_path / "shot"), fps=24.0, start_frame=10)["video"]
    assert reds(part) == [10, 11]


def test_image_sequence_refuses_mixed_sizes_and_empty_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(NodeError, match="no PNG, JPEG or WebP images"):
        run("load_image_sequence", path=str(tmp_path / "empty"), fps=24.0)
    media.write_image(tmp_path / "seq" / "f_1.png", np.zeros((8, 8, 3), np.uint8))
    media.write_image(tmp_path / "seq" / "f_2.png", np.zeros((8, 10, 3), np.uint8))
    with pytest.raises(NodeError, match="f_2.png is 10x8 but the sequence starts at 8x8"):
        run("load_image_sequence", path=str(tmp_path / "seq"), fps=24.0)


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_audio_files_keep_rate_channels_and_length(tmp_path, fmt):
    save = __import__("nodes.registry", fromlist=["x"]).default_registry().get("save_audio")
    save().run(Ctx(tmp_path), audio=tone(0.75, rate=22050, channels=1), filename="t", format=fmt)
    back = run("load_audio", path=str(tmp_path / f"t.{fmt}"))["audio"]
    assert (back.rate, back.channels, back.num_samples) == (22050, 1, round(0.75 * 22050))


@pytest.mark.parametrize("fmt", ["png", "jpg", "webp"])
def test_images_round_trip(tmp_path, fmt):
    from nodes.values import Image

    pixels = np.zeros((12, 20, 3), np.uint8)
    pixels[:, :10] = (200, 40, 40)
    save = __import__("nodes.registry", fromlist=["x"]).default_registry().get("save_image")
    save().run(Ctx(tmp_path), image=Image(pixels), filename="still", format=fmt)
    back = run("load_image", path=str(tmp_path / f"still.{fmt}"))["image"]
    assert (back.width, back.height) == (20, 12)
    assert np.abs(back.pixels.astype(int) - pixels).mean() < 6


def test_audio_graph_validates_missing_tracks(tmp_path):
    g = Graph()
    g.add_node("load_audio", {"path": "a.wav"}, node_id="a")
    g.add_node("mix_audio", node_id="mix")
    g.add_node("save_audio", node_id="save")
    g.connect("a", "audio", "mix", "track_1")
    g.connect("mix", "out", "save", "audio")
    assert [str(p) for p in validate(g)] == ["Mix Audio (mix): input 'track_2': needs a Audio connected"] or \
        any("track_2" in str(p) and "needs" in str(p) for p in validate(g))
    media.write_audio(tmp_path / "a.wav", tone(0.5))
    g.connect("a", "audio", "mix", "track_2")
    result = Executor(ResultCache(tmp_path / "cache")).run(Job("j", g, output_dir=tmp_path, project_dir=tmp_path))
    assert result["status"] == "ok"
    back = media.read_audio(next(Path(tmp_path).glob("*.wav")))
    assert back.rate == 44100


# ---- the sound models on their tiny twins (CPU; output is noise) ------------------------


@pytest.fixture(scope="module")
def tiny_models(tiny_models_dir):
    from engines.models.manager import ModelManager

    return ModelManager(profile="tiny", tiny_dir=tiny_models_dir, device="cpu")


def render(tmp_path, tiny_models, graph: Graph) -> tuple[dict, list[dict]]:
    events: list[dict] = []
    executor = Executor(ResultCache(tmp_path / "cache"), models=tiny_models, emit=events.append,
                        models_profile="tiny")
    result = executor.run(Job("j", graph, output_dir=tmp_path / "out", project_dir=tmp_path))
    return result, events


def finished(events: list[dict], node: str) -> dict:
    return next(e for e in events if e["event"] == "node_finished" and e["node"] == node)


@pytest.mark.slow
def test_longcat_twin_loads_from_disk_and_makes_exactly_the_asked_length(tmp_path, tiny_models):
    from diffusers import DiffusionPipeline

    folder = tiny_models.ensure_tiny("longcat-audiodit-1b")
    assert "RANDOM weights" in (folder / "README.txt").read_text()
    pipe = DiffusionPipeline.from_pretrained(folder, local_files_only=True)
    assert type(pipe).__name__ == "LongCatAudioDiTPipeline" and pipe.sample_rate == 24000

    g = Graph()
    g.add_node("text", {"text": "rain on a tin roof"}, node_id="prompt")
    g.add_node("text_to_audio", {"model": "longcat-audiodit-1b", "seconds": 1.3, "steps": 3, "guidance": 4.0},
               node_id="t2a")
    g.add_node("save_audio", {"filename": "rain"}, node_id="save")
    g.connect("prompt", "out", "t2a", "prompt")
    g.connect("t2a", "audio", "save", "audio")
    result, events = render(tmp_path, tiny_models, g)
    assert result["status"] == "ok", result
    sound = media.read_audio(tmp_path / "out" / "rain.wav")
    assert (sound.rate, sound.channels, sound.num_samples) == (24000, 1, round(1.3 * 24000))
    assert finished(events, "t2a")["stats"]["nfe"] == 2 * 3  # guided: two evaluations a step
    progress = [e["step"] for e in events if e["event"] == "progress" and e["node"] == "t2a"]
    assert progress == [1, 2, 3]


def test_text_to_audio_refuses_a_length_the_model_cannot_make():
    node_type = default_registry().get("text_to_audio")
    problems = node_type.check({**node_type.default_params(), "model": "longcat-audiodit-1b", "seconds": 40.0})
    assert problems == [("seconds", "LongCat-AudioDiT 1B makes at most 30 s in one go; asked for 40.00 s")]


@pytest.mark.slow
def test_soundtrack_for_video_matches_the_clip_and_mixes_its_own_sound(tmp_path, tiny_models):
    media.write_video(tmp_path / "clip.mp4", coded(21, fps=12.0, size=(64, 48)))
    g = Graph()
    g.add_node("load_video", {"path": "clip.mp4"}, node_id="clip")
    g.add_node("text", {"text": "soft synth pad"}, node_id="prompt")
    g.add_node("soundtrack_for_video", {"steps": 2, "mode": "mix"}, node_id="score")
    g.add_node("save_video", {"filename": "scored"}, node_id="save")
    g.add_node("save_audio", {"filename": "alone"}, node_id="save_audio")
    g.connect("clip", "video", "score", "video")
    g.connect("prompt", "out", "score", "prompt")
    g.connect("score", "out", "save", "video")
    g.connect("score", "audio", "save_audio", "audio")
    result, events = render(tmp_path, tiny_models, g)
    assert result["status"] == "ok", result
    info = media.probe(tmp_path / "out" / "scored.mp4")
    assert (info.frames, info.fps) == (21, 12.0)
    # The mix is at the higher of the two rates (the clip's 48 kHz over Stable Audio's 44.1 kHz).
    assert info.audio_rate == 48000 and info.audio_seconds == pytest.approx(21 / 12, abs=0.03)
    alone = media.read_audio(tmp_path / "out" / "alone.wav")
    assert (alone.rate, alone.channels, alone.num_samples) == (44100, 2, round(21 / 12 * 44100))


def test_soundtrack_for_a_video_longer_than_the_model_can_score_says_what_to_do():
    node_type = default_registry().get("soundtrack_for_video")
    long_clip = Video(np.zeros((50 * 24, 8, 8, 3), np.uint8), 24.0)  # 50 s
    with pytest.raises(NodeError, match=r"input 'video': Stable Audio Open 1.0 makes at most 47 s in one go; "
                                        r"the video lasts 50.00 s\. Trim it"):
        node_type().run(Ctx(), video=long_clip, prompt="x", **node_type.default_params())


@pytest.mark.slow
def test_ltx2_makes_picture_and_sound_of_one_length(tmp_path, tiny_models):
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(tiny_models.ensure_tiny("ltx-2-19b"), local_files_only=True)
    assert type(pipe).__name__ == "LTX2Pipeline"
    assert pipe.vocoder.config.output_sampling_rate == 24000

    g = Graph()
    g.add_node("text", {"text": "a drummer on a stage"}, node_id="prompt")
    g.add_node("text_to_video_with_sound", {"width": 256, "height": 160, "frames": 17, "fps": 25.0, "steps": 2},
               node_id="ltx2")
    g.add_node("save_video", {"filename": "drums"}, node_id="save")
    g.add_node("save_audio", {"filename": "drums"}, node_id="save_audio")
    g.connect("prompt", "out", "ltx2", "prompt")
    g.connect("ltx2", "video", "save", "video")
    g.connect("ltx2", "audio", "save_audio", "audio")
    result, events = render(tmp_path, tiny_models, g)
    assert result["status"] == "ok", result
    info = media.probe(tmp_path / "out" / "drums.mp4")
    assert (info.frames, info.width, info.height, info.fps) == (17, 256, 160, 25.0)
    assert info.audio_seconds == pytest.approx(17 / 25, abs=0.03)
    sound = media.read_audio(tmp_path / "out" / "drums.wav")
    assert (sound.rate, sound.channels, sound.num_samples) == (24000, 2, round(17 / 25 * 24000))
    # Classifier-free guidance (2), spatio-temporal guidance (1) and modality guidance (1) per step.
    assert finished(events, "ltx2")["stats"]["nfe"] == 4 * 2
    previews = [e for e in events if e["event"] == "progress" and e["node"] == "ltx2" and "preview" in e]
    assert len(previews) == 2


def test_ltx2_sizes_and_frame_counts_are_checked_before_rendering():
    node_type = default_registry().get("text_to_video_with_sound")
    problems = dict(node_type.check({**node_type.default_params(), "width": 500, "frames": 50}))
    assert problems == {"width": "500 is not a multiple of 32; use 480 or 512",
                        "frames": "50 is not of the form 8k+1; use 49 or 57"}


@pytest.mark.slow
def test_ace_step_twin_sings_for_exactly_the_asked_length(tmp_path, tiny_models):
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(tiny_models.ensure_tiny("ace-step-1.5-xl-turbo"), local_files_only=True)
    assert type(pipe).__name__ == "AceStepPipeline" and pipe.is_turbo

    g = Graph()
    g.add_node("text", {"text": "upbeat synth-pop, female vocals"}, node_id="style")
    g.add_node("text_to_music", {"lyrics": "[verse]\nhello hello\n[chorus]\nla la la", "seconds": 2.5,
                                 "bpm": 120, "key": "C major", "steps": 3}, node_id="song")
    g.add_node("save_audio", {"filename": "song", "format": "flac"}, node_id="save")
    g.connect("style", "out", "song", "prompt")
    g.connect("song", "audio", "save", "audio")
    result, events = render(tmp_path, tiny_models, g)
    assert result["status"] == "ok", result
    song = media.read_audio(tmp_path / "out" / "song.flac")
    assert (song.rate, song.channels, song.num_samples) == (48000, 2, round(2.5 * 48000))
    assert finished(events, "song")["stats"]["nfe"] == 3  # turbo: guidance distilled, one evaluation a step
