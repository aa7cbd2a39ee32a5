"""How long a model node will take on this machine, said before it runs.

The work of a denoising run is counted in *token-evaluations*: denoising
steps x transformer calls per step (two with guidance above 1) x the latent
tokens of one call (a video's latent frames x its latent height x width,
after the VAE's 4x time and 8x space reduction and the transformer's 2x2
patches; a sound's seconds x a latent rate). Seconds per token-evaluation
is what a machine brings, per model and device:

* **measured**: every finished model node tells the studio its seconds and
  its parameters; ``Timings`` keeps a running median per (model, profile,
  device) in the user's data folder, so the second estimate of a model on
  this machine is this machine's own figure;
* **guessed** until then: the tiny twins' rate measured on a 2-core CPU
  (bench/cancel.py), and for the real models a GPU rate of Wan 2.1 1.3B
  (about 4 min for 81 frames at 480p, 50 steps, guidance 5, on a 24 GB card)
  scaled by the transformer's size read from the model's name; a CPU is taken
  as 60 times slower than a GPU. A guess says it is one.

Attention grows with the square of the tokens, so this undercounts large
renders; the measured rate, taken from the artist's own sizes, absorbs most
of that. Pure Python, no torch: the studio calls it on every edit.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

# A render is "long" past this many seconds: the node and the Run button say so.
LONG_SECONDS = 60.0
# Seconds per token-evaluation before anything was measured here.
TINY_CPU_RATE = 1.5e-4          # bench/cancel.py: 0.39 s a step at 192x192x33, guidance 5
GPU_RATE_PER_BILLION = 5.6e-5   # Wan 2.1 1.3B: ~240 s / (50 x 2 x 21x30x52 tokens) / 1.3
CPU_SLOWDOWN = 60.0
AUDIO_TOKENS_PER_SECOND = 22.0  # Stable Audio's latent rate (44.1 kHz / 2048)
KEEP = 9                        # measurements kept per model, profile and device


@dataclass
class Estimate:
    seconds: float
    measured: bool     # from runs on this machine, or a guess
    runs: int = 0      # how many runs the measurement comes from
    device: str = "cpu"

    @property
    def long(self) -> bool:
        return self.seconds >= LONG_SECONDS

    def text(self) -> str:
        where = {"cpu": "this CPU", "cuda": "this GPU", "mps": "this Mac's GPU"}.get(self.device, self.device)
        basis = "" if self.measured else " (a guess until it has run here once)"
        return f"about {duration_words(self.seconds)} on {where}{basis}"


def duration_words(seconds: float) -> str:
    if seconds < 1:
        return "a second"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def detect_device(setting: str = "auto") -> str:
    """The device the engine will use, without torch: the setting, or what the machine has."""
    if setting in ("cpu", "cuda", "mps"):
        return setting
    if Path("/proc/driver/nvidia/version").exists() and os.environ.get("CUDA_VISIBLE_DEVICES", "0").strip() != "-1":
        return "cuda"
    if os.uname().sysname == "Darwin" and os.uname().machine == "arm64":
        return "mps"
    return "cpu"


def transformer_billions(model_id: str) -> float:
    """The transformer's size, from the model's name ("wan2.1-t2v-1.3b" -> 1.3)."""
    sizes = [float(m) for m in re.findall(r"(\d+(?:\.\d+)?)b(?![a-z])", model_id.lower())]
    return sizes[-1] if sizes else 2.0


def work(node_type: Any, params: dict[str, Any]) -> tuple[str, float] | None:
    """(model id, token-evaluations) of a model node's run, or None for other nodes."""
    if not getattr(node_type, "uses_model", False):
        return None
    values = {**node_type.default_params(), **params}
    model = str(values.get("model") or "")
    steps = int(values.get("steps") or 0)
    if not model or steps <= 0:
        return None
    calls = 2 if float(values.get("guidance", 1.0) or 1.0) > 1.0 else 1
    if "frames" in node_type.params or "width" in node_type.params:
        try:
            from nodes.catalogue._video import resolve
            shape = resolve(model, values)
            width, height, frames = shape.width, shape.height, shape.frames
        except Exception:  # a half-typed value: validation says what is wrong
            return None
        tokens = ((frames - 1) // 4 + 1) * max(1, height // 16) * max(1, width // 16)
    elif "seconds" in node_type.params:
        tokens = max(1.0, float(values.get("seconds") or 0) * AUDIO_TOKENS_PER_SECOND)
    else:
        return None
    return model, float(steps * calls * tokens)


class Timings:
    """Measured seconds per token-evaluation, per model, profile and device (a JSON file)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.table: dict[str, list[float]] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.table = {}

    @staticmethod
    def key(model: str, profile: str, device: str) -> str:
        return f"{model}|{profile}|{device}"

    def rate(self, model: str, profile: str, device: str) -> tuple[float, int] | None:
        rates = self.table.get(self.key(model, profile, device)) or []
        return (statistics.median(rates), len(rates)) if rates else None

    def record(self, node_type: Any, params: dict[str, Any], seconds: float, *, profile: str, device: str) -> bool:
        """A model node finished (not from the cache): remember its rate. Best effort."""
        found = work(node_type, params)
        if found is None or seconds <= 0:
            return False
        model, units = found
        rates = self.table.setdefault(self.key(model, profile, device), [])
        rates.append(seconds / units)
        del rates[:-KEEP]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".timings.", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.table, fh)
            os.replace(tmp, self.path)
        except OSError:
            pass
        return True


def estimate(node_type: Any, params: dict[str, Any], *, profile: str, device: str,
             timings: Timings | None = None) -> Estimate | None:
    """How long a model node will take, or None when it is not a model node."""
    found = work(node_type, params)
    if found is None:
        return None
    model, units = found
    measured = timings.rate(model, profile, device) if timings is not None else None
    if measured is not None:
        return Estimate(units * measured[0], True, measured[1], device)
    if profile == "tiny":
        rate = TINY_CPU_RATE if device == "cpu" else TINY_CPU_RATE / 20.0
    else:
        rate = GPU_RATE_PER_BILLION * transformer_billions(model) * (CPU_SLOWDOWN if device == "cpu" else 1.0)
    return Estimate(units * rate, False, 0, device)


def total(estimates: Iterable[Estimate | None]) -> Estimate | None:
    found = [e for e in estimates if e is not None]
    if not found:
        return None
    return Estimate(sum(e.seconds for e in found), all(e.measured for e in found),
                    min(e.runs for e in found), found[0].device)


# Text to Video's settings on a CPU, largest first: the studio picks the first
# that the estimate says finishes within a minute (width, height, frames, steps).
CPU_LADDER = ((480, 272, 33, 20), (416, 240, 25, 16), (320, 192, 17, 12), (256, 160, 9, 8), (160, 96, 9, 6),
              (96, 64, 5, 4))


def cpu_defaults(node_type: Any, params: dict[str, Any], *, profile: str, timings: Timings | None = None,
                 budget: float = LONG_SECONDS) -> dict[str, Any]:
    """Text to Video's size, length and steps for a CPU: the largest rung of ``CPU_LADDER``
    whose estimate is under ``budget`` seconds (the smallest if none is)."""
    base = {**node_type.default_params(), **params, "aspect": "custom", "duration_unit": "frames"}
    choice: dict[str, Any] = {}
    for width, height, frames, steps in CPU_LADDER:
        choice = {"aspect": "custom", "duration_unit": "frames", "width": width, "height": height,
                  "frames": frames, "steps": steps}
        guess = estimate(node_type, {**base, **choice}, profile=profile, device="cpu", timings=timings)
        if guess is not None and guess.seconds < budget:
            break
    return choice


__all__ = ["CPU_LADDER", "Estimate", "LONG_SECONDS", "Timings", "cpu_defaults", "detect_device", "duration_words",
           "estimate", "total", "transformer_billions", "work"]
