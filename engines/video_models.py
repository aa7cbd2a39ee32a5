"""Video pixels and pipelines: fitting frames and masks to a model, building its
diffusers pipeline for a task, and running it.

What each model accepts (sizes, lengths, steps) is domain data in
nodes/video_rules.py; this module does the work those rules describe. Numpy at
import time; torch, PIL and diffusers load inside the functions that need them.
Node bodies reach it as ``ctx.video`` (nodes/services.py).
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from nodes.video_rules import VideoSettingError, VideoShape, spec_and_traits, traits_of


# ---- pixels ----------------------------------------------------------------------


def fit_frames(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """uint8 frames (n, h, w, 3) scaled to cover width x height and centre-cropped.

    Covering (not letterboxing) keeps a conditioning image's content where the
    model expects picture, never black bars it would try to continue.
    """
    import cv2

    n, h, w, _ = frames.shape
    if (w, h) == (width, height):
        return frames
    scale = max(width / w, height / h)
    new_w, new_h = max(width, int(math.ceil(w * scale))), max(height, int(math.ceil(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    left, top = (new_w - width) // 2, (new_h - height) // 2
    out = np.empty((n, height, width, 3), np.uint8)
    for i in range(n):
        out[i] = cv2.resize(frames[i], (new_w, new_h), interpolation=interp)[top:top + height, left:left + width]
    return out


def resize_frames(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """uint8 frames stretched to exactly width x height (for undoing ``fit_frames`` on a result)."""
    import cv2

    n, h, w = frames.shape[:3]
    if (w, h) == (width, height):
        return frames
    interp = cv2.INTER_AREA if width * height < w * h else cv2.INTER_CUBIC
    return np.stack([cv2.resize(f, (width, height), interpolation=interp) for f in frames])


def fit_mask(values: np.ndarray, frames: int, width: int, height: int) -> np.ndarray:
    """A still or per-frame mask (float 0-1) as ``frames`` masks of width x height, covering like fit_frames."""
    import cv2

    if values.ndim == 2:
        values = values[None]
    n, h, w = values.shape
    scale = max(width / w, height / h)
    new_w, new_h = max(width, int(math.ceil(w * scale))), max(height, int(math.ceil(h * scale)))
    left, top = (new_w - width) // 2, (new_h - height) // 2
    resized = np.stack([
        cv2.resize(v.astype(np.float32), (new_w, new_h), interpolation=cv2.INTER_LINEAR)[top:top + height,
                                                                                           left:left + width]
        for v in values
    ])
    if n == frames:
        return resized
    if n == 1:
        return np.repeat(resized, frames, axis=0)
    # A per-frame mask of another length: sample it evenly over the clip.
    index = np.minimum((np.arange(frames) * n / frames).astype(int), n - 1)
    return resized[index]


def pad_frames(frames: np.ndarray, count: int) -> np.ndarray:
    """``frames`` made ``count`` long: cut, or held on the last frame."""
    if len(frames) >= count:
        return frames[:count]
    return np.concatenate([frames, np.repeat(frames[-1:], count - len(frames), axis=0)])


def to_pil(frames: Iterable[np.ndarray]) -> list[Any]:
    """uint8 RGB arrays as PIL images (what diffusers' video processors take)."""
    from PIL import Image

    return [Image.fromarray(np.ascontiguousarray(f)) for f in frames]


def mask_to_pil(masks: np.ndarray) -> list[Any]:
    """Float masks (1 = regenerate) as the "L" images diffusers wants (white = regenerate)."""
    from PIL import Image

    return [Image.fromarray((np.clip(m, 0.0, 1.0) * 255).round().astype(np.uint8), mode="L") for m in masks]


def reference_images(images: list[Any], width: int, height: int) -> list[Any]:
    """Reference Images as PIL, shrunk (never enlarged) to fit the video: VACE letterboxes them itself."""
    import cv2

    out = []
    for image in images:
        pixels = image.pixels
        scale = min(1.0, width / image.width, height / image.height)
        if scale < 1.0:
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
        out.extend(to_pil([pixels]))
    return out


def image_call(model_id: str, first: np.ndarray, last: np.ndarray | None = None,
               last_index: int = 0) -> dict[str, Any]:
    """The pipeline arguments that pin a clip's first frame (and its last, at ``last_index``), in the
    form the model's family takes: LTX-Video conditions, or Wan's ``image`` and ``last_image``.
    ``first`` and ``last`` are (H, W, 3) pixels already at the render size."""
    first_image = to_pil([first])[0]
    last_image = to_pil([last])[0] if last is not None else None
    if traits_of(model_id).latent_space == "ltxv":
        conditions = [ltx_condition(image=first_image, frame_index=0)]
        if last_image is not None:
            conditions.append(ltx_condition(image=last_image, frame_index=last_index))
        return {"conditions": conditions}
    call: dict[str, Any] = {"image": first_image}
    if last_image is not None:
        call["last_image"] = last_image
    return call


def soft_mask(mask: np.ndarray, feather: float) -> np.ndarray:
    """A blend weight (F, H, W) in [0, 1] that is 1 deep inside ``mask`` and exactly 0 outside it.

    The feathered edge lies inside the mask, so pasting the original back with
    it leaves every pixel outside the mask exactly as it was.
    """
    import cv2

    hard = (mask > 0.5).astype(np.float32)
    radius = int(round(feather))
    if radius <= 0:
        return hard
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    out = np.empty_like(hard)
    for i, m in enumerate(hard):
        inner = cv2.erode(m, kernel)
        blurred = cv2.GaussianBlur(inner, (0, 0), sigmaX=max(radius / 2.0, 0.5))
        out[i] = np.maximum(blurred, inner) * m
    return out


def composite(original: np.ndarray, generated: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``generated`` where ``weight`` is 1, ``original`` where it is 0, blended between (uint8 frames)."""
    w = weight[..., None].astype(np.float32)
    mixed = original.astype(np.float32) * (1.0 - w) + generated.astype(np.float32) * w
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


# ---- pipelines --------------------------------------------------------------------


def ltx_condition(*, image: Any = None, video: list[Any] | None = None, frame_index: int = 0,
                  strength: float = 1.0) -> Any:
    """An LTX-Video keyframe (an image) or key clip (frames) at ``frame_index`` (for LTXConditionPipeline)."""
    from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

    return LTXVideoCondition(image=image, video=video, frame_index=frame_index, strength=strength)


def task_pipeline(ctx: Any, model_id: str, task: str) -> Any:
    """The diffusers pipeline that does ``task`` with ``model_id``'s resident weights.

    ``ctx.pipeline`` loads the catalogue's class; another task of the same
    weights (Wan text-to-video weights for video-to-video, Wan 2.2 5B's for
    image-to-video) gets a second pipeline object built around the same
    modules, made once and kept on the resident pipeline. ``from_pipe`` is
    not used: it casts every module to one dtype, which would turn the
    float32 VAE of a bfloat16 pipeline (see ModelSpec.keep_fp32) to bfloat16
    for the resident pipeline too.
    """
    spec, traits = spec_and_traits(model_id)
    class_name = traits.pipelines.get(task)
    if class_name is None:
        raise VideoSettingError("model", f"{spec.title} cannot do {task.replace('_', ' ')}")
    base = ctx.pipeline(model_id)
    if type(base).__name__ == class_name:
        return base
    derived = getattr(base, "_weft_task_pipelines", None)
    if derived is None:
        derived = {}
        base._weft_task_pipelines = derived
    if class_name not in derived:
        derived[class_name] = derive_pipeline(base, class_name)
    return derived[class_name]


def derive_pipeline(base: Any, class_name: str) -> Any:
    """A ``class_name`` pipeline sharing ``base``'s modules and config (no copies, no casts)."""
    import inspect

    import diffusers

    cls = getattr(diffusers, class_name)
    accepted = inspect.signature(cls.__init__).parameters
    kwargs = {name: module for name, module in base.components.items() if name in accepted}
    for key, value in base.config.items():
        if key in accepted and key not in kwargs and not key.startswith("_"):
            kwargs[key] = value
    for name, parameter in accepted.items():
        if name != "self" and name not in kwargs and parameter.default is inspect.Parameter.empty:
            kwargs[name] = None  # an optional component the base does not have (image_encoder...)
    pipe = cls(**kwargs)
    pipe.set_progress_bar_config(disable=True)
    return pipe


class _StepsRun:
    """A RunContext seen through a different step total.

    Strength-based pipelines (video-to-video, LTX denoise strength) run only
    the last ``strength`` share of the steps asked for; progress should still
    end at 100%. Everything else passes through to the real context.
    """

    def __init__(self, ctx: Any, total: int):
        self._ctx = ctx
        self._total = total

    def progress(self, step: int, total: int, preview: Any = None) -> None:
        self._ctx.progress(min(step, self._total), self._total, preview)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)


def steps_run(steps: int, strength: float) -> int:
    """How many steps a strength-based pipeline actually runs (diffusers' get_timesteps)."""
    return max(1, min(int(steps * strength), steps))


def scheduler_shift(scheduler: Any) -> float:
    """The flow shift a loaded scheduler uses (1 where it has none)."""
    config = scheduler.config
    return float(config.get("flow_shift", config.get("shift", 1.0)) or 1.0)


class _Shifted:
    """Use another flow shift for one call, then put the scheduler back."""

    def __init__(self, pipe: Any, shift: float | None):
        self.pipe, self.shift, self.saved = pipe, shift, None

    def __enter__(self) -> None:
        scheduler = self.pipe.scheduler
        config = scheduler.config
        key = "flow_shift" if "flow_shift" in config else "shift" if "shift" in config else None
        if self.shift is None or key is None or abs(float(config[key]) - self.shift) < 1e-9:
            return
        self.saved = scheduler
        self.pipe.scheduler = type(scheduler).from_config(config, **{key: self.shift})

    def __exit__(self, *exc: Any) -> None:
        if self.saved is not None:
            self.pipe.scheduler = self.saved


def render(ctx: Any, model_id: str, task: str, *, shape: VideoShape, prompt: str, negative_prompt: str,
           steps: int, guidance: float, shift: float | None, seed: int, strength: float = 1.0,
           reference_frames: int = 0, schedule: str = "default", **call: Any) -> np.ndarray:
    """Run ``model_id`` for ``task`` through ``run_denoiser`` and return uint8 frames (F, H, W, 3).

    Adds what every family needs: the size and length (video-to-video takes
    its length from the video; ``strength`` below 1 runs only that share of
    the steps), guidance with the negative prompt only when
    guidance is on, the seed's CPU generator, a step preview projected from
    the model's latent space, LTX's frame rate and timestep-aware decoding.
    """
    from engines.diffusion import frames_to_uint8, generator, run_denoiser
    from engines.previews import preview_for

    traits = traits_of(model_id)
    pipe = task_pipeline(ctx, model_id, task)
    call.update(prompt=prompt, negative_prompt=negative_prompt if guidance > 1.0 else None,
                width=shape.width, height=shape.height, guidance_scale=guidance,
                generator=generator(seed), output_type="np")
    if type(pipe).__name__ == "WanVideoToVideoPipeline":
        call["strength"] = float(strength)  # its length comes from the video
    else:
        call["num_frames"] = shape.frames
        if strength < 1.0:
            call["denoise_strength"] = float(strength)  # LTXConditionPipeline
    if traits.latent_space == "ltxv":
        call["frame_rate"] = int(round(shape.fps))
        if getattr(pipe.vae.config, "timestep_conditioning", False):
            # LTX 0.9.1+ decodes with a little noise at a small timestep (the model card's values).
            call.setdefault("decode_timestep", 0.05)
            call.setdefault("decode_noise_scale", 0.025)
    preview = preview_for(ctx, model_id, width=shape.width, height=shape.height, frames=shape.frames,
                          reference_frames=reference_frames)
    run_ctx = ctx if strength >= 1.0 else _StepsRun(ctx, steps_run(steps, strength))
    from engines.sigmas import UseSchedule, schedule_sigmas

    with _Shifted(pipe, shift):
        # A named sigma schedule at the shift in force (the node's, else the folder's own).
        sigmas = schedule_sigmas(schedule, steps, scheduler_shift(pipe.scheduler))
        with UseSchedule(pipe, sigmas):
            result = run_denoiser(run_ctx, pipe, steps=steps, preview=preview, **call)
    frames = frames_to_uint8(result.frames[0])
    if frames.ndim == 4 and frames.shape[-1] != 3 and frames.shape[1] == 3:  # (F, 3, H, W) from "pt"-like output
        frames = frames.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(frames)
