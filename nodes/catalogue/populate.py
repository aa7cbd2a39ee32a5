"""Populate a Scene: a person walks into a still scene and does what the prompt says."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nodes import types as T
from nodes.catalogue import _video as V
from nodes.catalogue.model_node import ModelNode
from nodes.definition import Input, NodeError, Output, Param, RunContext

# numpy is imported where it is used, not with the module: the command line loads every
# node type to check a project and should not pay numpy's import for it (nodes/values.py).
if TYPE_CHECKING:
    import numpy as np

APPROACH = """\
How it works (an open approximation of Populate-A-Scene, which has no public weights):
- With Wan VACE (default): the scene image becomes every frame of a still video. The first frame is kept
  whole (the empty scene); on the other frames the region mask (white: where the person may appear) is
  regenerated from the prompt and everything outside it is kept. After decoding, the scene's own pixels
  are pasted back outside the region, so the background really stays. A connected person image is given
  to VACE as a reference, for their look. Without a region, the person may appear anywhere and only the
  first frame is pinned to the scene.
- With an image-to-video model (Wan 2.2 5B, LTX-Video): the scene is the first frame and the prompt
  drives the rest; a region, if given, is used to paste the scene back outside it.
Limits: a still camera (the scene is pasted back unchanged, so a moving camera would tear); the person
stays inside the region, and cannot change light or shadows outside it; interaction with objects outside
the region is not possible; one short shot (a few seconds) per run; likeness from a reference image is
approximate. Say who enters, from where, and what they do: "a man in a blue jacket walks in from the
left and sits on the bench"."""


class PopulateScene(ModelNode):
    __doc__ = "A video in which a still scene stays and a person enters it and acts.\n\n" + APPROACH

    type_id = "populate_scene"
    title = "Populate a Scene"
    description = ("Puts a person into a still scene: they enter and do what the prompt says while the scene "
                   "stays. Optional region mask for where they may go, optional person image for their look. "
                   "Wan VACE by default.\n\n" + APPROACH)
    tags = ("populate", "insert person", "scene", "actor", "character", "vace", "inpaint", "i2v")

    scene = Input(T.IMAGE, help="The empty scene: a photo or a render of the place, from a still camera.")
    prompt = Input(T.TEXT, help=(
        "Who enters, from where, and what they do: \"a woman in a yellow raincoat walks in from the right "
        "and waves\". The scene itself need not be described."))
    region = Input(T.MASK, required=False, help=(
        "Optional: where the person may appear (white) over the scene; outside it the scene is kept exactly. "
        "Make it large enough for their whole path."))
    person = Input(T.IMAGE, required=False, help=(
        "Optional (VACE only): a picture of the person, ideally cut out on white, for their look."))
    video = Output(T.VIDEO, help="The scene with the person entering and acting.")

    model = Param.choice("wan2.1-vace-1.3b", lambda: _populate_models(), help=(
        "Wan VACE 1.3B / 14B: the scene is kept outside the region and the person generated inside. "
        "Wan 2.2 5B or LTX-Video: image-to-video from the scene (the scene may drift)."))
    still_camera = Param.bool(True, help=(
        "Add \"static camera, the background stays still\" to the prompt, as the pasted-back scene assumes."))
    feather = Param.float(6.0, min=0.0, max=64.0, step=1.0, help=(
        "Softness in pixels of the seam at the region's edge (inside the region: outside is the scene)."))
    aspect = V.aspect_param("from input", from_input="the scene")
    resolution = V.resolution_param()
    width = V.width_param()
    height = V.height_param()
    duration_unit = V.duration_unit_param("seconds")
    seconds = V.seconds_param(3.0)
    frames = V.frames_param()
    fps = V.fps_param()
    steps = V.steps_param()
    guidance = V.guidance_param()
    shift = V.shift_param()
    seed = V.seed_param()
    negative_prompt = V.negative_param()

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[tuple[str, str]]:
        return V.shape_problems(params)

    @classmethod
    def check_links(cls, params: dict[str, Any], connected: frozenset[str],
                    known: dict[str, Any]) -> list[tuple[str, str]]:
        if "person" in connected and not _is_vace(params["model"]):
            return [("person", "only Wan VACE uses a person image; disconnect it or pick a VACE model")]
        return []

    def run(self, ctx: RunContext, *, scene: Any, prompt: str, region: Any, person: Any, model: str,
            still_camera: bool, feather: float, seed: int, negative_prompt: str, **params: Any) -> dict[str, Any]:
        import numpy as np

        from nodes.video_rules import I2V, recommended, VACE
        from nodes.values import Video

        if person is not None and not _is_vace(model):
            raise NodeError("input 'person': only Wan VACE uses a person image; disconnect it or pick a VACE model")
        shape = V.resolve(model, params, image_size=(scene.width, scene.height))
        steps, guidance, shift = recommended(model, params)
        text = prompt.strip()
        if still_camera:
            text = f"{text.rstrip('.')}. Static camera, the background stays still."
        plate = ctx.video.fit_frames(scene.pixels[None], shape.width, shape.height)[0]
        frames = np.repeat(plate[None], shape.frames, axis=0)
        weight = None
        if region is not None:
            masks = ctx.video.fit_mask(region.values, shape.frames, shape.width, shape.height)
            if not (masks > 0.5).any():
                raise NodeError("input 'region': the region is empty (all black): there is nowhere to put "
                                "the person")
            weight = ctx.video.soft_mask(masks, feather)
        if _is_vace(model):
            masks = (weight > 0).astype(np.float32) if weight is not None else np.ones(
                (shape.frames, shape.height, shape.width), np.float32)
            masks[0] = 0.0  # the first frame is the empty scene
            call: dict[str, Any] = {"video": ctx.video.to_pil(frames), "mask": ctx.video.mask_to_pil(masks)}
            references = 0
            if person is not None:
                from nodes.catalogue.personalize import vace_references

                images = ctx.video.reference_images([person], shape.width, shape.height)
                call.update(vace_references(images))
                references = len(images)
            pixels = ctx.video.render(ctx, model, VACE, shape=shape, prompt=text, negative_prompt=negative_prompt,
                                      steps=steps, guidance=guidance, shift=shift, seed=seed, reference_frames=references,
                                      **call)
        else:
            call = ctx.video.image_call(model, plate)
            pixels = ctx.video.render(ctx, model, I2V, shape=shape, prompt=text, negative_prompt=negative_prompt,
                                      steps=steps, guidance=guidance, shift=shift, seed=seed, **call)
        if weight is not None:
            pixels = ctx.video.composite(frames, pixels, weight)
        return {"video": Video(pixels, shape.fps)}


def _is_vace(model: str) -> bool:
    from nodes.video_rules import traits_of, VACE

    try:
        return VACE in traits_of(model).pipelines
    except Exception:
        return False


def _populate_models() -> tuple[str, ...]:
    from nodes.video_rules import I2V, models_for_task, VACE

    vace = models_for_task(VACE)
    return vace + tuple(m for m in models_for_task(I2V) if m not in vace)
