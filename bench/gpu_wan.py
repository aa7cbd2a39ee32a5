"""Full-size Wan 2.1 T2V 1.3B architecture on a GPU: bare diffusers, Weft Final, Weft Draft.

Random weights built from the published configuration (no download): the
1.3B transformer (30 blocks, 1536 wide, 12 heads) and the real Wan VAE, in
bfloat16 (VAE float32, as the catalogue loads it). The UMT5-XXL text encoder is
not built: prompts go in as random embeddings of its shape (512 x 4096), since
encoding a prompt happens once per render and is not what is measured.

Rows:
* bare diffusers: ``WanPipeline.__call__`` directly, guidance 5.
* Weft Final: the same call through ``run_denoiser`` with the node's defaults
  (all switches off: the hooks only count), i.e. Weft's overhead.
* Weft Final + switches: adaptive guidance 0.995 with FirstBlockCache 0.05.
* Weft Draft: the Draft quality's parameters (engines/quality.py) for the
  same node: fewer steps, half size, adaptive guidance, a cache.

Each row: seconds for the whole call including the VAE decode (median of
--repeats after a warm-up), transformer evaluations, block evaluations, peak
GPU memory.

    .venv/bin/python bench/gpu_wan.py                        # 832x480, 81 frames, 50 steps
    .venv/bin/python bench/gpu_wan.py --device cpu --layers 2 --dim-heads 2 --width 64 --height 64 \\
        --frames 9 --steps 3 --repeats 1                      # a smoke test of the script itself
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from _common import NodeRunContext  # (also puts the repo on sys.path, offline env)


def build(args: argparse.Namespace):
    import torch
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel

    from engines.models.manager import ModelManager

    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[args.dtype]
    torch.manual_seed(0)
    # Wan-AI/Wan2.1-T2V-1.3B-Diffusers transformer/config.json
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=args.dim_heads, attention_head_dim=128, in_channels=16,
        out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=8960 if args.dim_heads == 12 else 4 * 128 * args.dim_heads,
        num_layers=args.layers, cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6,
        rope_max_seq_len=1024).to(dtype).eval()
    # As from_pretrained(dtype=...) does: the modules Wan keeps in float32 stay there.
    keep = tuple(getattr(transformer, "_keep_in_fp32_modules", None) or ())
    for name, module in transformer.named_modules():
        if keep and any(part in keep for part in name.split(".")):
            module.float()
    vae = AutoencoderKLWan().eval()  # the defaults are the real Wan 2.1 VAE's configuration
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0,
                                        num_train_timesteps=1000, solver_order=2, solver_type="bh2",
                                        final_sigmas_type="zero", lower_order_final=True)
    # The tiny twin's tokenizer and text encoder only fill the pipeline's slots:
    # prompts arrive as embeddings.
    tiny = ModelManager(profile="tiny").pipeline("wan2.1-t2v-1.3b")
    pipe = WanPipeline(tokenizer=tiny.tokenizer, text_encoder=tiny.text_encoder, vae=vae, scheduler=scheduler,
                       transformer=transformer)
    pipe.to(args.device)
    pipe.set_progress_bar_config(disable=True)
    pipe._weft_model_id = "wan2.1-t2v-1.3b"
    pipe._weft_profile = "default"
    g = torch.Generator("cpu").manual_seed(1)
    embeds = torch.randn(1, 512, 4096, generator=g).to(args.device, dtype)
    negative = torch.randn(1, 512, 4096, generator=g).to(args.device, dtype)
    return pipe, embeds, negative


def timed(fn, repeats: int, device: str) -> tuple[Any, float, int]:
    import torch

    times, peak, out = [], 0, None
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        out = fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
            peak = max(peak, torch.cuda.max_memory_allocated())
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times), peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", default="bf16", choices=("bf16", "fp16", "fp32"))
    parser.add_argument("--width", type=int, default=832)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--frames", type=int, default=81)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--layers", type=int, default=30)
    parser.add_argument("--dim-heads", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    import torch

    from engines.diffusion import generator, run_denoiser
    from engines.quality import effective_params
    from nodes.catalogue.generate import TextToVideo

    torch.set_grad_enabled(False)
    pipe, embeds, negative = build(args)
    call = dict(prompt_embeds=embeds, negative_prompt_embeds=negative, num_frames=args.frames,
                guidance_scale=5.0, output_type="np")
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else args.device
    print(f"Wan 2.1 T2V 1.3B architecture, random weights, {args.dtype}; {args.width}x{args.height}, "
          f"{args.frames} frames, {args.steps} steps, guidance 5; {name}; {time.strftime('%Y-%m-%d')}")

    def bare():
        return pipe(width=args.width, height=args.height, num_inference_steps=args.steps,
                    generator=generator(0), **call)

    def weft(params: dict[str, Any], steps: int, width: int, height: int):
        ctx = NodeRunContext(TextToVideo, params, node_id="t2v", profile="default")

        def go():
            run_denoiser(ctx, pipe, steps=steps, width=width, height=height, generator=generator(0), **call)
            return ctx.stats
        return go

    pipe(width=args.width, height=args.height, num_inference_steps=2, generator=generator(0), **call)  # warm-up
    rows = []
    _, seconds, peak = timed(bare, args.repeats, args.device)
    rows.append(("bare diffusers", seconds, 2 * args.steps, None, peak))
    for label, params in (("Weft Final", {}),
                          ("Weft Final + AG 0.995 + FBC 0.05",
                           {"adaptive_guidance": 0.995, "block_cache": "first_block", "cache_threshold": 0.05})):
        stats, seconds, peak = timed(weft(params, args.steps, args.width, args.height), args.repeats, args.device)
        rows.append((label, seconds, stats["nfe"], stats.get("block_evals"), peak))
    draft = effective_params(TextToVideo, {**TextToVideo.default_params(), "steps": args.steps,
                                           "width": args.width, "height": args.height}, "draft")
    stats, seconds, peak = timed(weft(draft, draft["steps"], draft["width"], draft["height"]), args.repeats,
                                 args.device)
    rows.append((f"Weft Draft ({draft['steps']} steps, {draft['width']}x{draft['height']})", seconds, stats["nfe"],
                 stats.get("block_evals"), peak))

    base = rows[0][1]
    print(f"\n| run | seconds | x bare | transformer evals | block evals | peak GPU memory |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, seconds, nfe, blocks, peak in rows:
        shown = "-" if blocks is None else f"{blocks:.0f}"
        print(f"| {label} | {seconds:.1f} | {seconds / base:.2f} | {nfe} | {shown} | {peak / 2**30:.1f} GiB |")


if __name__ == "__main__":
    main()
