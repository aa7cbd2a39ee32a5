"""Video files: write H.264/AAC (.mp4, .mov) and VP9/Opus (.webm); read
anything FFmpeg reads.

PyAV (FFmpeg's libraries, in-process) rather than an ``ffmpeg`` subprocess:
no binary to find on an artist's PATH, frames go in and out as numpy arrays
without a pipe, and errors arrive as exceptions instead of stderr to parse.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace

from nodes.values import Audio, Video

from . import disk_frames
from . import provenance as _provenance
from ._files import MediaError, PathLike, atomic_output, existing_file, output_extension
from .audio import decode_audio_stream, open_media, stream_duration


@dataclass(frozen=True)
class _Recipe:
    container: str
    video_codec: str
    audio_codec: str
    container_options: dict[str, str]


# +faststart moves the index to the front so browsers and the Qt player can
# start playing before the whole file has arrived.
VIDEO_FORMATS = {
    ".mp4": _Recipe("mp4", "libx264", "aac", {"movflags": "+faststart"}),
    ".mov": _Recipe("mov", "libx264", "aac", {"movflags": "+faststart"}),
    ".webm": _Recipe("webm", "libvpx-vp9", "libopus", {}),
}

# Constant-quality settings. x264 CRF 17 is visually lossless for generated
# footage; VP9's CRF scale differs (31 is its "good" default). The audio
# bitrates are per stereo pair.
_QUALITY = {
    "high": {"libx264": 17, "libvpx-vp9": 24, "aac": 192_000, "libopus": 160_000},
    "medium": {"libx264": 21, "libvpx-vp9": 31, "aac": 160_000, "libopus": 128_000},
    "low": {"libx264": 26, "libvpx-vp9": 38, "aac": 128_000, "libopus": 96_000},
}
QUALITIES = tuple(_QUALITY)


def exact_rate(fps: float | Fraction) -> Fraction:
    """The frame rate as the exact fraction it stands for.

    ``Video.fps`` is a float, so 24000/1001 arrives as 23.976023976023978;
    written with a float time base it would drift by a frame every few
    minutes and read back as a slightly different rate. NTSC rates
    (N*1000/1001) and rates with small denominators (12.5) are recovered
    exactly; anything else keeps six significant decimals.
    """
    if isinstance(fps, Fraction):
        return fps
    fps = float(fps)
    if not fps > 0:
        raise ValueError(f"frame rate must be positive, got {fps}")
    whole = round(fps)
    if whole and abs(fps - whole) < 1e-6 * fps:
        return Fraction(whole)
    ntsc = round(fps * 1.001)
    if ntsc and abs(fps - ntsc * 1000 / 1001) < 1e-6 * fps:
        return Fraction(ntsc * 1000, 1001)
    return Fraction(fps).limit_denominator(1_000_000)


def _tidy_read_rate(rate: Fraction) -> Fraction:
    """Undo the rounding some containers apply to the rate.

    WebM stores a frame duration in whole nanoseconds, so 60000/1001 comes back
    as 19001/317; snap such near misses to the rate they approximate."""
    if rate.denominator in (1, 1001):
        return rate
    snapped = exact_rate(float(rate))
    if snapped.denominator in (1, 1001):
        return snapped
    return rate


# --------------------------------------------------------------------------
# Writing


def _yuv_frame(pixels: np.ndarray, width: int, height: int) -> "av.VideoFrame":
    """An RGB frame as the encoder's yuv420p, padded to even size.

    4:2:0 chroma covers 2x2 pixel blocks, so x264 and libvpx refuse odd
    sizes. Replicating the last row/column adds at most one pixel that looks
    like its neighbour, instead of failing the render or cropping away
    content the artist made.
    """
    pad_h, pad_w = height - pixels.shape[0], width - pixels.shape[1]
    if pad_h or pad_w:
        pixels = np.pad(pixels, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
    # Convert with BT.709 in limited range and tag the stream to match (see
    # _add_video_stream): untagged files are guessed as BT.601 by some players
    # and BT.709 by others, which shifts greens and reds.
    return frame.reformat(format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG)


def _stereo(samples: np.ndarray) -> np.ndarray:
    """Mono doubled, stereo kept, more channels cut to the first two.

    Done with numpy rather than the resampler: libswresample maps mono to
    stereo at -3 dB and downmixes 5.1 without normalising (it clips), both of
    which would change what the artist hears.
    """
    if samples.shape[0] == 1:
        return np.repeat(samples, 2, axis=0)
    return samples[:2]


class _AudioTrack:
    """Feeds a whole Audio to an encoder in step with the video frames, so
    the file is interleaved (players and browsers stream it without
    seeking back and forth) and memory stays flat."""

    def __init__(self, container, recipe: _Recipe, audio: Audio, quality: str):
        # AAC plays at 44.1 and 48 kHz everywhere, so those are kept; other
        # rates (16k, 24k, 32k from speech and music models) go to 48 kHz,
        # the video standard. Opus only runs at 48 kHz.
        if recipe.audio_codec == "aac" and audio.rate in (44100, 48000):
            out_rate = audio.rate
        else:
            out_rate = 48000
        self.stream = container.add_stream(recipe.audio_codec, rate=out_rate)
        self.stream.layout = "stereo"
        # Hand the encoder float samples where it takes them (libopus defaults
        # to 16-bit), so the only quantisation is the codec's own.
        formats = [f.name for f in self.stream.codec_context.codec.audio_formats or ()]
        for preferred in ("fltp", "flt"):
            if preferred in formats:
                self.stream.format = preferred
                break
        self.stream.bit_rate = _QUALITY[quality][recipe.audio_codec]
        self.container = container
        self.samples = np.ascontiguousarray(_stereo(audio.samples), dtype=np.float32)
        self.rate = audio.rate
        self.cursor = 0
        # The resampler changes rate only; PyAV then regroups its output into
        # the encoder's fixed frame size (1024 for AAC, 960 for Opus) and
        # lets the last, short frame through, so no samples are added or lost.
        self.resampler = av.AudioResampler(format=self.stream.format.name, layout="stereo", rate=out_rate)

    def feed_until(self, seconds: float | None) -> None:
        end = self.samples.shape[1] if seconds is None else min(self.samples.shape[1], round(seconds * self.rate))
        if end <= self.cursor:
            return
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(self.samples[:, self.cursor : end]), format="fltp", layout="stereo"
        )
        frame.sample_rate = self.rate
        frame.pts = self.cursor
        frame.time_base = Fraction(1, self.rate)
        self.cursor = end
        self._encode(self.resampler.resample(frame))

    def finish(self) -> None:
        self.feed_until(None)
        self._encode(self.resampler.resample(None))
        self.container.mux(self.stream.encode(None))

    def _encode(self, frames) -> None:
        for frame in frames:
            self.container.mux(self.stream.encode(frame))


class VideoWriter:
    """Write a video frame by frame, e.g. as a decoder produces them.

    ::

        with VideoWriter("out.mp4", fps=16, audio=track) as writer:
            for frame in frames:
                writer.write(frame)

    Nothing appears at ``path`` until the ``with`` block ends without error
    (or :meth:`close` is called); an exception, or :meth:`abort`, removes the
    partial file. The first frame fixes the size; later frames must match.
    """

    def __init__(self, path: PathLike, fps: float | Fraction, *, audio: Audio | None = None, quality: str = "high",
                 provenance: str | None = None, overwrite: bool = True):
        ext = output_extension(path, VIDEO_FORMATS, "video")
        if quality not in _QUALITY:
            raise ValueError(f"unknown video quality {quality!r}; use one of {', '.join(QUALITIES)}")
        self.path = Path(path)
        self.rate = exact_rate(fps)
        self.quality = quality
        self.audio = audio if audio is not None and audio.num_samples > 0 else None
        self._recipe = VIDEO_FORMATS[ext]
        self._atomic = atomic_output(self.path, overwrite=overwrite)
        temp = self._atomic.__enter__()
        options = dict(self._recipe.container_options)
        if provenance is not None:
            for key, value in _provenance.container_options(self._recipe.container).items():
                options[key] = options.get(key, "") + value
        try:
            self._container = av.open(str(temp), "w", format=self._recipe.container, container_options=options)
            if provenance is not None:
                self._container.metadata.update(_provenance.container_tags(provenance, self._recipe.container))
        except BaseException as error:
            self._atomic.__exit__(type(error), error, error.__traceback__)
            raise
        self._stream = None
        self._track: _AudioTrack | None = None
        self._size: tuple[int, int] | None = None  # (height, width) as given
        self._count = 0
        self._done = False

    @property
    def frames_written(self) -> int:
        return self._count

    def _add_streams(self, height: int, width: int) -> None:
        stream = self._container.add_stream(self._recipe.video_codec, rate=self.rate)
        stream.width, stream.height = width + width % 2, height + height % 2
        stream.pix_fmt = "yuv420p"
        # One tick per frame: timestamps are exact integers at any rate,
        # including 24000/1001, instead of rounded milliseconds.
        stream.codec_context.time_base = 1 / self.rate
        ctx = stream.codec_context
        ctx.colorspace = 1  # AVCOL_SPC_BT709, matching _yuv_frame
        ctx.color_primaries = 1
        ctx.color_trc = 1
        ctx.color_range = 1  # MPEG (limited) range
        crf = str(_QUALITY[self.quality][self._recipe.video_codec])
        if self._recipe.video_codec == "libx264":
            ctx.options = {"crf": crf, "preset": "medium"}
        else:
            # b=0 makes libvpx honour the CRF alone; row-mt and cpu-used 4 keep
            # VP9 (a slow encoder) within a few times real time on a laptop.
            stream.bit_rate = 0
            ctx.options = {"crf": crf, "deadline": "good", "cpu-used": "4", "row-mt": "1"}
        self._stream = stream
        if self.audio is not None:
            self._track = _AudioTrack(self._container, self._recipe, self.audio, self.quality)

    def write(self, pixels: np.ndarray) -> None:
        """Append one ``uint8 (height, width, 3)`` RGB frame."""
        if self._done:
            raise ValueError(f"the writer for {self.path} is already closed")
        pixels = np.asarray(pixels)
        if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
            raise ValueError(f"a video frame must be uint8 (height, width, 3), got {pixels.dtype} {pixels.shape}")
        if self._size is None:
            self._size = pixels.shape[:2]
            self._add_streams(*self._size)
        elif pixels.shape[:2] != self._size:
            raise ValueError(
                f"frame {self._count} is {pixels.shape[1]}x{pixels.shape[0]} but the video is "
                f"{self._size[1]}x{self._size[0]}"
            )
        frame = _yuv_frame(pixels, self._stream.width, self._stream.height)
        frame.pts = self._count
        frame.time_base = self._stream.codec_context.time_base
        self._container.mux(self._stream.encode(frame))
        self._count += 1
        if self._track is not None:
            self._track.feed_until(self._count / self.rate)

    def close(self) -> None:
        """Finish the file and move it to ``path``."""
        if self._done:
            return
        try:
            if self._count == 0:
                raise ValueError(f"cannot write {self.path}: a video needs at least one frame")
            self._container.mux(self._stream.encode(None))
            if self._track is not None:
                self._track.finish()
            self._container.close()
        except BaseException as error:
            self._fail(error)
            raise
        self._done = True
        self._atomic.__exit__(None, None, None)

    def abort(self) -> None:
        """Stop and leave nothing at ``path``."""
        if not self._done:
            self._fail(None)

    def _fail(self, error: BaseException | None) -> None:
        self._done = True
        try:
            self._container.close()
        except Exception:  # the file is being thrown away; its errors do not matter
            pass
        error = error or RuntimeError("aborted")
        try:
            self._atomic.__exit__(type(error), error, error.__traceback__)
        except BaseException as raised:
            if raised is not error:
                raise

    def __del__(self) -> None:
        # A writer dropped without close() (an exception outside a ``with``)
        # must not leave its hidden partial file behind.
        if not getattr(self, "_done", True):
            try:
                self.abort()
            except Exception:
                pass

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_video(path: PathLike, video: Video, *, quality: str = "high", provenance: str | None = None,
                overwrite: bool = True) -> None:
    """Encode ``video`` (and its audio, if any) to ``.mp4``/``.mov`` (H.264 +
    AAC) or ``.webm`` (VP9 + Opus), atomically.

    The file has exactly ``video.num_frames`` frames at exactly ``video.fps``;
    the audio track is as long as ``video.audio`` (fitting it to the picture
    is the caller's job). Odd sizes are padded to even by one replicated row
    or column. ``quality`` is ``"high"``, ``"medium"`` or ``"low"``.
    ``provenance`` (engines.media.provenance) goes into the container's
    metadata; ``overwrite=False`` refuses to replace a file already at ``path``.

    Encoded a frame at a time: nothing is copied whole (no float or stacked
    copy of the clip), and for a disk-backed clip (disk_frames) the pages
    read are released as it goes, so memory does not grow with its length.
    """
    with VideoWriter(path, video.fps, audio=video.audio, quality=quality, provenance=provenance,
                     overwrite=overwrite) as writer:
        for pixels in disk_frames.iter_frames(video.frames):
            writer.write(pixels)


# --------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class MediaInfo:
    """What a file holds, read from its headers (and, where the container
    does not say how many frames there are, by counting packets)."""

    width: int
    height: int
    frames: int
    fps: float
    seconds: float
    has_audio: bool
    audio_rate: int | None
    audio_channels: int | None
    audio_seconds: float | None
    video_codec: str | None
    audio_codec: str | None

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None


def footage_streams(container) -> list:
    """The video streams that are footage: not a still attached as cover art (an MP3's album
    picture is a one-frame 'video' stream at 90000 fps, and must not load as a video)."""
    attached = av.stream.Disposition.attached_pic
    return [s for s in container.streams.video if not s.disposition & attached]


def footage_stream(container, p):
    moving = footage_streams(container)
    if not moving:
        if container.streams.video:
            raise MediaError(f"{p} has no footage: its only picture is a still (cover art); load it with Load Audio")
        raise MediaError(f"{p} has no video stream (expected a video file)")
    stream = moving[0]
    # Let FFmpeg decode on all cores (frame and slice threads).
    stream.thread_type = "AUTO"
    return stream


def _frame_rate(stream) -> Fraction:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    # A single still (a PNG opened as video) has no rate; 24 is as good as any.
    return _tidy_read_rate(Fraction(rate)) if rate else Fraction(24)


def _rgb(frame: "av.VideoFrame", width: int, height: int) -> np.ndarray:
    # The frame's own colour tags pick the YUV->RGB matrix, but PyAV's
    # reformat passes the range as "unspecified" (read: limited) unless told,
    # which would wash out full-range footage from phones and screen capture.
    kwargs = {"format": "rgb24"}
    if frame.color_range:
        kwargs["src_color_range"] = frame.color_range
    if frame.width != width or frame.height != height:
        # Rare, but WebM allows the size to change mid-stream; a Video is one
        # size, so later frames are scaled to the first one's.
        kwargs.update(width=width, height=height)
    return frame.to_ndarray(**kwargs)


def _decoded_frames(container, stream, p) -> Iterator["av.VideoFrame"]:
    try:
        yield from container.decode(stream)
    except av.FFmpegError as error:
        raise MediaError(f"{p}: the video stream could not be decoded ({error.strerror or error})") from error


def read_video(path: PathLike, *, max_frames: int | None = None, start_frame: int = 0) -> Video:
    """Decode ``path`` to RGB frames, with its first audio track if it has one.

    ``start_frame`` and ``max_frames`` pick a range of frames; the audio is
    then cut to the same span of time. Without them the whole audio track is
    returned, even if it is longer or shorter than the picture.
    """
    if start_frame < 0:
        raise ValueError(f"start_frame must be >= 0, got {start_frame}")
    if max_frames is not None and max_frames < 0:
        raise ValueError(f"max_frames must be >= 0, got {max_frames}")
    p = existing_file(path)
    with open_media(p) as container:
        stream = footage_stream(container, p)
        rate = _frame_rate(stream)
        width, height = stream.codec_context.width, stream.codec_context.height
        first_time: float | None = None
        # Frames go straight into one array, sized from the container's count
        # where it has one, so peak memory is the video plus one frame rather
        # than twice the video (a list of frames, then np.stack).
        expected = max(0, stream.frames - start_frame)
        if max_frames is not None:
            expected = min(expected, max_frames)
        pixels: np.ndarray | None = None
        count = 0
        # Decoded from the start and skipped rather than seeked: seeking lands
        # on keyframes and needs exact timestamps to count frames from, while
        # generated clips are short enough that decoding is cheap.
        if max_frames != 0:
            for index, frame in enumerate(_decoded_frames(container, stream, p)):
                if index < start_frame:
                    continue
                if pixels is None:
                    first_time = float(frame.time) if frame.time is not None else start_frame / float(rate)
                    width, height = width or frame.width, height or frame.height
                    pixels = np.empty((max(expected, 1), height, width, 3), np.uint8)
                elif count == pixels.shape[0]:
                    pixels = np.concatenate([pixels, np.empty_like(pixels)])
                pixels[count] = _rgb(frame, width, height)
                count += 1
                if max_frames is not None and count >= max_frames:
                    break
        if pixels is None:
            if start_frame > 0 or max_frames == 0:
                pixels = np.zeros((0, height, width, 3), np.uint8)
            else:
                raise MediaError(f"{p} has a video stream but no frame in it could be decoded")
        elif count < pixels.shape[0]:
            pixels = pixels[:count].copy()

        has_audio = bool(container.streams.audio)

    audio = None
    if has_audio:
        # A second open rather than seek(0): in WebM, seeking to 0 skips
        # the Opus packet stamped just before 0 and loses 20 ms of sound.
        with open_media(p) as container:
            audio, audio_start = decode_audio_stream(container, container.streams.audio[0], p)
        sliced = start_frame > 0 or (max_frames is not None and pixels.shape[0] >= max_frames)
        if sliced:
            begin = (first_time if first_time is not None else start_frame / float(rate)) - audio_start
            a = max(0, round(begin * audio.rate))
            b = max(a, round((begin + pixels.shape[0] / float(rate)) * audio.rate))
            audio = Audio(np.ascontiguousarray(audio.samples[:, a:b]), audio.rate)
    return Video(pixels, float(rate), audio)


def iter_video_frames(path: PathLike) -> Iterator[np.ndarray]:
    """Yield the frames of ``path`` one at a time as uint8 RGB, decoding as
    it goes, for videos too long to hold in memory.

    The file is opened (and a missing file or one without video reported)
    when this is called, not at the first ``next()``. Exhaust the iterator or
    call its ``close()`` to release the file promptly.
    """
    p = existing_file(path)
    container = open_media(p)
    try:
        stream = footage_stream(container, p)
    except BaseException:
        container.close()
        raise

    def frames() -> Iterator[np.ndarray]:
        width, height = stream.codec_context.width, stream.codec_context.height
        try:
            for frame in _decoded_frames(container, stream, p):
                if not width or not height:
                    width, height = frame.width, frame.height
                yield _rgb(frame, width, height)
        finally:
            container.close()

    return frames()


def probe(path: PathLike) -> MediaInfo:
    """Describe a video or sound file without decoding its pictures."""
    p = existing_file(path)
    with open_media(p) as container:
        footage = footage_streams(container)
        if not footage and not container.streams.audio:
            raise MediaError(f"{p} has no video or audio stream (expected a video or sound file)")
        width = height = frames = 0
        fps = seconds = 0.0
        video_codec = audio_codec = None
        audio_rate = audio_channels = None
        audio_seconds = None
        if container.streams.audio:
            a = container.streams.audio[0]
            audio_codec = a.codec_context.name
            audio_rate = a.codec_context.sample_rate
            audio_channels = a.codec_context.channels
            audio_seconds = stream_duration(a)
            if audio_seconds is None:
                with open_media(p) as again:  # decoding moves the read position
                    audio_seconds = decode_audio_stream(again, again.streams.audio[0], p)[0].seconds
        if footage:
            v = footage[0]
            video_codec = v.codec_context.name
            width, height = v.codec_context.width, v.codec_context.height
            rate = _frame_rate(v)
            fps = float(rate)
            frames = v.frames
            if not frames:
                # WebM and others do not store a count. Packets are counted
                # (each holds one frame in every format Weft writes) rather
                # than frames decoded, so a long file probes in a moment.
                try:
                    frames = sum(1 for packet in container.demux(v) if packet.size)
                except av.FFmpegError as error:
                    raise MediaError(f"{p}: the video stream could not be read ({error.strerror or error})") from error
            seconds = frames / fps
        else:
            seconds = audio_seconds or 0.0
    return MediaInfo(
        width=width,
        height=height,
        frames=frames,
        fps=fps,
        seconds=seconds,
        has_audio=audio_codec is not None,
        audio_rate=audio_rate,
        audio_channels=audio_channels,
        audio_seconds=audio_seconds,
        video_codec=video_codec,
        audio_codec=audio_codec,
    )
