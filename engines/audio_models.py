"""Running the sound-making pipelines: one call for every audio model, and LTX-2.

Each diffusers audio pipeline names its arguments differently (Stable Audio
``audio_end_in_s``, LongCat ``audio_duration_s``, ACE-Step ``audio_duration``)
and returns a different layout; here they become one ``generate_sound`` that
returns an Audio of exactly the asked length. Every call goes through
``engines.diffusion.run_denoiser`` (progress, cancel between steps, evaluation
counts).

How long a sound each model makes is domain data (nodes/sound_rules.py). Node
bodies reach this module as ``ctx.sound`` (nodes/services.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nodes.definition import NodeError, RunContext
from nodes.values import Audio

from nodes.sound_rules import check_length


def exact_length(samples: np.ndarray, seconds: float, rate: int) -> Audio:
    """A model's samples as an Audio of exactly ``seconds``: models work in latent frames,
    so their output is cut or padded with silence to what was asked, and clipped to [-1, 1]."""
    from engines.audio_ops import fit_length

    audio = fit_length(Audio(samples, rate), int(round(seconds * rate)))
    return Audio(np.clip(audio.samples, -1.0, 1.0), rate)


def generate_sound(ctx: RunContext, model_id: str, *, prompt: str, negative_prompt: str, seconds: float,
                   steps: int, guidance: float, seed: int, lyrics: str = "", bpm: int = 0,
                   keyscale: str = "") -> Audio:
    """``seconds`` of sound from ``prompt`` with any text-to-audio model of the catalogue.

    The result has exactly ``round(seconds x rate)`` samples at the model's
    own rate (44.1 kHz stereo for Stable Audio, 24 kHz mono for LongCat,
    48 kHz stereo for ACE-Step). ``lyrics``, ``bpm`` and ``keyscale`` only
    matter to music models (ACE-Step).
    """
    from engines.diffusion import generate_audio, generator, run_denoiser
    from nodes.model_catalogue import get_spec

    problem = check_length(model_id, seconds)
    if problem:
        raise NodeError(problem)
    kind = get_spec(model_id).pipeline_class
    if kind == "StableAudioPipeline":
        return generate_audio(ctx, model_id, prompt=prompt, negative_prompt=negative_prompt, seconds=seconds,
                              steps=steps, guidance=guidance, seed=seed)
    pipe = ctx.pipeline(model_id)
    negative = negative_prompt if guidance > 1.0 else None
    if kind == "LongCatAudioDiTPipeline":
        rate, hop = int(pipe.sample_rate), int(pipe.vae_scale_factor)
        # The pipeline makes floor(s x rate / hop) latent frames; ask for the
        # next whole frame so nothing is padded with silence, then cut.
        frames = max(1, math.ceil(seconds * rate / hop))
        result = run_denoiser(ctx, pipe, steps=steps, preview=None, prompt=prompt, negative_prompt=negative,
                              audio_duration_s=(frames * hop + 0.5) / rate, guidance_scale=guidance,
                              generator=generator(seed), output_type="np")
        return exact_length(np.asarray(result.audios)[0], seconds, rate)
    if kind == "AceStepPipeline":
        rate = int(pipe.sample_rate)
        extra: dict[str, Any] = {}
        if bpm:
            extra["bpm"] = int(bpm)
        if keyscale.strip():
            extra["keyscale"] = keyscale.strip()
        # ACE-Step's Oobleck decode comes back a little short of the asked
        # length (128 samples on the twin); ask for one latent frame more.
        ask = seconds + 1.0 / pipe.latents_per_second
        result = run_denoiser(ctx, pipe, steps=steps, preview=None, prompt=prompt, lyrics=lyrics or "",
                              audio_duration=ask, guidance_scale=guidance, generator=generator(seed),
                              output_type="np", **extra)
        audios = result.audios
        audios = audios.float().cpu().numpy() if hasattr(audios, "cpu") else np.asarray(audios)
        return exact_length(audios[0], seconds, rate)
    raise NodeError(f"{model_id} ({kind}) is not a text-to-audio model")


# --------------------------------------------------------------------------
# LTX-2: picture and sound together


LTX2_NEGATIVE = "worst quality, inconsistent motion, blurry, jittery, distorted, static, low quality audio"


def ltx2_preview(frames: int, height: int, width: int):
    """A preview function for LTX-2's packed latents ``(B, F*H*W, C)``: unpack
    to ``(B, C, F, H, W)`` on the 32x32 latent grid, then the usual look at
    the middle frame."""
    from engines.diffusion import latent_preview

    lf, lh, lw = (frames - 1) // 8 + 1, height // 32, width // 32

    def preview(latents: Any):
        if latents is None or getattr(latents, "ndim", 0) != 3 or latents.shape[1] != lf * lh * lw:
            return None
        grid = latents.reshape(latents.shape[0], lf, lh, lw, latents.shape[2]).permute(0, 4, 1, 2, 3)
        image = latent_preview(grid)
        if image is None:
            return None
        return np.repeat(np.repeat(image, 4, axis=0), 4, axis=1)  # 8 x 4 = the VAE's 32x

    return preview


def generate_video_with_sound(ctx: RunContext, model_id: str, *, prompt: str, negative_prompt: str, width: int,
                              height: int, frames: int, fps: float, steps: int, guidance: float,
                              audio_guidance: float, stg: float, modality: float,
                              seed: int) -> tuple[np.ndarray, Audio]:
    """Frames (uint8) and their sound (exactly ``frames / fps`` seconds) from LTX-2."""
    from engines.diffusion import frames_to_uint8, generator, run_denoiser

    pipe = ctx.pipeline(model_id)
    video, audio = run_denoiser(
        ctx, pipe, steps=steps, preview=ltx2_preview(frames, height, width),
        prompt=prompt, negative_prompt=negative_prompt if guidance > 1.0 else None,
        width=width, height=height, num_frames=frames, frame_rate=float(fps),
        guidance_scale=guidance, audio_guidance_scale=audio_guidance,
        stg_scale=stg, audio_stg_scale=stg,
        # LTX-2.0's authors apply spatio-temporal guidance at block 29.
        spatio_temporal_guidance_blocks=[29] if stg > 0 else None,
        modality_scale=modality, audio_modality_scale=modality,
        generator=generator(seed), output_type="np", return_dict=False,
    )
    pixels = frames_to_uint8(np.asarray(video)[0])
    # The sound comes back as a tensor even with output_type="np".
    samples = audio[0].float().cpu().numpy() if hasattr(audio, "cpu") else np.asarray(audio)[0]
    rate = int(pipe.vocoder.config.output_sampling_rate)
    return pixels, exact_length(samples, frames / float(fps), rate)
