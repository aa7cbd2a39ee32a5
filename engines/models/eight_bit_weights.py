"""Holding a loaded model's weights in 8-bit floats, widened only while their layer runs.

A model read from an 8-bit float (fp8) file (engines/models/low_precision.py)
is dequantised into its compute dtype: a 14B transformer from a 14 GB file
would take 28 GB in bfloat16 (56 GB in float32 on a CPU). Every weight whose
value is exactly a float8 number (all of a plain fp8 file's) is held in 8
bits instead, and a diffusers hook widens it to its own dtype for its layer's
forward and drops the wide copy after, as ComfyUI runs these files. Lossless
by construction: a weight is kept so only if it survives the round trip bit
for bit, so the frames are those of the widened model.

diffusers' own `enable_layerwise_casting` casts whole modules, biases and
norms included, whatever their values: on these files that would round the
16-bit biases and norms the file kept. Here each weight is checked on its own.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from diffusers.hooks import HookRegistry, ModelHook

# diffusers reads a model's dtype (what a pipeline casts its latents to) from a hook of this
# name when one is attached, else from the first floating weight, which here may be 8-bit.
HOOK_NAME = "layerwise_casting"


class WidenForForward(ModelHook):
    """Holds the named weights of one layer in 8 bits; widens them for its forward only."""

    def __init__(self, names: list[str], storage: torch.dtype, compute_dtype: torch.dtype) -> None:
        super().__init__()
        self.names, self.storage = names, storage
        self.compute_dtype = compute_dtype  # the model's dtype, for diffusers' `model.dtype`
        self.widths: dict[str, torch.dtype] = {}
        self.held: dict[str, torch.Tensor] = {}

    def initialize_hook(self, module: torch.nn.Module) -> torch.nn.Module:
        for name in self.names:
            weight = getattr(module, name)
            self.widths[name] = weight.dtype
            weight.data = weight.data.to(self.storage)
        return module

    def pre_forward(self, module: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
        for name in self.names:
            weight = getattr(module, name)
            # Read from the parameter itself: an offloading hook may have moved it since.
            self.held[name] = weight.data
            weight.data = weight.data.to(self.widths[name])
        return args, kwargs

    def post_forward(self, module: torch.nn.Module, output: Any) -> Any:
        for name in self.names:
            getattr(module, name).data = self.held.pop(name)
        return output


def keep_in_8_bits(model: Any, storage: torch.dtype) -> int:
    """Hold in ``storage`` (an 8-bit float dtype) every weight of the diffusers model ``model``
    that is exactly a number of that type; returns the bytes saved. Only a layer's own weights
    (a module with no sub-modules) are kept so; never a weight two modules share (a tied
    embedding), which may be read outside the layer's forward, nor one in the modules the model
    lists as kept wide (`_skip_layerwise_casting_patterns`, which diffusers' own layerwise
    casting leaves alone too). Only diffusers models: their
    `dtype` honours the hook; a transformers model's would report the 8-bit type."""
    compute = model.dtype
    # Modules the model says must keep their dtype: its code reads their weights' dtype to cast
    # its inputs (Wan's condition embedder does), so an 8-bit weight there would break the call.
    keep = tuple(getattr(model, "_skip_layerwise_casting_patterns", None) or ())
    owners: dict[int, int] = {}
    for module in model.modules():
        for weight in module.parameters(recurse=False):
            owners[id(weight)] = owners.get(id(weight), 0) + 1
    saved = 0
    with torch.no_grad():
        for qualified, module in model.named_modules():
            if next(module.children(), None) is not None or any(re.search(p, qualified) for p in keep):
                continue
            names = [name for name, w in module.named_parameters(recurse=False)
                     if owners[id(w)] == 1 and w.is_floating_point() and w.dtype.itemsize > 1
                     and torch.equal(w.data, w.data.to(storage).to(w.dtype))]
            if not names:
                continue
            saved += sum(getattr(module, n).numel() * (getattr(module, n).dtype.itemsize - 1) for n in names)
            hook = WidenForForward(names, storage, compute)
            HookRegistry.check_if_exists_or_initialize(module).register_hook(hook, HOOK_NAME)
    return saved
