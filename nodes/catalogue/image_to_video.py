"""Image to Video: a still brought to life, optionally ending on a second still."""

from __future__ import annotations

from typing import Any

from nodes import types as T
from nodes.catalogue import _video as V
from nodes.catalogue.model_node import ModelNode
from nodes.definition import Input, NodeError, Output, RunContext


class ImageToVideo(ModelNode):
    """A video that starts on ``first_frame`` (and, with models that can, ends on ``last_frame``).

    Models: Wan 2.2 TI2V 5B (default: the first frame enters as a clean
    latent, no last frame), LTX-Video 0.9.5 (first and last frames as
    keyframe conditions), Wan 2.1 I2V 14B 480p and FLF2V 14B 720p (CLIP image
    features; FLF2V also takes the last frame) for large GPUs.

    The images are scaled to cover the video's size and centre-cropped, so
    the first frame of the video is the image (cropped), never letterboxed.
    """

    type_id = "image_to_video"
    title = "Image to Video"
    description = ("A video that starts from an image (and can end on another), moved the way the prompt "
                   "says. Wan 2.2 5B by default; LTX-Video and Wan 2.1 FLF2V also take a last frame.")
    tags = ("i2v", "animate", "first frame", "last frame", "keyframes", "wan", "ltx")

    first_frame = Input(T.IMAGE, help="The picture the video starts on.")
    last_frame = Input(T.IMAGE, required=False, help=(
        "Optional: the picture the video ends on. LTX-Video and Wan 2.1 FLF2V 14B can; Wan 2.2 5B and "
        "Wan 2.1 I2V cannot."))
    prompt = Input(T.TEXT, help="What happens: the motion, the camera, what changes. The image sets the look.")
    video = Output(T.VIDEO, help="The clip, starting on the first frame (scaled and centre-cropped to its size).")

    model = V.model_param("wan2.2-ti2v-5b", "image_to_video", help=(
        "Wan 2.2 TI2V 5B: 24 fps, up to 720p, about 24 GB. LTX-Video 0.9.5: fast, first and last frame, "
        "about 12 GB. Wan 2.1 I2V 14B 480p / FLF2V 14B 720p (first and last frame): 40 GB or more."))
    aspect = V.aspect_param("from input", from_input="the first frame")
    resolution = V.resolution_param()
    width = V.width_param()
    height = V.height_param()
    duration_unit = V.duration_unit_param("seconds")
    seconds = V.seconds_param(3.0)
    frames = V.frames_param()
    fps = V.fps_param(24.0)
    # After the model on Wan (stamped on the cached clip); LTX-Video conditions on its frame rate.
    fps_after_model = True
    steps = V.steps_param()
    guidance = V.guidance_param()
    shift = V.shift_param()
    schedule = V.schedule_param()
    seed = V.seed_param()
    negative_prompt = V.negative_param()

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[tuple[str, str]]:
        return V.shape_problems(params)

    @classmethod
    def check_links(cls, params: dict[str, Any], connected: frozenset[str],
                    known: dict[str, Any]) -> list[tuple[str, str]]:
        if "last_frame" in connected:
            problem = _last_frame_problem(params["model"])
            if problem:
                return [("last_frame", problem)]
        return []

    def run(self, ctx: RunContext, *, first_frame: Any, last_frame: Any, prompt: str, model: str, seed: int,
            negative_prompt: str, **params: Any) -> dict[str, Any]:
        from nodes.video_rules import I2V, recommended
        from nodes.values import Video

        if last_frame is not None and _last_frame_problem(model):
            raise NodeError(f"input 'last_frame': {_last_frame_problem(model)}")
        shape = V.resolve(model, params, image_size=(first_frame.width, first_frame.height))
        steps, guidance, shift = recommended(model, params)
        first = ctx.video.fit_frames(first_frame.pixels[None], shape.width, shape.height)[0]
        last = (ctx.video.fit_frames(last_frame.pixels[None], shape.width, shape.height)[0]
                if last_frame is not None else None)
        call = ctx.video.image_call(model, first, last, last_index=shape.frames - 1)
        pixels = ctx.video.render(ctx, model, I2V, shape=shape, prompt=prompt, negative_prompt=negative_prompt,
                                  steps=steps, guidance=guidance, shift=shift, seed=seed,
                                  schedule=params.get("schedule", "default"), **call)
        return {"video": Video(pixels, shape.fps)}


def _last_frame_problem(model: str) -> str:
    from nodes.video_rules import I2V, models_for_task, spec_and_traits

    try:
        spec, traits = spec_and_traits(model)
    except Exception:
        return ""
    if traits.last_frame:
        return ""
    able = ", ".join(models_for_task(I2V, last_frame=True))
    return f"{spec.title} cannot end on a given frame; disconnect it or pick a model that can ({able})"
