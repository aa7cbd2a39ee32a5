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
from dataclasses import dataclass, field
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

    def describe(self) -> str:
        extra = ", ".join(f"{k} {v}" for k, v in self.dims.items())
        return f"{self.kind}" + (f" ({extra})" if extra else "")


def read_header(path: Path) -> dict:
    """The safetensors header of ``path``; `CheckpointError` when the file is not whole."""
    path = Path(path)
    if path.suffix.lower() in (".gguf",):
        raise CheckpointError(f"{path.name}: a GGUF (quantised) file; Weft reads .safetensors checkpoints.")
    if path.suffix.lower() in (".ckpt", ".pt", ".pth", ".bin"):
        raise CheckpointError(f"{path.name}: a pickle checkpoint, which can run code when loaded; Weft reads only "
                              ".safetensors files (convert it, or download the .safetensors version).")
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
            header = json.loads(f.read(length))
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    except (ValueError, UnicodeDecodeError):
        raise CheckpointError(f"{path.name}: its header is not valid safetensors JSON (a damaged or "
                              "partial file?).") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path.name}: its header is not valid safetensors JSON.")
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    ends = [int(v["data_offsets"][1]) for v in tensors.values() if isinstance(v, dict) and "data_offsets" in v]
    needed = 8 + length + (max(ends) if ends else 0)
    if size < needed:
        raise CheckpointError(f"{path.name} is truncated: the file has {size:,} bytes but its header describes "
                              f"{needed:,} (an interrupted download: download it again).")
    return tensors


def identify(path: Path) -> Checkpoint:
    """What ``path`` holds; `CheckpointError` for a damaged file or one of no family Weft knows."""
    path = Path(path)
    tensors = read_header(path)
    keys = {k[len(COMFY_PREFIX):] if k.startswith(COMFY_PREFIX) else k: v for k, v in tensors.items()}

    def shape(name: str) -> list[int]:
        return list(keys.get(name, {}).get("shape", []))

    if "head.modulation" in keys and "patch_embedding.weight" in keys:
        out_dim, in_dim = shape("patch_embedding.weight")[:2]
        blocks = len({m.group(1) for k in keys if (m := re.match(r"blocks\.(\d+)\.", k))})
        if any(k.startswith("vace_blocks.") for k in keys):
            variant, kind = "vace", "Wan VACE transformer"
        elif "img_emb.emb_pos" in keys:
            variant, kind = "flf2v", "Wan first-last-frame-to-video transformer"
        elif any(k.startswith("img_emb.") for k in keys):
            variant, kind = "i2v", "Wan image-to-video transformer"
        else:
            variant, kind = "t2v", "Wan text-to-video transformer"
        return Checkpoint(path, "wan21", "transformer", kind, {"width": out_dim, "blocks": blocks,
                                                               "input channels": in_dim}, variant)
    if "decoder.middle.0.residual.0.gamma" in keys:
        return Checkpoint(path, "wan_vae", "vae", "Wan VAE", {"latent channels": (shape("conv1.weight") or [0])[0] // 2})
    if any(k.startswith("encoder.block.0.layer.0.SelfAttention") for k in keys) or "shared.weight" in keys:
        return Checkpoint(path, "umt5", "text_encoder", "T5-family text encoder")
    if any("visual" in k or k.startswith("vision_model.") for k in list(keys)[:50]):
        return Checkpoint(path, "clip_vision", "image_encoder", "CLIP vision encoder")
    sample = ", ".join(sorted(keys)[:3])
    raise CheckpointError(f"{path.name}: not a model family Weft can load from a single file (its first tensors: "
                          f"{sample}). Weft reads Wan 2.1 / 2.2 transformers (ComfyUI's diffusion_models); for "
                          "other models use a diffusers folder.")
