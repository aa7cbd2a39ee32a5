"""MagCache ratios: calibrated per model and profile, stored beside the model catalogue.

MagCache (Ma et al.) skips a step's transformer blocks while the accumulated
change in the magnitude of their residual (``tail output - head input``) stays
small. The per-step magnitude ratio ``mean(|r_t| / |r_(t-1)|)`` is a property
of the checkpoint and its schedule, so it is measured once per model with a
full run and stored: ``engines/models/magcache_ratios/<model id>.json`` holds
one entry per profile (the tiny twins' ratios mean nothing for real weights).
diffusers interpolates stored ratios to other step counts.

Calibrate with ``weft models calibrate-magcache ID [--models tiny]`` or, before
that command exists, ``python -m engines.accel.magcache ID --models tiny``.

The measurement is diffusers' own calibration formula (hooks/mag_cache.py),
taken with Weft's hooks so that the conditional and unconditional passes of
Wan, which diffusers keeps apart, are recorded apart; MagCache uses the
conditional ratios for both passes.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
from pathlib import Path
from typing import Any

RATIOS_DIR = Path(__file__).resolve().parents[1] / "models" / "magcache_ratios"

# Ratios registered in memory (benchmarks of architectures that are not in the
# catalogue); they win over stored files.
_REGISTERED: dict[tuple[str, str], list[float]] = {}

# What a calibration run renders, per profile: the real models at their
# trained size; the tiny twins small enough for a CPU.
CALIBRATION = {
    "default": {"width": 832, "height": 480, "num_frames": 81, "steps": 50, "seconds": 10.0},
    "tiny": {"width": 64, "height": 64, "num_frames": 9, "steps": 20, "seconds": 2.0},
}
PROMPTS = (
    "a red fox runs through fresh snow at dawn, cinematic, slow motion",
    "ocean waves crash on black volcanic rocks under a grey sky",
)


def ratios_dir() -> Path:
    return Path(os.environ.get("WEFT_MAGCACHE_DIR") or RATIOS_DIR)


def ratios_file(model_id: str) -> Path:
    return ratios_dir() / f"{model_id}.json"


def register(model_id: str, profile: str, ratios: list[float]) -> None:
    _REGISTERED[(model_id, profile)] = list(ratios)


def stored_ratios(model_id: str, profile: str) -> list[float] | None:
    """The conditional ratios stored for ``model_id`` in ``profile``, or None.

    Tiny twins' entries are ignored once their builder changes (the random
    weights, hence the ratios, change with it).
    """
    if (model_id, profile) in _REGISTERED:
        return _REGISTERED[(model_id, profile)]
    try:
        entry = json.loads(ratios_file(model_id).read_text(encoding="utf-8"))["profiles"][profile]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if profile == "tiny":
        from nodes.model_catalogue import get_spec
        from engines.models.tiny import TINY_VERSION

        if entry.get("tiny_version") != TINY_VERSION.get(get_spec(model_id).family):
            return None
    ratios = entry.get("cond")
    return [float(r) for r in ratios] if ratios else None


class _Recorder:
    """Head-input / tail-output residual ratios, per pass."""

    def __init__(self, split: bool) -> None:
        self.split = split
        self.calls = 0
        self.ratios: dict[str, list[float]] = {"cond": [], "uncond": []}
        self._previous: dict[str, Any] = {}
        self._head_input: Any = None

    def context(self) -> str:
        return ("uncond" if self.calls % 2 == 0 else "cond") if self.split else "cond"

    def on_call(self, *_: Any) -> None:
        self.calls += 1

    def on_head(self, _module: Any, args: tuple, kwargs: dict) -> None:
        self._head_input = kwargs.get("hidden_states", args[0] if args else None)

    def on_tail(self, _module: Any, _args: tuple, _kwargs: dict, output: Any) -> None:
        import torch

        out = output[0] if isinstance(output, tuple) else output
        residual = (out - self._head_input).float()
        name = self.context()
        previous = self._previous.get(name)
        if previous is None:
            ratio = 1.0
        else:
            ratio = (torch.linalg.norm(residual, dim=-1) / (torch.linalg.norm(previous, dim=-1) + 1e-8)).mean().item()
        self.ratios[name].append(round(float(ratio), 5))
        self._previous[name] = residual


def calibrate_pipeline(pipe: Any, **call: Any) -> dict[str, list[float]]:
    """Run ``pipe(**call)`` once with no cache and return the measured ratios."""
    from engines.accel.caches import supports_cache_hooks
    from engines.accel.counting import transformer_blocks
    from engines.accel.guidance import cfg_layout
    from engines.diffusion import denoisers

    models = denoisers(pipe)
    if not models or not all(supports_cache_hooks(m) for m in models):
        raise ValueError(f"MagCache is not available for {type(pipe).__name__}: its transformer has no cache hooks")
    split = cfg_layout(pipe) == "split" and float(call.get("guidance_scale", 1.0)) > 1.0
    recorder = _Recorder(split)
    handles = []
    try:
        for model in models:
            blocks = transformer_blocks(model)
            handles.append(model.register_forward_pre_hook(recorder.on_call))
            handles.append(blocks[0].register_forward_pre_hook(recorder.on_head, with_kwargs=True))
            handles.append(blocks[-1].register_forward_hook(recorder.on_tail, with_kwargs=True))
        pipe(**call)
    finally:
        for handle in handles:
            handle.remove()
    return {name: values for name, values in recorder.ratios.items() if values}


def calibrate(model_id: str, *, profile: str = "default", steps: int | None = None, seed: int = 0,
              manager: Any = None, save: bool = True) -> dict[str, Any]:
    """Calibrate ``model_id`` in ``profile`` and (by default) store the result.

    Returns the stored entry: steps, the conditional and unconditional ratios,
    what was rendered, and when.
    """
    import torch

    from nodes.model_catalogue import TEXT_TO_AUDIO, TEXT_TO_VIDEO, get_spec
    from engines.models.manager import ModelManager

    spec = get_spec(model_id)
    manager = manager or ModelManager(profile=profile)
    settings = dict(CALIBRATION[manager.profile])
    steps = int(steps or settings["steps"])
    pipe = manager.pipeline(model_id)
    call: dict[str, Any] = {"prompt": PROMPTS[0], "negative_prompt": "blurry, low quality",
                            "num_inference_steps": steps, "guidance_scale": 5.0, "output_type": "latent",
                            "generator": torch.Generator("cpu").manual_seed(seed)}
    if spec.task == TEXT_TO_VIDEO:
        call.update(width=settings["width"], height=settings["height"], num_frames=settings["num_frames"])
    elif spec.task == TEXT_TO_AUDIO:
        call.update(audio_end_in_s=settings["seconds"])
    ratios = calibrate_pipeline(pipe, **call)
    entry: dict[str, Any] = {
        "steps": steps,
        "cond": ratios.get("cond", []),
        "uncond": ratios.get("uncond", []),
        "rendered": {k: v for k, v in call.items() if k in ("width", "height", "num_frames", "audio_end_in_s",
                                                            "guidance_scale")},
        "calibrated": _dt.date.today().isoformat(),
    }
    if manager.profile == "tiny":
        from engines.models.tiny import TINY_VERSION

        entry["tiny_version"] = TINY_VERSION.get(spec.family)
    if save:
        path = ratios_file(model_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {"model": model_id, "profiles": {}}
        data.setdefault("profiles", {})[manager.profile] = entry
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(_dumps(data) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    return entry


def _dumps(data: Any) -> str:
    """Indented JSON with each list of ratios on one line (diffable, short)."""
    import re

    text = json.dumps(data, indent=1)
    return re.sub(r"\[\s*([-0-9.,\s]+?)\s*\]", lambda m: "[" + ", ".join(m.group(1).split()).replace(",,", ",") + "]",
                  text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engines.accel.magcache",
                                     description="Calibrate MagCache ratios for a catalogue model.")
    parser.add_argument("model")
    parser.add_argument("--models", choices=("tiny", "default"), default="default")
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args(argv)
    if args.models == "tiny":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    entry = calibrate(args.model, profile=args.models, steps=args.steps)
    print(f"{args.model} ({args.models}): {len(entry['cond'])} ratios over {entry['steps']} steps "
          f"written to {ratios_file(args.model)}", file=sys.stderr)
    print(json.dumps(entry["cond"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
