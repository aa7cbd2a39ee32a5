"""Train sketch-sound: a Stable Audio-architecture text-to-audio model of the sketch sound world.

    python -m engines.sketch.train_sound --run RUN_DIR --out engines/sketch/weights/sketch-sound
        [--minutes M] [--threads N] [--stage vae|latents|dit|all] [--set FIELD=VALUE ...]

Three stages, each resumable (a stopped run continues exactly where it was;
run the same command again):

1. **vae**: a small `AutoencoderOobleck` (mono, 16 kHz, hop 128 samples in
   one stage, 16 latent channels at 125 frames/s) learns to reconstruct crops
   of sketch sounds with a waveform squared error relative to each crop's
   power (so quiet sounds count). It is trained as a plain autoencoder on
   the posterior mean (a small L2 pull on the latents; they are normalised
   afterwards anyway). Deep Oobleck stacks with 4 latent channels and
   multi-resolution STFT losses collapsed to silence in the minutes this CPU
   has; a one-stage, wide-latent autoencoder that starts near a lapped linear
   transform learns in minutes. (The STFT loss is still logged.)
2. **latents**: a fixed set of captioned clips (1-4 s, silence-padded to the
   model's 4.096 s window, as Stable Audio trains) is encoded once. The
   per-channel mean and spread are then folded into the VAE's encoder output
   and decoder input convolutions, so the latents the pipeline sees are
   zero-mean and unit-spread: StableAudioPipeline has no latent scaling
   factor, and its scheduler assumes `sigma_data` = 1.
3. **dit**: a `StableAudioDiTModel`, a small `T5EncoderModel` (word-level
   tokenizer over the sketch sound vocabulary) and the
   `StableAudioProjectionModel` learn the objective of the scheduler
   StableAudioPipeline runs, `CosineDPMSolverMultistepScheduler` with
   v-prediction under EDM preconditioning:

       x = x0 + sigma * noise,   model input x / sqrt(sigma^2 + 1),
       timestep atan(sigma) * 2 / pi,
       target v = (noise - sigma * x0) / sqrt(sigma^2 + 1)

   (the scheduler's `precondition_outputs` then gives back
   x0 = x / (sigma^2 + 1) - sigma / sqrt(sigma^2 + 1) * v). The conditioning is
   built exactly as the pipeline builds it: the caption padded to the
   tokenizer's `model_max_length`, seconds_start/seconds_end as cross-
   attention tokens and as the global token. 10% of captions are dropped for
   classifier-free guidance, half to all-zero cross-attention states (what the
   pipeline uses when no negative prompt is given) and half to the empty
   prompt (its `negative_prompt=""` path). Every `eval_every` steps the current
   weights are saved as a pipeline, 16 fresh prompts are generated through
   `StableAudioPipeline`, judged, and the score goes to scores.csv.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engines.sketch import sounds
from engines.sketch.training import TrainingRun, load_recipe


@dataclass(frozen=True)
class Recipe:
    rate: int = 16000
    # VAE
    ratios: tuple = (128,)  # hop = 128 samples, in one stage
    latent: int = 16
    multiples: tuple = (2,)
    decoder_channels: int = 16
    vae_crop: int = 4096  # samples per training crop (0.26 s)
    vae_batch: int = 4
    vae_steps: int = 1500
    vae_lr: float = 1e-3
    latent_l2: float = 1e-3
    # latents
    sample_size: int = 512  # latent frames: 512 * 128 / 16000 = 4.096 s
    clips: int = 1200
    # DiT
    heads: int = 2
    head_dim: int = 32
    kv_heads: int = 1
    layers: int = 4
    cross_dim: int = 64
    text_dim: int = 64
    text_layers: int = 2
    max_tokens: int = 16
    dit_batch: int = 8
    dit_steps: int = 3600
    dit_lr: float = 1e-3
    warmup: int = 200
    drop_caption: float = 0.1
    eval_every: int = 500
    eval_prompts: int = 16
    eval_steps: int = 25
    guidance: float = 5.0


# Seeds: VAE crops come from rng seed 0; training clips use scenes from rng seed 1
# and clip seeds 0..clips-1; evaluation during training uses scenes from rng seed 7,
# clip lengths from rng seed 8 and generator seeds from 1_000_000; the shipped-weights
# judge test draws from its own (tests/sketch/test_sketch_sound_judge.py).
TRAIN_SCENES_SEED = 1
EVAL_SCENES_SEED = 7
SIGMA_MIN, SIGMA_MAX = 0.3, 500.0
MAX_SECONDS_CONDITION = 5  # the projection model's max_value (>= the 4.096 s window)


def window_seconds(r: Recipe) -> float:
    return r.sample_size * int(np.prod(r.ratios)) / r.rate


# --- components ---------------------------------------------------------------------


def make_tokenizer(r: Recipe):
    """A word-level tokenizer over the sketch sound vocabulary."""
    from engines.sketch.training import word_tokenizer

    return word_tokenizer(sounds.VOCABULARY, max_length=r.max_tokens)


def make_vae(r: Recipe):
    from diffusers import AutoencoderOobleck

    import torch

    vae = AutoencoderOobleck(encoder_hidden_size=2 * r.latent, downsampling_ratios=list(r.ratios),
                             channel_multiples=list(r.multiples), decoder_channels=r.decoder_channels,
                             decoder_input_channels=r.latent, audio_channels=1, sampling_rate=r.rate)
    # Residual units start as (nearly) the identity, so the autoencoder starts
    # as a lapped linear transform and learns from there.
    with torch.no_grad():
        for name, module in vae.named_modules():
            if name.endswith("conv2") and hasattr(module, "weight_g") and ".res_unit" in name:
                module.weight_g.mul_(1e-3)
    return vae


def make_text_encoder(r: Recipe, vocab: int):
    from transformers import T5Config, T5EncoderModel

    return T5EncoderModel(T5Config(vocab_size=vocab, d_model=r.text_dim, d_kv=16, d_ff=r.text_dim * 2,
                                   num_layers=r.text_layers, num_heads=4, relative_attention_num_buckets=8,
                                   dropout_rate=0.0))


def make_projection(r: Recipe):
    from diffusers.pipelines.stable_audio import StableAudioProjectionModel

    return StableAudioProjectionModel(text_encoder_dim=r.text_dim, conditioning_dim=r.cross_dim, min_value=0,
                                      max_value=MAX_SECONDS_CONDITION)


def make_transformer(r: Recipe):
    from diffusers import StableAudioDiTModel

    return StableAudioDiTModel(sample_size=r.sample_size, in_channels=r.latent, out_channels=r.latent,
                               num_layers=r.layers, attention_head_dim=r.head_dim, num_attention_heads=r.heads,
                               num_key_value_attention_heads=r.kv_heads, cross_attention_dim=r.cross_dim,
                               time_proj_dim=64, global_states_input_dim=2 * r.cross_dim,
                               cross_attention_input_dim=r.cross_dim)


def make_scheduler():
    from diffusers import CosineDPMSolverMultistepScheduler

    # The real stable-audio-open-1.0 scheduler settings.
    return CosineDPMSolverMultistepScheduler(sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX, sigma_data=1.0,
                                             sigma_schedule="exponential", solver_order=2,
                                             prediction_type="v_prediction", rho=7.0, final_sigmas_type="zero")


# --- stage 1: the VAE ---------------------------------------------------------------


def stft_loss(rec, x):
    """Multi-resolution STFT loss: spectral convergence + log-magnitude L1 at three resolutions."""
    import torch

    total = 0.0
    for n_fft in (1024, 256, 64):
        win = torch.hann_window(n_fft)
        S = [torch.stft(a.squeeze(1), n_fft, n_fft // 4, window=win, return_complex=True).abs() for a in (rec, x)]
        # +1 keeps a batch of near-silent crops from dividing by ~0 (one did, and its
        # step wrecked the optimiser's moments); real batches have norms in the 100s.
        sc = torch.linalg.norm(S[1] - S[0]) / (torch.linalg.norm(S[1]) + 1.0)
        # eps 1e-2 is far below the quiet level's bins (~0.1-15) but does not make
        # the model chase exact digital silence, which pulled it to output nothing.
        logmag = (torch.log(S[0] + 1e-2) - torch.log(S[1] + 1e-2)).abs().mean()
        total = total + sc + logmag
    return total


def vae_batch(r: Recipe, rng: np.random.Generator) -> np.ndarray:
    """Random crops of random sketch sounds (crops start anywhere, so silence and edges are seen too)."""
    out = np.zeros((r.vae_batch, 1, r.vae_crop), np.float32)
    for i in range(r.vae_batch):
        scene = sounds.random_sound_scene(rng)
        seconds = sounds.random_seconds(rng)
        audio = sounds.render(scene, int(rng.integers(1 << 30)), seconds, r.rate)
        start = int(rng.integers(0, max(1, len(audio) - r.vae_crop // 2)))
        piece = audio[start:start + r.vae_crop]
        out[i, 0, :len(piece)] = piece
    return out


def train_vae(r: Recipe, run_dir: Path, minutes: float | None) -> None:
    import torch

    folder = run_dir / "vae"
    if (folder / "done").exists():
        return
    torch.manual_seed(0)
    vae = make_vae(r)
    opt = torch.optim.AdamW(vae.parameters(), lr=r.vae_lr, weight_decay=0.0, betas=(0.8, 0.99))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 50) * max(0.05, 0.5 * (
        1 + math.cos(math.pi * min(s, r.vae_steps) / r.vae_steps))))
    rng = np.random.default_rng(0)
    run = TrainingRun(folder, {"vae": vae, "opt": opt, "sched": sched}, total_steps=r.vae_steps, rng=rng,
                      title="sketch-sound VAE")
    run.resume()
    vae.train()
    for step in run.steps(save_every=50, minutes=minutes):
        x = torch.from_numpy(vae_batch(r, rng))
        posterior = vae.encode(x).latent_dist
        rec = vae.decode(posterior.mean).sample
        with torch.no_grad():
            spec = stft_loss(rec, x)
        l1 = (rec - x).abs().mean()
        l2 = posterior.mean.pow(2).mean()
        # Waveform error relative to each crop's power (floor -40 dBFS), so quiet
        # sounds count as much as loud ones; the STFT loss is logged, not trained
        # on: as a training loss it drove every attempt on this CPU to silence.
        err = (rec - x).pow(2).mean(dim=(1, 2)) / (x.pow(2).mean(dim=(1, 2)) + 1e-4)
        loss = err.mean() + r.latent_l2 * l2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 10.0)
        opt.step()
        sched.step()
        if step % 10 == 0:
            run.record_loss(loss=loss.item(), stft=spec.item(), l1=l1.item(), latent_l2=l2.item())
            run.show_loss(f"stft {spec.item():.3f}")
    if run.step >= r.vae_steps:
        vae.eval().save_pretrained(folder / "model")
        roundtrip = vae_round_trip(r, vae)
        (folder / "done").write_text(json.dumps({"seconds": run.elapsed(), **roundtrip}))
        run.log(f"VAE done in {run.elapsed() / 60:.1f} min; judge on {roundtrip['clips']} encoded-decoded clips: "
                f"{roundtrip['judge']:.2f} (content {roundtrip['content']:.2f})")


VAE_CHECK_SEED = 99  # scenes for the VAE's own round-trip check; clip seeds from 2_000_000


def vae_round_trip(r: Recipe, vae, clips: int = 48) -> dict:
    """The judge on world clips passed through the VAE: the ceiling for the whole model."""
    import torch

    from engines.sketch.judge_sound import judge

    rng = np.random.default_rng(VAE_CHECK_SEED)
    right = content = 0
    with torch.no_grad():
        for i in range(clips):
            scene, seconds = sounds.random_sound_scene(rng), sounds.random_seconds(rng)
            x = torch.from_numpy(sounds.render(scene, 2_000_000 + i, seconds, r.rate))[None, None]
            rec = vae.decode(vae.encode(x).latent_dist.mean).sample[0, 0].numpy()
            verdict = judge(rec, r.rate)
            right += verdict.matches(scene)
            content += verdict.content_matches(scene)
    return {"clips": clips, "judge": right / clips, "content": content / clips}


# --- stage 2: encode the training clips ---------------------------------------------


def training_clips(r: Recipe) -> list[tuple[sounds.SoundScene, float]]:
    rng = np.random.default_rng(TRAIN_SCENES_SEED)
    return [(sounds.random_sound_scene(rng), sounds.random_seconds(rng)) for _ in range(r.clips)]


def padded(r: Recipe, audio: np.ndarray) -> np.ndarray:
    n = r.sample_size * int(np.prod(r.ratios))
    out = np.zeros(n, np.float32)
    out[:min(n, len(audio))] = audio[:n]
    return out


def encode_latents(r: Recipe, run_dir: Path, minutes: float | None) -> None:
    import torch
    from diffusers import AutoencoderOobleck

    out = run_dir / "latents.npz"
    if out.exists():
        return
    vae = AutoencoderOobleck.from_pretrained(run_dir / "vae" / "model").eval()
    clips = training_clips(r)
    part = run_dir / "latents_part.npy"
    latents = list(np.load(part)) if part.exists() else []
    started = time.monotonic()
    hop = int(np.prod(r.ratios))
    window = r.sample_size * hop
    with torch.no_grad():
        # What silence encodes to, away from the window's edges.
        silence = vae.encode(torch.zeros(1, 1, window)).latent_dist.mean[0, :, r.sample_size // 2].numpy()
        for i in range(len(latents), r.clips):
            # Encode the sound and 2048 samples of silence after it; every frame
            # from 1024 samples past the sound on is the silence frame (the
            # encoder sees ~170 samples either side of a frame), which saves
            # the encoder's full-rate work on the padding.
            scene, sec = clips[i]
            audio = sounds.render(scene, i, sec, r.rate)
            n = min(window, -(-(len(audio) + 2048) // hop) * hop)
            z = vae.encode(torch.from_numpy(padded(r, audio)[:n])[None, None]).latent_dist.mean[0].numpy()
            full = np.repeat(silence[:, None], r.sample_size, axis=1)
            keep = min(r.sample_size, (len(audio) + 1024) // hop, z.shape[1])
            full[:, :keep] = z[:, :keep]
            latents.append(full.astype(np.float16))
            if i % 100 == 99:
                np.save(part, np.stack(latents))
                print(f"encoded {len(latents)}/{r.clips} clips ({time.monotonic() - started:.0f} s)", flush=True)
            if minutes is not None and time.monotonic() - started > minutes * 60:
                np.save(part, np.stack(latents))
                print("stopped (time limit); run again to continue", flush=True)
                raise SystemExit(0)
    z = np.stack(latents)
    np.savez(out, latents=z, captions=np.array([s.caption() for s, _ in clips]),
             seconds=np.array([sec for _, sec in clips], np.float32))
    part.unlink(missing_ok=True)


def normalised_vae(vae, mean, std):
    """The VAE with latents' per-channel mean and std folded into its weights.

    The decoder's first convolution gets weights W*std and bias b + W.mean, so
    decode(z) of the new VAE is decode(z*std + mean) of the old (up to the
    three zero-padded frames at each end). The encoder's output convolution
    gives (mean_z - mean)/std for the posterior mean; its spread is left as is
    (only the mean is used to make training latents).
    """
    import torch

    def weight(conv):  # the weight-norm hook's weight, g * v / |v| (its cached copy may be stale)
        v = conv.weight_v.detach()
        return conv.weight_g.detach() * v / torch.linalg.vector_norm(v, dim=(1, 2), keepdim=True)

    mean = torch.as_tensor(mean, dtype=torch.float32)
    std = torch.as_tensor(std, dtype=torch.float32)
    with torch.no_grad():
        conv = vae.decoder.conv1
        w = weight(conv).clone()
        b = conv.bias.detach().clone()
        w_new = w * std.view(1, -1, 1)
        conv.bias.copy_(b + (w * mean.view(1, -1, 1)).sum(dim=(1, 2)))
        conv.weight_v.copy_(w_new)
        conv.weight_g.copy_(torch.linalg.vector_norm(w_new, dim=(1, 2), keepdim=True))
        conv = vae.encoder.conv2
        c = len(mean)
        w = weight(conv).clone()
        b = conv.bias.detach().clone()
        w[:c] /= std.view(-1, 1, 1)
        b[:c] = (b[:c] - mean) / std
        conv.weight_v.copy_(w)
        conv.weight_g.copy_(torch.linalg.vector_norm(w, dim=(1, 2), keepdim=True))
        conv.bias.copy_(b)
    return vae


# --- stage 3: the transformer, text encoder and projection --------------------------


def conditioning(r: Recipe, tokenizer, text_encoder, projection, captions: list[str], seconds_end, drop_mask):
    """Cross-attention and global states, as StableAudioPipeline.encode_prompt/encode_duration make them.

    drop_mask: per sample 0 keep, 1 all-zero cross-attention states (the
    pipeline's CFG path without a negative prompt), 2 the empty prompt.
    """
    import torch

    captions = ["" if d == 2 else c for c, d in zip(captions, drop_mask)]
    tokens = tokenizer(captions, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                       return_tensors="pt")
    mask = tokens.attention_mask
    hidden = text_encoder(tokens.input_ids, attention_mask=mask)[0]
    hidden = torch.where(mask.bool().unsqueeze(2), hidden, 0.0)
    text = projection(text_hidden_states=hidden).text_hidden_states * mask.unsqueeze(-1).to(hidden.dtype)
    n = len(captions)
    durations = projection(start_seconds=torch.zeros(n), end_seconds=torch.as_tensor(seconds_end, dtype=torch.float32))
    start, end = durations.seconds_start_hidden_states, durations.seconds_end_hidden_states
    cross = torch.cat([text, start, end], dim=1)
    zero = torch.as_tensor(np.asarray(drop_mask) == 1).view(-1, 1, 1)
    cross = torch.where(zero, torch.zeros_like(cross), cross)
    return cross, torch.cat([start, end], dim=2)


def rotary(r: Recipe):
    from diffusers.models.embeddings import get_1d_rotary_pos_embed

    return get_1d_rotary_pos_embed(r.head_dim // 2, r.sample_size + 1, use_real=True, repeat_interleave_real=False)


def sample_sigmas(n: int, rng: np.random.Generator):
    """Half log-uniform over the sampler's [sigma_min, sigma_max], half uniform in the cosine time."""
    import torch

    lo, hi = math.log(SIGMA_MIN), math.log(SIGMA_MAX)
    log_uniform = np.exp(rng.uniform(lo, hi, n))
    t0, t1 = math.atan(SIGMA_MIN), math.atan(SIGMA_MAX)
    cosine = np.tan(rng.uniform(t0, t1, n))
    pick = rng.random(n) < 0.5
    return torch.as_tensor(np.where(pick, log_uniform, cosine), dtype=torch.float32)


def build_pipeline(vae, text_encoder, tokenizer, projection, transformer):
    from diffusers import StableAudioPipeline

    return StableAudioPipeline(vae=vae, text_encoder=text_encoder, projection_model=projection, tokenizer=tokenizer,
                               transformer=transformer, scheduler=make_scheduler())


def evaluation_prompts(r: Recipe) -> list[tuple[sounds.SoundScene, float]]:
    rng = np.random.default_rng(EVAL_SCENES_SEED)
    lengths = np.random.default_rng(EVAL_SCENES_SEED + 1)
    return [(sounds.random_sound_scene(rng), sounds.random_seconds(lengths)) for _ in range(r.eval_prompts)]


def generate(pipe, scene: sounds.SoundScene, seconds: float, seed: int, steps: int, guidance: float) -> np.ndarray:
    """One clip through StableAudioPipeline: float32 mono at the VAE's rate."""
    import torch

    g = torch.Generator().manual_seed(seed)
    audio = pipe(prompt=scene.caption(), audio_end_in_s=seconds, num_inference_steps=steps,
                 guidance_scale=guidance, generator=g, output_type="np").audios[0]
    return np.asarray(audio, np.float32).mean(axis=0)


def evaluate(r: Recipe, pipe, prompts, steps: int) -> dict[str, float]:
    """Generate the prompts through the pipeline and ask the judge."""
    from engines.sketch.judge_sound import judge

    right = content = 0
    for i, (scene, seconds) in enumerate(prompts):
        verdict = judge(generate(pipe, scene, seconds, 1_000_000 + i, steps, r.guidance), r.rate)
        right += verdict.matches(scene)
        content += verdict.content_matches(scene)
    n = len(prompts)
    return {"judge": right / n, "content": content / n}


def train_dit(r: Recipe, run_dir: Path, out: Path, minutes: float | None) -> None:
    import torch
    from diffusers import AutoencoderOobleck

    data = np.load(run_dir / "latents.npz")
    raw = torch.from_numpy(data["latents"].astype(np.float32))
    captions = [str(c) for c in data["captions"]]
    seconds = data["seconds"].astype(np.float32)
    mean = raw.mean(dim=(0, 2))
    std = raw.std(dim=(0, 2))
    latents = (raw - mean.view(1, -1, 1)) / std.view(1, -1, 1)

    vae = AutoencoderOobleck.from_pretrained(run_dir / "vae" / "model").eval()
    with torch.no_grad():
        before = vae.decode(raw[:2]).sample
        vae = normalised_vae(vae, mean, std)
        after = vae.decode(latents[:2]).sample
    n = before.shape[-1]
    core = slice(4 * 128, n - 4 * 128)
    print(f"latent normalisation folded into the VAE: max decode difference "
          f"{(before - after)[..., core].abs().max().item():.2e}", flush=True)

    tokenizer = make_tokenizer(r)
    torch.manual_seed(0)
    text_encoder = make_text_encoder(r, len(tokenizer))
    torch.manual_seed(0)
    projection = make_projection(r)
    torch.manual_seed(0)
    transformer = make_transformer(r)
    params = [*transformer.parameters(), *text_encoder.parameters(), *projection.parameters()]
    opt = torch.optim.AdamW(params, lr=r.dit_lr, weight_decay=0.01, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / r.warmup) * max(
        0.05, 0.5 * (1 + math.cos(math.pi * min(s, r.dit_steps) / r.dit_steps))))
    rng = np.random.default_rng(1)
    folder = run_dir / "dit"
    run = TrainingRun(folder, {"transformer": transformer, "text_encoder": text_encoder, "projection": projection,
                               "opt": opt, "sched": sched}, total_steps=r.dit_steps, rng=rng,
                      title="sketch-sound DiT")
    run.resume()
    rope = rotary(r)
    prompts = evaluation_prompts(r)
    for step in run.steps(save_every=100, minutes=minutes):
        transformer.train()
        text_encoder.train()
        idx = rng.integers(0, len(latents), r.dit_batch)
        x0 = latents[idx]
        u = rng.random(r.dit_batch)
        drop = np.where(u < r.drop_caption / 2, 1, np.where(u < r.drop_caption, 2, 0))
        cross, glob = conditioning(r, tokenizer, text_encoder, projection, [captions[i] for i in idx],
                                   seconds[idx], drop)
        noise = torch.randn_like(x0)
        sigma = sample_sigmas(r.dit_batch, rng)
        s = sigma.view(-1, 1, 1)
        x = x0 + s * noise
        scale = 1.0 / torch.sqrt(s * s + 1.0)
        pred = transformer(x * scale, sigma.atan() / math.pi * 2, encoder_hidden_states=cross,
                           global_hidden_states=glob, rotary_embedding=rope, return_dict=False)[0]
        target = (noise - s * x0) * scale
        loss = (pred - target).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        if step % 10 == 0:
            run.record_loss(loss=loss.item(), lr=sched.get_last_lr()[0])
            run.show_loss(f"loss {loss.item():.4f}")
        if (step + 1) % r.eval_every == 0 or step + 1 == r.dit_steps:
            transformer.eval()
            text_encoder.eval()
            pipe = build_pipeline(vae, text_encoder, tokenizer, projection, transformer)
            pipe.set_progress_bar_config(disable=True)
            with torch.no_grad():
                scores = evaluate(r, pipe, prompts, r.eval_steps)
            run.step += 1  # record the score against the steps done
            run.record_score(**scores)
            run.step -= 1
            save_model(r, pipe, run_dir / "latest", run)
    if run.step >= r.dit_steps:
        transformer.eval()
        text_encoder.eval()
        save_model(r, build_pipeline(vae, text_encoder, tokenizer, projection, transformer), out, run)
        run.log(f"DiT done in {run.elapsed() / 60:.1f} min; saved to {out}")


def save_model(r: Recipe, pipe, out: Path, run: TrainingRun) -> None:
    """Save the pipeline in half precision (a few MB), with the recipe beside it."""
    import torch

    names = ("transformer", "text_encoder", "vae", "projection_model")
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for name in names:
        getattr(pipe, name).to(torch.float16)
    try:
        pipe.save_pretrained(tmp, safe_serialization=True)
    finally:
        for name in names:
            getattr(pipe, name).to(torch.float32)
    (tmp / "sketch_recipe.json").write_text(json.dumps({"recipe": asdict(r), "dit_step": run.step,
                                                        "dit_seconds": round(run.elapsed())}, indent=1))
    card = out / "README.md"
    if card.exists():
        shutil.copy(card, tmp / "README.md")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def write_card(r: Recipe, run_dir: Path, out: Path) -> None:
    """The model card (README.md) beside the weights, from what the run folder recorded."""
    import csv
    import re

    import torch
    from diffusers import StableAudioPipeline

    pipe = StableAudioPipeline.from_pretrained(out, torch_dtype=torch.float32, local_files_only=True)
    params = {name: sum(p.numel() for p in getattr(pipe, name).parameters())
              for name in ("vae", "text_encoder", "projection_model", "transformer")}
    size_mb = sum(f.stat().st_size for f in out.rglob("*.safetensors")) / 1e6
    vae_done = json.loads((run_dir / "vae" / "done").read_text())
    encoded = re.findall(r"encoded (\d+)/\d+ clips \((\d+) s\)", (run_dir / "stdout.log").read_text())
    latents_s = float(encoded[-1][1]) if encoded else float("nan")
    recipe = json.loads((out / "sketch_recipe.json").read_text())
    rows = list(csv.DictReader(open(run_dir / "dit" / "scores.csv")))
    table = "\n".join(f"| {row['step']} | {float(row['seconds']) / 60:.1f} | {float(row['judge']):.2f} | "
                      f"{float(row['content']):.2f} |" for row in rows)
    hop = int(np.prod(r.ratios))
    total_min = (vae_done["seconds"] + latents_s + recipe["dit_seconds"]) / 60
    text = f"""# sketch-sound

A tiny Stable Audio-architecture text-to-audio model of Weft's sketch sound
world (`engines/sketch/sounds.py`), trained from scratch on one CPU core by
`python -m engines.sketch.train_sound`. It loads like the real model:

```python
from diffusers import StableAudioPipeline
pipe = StableAudioPipeline.from_pretrained("engines/sketch/weights/sketch-sound", torch_dtype=torch.float32)
audio = pipe("three low beeps", audio_end_in_s=2.0, num_inference_steps={r.eval_steps},
             guidance_scale={r.guidance}).audios[0]   # (1, samples) at {r.rate} Hz
```

It knows only the sketch vocabulary (`sounds.VOCABULARY`; check a prompt with
`sounds.unknown_words(text)`, the tokenizer maps other words to `<unk>`):
beeps (a/one..four, low/high), a rising/falling whistle, a low/high hum,
(soft) noise, fast/slow clicks, each optionally loud/quiet/soft; 1-4 s.

## Data

Procedural, rendered on the fly by `sounds.render` (numpy, deterministic by
seed): low tones 110-250 Hz, high 1200-2000 Hz, whistles sweeping 1.1-1.6
octaves, beeps separated by silence, clicks ~2/s or ~8/s, loud and quiet
about 20 dB apart. VAE: random crops of random clips (rng seed 0). DiT:
{r.clips} captioned clips (scenes from rng seed {TRAIN_SCENES_SEED}, clip seeds 0..{r.clips - 1}), lengths
1-4 s, silence-padded to the {window_seconds(r):.3f} s window.

## Architecture ({size_mb:.1f} MB of safetensors, stored fp16; load with torch_dtype=float32)

| part | class | size |
|---|---|---|
| VAE | `AutoencoderOobleck` mono, {r.rate} Hz, downsampling {list(r.ratios)} (hop {hop}), {r.latent} latent channels at {r.rate / hop:g} frames/s, encoder {2 * r.latent} / decoder {r.decoder_channels} channels, multiples {list(r.multiples)} | {params['vae'] / 1e6:.2f} M |
| text encoder | `T5EncoderModel` d_model {r.text_dim}, {r.text_layers} layers, word-level tokenizer (`PreTrainedTokenizerFast`, model_max_length {r.max_tokens}) | {params['text_encoder'] / 1e6:.3f} M |
| projection | `StableAudioProjectionModel` conditioning {r.cross_dim}, seconds 0-{MAX_SECONDS_CONDITION} | {params['projection_model'] / 1e6:.3f} M |
| transformer | `StableAudioDiTModel` {r.layers} layers, {r.heads} heads x {r.head_dim} ({r.kv_heads} kv heads), sample_size {r.sample_size} | {params['transformer'] / 1e6:.2f} M |
| scheduler | `CosineDPMSolverMultistepScheduler` (stable-audio-open's settings: sigma 0.3-500, v-prediction, exponential schedule) | |

## Training ({total_min:.0f} min on one CPU core, `torch.set_num_threads(1)`)

1. VAE: {r.vae_steps} steps, batch {r.vae_batch} x {r.vae_crop} samples, AdamW {r.vae_lr}, waveform squared error
   relative to each crop's power, {vae_done['seconds'] / 60:.1f} min. Judge on {vae_done.get('clips', 0)} world clips through
   encode/decode: {vae_done.get('judge', float('nan')):.2f} all right, {vae_done.get('content', float('nan')):.2f} content right.
2. Latents: {r.clips} clips encoded ({latents_s / 60:.1f} min); per-channel mean/std folded into the VAE's
   encoder output and decoder input convolutions, so the pipeline's latents are unit-scale (sigma_data 1).
3. DiT + text encoder + projection jointly: {recipe['dit_step']} steps, batch {r.dit_batch}, AdamW {r.dit_lr},
   EDM-preconditioned v-prediction exactly as the scheduler samples it, sigmas half log-uniform in
   [0.3, 500] and half uniform in atan(sigma); {r.drop_caption:.0%} of captions dropped for classifier-free
   guidance (half to all-zero conditioning, the pipeline's path without a negative prompt, half to the
   empty prompt); {recipe['dit_seconds'] / 60:.1f} min.

## Judge score vs training time

Every {r.eval_every} DiT steps, {r.eval_prompts} prompts (scenes from rng seed {EVAL_SCENES_SEED}, generator seeds from
1000000) were generated through `StableAudioPipeline` ({r.eval_steps} steps, guidance {r.guidance}) and judged by
`engines/sketch/judge_sound.py`. "content" = kind, pitch class, beep count, sweep direction, click rate;
"judge" also asks for the right loudness.

| DiT step | DiT minutes | judge | content |
|---|---|---|---|
{table}

The held-out check is `tests/sketch/test_sketch_sound_judge.py` (30 prompts, seeds training never used).
Output of this model is a sketch: it is made for tests and offline demos, not for listening.
"""
    (out / "README.md").write_text(text)


def main(argv: list[str] | None = None) -> None:
    import torch

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", type=Path, required=True, help="folder for checkpoints and logs")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "weights" / "sketch-sound")
    p.add_argument("--minutes", type=float, default=None, help="stop (resumably) after this long")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--stage", choices=["vae", "latents", "dit", "card", "all"], default="all")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="override a recipe field")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    r = load_recipe(Recipe, args.run, args.set)
    if args.stage in ("vae", "all"):
        train_vae(r, args.run, args.minutes)
        if not (args.run / "vae" / "done").exists():
            return
    if args.stage in ("latents", "all"):
        encode_latents(r, args.run, args.minutes)
    if args.stage in ("dit", "all"):
        train_dit(r, args.run, args.out, args.minutes)
    if args.stage in ("card", "all") and (args.out / "sketch_recipe.json").exists():
        write_card(r, args.run, args.out)


if __name__ == "__main__":
    main()
