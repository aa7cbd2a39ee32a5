"""Step previews: a cheap RGB look at the latents after every denoising step.

A fitted linear projection per latent space: ``rgb = W @ latent + b`` with W
3xC, applied to one latent frame and enlarged. Microseconds per step, no
extra weights, close enough to the decoded colours to judge composition and
motion while the model is still working.

The factors live in ``engines/preview_factors.json``, keyed by latent space
(Wan 2.1's 16 channels, Wan 2.2's 48, LTX-Video's 128, CogVideoX's 16, the sketch model's 8)
and by model profile (the sketch model ships with Weft, so its factors, under "any", serve every profile):
"tiny" factors are fitted to the random-weight twins (for tests and the
offline demo, where they say nothing about real colours); "default" factors
must be fitted once on a GPU with the real weights, with
``python bench/fit_previews.py --models default``. Until they are, a latent
space without fitted factors shows false colours: its three strongest
principal components, which still show shapes and motion.

How each pipeline hands over its latents differs (see
diffusers-video-audio.md section 5.2); ``latents_5d`` undoes it: VACE's
reference frames come first and are dropped, LTX-Video's latents arrive
packed as tokens and are unpacked, CogVideoX's are frame-major.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

FACTORS_FILE = Path(__file__).with_name("preview_factors.json")
PREVIEW_SIDE = 256  # longest side of a preview image, in pixels
# A fit that explains less of the colour than this (R^2, averaged over R, G, B)
# is not used. The random-weight Wan 2.1 twin's encoder keeps almost no
# colour in a linear form (R^2 ~ 0.01); its previews use false colours.
MIN_R2 = 0.1


@dataclass(frozen=True)
class Projection:
    weights: np.ndarray  # (3, C)
    bias: np.ndarray  # (3,)

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """(C, h, w) latents -> (h, w, 3) uint8."""
        rgb = np.tensordot(self.weights, frame, axes=([1], [0])) + self.bias[:, None, None]
        return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).transpose(1, 2, 0)


@functools.lru_cache(maxsize=1)
def _all_factors() -> dict[str, Any]:
    try:
        return json.loads(FACTORS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def projection(space: str, profile: str, channels: int) -> Projection | None:
    """The fitted projection for a latent space and model profile, if one exists with that width
    and explains enough of the colour (``MIN_R2``)."""
    fitted = _all_factors().get(space, {})
    entry = fitted.get(profile) or fitted.get("any")  # "any": a shipped model, the same in every profile
    if not entry:
        return None
    if float(np.mean(entry.get("r2", [1.0]))) < MIN_R2:
        return None  # the latents carry too little colour linearly: false colours show more
    weights = np.asarray(entry["weights"], dtype=np.float32)
    if weights.shape != (3, channels):
        return None
    return Projection(weights, np.asarray(entry["bias"], dtype=np.float32))


def false_colour(frame: np.ndarray) -> np.ndarray:
    """(C, h, w) latents -> (h, w, 3) uint8 from their three principal components.

    Used where no projection was fitted: the colours are arbitrary but stable
    within a frame, and edges, shapes and motion show.
    """
    c, h, w = frame.shape
    flat = frame.reshape(c, -1).astype(np.float64)
    flat = flat - flat.mean(axis=1, keepdims=True)
    # The principal directions from the C x C covariance (eigh of 16-128 channels),
    # not an SVD of every latent pixel: this runs between two denoising steps.
    try:
        _, vectors = np.linalg.eigh(flat @ flat.T)
    except np.linalg.LinAlgError:
        return np.zeros((h, w, 3), np.uint8)
    comps = vectors[:, ::-1][:, :3].T @ flat
    if comps.shape[0] < 3:
        comps = np.concatenate([comps, np.zeros((3 - comps.shape[0], comps.shape[1]))])
    lo = np.percentile(comps, 2, axis=1, keepdims=True)
    hi = np.percentile(comps, 98, axis=1, keepdims=True)
    rgb = np.clip((comps - lo) / np.maximum(hi - lo, 1e-6), 0.0, 1.0)
    return (rgb.reshape(3, h, w).transpose(1, 2, 0) * 255.0 + 0.5).astype(np.uint8)


def enlarge(rgb: np.ndarray, side: int = PREVIEW_SIDE) -> np.ndarray:
    """A latent-grid image scaled up (bilinear) so its longest side is about ``side``.

    Pillow, not OpenCV: OpenCV's thread pool would wake between two denoising
    steps and compete with torch for the cores; Pillow resizes on this thread.
    """
    from PIL import Image as PILImage

    h, w = rgb.shape[:2]
    scale = max(1, side // max(h, w))
    enlarged = PILImage.fromarray(np.ascontiguousarray(rgb)).resize((w * scale, h * scale), PILImage.BILINEAR)
    return np.asarray(enlarged)


# ---- getting (B, C, F, H, W) latents out of each pipeline's callback ------------


@dataclass(frozen=True)
class LatentLayout:
    """How a pipeline's callback latents map to video latents."""

    kind: str  # "bcfhw" (Wan), "packed" (LTX tokens), "bfchw" (CogVideoX)
    frames: int = 0  # latent frames (needed to unpack tokens)
    height: int = 0  # latent rows
    width: int = 0  # latent columns
    skip_frames: int = 0  # leading latent frames that are not the video (VACE's references)


def latents_5d(latents: Any, layout: LatentLayout) -> np.ndarray | None:
    """The callback tensor as a float32 numpy (C, F, H, W) for the first sample, or None."""
    if latents is None or not hasattr(latents, "shape"):
        return None
    x = latents.detach()[0].float().cpu().numpy()
    if layout.kind == "packed":
        tokens = layout.frames * layout.height * layout.width
        if x.ndim != 2 or x.shape[0] < tokens:
            return None
        # Conditioning tokens of extra keyframes come first; the video's are last.
        x = x[-tokens:].reshape(layout.frames, layout.height, layout.width, -1).transpose(3, 0, 1, 2)
    elif layout.kind == "bfchw":
        if x.ndim != 4:
            return None
        x = x.transpose(1, 0, 2, 3)
    elif x.ndim != 4:
        return None
    if layout.skip_frames:
        x = x[:, layout.skip_frames:]
    return x if x.shape[1] else None


def make_preview(space: str, profile: str, layout: LatentLayout = LatentLayout("bcfhw"),
                 side: int = PREVIEW_SIDE) -> Callable[[Any], np.ndarray | None]:
    """A ``preview`` function for ``run_denoiser``: latents -> uint8 RGB of the middle frame."""

    def preview(latents: Any) -> np.ndarray | None:
        x = latents_5d(latents, layout)
        if x is None:
            return None
        frame = x[:, x.shape[1] // 2]
        proj = projection(space, profile, frame.shape[0])
        rgb = proj.apply(frame) if proj is not None else false_colour(frame)
        return enlarge(rgb, side)

    return preview


def preview_for(ctx: Any, model_id: str, *, width: int, height: int, frames: int,
                reference_frames: int = 0) -> Callable[[Any], np.ndarray | None]:
    """The preview function for a call of ``model_id`` at this size and length."""
    from nodes.video_rules import traits_of

    traits = traits_of(model_id)
    profile = getattr(ctx, "models_profile", "default")
    if traits.latent_space == "ltxv":
        layout = LatentLayout("packed", (frames - 1) // 8 + 1, height // 32, width // 32)
    elif traits.latent_space == "cogvideox":
        layout = LatentLayout("bfchw")
    else:
        layout = LatentLayout("bcfhw", skip_frames=reference_frames)
    return make_preview(traits.latent_space, profile, layout)


__all__ = ["LatentLayout", "Projection", "enlarge", "false_colour", "latents_5d", "make_preview",
           "preview_for", "projection"]
