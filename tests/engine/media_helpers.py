"""Helpers shared by the audio and edit node tests: a small run context, running
one node directly, and colour-coded clips whose frames say where they came from."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engines.services import EngineServices
from nodes.registry import default_registry
from nodes.values import Audio, Video


class Ctx(EngineServices):
    """The bits of the engine's RunContext a model-free node uses."""

    def __init__(self, tmp: Path | None = None):
        self.node_id = "n"
        self.output_dir = tmp or Path(".")
        self.models_profile = "tiny"
        self.stats: dict = {}

    def resolve_path(self, path: str) -> Path:
        p = Path(path)
        return p if p.is_absolute() else self.output_dir / p

    def output_path(self, name: str, ext: str = "") -> Path:
        return self.output_dir / (name + ext)

    def check_cancelled(self) -> None:
        pass


def run(type_id: str, **values):
    node_type = default_registry().get(type_id)
    params = {**node_type.default_params(), **{k: v for k, v in values.items() if k in node_type.params}}
    inputs = {k: v for k, v in values.items() if k not in node_type.params}
    for name in node_type.inputs:
        inputs.setdefault(name, None)
    return node_type().run(Ctx(), **inputs, **params)


def coded(n: int, clip: int = 0, fps: float = 16.0, size=(24, 16), *, sound: bool = True, rate: int = 48000) -> Video:
    """``n`` frames whose red channel is the frame index and green the clip number;
    the sound's left channel holds the time in frames (i/fps*fps) as a ramp, so a
    cut in the sound can be checked against the cut in the picture."""
    w, h = size
    frames = np.zeros((n, h, w, 3), np.uint8)
    frames[..., 0] = np.arange(n, dtype=np.uint8)[:, None, None]
    frames[..., 1] = clip * 40
    audio = None
    if sound:
        t = np.arange(int(round(n / fps * rate))) / rate
        audio = Audio(np.stack([t / 100.0, np.full_like(t, 0.1 * (clip + 1))]).astype(np.float32), rate)
    return Video(frames, fps, audio)


def reds(video: Video) -> list[int]:
    """The code of each frame, read at its centre (clear of any letterbox bars)."""
    return [int(v) for v in video.frames[:, video.height // 2, video.width // 2, 0]]


def greens(video: Video) -> list[int]:
    return [int(v) for v in video.frames[:, video.height // 2, video.width // 2, 1]]
