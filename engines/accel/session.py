"""One node's acceleration: put the switches on a pipeline, count, take them off.

``engines.diffusion.run_denoiser`` wraps every pipeline call in
``NodeAcceleration``. Installing happens in an order that keeps the counts
honest, and removing in the reverse order, whatever happened in between:

1. the LoRA (it replaces layers, so hooks go on after it);
2. the evaluation counter, innermost on each transformer (it sees only the
   evaluations that really run), and the block counter;
3. the block cache (diffusers' hooks on the blocks);
4. the guidance hook, outermost (it decides whether a call runs at all).

A switch that cannot work on this model raises NodeError naming the node and
the parameter, before anything is installed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from nodes.catalogue.lora import LORA_PRESETS
from nodes.definition import NodeError


@dataclass
class AccelSettings:
    """A model node's speed switches (the parameters ModelNode declares)."""

    adaptive_guidance: float = 1.0
    guidance_until: float = 100.0
    block_cache: str = "off"
    cache_threshold: float = 0.05
    cache_interval: int = 3
    lora_file: str = ""
    lora_preset: str = "custom"
    lora_strength: float = 1.0

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> "AccelSettings":
        params = params or {}
        return cls(**{f.name: params[f.name] for f in fields(cls) if params.get(f.name) is not None})


def _model_id(ctx: Any, pipe: Any) -> str:
    return str(getattr(pipe, "_weft_model_id", None) or (getattr(ctx, "params", None) or {}).get("model") or "")


def _model_title(model_id: str, pipe: Any) -> str:
    if model_id:
        try:
            from nodes.model_catalogue import get_spec

            return get_spec(model_id).title
        except ValueError:
            return model_id
    return type(pipe).__name__


def _guidance_scale(pipe: Any, call: dict[str, Any]) -> float:
    """The guidance the call will run with: the call's, else the pipeline's default."""
    if call.get("guidance_scale") is not None:
        return float(call["guidance_scale"])
    import inspect

    try:
        default = inspect.signature(type(pipe).__call__).parameters["guidance_scale"].default
    except (KeyError, TypeError, ValueError):
        return 1.0
    return float(default) if isinstance(default, (int, float)) else 1.0


class NodeAcceleration:
    def __init__(self, ctx: Any, pipe: Any, *, steps: int, call: dict[str, Any]) -> None:
        from engines.diffusion import denoisers

        self.ctx = ctx
        self.pipe = pipe
        self.call = call
        self.settings = AccelSettings.from_params(getattr(ctx, "params", None))
        node_type = getattr(ctx, "node_type", None)
        self.guided_node = bool(getattr(node_type, "guided", True))
        title = getattr(node_type, "title", "") or "node"
        node_id = getattr(ctx, "node_id", "")
        self.label = f"{title} ({node_id})" if node_id else title
        self.model_id = _model_id(ctx, pipe)
        self.model_title = _model_title(self.model_id, pipe)
        self.profile = str(getattr(pipe, "_weft_profile", None) or getattr(ctx, "models_profile", "default"))
        self.models = denoisers(pipe)
        self.steps = int(steps)
        self.cache_kind = "off"
        self._lora: Any = None
        self._cache: Any = None
        self._guidance: Any = None
        self._nfe: Any = None
        self._blocks: Any = None

    def fail(self, param: str, message: str) -> NodeError:
        value = getattr(self.settings, param, None)
        shown = f" = {value!r}" if value not in (None, "") else ""
        return NodeError(f"{self.label}: parameter '{param}'{shown}: {message}")

    # -- installing --------------------------------------------------------------------
    def __enter__(self) -> "NodeAcceleration":
        try:
            self._install()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _install(self) -> None:
        from engines.accel import caches
        from engines.accel.counting import BlockCounter, EvaluationCounter
        from engines.accel.guidance import GuidanceController, cfg_layout
        from engines.accel.lora import LoraApplied, LoraError

        s = self.settings
        # 1. LoRA, and the steps / guidance its preset expects.
        if s.lora_file:
            preset = LORA_PRESETS.get(s.lora_preset)
            if preset is None:
                raise self.fail("lora_preset", f"unknown preset; choose one of {', '.join(LORA_PRESETS)}")
            if preset.steps is not None:
                self.steps = preset.steps
            if preset.guidance is not None and "guidance_scale" in self.call:
                self.call["guidance_scale"] = preset.guidance
            resolve = getattr(self.ctx, "resolve_path", None)
            path = resolve(s.lora_file) if resolve else Path(s.lora_file).expanduser()
            try:
                self._lora = LoraApplied(self.pipe, Path(path), s.lora_strength, self.model_title).__enter__()
            except LoraError as exc:
                raise self.fail("lora_file", str(exc)) from exc

        cfg = self.guided_node and _guidance_scale(self.pipe, self.call) > 1.0
        layout = cfg_layout(self.pipe)
        wants_guidance_skip = self.guided_node and (s.adaptive_guidance < 1.0 or s.guidance_until < 100.0)
        if wants_guidance_skip and cfg and layout is None:
            param = "adaptive_guidance" if s.adaptive_guidance < 1.0 else "guidance_until"
            raise self.fail(param, f"not available for {self.model_title}: Weft does not know how "
                                   f"{type(self.pipe).__name__} pairs its guided and unguided passes. Set "
                                   "adaptive_guidance to 1 and guidance_until to 100.")

        # 2. Counters, innermost.
        compiled = any(getattr(m, "_weft_compiled", False) for m in self.models)
        self._nfe = EvaluationCounter()
        self._nfe.attach(self.models)
        if not compiled:  # hooks inside compiled blocks would break the graphs
            self._blocks = BlockCounter()
            self._blocks.attach(self.models)

        # 3. Block cache.
        kind = caches.resolve(s.block_cache, self.models)
        if kind != "off":
            try:
                config = caches.make_config(
                    kind, pipe=self.pipe, models=self.models, threshold=s.cache_threshold,
                    interval=s.cache_interval, steps=self.steps, cfg_layout=layout, cfg=cfg,
                    mag_ratios=self._mag_ratios() if kind == "magcache" else None, model_title=self.model_title)
                self._cache = caches.BlockCache(config, self.models).__enter__()
                self.cache_kind = kind
            except caches.CacheUnavailable as exc:
                if s.block_cache != "auto":  # auto: a cache where one works, else none
                    raise self.fail("block_cache", str(exc)) from exc

        # 4. Guidance hook, outermost: needed to skip unconditional passes, to
        # measure them, or to give a cache a context the pipeline does not set.
        if (cfg and layout is not None and self.guided_node) or self._cache is not None:
            self._guidance = GuidanceController(
                self.pipe, layout=layout if self.guided_node else None, cfg=cfg,
                threshold=s.adaptive_guidance if self.guided_node else 1.0,
                until=s.guidance_until if self.guided_node else 100.0,
                steps=self.steps, give_context=self._cache is not None)
            self._guidance.attach(self.models)

    def _mag_ratios(self) -> list[float] | None:
        from engines.accel.magcache import stored_ratios

        return stored_ratios(self.model_id, self.profile) if self.model_id else None

    # -- removing ---------------------------------------------------------------------
    def __exit__(self, *exc: Any) -> None:
        errors = []
        for part in ("_guidance", "_cache", "_blocks", "_nfe", "_lora"):
            obj = getattr(self, part)
            if obj is None:
                continue
            try:
                if part in ("_cache", "_lora"):
                    obj.__exit__(None, None, None)
                else:
                    obj.detach()
            except Exception as error:  # keep taking the rest off
                errors.append(error)
            if part in ("_cache", "_lora"):
                setattr(self, part, None)
        if errors and exc[0] is None:
            raise errors[0]

    # -- reporting --------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {"steps": self.steps}
        if self._nfe is not None:
            out["nfe"] = self._nfe.count
        if self._blocks is not None and self._blocks.blocks_per_model:
            out["block_evals"] = round(self._blocks.value, 2)
            out["block_evals_full"] = self._blocks.full(self._nfe)
        if self.cache_kind != "off":
            out["block_cache"] = self.cache_kind
        if self._guidance is not None:
            out.update(self._guidance.stats())
        if self.settings.lora_file:
            out["lora"] = Path(self.settings.lora_file).name
        return out
