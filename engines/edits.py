"""Model-free video edits on ``nodes.values.Video``: exact, with the sound carried along.

Numpy and OpenCV only, torch-free. Every edit returns a new Video and leaves
its argument alone. The rules, fixed here once so the nodes agree:

- **Frames and seconds.** A time ``t`` is frame ``round(t * fps)``; frame ``i``
  starts at ``i / fps``. Sound follows the picture by the same rule in
  samples, so a trimmed clip's track is cut at exactly the trimmed frames.
- **Joining clips of different kinds** (concatenate, crossfade). The first
  clip sets the frame rate and the size. A clip at another rate is retimed to
  it by picking, for every output frame, the source frame showing at that
  moment (its duration is kept; frames are repeated or dropped, never
  blended). A clip of another size is fitted inside the first one's frame
  and letterboxed with black (nothing is cropped or stretched). Sound: every
  clip's track is fitted to its picture (silence where a clip has none) and
  brought to the highest sample rate and the most channels among them.
- **Sizes** the edits derive (from an aspect ratio) are rounded to even
  numbers, which every video codec needs; sizes given explicitly are kept.
- **Clips on disk** (a loaded clip: engines/media/disk_frames.py) stay on
  disk: an edit that keeps a run of frames (trim, a retime that drops none
  and repeats none) returns a view of them; one that makes new frames or a
  new order writes them a frame at a time to a scratch file. No edit makes
  a whole in-memory copy of a disk-backed clip. Clips in memory are edited in
  memory, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import cv2
import numpy as np

from engines import audio_ops
from engines.media import disk_frames
from nodes.aspects import ASPECTS  # the one table (nodes/aspects.py)
from nodes.values import Audio, Video

FIT_MODES = ("fit", "fill", "stretch")


def _on_disk(*videos: Video) -> bool:
    return any(disk_frames.is_disk_backed(v.frames) for v in videos)


def _pick(video: Video, idx: np.ndarray) -> np.ndarray:
    """``video.frames[idx]``; for a disk-backed clip a view when ``idx`` is a
    run of consecutive frames, else written to disk a frame at a time."""
    if not _on_disk(video):
        return video.frames[idx]
    if len(idx) and np.array_equal(idx, np.arange(idx[0], idx[0] + len(idx))):
        return video.frames[int(idx[0]): int(idx[0]) + len(idx)]
    return disk_frames.collect(disk_frames.iter_frames(video.frames, idx), len(idx), video.height, video.width,
                               on_disk=True)


# --------------------------------------------------------------------------
# time


def frame_at(seconds: float, fps: float) -> int:
    return int(round(float(seconds) * float(fps)))


def track_for(video: Video) -> Audio:
    """The video's sound fitted to exactly its picture's length (silence if it has none)."""
    if video.audio is None:
        return audio_ops.silence(video.seconds)
    return audio_ops.fit_length(video.audio, audio_ops.seconds_to_samples(video.seconds, video.audio.rate))


def _audio_span(video: Video, first: int, stop: int) -> Audio | None:
    """The video's sound under frames ``first`` to ``stop`` (exclusive)."""
    if video.audio is None:
        return None
    return audio_ops.trim(video.audio, first / video.fps, stop / video.fps)


def trim(video: Video, start: int, end: int | None = None) -> Video:
    """Frames ``start`` up to (not including) ``end``; ``None`` runs to the last frame.

    The sound is cut at the same instants. Out-of-range values are clamped to
    the clip, so the result may be shorter than asked but never padded.
    """
    n = video.num_frames
    first = min(max(0, int(start)), n)
    stop = n if end is None else min(max(first, int(end)), n)
    if stop == first:
        raise ValueError(f"the trim keeps no frames (start {start}, end {end}, the clip has {n})")
    frames = np.ascontiguousarray(video.frames[first:stop])
    return Video(frames, video.fps, _audio_span(video, first, stop))


def retime_indices(count: int, fps: float, new_fps: float, speed: float = 1.0) -> np.ndarray:
    """Source frame for each output frame when ``count`` frames at ``fps`` are
    shown at ``new_fps``, played ``speed`` times as fast.

    Output frame ``j`` shows the moment ``j / new_fps * speed`` of the source,
    i.e. the source frame ``floor(j * speed * fps / new_fps)``. The output has
    ``count * new_fps / (fps * speed)`` frames, rounded half up, so the duration scales
    exactly with the speed. Exact fractions are used so that 2x on 24 fps
    picks frames 0, 2, 4, ... with no drift.
    """
    step = Fraction(speed).limit_denominator(10_000) * Fraction(fps).limit_denominator(1_000_000) / \
        Fraction(new_fps).limit_denominator(1_000_000)
    # Halves round up: 25 frames at double speed are frames 0, 2, ..., 24 (13).
    out = max(1, int(Fraction(count) / step + Fraction(1, 2)))
    idx = np.array([min(count - 1, (j * step.numerator) // step.denominator) for j in range(out)], dtype=np.int64)
    return idx


def change_fps(video: Video, fps: float) -> Video:
    """The same clip at another frame rate, same duration: frames are repeated
    (going up) or dropped (going down). The sound is untouched."""
    if fps <= 0:
        raise ValueError(f"frame rate must be positive, got {fps}")
    idx = retime_indices(video.num_frames, video.fps, fps)
    return Video(_pick(video, idx), fps, video.audio)


def change_speed(video: Video, speed: float, *, audio: str = "tape") -> Video:
    """Play the clip ``speed`` times as fast at the same frame rate.

    ``audio``: "tape" resamples the sound to the new duration, so its pitch
    follows the speed, like a tape or record played faster; "mute" drops it.
    The picture and the sound last the same, ``round(n / speed)`` frames.
    """
    if speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    idx = retime_indices(video.num_frames, video.fps, video.fps, speed)
    frames = _pick(video, idx)
    sound = None
    if video.audio is not None and audio == "tape":
        sound = audio_ops.change_speed(video.audio, speed)
        sound = audio_ops.fit_length(sound, audio_ops.seconds_to_samples(len(idx) / video.fps, sound.rate))
    elif audio not in ("tape", "mute"):
        raise ValueError(f"unknown audio rule {audio!r}; use tape or mute")
    return Video(frames, video.fps, sound)


def reverse(video: Video, *, reverse_audio: bool = True) -> Video:
    """Last frame first. The sound plays backwards too, or is dropped."""
    sound = audio_ops.reverse(track_for(video)) if (reverse_audio and video.audio is not None) else None
    if _on_disk(video):
        frames = _pick(video, np.arange(video.num_frames - 1, -1, -1))
    else:
        frames = np.ascontiguousarray(video.frames[::-1])
    return Video(frames, video.fps, sound)


# --------------------------------------------------------------------------
# size


def target_size(width: int, height: int, *, src_w: int, src_h: int, aspect: str = "keep",
                mode: str = "fit") -> tuple[int, int]:
    """The output size a reframe asks for.

    ``width``/``height`` of 0 mean "work it out": from the other side and the
    aspect (the source's when ``aspect`` is "keep"). With both 0 and an aspect,
    "fill" gives the largest frame of that aspect inside the source (a crop
    with no scaling) and "fit"/"stretch" the smallest around it (a pad with no
    scaling). Derived sides are rounded to even numbers.
    """
    if aspect == "keep":
        aw, ah = src_w, src_h
    else:
        try:
            aw, ah = ASPECTS[aspect]
        except KeyError:
            raise ValueError(f"unknown aspect {aspect!r}; use keep or one of {', '.join(ASPECTS)}") from None
    if width and height:
        return int(width), int(height)
    if width:
        return int(width), _even(width * ah / aw)
    if height:
        return _even(height * aw / ah), int(height)
    if aspect == "keep":
        return src_w, src_h
    inside = src_w * ah <= src_h * aw  # source is taller than the aspect: width limits the crop
    if mode == "fill":
        return (src_w, _even(src_w * ah / aw)) if inside else (_even(src_h * aw / ah), src_h)
    return (_even(src_h * aw / ah), src_h) if inside else (src_w, _even(src_w * ah / aw))


def _even(x: float) -> int:
    return max(2, int(round(x / 2.0)) * 2)


def _interp(scale: float) -> int:
    # Area averaging when shrinking keeps fine detail from aliasing into
    # moire; bicubic when enlarging is sharper than bilinear.
    return cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC


def reframe_frame(pixels: np.ndarray, width: int, height: int, mode: str,
                  pad_color: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """One frame at ``width`` x ``height``.

    "fit": scaled to fit inside, the rest padded with ``pad_color``
    (letterbox/pillarbox); "fill": scaled to cover, the overflow cropped
    equally from both sides; "stretch": scaled to exactly that size,
    distorting the shape if the aspects differ.
    """
    h, w = pixels.shape[:2]
    if (w, h) == (width, height):
        return pixels
    if mode == "stretch":
        return cv2.resize(pixels, (width, height), interpolation=_interp(min(width / w, height / h)))
    if mode == "fit":
        scale = min(width / w, height / h)
    elif mode == "fill":
        scale = max(width / w, height / h)
    else:
        raise ValueError(f"unknown mode {mode!r}; use fit, fill or stretch")
    sw, sh = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    scaled = pixels if (sw, sh) == (w, h) else cv2.resize(pixels, (sw, sh), interpolation=_interp(scale))
    if mode == "fill":
        x, y = (sw - width) // 2, (sh - height) // 2
        return np.ascontiguousarray(scaled[y:y + height, x:x + width])
    out = np.empty((height, width, 3), np.uint8)
    out[:] = np.asarray(pad_color, np.uint8)
    x, y = (width - sw) // 2, (height - sh) // 2
    out[y:y + sh, x:x + sw] = scaled
    return out


def reframe(video: Video, width: int, height: int, mode: str = "fit",
            pad_color: tuple[int, int, int] = (0, 0, 0)) -> Video:
    """Every frame at ``width`` x ``height`` (see :func:`reframe_frame`), one frame at a time."""
    if (video.width, video.height) == (width, height):
        return Video(video.frames, video.fps, video.audio)
    out = disk_frames.collect((reframe_frame(f, width, height, mode, pad_color)
                               for f in disk_frames.iter_frames(video.frames)),
                              video.num_frames, height, width, on_disk=_on_disk(video))
    return Video(out, video.fps, video.audio)


# --------------------------------------------------------------------------
# joining


def conform(video: Video, fps: float, width: int, height: int) -> Video:
    """``video`` at ``fps`` and ``width`` x ``height`` by the joining rule in the
    module docstring, its sound fitted to the picture."""
    sound = track_for(video) if video.audio is not None else None
    clip = Video(video.frames, video.fps, sound)
    if abs(clip.fps - fps) > 1e-9:
        clip = change_fps(clip, fps)
        if clip.audio is not None:  # same duration up to a frame's rounding
            clip = clip.with_audio(audio_ops.fit_length(
                clip.audio, audio_ops.seconds_to_samples(clip.seconds, clip.audio.rate)))
    return reframe(clip, width, height, "fit")


def concatenate(videos: Sequence[Video]) -> Video:
    """The clips one after another, in the order given (see the joining rule)."""
    if not videos:
        raise ValueError("nothing to concatenate")
    first = videos[0]
    parts = [conform(v, first.fps, first.width, first.height) for v in videos]
    if _on_disk(*videos):
        frames = disk_frames.collect((f for p in parts for f in disk_frames.iter_frames(p.frames)),
                                     sum(p.num_frames for p in parts), first.height, first.width, on_disk=True)
    else:
        frames = np.concatenate([p.frames for p in parts], axis=0)
    sound = None
    if any(v.audio is not None for v in videos):
        sound = audio_ops.concatenate([track_for(p) for p in parts])
    return Video(frames, first.fps, sound)


def crossfade(a: Video, b: Video, seconds: float) -> Video:
    """``a`` dissolving into ``b`` over ``seconds`` (rounded to whole frames).

    The overlap is ``k = round(seconds * fps)`` frames, at most the shorter
    clip; output frame ``n_a - k + j`` is ``a`` and ``b`` blended with ``b``
    weighted ``(j + 1) / (k + 1)``, so neither clip's own frames appear twice
    and the result has ``n_a + n_b - k`` frames. The sound crossfades over
    the same span with equal-power curves.
    """
    b = conform(b, a.fps, a.width, a.height)
    k = min(frame_at(seconds, a.fps), a.num_frames, b.num_frames)
    na, nb = a.num_frames, b.num_frames

    def frames():
        yield from disk_frames.iter_frames(a.frames[: na - k])
        for j in range(k):
            w = (j + 1) / (k + 1)
            blend = a.frames[na - k + j].astype(np.float32) * (1.0 - w) + b.frames[j].astype(np.float32) * w
            yield np.clip(np.round(blend), 0, 255).astype(np.uint8)
        yield from disk_frames.iter_frames(b.frames[k:])

    out = disk_frames.collect(frames(), na + nb - k, a.height, a.width, on_disk=_on_disk(a, b))
    sound = None
    if a.audio is not None or b.audio is not None:
        sound = audio_ops.crossfade(track_for(a), track_for(b), k / a.fps)
        sound = audio_ops.fit_length(sound, audio_ops.seconds_to_samples(out.shape[0] / a.fps, sound.rate))
    return Video(out, a.fps, sound)


# --------------------------------------------------------------------------
# colour


def color_adjust(video: Video, *, brightness: float = 0.0, contrast: float = 1.0, saturation: float = 1.0,
                 gamma: float = 1.0) -> Video:
    """Brightness, contrast, saturation and gamma, in that order, per frame.

    On values in [0, 1]: ``brightness`` is added; ``contrast`` scales the
    distance from mid-grey (0.5); ``saturation`` scales the distance from the
    pixel's luma (Rec. 709 weights; 0 is greyscale); ``gamma`` > 1 brightens
    the mid-tones (``v ** (1 / gamma)``), < 1 darkens them. At the neutral
    values (0, 1, 1, 1) the frames come back unchanged, bit for bit.
    """
    if gamma <= 0:
        raise ValueError(f"gamma must be positive, got {gamma}")
    neutral_tone = brightness == 0.0 and contrast == 1.0 and gamma == 1.0
    if neutral_tone and saturation == 1.0:
        return Video(video.frames, video.fps, video.audio)
    # Brightness/contrast and gamma are per-value curves, done with lookup
    # tables; only saturation mixes channels and needs float maths.
    v = np.arange(256, dtype=np.float64) / 255.0
    tone = np.clip((v - 0.5) * contrast + 0.5 + brightness, 0.0, 1.0)
    tone_lut = np.round(tone * 255.0).astype(np.uint8)
    gamma_lut = np.round(np.power(v, 1.0 / gamma) * 255.0).astype(np.uint8)
    weights = np.array([0.2126, 0.7152, 0.0722], np.float32)

    def adjusted(frame: np.ndarray) -> np.ndarray:
        f = tone_lut[frame] if not (brightness == 0.0 and contrast == 1.0) else frame
        if saturation != 1.0:
            x = f.astype(np.float32)
            luma = x @ weights
            x = luma[..., None] + (x - luma[..., None]) * np.float32(saturation)
            f = np.clip(np.round(x), 0, 255).astype(np.uint8)
        if gamma != 1.0:
            f = gamma_lut[f]
        return f

    out = disk_frames.collect((adjusted(f) for f in disk_frames.iter_frames(video.frames)), video.num_frames,
                              video.height, video.width, on_disk=_on_disk(video))
    return Video(out, video.fps, video.audio)
