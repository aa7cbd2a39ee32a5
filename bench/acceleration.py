"""What each speed switch saves, and what it costs in fidelity, on a CPU-sized Wan.

Builds a Wan 2.1 text-to-video pipeline from the tiny twin's text encoder, VAE
and scheduler with a bigger random-weight transformer (so the transformer, not
Python overhead, is what a step costs), then renders the same prompt and seed
once plain and once per switch, through Weft's own ``run_denoiser`` (the hooks
every model node uses). For each: transformer evaluations (nfe), block
evaluations, the share saved, the denoising time against the plain run, and the
PSNR of the decoded video against the plain run's.

Random weights: the numbers say what the mechanisms do (how many evaluations
they skip, how far the result drifts), not how good a real model looks.

    .venv/bin/python bench/acceleration.py [--size 192 --frames 9 --steps 16 --layers 8 --repeats 3 --threads 1]

On trained weights: ``--model sketch-video`` runs the shipped sketch model
(64x64, 17 frames) on several prompts of the sketch world and sweeps each
switch's threshold. Per setting it prints evaluations and block evaluations
saved, the mean PSNR and SSIM of the decoded clips against the plain run's,
and how many clips the judge passes, then the most aggressive setting of each
switch that keeps PSNR >= 30 dB: the defaults Draft and the docs recommend.

    .venv/bin/python bench/acceleration.py --model sketch-video [--prompts 6 --steps 20]
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

from _common import ROOT, NodeRunContext  # (also puts the repo on sys.path, offline env)

PROMPT = "a red fox runs through fresh snow at dawn, cinematic, slow motion"
NEGATIVE = "blurry, low quality, still frame"
BENCH_MODEL = "bench-wan-cpu"


def build_pipeline(layers: int, dim_heads: int, head_dim: int):
    import torch
    from diffusers import WanPipeline, WanTransformer3DModel

    from engines.models.manager import ModelManager

    tiny = ModelManager(profile="tiny").pipeline("wan2.1-t2v-1.3b")
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=dim_heads, attention_head_dim=head_dim, in_channels=16,
        out_channels=16, text_dim=tiny.text_encoder.config.d_model, freq_dim=256,
        ffn_dim=4 * dim_heads * head_dim, num_layers=layers, cross_attn_norm=True,
        qk_norm="rms_norm_across_heads", rope_max_seq_len=1024).eval()
    pipe = WanPipeline(tokenizer=tiny.tokenizer, text_encoder=tiny.text_encoder, vae=tiny.vae,
                       scheduler=tiny.scheduler, transformer=transformer)
    pipe.set_progress_bar_config(disable=True)
    pipe._weft_model_id = BENCH_MODEL
    pipe._weft_profile = "tiny"
    return pipe


def decode(pipe, latents):
    import torch

    vae = pipe.vae
    mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1)
    std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1)
    with torch.no_grad():
        video = vae.decode(latents * std + mean, return_dict=False)[0]
    return ((video.clamp(-1, 1) + 1) / 2).float()


def psnr(a, b) -> float:
    mse = float(((a - b) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


def render(pipe, args, params: dict[str, Any], *, steps: int | None = None, guidance: float = 5.0,
           size: int | None = None):
    from engines.diffusion import generator, run_denoiser
    from nodes.catalogue.generate import TextToVideo

    times = []
    for _ in range(args.repeats):
        ctx = NodeRunContext(TextToVideo, params)
        t0 = time.process_time()
        out = run_denoiser(ctx, pipe, steps=steps or args.steps, prompt=PROMPT, negative_prompt=NEGATIVE,
                           width=size or args.size, height=size or args.size, num_frames=args.frames,
                           guidance_scale=guidance, generator=generator(args.seed), output_type="latent")
        times.append(time.process_time() - t0)
    # CPU time of this process, not wall time: the machine is shared, and
    # other work on it stretches wall time by whatever it takes.
    return out.frames, ctx.stats, min(times)


def ssim(a, b) -> float:
    """Mean structural similarity of two videos (frames, 3, H, W in [0, 1]) on luma, Gaussian window 1.5."""
    import cv2
    import numpy as np

    weights = np.array([0.299, 0.587, 0.114], np.float64)[None, :, None, None]
    x = (np.asarray(a, np.float64) * weights).sum(1)
    y = (np.asarray(b, np.float64) * weights).sum(1)
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    values = []
    for fx, fy in zip(x, y):
        blur = lambda img: cv2.GaussianBlur(img, (7, 7), 1.5)  # noqa: E731
        mx, my = blur(fx), blur(fy)
        vx, vy, cxy = blur(fx * fx) - mx * mx, blur(fy * fy) - my * my, blur(fx * fy) - mx * my
        values.append((((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))).mean())
    return float(np.mean(values))


def sketch_main(args: argparse.Namespace) -> None:
    """The switches on trained weights: sketch-video, judged and compared with its plain run."""
    import numpy as np
    import torch
    from diffusers import WanPipeline

    from engines.accel import magcache
    from engines.diffusion import generator, run_denoiser
    from engines.quality import effective_params
    from engines.sketch.judge_video import judge
    from engines.sketch.scorecard import judge_scenes
    from nodes.catalogue.generate import TextToVideo

    torch.set_grad_enabled(False)
    torch.set_num_threads(args.threads)
    folder = ROOT / "engines" / "sketch" / "weights" / "sketch-video"
    pipe = WanPipeline.from_pretrained(folder, torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    pipe._weft_model_id, pipe._weft_profile = "sketch-video", "default"
    scenes = judge_scenes(31, args.prompts)
    size, frames = 64, 17
    print(f"sketch-video (trained), {size}x{size}, {frames} frames, {args.steps} steps, guidance 5, "
          f"{len(scenes)} prompts; CPU threads {torch.get_num_threads()}")

    def call(scene, seed, steps, guidance):
        return dict(steps=steps, prompt=scene.caption(), negative_prompt="", width=size, height=size,
                    num_frames=frames, guidance_scale=guidance, generator=generator(seed), output_type="latent")

    calibration = magcache.calibrate_pipeline(pipe, **{k: v for k, v in call(scenes[0], 99, args.steps, 5.0).items()
                                                       if k != "steps"}, num_inference_steps=args.steps)
    magcache.register("sketch-video", "default", calibration["cond"])

    def run_all(params: dict[str, Any], steps: int, guidance: float = 5.0):
        videos, stats, seconds = [], [], 0.0
        for i, scene in enumerate(scenes):
            ctx = NodeRunContext(TextToVideo, params, profile="default")
            t0 = time.process_time()
            out = run_denoiser(ctx, pipe, **call(scene, 7000 + i, steps, guidance))
            seconds += time.process_time() - t0
            videos.append(decode(pipe, out.frames)[0].permute(1, 0, 2, 3).numpy())  # frames, 3, H, W
            stats.append(ctx.stats)
        return videos, stats, seconds

    def judged(videos):
        return sum(judge((np.transpose(v, (0, 2, 3, 1)) * 255).round().astype(np.uint8)).matches(s)
                   for v, s in zip(videos, scenes))

    plain, plain_stats, plain_time = run_all({}, args.steps)
    plain_nfe = sum(s["nfe"] for s in plain_stats)
    plain_blocks = sum(s.get("block_evals_full", s.get("block_evals", 0)) for s in plain_stats)
    rows = []

    def row(name: str, params: dict[str, Any], steps: int | None = None, switch: str = "") -> None:
        videos, stats, seconds = run_all(params, steps or args.steps)
        quality = float(np.mean([min(psnr(v, p), 99.0) for v, p in zip(videos, plain)]))
        similar = float(np.mean([ssim(v, p) for v, p in zip(videos, plain)]))
        nfe = sum(s["nfe"] for s in stats)
        blocks = sum(s.get("block_evals", s["nfe"] * 0) for s in stats)
        rows.append(dict(name=name, switch=switch, nfe_saved=1 - nfe / plain_nfe,
                         blocks_saved=1 - blocks / plain_blocks if plain_blocks else 0.0,
                         time=seconds / plain_time, psnr=quality, ssim=similar, judged=judged(videos)))

    for t in (0.9, 0.95, 0.98, 0.99, 0.995, 0.999):
        row(f"adaptive guidance {t}", {"adaptive_guidance": t}, switch="adaptive guidance")
    for until in (50.0, 75.0):
        row(f"guidance until {until:.0f}%", {"guidance_until": until}, switch="guidance until")
    for t in (0.05, 0.1, 0.15, 0.2, 0.3):
        row(f"FirstBlockCache {t}", {"block_cache": "first_block", "cache_threshold": t}, switch="FirstBlockCache")
    for t in (0.04, 0.08, 0.12, 0.2):
        row(f"MagCache {t}", {"block_cache": "magcache", "cache_threshold": t}, switch="MagCache")
    for k in (2, 3, 4):
        row(f"TaylorSeer interval {k}", {"block_cache": "taylorseer", "cache_interval": k}, switch="TaylorSeer")
    draft = effective_params(TextToVideo, {**TextToVideo.default_params(), "model": "sketch-video",
                                           "steps": args.steps, "width": size, "height": size}, "draft")
    draft_switches = {k: draft[k] for k in ("adaptive_guidance", "block_cache", "cache_threshold") if k in draft}
    row(f"Draft ({draft['steps']} steps, {draft_switches})", draft_switches, steps=draft["steps"], switch="Draft")

    print()
    header = (f"{'setting':<44} {'nfe saved':>9} {'blocks saved':>12} {'cpu x plain':>11} {'PSNR dB':>8} "
              f"{'SSIM':>6} {'judge':>6}")
    print(header)
    print("-" * len(header))
    print(f"{'plain':<44} {'':>9} {'':>12} {1.0:>11.2f} {'exact':>8} {1.0:>6.3f} "
          f"{judged(plain):>3}/{len(scenes)}")
    for r in rows:
        print(f"{r['name']:<44} {r['nfe_saved']:>9.0%} {r['blocks_saved']:>12.0%} {r['time']:>11.2f} "
              f"{r['psnr']:>8.1f} {r['ssim']:>6.3f} {r['judged']:>3}/{len(scenes)}")
    print()
    print("The most aggressive setting of each switch that keeps PSNR >= 30 dB against the plain run:")
    for switch in dict.fromkeys(r["switch"] for r in rows):
        ok = [r for r in rows if r["switch"] == switch and r["psnr"] >= 30.0]
        best = max(ok, key=lambda r: (r["nfe_saved"] + r["blocks_saved"]), default=None)
        print(f"  {switch}: {best['name'] if best else 'none of those tried'}"
              + (f" ({best['nfe_saved']:.0%} evaluations, {best['blocks_saved']:.0%} block evaluations saved, "
                 f"{best['psnr']:.1f} dB)" if best else ""))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=["bench", "sketch-video"], default="bench",
                        help="bench: a random-weight Wan sized for this CPU; sketch-video: the trained sketch model")
    parser.add_argument("--prompts", type=int, default=6, help="(sketch-video) how many sketch prompts")
    parser.add_argument("--size", type=int, default=192, help="width and height in pixels")
    parser.add_argument("--frames", type=int, default=9)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--head-dim", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads; 1 keeps CPU time honest on a shared machine (no spinning)")
    parser.add_argument("--ag-threshold", type=float, default=0.999)
    parser.add_argument("--fbc-threshold", type=float, default=0.15)
    parser.add_argument("--mag-threshold", type=float, default=0.12)
    args = parser.parse_args()
    if args.model == "sketch-video":
        if args.steps == 16:
            args.steps = 20
        sketch_main(args)
        return

    import torch

    from engines.accel import magcache
    from engines.quality import effective_params
    from nodes.catalogue.generate import TextToVideo

    torch.set_grad_enabled(False)
    torch.set_num_threads(args.threads)
    pipe = build_pipeline(args.layers, args.heads, args.head_dim)
    params_m = sum(p.numel() for p in pipe.transformer.parameters()) / 1e6
    print(f"Wan 2.1 architecture, random weights: transformer {args.layers} blocks x {args.heads * args.head_dim} "
          f"wide ({params_m:.1f} M parameters); {args.size}x{args.size}, {args.frames} frames, {args.steps} steps, "
          f"guidance 5, seed {args.seed}; CPU threads {torch.get_num_threads()}")

    # MagCache needs this transformer's ratios: calibrate them first (one plain run).
    calibration = magcache.calibrate_pipeline(
        pipe, prompt=PROMPT, negative_prompt=NEGATIVE, width=args.size, height=args.size, num_frames=args.frames,
        num_inference_steps=args.steps, guidance_scale=5.0, output_type="latent",
        generator=torch.Generator("cpu").manual_seed(args.seed + 1))
    magcache.register(BENCH_MODEL, "tiny", calibration["cond"])

    render(pipe, argparse.Namespace(**{**vars(args), "repeats": 1}), {}, steps=2)  # warm-up
    plain, plain_stats, plain_time = render(pipe, args, {})
    plain_video = decode(pipe, plain)
    print(f"cond/uncond cosine similarity per step (plain run): "
          f"{', '.join(f'{s:.5f}' for s in plain_stats['guidance_similarity'])}")
    rows = [("plain (guidance 5)", plain_stats, plain_time, math.inf, plain_stats)]

    def row(name: str, params: dict[str, Any], **kw: Any) -> None:
        latents, stats, seconds = render(pipe, args, params, **kw)
        video = decode(pipe, latents)
        quality = psnr(video, plain_video) if video.shape == plain_video.shape else float("nan")
        rows.append((name, stats, seconds, quality, plain_stats))

    row(f"adaptive guidance {args.ag_threshold}", {"adaptive_guidance": args.ag_threshold})
    row("guidance until 50%", {"guidance_until": 50.0})
    row(f"FirstBlockCache {args.fbc_threshold}", {"block_cache": "first_block", "cache_threshold": args.fbc_threshold})
    row("TaylorSeer interval 3", {"block_cache": "taylorseer", "cache_interval": 3})
    row(f"MagCache {args.mag_threshold}", {"block_cache": "magcache", "cache_threshold": args.mag_threshold})
    row(f"adaptive guidance + FirstBlockCache", {"adaptive_guidance": args.ag_threshold, "block_cache": "first_block",
                                                "cache_threshold": args.fbc_threshold})
    # FasterCache runs with guidance off (Wan's passes are separate calls): its own baseline.
    base1, base1_stats, base1_time = render(pipe, args, {}, guidance=1.0)
    base1_video = decode(pipe, base1)
    rows.append(("plain (guidance 1)", base1_stats, base1_time, math.inf, base1_stats))
    latents, stats, seconds = render(pipe, args, {"block_cache": "fastercache", "cache_interval": 2}, guidance=1.0)
    rows.append(("FasterCache interval 2 (guidance 1)", stats, seconds, psnr(decode(pipe, latents), base1_video),
                 base1_stats))
    # Draft: fewer steps at half the size, adaptive guidance and a cache; PSNR is not comparable.
    draft = effective_params(TextToVideo, {**TextToVideo.default_params(), "steps": args.steps,
                                           "width": args.size, "height": args.size}, "draft")
    latents, stats, seconds = render(pipe, args, draft, steps=draft["steps"], size=draft["width"])
    rows.append((f"Draft ({draft['steps']} steps, {draft['width']}x{draft['height']})", stats, seconds,
                 float("nan"), plain_stats))

    print()
    header = (f"{'method':<38} {'nfe':>5} {'saved':>6} {'blocks':>8} {'saved':>6} {'cpu s':>7} {'x plain':>7} "
              f"{'PSNR dB':>8}")
    print(header)
    print("-" * len(header))
    for name, stats, seconds, quality, base in rows:
        base_time = plain_time if base is plain_stats else base1_time
        nfe_saved = 1 - stats["nfe"] / base["nfe"]
        blocks = stats.get("block_evals", 0.0)
        blocks_saved = 1 - blocks / base["block_evals_full"] if base.get("block_evals_full") else 0.0
        shown = "exact" if quality == math.inf else ("n/a" if math.isnan(quality) else f"{quality:.1f}")
        print(f"{name:<38} {stats['nfe']:>5} {nfe_saved:>6.0%} {blocks:>8.1f} {blocks_saved:>6.0%} "
              f"{seconds:>7.2f} {seconds / base_time:>7.2f} {shown:>8}")
    print()
    print("nfe: transformer evaluations; blocks: block evaluations (a partly skipped block counts its share of "
          "weights that ran); saved: against the plain run with the same guidance; time: the denoising loop "
          "(no VAE decode), CPU seconds of this process (best of --repeats); PSNR: decoded video against the plain run's (exact = identical).")


if __name__ == "__main__":
    main()
