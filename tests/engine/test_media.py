"""Media files in and out: what an artist would notice if it went wrong.

Content is synthesised (a moving gradient, sine tones) so the tests need no
fixtures on disk and run in a few seconds.
"""

from __future__ import annotations

import os
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
from PIL import Image as PILImage
from PIL import ImageOps

from engines import media
from engines.media import (
    MediaError,
    VideoWriter,
    exact_rate,
    iter_video_frames,
    preview_jpeg,
    probe,
    read_audio,
    read_image,
    read_mask,
    read_video,
    write_audio,
    write_image,
    write_mask,
    write_video,
)
from nodes.values import Audio, Image, Mask, Video


def gradient_frames(count: int = 12, height: int = 72, width: int = 96) -> np.ndarray:
    """A smooth diagonal gradient that slides a few pixels each frame:
    easy for a codec, so a round trip must land close to it."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    frames = []
    for t in range(count):
        r = 127.5 + 100 * np.sin((x + 3 * t) / width * 2 * np.pi)
        g = 127.5 + 100 * np.cos((y + 2 * t) / height * 2 * np.pi)
        b = np.full_like(x, 40 + 10 * t)
        frames.append(np.stack([r, g, b], axis=-1))
    return np.clip(np.stack(frames), 0, 255).astype(np.uint8)


def tone(seconds: float, rate: int, channels: int = 2, hz: float = 440.0) -> Audio:
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    chans = [0.4 * np.sin(2 * np.pi * hz * (c + 1) * t) for c in range(channels)]
    return Audio(np.stack(chans).astype(np.float32), rate)


def mean_abs_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def leftovers(folder, keep) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name not in keep)


# --------------------------------------------------------------------------
# Video


@pytest.mark.parametrize("fps", [16, 24, 30000 / 1001, 24000 / 1001])
def test_mp4_round_trip_keeps_frames_size_and_exact_fps(tmp_path, fps):
    frames = gradient_frames()
    path = tmp_path / "clip.mp4"
    write_video(path, Video(frames, fps))

    back = read_video(path)
    assert back.frames.shape == frames.shape
    assert back.fps == pytest.approx(fps, rel=1e-9)
    assert mean_abs_error(back.frames, frames) < 3.0
    assert back.audio is None

    info = probe(path)
    assert (info.width, info.height, info.frames) == (96, 72, 12)
    assert info.fps == pytest.approx(fps, rel=1e-9)
    assert info.seconds == pytest.approx(12 / fps)
    assert info.video_codec == "h264" and not info.has_audio
    with av.open(str(path)) as container:
        assert container.streams.video[0].average_rate == exact_rate(fps)


def test_ntsc_rates_are_recovered_exactly_from_floats():
    assert exact_rate(24000 / 1001) == Fraction(24000, 1001)
    assert exact_rate(30000 / 1001) == Fraction(30000, 1001)
    assert exact_rate(60000 / 1001) == Fraction(60000, 1001)
    assert exact_rate(16.0) == 16
    assert exact_rate(12.5) == Fraction(25, 2)


def test_mp4_with_audio_has_aac_track_as_long_as_the_audio(tmp_path):
    frames = gradient_frames(count=16)
    audio = tone(1.3, 44100)  # deliberately longer than the 1 s of picture
    path = tmp_path / "with_sound.mp4"
    write_video(path, Video(frames, 16, audio))

    info = probe(path)
    assert info.has_audio and info.audio_codec == "aac"
    assert info.audio_channels == 2 and info.audio_rate == 44100  # AAC takes 44.1 kHz as is
    aac_frame = 1024 / info.audio_rate
    assert abs(info.audio_seconds - audio.seconds) <= aac_frame

    back = read_video(path)
    assert back.frames.shape[0] == 16
    assert abs(back.audio.seconds - audio.seconds) <= aac_frame
    # The sound itself survives, in time (no priming delay left in).
    got, want = back.audio.samples[:, 2000:40000], audio.samples[:, 2000:40000]
    assert np.corrcoef(got.ravel(), want.ravel())[0, 1] > 0.99


def test_mono_and_odd_rate_audio_becomes_stereo_48k_at_the_same_loudness(tmp_path):
    audio = tone(0.5, 16000, channels=1)
    path = tmp_path / "speech.mp4"
    write_video(path, Video(gradient_frames(count=8), 16, audio))
    back = read_video(path).audio
    assert back.rate == 48000 and back.channels == 2
    assert abs(back.seconds - 0.5) <= 1024 / 48000
    # Not the -3 dB that FFmpeg's default mono->stereo upmix would give.
    peak = np.abs(back.samples[:, 2000:-2000]).max()
    assert peak == pytest.approx(0.4, abs=0.03)
    # AAC codes the pair jointly, so the two copies differ by a hair.
    np.testing.assert_allclose(back.samples[0], back.samples[1], atol=2e-3)


@pytest.mark.parametrize(
    ("suffix", "video_codec", "audio_codec"),
    [(".webm", "vp9", "opus"), (".mov", "h264", "aac")],
)
def test_webm_and_mov_round_trip_with_sound(tmp_path, suffix, video_codec, audio_codec):
    frames = gradient_frames()
    audio = tone(12 / 24, 48000)
    path = tmp_path / f"clip{suffix}"
    write_video(path, Video(frames, 24, audio), quality="medium")

    info = probe(path)
    assert (info.video_codec, info.audio_codec) == (video_codec, audio_codec)
    assert info.frames == 12 and info.fps == 24

    back = read_video(path)
    assert back.frames.shape == frames.shape and back.fps == 24
    assert mean_abs_error(back.frames, frames) < 4.0
    assert back.audio.rate == 48000
    assert abs(back.audio.num_samples - audio.num_samples) <= 1024


def test_webm_keeps_ntsc_rate_that_matroska_rounds(tmp_path):
    path = tmp_path / "ntsc.webm"
    write_video(path, Video(gradient_frames(count=6), 60000 / 1001))
    assert read_video(path).fps == pytest.approx(60000 / 1001, rel=1e-12)


def test_odd_sizes_are_padded_to_even_by_repeating_the_edge(tmp_path):
    frames = gradient_frames(count=4, height=71, width=95)
    path = tmp_path / "odd.mp4"
    write_video(path, Video(frames, 16))
    back = read_video(path)
    assert back.frames.shape == (4, 72, 96, 3)
    assert mean_abs_error(back.frames[:, :71, :95], frames) < 3.0
    # The extra row and column copy their neighbours, not black.
    assert mean_abs_error(back.frames[:, 71, :95], frames[:, 70]) < 4.0
    assert mean_abs_error(back.frames[:, :71, 95], frames[:, :, 94]) < 4.0


def test_read_a_range_of_frames_with_matching_audio(tmp_path):
    frames = gradient_frames(count=16)
    path = tmp_path / "range.mp4"
    write_video(path, Video(frames, 16, tone(1.0, 48000)))
    part = read_video(path, start_frame=4, max_frames=8)
    assert part.frames.shape[0] == 8
    assert mean_abs_error(part.frames, frames[4:12]) < 3.0
    assert part.audio.seconds == pytest.approx(0.5, abs=0.01)
    assert read_video(path, max_frames=0).frames.shape == (0, 72, 96, 3)


def test_iter_video_frames_streams(tmp_path, monkeypatch):
    frames = gradient_frames(count=30)
    path = tmp_path / "long.mp4"
    write_video(path, Video(frames, 24))

    converted = []
    real_rgb = media.video._rgb
    monkeypatch.setattr(media.video, "_rgb", lambda *a: converted.append(1) or real_rgb(*a))
    stream = iter_video_frames(path)
    assert converted == []  # opening decodes nothing
    first = next(stream)
    assert len(converted) == 1  # one frame out, one frame converted
    assert first.shape == (72, 96, 3) and first.dtype == np.uint8
    rest = list(stream)
    assert len(rest) == 29
    assert mean_abs_error(np.stack([first, *rest]), frames) < 3.0


def test_video_writer_accepts_frames_one_by_one(tmp_path):
    path = tmp_path / "streamed.mp4"
    with VideoWriter(path, fps=16) as writer:
        for frame in gradient_frames(count=5):
            writer.write(frame)
        assert not path.exists()  # nothing at the path until it is complete
    assert writer.frames_written == 5
    assert probe(path).frames == 5
    with pytest.raises(ValueError, match="96x72"):
        with VideoWriter(tmp_path / "mixed.mp4", fps=16) as writer:
            writer.write(gradient_frames(count=1)[0])
            writer.write(np.zeros((10, 10, 3), np.uint8))
    assert not (tmp_path / "mixed.mp4").exists()


def test_interrupted_video_write_leaves_no_file(tmp_path, monkeypatch):
    path = tmp_path / "render.mp4"
    real = media.video._yuv_frame
    calls = []

    def encoder_dies_midway(*args):
        calls.append(1)
        if len(calls) == 6:
            raise KeyboardInterrupt  # the artist pressed Ctrl-C
        return real(*args)

    monkeypatch.setattr(media.video, "_yuv_frame", encoder_dies_midway)
    with pytest.raises(KeyboardInterrupt):
        write_video(path, Video(gradient_frames(), 16, tone(1.0, 48000)))
    assert len(calls) == 6
    assert leftovers(tmp_path, keep=()) == []


def test_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "render.mp4"
    write_video(path, Video(gradient_frames(count=3), 16))
    before = path.read_bytes()

    def boom(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(media.video, "_yuv_frame", boom)
    with pytest.raises(RuntimeError):
        write_video(path, Video(gradient_frames(), 16))
    assert path.read_bytes() == before
    assert leftovers(tmp_path, keep={"render.mp4"}) == []


def test_a_video_needs_frames_and_a_known_quality(tmp_path):
    with pytest.raises(ValueError, match="at least one frame"):
        write_video(tmp_path / "empty.mp4", Video(np.zeros((0, 8, 8, 3), np.uint8), 16))
    with pytest.raises(ValueError, match="high, medium, low"):
        write_video(tmp_path / "clip.mp4", Video(gradient_frames(count=1), 16), quality="best")
    assert leftovers(tmp_path, keep=()) == []


def test_an_empty_sound_is_refused_and_no_empty_file_is_left(tmp_path):
    # An empty sound once became a 0-byte WAV that Save Audio reported as written.
    with pytest.raises(MediaError, match=r"the sound is empty \(0 samples\)"):
        write_audio(tmp_path / "silence.wav", Audio(np.zeros((1, 0), np.float32), 16000))
    assert leftovers(tmp_path, keep=()) == []


def test_unsupported_output_extension_lists_the_supported_ones(tmp_path):
    with pytest.raises(MediaError, match=r"\.mp4.*\.mov.*\.webm"):
        write_video(tmp_path / "clip.avi", Video(gradient_frames(count=1), 16))
    with pytest.raises(MediaError, match=r"\.wav.*\.flac"):
        write_audio(tmp_path / "sound.mp3", tone(0.1, 8000))
    with pytest.raises(MediaError, match=r"\.png.*\.webp"):
        write_image(tmp_path / "still.gif", Image(gradient_frames(count=1)[0]))
    assert leftovers(tmp_path, keep=()) == []


def test_missing_files_name_the_path(tmp_path):
    missing = tmp_path / "nowhere" / "clip.mp4"
    for reader in (read_video, probe, read_audio, read_image, read_mask, iter_video_frames):
        with pytest.raises(FileNotFoundError, match="clip.mp4"):
            reader(missing)


def test_files_that_are_not_the_expected_media_say_so(tmp_path):
    junk = tmp_path / "notes.mp4"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(MediaError, match="notes.mp4"):
        read_video(junk)
    with pytest.raises(MediaError, match="notes.mp4"):
        probe(junk)

    sound = tmp_path / "sound.wav"
    write_audio(sound, tone(0.2, 16000))
    with pytest.raises(MediaError, match=r"sound.wav has no video stream"):
        read_video(sound)
    with pytest.raises(MediaError, match="has no video stream"):
        iter_video_frames(sound)

    silent = tmp_path / "silent.mp4"
    write_video(silent, Video(gradient_frames(count=2), 16))
    with pytest.raises(MediaError, match=r"silent.mp4 has no audio stream"):
        read_audio(silent)

    with pytest.raises(MediaError, match=r"silent.mp4 could not be decoded as an image"):
        read_image(silent)
    assert isinstance(MediaError("x"), ValueError)


# --------------------------------------------------------------------------
# Audio


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
@pytest.mark.parametrize(("rate", "channels"), [(44100, 2), (16000, 1)])
def test_audio_round_trip_keeps_rate_length_and_sound(tmp_path, suffix, rate, channels):
    audio = tone(0.75, rate, channels=channels)
    path = tmp_path / f"sound{suffix}"
    write_audio(path, audio)
    back = read_audio(path)
    assert back.rate == rate
    assert back.samples.shape == audio.samples.shape
    assert back.samples.dtype == np.float32
    np.testing.assert_allclose(back.samples, audio.samples, atol=1 / 32767 + 1e-6)  # 16-bit steps
    info = probe(path)
    assert info.audio_seconds == pytest.approx(0.75) and not info.has_video


def test_loud_audio_is_clipped_not_wrapped(tmp_path):
    path = tmp_path / "loud.wav"
    write_audio(path, Audio(np.array([[1.5, -2.0, 0.5]], np.float32), 8000))
    np.testing.assert_allclose(read_audio(path).samples, [[1.0, -1.0, 0.5]], atol=1e-4)


def _encode_with_pyav(path, container_format, codec, audio):
    if codec not in av.codecs_available:
        pytest.skip(f"this PyAV build has no {codec} encoder")
    with av.open(str(path), "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=audio.rate)
        stream.layout = "stereo"
        frame = av.AudioFrame.from_ndarray(audio.samples, format="fltp", layout="stereo")
        frame.sample_rate = audio.rate
        frame.pts = 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@pytest.mark.parametrize(
    ("name", "container_format", "codec"),
    [("song.m4a", "ipod", "aac"), ("song.mp3", "mp3", "libmp3lame"), ("song.ogg", "ogg", "libopus")],
)
def test_read_audio_from_compressed_formats(tmp_path, name, container_format, codec):
    audio = tone(1.0, 48000)
    path = tmp_path / name
    _encode_with_pyav(path, container_format, codec, audio)
    back = read_audio(path)
    assert back.rate == 48000 and back.channels == 2 and back.samples.dtype == np.float32
    assert abs(back.seconds - 1.0) < 0.06  # mp3 keeps some encoder padding
    rms = np.sqrt(np.mean(back.samples[:, 4000:-4000] ** 2))
    assert rms == pytest.approx(0.4 / np.sqrt(2), rel=0.1)  # the tone, at its level


def test_read_audio_takes_the_sound_of_a_video(tmp_path):
    path = tmp_path / "clip.webm"
    write_video(path, Video(gradient_frames(count=8), 16, tone(0.5, 48000)))
    back = read_audio(path)
    assert back.rate == 48000 and back.num_samples == 24000


# --------------------------------------------------------------------------
# Images and masks


def test_png_round_trip_is_exact(tmp_path):
    pixels = gradient_frames(count=1, height=37, width=53)[0]
    write_image(tmp_path / "still.png", Image(pixels))
    np.testing.assert_array_equal(read_image(tmp_path / "still.png").pixels, pixels)


@pytest.mark.parametrize(("suffix", "tolerance"), [(".jpg", 2.0), (".jpeg", 2.0), (".webp", 2.5)])
def test_lossy_image_round_trips_are_close(tmp_path, suffix, tolerance):
    pixels = gradient_frames(count=1, height=37, width=53)[0]
    path = tmp_path / f"still{suffix}"
    write_image(path, Image(pixels))
    back = read_image(path).pixels
    assert back.shape == pixels.shape and back.dtype == np.uint8
    assert mean_abs_error(back, pixels) < tolerance


def test_transparent_areas_become_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200  # red
    rgba[:2, :, 3] = 0  # top half fully transparent
    rgba[2:, :, 3] = 255
    rgba[3, 0, 3] = 128  # one half-transparent pixel
    PILImage.fromarray(rgba, "RGBA").save(tmp_path / "cutout.png")
    pixels = read_image(tmp_path / "cutout.png").pixels
    assert pixels.shape == (4, 4, 3)
    assert (pixels[:2] == 255).all()
    assert tuple(pixels[2, 0]) == (200, 0, 0)
    assert tuple(pixels[3, 0]) == pytest.approx((228, 127, 127), abs=1)


def test_sixteen_bit_and_grayscale_images_become_8_bit_rgb(tmp_path):
    ramp = np.linspace(0, 65535, 64 * 8).reshape(8, 64).astype(np.uint16)
    rgb16 = np.stack([ramp, ramp[::-1], np.full_like(ramp, 65535)], axis=-1)
    cv2.imwrite(str(tmp_path / "deep.png"), rgb16[..., ::-1])  # OpenCV writes BGR
    pixels = read_image(tmp_path / "deep.png").pixels
    assert pixels.dtype == np.uint8
    assert np.abs(pixels.astype(float) - rgb16 / 257).max() <= 0.5 + 1e-9

    PILImage.fromarray(ramp).save(tmp_path / "gray16.png")
    gray = read_image(tmp_path / "gray16.png").pixels
    assert gray.shape == (8, 64, 3)
    assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()
    assert gray[0, 0, 0] == 0 and gray[-1, -1, 0] == 255

    PILImage.fromarray((ramp // 257).astype(np.uint8), "L").save(tmp_path / "gray.jpg", quality=95)
    assert read_image(tmp_path / "gray.jpg").pixels.shape == (8, 64, 3)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_like_pillow(tmp_path, orientation):
    pixels = gradient_frames(count=1, height=6, width=10)[0]
    im = PILImage.fromarray(pixels)
    exif = im.getexif()
    exif[0x0112] = orientation
    im.save(tmp_path / "phone.png", exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(PILImage.open(tmp_path / "phone.png")).convert("RGB"))
    np.testing.assert_array_equal(read_image(tmp_path / "phone.png").pixels, expected)


def test_read_mask_white_is_one(tmp_path):
    gray = np.zeros((6, 8), np.uint8)
    gray[:, 4:] = 255
    gray[0, 0] = 128
    cv2.imwrite(str(tmp_path / "mask.png"), gray)
    mask = read_mask(tmp_path / "mask.png")
    assert mask.values.dtype == np.float32 and mask.values.shape == (6, 8)
    assert mask.values[:, 4:].min() == 1.0 and mask.values[1:, :4].max() == 0.0
    assert mask.values[0, 0] == pytest.approx(128 / 255)

    # A colour image counts by brightness; an alpha-only selection by its alpha.
    write_image(tmp_path / "color.png", Image(np.repeat(gray[:, :, None], 3, axis=2)))
    np.testing.assert_allclose(read_mask(tmp_path / "color.png").values, mask.values, atol=1e-6)
    rgba = np.zeros((6, 8, 4), np.uint8)
    rgba[..., 3] = gray
    PILImage.fromarray(rgba, "RGBA").save(tmp_path / "selection.png")
    np.testing.assert_allclose(read_mask(tmp_path / "selection.png").values, mask.values, atol=1e-6)

    write_mask(tmp_path / "again.png", mask)
    np.testing.assert_allclose(read_mask(tmp_path / "again.png").values, mask.values, atol=0.5 / 255)
    with pytest.raises(ValueError, match="per-frame"):
        write_mask(tmp_path / "frames.png", Mask(np.zeros((2, 4, 4))))


def test_not_an_image_names_the_path(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"definitely not a PNG")
    with pytest.raises(MediaError, match=r"broken.png could not be decoded as an image"):
        read_image(bad)
    with pytest.raises(MediaError, match="broken.png"):
        read_mask(bad)


def test_image_writes_are_atomic(tmp_path, monkeypatch):
    path = tmp_path / "still.png"
    write_image(path, Image(np.zeros((4, 4, 3), np.uint8)))
    before = path.read_bytes()
    monkeypatch.setattr(media._files.os, "replace", lambda *a: (_ for _ in ()).throw(OSError("no space")))
    with pytest.raises(OSError):
        write_image(path, Image(np.full((4, 4, 3), 255, np.uint8)))
    assert path.read_bytes() == before
    assert leftovers(tmp_path, keep={"still.png"}) == []


def test_preview_jpeg_is_small_and_keeps_aspect():
    frame = gradient_frames(count=1, height=480, width=832)[0]
    data = preview_jpeg(frame)
    assert data[:2] == b"\xff\xd8" and len(data) < 20_000
    thumb = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert thumb.shape == (111, 192, 3)
    assert preview_jpeg(frame, max_side=64, quality=50) != data
    tiny = cv2.imdecode(np.frombuffer(preview_jpeg(frame[:20, :30]), np.uint8), cv2.IMREAD_COLOR)
    assert tiny.shape == (20, 30, 3)  # never enlarged
