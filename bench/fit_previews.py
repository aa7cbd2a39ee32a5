"""Fit the step-preview projections (latent -> RGB) of every video latent space.

    python bench/fit_previews.py --models tiny      # the random-weight twins (tests, offline demo)
    python bench/fit_previews.py --models default   # the real VAEs: run once on a GPU machine

For each latent space (Wan 2.1, Wan 2.2 5B, LTX-Video, CogVideoX) it loads only the VAE
of one catalogue model of that space, encodes procedural clips (colour fields,
gradients, moving shapes: nothing downloaded), normalises the latents the way
the pipeline does during denoising, averages the clips' pixels over each
latent cell (space and time), and solves ``rgb = W @ latent + b`` by least
squares. It prints R^2 per colour and writes the 3xC matrix and the bias to
engines/preview_factors.json under the space and the profile.

Why encode and not decode: decoding random latents shows what a decoder does
with latents it never sees; encoding pictures gives latents like those the
model produces, paired with the colours they stand for.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
import time

import numpy as np

from _common import ROOT  # noqa: F401  (puts the repo on sys.path)

# One model per latent space; the VAE is all that is loaded.
SPACES = {
    "wan21": "wan2.1-t2v-1.3b",
    "wan22": "wan2.2-ti2v-5b",
    "ltxv": "ltx-video-0.9.5",
    "cogvideox": "cogvideox-2b",
    "sketch": "sketch-video",  # shipped: the same weights in every profile, fitted once for all
}
SPATIAL = {"wan21": 8, "wan22": 16, "ltxv": 32, "cogvideox": 8, "sketch": 4}
# Factors stored under this profile hold for every profile (models that ship with Weft).
EVERY_PROFILE = "any"


def procedural_clip(rng: np.random.Generator, width: int, height: int, frames: int) -> np.ndarray:
    """A clip in [0, 1], (frames, height, width, 3): a smooth colour field with moving discs and bars."""
    import cv2

    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.zeros((height, width, 3), np.float32)
    for c in range(3):  # a random low-frequency field per channel
        fx, fy, phase = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, 2 * math.pi)
        base[..., c] = 0.5 + 0.45 * np.sin(2 * math.pi * (fx * xx / width + fy * yy / height) + phase)
    base = base * rng.uniform(0.3, 1.0) + rng.uniform(0.0, 0.4, size=3).astype(np.float32) * rng.uniform(0, 1)
    shapes = []
    for _ in range(int(rng.integers(2, 6))):
        shapes.append(dict(colour=rng.uniform(0, 1, 3), radius=rng.uniform(0.05, 0.25) * min(width, height),
                           x=rng.uniform(0, width), y=rng.uniform(0, height),
                           dx=rng.uniform(-4, 4), dy=rng.uniform(-4, 4), disc=bool(rng.integers(0, 2))))
    clip = np.empty((frames, height, width, 3), np.float32)
    for f in range(frames):
        img = base.copy()
        for s in shapes:
            x, y, r = int(s["x"] + s["dx"] * f), int(s["y"] + s["dy"] * f), int(s["radius"])
            colour = tuple(float(v) for v in s["colour"])
            if s["disc"]:
                cv2.circle(img, (x, y), r, colour, -1, lineType=cv2.LINE_AA)
            else:
                cv2.rectangle(img, (x - r, y - r // 2), (x + r, y + r // 2), colour, -1)
        clip[f] = img
    return np.clip(clip, 0.0, 1.0)


def cell_means(clip: np.ndarray, spatial: int, temporal: int, lat_frames: int, lat_h: int, lat_w: int) -> np.ndarray:
    """The clip's colour averaged over each latent cell: (lat_frames, lat_h, lat_w, 3).

    Latent frame 0 stands for frame 0 alone (causal VAEs encode it by
    itself); latent frame k for the ``temporal`` frames after it.
    """
    groups = [clip[:1]] + [clip[1 + (k - 1) * temporal: 1 + k * temporal] for k in range(1, lat_frames)]
    out = np.empty((lat_frames, lat_h, lat_w, 3), np.float32)
    for k, group in enumerate(groups):
        mean = group.mean(axis=0)
        out[k] = mean[: lat_h * spatial, : lat_w * spatial].reshape(lat_h, spatial, lat_w, spatial, 3).mean(axis=(1, 3))
    return out


def load_vae(model_id: str, profile: str):
    import torch

    from nodes.model_catalogue import get_spec
    from engines.models.folders import is_complete_pipeline
    from engines.models.manager import ModelManager
    import diffusers

    spec = get_spec(model_id)
    manager = ModelManager(profile=profile)
    pipeline_class = getattr(diffusers, spec.pipeline_class)
    vae_class = pipeline_class._get_signature_types()["vae"][0]
    if spec.shipped:
        source = manager.local_folder(model_id)
    elif profile == "tiny":
        source = manager.ensure_tiny(model_id)
    else:
        folder = manager.models_dir / model_id
        source = folder if is_complete_pipeline(folder) else spec.repo_id
    vae = vae_class.from_pretrained(source, subfolder="vae", torch_dtype=torch.float32)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return vae.to(device).eval(), device


def encode(vae, clip: np.ndarray, device: str):
    """Pipeline-space latents (C, F, H, W) of a [0, 1] clip."""
    import torch

    x = torch.from_numpy(clip).permute(3, 0, 1, 2)[None].to(device) * 2.0 - 1.0
    with torch.no_grad():
        dist = vae.encode(x).latent_dist
        z = dist.mode() if hasattr(dist, "mode") else dist.mean
        cfg = vae.config
        if hasattr(cfg, "z_dim"):  # Wan: (z - mean) / std, as the Wan pipelines do
            mean = torch.tensor(cfg.latents_mean, device=device).view(1, -1, 1, 1, 1)
            std = torch.tensor(cfg.latents_std, device=device).view(1, -1, 1, 1, 1)
            z = (z - mean) / std
        elif getattr(vae, "latents_mean", None) is None:  # CogVideoX: z * scaling_factor, as its pipelines do
            z = z * cfg.scaling_factor
        else:  # LTX: (z - mean) * scaling / std, as LTXConditionPipeline._normalize_latents
            mean = vae.latents_mean.view(1, -1, 1, 1, 1).to(z)
            std = vae.latents_std.view(1, -1, 1, 1, 1).to(z)
            z = (z - mean) * cfg.scaling_factor / std
    return z[0].float().cpu().numpy()


def sketch_clip(rng: np.random.Generator, size: int, frames: int) -> np.ndarray:
    """A clip of the sketch world in [0, 1]: the sketch model's latents only ever stand for such clips."""
    from engines.sketch import world

    scene = world.random_scene(rng)
    return world.render(scene, int(rng.integers(1 << 30)), frames=frames, size=size).frames.astype(np.float32) / 255


def fit(space: str, model_id: str, profile: str, clips: int, size: int, frames: int, seed: int) -> dict:
    from nodes.video_rules import FAMILIES
    from nodes.model_catalogue import get_spec

    traits = FAMILIES[get_spec(model_id).family]
    vae, device = load_vae(model_id, profile)
    spatial = SPATIAL[space]
    temporal = traits.frame_step
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    started = time.perf_counter()
    for _ in range(clips):
        clip = sketch_clip(rng, size, frames) if space == "sketch" else procedural_clip(rng, size, size, frames)
        z = encode(vae, clip, device)
        c, lf, lh, lw = z.shape
        target = cell_means(clip, spatial, temporal, lf, lh, lw)
        xs.append(z.reshape(c, -1).T)
        ys.append(target.reshape(-1, 3))
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    design = np.concatenate([x, np.ones((len(x), 1), np.float32)], axis=1)
    solution, *_ = np.linalg.lstsq(design, y, rcond=None)
    predicted = design @ solution
    r2 = 1.0 - ((y - predicted) ** 2).sum(axis=0) / ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    print(f"{space:6s} {profile:8s} {model_id:22s} C={x.shape[1]:4d} cells={len(x):7d} "
          f"R2 r/g/b={r2[0]:.3f}/{r2[1]:.3f}/{r2[2]:.3f}  {time.perf_counter() - started:.1f}s")
    return {
        "weights": np.round(solution[:-1].T, 6).tolist(),
        "bias": np.round(solution[-1], 6).tolist(),
        "r2": np.round(r2, 4).tolist(),
        "fitted_on": {"model": model_id, "clips": clips, "size": size, "frames": frames,
                      "date": datetime.date.today().isoformat()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", choices=("tiny", "default"), default="tiny")
    parser.add_argument("--spaces", nargs="*", default=list(SPACES), choices=list(SPACES))
    parser.add_argument("--clips", type=int, default=0, help="clips per space (default: 8 tiny, 48 default)")
    parser.add_argument("--size", type=int, default=256, help="clip side in pixels (a multiple of 32)")
    parser.add_argument("--frames", type=int, default=17, help="frames per clip (8k+1 suits every space)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    clips = args.clips or (8 if args.models == "tiny" else 48)

    from engines.previews import FACTORS_FILE

    factors = json.loads(FACTORS_FILE.read_text()) if FACTORS_FILE.exists() else {}
    for space in args.spaces:
        shipped = space == "sketch"
        size = 64 if shipped else args.size  # the sketch model knows one size
        key = EVERY_PROFILE if shipped else args.models
        factors.setdefault(space, {})[key] = fit(space, SPACES[space], args.models, clips, size, args.frames,
                                                 args.seed)
    FACTORS_FILE.write_text(json.dumps(factors, indent=1) + "\n")
    print(f"wrote {FACTORS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
