"""Make the example inputs of the video-generation examples: subjects, a scene, a clip, masks.

Everything is drawn with OpenCV/numpy and written with ``engines.media``, so
the inputs are reproducible and nothing is downloaded. Run from the
repository root:

    python assets/make_example_inputs.py

It writes (small, committed) into ``assets/inputs/``:

- ``subject_mia.png`` (256x320): a drawn girl, dark hair, red coat, on white:
  the first subject of personalize_two_subjects.weft, and the first frame of
  image_to_video.weft.
- ``subject_leo.png`` (320x256): a drawn brown dog on white: the second subject.
- ``scene_park.png`` (512x288): an empty park at dusk: sky, trees, a path and a
  bench: the scene of populate_scene.weft.
- ``region_bench.png`` (512x288): white where a person may walk in and sit
  (the path and the bench), black elsewhere: the region of populate_scene.weft.
- ``clip_street.mp4`` (320x176, 33 frames, 16 fps, silent): a street with a
  shop sign and a red car driving by: the clip of the edit examples.
- ``mask_sign.png`` (320x176): white over the shop sign: the region
  edit_masked.weft regenerates.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUT = ROOT / "assets" / "inputs"

# OpenCV draws in BGR; these are RGB and converted where drawn.
WHITE = (255, 255, 255)


def _c(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(int(v) for v in rgb)


def girl() -> np.ndarray:
    h, w = 320, 256
    img = np.full((h, w, 3), 255, np.uint8)
    aa = cv2.LINE_AA
    # Coat (red), with a collar and buttons.
    cv2.ellipse(img, (128, 330), (100, 140), 0, 180, 360, _c((196, 32, 40)), -1, aa)
    cv2.rectangle(img, (60, 250), (196, 320), _c((196, 32, 40)), -1)
    cv2.line(img, (128, 200), (128, 320), _c((120, 16, 24)), 2, aa)
    for y in (235, 265, 295):
        cv2.circle(img, (136, y), 4, _c((240, 220, 120)), -1, aa)
    # Neck and head.
    cv2.rectangle(img, (114, 160), (142, 200), _c((232, 190, 160)), -1)
    cv2.ellipse(img, (128, 190), (34, 14), 0, 0, 360, _c((150, 24, 32)), -1, aa)  # collar
    cv2.ellipse(img, (128, 110), (48, 58), 0, 0, 360, _c((236, 196, 166)), -1, aa)
    # Hair: dark brown, a fringe and a bob.
    cv2.ellipse(img, (128, 92), (54, 50), 0, 180, 360, _c((58, 36, 26)), -1, aa)
    cv2.rectangle(img, (74, 90), (90, 160), _c((58, 36, 26)), -1)
    cv2.rectangle(img, (166, 90), (182, 160), _c((58, 36, 26)), -1)
    # Face.
    for x in (110, 146):
        cv2.circle(img, (x, 112), 6, _c((255, 255, 255)), -1, aa)
        cv2.circle(img, (x, 113), 3, _c((40, 70, 110)), -1, aa)
    cv2.ellipse(img, (128, 140), (14, 7), 0, 10, 170, _c((170, 60, 70)), 2, aa)
    cv2.circle(img, (100, 130), 7, _c((240, 160, 150)), -1, aa)
    cv2.circle(img, (156, 130), 7, _c((240, 160, 150)), -1, aa)
    return img


def dog() -> np.ndarray:
    h, w = 256, 320
    img = np.full((h, w, 3), 255, np.uint8)
    aa = cv2.LINE_AA
    brown, dark = _c((150, 96, 52)), _c((92, 56, 30))
    cv2.ellipse(img, (170, 150), (90, 48), 0, 0, 360, brown, -1, aa)  # body
    for x in (110, 140, 200, 230):  # legs
        cv2.rectangle(img, (x, 170), (x + 18, 232), brown, -1)
        cv2.ellipse(img, (x + 9, 234), (13, 6), 0, 0, 360, dark, -1, aa)
    cv2.ellipse(img, (262, 118), (36, 10), -35, 0, 360, brown, -1, aa)  # tail
    cv2.circle(img, (82, 108), 44, brown, -1, aa)  # head
    cv2.ellipse(img, (50, 124), (26, 18), 0, 0, 360, _c((176, 122, 78)), -1, aa)  # muzzle
    cv2.circle(img, (30, 118), 8, _c((30, 20, 18)), -1, aa)  # nose
    cv2.ellipse(img, (104, 96), (16, 34), 20, 0, 360, dark, -1, aa)  # ear
    cv2.circle(img, (72, 96), 6, _c((30, 20, 18)), -1, aa)  # eye
    cv2.rectangle(img, (108, 140), (126, 158), _c((40, 110, 200)), -1)  # blue collar
    return img


def park() -> np.ndarray:
    h, w = 288, 512
    t = np.linspace(0.0, 1.0, 170, dtype=np.float32)[:, None, None]
    sky = (1 - t) * np.array([70, 90, 160], np.float32) + t * np.array([250, 170, 120], np.float32)
    img = np.empty((h, w, 3), np.uint8)
    img[:170] = np.broadcast_to(sky, (170, w, 3)).astype(np.uint8)
    img[170:] = _c((70, 130, 60))
    aa = cv2.LINE_AA
    # Path: a trapezoid narrowing to the horizon.
    path = np.array([[200, 170], [312, 170], [470, 288], [40, 288]], np.int32)
    cv2.fillPoly(img, [path], _c((196, 180, 150)), aa)
    # Trees.
    for x, s in ((60, 1.0), (140, 0.7), (420, 0.9), (480, 1.1)):
        cv2.rectangle(img, (int(x - 6 * s), int(170 - 30 * s)), (int(x + 6 * s), 175), _c((90, 60, 40)), -1)
        cv2.circle(img, (x, int(170 - 60 * s)), int(40 * s), _c((40, 100, 50)), -1, aa)
    # Bench beside the path.
    cv2.rectangle(img, (330, 205), (420, 214), _c((120, 80, 50)), -1)
    cv2.rectangle(img, (330, 188), (420, 196), _c((120, 80, 50)), -1)
    for x in (336, 410):
        cv2.rectangle(img, (x, 214), (x + 6, 236), _c((60, 60, 60)), -1)
    # A lamp post.
    cv2.rectangle(img, (300, 110), (305, 200), _c((40, 40, 45)), -1)
    cv2.circle(img, (302, 106), 8, _c((255, 230, 160)), -1, aa)
    return img


def bench_region() -> np.ndarray:
    mask = np.zeros((288, 512), np.uint8)
    cv2.fillPoly(mask, [np.array([[190, 150], [440, 150], [512, 288], [120, 288]], np.int32)], 255)
    return mask


STREET_W, STREET_H, STREET_FRAMES, STREET_FPS = 320, 176, 33, 16
SIGN = (40, 30, 140, 62)  # x0, y0, x1, y1 of the shop sign


def street_frame(i: int) -> np.ndarray:
    w, h = STREET_W, STREET_H
    img = np.empty((h, w, 3), np.uint8)
    img[:120] = _c((180, 170, 160))  # building front
    img[120:] = _c((80, 80, 86))  # road
    cv2.line(img, (0, 150), (w, 150), _c((230, 230, 230)), 2)
    for x in range(170, 300, 40):  # windows
        cv2.rectangle(img, (x, 24), (x + 24, 60), _c((90, 120, 160)), -1)
    cv2.rectangle(img, (60, 72), (110, 120), _c((60, 40, 30)), -1)  # door
    x0, y0, x1, y1 = SIGN
    cv2.rectangle(img, (x0, y0), (x1, y1), _c((30, 70, 40)), -1)  # shop sign
    cv2.putText(img, "BAKERY", (x0 + 8, y1 - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6, _c((240, 230, 200)), 2,
                cv2.LINE_AA)
    # A red car driving left to right.
    cx = int(-60 + (w + 120) * i / (STREET_FRAMES - 1))
    cv2.rectangle(img, (cx - 34, 128), (cx + 34, 150), _c((200, 30, 30)), -1)
    cv2.rectangle(img, (cx - 18, 116), (cx + 16, 130), _c((170, 25, 25)), -1)
    for wx in (cx - 20, cx + 20):
        cv2.circle(img, (wx, 152), 8, _c((20, 20, 20)), -1, cv2.LINE_AA)
    return img


def sign_mask() -> np.ndarray:
    mask = np.zeros((STREET_H, STREET_W), np.uint8)
    x0, y0, x1, y1 = SIGN
    mask[y0 - 6:y1 + 6, x0 - 8:x1 + 8] = 255
    return mask


def main() -> int:
    from engines import media
    from nodes.values import Image, Mask, Video

    OUT.mkdir(parents=True, exist_ok=True)
    media.write_image(OUT / "subject_mia.png", Image(girl()))
    media.write_image(OUT / "subject_leo.png", Image(dog()))
    media.write_image(OUT / "scene_park.png", Image(park()))
    media.write_mask(OUT / "region_bench.png", Mask(bench_region() / 255.0))
    media.write_mask(OUT / "mask_sign.png", Mask(sign_mask() / 255.0))
    frames = np.stack([street_frame(i) for i in range(STREET_FRAMES)])
    media.write_video(OUT / "clip_street.mp4", Video(frames, STREET_FPS))
    for path in sorted(OUT.glob("*")):
        if path.stem in ("subject_mia", "subject_leo", "scene_park", "region_bench", "mask_sign", "clip_street"):
            print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
