"""Step-distillation LoRAs: the presets a model node offers with its LoRA file.

A step-distillation LoRA (lightx2v, CausVid, Wan 2.2 Lightning) teaches a
model to finish in a handful of steps without classifier-free guidance. It only
does that with the settings it was distilled for, so picking a preset sets the
node's steps and guidance to those values; "custom" keeps what the node says
(for style or character LoRAs, which change the look, not the speed).

Pure data, no torch: the inspector lists the presets and the engine applies
them (engines/quality.py turns a preset into parameter values, the LoRA itself
is loaded by engines/accel/lora.py for the length of one node's run).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping


@dataclass(frozen=True)
class LoraPreset:
    key: str
    title: str
    steps: int | None  # None: keep the node's own
    guidance: float | None  # None: keep the node's own; 1.0 switches guidance off
    notes: str = ""


_PRESETS = (
    LoraPreset("custom", "Custom: keep the node's steps and guidance", None, None,
               "For LoRAs that change the look rather than the number of steps."),
    LoraPreset("lightx2v_4step", "lightx2v step/CFG distillation: 4 steps, no guidance", 4, 1.0,
               "lightx2v's Wan 2.1 / 2.2 cfg_step_distill LoRAs (T2V and I2V)."),
    LoraPreset("lightning_4step", "Wan 2.2 Lightning: 4 steps, no guidance", 4, 1.0,
               "Wan2.2-Lightning; with two experts the same file is loaded into both."),
    LoraPreset("causvid_6step", "CausVid: 6 steps, no guidance", 6, 1.0,
               "CausVid distillation LoRAs for Wan 2.1; the community runs them at 4-8 steps, "
               "often at a strength of 0.3-0.7 for the 14B models."),
    LoraPreset("distill_8step", "Any 8-step distillation, no guidance", 8, 1.0, ""),
)

LORA_PRESETS: Mapping[str, LoraPreset] = MappingProxyType({p.key: p for p in _PRESETS})


def preset_keys() -> tuple[str, ...]:
    return tuple(LORA_PRESETS)


def apply_preset(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with the chosen preset's steps and guidance, when a LoRA file is set.

    Only touches parameters the node has, so a node without a ``guidance``
    parameter keeps working (run_denoiser enforces the preset on the call).
    """
    preset = LORA_PRESETS.get(str(params.get("lora_preset", "custom")))
    if preset is None or not params.get("lora_file"):
        return params
    out = dict(params)
    if preset.steps is not None and "steps" in out:
        out["steps"] = preset.steps
    if preset.guidance is not None and "guidance" in out:
        out["guidance"] = preset.guidance
    return out
