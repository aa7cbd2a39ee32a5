"""What a single-file checkpoint is, read from its safetensors header alone.

Artists arrive with ComfyUI folders of single files (`diffusion_models/`,
`vae/`, `text_encoders/`). Before Weft registers one it must know, cheaply and
without torch: is the file whole, which family and component it holds, and its
size class (the Wan 2.1 1.3B and 14B transformers differ only in width). A
safetensors file starts with an 8-byte length and a JSON header naming every
tensor with its shape and byte range, so all of that is a few kilobytes of
reading, even for a 30 GB file.

Key names follow the original (non-diffusers) layouts that ComfyUI and the
model authors publish; diffusers converts them on load (`from_single_file`).
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field, replace
from pathlib import Path

# The prefix ComfyUI writes in front of every diffusion-model tensor.
COMFY_PREFIX = "model.diffusion_model."

_HEADER_LIMIT = 100 << 20  # a header larger than this is not a checkpoint we can read


class CheckpointError(ValueError):
    """A file Weft cannot use as a checkpoint; the message says which file and why."""


@dataclass(frozen=True)
class Checkpoint:
    """One recognised single-file checkpoint."""

    path: Path
    family: str  # "wan21" (Wan 2.1 / 2.2 transformers), "wan_vae", "umt5", "clip_vision"
    component: str  # the diffusers component it stands for: "transformer", "vae", "text_encoder", ...
    kind: str  # what it is, in words: "Wan text-to-video transformer", ...
    # Shape facts that tell models of one family apart (width, blocks, input channels).
    dims: dict[str, int] = field(default_factory=dict)
    variant: str = ""  # "t2v", "i2v", "flf2v", "vace" for Wan transformers
    dtype: str = ""  # the safetensors dtype most of its weights are stored in: "F32", "F16", "BF16", "F8_E4M3", ...
    # How its weights are stored when not in plain 16/32-bit floats: "8-bit floats" or
    # "8-bit floats, scaled" (engines/models/low_precision.py reads both).
    quantisation: str = ""

    def describe(self) -> str:
        extra = ", ".join(f"{k} {v}" for k, v in self.dims.items())
        stored = f"in {self.quantisation}" if self.quantisation else ""
        inside = "; ".join(p for p in (extra, stored) if p)
        return f"{self.kind}" + (f" ({inside})" if inside else "")


def header_bytes(path: Path) -> tuple[bytes, int]:
    """The raw JSON header of the safetensors file ``path`` and the file's size;
    `CheckpointError` when there is no whole header to read. The one reader of the
    format's length-prefixed header (the cache fingerprint hashes these bytes)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise CheckpointError(f"{path.name}: {size} bytes, too short to be a safetensors file "
                                      "(an interrupted download?).")
            (length,) = struct.unpack("<Q", head)
            if length > _HEADER_LIMIT or length + 8 > size:
                raise CheckpointError(f"{path.name}: not a safetensors file, or cut off inside its header "
                                      "(an interrupted download?).")
            return f.read(length), size
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror or exc}).") from None


def read_header(path: Path) -> dict:
    """The safetensors header of ``path``; `CheckpointError` when the file is not whole."""
    path = Path(path)
    if path.suffix.lower() in (".gguf",):
        raise CheckpointError(f"{path.name}: a GGUF (quantised) file; Weft reads .safetensors checkpoints.")
    if path.suffix.lower() in (".ckpt", ".pt", ".pth", ".bin"):
        raise CheckpointError(f"{path.name}: a pickle checkpoint, which can run code when loaded; Weft reads only "
                              ".safetensors files (convert it, or download the .safetensors version).")
    raw, size = header_bytes(path)
    try:
        header = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CheckpointError(f"{path.name}: its header is not valid safetensors JSON (a damaged or "
                              "partial file?).") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path.name}: its header is not valid safetensors JSON.")
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    ends = [int(v["data_offsets"][1]) for v in tensors.values() if isinstance(v, dict) and "data_offsets" in v]
    needed = 8 + len(raw) + (max(ends) if ends else 0)
    if size < needed:
        raise CheckpointError(f"{path.name} is truncated: the file has {size:,} bytes but its header describes "
                              f"{needed:,} (an interrupted download: download it again).")
    return tensors


def identify(path: Path) -> Checkpoint:
    """What ``path`` holds; `CheckpointError` for a damaged file, one of no family Weft knows,
    or one quantised in a way Weft cannot read."""
    # Imported here: low_precision builds on this module's header reader.
    from engines.models.low_precision import quantisation

    path = Path(path)
    tensors = read_header(path)
    return replace(_identify(path, tensors), quantisation=quantisation(path, tensors))


def _identify(path: Path, tensors: dict) -> Checkpoint:
    keys = {k[len(COMFY_PREFIX):] if k.startswith(COMFY_PREFIX) else k: v for k, v in tensors.items()}
    dtype = main_dtype(keys)

    if "head.modulation" in keys and "patch_embedding.weight" in keys:
        out_dim, in_dim = _shape(keys, "patch_embedding.weight")[:2]
        blocks = _count(keys, r"blocks\.(\d+)\.")
        if any(k.startswith("vace_blocks.") for k in keys):
            variant, kind = "vace", "Wan VACE transformer"
        elif "img_emb.emb_pos" in keys:
            variant, kind = "flf2v", "Wan first-last-frame-to-video transformer"
        elif any(k.startswith("img_emb.") for k in keys):
            variant, kind = "i2v", "Wan image-to-video transformer"
        else:
            variant, kind = "t2v", "Wan text-to-video transformer"
        return Checkpoint(path, "wan21", "transformer", kind, {"width": out_dim, "blocks": blocks,
                                                               "input channels": in_dim}, variant, dtype)
    if "decoder.middle.0.residual.0.gamma" in keys:
        return _wan_vae(path, keys, dtype)
    if "shared.weight" in keys or any(k.startswith("encoder.block.0.layer.0.SelfAttention.") for k in keys):
        return _t5(path, keys, dtype)
    if any("visual" in k or k.startswith("vision_model.") for k in list(keys)[:50]):
        return Checkpoint(path, "clip_vision", "image_encoder", "CLIP vision encoder", dtype=dtype)
    sample = ", ".join(sorted(keys)[:3])
    raise CheckpointError(f"{path.name}: not a model family Weft can load from a single file (its first tensors: "
                          f"{sample}). Weft reads Wan 2.1 / 2.2 transformers (ComfyUI's diffusion_models), the Wan 2.1 "
                          "and 2.2 VAEs (vae) and UMT5 text encoders (text_encoders); for other models use a diffusers "
                          "folder.")


def main_dtype(keys: dict, among: tuple[str, ...] | None = None) -> str:
    """The dtype most of a file's bytes are stored in (of the dtypes ``among``, when given;
    "" when none). ``keys``: a safetensors header's tensors."""
    sizes: dict[str, int] = {}
    for info in keys.values():
        if (isinstance(info, dict) and "dtype" in info and "data_offsets" in info
                and (among is None or info["dtype"] in among)):
            start, end = info["data_offsets"]
            sizes[info["dtype"]] = sizes.get(info["dtype"], 0) + int(end) - int(start)
    return max(sizes, key=sizes.get) if sizes else ""


def _shape(keys: dict, name: str) -> list[int]:
    """The shape the header gives tensor ``name`` ([] when the file has no such tensor)."""
    return list(keys.get(name, {}).get("shape", []))


def _count(keys: dict, pattern: str) -> int:
    """How many distinct numbers ``pattern`` (with one group) finds in the key names."""
    return len({m.group(1) for k in keys if (m := re.match(pattern, k))})


def _wan_vae(path: Path, keys: dict, dtype: str) -> Checkpoint:
    """A Wan VAE in the original layout. Wan 2.2's groups the blocks by level. Wan 2.1's keeps
    each side's blocks in one flat list:
    the encoder has L * (R + 1) - 1 entries and the decoder L * (R + 2) - 1, for L levels of R
    residual blocks (the published one: 4 levels of 2), so both are read from the key names."""
    latent, first = _shape(keys, "conv2.weight"), _shape(keys, "encoder.conv1.weight")
    if any(re.match(r"(encoder|decoder)\.(down|up)samples\.\d+\.(down|up)samples\.", k) for k in keys):
        # Wan 2.2: grouped by level, `decoder.upsamples.L.upsamples.N`: num_res_blocks + 1 residual
        # blocks, then a resampler. Read from the decoder, whose levels all have weights (an
        # encoder level of no residual blocks and no resampler has none).
        levels = _count(keys, r"decoder\.upsamples\.(\d+)\.")
        blocks = _count(keys, r"decoder\.upsamples\.0\.upsamples\.(\d+)\.residual\.") - 1
        if not levels or not latent or not first:
            raise CheckpointError(f"{path.name}: named like a Wan 2.2 VAE, but its levels or its first or last "
                                  "layers are missing; a damaged or partial file?")
        return Checkpoint(path, "wan22_vae", "vae", "Wan 2.2 VAE",
                          {"latent channels": latent[0], "width": first[0], "levels": levels,
                           "residual blocks": blocks}, dtype=dtype)
    down = _count(keys, r"encoder\.downsamples\.(\d+)\.")
    up = _count(keys, r"decoder\.upsamples\.(\d+)\.")
    levels = up - down
    if levels < 1 or (down + 1) % levels or not latent or not first:
        raise CheckpointError(f"{path.name}: named like a Wan VAE, but its blocks do not add up to one "
                              f"({down} encoder and {up} decoder blocks, or its first or last layers missing); "
                              "a damaged or partial file?")
    return Checkpoint(path, "wan_vae", "vae", "Wan 2.1 VAE",
                      {"latent channels": latent[0], "width": first[0],
                       "levels": levels, "residual blocks": (down + 1) // levels - 1}, dtype=dtype)


def _t5(path: Path, keys: dict, dtype: str) -> Checkpoint:
    """A T5-family text encoder under Hugging Face's names. UMT5 (Wan's) gives every block its
    own relative position bias; T5 (Flux's, SD3's) only the first."""
    shared = list((keys.get("shared.weight") or keys.get("encoder.embed_tokens.weight") or {}).get("shape", []))
    blocks = _count(keys, r"encoder\.block\.(\d+)\.")
    dims = {"width": shared[1] if len(shared) == 2 else 0, "blocks": blocks,
            "vocabulary": shared[0] if len(shared) == 2 else 0}
    umt5 = "encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight" in keys or (
        blocks == 1 and "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight" in keys)
    if umt5:
        return Checkpoint(path, "umt5", "text_encoder", "UMT5 text encoder", dims, dtype=dtype)
    return Checkpoint(path, "t5", "text_encoder", "T5 text encoder", dims, dtype=dtype)
