"""What each video model accepts, and the rules that make a node's settings fit it.

Domain rules, pure Python: node types use them in ``check()`` to validate sizes
and frame counts before a run, the GUI and ``weft validate`` too, without the
runtime. The work these rules describe (fitting pixels, building pipelines,
rendering) is engines/video_models.py.

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
from typing import Any

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
