"""Running diffusers pipelines for nodes: seeds, progress, previews,
cancellation between steps, and counting transformer evaluations."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

from nodes.definition import RunContext
from nodes.values import Audio


class EvaluationCounter:
    """Counts transformer evaluations per sample (``nfe``).

    A pipeline that batches the conditional and unconditional passes into
    one call (Stable Audio) and one that makes two calls (Wan) both count 2
    per guided step, so the figure means the same for every model.
    """

    def __init__(self) -> None:
        self.count = 0

    def hook(self, module: Any, args: tuple, kwargs: dict) -> None:
        hidden = kwargs.get("hidden_states", args[0] if args else None)
        self.count += int(hidden.shape[0]) if hasattr(hidden, "shape") else 1


def denoisers(pipe: Any) -> list[Any]:
    """Every transformer of a pipeline (Wan 2.2 A14B has two experts)."""
    found = []
    for name in ("transformer", "transformer_2", "unet"):
        module = getattr(pipe, name, None)
        if module is not None:
            found.append(module)
    return found


@contextlib.contextmanager
def count_evaluations(pipe: Any) -> Iterator[EvaluationCounter]:
    counter = EvaluationCounter()
    handles = [m.register_forward_pre_hook(counter.hook, with_kwargs=True) for m in denoisers(pipe)]
    try:
        yield counter
    finally:
        for handle in handles:
            handle.remove()


def latent_preview(latents: Any) -> np.ndarray | None:
    """A rough RGB look at video latents (B, C, F, H, W): the middle frame's
    first three channels, stretched to 0-255. Cheap enough for every step."""
    if latents is None or getattr(latents, "ndim", 0) != 5:
        return None
    frame = latents[0, :3, latents.shape[2] // 2].float().cpu().numpy()  # (3, h, w)
    lo = frame.min(axis=(1, 2), keepdims=True)
    hi = frame.max(axis=(1, 2), keepdims=True)
    rgb = ((frame - lo) / np.maximum(hi - lo, 1e-6) * 255).astype(np.uint8).transpose(1, 2, 0)
    return np.repeat(np.repeat(rgb, 8, axis=0), 8, axis=1)


def generator(seed: int) -> Any:
    import torch
    # A CPU generator gives the same noise on every device, so a seed means
    # the same thing on the artist's GPU and on the render farm.
    return torch.Generator(device="cpu").manual_seed(int(seed))


def run_denoiser(ctx: RunContext, pipe: Any, *, steps: int, legacy_callback: bool = False,
                 preview: Any = latent_preview, **call: Any) -> Any:
    """Call a diffusers pipeline the way every model node should.

    Reports each step (with a preview of the latents) to the engine, which
    is also where a cancel request is noticed: ``ctx.progress`` raises
    Cancelled, which unwinds out of the pipeline between two steps. Counts
    transformer evaluations into ``ctx.stats["nfe"]``. ``legacy_callback`` is
    for pipelines that only have the old ``callback``/``callback_steps``
    (Stable Audio, AudioLDM2).
    """
    ctx.check_cancelled()
    if legacy_callback:
        def on_legacy_step(i: int, _t: Any, latents: Any) -> None:
            ctx.progress(i + 1, steps, preview=preview(latents) if preview else None)

        call.update(callback=on_legacy_step, callback_steps=1)
    else:
        def on_step(_pipe: Any, i: int, _t: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            ctx.progress(i + 1, steps, preview=preview(tensors.get("latents")) if preview else None)
            return {}

        call.update(callback_on_step_end=on_step, callback_on_step_end_tensor_inputs=["latents"])
    with count_evaluations(pipe) as nfe:
        result = pipe(num_inference_steps=steps, **call)
    ctx.stats["nfe"] = nfe.count
    return result


def frames_to_uint8(frames: Any) -> np.ndarray:
    """A pipeline's ``output_type="np"`` frames (floats in 0-1) as uint8 RGB."""
    frames = np.asarray(frames, dtype=np.float32)
    return (np.clip(frames, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def generate_video(ctx: RunContext, model_id: str, *, prompt: str, negative_prompt: str, width: int, height: int,
                   num_frames: int, steps: int, guidance: float, seed: int, **extra: Any) -> np.ndarray:
    pipe = ctx.pipeline(model_id)
    result = run_denoiser(ctx, pipe, steps=steps, prompt=prompt,
                          negative_prompt=negative_prompt if guidance > 1.0 else None,
                          width=width, height=height, num_frames=num_frames, guidance_scale=guidance,
                          generator=generator(seed), output_type="np", **extra)
    return frames_to_uint8(result.frames[0])


def fit_length(samples: np.ndarray, wanted: int) -> np.ndarray:
    """Cut or pad (with silence) ``(channels, n)`` samples to exactly ``wanted``."""
    if samples.shape[1] >= wanted:
        return samples[:, :wanted]
    return np.pad(samples, ((0, 0), (0, wanted - samples.shape[1])))


def generate_audio(ctx: RunContext, model_id: str, *, prompt: str, negative_prompt: str, seconds: float,
                   steps: int, guidance: float, seed: int) -> Audio:
    pipe = ctx.pipeline(model_id)
    result = run_denoiser(ctx, pipe, steps=steps, legacy_callback=True, preview=None, prompt=prompt,
                          negative_prompt=negative_prompt if guidance > 1.0 else None,
                          audio_end_in_s=float(seconds), guidance_scale=guidance, generator=generator(seed),
                          output_type="np")
    samples = np.asarray(result.audios[0], dtype=np.float32)
    rate = int(pipe.vae.sampling_rate)
    # The model works in latent frames; cut or pad to exactly what was asked.
    return Audio(np.clip(fit_length(samples, int(round(seconds * rate))), -1.0, 1.0), rate)
