"""The judge: decides from decoded frames what a sketch clip shows.

It knows nothing about how a clip was made. It classifies every pixel to the
nearest colour of the sketch palette, takes the background from the frame's
border, finds each shape colour's mask on every frame, and follows the mask's
centroid and area over time:

* moved left / right / up / down: the centroid travelled at least
  `MOVE_THRESHOLD` of the frame, along its main axis;
* grew / shrank: the area changed by more than `AREA_THRESHOLD` (x or /) and
  the centroid stayed put;
* stayed still: neither.

A verdict `matches` a scene when the background is right, every asked-for
colour is there with the asked-for motion, and no other colour forms a shape
(a solid patch, not the few-pixel seam where two colours blend). The shape (circle, square, triangle) is read too,
from how much of its bounding box the mask fills, and reported apart: the
issue's contract is colours, background and motion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engines.sketch.world import COLOURS, DIRECTIONS, Scene

_NAMES = list(COLOURS)
_PALETTE = np.asarray([COLOURS[n] for n in _NAMES], np.float32)
# A pixel counts for a colour only this close to it (RGB distance): the
# blurred seams between two colours belong to neither.
_MAX_DISTANCE = 70.0
# A colour is present when it covers this fraction of the frame on most frames.
MIN_AREA = 0.003
# A colour nobody asked for counts as a shape when it fills a 5x5 square (after the 3x3
# erosion above, so a 7x7 one) on a fifth of the frames: a seam where two colours blend in
# a decoded video is at most SEAM_WIDTH px wide and never does, while the world's shapes
# do (a small one that shrinks, at least before it is small; tests/sketch/test_video_world.py).
SEAM_WIDTH = 4
SOLID_PIXELS = 4
SOLID_FRAMES = 0.2
MOVE_THRESHOLD = 0.16
AREA_THRESHOLD = 1.5


@dataclass
class ShapeSeen:
    colour: str
    motion: str  # one of world.MOTIONS
    shape: str  # circle / square / triangle, or "" when too small to tell
    dx: float
    dy: float
    area_ratio: float
    frames_seen: float  # fraction of frames the colour is present on
    solid: bool = True  # a solid patch on some frames: a shape, not a seam between two others


@dataclass
class Verdict:
    background: str
    shapes: list[ShapeSeen] = field(default_factory=list)

    def colours(self) -> set[str]:
        return {s.colour for s in self.shapes}

    def find(self, colour: str) -> ShapeSeen | None:
        return next((s for s in self.shapes if s.colour == colour), None)

    def problems(self, scene: Scene) -> list[str]:
        """What differs from the scene, in words; empty when the clip shows it."""
        out = []
        if self.background != scene.background:
            out.append(f"background is {self.background}, not {scene.background}")
        for asked in scene.shapes:
            seen = self.find(asked.colour)
            if seen is None:
                out.append(f"no {asked.colour} shape")
            elif seen.motion != asked.motion:
                out.append(f"the {asked.colour} shape {_verb(seen.motion)} instead of {_verb(asked.motion)}")
        # A colour nobody asked for is a problem when it is a shape: where two asked-for colours
        # meet, a decoded video blends them over a few pixels (blue and yellow make grey, red
        # and yellow orange), and that seam is not a shape (see SEAM_WIDTH).
        extra = {s.colour for s in self.shapes if s.solid} - {s.colour for s in scene.shapes}
        for colour in sorted(extra):
            out.append(f"an unexpected {colour} shape")
        return out

    def matches(self, scene: Scene) -> bool:
        return not self.problems(scene)

    def shape_problems(self, scene: Scene) -> list[str]:
        out = []
        for asked in scene.shapes:
            seen = self.find(asked.colour)
            if seen is not None and seen.shape != asked.shape:
                out.append(f"the {asked.colour} shape looks like a {seen.shape or 'blob'}, not a {asked.shape}")
        return out


def _verb(motion: str) -> str:
    return f"moves {motion}" if motion in DIRECTIONS else ("stays still" if motion == "still" else motion)


def classify(frames: np.ndarray) -> np.ndarray:
    """Each pixel's palette index (F, H, W), or -1 where no colour is close enough."""
    px = frames.astype(np.float32)[..., None, :]  # F,H,W,1,3
    d = np.sqrt(((px - _PALETTE) ** 2).sum(-1))  # F,H,W,K
    idx = d.argmin(-1)
    idx[np.take_along_axis(d, idx[..., None], -1)[..., 0] > _MAX_DISTANCE] = -1
    return idx


def _erode(mask: np.ndarray) -> np.ndarray:
    """A 3x3 erosion per frame: thin seams of a blended colour vanish, shapes stay."""
    m = mask.copy()
    m[:, 1:, :] &= mask[:, :-1, :]
    m[:, :-1, :] &= mask[:, 1:, :]
    m[:, :, 1:] &= mask[:, :, :-1]
    m[:, :, :-1] &= mask[:, :, 1:]
    return m


def _solid(mask: np.ndarray) -> np.ndarray:
    """Per frame: pixels with the colour on the whole 5x5 square around them (a 3x3 erosion, twice)."""
    return _erode(_erode(mask))


def _shape_kind(mask: np.ndarray) -> str:
    ys, xs = np.nonzero(mask)
    if len(xs) < 12:
        return ""
    w, h = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    fill = len(xs) / float(w * h)
    if fill > 0.9:
        return "square"
    if fill > 0.66:
        return "circle"
    return "triangle"


def judge(frames: np.ndarray) -> Verdict:
    """What the clip (F, H, W, 3 uint8 RGB) shows."""
    frames = np.asarray(frames)
    f, h, w, _ = frames.shape
    idx = classify(frames)
    border = np.concatenate([idx[:, 0, :], idx[:, -1, :], idx[:, :, 0], idx[:, :, -1]], axis=1).ravel()
    border = border[border >= 0]
    counts = np.bincount(border, minlength=len(_NAMES)) if len(border) else np.bincount(
        idx[idx >= 0].ravel(), minlength=len(_NAMES))
    bg = int(counts.argmax())
    verdict = Verdict(background=_NAMES[bg])
    ys, xs = np.mgrid[0:h, 0:w]
    for k, name in enumerate(_NAMES):
        if k == bg:
            continue
        mask = _erode(idx == k)
        area = mask.reshape(f, -1).mean(1)
        present = area >= MIN_AREA
        if present.mean() < 0.6:
            continue
        frames_in = np.nonzero(present)[0]
        cx = np.array([(xs * mask[i]).sum() / mask[i].sum() for i in frames_in]) / w
        cy = np.array([(ys * mask[i]).sum() / mask[i].sum() for i in frames_in]) / h
        a = area[frames_in]
        n = max(1, min(3, len(frames_in) // 4))  # average a few frames at each end
        dx, dy = cx[-n:].mean() - cx[:n].mean(), cy[-n:].mean() - cy[:n].mean()
        ratio = float(a[-n:].mean() / max(a[:n].mean(), 1e-9))
        if max(abs(dx), abs(dy)) >= MOVE_THRESHOLD:
            if abs(dx) >= abs(dy):
                motion = "right" if dx > 0 else "left"
            else:
                motion = "down" if dy > 0 else "up"
        elif ratio >= AREA_THRESHOLD:
            motion = "grows"
        elif ratio <= 1 / AREA_THRESHOLD:
            motion = "shrinks"
        else:
            motion = "still"
        middle = frames_in[len(frames_in) // 2]
        solid = _solid(mask).reshape(f, -1).sum(1) >= SOLID_PIXELS
        verdict.shapes.append(ShapeSeen(colour=name, motion=motion, shape=_shape_kind(idx[middle] == k),
                                        dx=float(dx), dy=float(dy), area_ratio=ratio,
                                        frames_seen=float(present.mean()), solid=bool(solid.mean() >= SOLID_FRAMES)))
    return verdict
