"""Block caches from diffusers' hooks, on every transformer of a pipeline, for one node.

``transformer.enable_cache(config)`` (diffusers' CacheMixin) installs the
hooks; ``disable_cache()`` removes them. Weft enables a cache just before a
node's denoising loop and always disables it after, because pipelines are
resident and shared: a cache left on would change the next node's result.
Wan 2.2 A14B has two experts (``transformer`` and ``transformer_2``): both get
the cache.

What each choice needs (checked before anything is installed, so a wrong
combination fails with a message, not a traceback from inside a hook):

* every cache: a transformer with diffusers' cache hooks (CacheMixin). Stable
  Audio's DiT has none in diffusers 0.42.1.
* magcache: calibrated magnitude ratios for this model and profile
  (``weft models calibrate-magcache ID``).
* fastercache: the pipeline's ``current_timestep``, and either no guidance or
  guidance batched into one call: its state is not kept per pass, so Wan's
  separate conditional and unconditional calls would mix in its cache.
"""

from __future__ import annotations

from typing import Any

CACHE_TITLES = {
    "first_block": "FirstBlockCache",
    "taylorseer": "TaylorSeer",
    "magcache": "MagCache",
    "fastercache": "FasterCache",
}


class CacheUnavailable(ValueError):
    """The chosen cache cannot run on this model; the message says why and what to pick."""


def supports_cache_hooks(model: Any) -> bool:
    from diffusers.models.cache_utils import CacheMixin

    return isinstance(model, CacheMixin)


def resolve(kind: str, models: list[Any]) -> str:
    """``auto`` becomes first_block where the model has cache hooks, else off."""
    if kind != "auto":
        return kind
    return "first_block" if models and all(supports_cache_hooks(m) for m in models) else "off"


def make_config(kind: str, *, pipe: Any, models: list[Any], threshold: float, interval: int, steps: int,
                cfg_layout: str | None, cfg: bool, mag_ratios: list[float] | None, model_title: str) -> Any:
    """The diffusers config for ``kind``, or CacheUnavailable."""
    title = CACHE_TITLES[kind]
    for model in models:
        if not supports_cache_hooks(model):
            raise CacheUnavailable(
                f"{title} is not available for {model_title}: its transformer ({type(model).__name__}) has no "
                f"cache hooks in diffusers. Set it to off.")
    import torch
    from diffusers import (FasterCacheConfig, FirstBlockCacheConfig, MagCacheConfig,
                           TaylorSeerCacheConfig)

    if kind in ("first_block", "magcache"):
        from engines.accel.counting import transformer_blocks

        if any(len(transformer_blocks(m)) < 2 for m in models):
            raise CacheUnavailable(f"{title} is not available for {model_title}: it needs at least two transformer "
                                   "blocks (a first block to watch and the rest to skip).")
    if kind == "first_block":
        return FirstBlockCacheConfig(threshold=float(threshold))
    if kind == "taylorseer":
        dtype = next(models[0].parameters()).dtype
        return TaylorSeerCacheConfig(
            cache_interval=int(interval),
            # Full steps before the first prediction: the Taylor factors need two.
            disable_cache_before_step=max(2, min(3, steps // 4)),
            max_order=1,
            # diffusers' default patterns ("^blocks.*attn", matched whole) miss
            # Wan's attn1/attn2; name the attention and feed-forward modules.
            cache_identifiers=[TAYLORSEER_MODULES],
            # diffusers defaults to bfloat16 factors; keep the model's precision.
            taylor_factors_dtype=dtype if dtype in (torch.float32, torch.float16, torch.bfloat16) else None,
        )
    if kind == "magcache":
        if not mag_ratios:
            raise CacheUnavailable(
                f"MagCache needs magnitude ratios calibrated for {model_title}, and none are stored. "
                f"Calibrate them once with `weft models calibrate-magcache MODEL_ID`, or pick first_block.")
        return MagCacheConfig(threshold=float(threshold), max_skip_steps=3, retention_ratio=0.2,
                              num_inference_steps=int(steps), mag_ratios=list(mag_ratios))
    if kind == "fastercache":
        if not hasattr(type(pipe), "current_timestep"):
            raise CacheUnavailable(f"FasterCache is not available for {model_title}: its pipeline does not "
                                   "report the current timestep.")
        tensor_format = _FASTER_CACHE_FORMATS.get(type(pipe).__name__)
        if tensor_format is None:
            raise CacheUnavailable(f"FasterCache is not available for {model_title}: Weft does not know the "
                                   f"layout of {type(pipe).__name__}'s predictions. Use first_block or taylorseer.")
        if cfg and cfg_layout != "batched":
            raise CacheUnavailable(
                f"FasterCache is not available for {model_title} with guidance on: it runs the guided and "
                "unguided passes as separate calls, and FasterCache keeps one state for both. Use first_block, "
                "taylorseer or magcache, or switch guidance off (guidance 1, or a distillation LoRA preset).")
        return FasterCacheConfig(
            spatial_attention_block_skip_range=int(interval),
            spatial_attention_timestep_skip_range=(-1, 901),
            unconditional_batch_skip_range=int(interval),
            unconditional_batch_timestep_skip_range=(-1, 901),
            current_timestep_callback=lambda: _timestep(pipe),
            tensor_format=tensor_format,
            is_guidance_distilled=not cfg,
        )
    raise CacheUnavailable(f"unknown block cache {kind!r}; choose one of off, auto, {', '.join(CACHE_TITLES)}")


# The layout of each pipeline's transformer output, which FasterCache's
# frequency split needs (Wan: [B, C, F, H, W]; CogVideoX: [B, F, C, H, W]).
_FASTER_CACHE_FORMATS = {
    "WanPipeline": "BCFHW", "WanImageToVideoPipeline": "BCFHW", "WanVACEPipeline": "BCFHW",
    "WanVideoToVideoPipeline": "BCFHW",
    "CogVideoXPipeline": "BFCHW", "CogVideoXImageToVideoPipeline": "BFCHW",
}


# The modules TaylorSeer predicts between full steps: each block's attention
# and feed-forward (Wan: attn1, attn2, ffn; LTX / CogVideoX: attn1, attn2, ff).
TAYLORSEER_MODULES = r"(blocks|transformer_blocks|single_transformer_blocks)\.\d+\.(attn\d*|ffn|ff)"


def _timestep(pipe: Any) -> float:
    t = pipe.current_timestep
    return float(t.flatten()[0]) if hasattr(t, "flatten") else float(t if t is not None else 1000)


class BlockCache:
    """Installs one config on every given transformer and removes it again."""

    def __init__(self, config: Any, models: list[Any]) -> None:
        self.config = config
        self.models = models
        self._enabled: list[Any] = []

    def __enter__(self) -> "BlockCache":
        try:
            for model in self.models:
                if model.is_cache_enabled:  # left behind by a run that died mid-way
                    model.disable_cache()
                self._enabled.append(model)
                model.enable_cache(self.config)
        except Exception as exc:
            self.__exit__()
            raise CacheUnavailable(f"{type(self.config).__name__.removesuffix('Config')} could not be installed on "
                                   f"{type(self.models[0]).__name__}: {exc}") from exc
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        while self._enabled:
            model = self._enabled.pop()
            if model.is_cache_enabled:
                model.disable_cache()
