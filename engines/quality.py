"""Draft / Final: the graph-wide quality switch, as parameter values.

Final renders the graph as authored. Draft is for quick iteration: every model
node runs with fast settings (fewer steps, half the width and height, adaptive
guidance, a block cache) so that an artist sees the composition and timing in
a fraction of the time, then switches to Final for the real render.

Draft is expressed entirely as the parameter values a node runs with
(``effective_params``), so the executor's cache keys (made of parameter
values) change with it by construction: a draft result can never be served
for a final render or the other way round. Only parameters a node declares
are touched, so node types written later get Draft without knowing about it.
The LoRA presets (nodes/catalogue/lora.py) are applied here too: a
step-distillation preset's steps and guidance are what the node really runs.

Where it is chosen: the project's settings ``{"quality": "draft"}`` (what the
GUI toggles), overridden per render by the run command's ``quality`` field
(``weft render --quality draft``).
"""

from __future__ import annotations

import math
from typing import Any

from nodes.catalogue.lora import apply_preset

QUALITIES = ("final", "draft")

# The fast settings. Steps: 40% of the authored count, at least 4 (few-step
# LoRA presets stay as they are). Resolution: half of each side, kept a
# multiple of 16. Guidance stops once the two predictions agree to 0.995. A
# FirstBlockCache where the model has cache hooks ("auto"), at a threshold a
# little above the usual 0.05.
DRAFT_STEP_FRACTION = 0.4
DRAFT_MIN_STEPS = 4
DRAFT_SCALE = 0.5
DRAFT_ADAPTIVE_GUIDANCE = 0.995
DRAFT_CACHE = "auto"
DRAFT_CACHE_THRESHOLD = 0.08


class QualityError(ValueError):
    pass


def check_quality(value: Any) -> str:
    quality = str(value or "final").strip().lower()
    if quality not in QUALITIES:
        raise QualityError(f"unknown quality {value!r}; use one of: {', '.join(QUALITIES)}")
    return quality


def quality_of(settings: dict[str, Any] | None, override: Any = None) -> str:
    """The quality a render uses: the run's override, else the project's setting, else final."""
    if override:
        return check_quality(override)
    return check_quality((settings or {}).get("quality"))


def effective_params(node_type: Any, params: dict[str, Any], quality: str = "final") -> dict[str, Any]:
    """The parameter values ``node_type`` runs with at ``quality``.

    Returns ``params`` itself when nothing changes (non-model nodes, Final
    without a LoRA preset), so the cache keys of a Final render stay what they
    were before this module existed.
    """
    if not getattr(node_type, "uses_model", False):
        return params
    out = apply_preset(params)
    if quality != "draft":
        return out
    out = dict(out)
    declared = getattr(node_type, "params", {})
    if "steps" in declared and isinstance(out.get("steps"), int):
        steps = out["steps"]
        draft_steps = max(DRAFT_MIN_STEPS, int(math.ceil(steps * DRAFT_STEP_FRACTION)))
        out["steps"] = _clamp(declared["steps"], min(steps, draft_steps))
    if "width" in declared and "height" in declared and not _one_size_model(out.get("model")):
        for name in ("width", "height"):
            value = out.get(name)
            if isinstance(value, int):
                smaller = max(16, int(value * DRAFT_SCALE) // 16 * 16)
                out[name] = _clamp(declared[name], smaller)
    if "adaptive_guidance" in declared and float(out.get("adaptive_guidance", 1.0)) >= 1.0:
        out["adaptive_guidance"] = DRAFT_ADAPTIVE_GUIDANCE
    if "block_cache" in declared and out.get("block_cache", "off") == "off":
        out["block_cache"] = DRAFT_CACHE
        out["cache_threshold"] = max(float(out.get("cache_threshold", 0.0)), DRAFT_CACHE_THRESHOLD)
    return out


def _one_size_model(model_id: Any) -> bool:
    """Whether the model was trained at one size only (the sketch models): Draft keeps its size,
    since any other is refused, and saves its time in steps, guidance and cache instead."""
    from nodes.video_rules import spec_and_traits

    try:
        return spec_and_traits(str(model_id))[1].only_size is not None
    except (KeyError, ValueError, TypeError):
        return False  # not a video model of the catalogue: sized as any other


def _clamp(param: Any, value: int) -> int:
    lo = getattr(param, "min", None)
    hi = getattr(param, "max", None)
    if lo is not None:
        value = max(value, int(math.ceil(lo)))
    if hi is not None:
        value = min(value, int(hi))
    return value
