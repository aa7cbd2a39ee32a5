"""Model-based video edits: restyle a clip, regenerate a masked region, extend a clip.

All three keep the clip's size, frame rate and sound: the model works at a
size its grid accepts (the clip's aspect at the resolution preset, snapped)
and a frame count it can make (the clip held on its last frame up to the
next 4k+1), and the result is scaled and cut back to the clip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nodes import types as T
from nodes.catalogue import _video as V
from nodes.catalogue.model_node import ModelNode
from nodes.definition import Input, NodeError, NodeType, Output, Param, RunContext

# numpy is imported where it is used, not with the module: the command line loads every
# node type to check a project and should not pay numpy's import for it (nodes/values.py).
if TYPE_CHECKING:
    import numpy as np

_KEEP_AUDIO = "Keep the clip's sound on the result (the extension of Extend Video is silent)."


def _resolution(default: str = "480p") -> Param:
    return Param.choice(default, V.RESOLUTION_CHOICES, help=(
        "Size class the model works at, keeping the clip's aspect; the result is scaled back to the clip's "
        "size. A clip smaller than the class is worked on at its own size (snapped to the model's grid)."))


def _setting_error(exc: Exception) -> NodeError:
    return NodeError(f"input {getattr(exc, 'param', 'video')!r}: {exc}")


class RestyleVideo(ModelNode):
    """Video-to-video (SDEdit) on Wan 2.1 T2V 1.3B: the clip is noised to ``strength`` and denoised
    toward the prompt, so its motion and layout survive while look and detail follow the prompt."""

    type_id = "restyle_video"
    title = "Restyle Video"
    category = "Edit"
    description = ("Changes a clip's look from a prompt (a style, the season, the material) while keeping its "
                   "motion and layout. Strength sets how much changes. Wan 2.1 video-to-video.")
    tags = ("v2v", "video to video", "style", "sdedit", "restyle", "wan", "edit")

    video = Input(T.VIDEO, help="The clip to restyle (at most 161 frames; trim longer clips first).")
    prompt = Input(T.TEXT, help="What the clip should look like: describe the whole scene in the new style.")
    out = Output(T.VIDEO, label="Video", help="The restyled clip: same length, size, frame rate and sound.")

    model = V.model_param("wan2.1-t2v-1.3b", "video_to_video", help=(
        "Wan 2.1 T2V 1.3B, run as video-to-video (about 8 GB at 480p)."))
    strength = Param.float(0.6, min=0.05, max=1.0, step=0.05, help=(
        "How much changes: 0.3 keeps shapes and colours and changes texture, 0.6 restyles, 0.9 keeps only "
        "the rough motion. Only this share of the steps runs, so lower is also faster."))
    resolution = _resolution()
    steps = V.steps_param()
    guidance = V.guidance_param()
    shift = V.shift_param()
    seed = V.seed_param()
    negative_prompt = V.negative_param()
    keep_audio = Param.bool(True, help=_KEEP_AUDIO)

    def run(self, ctx: RunContext, *, video: Any, prompt: str, model: str, strength: float, resolution: str,
            seed: int, negative_prompt: str, keep_audio: bool, **params: Any) -> dict[str, Any]:
        from nodes.video_rules import frames_to_run, recommended, V2V, VideoSettingError, VideoShape, working_size
        from nodes.values import Video

        try:
            count = frames_to_run(model, video.num_frames)
        except VideoSettingError as exc:
            raise _setting_error(exc) from None
        width, height = working_size(model, video.width, video.height, resolution)
        steps, guidance, shift = recommended(model, params)
        frames = ctx.video.pad_frames(ctx.video.resize_frames(video.frames, width, height), count)
        pixels = ctx.video.render(ctx, model, V2V, shape=VideoShape(width, height, count, video.fps), prompt=prompt,
                                  negative_prompt=negative_prompt, steps=steps, guidance=guidance, shift=shift, seed=seed,
                                  strength=float(strength), video=ctx.video.to_pil(frames))
        pixels = ctx.video.resize_frames(pixels[: video.num_frames], video.width, video.height)
        return {"out": Video(pixels, video.fps, video.audio if keep_audio else None)}


class MaskedEditVideo(ModelNode):
    """Inpainting on Wan VACE: the masked region is regenerated from the prompt; outside it the
    original pixels are pasted back after decoding, so what is kept is exactly the clip."""

    type_id = "masked_edit_video"
    title = "Masked Edit"
    category = "Edit"
    description = ("Regenerates the region a mask covers (still, or one mask per frame) from the prompt and "
                   "keeps the rest of the clip exactly: replace an object, change a sign, remove something. "
                   "Wan VACE.")
    tags = ("inpaint", "mask", "replace", "remove", "vace", "edit", "region")

    video = Input(T.VIDEO, help="The clip to edit (at most 161 frames).")
    mask = Input(T.MASK, help=(
        "The region to regenerate: white (1) is regenerated, black (0) kept. A still mask applies to every "
        "frame; a per-frame mask needs one mask per frame. Stretched to the clip's size if it differs."))
    prompt = Input(T.TEXT, help="What the region should show; describing the whole scene helps it fit in.")
    out = Output(T.VIDEO, label="Video", help="The clip with the masked region regenerated; the rest is the original.")

    model = V.model_param("wan2.1-vace-1.3b", "vace", help="Wan VACE 1.3B (about 10 GB) or 14B (40 GB or more).")
    grow = Param.int(8, min=0, max=128, help=(
        "Pixels to widen the mask by before the model sees it, so the new content has room to blend. "
        "The pasted-back original still starts at the mask's own edge."))
    feather = Param.float(4.0, min=0.0, max=64.0, step=1.0, help=(
        "Softness in pixels of the seam where generated and original meet; the blend stays inside the mask, "
        "so pixels outside it are the original's."))
    resolution = _resolution()
    steps = V.steps_param()
    guidance = V.guidance_param()
    shift = V.shift_param()
    seed = V.seed_param()
    negative_prompt = V.negative_param()
    keep_audio = Param.bool(True, help=_KEEP_AUDIO)

    def run(self, ctx: RunContext, *, video: Any, mask: Any, prompt: str, model: str, grow: int, feather: float,
            resolution: str, seed: int, negative_prompt: str, keep_audio: bool, **params: Any) -> dict[str, Any]:
        from nodes.video_rules import frames_to_run, recommended, VACE, VideoSettingError, VideoShape, working_size
        from nodes.values import Video

        masks = clip_masks(mask, video)
        if not (masks > 0.5).any():
            raise NodeError("input 'mask': the mask is empty (all black): nothing to regenerate")
        try:
            count = frames_to_run(model, video.num_frames)
        except VideoSettingError as exc:
            raise _setting_error(exc) from None
        width, height = working_size(model, video.width, video.height, resolution)
        steps, guidance, shift = recommended(model, params)
        model_masks = ctx.video.pad_frames(resize_masks(grow_masks(masks, grow), width, height), count)
        frames = ctx.video.pad_frames(ctx.video.resize_frames(video.frames, width, height), count)
        pixels = ctx.video.render(ctx, model, VACE, shape=VideoShape(width, height, count, video.fps), prompt=prompt,
                                  negative_prompt=negative_prompt, steps=steps, guidance=guidance, shift=shift, seed=seed,
                                  video=ctx.video.to_pil(frames), mask=ctx.video.mask_to_pil(model_masks))
        generated = ctx.video.resize_frames(pixels[: video.num_frames], video.width, video.height)
        result = ctx.video.composite(video.frames, generated, ctx.video.soft_mask(masks, feather))
        return {"out": Video(result, video.fps, video.audio if keep_audio else None)}


class ExtendVideo(ModelNode):
    """Continues a clip: its last frames condition the model (VACE: kept frames under a black mask;
    LTX-Video: a video condition at frame 0) and the new frames are appended to the clip."""

    type_id = "extend_video"
    title = "Extend Video"
    category = "Edit"
    description = ("Continues a clip for a few more seconds from its last frames, the way the prompt says. "
                   "The result is the whole clip plus the new frames. Wan VACE or LTX-Video.")
    tags = ("extend", "continue", "longer", "outpaint time", "vace", "ltx", "edit")

    video = Input(T.VIDEO, help="The clip to continue.")
    prompt = Input(T.TEXT, help="What happens next; describe the scene as well so it stays the same.")
    out = Output(T.VIDEO, label="Video", help="The whole clip followed by the new frames.")

    model = Param.choice("wan2.1-vace-1.3b", lambda: _extend_models(), help=(
        "Wan VACE 1.3B / 14B: keeps the context frames and generates after them. LTX-Video 0.9.5: conditions "
        "on the context frames as a video keyframe; fast."))
    context_frames = Param.int(9, min=1, max=81, help=(
        "How many of the clip's last frames the model sees to continue from: more keeps motion smoother, "
        "fewer leaves room for new frames. LTX-Video uses 8k+1 of them (1, 9, 17...)."))
    duration_unit = V.duration_unit_param("seconds")
    seconds = Param.float(2.0, min=0.25, max=10.0, step=0.25, help="How much to add, in seconds.")
    frames = Param.int(32, min=1, max=240, help="How many frames to add, when the duration is in frames.")
    resolution = _resolution()
    steps = V.steps_param()
    guidance = V.guidance_param()
    shift = V.shift_param()
    seed = V.seed_param()
    negative_prompt = V.negative_param()
    keep_audio = Param.bool(True, help=_KEEP_AUDIO)

    def run(self, ctx: RunContext, *, video: Any, prompt: str, model: str, context_frames: int, duration_unit: str,
            seconds: float, frames: int, resolution: str, seed: int, negative_prompt: str, keep_audio: bool,
            **params: Any) -> dict[str, Any]:
        import numpy as np

        from nodes.video_rules import EXTEND, recommended, traits_of, VideoShape, working_size
        from nodes.values import Video

        traits = traits_of(model)
        added = int(round(seconds * video.fps)) if duration_unit == "seconds" else int(frames)
        added = max(1, added)
        context = max(1, min(int(context_frames), video.num_frames))
        ltx = traits.latent_space == "ltxv"
        if ltx:  # LTX video conditions are 8k+1 frames long
            context = max(1, (context - 1) // traits.frame_step * traits.frame_step + 1)
        total = traits.snap_frames(context + added)
        if total < context + added:
            total += traits.frame_step
        if total > traits.max_frames:
            raise NodeError(f"parameter 'seconds': {context} context frames plus {added} new ones is more than "
                            f"{traits.name} makes at once ({traits.max_frames}); add less, or extend twice")
        width, height = working_size(model, video.width, video.height, resolution)
        steps, guidance, shift = recommended(model, params)
        tail = ctx.video.resize_frames(video.frames[-context:], width, height)
        shape = VideoShape(width, height, total, video.fps)
        if ltx:

            call = {"conditions": [ctx.video.ltx_condition(video=ctx.video.to_pil(tail), frame_index=0)]}
        else:
            grey = np.full((total - context, height, width, 3), 127, np.uint8)
            masks = np.concatenate([np.zeros((context, height, width), np.float32),
                                    np.ones((total - context, height, width), np.float32)])
            call = {"video": ctx.video.to_pil(np.concatenate([tail, grey])), "mask": ctx.video.mask_to_pil(masks)}
        pixels = ctx.video.render(ctx, model, EXTEND, shape=shape, prompt=prompt, negative_prompt=negative_prompt, steps=steps,
                                  guidance=guidance, shift=shift, seed=seed, **call)
        new = ctx.video.resize_frames(pixels[context:context + added], video.width, video.height)
        new = ctx.video.pad_frames(new, added)
        frames_out = np.concatenate([video.frames, new])
        audio = None
        if keep_audio and video.audio is not None:  # the clip's sound, then silence to the new end
            wanted = int(round(len(frames_out) / video.fps * video.audio.rate))
            audio = ctx.audio.fit_length(video.audio, wanted)
        return {"out": Video(frames_out, video.fps, audio)}


class ImageToMask(NodeType):
    """A mask from a picture: white regions become the mask (paint a mask in any image editor)."""

    type_id = "image_to_mask"
    title = "Image to Mask"
    category = "Edit"
    description = ("Turns a picture into a mask: bright is inside, dark outside (or the other way round). "
                   "Paint the region in any editor, load it with Load Image, convert it here.")
    tags = ("mask", "matte", "region", "threshold", "alpha")

    image = Input(T.IMAGE, help="The picture to read the region from.")
    mask = Output(T.MASK, help="1 inside the region, 0 outside (or grey levels with threshold 0).")

    threshold = Param.float(0.5, min=0.0, max=1.0, step=0.05, help=(
        "Brightness (0-1) above which a pixel is inside. 0 keeps the grey levels as a soft mask."))
    invert = Param.bool(False, help="Dark is inside instead.")

    def run(self, ctx: RunContext, *, image: Any, threshold: float, invert: bool, **_: Any) -> dict[str, Any]:
        import numpy as np

        from nodes.values import Mask

        grey = image.pixels.astype(np.float32).mean(axis=2) / 255.0
        if invert:
            grey = 1.0 - grey
        values = grey if threshold <= 0 else (grey > threshold).astype(np.float32)
        return {"mask": Mask(values)}


# ---- masks ---------------------------------------------------------------------------


def clip_masks(mask: Any, video: Any) -> np.ndarray:
    """The mask as one float mask per frame at the clip's size (F, H, W)."""
    import numpy as np

    import cv2

    values = mask.values
    if values.ndim == 3 and values.shape[0] == 1:
        values = values[0]
    if values.ndim == 3 and values.shape[0] != video.num_frames:
        raise NodeError(f"input 'mask': it has {values.shape[0]} frames and the video {video.num_frames}; "
                        "give a still mask or one mask per frame")
    stills = values[None] if values.ndim == 2 else values
    if stills.shape[1:] != (video.height, video.width):
        stills = np.stack([cv2.resize(m, (video.width, video.height), interpolation=cv2.INTER_LINEAR)
                           for m in stills])
    if stills.shape[0] == 1:
        stills = np.repeat(stills, video.num_frames, axis=0)
    return stills.astype(np.float32)


def grow_masks(masks: np.ndarray, pixels: int) -> np.ndarray:
    import numpy as np

    import cv2

    if pixels <= 0:
        return (masks > 0.5).astype(np.float32)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    return np.stack([cv2.dilate((m > 0.5).astype(np.float32), kernel) for m in masks])


def resize_masks(masks: np.ndarray, width: int, height: int) -> np.ndarray:
    import numpy as np

    import cv2

    if masks.shape[1:] == (height, width):
        return masks
    return np.stack([cv2.resize(m, (width, height), interpolation=cv2.INTER_LINEAR) for m in masks])


def _extend_models() -> tuple[str, ...]:
    from nodes.video_rules import EXTEND, models_for_task
    return models_for_task(EXTEND)
