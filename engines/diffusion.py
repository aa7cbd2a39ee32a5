"""Running diffusers pipelines for nodes: seeds, progress, previews,
cancellation between steps and inside them (between transformer blocks),
and counting transformer evaluations."""

from __future__ import annotations

from typing import Any

import numpy as np

from nodes.definition import NodeError, RunContext
from nodes.values import Audio


def denoisers(pipe: Any) -> list[Any]:
    """Every transformer of a pipeline (Wan 2.2 A14B has two experts)."""
    found = []
    for name in ("transformer", "transformer_2", "unet"):
        module = getattr(pipe, name, None)
        if module is not None:
            found.append(module)
    return found


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


# ModuleLists whose members are where a cancel is noticed inside a step: the
# transformer's blocks (engines.accel.counting.BLOCK_LISTS) and a UNet's or a
# VAE decoder's stages, so a long step or a long decode stops within a block.
CANCEL_LISTS = ("down_blocks", "up_blocks", "resnets")


class CancelInsideSteps:
    """Forward pre-hooks that call ``ctx.check_cancelled()`` before every transformer
    block and each of its parts (and every UNet / VAE stage) of a pipeline: a cancel raises ``Cancelled``
    out of the pipeline mid-step, instead of after the step's last block. A step of
    a real model takes seconds; a block, a small fraction of that."""

    def __init__(self, ctx: RunContext, pipe: Any):
        self.ctx, self.pipe = ctx, pipe
        self.handles: list[Any] = []

    def modules(self) -> list[Any]:
        import torch

        from engines.accel.counting import BLOCK_LISTS

        found: list[Any] = []
        roots = denoisers(self.pipe) + [m for m in (getattr(self.pipe, "vae", None),) if m is not None]
        for root in roots:
            if not isinstance(root, torch.nn.Module):
                continue
            found.append(root)
            for name, module in root.named_modules():
                if isinstance(module, torch.nn.ModuleList) and name.rpartition(".")[2] in BLOCK_LISTS + CANCEL_LISTS:
                    for block in module:
                        # The block, and its parts (self-attention, cross-attention, feed-forward):
                        # one block of a small model on a CPU can take a good part of a second.
                        found.append(block)
                        found.extend(block.children())
        return found

    def __enter__(self) -> "CancelInsideSteps":
        check = self.ctx.check_cancelled

        def before_block(_module: Any, _args: Any) -> None:
            check()

        for module in self.modules():
            # A compiled block (GPU option ``compile``) would break its graph on
            # the check: there the cancel waits for the transformer's next call.
            if getattr(module, "_compiled_call_impl", None) is not None:
                continue
            self.handles.append(module.register_forward_pre_hook(before_block))
        return self

    def __exit__(self, *exc: Any) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []


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
    Cancelled, which unwinds out of the pipeline between two steps, and
    ``CancelInsideSteps`` checks before every transformer block, so a cancel
    stops a step half-way (within a block, not a step). Applies
    the node's speed switches (``ctx.params``: adaptive guidance, a block
    cache, a LoRA; see engines/accel) for this call only, and reports what
    ran in ``ctx.stats``: ``nfe`` (transformer evaluations), ``block_evals``,
    ``steps``. ``legacy_callback`` is for pipelines that only have the old
    ``callback``/``callback_steps`` (Stable Audio, AudioLDM2).

    On a GPU, running out of memory moves the model to a lighter placement
    (model offload, then group offload with VAE tiling) and tries once more.
    """
    from engines.accel.session import NodeAcceleration

    ctx.check_cancelled()
    for attempt in (1, 2):
        with NodeAcceleration(ctx, pipe, steps=steps, call=call) as accel:
            total = accel.steps
            if legacy_callback:
                def on_legacy_step(i: int, _t: Any, latents: Any) -> None:
                    ctx.progress(i + 1, total, preview=preview(latents) if preview else None)

                call.update(callback=on_legacy_step, callback_steps=1)
            else:
                def on_step(_pipe: Any, i: int, _t: Any, tensors: dict[str, Any]) -> dict[str, Any]:
                    ctx.progress(i + 1, total, preview=preview(tensors.get("latents")) if preview else None)
                    return {}

                call.update(callback_on_step_end=on_step, callback_on_step_end_tensor_inputs=["latents"])
            try:
                with CancelInsideSteps(ctx, pipe):
                    result = pipe(num_inference_steps=total, **accel.call)
            except Exception as exc:
                if attempt == 2 or not _is_out_of_memory(exc):
                    raise
                result = None
        if result is not None:
            ctx.stats.update(accel.stats())
            return result
        # Out of GPU memory: the hooks are off again; place the model lighter.
        from engines.models.manager import relieve_memory

        placement = relieve_memory(pipe)
        if placement is None:
            raise NodeError("out of GPU memory, and the model is already in its lightest placement; "
                            "lower the resolution or the number of frames")
        ctx.stats["memory_fallback"] = placement
    raise AssertionError("unreachable")


def _is_out_of_memory(exc: BaseException) -> bool:
    import sys
    torch = sys.modules.get("torch")
    oom = getattr(torch, "OutOfMemoryError", None) if torch is not None else None
    return oom is not None and isinstance(exc, oom)


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


def generate_audio(ctx: RunContext, model_id: str, *, prompt: str, negative_prompt: str, seconds: float,
                   steps: int, guidance: float, seed: int) -> Audio:
    pipe = ctx.pipeline(model_id)
    result = run_denoiser(ctx, pipe, steps=steps, legacy_callback=True, preview=None, prompt=prompt,
                          negative_prompt=negative_prompt if guidance > 1.0 else None,
                          audio_end_in_s=float(seconds), guidance_scale=guidance, generator=generator(seed),
                          output_type="np")
    samples = np.asarray(result.audios[0], dtype=np.float32)
    rate = int(pipe.vae.sampling_rate)
    from engines.audio_models import exact_length

    return exact_length(samples, seconds, rate)
