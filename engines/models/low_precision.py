"""Reading 8-bit float (fp8) single files: the plain ones and ComfyUI's "scaled" ones.

Much of what artists download for ComfyUI is stored in 8-bit floats to halve
the download (`wan2.1_t2v_14B_fp8_e4m3fn.safetensors`,
`umt5_xxl_fp8_e4m3fn_scaled.safetensors`). Two kinds exist:

* plain: each weight is its 16-bit value rounded to float8 (E4M3 or E5M2);
  the value is the float8 number itself.
* scaled: each weight was divided by a scale before rounding, and the scale
  is stored beside it; the value is float8 number x scale. Reading one
  without its scale gives weights off by that factor, layer by layer: a
  model that runs and makes garbage. Two spellings are in circulation:
  the older `scaled_fp8` marker with `<layer>.scale_weight` (and an unused
  `<layer>.scale_input`), and ComfyUI's newer `<layer>.weight_scale` (with
  `input_scale`, `comfy_quant` entries and a `_quantization_metadata`
  header note). Scales are one number per tensor or one per output row.

Weft dequantises on load, tensor by tensor, into the compute dtype the
render asked for (one tensor at a time beside the model). Then, for a file
that stored 8-bit floats, the engine gives back the memory
(engines/models/eight_bit_weights.py): every transformer or VAE weight whose
value is exactly an 8-bit float (all of a plain file's; few of a scaled
file's, whose values are float8 numbers times an arbitrary scale) is held in
8 bits and widened only while its layer runs, as ComfyUI does with these
files; lossless, so the frames are those of the widened model. Other
quantisations (int8 blocks, NVIDIA FP4, GGUF) are refused by name, before
any weight is read.

`quantisation` reads only the header (no torch: registration runs in the
CLI); `read_weights` is the engine's loader of every single file.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from engines.models.checkpoints import CheckpointError, main_dtype, read_header

FP8 = ("F8_E4M3", "F8_E5M2")

# The scale tensors, and which weight each belongs to: "<layer>.scale_weight"
# and "<layer>.weight_scale" both scale "<layer>.weight".
_WEIGHT_SCALES = (".scale_weight", ".weight_scale")
# Entries that describe how activations were (or would be) quantised, or mark
# the format: nothing a dequantised model reads.
_NOT_WEIGHTS = (".scale_input", ".input_scale", ".comfy_quant")
_MARKER = "scaled_fp8"
# Parts of quantisation schemes Weft does not dequantise (double scaling, AWQ-style smoothing).
_UNREAD_SCALES = (".weight_scale_2", ".pre_quant_scale")


def _scaled_weight(name: str) -> str | None:
    """The weight a scale tensor called ``name`` belongs to (None when it is not a weight's scale)."""
    for suffix in _WEIGHT_SCALES:
        if name.endswith(suffix):
            return name[: -len(suffix)] + ".weight"
    return None


def _is_extra(name: str) -> bool:
    """A tensor of the format, not of the model (a scale, a marker, an activation scale)."""
    return (name == _MARKER or name.endswith("." + _MARKER) or name.endswith(_NOT_WEIGHTS)
            or _scaled_weight(name) is not None)


def quantisation(path: Path, tensors: dict[str, Any]) -> str:
    """How the file's weights are stored, in words for the artist: "" (16 or 32-bit floats),
    "8-bit floats" or "8-bit floats, scaled"; `CheckpointError` for a quantisation Weft cannot read.
    ``tensors`` is the file's safetensors header without its metadata."""
    unread = sorted(k for k in tensors if k.endswith(_UNREAD_SCALES))
    scales = {k: w for k in tensors if (w := _scaled_weight(k))}
    integer = sorted(w for w in scales.values() if str(tensors.get(w, {}).get("dtype", "")) in ("I8", "U8"))
    if unread or integer:
        example = (unread or integer)[0]
        raise CheckpointError(
            f"{Path(path).name}: its weights are quantised in a way Weft does not read (int8 blocks or 4-bit "
            f"floats: {example}). Weft reads 16 and 32-bit files and 8-bit float (fp8) ones, plain or scaled; "
            "download one of those.")
    for scale, weight in sorted(scales.items()):
        scale_shape, weight_shape = _shape(tensors, scale), _shape(tensors, weight)
        if not _fits(scale_shape, weight_shape):
            raise CheckpointError(
                f"{Path(path).name}: the scale of {weight} has shape {scale_shape} for a weight of shape "
                f"{weight_shape} (block-wise scaling, which Weft does not read; it reads one scale per tensor "
                "or per output row).")
    fp8 = [k for k, v in tensors.items() if isinstance(v, dict) and v.get("dtype") in FP8]
    if not fp8:
        return ""
    return "8-bit floats, scaled" if scales else "8-bit floats"


def read_weights(path: Path, dtype: Any) -> dict[str, Any]:
    """The model tensors of the safetensors file ``path``: 8-bit float weights dequantised (times
    their scale, when the file has one) into ``dtype``, the format's own entries left out, every
    other tensor as stored (the loader casts those). `CheckpointError` for a cut-off file or a
    quantisation Weft cannot read."""
    import torch
    from safetensors import safe_open

    path = Path(path)
    tensors = read_header(path)  # a truncated file is refused before reading it
    quantisation(path, tensors)
    scale_of = {w: k for k in tensors if (w := _scaled_weight(k))}
    target = dtype if isinstance(dtype, torch.dtype) else torch.float32
    state = {}
    with safe_open(str(path), framework="pt") as f:
        for name in f.keys():
            if _is_extra(name):
                continue
            tensor = f.get_tensor(name)
            if tensor.dtype in (torch.float8_e4m3fn, torch.float8_e5m2) or name in scale_of:
                # Multiplied in float32, then rounded once into the compute dtype.
                value = tensor.to(torch.float32)
                if name in scale_of:
                    value = value * _broadcast(f.get_tensor(scale_of[name]).to(torch.float32), value)
                tensor = value.to(target)
            state[name] = tensor
    return state


def _shape(tensors: dict[str, Any], name: str) -> list[int]:
    info = tensors.get(name)
    return list(info.get("shape", [])) if isinstance(info, dict) else []


def _fits(scale: list[int], weight: list[int]) -> bool:
    """Whether a scale of shape ``scale`` is one number, or one per output row of ``weight``."""
    count = math.prod(scale)
    return count == 1 or (len(weight) >= 1 and count == weight[0])


def _broadcast(scale: Any, weight: Any) -> Any:
    """``scale`` (one that `_fits`: `quantisation` checked) shaped to multiply ``weight``."""
    if scale.numel() == 1:
        return scale.reshape(())
    return scale.reshape(weight.shape[0], *([1] * (weight.ndim - 1)))


def fp8_kind(path: Path) -> Any:
    """The torch 8-bit float dtype most of ``path``'s 8-bit weights use, or None for a file with none."""
    import torch

    kind = main_dtype(read_header(path), among=FP8)
    return {"F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2}[kind] if kind else None

