"""An 8-bit float (fp8) Wan transformer file: memory held, and the cost of widening per layer.

Builds the Wan 2.1 T2V 1.3B transformer's architecture (its published config:
width 1536, 12 heads, FFN 8960) with random weights and ``--blocks`` of its 30
blocks (the blocks are alike, so a few measure the per-block figure without
6 GB of float32 on a small machine), writes it as a plain
fp8 (E4M3) ComfyUI single file, then loads it as Weft does for a registered
model (engines/models/low_precision.read_weights + diffusers' from_single_file)
twice: widened to float32 (what a CPU render holds without 8-bit storage) and
with the 8-bit weights kept (engines/models/eight_bit_weights.keep_in_8_bits).
Prints the weights' bytes of each (one block, the rest, and the whole
model's: the rest plus 30 blocks), a forward pass's time on a small latent for each, and whether the two
outputs are identical.

    .venv/bin/python bench/fp8_memory.py [--blocks 4] [--repeats 3] [--latent 3x16x16]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401 (puts the checkout on the import path, offline)

WAN_13B = dict(patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16,
               out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30, cross_attn_norm=True,
               qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)


def weights_bytes(model) -> tuple[int, int]:
    """(bytes of the blocks' weights, bytes of the rest: embedders, head)."""
    blocks = sum(p.numel() * p.element_size() for p in model.blocks.parameters())
    return blocks, sum(p.numel() * p.element_size() for p in model.parameters()) - blocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latent", default="3x16x16", help="latent frames x height x width of the forward")
    args = parser.parse_args()

    import torch
    from diffusers import WanTransformer3DModel
    from safetensors.torch import save_file

    from engines.models.comfy_layout import transformer_to_comfy
    from engines.models.eight_bit_weights import keep_in_8_bits
    from engines.models.low_precision import read_weights

    torch.manual_seed(0)
    config = {**WAN_13B, "num_layers": args.blocks}
    model = WanTransformer3DModel(**config)
    with tempfile.TemporaryDirectory(prefix="weft-fp8-") as scratch:
        folder = Path(scratch) / "base"
        model.save_pretrained(folder / "transformer")  # the config from_single_file reads
        # A plain fp8 file as ComfyUI's are written: weight matrices in 8 bits, the rest as they were.
        state = {k: (v.to(torch.float8_e4m3fn) if v.ndim >= 2 else v).contiguous()
                 for k, v in transformer_to_comfy(model.state_dict()).items()}
        path = Path(scratch) / "wan_fp8_e4m3fn.safetensors"
        save_file(state, path)
        del model, state
        file_mb = path.stat().st_size / 1e6

        def load():
            return WanTransformer3DModel.from_single_file(read_weights(path, torch.float32), config=str(folder),
                                                          subfolder="transformer", local_files_only=True,
                                                          torch_dtype=torch.float32).eval()

        wide = load()
        small = load()
        saved = keep_in_8_bits(small, torch.float8_e4m3fn)
        g = torch.Generator().manual_seed(1)
        frames, height, width = (int(v) for v in args.latent.split("x"))
        latents = torch.randn(1, 16, frames, height, width, generator=g)
        text = torch.randn(1, 32, 4096, generator=g)
        t = torch.tensor([500.0])
        times: dict[str, list[float]] = {"float32": [], "8-bit kept": []}
        outputs = {}
        with torch.no_grad():
            for _ in range(args.repeats):
                for name, m in (("float32", wide), ("8-bit kept", small)):
                    t0 = time.perf_counter()
                    outputs[name] = m(latents, t, text, return_dict=False)[0]
                    times[name].append(time.perf_counter() - t0)
        sizes = {"float32": weights_bytes(wide), "8-bit kept": weights_bytes(small)}

    full = WAN_13B["num_layers"]
    print(f"Wan 2.1 T2V 1.3B architecture, {args.blocks} of {full} blocks, random weights; plain fp8 file "
          f"{file_mb:.0f} MB; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print()
    tokens = frames * height * width // 4
    print(f"| weights held | one block | the rest (embedders, head) | whole model, {full} blocks | "
          f"forward, {args.latent} latent, {tokens} tokens (median s) |")
    print("|---|---:|---:|---:|---:|")
    for name, (blocks, rest) in sizes.items():
        print(f"| {name} | {blocks / args.blocks / 1e6:.0f} MB | {rest / 1e6:.0f} MB | "
              f"{(blocks / args.blocks * full + rest) / 1e9:.2f} GB | {statistics.median(times[name]):.3f} |")
    print()
    print(f"saved {saved / 1e6:.0f} MB; outputs identical: {torch.equal(outputs['float32'], outputs['8-bit kept'])}")


if __name__ == "__main__":
    main()
