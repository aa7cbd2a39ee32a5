"""Reading video as a stream and image sequences in and out.

What stays in memory when a video is loaded: almost nothing that grows with
the clip. The frames are decoded one at a time and appended, as uint8 RGB, to
a file in the scratch folder (engines/media/disk_frames.py); the Video's
frames are that file mapped read-only, so they live in the page cache (which
the kernel can drop and reread), not in the process's private memory. Frames
before the range are decoded and dropped; decoding stops at the end of the
range. The sound track is decoded whole as float32, then cut to the frames'
span (sound is small: about 0.4 MB a second at 48 kHz stereo).

The bound, for Load Video -> (trim, change fps, reverse, concatenate, ...) ->
Save Video in the worker, on the process's private (anonymous) memory::

    base + decoder + encoder(width, height) + ~2 x sound

base is the process before the render (~40 MB: Python, numpy, PyAV);
decoder is FFmpeg's frames in flight (~25 MB at 720p); encoder is x264's
look-ahead and frame threads, some 50 frames of YUV and half-pel planes
(~160-240 MB at 720p, ~60 MB at 360p); sound is ``seconds x rate x channels x
4`` bytes (7 MB for 20 s of 48 kHz stereo). None of it grows with the number
of frames. The old design also held ``frames x height x width x 3`` bytes
(30 s of 720p at 24 fps: 2.0 GB). Readers that walk a whole clip (Save
Video, the result cache) release the mapped pages every 32 MB
(disk_frames.iter_frames), so the resident size, file pages included, stays
bounded too. Measured by bench/stream_memory.py (figures in bench/RESULTS.md).
The price: the clip's frames on disk, in the scratch file while a job uses
them and in the result cache.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from engines import media
from engines.media import MediaError, disk_frames
from nodes.sequences import SEQUENCE_EXTENSIONS, sequence_files
from nodes.values import Audio, Image, Video



def load_video(path: str | os.PathLike, *, start_frame: int = 0, max_frames: int | None = None) -> Video:
    """Frames ``start_frame`` .. ``start_frame + max_frames`` of ``path``, with the sound under them.

    Streams through ``engines.media.iter_video_frames`` into a disk-backed
    array (``engines.media.disk_frames``): read-only, mapped from a scratch
    file that is freed when the last view of it goes.
    """
    from engines.media.audio import decode_audio_stream, open_media

    info = media.probe(path)
    if not info.has_video:
        raise MediaError(f"{path} has no video stream (expected a video file)")
    if start_frame >= max(info.frames, 1):
        raise ValueError(f"the video has {info.frames} frames; start frame {start_frame} is past its end")
    store: disk_frames.FrameFile | None = None
    frames = media.iter_video_frames(path)
    try:
        for index, frame in enumerate(frames):
            if index < start_frame:
                continue
            if store is None:
                store = disk_frames.FrameFile(frame.shape[0], frame.shape[1])
            store.append(frame)
            if max_frames is not None and store.count >= max_frames:
                break
    except BaseException:
        if store is not None:
            store.discard()
        raise
    finally:
        frames.close()
    if store is None:
        raise MediaError(f"{path} has a video stream but no frame in it could be decoded")
    count = store.count
    pixels = store.finish()

    fps = info.fps
    audio = None
    if info.has_audio:
        with open_media(Path(path)) as container:
            track, audio_start = decode_audio_stream(container, container.streams.audio[0], path)
        begin = start_frame / fps - audio_start
        a = max(0, round(begin * track.rate))
        b = max(a, round((begin + count / fps) * track.rate))
        samples = track.samples[:, a:b]
        if samples.shape[1] < b - a:  # a track that ends before the picture: pad with silence
            samples = np.pad(samples, ((0, 0), (0, b - a - samples.shape[1])))
        audio = Audio(np.ascontiguousarray(samples), track.rate)
    return Video(pixels, fps, audio)


# --------------------------------------------------------------------------
# image sequences



def load_sequence(pattern: str | os.PathLike, fps: float, *, start_frame: int = 0,
                  max_frames: int | None = None) -> Video:
    """An image sequence as a Video at ``fps`` (no sound). Every image must be
    the size of the first; the frames are read one at a time into a disk-backed
    array, as :func:`load_video` does."""
    files = sequence_files(pattern)
    if not files:
        raise FileNotFoundError(f"no PNG, JPEG or WebP images found for {pattern}")
    files = files[start_frame:]
    if max_frames is not None:
        files = files[:max_frames]
    if not files:
        raise ValueError(f"the sequence has fewer than {start_frame + 1} images")
    first = media.read_image(files[0])
    store = disk_frames.FrameFile(first.height, first.width)
    try:
        store.append(first.pixels)
        for f in files[1:]:
            image = media.read_image(f)
            if (image.width, image.height) != (first.width, first.height):
                raise MediaError(f"{f.name} is {image.width}x{image.height} but the sequence starts at "
                                 f"{first.width}x{first.height} ({files[0].name}); every image must be the same "
                                 f"size")
            store.append(image.pixels)
    except BaseException:
        store.discard()
        raise
    return Video(store.finish(), fps)


def write_sequence(folder: str | os.PathLike, video: Video, *, stem: str = "frame", ext: str = ".png",
                   first_number: int = 1, provenance: str | None = None) -> list[Path]:
    """Every frame as ``<folder>/<stem>_0001.png`` (4 digits, more when needed).

    Each file is written atomically; the folder is created if missing.
    ``provenance`` (engines.media.provenance) goes into every PNG and JPEG frame.
    """
    if ext not in SEQUENCE_EXTENSIONS:
        raise MediaError(f"cannot write an image sequence as {ext}; use one of {', '.join(SEQUENCE_EXTENSIONS)}")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    digits = max(4, len(str(first_number + video.num_frames - 1)))
    written = []
    for i, frame in enumerate(disk_frames.iter_frames(video.frames)):
        path = out / f"{stem}_{first_number + i:0{digits}d}{ext}"
        media.write_image(path, Image(np.ascontiguousarray(frame)), provenance=provenance)
        written.append(path)
    return written
