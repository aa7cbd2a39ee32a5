"""Parameters the video-model nodes share, so they read and behave the same everywhere.

Each function returns a fresh ``Param`` (a node class body assigns it to a
name; sharing one instance between classes would share its name too).
"""

from __future__ import annotations

from typing import Any

from nodes.aspects import ASPECT_CHOICES
from nodes.definition import Param

RESOLUTION_CHOICES = ("preview", "480p", "720p")

WAN_NEGATIVE = ("blurry, low quality, still frame, worst quality, jpeg artifacts, deformed, "
                "extra fingers, bad hands, bad anatomy, watermark, subtitles, text")


def model_param(default: str, task: str, *, last_frame: bool = False, help: str = "") -> Param:
    def choices() -> tuple[str, ...]:
        from nodes.video_rules import models_for_task
        return models_for_task(task, last_frame=last_frame)

    return Param.choice(default, choices, help=help or "The video model. Bigger models look better and need "
                                                       "more GPU memory (see `weft models list`).")


def aspect_param(default: str = "custom", *, from_input: str = "") -> Param:
    choices = ((("from input",) if from_input else ()) + ASPECT_CHOICES + ("custom",))
    extra = f" 'from input' keeps the aspect of {from_input}." if from_input else ""
    return Param.choice(default, choices, help=(
        "Shape of the picture. A preset picks width and height for the resolution below and snaps them to "
        f"what the model accepts; 'custom' uses the width and height fields.{extra}"))


def resolution_param(default: str = "480p") -> Param:
    return Param.choice(default, RESOLUTION_CHOICES, help=(
        "Size class for aspect presets: 'preview' (about 480x272) renders fast to try ideas, '480p' "
        "(832x480 for 16:9) is what the small models were trained at, '720p' (1280x720) needs a big GPU. "
        "Ignored when the aspect is 'custom'."))


def width_param(default: int = 832) -> Param:
    return Param.int(default, min=32, max=1920, step=16, help=(
        "Width in pixels when the aspect is 'custom': a multiple of 16 for Wan 2.1 models, of 32 for Wan "
        "2.2 5B and LTX-Video."))


def height_param(default: int = 480) -> Param:
    return Param.int(default, min=32, max=1920, step=16, help=(
        "Height in pixels when the aspect is 'custom': a multiple of 16 for Wan 2.1 models, of 32 for Wan "
        "2.2 5B and LTX-Video."))


def duration_unit_param(default: str = "frames") -> Param:
    return Param.choice(default, ("seconds", "frames"), help=(
        "How the length is given: 'seconds' is converted at the frame rate and rounded to the nearest frame "
        "count the model can make; 'frames' is used as given and must be one it can make."))


def seconds_param(default: float = 5.0) -> Param:
    return Param.float(default, min=0.25, max=20.0, step=0.25, help=(
        "Length in seconds when the duration is in seconds. The models make about 5 s at a time "
        "(Wan 2.1: 81 frames at 16 fps; LTX-Video: up to 257 frames)."))


def frames_param(default: int = 81) -> Param:
    return Param.int(default, min=5, max=257, step=4, help=(
        "Number of frames when the duration is in frames. Wan models need 4k+1 (17, 33, 49, 81...), "
        "LTX-Video 8k+1 (17, 25, 33, ... 257), CogVideoX 8k+1 up to 49. 81 frames at 16 fps is 5 s."))


def fps_param(default: float = 16.0) -> Param:
    return Param.float(default, min=1.0, max=60.0, help=(
        "Frames per second of the result, and of a duration given in seconds. Wan 2.1 is trained at 16, "
        "Wan 2.2 5B and LTX-Video at 24, CogVideoX at 8; other rates play the same frames faster or slower."))


def steps_param(default: int = 30) -> Param:
    return Param.int(default, min=1, max=200, help="Denoising steps: more is slower and usually cleaner. "
                                                   "Wan: 30-50, LTX-Video: 30-50.")


def guidance_param(default: float = 5.0) -> Param:
    return Param.float(default, min=1.0, max=20.0, step=0.5, help=(
        "How strongly the video follows the prompt (classifier-free guidance). 1 turns guidance off and "
        "halves the work. Wan: about 5; LTX-Video: about 3."))


def shift_param() -> Param:
    return Param.float(0.0, min=0.0, max=20.0, step=0.5, advanced=True, help=(
        "Flow shift of the noise schedule: higher spends more steps on composition, lower on detail. "
        "0 uses the model's own: the shift in its folder's scheduler config (Wan 2.1: 3 for 480p; "
        "Wan 2.2 5B: 5; try 5 for 720p). "
        "LTX-Video has none and ignores it."))


# Sigma schedules a video node can pick (engines/sigmas.py computes them).
SCHEDULES = ("default", "simple", "karras", "beta", "linear_quadratic")


def schedule_param() -> Param:
    return Param.choice("default", SCHEDULES, advanced=True, label="Sigma schedule", help=(
        "The noise levels the steps walk through. default: the model's own scheduler. simple: ComfyUI's "
        "'simple' (the same sigmas as ComfyUI for this shift). karras: Karras' rho-7 ramp. beta: "
        "Beta(0.6, 0.6) quantiles, more steps at both ends. linear_quadratic: Movie Gen's, linear at "
        "first, quadratic after. The model's own sampler runs over them."))


def negative_param(default: str = WAN_NEGATIVE) -> Param:
    return Param.text(default, multiline=True, help="What the video should avoid. Ignored when guidance is 1.")


def seed_param() -> Param:
    return Param.seed(0)


def shape_problems(params: dict[str, Any]) -> list[tuple[str, str]]:
    from nodes.video_rules import check_shape
    return check_shape(params)


def resolve(model: str, params: dict[str, Any], *, image_size: tuple[int, int] | None = None):
    """The VideoShape for a run; a setting the model cannot take fails naming the parameter."""
    from nodes.video_rules import resolve_shape, VideoSettingError
    from nodes.definition import NodeError

    try:
        return resolve_shape(model, {**params, "model": model}, image_size=image_size)
    except VideoSettingError as exc:
        raise NodeError(f"parameter {exc.param!r}: {exc}") from None
