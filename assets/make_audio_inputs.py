"""Make the example inputs the sound and cutting examples use: two short clips and a sound.

Everything is drawn with OpenCV/numpy and synthesised, then written with
``engines.media``, so the inputs are reproducible and nothing is downloaded.
Run from the repository root:

    python assets/make_audio_inputs.py

It writes (small, committed):

- ``assets/inputs/clip_orbit.mp4``: 33 frames, 320x192, 16 fps (2.06 s): a
  ball circling over a sky whose hue turns a little every frame, the frame
  number in the corner; its sound is a soft hum with a tick on every frame.
- ``assets/inputs/clip_bars.mp4``: 24 frames, 256x192, 24 fps (1 s), no sound:
  colour bars sliding sideways. Another frame rate and size on purpose, to
  show how Concatenate conforms clips.
- ``assets/inputs/chime.wav``: 1.5 s, 44.1 kHz stereo: a two-note bell.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engines import media  # noqa: E402
from nodes.values import Audio, Video  # noqa: E402

OUT = ROOT / "assets" / "inputs"


def orbit_clip(frames: int = 33, fps: float = 16.0, size: tuple[int, int] = (320, 192)) -> Video:
    w, h = size
    pixels = np.empty((frames, h, w, 3), np.uint8)
    y = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    for i in range(frames):
        hue = (i * 180 // frames) % 180
        top = cv2.cvtColor(np.uint8([[[hue, 160, 235]]]), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)
        bottom = cv2.cvtColor(np.uint8([[[(hue + 20) % 180, 220, 90]]]), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)
        sky = top * (1.0 - y[..., None]) + bottom * y[..., None]
        frame = np.ascontiguousarray(np.repeat(sky, w, axis=1).astype(np.uint8))
        angle = 2 * np.pi * i / frames
        centre = (int(w / 2 + 0.32 * w * np.cos(angle)), int(h / 2 + 0.3 * h * np.sin(angle)))
        cv2.circle(frame, centre, h // 9, (255, 236, 120), -1, lineType=cv2.LINE_AA)
        cv2.putText(frame, f"{i:02d}", (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2, cv2.LINE_AA)
        pixels[i] = frame
    rate = 48000
    n = int(round(frames / fps * rate))
    t = np.arange(n) / rate
    hum = 0.12 * np.sin(2 * np.pi * 110 * t) + 0.05 * np.sin(2 * np.pi * 220 * t)
    tick = np.zeros(n)
    for i in range(frames):  # a short click at the start of every frame
        a = int(round(i / fps * rate))
        k = np.arange(min(240, n - a))
        tick[a:a + len(k)] += 0.3 * np.exp(-k / 40.0) * np.sin(2 * np.pi * 2000 * k / rate)
    left, right = hum + tick, hum * 0.8 + tick * 0.6
    return Video(pixels, fps, Audio(np.stack([left, right]).astype(np.float32), rate))


def bars_clip(frames: int = 24, fps: float = 24.0, size: tuple[int, int] = (256, 192)) -> Video:
    w, h = size
    colours = np.array([[235, 235, 235], [235, 235, 16], [16, 235, 235], [16, 235, 16],
                        [235, 16, 235], [235, 16, 16], [16, 16, 235], [16, 16, 16]], np.uint8)
    bar = w // len(colours)
    base = np.repeat(colours, bar, axis=0)[:w]
    pixels = np.empty((frames, h, w, 3), np.uint8)
    for i in range(frames):
        row = np.roll(base, i * w // frames, axis=0)
        pixels[i] = np.repeat(row[None], h, axis=0)
    return Video(pixels, fps)


def chime(seconds: float = 1.5, rate: int = 44100) -> Audio:
    t = np.arange(int(round(seconds * rate))) / rate
    sound = np.zeros_like(t)
    for start, freq in ((0.0, 880.0), (0.35, 1318.5)):
        k = np.clip(t - start, 0.0, None)
        envelope = np.where(t >= start, np.exp(-k * 4.0), 0.0)
        sound += 0.35 * envelope * (np.sin(2 * np.pi * freq * k) + 0.3 * np.sin(2 * np.pi * 2.76 * freq * k))
    return Audio(np.stack([sound, 0.85 * sound]).astype(np.float32), rate)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    media.write_video(OUT / "clip_orbit.mp4", orbit_clip(), quality="medium")
    media.write_video(OUT / "clip_bars.mp4", bars_clip(), quality="medium")
    media.write_audio(OUT / "chime.wav", chime())
    for name in ("clip_orbit.mp4", "clip_bars.mp4", "chime.wav"):
        print(f"{OUT / name} ({(OUT / name).stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
