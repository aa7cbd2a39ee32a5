"""What each video model accepts, and the helpers that make a node's settings fit it.

Pure data and numpy at import time (no torch): node types import this in
``check()`` to validate sizes and frame counts before a run, and the GUI may
too. The torch/diffusers parts (`task_pipeline`, `to_pil`) import lazily.

A model's rules come from its VAE and transformer: a latent-video VAE with
temporal compression t wants ``t*k + 1`` frames (4k+1 for Wan, 8k+1 for LTX),
and the pixel size must be a multiple of the VAE's spatial compression times
the transformer's patch (8x2 = 16 for Wan 2.1, 16x2 = 32 for Wan 2.2 5B, 32x1
for LTX). The pipelines do not check this themselves: Wan silently rounds the
frame count down, LTX fails deep inside. So Weft checks first and says which
value would work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from nodes.aspects import ASPECTS  # the one table (nodes/aspects.py)

# Size presets: the pixel area the size is fitted to, keeping the aspect.
RESOLUTIONS = ("preview", "480p", "720p")

# Tasks a node asks a model for; each family lists the diffusers class that
# does it with the family's weights.
T2V = "text_to_video"
I2V = "image_to_video"
V2V = "video_to_video"
VACE = "vace"  # reference images and masked regeneration (Wan VACE)
EXTEND = "extend"  # continuing a clip from its last frames


@dataclass(frozen=True)
class VideoTraits:
    """The rules and habits of one model family."""

    name: str  # short name for messages: "Wan 2.1"
    size_multiple: int  # width and height must be multiples of this
    frame_step: int  # frame counts are frame_step * k + 1
    max_frames: int
    fps: float  # the rate it was trained at
    # Landscape size per resolution preset (the 16:9-ish size it was trained
    # at for 480p/720p; a small one for quick previews).
    sizes: dict[str, tuple[int, int]]
    steps: int  # recommended denoising steps
    guidance: float  # recommended classifier-free guidance
    shift: float | None  # default flow shift; None: the model has no shift to set
    latent_space: str  # key of engines/previews.py's projections
    pipelines: dict[str, str] = field(default_factory=dict)  # task -> diffusers class
    last_frame: bool = False  # image-to-video can also pin the last frame
    min_frames: int = 5
    # A model trained at one size only (the sketch models): (width, height).
    # Presets resolve to it; any other width or height is refused.
    only_size: tuple[int, int] | None = None

    def valid_frames(self, frames: int) -> bool:
        return frames >= 1 and (frames - 1) % self.frame_step == 0

    def nearest_frames(self, frames: float) -> tuple[int, int]:
        """The valid counts just below and above ``frames`` (equal when it is valid)."""
        k = (frames - 1) / self.frame_step
        lower = max(self.min_frames, int(math.floor(k)) * self.frame_step + 1)
        upper = max(self.min_frames, int(math.ceil(k)) * self.frame_step + 1)
        return min(lower, self.max_frames), min(upper, self.max_frames)

    def snap_frames(self, frames: float) -> int:
        """The valid frame count nearest ``frames`` (ties go up: a little longer, not shorter)."""
        lower, upper = self.nearest_frames(frames)
        return lower if frames - lower < upper - frames else upper

    def snap_size(self, value: float) -> int:
        m = self.size_multiple
        return max(m, int(round(value / m)) * m)

    def nearest_sizes(self, value: int) -> tuple[int, int]:
        m = self.size_multiple
        lower = max(m, value - value % m)
        return lower, lower + m if value % m else lower

    @property
    def frame_rule(self) -> str:
        return f"{self.frame_step}k+1"

    @property
    def only_frames(self) -> int | None:
        """The one frame count a model makes, when it makes only one."""
        return self.min_frames if self.min_frames == self.max_frames else None


_WAN_SIZES = {"preview": (480, 272), "480p": (832, 480), "720p": (1280, 720)}
_WAN22_SIZES = {"preview": (512, 288), "480p": (832, 480), "720p": (1280, 704)}
_LTX_SIZES = {"preview": (512, 288), "480p": (832, 480), "720p": (1280, 704)}
# CogVideoX 1.0 was trained at 720x480 only; there is no 720p.
_COG_SIZES = {"preview": (480, 320), "480p": (720, 480), "720p": (720, 480)}

# The sketch model (engines/sketch): one size, one length, trained at 8 fps.
_SKETCH_SIZES = {"preview": (64, 64), "480p": (64, 64), "720p": (64, 64)}

FAMILIES: dict[str, VideoTraits] = {
    "wan21_t2v": VideoTraits(
        "Wan 2.1", 16, 4, 161, 16.0, _WAN_SIZES, 30, 5.0, 3.0, "wan21",
        {T2V: "WanPipeline", V2V: "WanVideoToVideoPipeline"}),
    "wan21_vace": VideoTraits(
        "Wan 2.1 VACE", 16, 4, 161, 16.0, _WAN_SIZES, 30, 5.0, 3.0, "wan21",
        {VACE: "WanVACEPipeline", EXTEND: "WanVACEPipeline"}),
    "wan22_ti2v": VideoTraits(
        "Wan 2.2 5B", 32, 4, 161, 24.0, _WAN22_SIZES, 40, 5.0, 5.0, "wan22",
        {T2V: "WanPipeline", I2V: "WanImageToVideoPipeline"}),
    "wan21_i2v": VideoTraits(
        "Wan 2.1 I2V", 16, 4, 161, 16.0, _WAN_SIZES, 40, 5.0, 3.0, "wan21",
        {I2V: "WanImageToVideoPipeline"}),
    "wan21_flf2v": VideoTraits(
        "Wan 2.1 FLF2V", 16, 4, 161, 16.0, _WAN_SIZES, 40, 5.0, 5.0, "wan21",
        {I2V: "WanImageToVideoPipeline"}, last_frame=True),
    "ltx_video": VideoTraits(
        "LTX-Video", 32, 8, 257, 24.0, _LTX_SIZES, 40, 3.0, None, "ltxv",
        {T2V: "LTXConditionPipeline", I2V: "LTXConditionPipeline", V2V: "LTXConditionPipeline",
         EXTEND: "LTXConditionPipeline"}, last_frame=True, min_frames=9),
    # CogVideoX's VAE decodes latent frames in pairs after the first: an even
    # latent count gives 4 frames too many, so counts are 8k+1 (9 ... 49).
    "cogvideox": VideoTraits(
        "CogVideoX", 16, 8, 49, 8.0, _COG_SIZES, 50, 6.0, None, "cogvideox", {T2V: "CogVideoXPipeline"},
        min_frames=9),
    # Wan 2.1's architecture, small: 64x64, 17 frames (5 latent frames of 4x4 tokens).
    # Its flow shift is the one its scheduler folder holds (trained with it):
    # shift None leaves the scheduler as loaded.
    "sketch_video": VideoTraits(
        "Sketch Video", 16, 4, 17, 8.0, _SKETCH_SIZES, 25, 5.0, None, "sketch", {T2V: "WanPipeline"},
        min_frames=17, only_size=(64, 64)),
}


class VideoSettingError(ValueError):
    """A setting a model cannot take; ``param`` names the parameter, the message the fix."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param


def spec_and_traits(model_id: str) -> tuple[Any, VideoTraits]:
    from nodes.model_catalogue import get_spec

    spec = get_spec(model_id)
    try:
        return spec, FAMILIES[spec.family]
    except KeyError:
        raise VideoSettingError("model", f"{spec.title} is not a video model") from None


def traits_of(model_id: str) -> VideoTraits:
    return spec_and_traits(model_id)[1]


def models_for_task(task: str, *, last_frame: bool = False) -> tuple[str, ...]:
    """Catalogue ids of the video models that can do ``task``, in catalogue order."""
    from nodes.model_catalogue import CATALOGUE

    return tuple(
        spec.id for spec in CATALOGUE.values()
        if spec.family in FAMILIES and task in FAMILIES[spec.family].pipelines
        and (FAMILIES[spec.family].last_frame or not last_frame)
    )


# ---- sizes and lengths ----------------------------------------------------------


def aspect_size(traits: VideoTraits, aspect: tuple[float, float] | str, resolution: str) -> tuple[int, int]:
    """Width and height for an aspect at a resolution preset, snapped to what the model takes.

    The preset's landscape size is the model's own; other aspects keep its
    pixel area (a 9:16 clip costs what a 16:9 one does).
    """
    if traits.only_size is not None:  # the one size it was trained at, whatever the preset
        return traits.only_size
    if isinstance(aspect, str):
        aspect = ASPECTS[aspect]
    base_w, base_h = traits.sizes[resolution]
    ratio = aspect[0] / aspect[1]
    if abs(ratio / (base_w / base_h) - 1.0) < 0.03:  # the size it was trained at, not a near miss
        return base_w, base_h
    if abs(ratio / (base_h / base_w) - 1.0) < 0.03:
        return base_h, base_w
    area = base_w * base_h
    return traits.snap_size(math.sqrt(area * ratio)), traits.snap_size(math.sqrt(area / ratio))


def check_size(traits: VideoTraits, model_title: str, width: int, height: int) -> list[tuple[str, str]]:
    if traits.only_size is not None:
        only_w, only_h = traits.only_size
        return [(name, f"{model_title} was trained at {only_w}x{only_h} only, not {value}; use {name} {want} "
                       "(or an aspect preset)")
                for name, value, want in (("width", width, only_w), ("height", height, only_h)) if value != want]
    problems = []
    for name, value in (("width", width), ("height", height)):
        if value % traits.size_multiple:
            lower, upper = traits.nearest_sizes(value)
            problems.append((name, f"{value} is not a multiple of {traits.size_multiple}; use {lower} or {upper}"))
    return problems


def check_frames(traits: VideoTraits, model_title: str, frames: int, param: str = "frames") -> list[tuple[str, str]]:
    if traits.only_frames is not None and frames != traits.only_frames:
        return [(param, f"{model_title} was trained for {traits.only_frames} frames only, not {frames}; use "
                        f"{traits.only_frames}")]
    if frames > traits.max_frames:
        return [(param, f"{frames} frames is more than {model_title} makes at once; use {traits.max_frames} "
                        f"or fewer")]
    if not traits.valid_frames(frames) or frames < traits.min_frames:
        lower, upper = traits.nearest_frames(frames)
        options = f"{lower} or {upper}" if lower != upper else f"{lower}"
        return [(param, f"{frames} is not of the form {traits.frame_rule}; use {options}")]
    return []


def frames_for_seconds(traits: VideoTraits, seconds: float, fps: float) -> int:
    """The valid frame count nearest ``seconds`` at ``fps`` (a clip of n frames lasts n/fps)."""
    return traits.snap_frames(max(1.0, seconds * fps))


@dataclass(frozen=True)
class VideoShape:
    width: int
    height: int
    frames: int
    fps: float


def _shape(model_id: str, params: dict[str, Any], image_size: tuple[int, int] | None,
           problems: list[tuple[str, str]]) -> VideoShape | None:
    spec, traits = spec_and_traits(model_id)
    fps = float(params.get("fps") or 0.0) or traits.fps
    aspect = params.get("aspect", "custom")
    width = height = 0
    if aspect == "custom":
        width, height = int(params["width"]), int(params["height"])
        problems.extend(check_size(traits, spec.title, width, height))
    elif aspect == "from input":
        if image_size is None:
            problems.append(("aspect", "'from input' needs an input image or video to take the aspect from"))
        else:
            width, height = aspect_size(traits, image_size, params.get("resolution", "480p"))
    else:
        width, height = aspect_size(traits, aspect, params.get("resolution", "480p"))
    if params.get("duration_unit", "frames") == "seconds":
        seconds = float(params["seconds"])
        frames = frames_for_seconds(traits, seconds, fps)
        if traits.only_frames is not None and abs(seconds * fps - traits.only_frames) > traits.frame_step / 2:
            exact = traits.only_frames / fps
            problems.append(("seconds", f"{spec.title} makes {traits.only_frames} frames only ({exact:g} s at "
                                        f"{fps:g} fps), not {seconds:g} s; use {exact:g}"))
        elif seconds * fps > traits.max_frames + traits.frame_step / 2:
            longest = math.floor(traits.max_frames / fps * 100) / 100
            problems.append(("seconds", f"{seconds:g} s at {fps:g} fps is more than {spec.title} makes at once "
                                        f"({traits.max_frames} frames); use {longest:g} s or less"))
    else:
        frames = int(params["frames"])
        problems.extend(check_frames(traits, spec.title, frames))
    return None if problems else VideoShape(width, height, frames, fps)


def resolve_shape(model_id: str, params: dict[str, Any], *, image_size: tuple[int, int] | None = None) -> VideoShape:
    """The size, length and rate a node's parameters ask of ``model_id``.

    Reads the shared parameters of the video nodes: ``aspect`` (a preset,
    "custom" for ``width``/``height``, or "from input" for ``image_size``),
    ``resolution``, ``duration_unit`` with ``seconds`` or ``frames``, ``fps``.
    Raises VideoSettingError naming the (first) parameter to fix.
    """
    problems: list[tuple[str, str]] = []
    shape = _shape(model_id, params, image_size, problems)
    if shape is None:
        raise VideoSettingError(*problems[0])
    return shape


def check_shape(params: dict[str, Any], *, model_param: str = "model") -> list[tuple[str, str]]:
    """Every problem of a node's size and length settings, as (parameter, message) pairs."""
    problems: list[tuple[str, str]] = []
    try:
        _shape(params[model_param], params, (16, 9), problems)
    except VideoSettingError as exc:
        return [(exc.param, str(exc))]
    except Exception as exc:  # an unknown model id: its own message
        return [(model_param, str(exc))]
    return problems


def recommended(model_id: str, params: dict[str, Any]) -> tuple[int, float, float | None]:
    """Steps, guidance and shift to use: the node's values, 0 meaning the model's own.

    The model's own shift is the one in its folder's scheduler config (what it
    was trained and shipped with; a fine-tune may change it): shift None leaves
    the loaded scheduler as it is. ``traits.shift`` only says that the model has
    a shift to set and what it usually is."""
    traits = traits_of(model_id)
    steps = int(params.get("steps") or traits.steps)
    guidance = float(params.get("guidance") or traits.guidance)
    shift = float(params.get("shift") or 0.0) or None
    return steps, guidance, shift if traits.shift is not None else None


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


def working_size(model_id: str, width: int, height: int, resolution: str) -> tuple[int, int]:
    """The model-friendly size for a clip of width x height: its aspect at the resolution preset,
    never larger than the clip itself needs (a small clip is not blown up past its size class)."""
    traits = traits_of(model_id)
    w, h = aspect_size(traits, (width, height), resolution)
    if w * h > width * height:  # the clip is smaller than the preset: snap its own size instead
        w, h = traits.snap_size(width), traits.snap_size(height)
    return w, h


def frames_to_run(model_id: str, count: int, what: str = "video") -> int:
    """The frame count to run a clip of ``count`` frames at: the next valid one (held on its last frame)."""
    traits = traits_of(model_id)
    if count > traits.max_frames:
        raise VideoSettingError(what, f"{count} frames is more than {traits.name} takes at once "
                                      f"({traits.max_frames}); trim it first (Trim Video)")
    _, upper = traits.nearest_frames(max(count, traits.min_frames))
    return upper


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
