"""Adaptive guidance and "guidance until X% of steps": skipping the unconditional pass.

Classifier-free guidance evaluates the transformer twice a step, with and
without the prompt, and moves along ``uncond + g * (cond - uncond)``. Castillo
et al. ("Adaptive Guidance: Training-free Acceleration of Conditional Diffusion
Models") observe that the two predictions converge as denoising goes on; once
their cosine similarity passes a threshold, the remaining steps can use the
conditional prediction alone. "Guidance until X%" is the fixed-schedule cousin.

How it is done without touching the pipelines: a hook on the transformer sees
every call. When a step no longer needs guidance, the unconditional evaluation
is not run; the hook answers it with the conditional prediction, so the
pipeline's own formula gives ``cond + g * (cond - cond) = cond`` exactly, the
"conditional only" step. Pipelines pair the passes in one of two ways:

* split (Wan family): two calls a step, conditional first, each inside
  ``cache_context("cond"/"uncond")`` (Wan video-to-video has no context: the
  calls alternate). The unconditional call is answered from the conditional
  one's output.
* batched (Stable Audio, LTX, CogVideoX): one call on ``[uncond; cond]``. The
  hook runs the transformer on the conditional half only and returns it twice.

While the switches cannot skip (threshold 1, until 100%) the hook only
measures: arguments and outputs pass through untouched, so the result is
bit-identical to the plain run (tests/engine/test_acceleration.py checks it).

The hook also gives diffusers' block caches a cache context on pipelines that
set none, so FirstBlockCache and TaylorSeer keep separate states for the two
passes there too.
"""

from __future__ import annotations

import math
from typing import Any

GUIDANCE_HOOK = "weft_guidance"

# How each pipeline pairs its guidance passes (read from diffusers 0.42.1's
# pipeline loops). Pipelines not listed get no adaptive guidance: guessing
# wrong would silently mix up the two passes.
SPLIT_CFG = frozenset({
    "WanPipeline", "WanImageToVideoPipeline", "WanVACEPipeline", "WanVideoToVideoPipeline",
    "LongCatAudioDiTPipeline",
})
BATCHED_CFG = frozenset({
    "StableAudioPipeline", "LTXPipeline", "LTXImageToVideoPipeline", "LTXConditionPipeline",
    "CogVideoXPipeline", "CogVideoXImageToVideoPipeline",
})
# Not listed on purpose: LTX2Pipeline (guidance, STG and modality passes in one
# step), pipelines with a guider component (HunyuanVideo 1.5), distilled ones.


def cfg_layout(pipe: Any) -> str | None:
    name = type(pipe).__name__
    if name in SPLIT_CFG:
        return "split"
    if name in BATCHED_CFG:
        return "batched"
    return None


def _first_tensor(output: Any) -> Any:
    import torch

    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)):
        return output[0]
    if hasattr(output, "sample"):
        return output.sample
    return output[0]


def _map_tensors(output: Any, fn: Any) -> Any:
    import torch

    if isinstance(output, torch.Tensor):
        return fn(output)
    if isinstance(output, tuple):
        return tuple(_map_tensors(o, fn) for o in output)
    if isinstance(output, list):
        return [_map_tensors(o, fn) for o in output]
    if hasattr(output, "keys") and hasattr(output, "__getitem__"):  # diffusers BaseOutput
        return type(output)(**{k: _map_tensors(output[k], fn) for k in output.keys()})
    return output


def cosine(cond: Any, uncond: Any) -> float:
    """The smallest per-sample cosine similarity between two prediction batches."""
    a = cond.reshape(cond.shape[0], -1).float()
    b = uncond.reshape(uncond.shape[0], -1).float()
    cos = (a * b).sum(dim=1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-12)
    return float(cos.min())


class GuidanceController:
    """State shared by the hooks on every transformer of one pipeline (both
    experts of Wan 2.2 follow one decision)."""

    def __init__(self, pipe: Any, *, layout: str | None, cfg: bool, threshold: float, until: float,
                 steps: int, give_context: bool) -> None:
        self.pipe = pipe
        self.layout = layout if cfg else None
        self.threshold = float(threshold)
        self.until = float(until)
        self.steps = int(steps)
        self.give_context = give_context
        self.step = -1
        self.cutoff: int | None = None
        self.stopped_at: int | None = None  # first step run without the unconditional pass
        self.converged_at: int | None = None
        self.similarities: list[float] = []
        self.skipped = 0
        self._cond_output: Any = None
        self._pending_uncond = False
        self._hooks: list[tuple[Any, Any]] = []

    # -- policy ------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.threshold < 1.0 or self.until < 100.0

    def _begin_step(self) -> None:
        self.step += 1
        if self.step == 0:
            total = getattr(self.pipe, "_num_timesteps", None) or self.steps
            if self.until < 100.0:
                self.cutoff = int(math.ceil(self.until / 100.0 * int(total)))

    def _skip_uncond(self) -> bool:
        skip = (self.converged_at is not None and self.step > self.converged_at) or (
            self.cutoff is not None and self.step >= self.cutoff)
        if skip and self.stopped_at is None:
            self.stopped_at = self.step
        return skip

    def _measure(self, cond: Any, uncond: Any) -> None:
        similarity = cosine(cond, uncond)
        self.similarities.append(round(similarity, 5))
        # Threshold 1 means "never": two identical predictions (prompt equal to
        # the negative prompt) must not switch guidance off.
        if self.threshold < 1.0 and self.converged_at is None and similarity >= self.threshold:
            self.converged_at = self.step

    # -- the hook body --------------------------------------------------------------
    def forward(self, hook: Any, module: Any, run: Any, args: tuple, kwargs: dict) -> Any:
        context = hook.context._context
        if self.layout == "split":
            if context is not None and context.name in ("cond", "uncond"):
                is_uncond = context.name == "uncond"
            else:
                is_uncond = self._pending_uncond
            if not is_uncond:
                self._begin_step()
                self._pending_uncond = True
                self._cond_output = self._call(module, run, args, kwargs, context, "cond")
                return self._cond_output
            self._pending_uncond = False
            if self._skip_uncond():
                self.skipped += 1
                return self._cond_output
            output = self._call(module, run, args, kwargs, context, "uncond")
            self._measure(_first_tensor(self._cond_output), _first_tensor(output))
            self._cond_output = None
            return output
        if self.layout == "batched":
            self._begin_step()
            hidden = kwargs.get("hidden_states", args[0] if args else None)
            full = int(hidden.shape[0])
            if full % 2 == 0 and self._skip_uncond():
                half = full // 2

                def cond_half(x: Any) -> Any:
                    if hasattr(x, "shape") and len(x.shape) and x.shape[0] == full:
                        return x[half:]
                    return x

                self.skipped += 1
                output = self._call(module, run, tuple(cond_half(a) for a in args),
                                    {k: cond_half(v) for k, v in kwargs.items()}, context, "cond")
                import torch

                return _map_tensors(output, lambda t: torch.cat([t, t]) if t.shape[:1] == (half,) else t)
            output = self._call(module, run, args, kwargs, context, "cond_uncond")
            first = _first_tensor(output)
            if full % 2 == 0:
                self._measure(first[full // 2:], first[: full // 2])
            return output
        return self._call(module, run, args, kwargs, context, "cond")

    def _call(self, module: Any, run: Any, args: tuple, kwargs: dict, context: Any, name: str) -> Any:
        if context is not None or not self.give_context:
            return run(*args, **kwargs)
        from diffusers.hooks.hooks import CacheContext, _set_cache_context

        _set_cache_context(module, CacheContext(name))
        try:
            return run(*args, **kwargs)
        finally:
            _set_cache_context(module, None)

    # -- installing -------------------------------------------------------------------
    def attach(self, models: list[Any]) -> None:
        from diffusers.hooks import HookRegistry, ModelHook
        from diffusers.hooks.hooks import BaseState, StateManager

        controller = self

        class _NoState(BaseState):
            def reset(self, *args: Any, **kwargs: Any) -> None:
                pass

        class _Guidance(ModelHook):
            # Stateful so that the pipeline's cache_context() reaches our
            # StateManager: that is how the hook learns "cond" from "uncond".
            _is_stateful = True

            def __init__(self) -> None:
                super().__init__()
                self.context = StateManager(_NoState)

            def reset_state(self, module: Any) -> Any:
                return module

            def new_forward(self, module: Any, *args: Any, **kwargs: Any) -> Any:
                return controller.forward(self, module, self.fn_ref.original_forward, args, kwargs)

        for model in models:
            registry = HookRegistry.check_if_exists_or_initialize(model)
            if registry.get_hook(GUIDANCE_HOOK) is not None:
                registry.remove_hook(GUIDANCE_HOOK, recurse=False)
            registry.register_hook(_Guidance(), GUIDANCE_HOOK)
            self._hooks.append((model, registry))

    def detach(self) -> None:
        for _model, registry in self._hooks:
            registry.remove_hook(GUIDANCE_HOOK, recurse=False)
        self._hooks = []
        self._cond_output = None

    def stats(self) -> dict[str, Any]:
        if self.layout is None:
            return {}
        out: dict[str, Any] = {"guidance_similarity": self.similarities}
        if self.active:
            out["guidance_skipped"] = self.skipped
            out["guidance_stopped_at"] = self.stopped_at
        return out
