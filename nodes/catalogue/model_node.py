"""The base of every node that runs a generative model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, ClassVar

from nodes import types as T
from nodes.catalogue.lora import preset_keys
from nodes.definition import NodeType, Param

# Block caches an artist can pick (engines/accel/caches.py applies them).
BLOCK_CACHES = ("off", "auto", "first_block", "taylorseer", "magcache", "fastercache")

# Parameters that only mean something for a model that uses classifier-free
# guidance; a node type with ``guided = False`` does not get them.
GUIDANCE_PARAMS = ("adaptive_guidance", "guidance_until")


class ModelNode(NodeType):
    """A node that runs a diffusers pipeline through ``engines.diffusion.run_denoiser``.

    Shared behaviour of model nodes (their cache key includes the model
    profile; their stats count transformer evaluations; switches that apply
    to every model, such as acceleration) belongs here, so that every model
    node gets it at once.

    The speed switches below are all off by default: a node renders exactly
    what the model makes unless the artist (or the Draft quality setting)
    trades some fidelity for time. They are "advanced" parameters, shown in the
    inspector's second section.
    """

    category = "Generate"
    uses_model = True
    # Whether the model uses classifier-free guidance (two evaluations a step).
    guided: ClassVar[bool] = True

    adaptive_guidance = Param.float(
        1.0, min=0.0, max=1.0, step=0.001, advanced=True, label="Adaptive guidance",
        help="Stop computing the unguided prediction once it agrees with the guided one this closely "
             "(cosine similarity, Castillo et al.); later steps then cost one evaluation instead of two. "
             "1 = never stop (exactly the plain result). 0.99-0.999 is a useful range; it changes the picture "
             "more than the block caches do (on sketch-video 0.999 saved 17% of evaluations at 25 dB).")
    guidance_until = Param.float(
        100.0, min=0.0, max=100.0, step=5.0, advanced=True, label="Guidance until (% of steps)",
        help="Use guidance only for this first part of the steps; the rest run the guided prediction "
             "alone, at half the cost. 100 = every step (exactly the plain result).")
    block_cache = Param.choice(
        "off", BLOCK_CACHES, advanced=True,
        help="Reuse transformer blocks' work between steps: first_block (FirstBlockCache: skip the other "
             "blocks when the first one barely changed), taylorseer (predict attention from earlier steps), "
             "magcache (skip by calibrated magnitude ratios; see `weft models calibrate-magcache`), "
             "fastercache (reuse attention; models that batch guidance or run without it). auto = "
             "first_block where the model supports it, else off. Off = exact.")
    cache_threshold = Param.float(
        0.05, min=0.0, max=1.0, step=0.01, advanced=True, label="Cache threshold",
        help="first_block and magcache: how much change is small enough to reuse. Higher is faster and "
             "drifts further from the plain result. Measured on sketch-video (bench/RESULTS.md), the highest "
             "that stays within 30 dB of the plain result: first_block 0.1, magcache 0.08.")
    cache_interval = Param.int(
        3, min=2, max=10, advanced=True, label="Cache interval",
        help="taylorseer and fastercache: compute fully every this many steps, predict or reuse between. "
             "On sketch-video (bench/RESULTS.md) taylorseer at 2 drifts to 28 dB of the plain result.")
    lora_file = Param(T.PATH, "", "A LoRA file (.safetensors) applied for this node only. Step-distillation "
                      "LoRAs (lightx2v, CausVid, Lightning) pair with a preset below; diffusers converts "
                      "ComfyUI / Kohya / musubi key names.", "LoRA file", file_kind="lora", advanced=True)
    lora_preset = Param.choice(
        "custom", preset_keys(), advanced=True, label="LoRA preset",
        help="What the LoRA expects: a step-distillation preset sets steps and guidance to the values it "
             "was trained for (overriding the node's); custom keeps the node's own.")
    lora_strength = Param.float(1.0, min=0.0, max=2.0, step=0.05, advanced=True, label="LoRA strength",
                                help="How strongly the LoRA applies (1 = as trained).")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.guided:
            cls.params = {name: p for name, p in cls.params.items() if name not in GUIDANCE_PARAMS}

    @classmethod
    def inactive_params(cls, params: dict[str, Any]) -> dict[str, str]:
        inactive = dict(super().inactive_params(params))

        def silence(names: tuple[str, ...], reason: str) -> None:
            for name in names:
                if name in cls.params:
                    inactive.setdefault(name, reason)

        if "aspect" in cls.params:
            if params.get("aspect") == "custom":
                silence(("resolution",), "used only with an aspect preset")
            else:
                silence(("width", "height"), "used only when Aspect is custom")
        if "duration_unit" in cls.params:
            if params.get("duration_unit") == "seconds":
                silence(("frames",), "used only when Duration unit is frames")
            else:
                silence(("seconds",), "used only when Duration unit is seconds")
        if "guidance" in cls.params and params.get("guidance") == 1:
            silence(("negative_prompt",) + GUIDANCE_PARAMS, "guidance is 1 (off)")
        cache = params.get("block_cache", "off")
        if cache == "off":
            silence(("cache_threshold", "cache_interval"), "used only with a block cache")
        elif cache in ("taylorseer", "fastercache"):
            silence(("cache_threshold",), "used by first_block and magcache")
        else:
            silence(("cache_interval",), "used by taylorseer and fastercache")
        if not str(params.get("lora_file") or "").strip():
            silence(("lora_preset", "lora_strength"), "used only with a LoRA file")
        return inactive

    @classmethod
    def check_links(cls, params: dict[str, Any], connected: frozenset[str],
                    known: dict[str, Any]) -> list[tuple[str, str]]:
        """A sketch model's prompt and negative prompt use only the words it knows (when they are
        known before running: typed into a Text node, or here)."""
        problems = list(super().check_links(params, connected, known))
        if "prompt" in cls.inputs and isinstance(known.get("prompt"), str):
            problems += [("prompt", m) for m in _word_problems(params.get("model"), known["prompt"], "")]
        if params.get("guidance", 0) != 1:  # guidance 1 never reads the negative prompt
            problems += [("negative_prompt", m)
                         for m in _word_problems(params.get("model"), "", params.get("negative_prompt"))]
        return problems

    @classmethod
    def settings_for(cls, model: str, params: dict[str, Any]) -> dict[str, Any]:
        """The parameter values that make ``params`` fit ``model`` when an artist picks it: a
        model trained at one shape (the sketch models) gets that shape, a length in its range, its
        steps and guidance, and no negative prompt in words it does not know. {} for the others,
        whose settings are the artist's."""
        from nodes.sketch_words import knows_words, negative_problem

        if not knows_words(model):
            return {}
        values = {**cls.default_params(), **params}
        wanted: dict[str, Any] = {}
        if "aspect" in cls.params:
            from nodes.video_rules import traits_of

            traits = traits_of(model)
            if traits.only_size is not None and traits.only_frames is not None:
                width, height = traits.only_size
                wanted.update(width=width, height=height, frames=traits.only_frames, fps=traits.fps,
                              seconds=traits.only_frames / traits.fps)
            wanted.update(steps=traits.steps, guidance=traits.guidance)
        elif "seconds" in cls.params:
            from nodes.sound_rules import seconds_range

            shortest, longest = seconds_range(model)
            wanted["seconds"] = min(max(float(values["seconds"]), shortest), longest)
        if "negative_prompt" in cls.params and negative_problem(model, str(values.get("negative_prompt") or "")):
            wanted["negative_prompt"] = ""
        return {name: value for name, value in wanted.items() if name in cls.params and values.get(name) != value}

    @staticmethod
    def refuse_unknown_words(model: str, prompt: str, negative_prompt: str = "") -> None:
        """At run time, the same check on the prompt as it arrived (it may come from another node)."""
        from nodes.definition import NodeError

        for message in _word_problems(model, prompt, ""):
            raise NodeError(f"input 'prompt': {message}")
        for message in _word_problems(model, "", negative_prompt):
            raise NodeError(f"parameter 'negative_prompt': {message}")

    @classmethod
    def summary(cls, params: dict[str, Any]) -> list[tuple[str, str]]:
        """The size, length and rate the shape settings give on the chosen model."""
        if "aspect" not in cls.params or "model" not in cls.params:
            return list(super().summary(params))
        from nodes.video_rules import resolve_shape, VideoSettingError

        try:
            # An aspect taken from an input: the length is known, the size only when it runs.
            shape = resolve_shape(params["model"], params, image_size=(16, 9))
        except (VideoSettingError, KeyError, ValueError):
            return []  # validation names the parameter to fix
        size = "from input" if params.get("aspect") == "from input" else f"{shape.width} x {shape.height}"
        return [("Size", size), ("Length", f"{shape.frames} frames, {shape.frames / shape.fps:.2f} s")]

    # ---- parameters applied after the model ------------------------------------------
    # The engine caches a model node's run under a key of what the pipeline call
    # depends on. A parameter "after the model" is applied to the cached result
    # instead (apply_after_model), so changing only it never runs the model again.

    @classmethod
    def after_model(cls, params: dict[str, Any]) -> tuple[str, ...]:
        """Names of the parameters that ``params``' model never sees (applied to its result).

        Video nodes with a frame rate: fps is metadata stamped on the frames for
        Wan and CogVideoX; LTX-Video conditions on it (``frame_rate``), so there
        it stays part of the model's run."""
        if "fps" not in cls.params or "aspect" not in cls.params or not cls.fps_after_model:
            return ()
        from nodes.video_rules import traits_of

        try:
            conditions = traits_of(params.get("model")).latent_space == "ltxv"
        except Exception:  # an unknown model: validation names it; keep everything in the key
            return ()
        return () if conditions else ("fps",)

    # Whether this node's fps is only stamped on its result (see after_model); set per node type.
    fps_after_model: ClassVar[bool] = False

    @classmethod
    def model_call(cls, params: dict[str, Any]) -> dict[str, Any]:
        """What the after-model parameters still decide about the pipeline call (the frame count
        that a length in seconds gives at this fps), for the model run's key."""
        if "fps" not in cls.after_model(params):
            return {}
        from nodes.video_rules import resolve_shape, VideoSettingError

        try:
            shape = resolve_shape(params["model"], params, image_size=(16, 9))
        except (VideoSettingError, KeyError, ValueError):
            return {}
        return {"width": shape.width, "height": shape.height, "frames": shape.frames}

    @classmethod
    def apply_after_model(cls, outputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """The node's outputs for ``params`` from a model run made with other after-model values."""
        if "fps" not in cls.after_model(params):
            return outputs
        from dataclasses import replace

        from nodes.video_rules import resolve_shape
        from nodes.values import Video

        fps = resolve_shape(params["model"], params, image_size=(16, 9)).fps
        return {name: replace(value, fps=fps) if isinstance(value, Video) else value
                for name, value in outputs.items()}

    @classmethod
    def cache_salt(cls, params: dict[str, Any], resolve_path: Callable[[str], Path]) -> str:
        """A LoRA file changed in place must re-render (subclasses: call super)."""
        lora = params.get("lora_file") or ""
        if not lora:
            return ""
        try:
            st = os.stat(resolve_path(lora))
        except OSError:
            return "lora:missing"
        return f"lora:{st.st_size}:{st.st_mtime_ns}"


def _word_problems(model: Any, prompt: str, negative: Any) -> list[str]:
    """Messages for words a sketch model does not know (engines/sketch/prompts.py); [] for other models."""
    from nodes.sketch_words import knows_words, negative_problem, prompt_problem

    if not isinstance(model, str) or not knows_words(model):
        return []
    found = [prompt_problem(model, prompt) if prompt else None,
             negative_problem(model, negative) if isinstance(negative, str) and negative else None]
    return [m for m in found if m]
