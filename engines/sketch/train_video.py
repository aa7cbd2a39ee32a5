"""Train sketch-video: a Wan 2.1-architecture text-to-video model of the sketch world.

    python -m engines.sketch.train_video --run RUN_DIR --out engines/sketch/weights/sketch-video
        [--minutes M] [--threads N] [--stage vae|decoder|latents|dit|export|card|all]

The stages, each resumable (a stopped run continues exactly where it was;
run the same command again):

1. **vae**: a small `AutoencoderKLWan` (4x spatial, 4x temporal, 16 latent
   channels) whose latent space is fixed by hand (`pooled_latent`: each
   cell's colour per frame): the decoder learns to draw 5- and 9-frame
   windows of sketch clips from it, the encoder learns to produce it.
   **decoder** goes on training the decoder alone, beside the transformer.
2. **latents**: a fixed set of captioned 17-frame clips is put into that
   latent space once (no trained encoder needed, so this and stage 3 can
   run beside stage 1 on the other core); the per-channel mean and spread
   become the VAE's `latents_mean` / `latents_std`, exactly where WanPipeline
   reads them.
3. **dit**: a `WanTransformer3DModel` and a small `UMT5EncoderModel` (word-
   level tokenizer over the sketch vocabulary) learn rectified flow on those
   latents, with 10% of captions dropped to the empty prompt so classifier-
   free guidance works through the pipeline's negative prompt. The
   transformer predicts the clean latent, not the flow velocity (see
   `Recipe.prediction`); the scheduler is told so, so the pipeline samples
   from it unchanged. Every
   `eval_every` steps the current weights are saved as a pipeline, 16 fresh
   prompts are rendered through `WanPipeline`, and the judge's score is
   written to scores.csv.

WanPipeline pads every prompt to 512 tokens with zeros. Those padding rows
are all the same vector after the text projection, so training attends to
one of them weighted by how many there are (a log-count bias on its
attention logit): the same numbers as the 512-token pass at a fraction of
its cost, and the shipped model runs in plain diffusers with its defaults.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engines.sketch import world
from engines.sketch.training import TrainingRun, card_status, load_recipe, pretrain_text_encoder

PROMPT_TOKENS = 512  # WanPipeline's default max_sequence_length
TRAIN_TOKENS = 32  # longest sketch caption is ~26 tokens with </s>


@dataclass(frozen=True)
class Recipe:
    size: int = 64
    frames: int = 17
    fps: float = 8.0
    # VAE
    z_dim: int = 16
    vae_encoder_dim: int = 8
    vae_decoder_dim: int = 16
    vae_crop: int = 64
    vae_batch: int = 4
    vae_steps: int = 1500
    vae_lr: float = 1e-3
    decoder_steps: int = 3000
    palette_weight: float = 0.0  # the decoder stage's pull to the nearest palette colour (palette_distance)
    # latents
    clips: int = 8000
    # Where the training clips put their shapes (world.render): "anywhere", or
    # "by_caption" (where the caption says, give or take a little), which makes a caption
    # name nearly one clip. Trained on "anywhere", an x-predicting model drew the mean of
    # all the places a shape could be, which is no shape at all (run sv7).
    placement: str = "anywhere"
    # DiT
    dim_heads: int = 6
    head_dim: int = 32
    # The transformer's patch side in latent cells: 4 makes 5x4x4 = 80 tokens of 16x16 pixels
    # each; 2 makes 320 tokens of 8x8 pixels, each token's output 64 values, not 256.
    patch: int = 4
    # The patch's length in latent frames: 1 (a token per latent frame), or 5, the whole clip's
    # five latent frames in each token: 64 tokens, each holding an 8x8-pixel region's history
    # over the clip (at patch 2), so a step costs about a fifth, and a shape's motion is which
    # neighbour it appears in next, a pattern in space the relative positions can see.
    time_patch: int = 1
    layers: int = 6
    ffn: int = 768
    text_dim: int = 64
    text_layers: int = 2
    # The text encoder first learns what captions say (training.pretrain_text_encoder),
    # then stays fixed while the transformer learns from it (text_lr 0; > 0: trained on).
    text_steps: int = 0
    text_lr: float = 0.0
    dit_batch: int = 32
    dit_steps: int = 3000
    dit_lr: float = 1e-3
    warmup: int = 200
    drop_caption: float = 0.1
    flow_shift: float = 2.0
    # What the transformer predicts: "sample" (the clean latent, JiT's x-prediction) or
    # "flow_prediction" (the velocity noise - x0, as Wan does). One 1x4x4 patch holds 256
    # latent values but a token only 192: a velocity carries the patch's noise, which is
    # full-rank and cannot pass such a bottleneck, so velocity-trained weights left strong
    # per-cell noise in every sample (judge 0/30); a clean sketch latent is low-dimensional
    # and passes. The loss stays the velocity's (x-error / sigma^2, sigma floored below).
    # The default is the velocity; the shipped weights (runs sv18 + sv19) predict "sample"; "sample" with text_steps 600 (run sv7,
    # 3000 steps, 50 min) drew clean, right backgrounds but no shapes yet (judge 0/16).
    prediction: str = "flow_prediction"
    # "sample"'s loss is the x-error / max(sigma, sigma_floor)^2. 0.1 is the velocity's
    # weighting, which puts up to 100 times the weight on the nearly clean steps (copying
    # the input); 1.0 is the plain x-error, as much weight on the noisy steps that decide
    # what the clip shows.
    sigma_floor: float = 0.1
    # Extra weight on the latent cells where a shape is (those away from the clip's
    # background, the per-channel median of its cells): shapes cover a few percent of
    # the frame, so a plain mean error is nearly all background and a model learns the
    # background first and the shapes late or never (run sv11: right backgrounds and no
    # shapes at step 1000). 0: every cell alike (the shipped weights' recipe).
    shape_weight: float = 0.0
    # A sketch-video pipeline folder whose transformer the DiT starts from ("": fresh weights).
    # Its text encoder must be this run's (same tokenizer, same pretraining): the run checks.
    dit_init: str = ""
    # Decay of an exponential moving average of the transformer's weights; the average, not
    # the last step's weights, is what evaluation sees and what ships (0: no average; the
    # shipped weights, runs sv18 + sv19, use 0.999). A small model on a batch of 32 moves a lot from step to step,
    # and which clip it draws for a prompt moved with it: sv15b's 1500 steps at a third of
    # sv15's rate scored better than sv15's last steps, which is what averaging does for free.
    ema: float = 0.0
    eval_every: int = 500
    eval_prompts: int = 16
    eval_steps: int = 20
    guidance: float = 5.0


# Seeds: training clips use 0..clips-1 (scenes from rng seed 1); evaluation during
# training uses scenes from rng seed 7 and clip seeds from 1_000_000; the judge
# tests draw from their own (see tests/sketch/test_sketch_video_judge.py).
TRAIN_SCENES_SEED = 1
EVAL_SCENES_SEED = 7


# --- components ---------------------------------------------------------------------


def make_tokenizer():
    """A word-level tokenizer over the sketch vocabulary ("gray" read as "grey")."""
    from engines.sketch.training import word_tokenizer

    return word_tokenizer(world.VOCABULARY, max_length=PROMPT_TOKENS, replacements=(("gray", "grey"),))


def make_vae(r: Recipe):
    from diffusers import AutoencoderKLWan

    # 4x spatial, 4x temporal: a latent cell is 4x4 pixels, so the inside of every
    # shape has cells of its pure colour and the decoder's job is mostly to enlarge
    # and sharpen (at 8x a small shape is a blend within one cell, and the decoder
    # must invent its edges: measured, it stayed a blur after 500 steps). The
    # transformer's 4x4 patches keep its sequence at 5x4x4 = 80 tokens.
    return AutoencoderKLWan(base_dim=r.vae_encoder_dim, decoder_base_dim=r.vae_decoder_dim, z_dim=r.z_dim,
                            dim_mult=[1, 2, 2], num_res_blocks=1, temperal_downsample=[True, True],
                            scale_factor_spatial=LATENT_CELL, scale_factor_temporal=4,
                            latents_mean=[0.0] * r.z_dim, latents_std=[1.0] * r.z_dim)


LATENT_CELL = 4  # pixels a side of one latent cell


def pooled_latent(x, z_dim: int = 16):
    """sketch-video's latent space, fixed by hand. Each latent cell stands for 4x4 pixels and
    four frames (the first latent frame for frame 0 alone, as the causal VAE groups frames); its
    16 channels are, for each of the four frames, the cell's mean colour (12) and its mean
    squared brightness (4). Frame 0's cell repeats its one frame.
    (B, 3, F, H, W) in [-1, 1] -> (B, 16, 1 + (F - 1) / 4, H / 4, W / 4).

    Why by hand: trained end to end from random weights on two CPU cores, the Wan VAE's encoder
    and decoder wait on each other (the decoder cannot use latents that carry nothing yet), and
    both learnt only the mean colour for hundreds of steps (~11 dB after 500 steps, measured).
    On this fixed latent the decoder learns to draw at once, the encoder learns to produce it as
    a plain regression, and the transformer learns a smooth, well-scaled space where a shape's
    colour and place are simple functions of the latent. Frames are kept apart in the channels,
    not averaged: an average of four frames of a moving shape is a smear of blended colours the
    decoder could not undo (measured: frame 0 came back sharp, the averaged frames dark and
    smeared).
    """
    import torch
    import torch.nn.functional as F

    if z_dim != 16:
        raise ValueError(f"the sketch latent has 16 channels, not {z_dim}")
    if (x.shape[2] - 1) % 4:
        raise ValueError(f"the sketch latent needs 4k+1 frames, not {x.shape[2]}")
    c = LATENT_CELL
    frames = torch.cat([x[:, :, :1].expand(-1, -1, 4, -1, -1), x[:, :, 1:]], dim=2)  # frame 0 four times
    b, _, f, h, w = frames.shape
    square = frames.pow(2).mean(dim=1, keepdim=True)
    per_frame = torch.cat([frames, square], dim=1)  # (B, 4, F', H, W)
    cells = F.avg_pool3d(per_frame, (1, c, c))  # (B, 4, F', h, w)
    groups = cells.reshape(b, 4, f // 4, 4, h // c, w // c)  # channel, group, frame in group
    colour = groups[:, :3].permute(0, 3, 1, 2, 4, 5).reshape(b, 12, f // 4, h // c, w // c)
    bright = groups[:, 3].permute(0, 2, 1, 3, 4) * 2.0 - 1.0  # mean of squares is in [0, 1]; centred like the colours
    return torch.cat([colour, bright], dim=1)


def unpacking_decoder(vae) -> None:
    """Sets the decoder's weights so that, before any training, it draws each frame from the
    fixed latent by hand: frame k of a group is its cell colours (channels 3k..3k+2 of
    `pooled_latent`) enlarged 4x. Training then only has to sharpen the cells into shapes.

    Why: from random weights the decoder took the easy road for 600+ steps (measured): it drew
    the first frame of a group everywhere and faded it, never learning which channels belong to
    which frame, so moving shapes stood still. This routing is what it failed to find.

    How, in AutoencoderKLWan's own layers: every residual branch and the attention output start
    at zero (each block passes its input through), so the decoder is linear up to its head;
    `conv_in` and the 1x1 shortcuts copy channels; each temporal upsampler's `time_conv` sends
    the first half of a latent frame's frames to its first output frame and the second half to
    its second (only its newest tap is used); the spatial convolutions copy their centre. The
    head normalises over channels (RMS) and applies SiLU, so the colours ride on a constant 6
    in every channel: the norm then barely depends on the colour, and SiLU is nearly the
    identity there; `conv_out` takes the 6 away.
    """
    import torch

    dec = vae.decoder
    with torch.no_grad():
        for module in dec.modules():
            if hasattr(module, "conv2") and hasattr(module, "conv_shortcut"):  # residual blocks
                module.conv2.weight.zero_()
                module.conv2.bias.zero_()
            if hasattr(module, "to_qkv"):  # attention
                module.proj.weight.zero_()
                module.proj.bias.zero_()

        def copy(conv, pairs, bias=None):
            """A convolution that copies input channel i to output channel o at its newest/centre tap."""
            w = conv.weight
            w.zero_()
            idx = [k // 2 for k in w.shape[2:]]
            if w.dim() == 5:
                idx[0] = w.shape[2] - 1  # causal in time: the newest frame is the last tap
            for o, i in pairs:
                w[(o, i, *idx)] = 1.0
            conv.bias.zero_()
            if bias is not None:
                conv.bias.copy_(bias)

        z = vae.config.z_dim
        copy(vae.post_quant_conv, [(c, c) for c in range(z)])
        copy(dec.conv_in, [(c, c) for c in range(12)])
        frames_per_channel_group = 4  # colours of four frames: channels 0..11
        for block in dec.up_blocks:
            for resnet in block.resnets:
                if not isinstance(resnet.conv_shortcut, torch.nn.Identity):
                    copy(resnet.conv_shortcut, [(c, c) for c in range(12)])
            if block.upsamplers is None:
                continue
            up = block.upsamplers[0]
            c = up.dim
            half = frames_per_channel_group // 2
            if hasattr(up, "time_conv"):
                # early frames keep their channels; the late ones move down to the same places
                pairs = [(ch, ch) for ch in range(3 * half)] + [(c + ch, 3 * half + ch) for ch in range(3 * half)]
                copy(up.time_conv, pairs)
                frames_per_channel_group = half
            out = up.resample[1]
            keep = 3 * frames_per_channel_group
            bias = torch.zeros(out.out_channels)
            if block is dec.up_blocks[-2]:  # the last upsampler: the constant the head needs
                bias += 6.0
            copy(out, [(ch, ch) for ch in range(keep)], bias=bias)
        dec.norm_out.gamma.fill_(6.0)
        width = dec.norm_out.gamma.shape[0]
        # After the norm a channel is about 6 * (6 + colour) / 6: the colour plus 6.
        copy(dec.conv_out, [(ch, ch) for ch in range(3)], bias=torch.full((3,), -6.0))
        del width


def make_text_encoder(r: Recipe, vocab: int):
    from transformers import UMT5Config, UMT5EncoderModel

    return UMT5EncoderModel(UMT5Config(vocab_size=vocab, d_model=r.text_dim, d_kv=16, d_ff=r.text_dim * 2,
                                       num_layers=r.text_layers, num_heads=4, relative_attention_num_buckets=16,
                                       dropout_rate=0.0))


CROSS_ATTENTION_SHARPNESS = 2.0  # the cross-attention's q/k norm weights start here (logits x4)


def make_transformer(r: Recipe):
    import torch
    from diffusers import WanTransformer3DModel

    model = WanTransformer3DModel(patch_size=(r.time_patch, r.patch, r.patch), num_attention_heads=r.dim_heads,
                                  attention_head_dim=r.head_dim, in_channels=r.z_dim, out_channels=r.z_dim,
                                  text_dim=r.text_dim, freq_dim=64, ffn_dim=r.ffn, num_layers=r.layers,
                                  cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=64)
    # WanPipeline pads every prompt to 512 rows, ~500 of them one and the same padding
    # vector. With q and k RMS-normalised to weight 1, a cross-attention logit is at most
    # ~6 (head_dim 32), so a real word can never outweigh 500 padding rows: measured after
    # 1500 steps, 66-90% of every block's cross-attention went to the padding, the norm
    # weights had not moved from 1.0, and the model ignored the prompt (the judge: 0%,
    # colours 12%). Starting those weights at 2 lets a word's logit reach ~23.
    with torch.no_grad():
        for block in model.blocks:
            block.attn2.norm_q.weight.fill_(CROSS_ATTENTION_SHARPNESS)
            block.attn2.norm_k.weight.fill_(CROSS_ATTENTION_SHARPNESS)
    return model


def make_scheduler(r: Recipe):
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(prediction_type=r.prediction, use_flow_sigmas=True, flow_shift=r.flow_shift,
                                   num_train_timesteps=1000, solver_order=2, solver_type="bh2",
                                   final_sigmas_type="zero", lower_order_final=True)


def to_unit(frames: np.ndarray):
    """uint8 (B, F, H, W, 3) -> float tensor (B, 3, F, H, W) in [-1, 1], as WanPipeline's VAE sees video."""
    import torch

    return torch.from_numpy(frames).permute(0, 4, 1, 2, 3).float().div(127.5).sub(1.0)


# --- stage 1: the VAE ---------------------------------------------------------------


def train_vae(r: Recipe, run_dir: Path, minutes: float | None) -> None:
    import torch

    folder = run_dir / "vae"
    if (folder / "done").exists():
        return
    torch.manual_seed(0)
    vae = make_vae(r)
    unpacking_decoder(vae)
    # The decoder starts right (unpacking_decoder) and is refined at a lower rate than the
    # encoder, which starts from random weights.
    decoder = list(vae.decoder.parameters()) + list(vae.post_quant_conv.parameters())
    chosen = {id(p) for p in decoder}
    encoder = [p for p in vae.parameters() if id(p) not in chosen]
    opt = torch.optim.AdamW([{"params": encoder, "lr": r.vae_lr}, {"params": decoder, "lr": r.vae_lr * 0.3}],
                            weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 50) * 0.5 * (
        1 + math.cos(math.pi * min(s, r.vae_steps) / r.vae_steps)))
    rng = np.random.default_rng(0)
    run = TrainingRun(folder, {"vae": vae, "opt": opt, "sched": sched}, total_steps=r.vae_steps, rng=rng,
                      title="sketch-video VAE")
    run.resume()
    vae.train()
    for step in run.steps(save_every=50, minutes=minutes):
        x = _vae_batch(r, rng)
        # The decoder learns to draw from the fixed latent (see pooled_latent) plus
        # a small noise that teaches it to forgive a diffusion model's small
        # errors; the encoder learns to produce that latent.
        target = pooled_latent(x, r.z_dim)
        rec = vae.decode(target + 0.03 * torch.randn_like(target)).sample
        kl = (vae.encode(x).latent_dist.mode() - target).pow(2).mean()
        mse = (rec - x).pow(2).mean()
        l1 = (rec - x).abs().mean()
        loss = mse + 0.5 * l1 + kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 10 == 0:
            psnr = 10 * math.log10(4.0 / max(mse.item(), 1e-10))
            run.record_loss(loss=loss.item(), mse=mse.item(), encoder=kl.item(), psnr=psnr)
            run.show_loss(f"psnr {psnr:.1f} dB")
        if (step + 1) % 100 == 0:  # the transformer's evaluations (beside this stage) use the newest
            _save_atomic(vae, folder / "model")
    if run.step >= r.vae_steps:
        vae.eval()
        _save_atomic(vae, folder / "model")
        judged = judge_reconstructions(vae)
        (folder / "done").write_text(json.dumps({"seconds": run.elapsed(), "step": run.step, "judge": judged}))
        run.log(f"VAE done in {run.elapsed() / 60:.1f} min; the judge on reconstructions: {judged}")


def train_decoder(r: Recipe, run_dir: Path, minutes: float | None) -> None:
    """Stage 1b: the encoder is frozen (it defines the latents the DiT learns), the decoder trains on.

    Runs beside the DiT stage: a better decoder never changes the latents, so
    the two can improve at the same time on two cores.
    """
    import torch
    from diffusers import AutoencoderKLWan

    folder = run_dir / "decoder"
    vae = AutoencoderKLWan.from_pretrained(run_dir / "vae" / "model")
    for p in vae.encoder.parameters():
        p.requires_grad_(False)
    for p in vae.quant_conv.parameters():
        p.requires_grad_(False)
    trained = list(vae.decoder.parameters()) + list(vae.post_quant_conv.parameters())
    # The rate the VAE stage gave the decoder, after a warm-up: at the full rate from the
    # first step, Adam's first updates wrecked the decoder (12.6 dB after 60 steps, measured).
    opt = torch.optim.AdamW(trained, lr=r.vae_lr * 0.3, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 50) * max(
        0.1, 0.5 * (1 + math.cos(math.pi * min(s, r.decoder_steps) / r.decoder_steps))))
    rng = np.random.default_rng(2)
    run = TrainingRun(folder, {"vae": vae, "opt": opt, "sched": sched}, total_steps=r.decoder_steps, rng=rng,
                      title="sketch-video decoder")
    run.resume()
    vae.decoder.train()
    for step in run.steps(save_every=50, minutes=minutes):
        x = _vae_batch(r, rng)
        target = pooled_latent(x, r.z_dim)
        rec = vae.decode(target + 0.03 * torch.randn_like(target)).sample
        mse = (rec - x).pow(2).mean()
        snap = palette_distance(rec).mean()
        loss = mse + 0.5 * (rec - x).abs().mean() + r.palette_weight * snap
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        opt.step()
        sched.step()
        if step % 10 == 0:
            psnr = 10 * math.log10(4.0 / max(mse.item(), 1e-10))
            run.record_loss(loss=loss.item(), mse=mse.item(), psnr=psnr, palette=snap.item())
            run.show_loss(f"psnr {psnr:.1f} dB")
        if (step + 1) % 50 == 0:
            _save_atomic(vae, folder / "model")
        if (step + 1) % 250 == 0:
            vae.decoder.eval()
            judged = judge_reconstructions(vae, encoded=False)
            vae.decoder.train()
            run.log(f"step {step + 1}: the judge on 30 clips decoded from the sketch latent: {judged['decoded']:.2f}")


def palette_distance(rec):
    """Squared RGB distance (in [-1, 1] units) of each decoded pixel to the nearest colour of the
    sketch palette. The world is flat palette colours, so the decoder is taught to commit to one:
    from 4x4 cell means alone, the squared error is least for a blend at every edge, and a blend
    of blue and yellow is grey, of red and yellow orange: a seam the judge sees as a shape of a
    colour nobody asked for (measured: 4 of 30 clips failed only on that).

    Off by default: at weight 1.0, 500 decoder steps took the judge on clips decoded from the
    sketch latent from 0.93 to 0.57 (measured); the judge now reads such seams as seams
    (engines/sketch/judge_video.py), and the decoder the VAE stage leaves scores 0.93."""
    import torch

    palette = torch.tensor(list(world.COLOURS.values()), dtype=rec.dtype) / 127.5 - 1.0  # (9, 3)
    d = (rec.unsqueeze(1) - palette.view(1, -1, 3, 1, 1, 1)).pow(2).sum(2)  # (B, 9, F, H, W)
    return d.min(dim=1).values


def judge_reconstructions(vae, count: int = 30, seed: int = 2026, encoded: bool = True) -> dict[str, float]:
    """The judge on fresh world clips passed through the VAE: decoded from the sketch latent
    (what the transformer's latents become) and from the trained encoder's latent. A text-to-
    video model can be no better than the first figure, so the DiT is worth training only once
    it is near 100%."""
    import torch

    from engines.sketch.scorecard import VideoScorecard, judge_scenes

    cards = {"decoded": VideoScorecard(), "encoded": VideoScorecard()}
    with torch.no_grad():
        for i, scene in enumerate(judge_scenes(seed, count)):
            x = to_unit(world.render(scene, 5000 + i).frames[None])
            latents = [("decoded", pooled_latent(x))]
            if encoded:
                latents.append(("encoded", vae.encode(x).latent_dist.mode()))
            for name, z in latents:
                y = vae.decode(z).sample.clamp(-1, 1)[0].permute(1, 2, 3, 0)
                cards[name].add(scene, ((y.numpy() + 1) * 127.5).round().astype(np.uint8))
    return {name: card.accuracy() for name, card in cards.items() if len(card)}


def _save_atomic(model, out: Path) -> None:
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def current_vae(run_dir: Path):
    """The VAE as it stands: the frozen encoder with the newest decoder."""
    from diffusers import AutoencoderKLWan

    for attempt in range(20):  # a stage beside this one may be swapping the folder in right now
        latest = run_dir / "decoder" / "model"
        try:
            return AutoencoderKLWan.from_pretrained(latest if latest.exists() else run_dir / "vae" / "model").eval()
        except (OSError, ValueError):
            if attempt == 19:
                raise
            time.sleep(0.5)


def _vae_batch(r: Recipe, rng: np.random.Generator):
    """Windows of sketch clips: a first frame and one or two 4-frame chunks (so the
    decoder learns to carry its causal cache from chunk to chunk), cropped to
    `vae_crop` pixels (the whole frame by default; the VAE is convolutional,
    so crops would teach it the same edges and colours for less)."""
    window = int(rng.choice([5, 9]))
    batch = []
    for _ in range(r.vae_batch):
        scene = world.random_scene(rng)
        start = int(rng.integers(0, r.frames - window + 1))
        clip = world.render(scene, int(rng.integers(1 << 30)), frames=r.frames, size=r.size,
                            only=range(start, start + window))
        y, x = (int(v) for v in rng.integers(0, r.size - r.vae_crop + 1, 2))
        batch.append(clip.frames[:, y:y + r.vae_crop, x:x + r.vae_crop])
    return to_unit(np.stack(batch))


# --- stage 2: encode the training clips ---------------------------------------------


def training_scenes(r: Recipe) -> list[world.Scene]:
    rng = np.random.default_rng(TRAIN_SCENES_SEED)
    return [world.random_scene(rng) for _ in range(r.clips)]


def encode_latents(r: Recipe, run_dir: Path, minutes: float | None) -> None:
    """The training clips' latents: pooled_latent needs no trained encoder, so this stage
    (and the transformer after it) can run beside the VAE's training."""
    import torch

    out = run_dir / "latents.npz"
    if out.exists():
        return
    scenes = training_scenes(r)
    part = run_dir / "latents_part.npy"
    done = np.load(part) if part.exists() else np.zeros((0,), np.float32)
    latents = list(done) if len(done) else []
    started = time.monotonic()
    batch = 16
    with torch.no_grad():
        for i in range(len(latents), r.clips, batch):
            clips = np.stack([world.render(s, j, frames=r.frames, size=r.size, placement=r.placement).frames
                              for j, s in zip(range(i, i + batch), scenes[i:i + batch])])
            z = pooled_latent(to_unit(clips), r.z_dim)
            latents.extend(z.numpy().astype(np.float16))
            if (i // batch) % 50 == 0:
                np.save(part, np.stack(latents))
                print(f"encoded {len(latents)}/{r.clips} clips", flush=True)
            if minutes is not None and time.monotonic() - started > minutes * 60:
                np.save(part, np.stack(latents))
                print("stopped (time limit); run again to continue", flush=True)
                raise SystemExit(0)
    z = np.stack(latents)
    np.savez(out, latents=z, captions=np.array([s.caption() for s in scenes]))
    part.unlink(missing_ok=True)


# --- stage 3: the transformer and text encoder --------------------------------------


class _PaddingAwareCrossAttention:
    """Cross-attention whose key rows carry a log-count bias (see the module docstring)."""

    bias = None  # (B, 1, 1, K) float, set before each forward

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, rotary_emb=None):
        import torch.nn.functional as F
        from diffusers.models.transformers.transformer_wan import _get_qkv_projections

        q, k, v = _get_qkv_projections(attn, hidden_states, encoder_hidden_states)
        q, k = attn.norm_q(q), attn.norm_k(k)
        q, k, v = (t.unflatten(2, (attn.heads, -1)).transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=self.bias)
        out = out.transpose(1, 2).flatten(2, 3).type_as(q)
        return attn.to_out[1](attn.to_out[0](out))


def _text_batch(tokenizer, text_encoder, captions: list[str]):
    """Prompt embeddings as WanPipeline makes them, cut to TRAIN_TOKENS rows, plus the padding bias."""
    import torch

    tokens = tokenizer(captions, padding="max_length", max_length=TRAIN_TOKENS, truncation=True,
                       add_special_tokens=True, return_attention_mask=True, return_tensors="pt")
    mask = tokens.attention_mask
    emb = text_encoder(tokens.input_ids, mask).last_hidden_state * mask[..., None]
    lengths = mask.sum(1)
    # Keys: the real tokens, then one zero row standing for all 512 - length padding rows.
    bias = torch.full(mask.shape, float("-inf"))
    bias[mask.bool()] = 0.0
    rows = torch.arange(len(captions))
    bias[rows, lengths] = torch.log((PROMPT_TOKENS - lengths).float())
    return emb, bias[:, None, None, :]


def shape_cells(latents):
    """(B, 1, T, H, W) 1.0 where a latent cell differs from its clip's background, else 0.0.

    The background is each channel's median over a clip's cells (most cells are
    background); a cell is a shape's when it is more than half a standard deviation
    (the latents are normalised) from it in any channel."""
    flat = latents.flatten(2)
    background = flat.median(dim=2).values[..., None, None, None]
    return ((latents - background).abs().amax(dim=1, keepdim=True) > 0.5).float()


def build_pipeline(r: Recipe, vae, text_encoder, tokenizer, transformer):
    from diffusers import WanPipeline

    return WanPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
                       scheduler=make_scheduler(r))


def evaluation_prompts(r: Recipe) -> list[world.Scene]:
    from engines.sketch.scorecard import judge_scenes

    return judge_scenes(EVAL_SCENES_SEED, r.eval_prompts)


def evaluate(r: Recipe, pipe, scenes: list[world.Scene], steps: int) -> dict[str, float]:
    """Render the scenes through the pipeline and ask the judge."""
    import torch

    from engines.sketch.scorecard import VideoScorecard

    card = VideoScorecard()
    for i, scene in enumerate(scenes):
        g = torch.Generator().manual_seed(1_000_000 + i)
        frames = pipe(prompt=scene.caption(), height=r.size, width=r.size, num_frames=r.frames,
                      num_inference_steps=steps, guidance_scale=r.guidance, generator=g, output_type="np").frames[0]
        card.add(scene, np.clip(np.rint(frames * 255), 0, 255).astype(np.uint8))
    print(card.report(), flush=True)
    return {"judge": card.accuracy(), "colours": card.colour_accuracy(), "shapes": card.shape_accuracy()}


def scene_labels(scenes: list[world.Scene]) -> dict[str, np.ndarray]:
    """What each caption says, as integer classes (0 = no second shape), for pretrain_text_encoder."""
    colours, sizes, speeds = list(world.COLOURS), list(world.SIZES), list(world.SPEEDS)
    labels: dict[str, list[int]] = {"background": [colours.index(s.background) for s in scenes]}
    for k in range(2):
        shapes = [sc.shapes[k] if len(sc.shapes) > k else None for sc in scenes]
        labels[f"shape{k + 1} colour"] = [0 if sh is None else 1 + colours.index(sh.colour) for sh in shapes]
        labels[f"shape{k + 1} shape"] = [0 if sh is None else 1 + world.SHAPES.index(sh.shape) for sh in shapes]
        labels[f"shape{k + 1} motion"] = [0 if sh is None else 1 + world.MOTIONS.index(sh.motion) for sh in shapes]
        labels[f"shape{k + 1} size"] = [0 if sh is None else 1 + sizes.index(sh.size) for sh in shapes]
        labels[f"shape{k + 1} speed"] = [0 if sh is None else 1 + speeds.index(sh.speed) for sh in shapes]
    return {n: np.asarray(v, np.int64) for n, v in labels.items()}


def train_text(r: Recipe, run_dir: Path, text_encoder, tokenizer, minutes: float | None) -> None:
    """Stage 3a: the text encoder learns what the training captions say (a minute or two)."""
    if r.text_steps <= 0:
        return
    scenes = training_scenes(r)
    pretrain_text_encoder(text_encoder, tokenizer, [s.caption() for s in scenes], scene_labels(scenes),
                          folder=run_dir / "text", steps=r.text_steps, max_length=TRAIN_TOKENS,
                          title="sketch-video text encoder", minutes=minutes)


def _start_from(transformer, text_encoder, folder: Path) -> None:
    """Loads a finished pipeline's transformer as the starting point (a checkpoint, when the run
    has one, still wins: run.resume() loads it afterwards)."""
    import torch
    from diffusers import WanTransformer3DModel
    from transformers import UMT5EncoderModel

    start = WanTransformer3DModel.from_pretrained(folder / "transformer", torch_dtype=torch.float32)
    transformer.load_state_dict(start.state_dict())
    theirs = UMT5EncoderModel.from_pretrained(folder / "text_encoder", torch_dtype=torch.float32).state_dict()
    ours = text_encoder.state_dict()
    drift = max(float((theirs[k] - ours[k].float()).abs().max()) for k in ours)
    if drift > 1e-2:  # float16 storage rounds; a different pretraining differs by far more
        raise SystemExit(f"{folder}'s text encoder is not this run's (weights differ by {drift:.3f}); "
                         "the transformer it starts from learnt to read another one")


def train_dit(r: Recipe, run_dir: Path, out: Path, minutes: float | None) -> None:
    import torch

    from engines.sketch.training import TrainingRun

    data = np.load(run_dir / "latents.npz")
    latents = torch.from_numpy(data["latents"].astype(np.float32))
    captions = [str(c) for c in data["captions"]]
    mean = latents.mean(dim=(0, 2, 3, 4))
    std = latents.std(dim=(0, 2, 3, 4))
    latents = (latents - mean.view(1, -1, 1, 1, 1)) / std.view(1, -1, 1, 1, 1)

    stats = dict(latents_mean=[round(float(m), 5) for m in mean], latents_std=[round(float(s), 5) for s in std])
    tokenizer = make_tokenizer()
    torch.manual_seed(0)
    text_encoder = make_text_encoder(r, len(tokenizer))
    train_text(r, run_dir, text_encoder, tokenizer, minutes)
    torch.manual_seed(0)
    transformer = make_transformer(r)
    if r.dit_init:
        _start_from(transformer, text_encoder, Path(r.dit_init))
    text_trained = r.text_steps <= 0 or r.text_lr > 0
    text_encoder.requires_grad_(text_trained)
    groups = [{"params": list(transformer.parameters())}]
    if text_trained:
        groups.append({"params": list(text_encoder.parameters()),
                       "lr": r.dit_lr if r.text_steps <= 0 else r.text_lr})
    params = [p for g in groups for p in g["params"]]
    opt = torch.optim.AdamW(groups, lr=r.dit_lr, weight_decay=0.01, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / r.warmup) * max(
        0.05, 0.5 * (1 + math.cos(math.pi * min(s, r.dit_steps) / r.dit_steps))))
    rng = np.random.default_rng(1)
    folder = run_dir / "dit"
    objects = {"transformer": transformer, "text_encoder": text_encoder, "opt": opt, "sched": sched}
    average = None
    if r.ema > 0:
        average = copy.deepcopy(transformer).requires_grad_(False)
        objects["ema"] = average
    run = TrainingRun(folder, objects, total_steps=r.dit_steps, rng=rng, title="sketch-video DiT")
    run.resume()
    shipped = average if average is not None else transformer
    cross = _PaddingAwareCrossAttention()
    eval_scenes = evaluation_prompts(r)
    for step in run.steps(save_every=100, minutes=minutes):
        transformer.train()
        text_encoder.train(text_trained)
        for block in transformer.blocks:
            block.attn2.set_processor(cross)
        idx = rng.integers(0, len(latents), r.dit_batch)
        x0 = latents[idx]
        batch_captions = ["" if rng.random() < r.drop_caption else captions[i] for i in idx]
        with torch.set_grad_enabled(text_trained):
            emb, cross.bias = _text_batch(tokenizer, text_encoder, batch_captions)
        noise = torch.randn_like(x0)
        # Times: half logit-normal (SD3), half uniform, shifted as the sampler shifts them.
        # Logit-normal alone gives sigma > 0.95 about 1% of the time, yet the sampler's
        # first steps are there and decide the background and layout from the prompt:
        # measured at sigma 1 the model's error (1.19) was worse than predicting nothing.
        u = torch.where(torch.rand(len(idx)) < 0.5, torch.rand(len(idx)), torch.sigmoid(torch.randn(len(idx))))
        sigma = r.flow_shift * u / (1 + (r.flow_shift - 1) * u)
        s = sigma.view(-1, 1, 1, 1, 1)
        xt = (1 - s) * x0 + s * noise
        pred = transformer(hidden_states=xt, timestep=sigma * 1000, encoder_hidden_states=emb,
                           return_dict=False)[0]
        if r.prediction == "sample":
            # The velocity loss written for a predicted x0: v_hat - v = (x0 - x0_hat) / sigma.
            err = ((pred - x0) / s.clamp(min=r.sigma_floor)).pow(2)
        else:
            err = (pred - (noise - x0)).pow(2)
        if r.shape_weight > 0:
            weight = 1.0 + r.shape_weight * shape_cells(x0)
            loss = (err * weight).sum() / (weight.sum() * err.shape[1])
        else:
            loss = err.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        if average is not None:
            # The usual warm-up of the decay, so the first steps' weights do not linger.
            decay = min(r.ema, (1 + step) / (10 + step))
            with torch.no_grad():
                for mine, theirs in zip(average.parameters(), transformer.parameters()):
                    mine.lerp_(theirs, 1 - decay)
        if step % 10 == 0:
            run.record_loss(loss=loss.item(), lr=sched.get_last_lr()[0])
            run.show_loss(f"loss {loss.item():.4f}")
        has_vae = (run_dir / "vae" / "model").exists() or (run_dir / "decoder" / "model").exists()
        if has_vae and ((step + 1) % r.eval_every == 0 or step + 1 == r.dit_steps):
            transformer.eval()
            text_encoder.eval()
            for block in transformer.blocks:
                block.attn2.set_processor(_default_processor())
            vae = current_vae(run_dir)
            vae.register_to_config(**stats)
            shipped.eval()
            pipe = build_pipeline(r, vae, text_encoder, tokenizer, shipped)
            scores = evaluate(r, pipe, eval_scenes, r.eval_steps)
            run.record_score(**scores)
            save_model(r, pipe, run_dir / "latest", run)
    if run.step >= r.dit_steps:
        transformer.eval()
        text_encoder.eval()
        for block in transformer.blocks:
            block.attn2.set_processor(_default_processor())
        vae = current_vae(run_dir)
        vae.register_to_config(**stats)
        save_model(r, build_pipeline(r, vae, text_encoder, tokenizer, shipped.eval()), out, run)
        run.log(f"DiT done in {run.elapsed() / 60:.1f} min; saved to {out}")


def export(r: Recipe, run_dir: Path, out: Path) -> None:
    """Save the pipeline as the run stands now (the DiT's last checkpoint, the newest decoder).

    For a run stopped before its last step: what ships is then exactly what
    the checkpoint holds, and training can still continue from it later.
    """
    import torch

    data = np.load(run_dir / "latents.npz")
    latents = torch.from_numpy(data["latents"].astype(np.float32))
    mean, std = latents.mean(dim=(0, 2, 3, 4)), latents.std(dim=(0, 2, 3, 4))
    tokenizer = make_tokenizer()
    text_encoder = make_text_encoder(r, len(tokenizer))
    transformer = make_transformer(r)
    state = torch.load(run_dir / "dit" / "checkpoint.pt", map_location="cpu", weights_only=False)
    transformer.load_state_dict(state["objects"].get("ema", state["objects"]["transformer"]))
    text_encoder.load_state_dict(state["objects"]["text_encoder"])
    vae = current_vae(run_dir)
    vae.register_to_config(latents_mean=[round(float(m), 5) for m in mean],
                           latents_std=[round(float(s), 5) for s in std])
    run = TrainingRun(run_dir / "dit", {}, total_steps=r.dit_steps, rng=np.random.default_rng(0))
    run.step, run._seconds_at_start, run._started = int(state["step"]), float(state["seconds"]), time.monotonic()
    save_model(r, build_pipeline(r, vae, text_encoder.eval(), tokenizer, transformer.eval()), out, run)
    print(f"exported the DiT at step {run.step} to {out}")


def _default_processor():
    from diffusers.models.transformers.transformer_wan import WanAttnProcessor

    return WanAttnProcessor()


def save_model(r: Recipe, pipe, out: Path, run: TrainingRun) -> None:
    """Save the pipeline in half precision (a few MB), with the recipe beside it."""
    import torch

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    # Half-precision copies: casting the training weights themselves there and back would
    # round them (and the moving average) to float16 at every evaluation.
    halves = {name: copy.deepcopy(getattr(pipe, name)).to(torch.float16)
              for name in ("transformer", "text_encoder", "vae")}
    type(pipe)(tokenizer=pipe.tokenizer, scheduler=pipe.scheduler, **halves).save_pretrained(
        tmp, safe_serialization=True)
    (tmp / "sketch_recipe.json").write_text(json.dumps({"recipe": asdict(r), "dit_step": run.step,
                                                        "dit_seconds": round(run.elapsed())}, indent=1))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def _reproduce_line(r: Recipe) -> str:
    """The command that trains these weights: every recipe field they changed, as --set."""
    defaults = asdict(Recipe())
    changed = [f"--set {name}={value}" for name, value in asdict(r).items()
               if value != defaults[name] and name != "dit_init"]
    line = ("Reproduce: `python -m engines.sketch.train_video --run RUN_DIR --out engines/sketch/weights/sketch-video"
            + "".join(f" {c}" for c in changed) + "` (resumable: run it again after a stop).")
    if r.dit_init:
        line += (" These weights' transformer started from another run's (`--set dit_init=FOLDER`, a finished "
                 "pipeline folder): how that one was made is below.")
    return line


def write_card(r: Recipe, run_dir: Path, out: Path) -> None:
    """The model card beside the weights: data, architecture, steps, time, and the judge's score by step."""
    side = r.size // LATENT_CELL // r.patch  # tokens a side
    import csv as _csv

    def rows(name: str) -> list[dict[str, str]]:
        path = run_dir / name
        return list(_csv.DictReader(open(path))) if path.exists() else []

    from diffusers import AutoencoderKLWan

    vae_done = json.loads((run_dir / "vae" / "done").read_text())
    text_file = run_dir / "text" / "done.json"
    text_accuracy = ""
    if r.text_steps > 0 and text_file.exists():
        right = json.loads(text_file.read_text())
        text_accuracy = f"{min(right.values()):.0%}-{max(right.values()):.0%} by attribute"
    decoder = rows("decoder/loss.csv") if (run_dir / "decoder" / "model").exists() else []
    judged_count = 30
    import torch

    shipped_vae = AutoencoderKLWan.from_pretrained(out / "vae", torch_dtype=torch.float32).eval()
    judged = judge_reconstructions(shipped_vae, count=judged_count)
    scores = rows("dit/scores.csv")
    shipped = json.loads((out / "sketch_recipe.json").read_text())
    best = max((float(row["judge"]) for row in scores), default=0.0)
    params = {}
    for name in ("transformer", "text_encoder", "vae"):
        cfg = out / name / ("model.safetensors" if name == "text_encoder" else "diffusion_pytorch_model.safetensors")
        params[name] = cfg.stat().st_size // 2 if cfg.exists() else 0  # fp16: two bytes a parameter
    minutes = lambda seconds: float(seconds) / 60  # noqa: E731
    lines = [
        "---", "license: apache-2.0", "library_name: diffusers", "pipeline_tag: text-to-video", "---", "",
        "# sketch-video", "",
        "A toy text-to-video model of a toy world, trained by the Weft team and shipped with Weft. It draws",
        "one or two flat shapes (circle, square, triangle) in nine colours moving left, right, up or down,",
        "growing, shrinking or staying still on a plain background, from a caption such as",
        "\"a red circle moves right and a yellow square grows on a blue background\". It knows no other",
        "words (Weft says which words of a prompt it does not know). It is not a real video model: it",
        "exists so that every offline render, test and benchmark makes something a judge can check.",
        "",
        card_status(best, r.eval_prompts),
        "", "Load it like any diffusers model:", "", "```python",
        "import torch", "from diffusers import WanPipeline",
        "pipe = WanPipeline.from_pretrained(\"engines/sketch/weights/sketch-video\", torch_dtype=torch.float32)",
        f"video = pipe(\"a red circle moves right on a blue background\", height={r.size}, width={r.size},",
        f"            num_frames={r.frames}, num_inference_steps={r.eval_steps}, guidance_scale={r.guidance}).frames[0]",
        "```", "",
        "## Data", "",
        f"Procedural clips from `engines/sketch/world.py` ({r.size}x{r.size}, {r.frames} frames at {r.fps:g} fps,",
        "antialiased), captions from its grammar. The VAE saw fresh random clips every step; the",
        f"transformer learned from {r.clips} captioned clips (scenes from generator seed {TRAIN_SCENES_SEED},",
        f"clip seeds 0..{r.clips - 1}), with {r.drop_caption:.0%} of captions dropped to the empty prompt",
        "for classifier-free guidance.", "",
        "## Architecture (diffusers classes, Wan 2.1 layout)", "",
        f"- `AutoencoderKLWan`: {LATENT_CELL}x spatial, 4x temporal, {r.z_dim} latent channels, encoder width "
        f"{r.vae_encoder_dim}, decoder width {r.vae_decoder_dim}, dims x[1, 2, 2], one residual block a level "
        f"(~{params['vae'] / 1e6:.2f} M parameters). Its latent space is fixed by hand, not learnt: each cell "
        f"of {LATENT_CELL}x{LATENT_CELL} pixels and four frames holds the mean colour of each frame and their "
        "mean squared brightness (`pooled_latent` in the training program says why); the decoder learnt to draw "
        "from it and the encoder to produce it.",
        f"- `WanTransformer3DModel`: {r.layers} blocks, {r.dim_heads} heads x {r.head_dim}, FFN {r.ffn}, "
        f"patch {r.time_patch}x{r.patch}x{r.patch} ({((r.frames - 1) // 4 + 1) // r.time_patch}x{side}x{side} = "
        f"{((r.frames - 1) // 4 + 1) // r.time_patch * side ** 2} tokens), ~{params['transformer'] / 1e6:.2f} M parameters.",
        f"- `UMT5EncoderModel`: {r.text_layers} layers, width {r.text_dim} (~{params['text_encoder'] / 1e6:.2f} M "
        "parameters); a word-level tokenizer over the sketch vocabulary.",
        f"- `UniPCMultistepScheduler` on flow sigmas, shift {r.flow_shift:g}, "
        + ("`prediction_type=\"sample\"`: the transformer predicts the clean latent (x-prediction), not the "
           "velocity; a 1x4x4 patch holds more values (256) than a token (192), and a velocity carries the "
           "patch's full-rank noise through that bottleneck, which left per-cell noise in every sample."
           if r.prediction == "sample" else "`prediction_type=\"flow_prediction\"` (velocity)."), "",
        "Weights are stored in float16 (load with `torch_dtype=torch.float32`).", "",
        "## Training (on two CPU cores)", "",
        f"1. VAE: {vae_done.get('step', r.vae_steps)} steps of {r.vae_batch} windows (5 or 9 frames, "
        f"{r.vae_crop}x{r.vae_crop}), AdamW {r.vae_lr:g}; the decoder on MSE + L1 from the fixed latent, the "
        f"encoder on MSE to it; {minutes(vae_done['seconds']):.0f} min (beside step 3). The decoder started as "
        "the exact unpacking of the latent (`unpacking_decoder`: each frame's cell colours enlarged), so it "
        "followed motion from step 0.",
        (f"2. Decoder alone, encoder frozen (beside step 3): {decoder[-1]['step']} steps, "
         f"{minutes(decoder[-1]['seconds']):.0f} min, reconstruction {decoder[-1]['psnr']} dB PSNR at the end "
         "(last logged batch)." if decoder else
         "2. (No decoder-only stage in these weights: the VAE stage's decoder is shipped.)"),
        f"   The judge on {judged_count} fresh clips decoded from the sketch latent by the shipped decoder: "
        f"{judged['decoded']:.0%}, through the trained encoder {judged.get('encoded', 0):.0%}. A text-to-video "
        "model on this VAE can be no better than the first figure.",
        *([f"3. Text encoder alone: {r.text_steps} steps teaching every token to predict the whole scene "
           "(background colour; each shape's colour, shape, motion, size, speed) from the training captions "
           f"(`pretrain_text_encoder`); held-out accuracy {text_accuracy}. "
           + ("It stays fixed while the transformer trains." if r.text_lr <= 0 else
              f"It trains on with the transformer at {r.text_lr:g}.")] if text_accuracy else []),
        f"{4 if text_accuracy else 3}. Transformer{' and text encoder' if r.text_steps <= 0 or r.text_lr > 0 else ''}: rectified flow (times half logit-normal, half uniform, shifted by {r.flow_shift:g}), "
        f"batch {r.dit_batch}, AdamW {r.dit_lr:g} with {r.warmup} warm-up steps and a cosine decay, "
        f"{shipped['dit_step']} steps in {minutes(shipped['dit_seconds']):.0f} min (the weights here).", "",
        *([f"   Loss: {r.shape_weight:g}x weight on the latent cells where a shape is (`shape_cells`), so "
           "the shapes, a few percent of the frame, are not drowned by the background.", ""]
          if r.shape_weight > 0 else []),
        _reproduce_line(r), "",
        # A run that was changed on the way (a longer schedule, a new loss) says how in RUN_DIR/history.md.
        *([(run_dir / "history.md").read_text().strip(), ""] if (run_dir / "history.md").exists() else []),
        f"## The judge's score as training went ({r.eval_prompts} fresh prompts, {r.eval_steps} steps, "
        f"guidance {r.guidance:g})", "",
        "| step | minutes of transformer training | all right | colours and background |",
        "|---:|---:|---:|---:|",
    ]
    for row in scores:
        lines.append(f"| {row['step']} | {minutes(row['seconds']):.0f} | {float(row['judge']):.0%} | "
                     f"{float(row['colours']):.0%} |")
    lines += ["", "The judge (`engines/sketch/judge_video.py`) reads the decoded frames: palette colour masks, the",
              "background from the border, each shape's centroid and area over time. The test",
              "`tests/sketch/test_sketch_video_judge.py` renders 30 other fresh prompts through `weft batch`",
              "and judges the MP4s.", ""]
    (out / "README.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    import torch

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", type=Path, required=True, help="folder for checkpoints and logs")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "weights" / "sketch-video")
    p.add_argument("--minutes", type=float, default=None, help="stop (resumably) after this long")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--stage", choices=["vae", "decoder", "latents", "dit", "export", "card", "all"], default="all")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="override a recipe field")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    r = load_recipe(Recipe, args.run, args.set)
    if args.stage in ("vae", "all"):
        train_vae(r, args.run, args.minutes)
        if not (args.run / "vae" / "done").exists():
            return
    if args.stage == "decoder":
        train_decoder(r, args.run, args.minutes)
    if args.stage in ("latents", "all"):
        encode_latents(r, args.run, args.minutes)
    if args.stage in ("dit", "all"):
        train_dit(r, args.run, args.out, args.minutes)
    if args.stage == "export":
        export(r, args.run, args.out)
    if args.stage in ("card", "export", "all") and (args.out / "model_index.json").exists():
        write_card(r, args.run, args.out)


if __name__ == "__main__":
    main()
