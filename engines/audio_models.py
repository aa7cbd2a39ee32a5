"""Running the sound-making pipelines: one call for every audio model, and LTX-2.

Each diffusers audio pipeline names its arguments differently (Stable Audio
``audio_end_in_s``, LongCat ``audio_duration_s``, ACE-Step ``audio_duration``)
and returns a different layout; here they become one ``generate_sound`` that
returns an Audio of exactly the asked length. Every call goes through
``engines.diffusion.run_denoiser`` (progress, cancel between steps, evaluation
counts).

Importing this module is cheap (no torch): nodes read :data:`MAX_SECONDS` in
their checks.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nodes.definition import NodeError, RunContext
from nodes.values import Audio

# The longest sound one call of each pipeline makes. Stable Audio Open's DiT
# window is 1024 latents of 2048 samples at 44.1 kHz; LongCat's pipeline
# caps at 30 s; ACE-Step 1.5 makes songs of up to 10 minutes.
MAX_SECONDS = {
    "StableAudioPipeline": 47.0,
    "LongCatAudioDiTPipeline": 30.0,
    "AceStepPipeline": 600.0,
}


def seconds_range(model_id: str) -> tuple[float, float]:
    """The shortest and longest sound one call of ``model_id`` makes."""
    from nodes.model_catalogue import get_spec

    if model_id == "sketch-sound":  # trained on 1-4 s clips of the sketch sound world
        from engines.sketch.sounds import MAX_SECONDS as LONGEST, MIN_SECONDS as SHORTEST

        return float(SHORTEST), float(LONGEST)
    return 0.0, MAX_SECONDS.get(get_spec(model_id).pipeline_class, 47.0)


def max_seconds(model_id: str) -> float:
    return seconds_range(model_id)[1]


def check_length(model_id: str, seconds: float, what: str = "asked for") -> str | None:
    """Why ``seconds`` is too long (or, for a model trained on a range, too short) for ``model_id``, or None."""
    from nodes.model_catalogue import UnknownModelError, get_spec

    try:
        title = get_spec(model_id).title
    except UnknownModelError:
        return None
    shortest, limit = seconds_range(model_id)
    if seconds > limit + 1e-9:
        lead = f"{title} was trained on {shortest:g}-{limit:g} s sounds" if shortest else \
            f"{title} makes at most {limit:g} s in one go"
        return f"{lead}; {what} {seconds:.2f} s"
    if seconds < shortest - 1e-9:
        return f"{title} was trained on {shortest:g}-{limit:g} s sounds; {what} {seconds:.2f} s"
    return None


def _exact(samples: np.ndarray, seconds: float, rate: int) -> Audio:
    from engines.diffusion import fit_length

    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 1:
        samples = samples[None]
    return Audio(np.clip(fit_length(samples, int(round(seconds * rate))), -1.0, 1.0), rate)


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
        return _exact(np.asarray(result.audios)[0], seconds, rate)
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
        return _exact(audios[0], seconds, rate)
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
                              audio_guidance: float, stg: float, modality: float, seed: int):
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
    return pixels, _exact(samples, frames / float(fps), rate)
