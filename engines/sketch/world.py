"""The sketch world: flat shapes that move on plain backgrounds, described in words.

This is the contract the sketch models are trained on, the judge checks and the
tests and examples use. A clip is one or two flat shapes on a plain background:

    "a red circle moves right on a blue background"
    "a small yellow square grows on a black background"
    "a green triangle moves up and a white circle moves left slowly on a grey background"

Everything here is numpy only and deterministic by seed: the same caption and
seed always draw the same pixels, so a training run can be resumed exactly and
a judge test can name the clip that failed.

Grammar (one shape phrase, or two joined by "and", then the background):

    phrase     := "a" [size] colour shape motion [speed]
    size       := "small" | "big"
    motion     := "moves left|right|up|down" | "grows" | "shrinks" | "stays still"
    speed      := "slowly" | "quickly"          (only after "moves ...")
    caption    := phrase ["and" phrase] "on a" colour "background"

"slowly" and "quickly" may also come before the verb ("a red circle slowly
moves right"); captions drawn here always put them after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from nodes import sketch_words
from nodes.sketch_words import COLOURS, DIRECTIONS, MOTIONS, SHAPES, SIZES, SPEEDS, VIDEO_WORDS

# Half the shape's extent, as a fraction of the frame's side.
_SIZE_SCALE = {"small": 0.1, "": 0.13, "big": 0.165}
# How far a moving shape travels over the clip, as a fraction of the frame
# (the contract: at least a third).
_TRAVEL = {"slowly": 0.36, "": 0.5, "quickly": 0.64}
# How much a growing shape's extent changes from the first frame to the last.
_GROWTH = {"slowly": 1.6, "": 1.9, "quickly": 2.3}

# Every word a sketch caption can use (the domain's table); anything else is unknown to the models.
VOCABULARY = VIDEO_WORDS


@dataclass(frozen=True)
class Shape:
    """One shape of a clip: what it is and what it does."""

    shape: str = "circle"
    colour: str = "red"
    motion: str = "still"  # one of MOTIONS
    speed: str = ""  # "", "slowly", "quickly"
    size: str = ""  # "", "small", "big"

    def phrase(self) -> str:
        first = self.size or self.colour
        words = ["an" if first[0] in "aeiou" else "a"]
        if self.size:
            words.append(self.size)
        words += [self.colour, self.shape]
        if self.motion in DIRECTIONS:
            words += ["moves", self.motion]
        elif self.motion == "still":
            words += ["stays", "still"]
        else:
            words.append(self.motion)
        if self.speed and self.motion != "still":
            words.append(self.speed)
        return " ".join(words)


@dataclass(frozen=True)
class Scene:
    """What a caption says: one or two shapes and a background colour."""

    shapes: tuple[Shape, ...] = (Shape(),)
    background: str = "blue"

    def caption(self) -> str:
        return " and ".join(s.phrase() for s in self.shapes) + f" on a {self.background} background"


class CaptionError(ValueError):
    """A caption outside the sketch grammar; the message says which word and why."""


def unknown_words(text: str) -> list[str]:
    """The words of `text` the sketch video model was never taught, in order, once each."""
    return sketch_words.unknown_words("sketch-video", text)


def parse(text: str) -> Scene:
    """The scene a caption describes. Raises CaptionError naming the word it could not place."""
    words = ["grey" if w == "gray" else w for w in sketch_words.words(text)]
    unknown = [w for w in words if w not in VOCABULARY]
    if unknown:
        raise CaptionError(f"the sketch models do not know the word(s): {', '.join(dict.fromkeys(unknown))}")
    if "on" not in words:
        raise CaptionError("a sketch caption ends with 'on a <colour> background'")
    cut = len(words) - 1 - words[::-1].index("on")
    tail = [w for w in words[cut + 1:] if w not in ("a", "an")]
    if len(tail) != 2 or tail[1] != "background" or tail[0] not in COLOURS:
        raise CaptionError("a sketch caption ends with 'on a <colour> background'")
    background = tail[0]
    phrases: list[list[str]] = [[]]
    for w in words[:cut]:
        if w == "and":
            phrases.append([])
        else:
            phrases[-1].append(w)
    if len(phrases) > 2:
        raise CaptionError("a sketch clip has one or two shapes")
    shapes = tuple(_parse_phrase(p) for p in phrases)
    for s in shapes:
        if s.colour == background:
            raise CaptionError(f"the {s.shape} is {s.colour}, the same colour as the background")
    if len(shapes) == 2 and shapes[0].colour == shapes[1].colour:
        raise CaptionError("two shapes of one colour cannot be told apart; give them different colours")
    return Scene(shapes=shapes, background=background)


def _parse_phrase(words: list[str]) -> Shape:
    words = [w for w in words if w not in ("a", "an")]
    colour = [w for w in words if w in COLOURS]
    shape = [w for w in words if w in SHAPES]
    if len(colour) != 1 or len(shape) != 1:
        raise CaptionError(f"'{' '.join(words)}' needs one colour and one shape (e.g. 'a red circle')")
    size = next((w for w in words if w in ("small", "big")), "")
    speed = next((w for w in words if w in ("slowly", "quickly")), "")
    motion = "still"
    if "grows" in words:
        motion = "grows"
    elif "shrinks" in words:
        motion = "shrinks"
    elif "moves" in words or "move" in words:
        direction = [w for w in words if w in DIRECTIONS]
        if len(direction) != 1:
            raise CaptionError(f"'{' '.join(words)}': say which way it moves (left, right, up or down)")
        motion = direction[0]
    return Shape(shape=shape[0], colour=colour[0], motion=motion, speed=speed if motion != "still" else "",
                 size=size)


# --- Drawing a random scene from the grammar ------------------------------------------


def random_scene(rng: np.random.Generator, *, two_shapes: float = 0.5) -> Scene:
    """A scene drawn uniformly from the grammar (two shapes with probability `two_shapes`)."""
    colours = list(COLOURS)
    n = 2 if rng.random() < two_shapes else 1
    picked = rng.choice(len(colours), size=n + 1, replace=False)
    background = colours[picked[-1]]
    shapes = []
    for i in range(n):
        motion = MOTIONS[rng.integers(len(MOTIONS))]
        speed = SPEEDS[rng.integers(3)] if motion != "still" else ""
        shapes.append(Shape(shape=SHAPES[rng.integers(3)], colour=colours[picked[i]], motion=motion, speed=speed,
                            size=SIZES[rng.integers(3)]))
    return Scene(shapes=tuple(shapes), background=background)


# --- Rendering ------------------------------------------------------------------------


@dataclass(frozen=True)
class Track:
    """Where one shape is on each frame: centre (x, y) and half-extent, in frame fractions."""

    x: np.ndarray
    y: np.ndarray
    r: np.ndarray


@dataclass
class Clip:
    """A rendered clip: frames (F, H, W, 3) uint8, the scene and each shape's track."""

    frames: np.ndarray
    scene: Scene
    tracks: list[Track] = field(default_factory=list)
    fps: float = 8.0


def _track(shape: Shape, rng: np.random.Generator, frames: int) -> Track:
    r0 = _SIZE_SCALE[shape.size] * rng.uniform(0.9, 1.1)
    t = np.linspace(0.0, 1.0, frames)
    margin = 0.02
    if shape.motion in DIRECTIONS:
        travel = _TRAVEL[shape.speed] * rng.uniform(0.95, 1.05)
        lo, hi = r0 + margin, 1 - r0 - margin
        travel = min(travel, hi - lo)
        start = rng.uniform(lo, max(lo, hi - travel))
        across = rng.uniform(lo, hi)
        along = start + travel * t
        if shape.motion in ("left", "up"):
            along = along[::-1].copy()
        if shape.motion in ("left", "right"):
            x, y = along, np.full(frames, across)
        else:
            x, y = np.full(frames, across), along
        r = np.full(frames, r0)
    else:
        if shape.motion == "still":
            r = np.full(frames, r0)
        else:
            g = _GROWTH[shape.speed]
            small, large = r0 / math.sqrt(g), r0 * math.sqrt(g)
            r = small * (large / small) ** t  # geometric: the area changes at an even rate
            if shape.motion == "shrinks":
                r = r[::-1].copy()
        rmax = float(r.max()) + margin
        x = np.full(frames, rng.uniform(rmax, 1 - rmax))
        y = np.full(frames, rng.uniform(rmax, 1 - rmax))
    return Track(x=x, y=y, r=r)


# Where "by_caption" placement puts a shape's path centre, as (x, y), by what
# the shapes do: "H" moves left/right, "V" moves up/down, "S" stays in place
# (grows, shrinks, stays still). Two shapes share the frame in halves.
PLACEMENTS = ("anywhere", "by_caption")
_JITTER = 0.04


def _kind(shape: Shape) -> str:
    return "H" if shape.motion in ("left", "right") else "V" if shape.motion in ("up", "down") else "S"


def _caption_centres(scene: Scene) -> list[tuple[float, float]]:
    """Each shape's path centre under "by_caption" placement (see render)."""
    if len(scene.shapes) == 1:
        return [(0.5, 0.5)]
    a, b = scene.shapes
    ka, kb = _kind(a), _kind(b)
    if ka == kb == "H":
        return [(0.5, 0.27), (0.5, 0.73)]
    if ka == kb == "V":
        return [(0.27, 0.5), (0.73, 0.5)]
    if ka == kb == "S":
        return [(0.28, 0.28), (0.72, 0.72)]
    if "S" in (ka, kb):  # a mover and a shape in place: the mover takes the first half
        mover, still = (0, 1) if ka != "S" else (1, 0)
        centres = [(0.0, 0.0), (0.0, 0.0)]
        if _kind(scene.shapes[mover]) == "H":
            centres[mover], centres[still] = (0.5, 0.25), (0.5, 0.72)
        else:
            centres[mover], centres[still] = (0.25, 0.5), (0.72, 0.5)
        return centres
    # One moves across, one up or down: their paths make an L whose corner the
    # across-mover leaves at the start and the up/down-mover reaches at the end,
    # so they are never there at once.
    h, v = (0, 1) if ka == "H" else (1, 0)
    hx_start = 0.2 if scene.shapes[h].motion == "right" else 0.8
    vy_end = 0.2 if scene.shapes[v].motion == "up" else 0.8
    centres = [(0.0, 0.0), (0.0, 0.0)]
    centres[h] = (0.5, vy_end)
    centres[v] = (hx_start, 0.5)
    return centres


def _placed_track(shape: Shape, centre: tuple[float, float], rng: np.random.Generator, frames: int) -> Track:
    """A track whose path is centred on `centre` (jittered a little by the seed), kept in frame."""
    r0 = _SIZE_SCALE[shape.size] * rng.uniform(0.9, 1.1)
    jx, jy = rng.uniform(-_JITTER, _JITTER, 2)
    cx, cy = centre[0] + jx, centre[1] + jy
    t = np.linspace(0.0, 1.0, frames)
    margin = 0.02
    if shape.motion in DIRECTIONS:
        travel = _TRAVEL[shape.speed] * rng.uniform(0.95, 1.05)
        lo, hi = r0 + margin, 1 - r0 - margin
        travel = min(travel, hi - lo)
        along_c, across = (cx, cy) if shape.motion in ("left", "right") else (cy, cx)
        start = float(np.clip(along_c - travel / 2, lo, hi - travel))
        across = float(np.clip(across, lo, hi))
        along = start + travel * t
        if shape.motion in ("left", "up"):
            along = along[::-1].copy()
        if shape.motion in ("left", "right"):
            x, y = along, np.full(frames, across)
        else:
            x, y = np.full(frames, across), along
        return Track(x=x, y=y, r=np.full(frames, r0))
    if shape.motion == "still":
        r = np.full(frames, r0)
    else:
        g = _GROWTH[shape.speed]
        small, large = r0 / math.sqrt(g), r0 * math.sqrt(g)
        r = small * (large / small) ** t
        if shape.motion == "shrinks":
            r = r[::-1].copy()
    rmax = float(r.max()) + margin
    return Track(x=np.full(frames, float(np.clip(cx, rmax, 1 - rmax))),
                 y=np.full(frames, float(np.clip(cy, rmax, 1 - rmax))), r=r)


def _overlap(a: Track, b: Track) -> bool:
    gap = np.hypot(a.x - b.x, a.y - b.y) - (a.r + b.r) * 1.2
    return bool((gap < 0.03).any())


def _coverage(kind: str, cx: float, cy: float, r: float, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Which sample points lie inside the shape (boolean)."""
    dx, dy = xs - cx, ys - cy
    if kind == "circle":
        return dx * dx + dy * dy <= r * r
    if kind == "square":
        s = r * 0.9  # a square of equal visual weight to the circle
        return (np.abs(dx) <= s) & (np.abs(dy) <= s)
    # An upright equilateral triangle inscribed in a circle of radius 1.15 r.
    R = r * 1.15
    top, base = -R, R * 0.5
    inside_y = (dy >= top) & (dy <= base)
    half_width = (dy - top) / (base - top) * (R * math.sqrt(3) / 2)
    return inside_y & (np.abs(dx) <= half_width)


def render(scene: Scene, seed: int, *, frames: int = 17, size: int = 64, fps: float = 8.0,
           supersample: int = 2, only: range | None = None, placement: str = "anywhere") -> Clip:
    """Draw the clip a scene describes; the seed picks sizes and positions.

    `only` draws just those frames of the clip (its motion is the whole clip's).
    Edges are antialiased by supersampling, as a camera would blur them. Two
    shapes are placed so their paths never touch (the judge tells them apart
    by colour, and an occluded shape would be a different clip).

    `placement` "anywhere" puts each path anywhere it fits. "by_caption" puts
    it where the caption says, give or take a little: one shape in the middle,
    two in their halves of the frame by what they do (_caption_centres), so a
    caption names nearly one clip. A small text-to-video model learns that
    world in CPU minutes; where the paths of such a pair would touch, it falls
    back to "anywhere".
    """
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}, not {placement!r}")
    rng = np.random.default_rng(seed)
    tracks: list[Track] = []
    if placement == "by_caption":
        tracks = [_placed_track(shape, c, rng, frames) for shape, c in zip(scene.shapes, _caption_centres(scene))]
    if not tracks or (len(tracks) == 2 and _overlap(tracks[0], tracks[1])):
        for _attempt in range(200):  # place all shapes again until no two paths touch
            tracks = [_track(shape, rng, frames) for shape in scene.shapes]
            if len(tracks) < 2 or not _overlap(tracks[0], tracks[1]):
                break
    n = size * supersample
    coords = (np.arange(n) + 0.5) / n
    xs, ys = np.meshgrid(coords, coords)
    bg = np.asarray(COLOURS[scene.background], np.float32)
    wanted = list(range(frames) if only is None else only)
    out = np.empty((len(wanted), size, size, 3), np.uint8)
    for i, f in enumerate(wanted):
        canvas = np.empty((n, n, 3), np.float32)
        canvas[:] = bg
        for shape, track in zip(scene.shapes, tracks):
            inside = _coverage(shape.shape, track.x[f], track.y[f], track.r[f], xs, ys)
            canvas[inside] = COLOURS[shape.colour]
        canvas = canvas.reshape(size, supersample, size, supersample, 3).mean(axis=(1, 3))
        out[i] = np.clip(np.rint(canvas), 0, 255).astype(np.uint8)
    return Clip(frames=out, scene=scene, tracks=tracks, fps=fps)


def flipped(scene: Scene, horizontal: bool) -> Scene:
    """The scene mirrored (left <-> right, or up <-> down), for checks of symmetry."""
    swap = {"left": "right", "right": "left"} if horizontal else {"up": "down", "down": "up"}
    return replace(scene, shapes=tuple(replace(s, motion=swap.get(s.motion, s.motion)) for s in scene.shapes))
