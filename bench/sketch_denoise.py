"""What a sketch-video transformer gets right at each noise level, and what it draws from pure noise.

    .venv/bin/python bench/sketch_denoise.py [PIPELINE_FOLDER] [--placement anywhere|by_caption]

Two figures, both from the transformer alone (no sampler), on world clips:

1. Its clean-latent error by noise level (sigma), in the cells where a shape is and in the
   background, beside the error of predicting nothing. A model that is weak at low sigma
   cannot draw sharp shapes however well it lays a clip out; one weak at high sigma lays
   it out wrongly.
2. Where the moving shape is, frame by frame, in the clip decoded from its prediction at
   sigma 1 (pure noise in, the sampler's first step), 0.8 and 0.5, beside the true clip.
   WanTransformer3DModel has no absolute positions (rotary embeddings are relative), so
   from pure noise it can only draw what is the same at every place and time: a world
   whose captions fix where a shape is ("by_caption") gets a still, centred blob there
   and the sampler keeps it (run sv13: every mover stood still); where a shape may be
   anywhere, the first step is a faint even tint and the noise picks the place.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLIPS = 48
SIGMAS = (0.1, 0.3, 0.5, 0.7, 0.85, 0.95, 1.0)
MOVERS = (("a red circle moves right on a blue background", "red"),
          ("a yellow square moves up on a black background", "yellow"))


def main() -> None:
    import torch
    from diffusers import WanPipeline

    from engines.sketch import train_video as tv
    from engines.sketch import world
    from engines.sketch.judge_video import classify

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("folder", nargs="?", default=str(ROOT / "engines/sketch/weights/sketch-video"))
    p.add_argument("--placement", choices=world.PLACEMENTS, default=None,
                   help="where the world clips put their shapes (default: the folder's recipe)")
    args = p.parse_args()
    torch.set_num_threads(1)
    folder = Path(args.folder)
    recipe = json.loads((folder / "sketch_recipe.json").read_text())["recipe"]
    placement = args.placement or recipe.get("placement", "anywhere")
    pipe = WanPipeline.from_pretrained(folder, torch_dtype=torch.float32)
    vae, transformer = pipe.vae, pipe.transformer.eval()
    mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1)
    std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1)

    def latent(scene, seed):
        clip = world.render(scene, seed, placement=placement)
        return (tv.pooled_latent(tv.to_unit(clip.frames[None])) - mean) / std

    def predict(xt, sigma, emb):
        with torch.no_grad():
            return transformer(hidden_states=xt, timestep=torch.full((len(xt),), sigma * 1000.0),
                               encoder_hidden_states=emb, return_dict=False)[0]

    rng = np.random.default_rng(2027)  # scenes training never drew (it uses seed 1)
    scenes = [world.random_scene(rng) for _ in range(CLIPS)]
    x0 = torch.cat([latent(s, 10_000 + i) for i, s in enumerate(scenes)])
    with torch.no_grad():
        emb, _ = pipe.encode_prompt([s.caption() for s in scenes], do_classifier_free_guidance=False)
    cells = tv.shape_cells(x0)
    nothing = float((x0.pow(2) * cells).sum() / (cells.sum() * x0.shape[1]))
    print(f"{folder} ({placement} clips), clean-latent error by noise level on {CLIPS} held-out clips:\n")
    print("| sigma | shape cells | background | predicting nothing (shape cells) |")
    print("|---:|---:|---:|---:|")
    g = torch.Generator().manual_seed(0)
    for sigma in SIGMAS:
        noise = torch.randn(x0.shape, generator=g)
        pred = torch.cat([predict(((1 - sigma) * x0 + sigma * noise)[b:b + 16], sigma, emb[b:b + 16])
                          for b in range(0, CLIPS, 16)])
        err = (pred - x0).pow(2)
        shape = float((err * cells).sum() / (cells.sum() * x0.shape[1]))
        bg = float((err * (1 - cells)).sum() / ((1 - cells).sum() * x0.shape[1]))
        print(f"| {sigma:.2f} | {shape:.3f} | {bg:.4f} | {nothing:.3f} |")

    names = list(world.COLOURS)

    def track(frames: np.ndarray, colour: str) -> str:
        idx = classify(frames)
        out = []
        for t in range(0, frames.shape[0], 4):
            ys, xs = np.nonzero(idx[t] == names.index(colour))
            out.append(f"({xs.mean() / 64:.2f},{ys.mean() / 64:.2f}) {len(xs) / 4096:.3f}" if len(xs) else "none")
        return " | ".join(out)

    print("\nThe shape's centre (x, y) and area on frames 0, 4, 8, 12, 16, decoded from the prediction:\n")
    for caption, colour in MOVERS:
        scene = world.parse(caption)
        with torch.no_grad():
            emb1, _ = pipe.encode_prompt(caption, do_classifier_free_guidance=False)
        truth = latent(scene, 0)
        print(f"{caption}:")
        print(f"- truth: {track(world.render(scene, 0, placement=placement).frames, colour)}")
        for sigma in (1.0, 0.8, 0.5):
            noise = torch.randn(truth.shape, generator=torch.Generator().manual_seed(0))
            pred = predict((1 - sigma) * truth + sigma * noise, sigma, emb1)
            with torch.no_grad():
                frames = vae.decode(pred * std + mean, return_dict=False)[0]
            frames = ((frames[0].permute(1, 2, 3, 0).clamp(-1, 1) + 1) * 127.5).round().byte().numpy()
            print(f"- sigma {sigma}: {track(frames, colour)}")


if __name__ == "__main__":
    main()
