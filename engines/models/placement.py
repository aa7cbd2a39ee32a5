"""GPU placement: which device renders, and how a pipeline sits on it.

On a GPU a model that does not fit the VRAM budget even alone is placed lighter
instead of failing: model CPU offload (one component on the GPU at a time),
then group offload (the transformer's blocks streamed in), both with VAE
tiling. Resident models nobody uses now are evicted before that, since a model
that streams its weights in every step costs more than one loaded again later.
After an out-of-memory error mid-render, `relieve` takes the next step down.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from engines.models.memory import modules, weights_bytes
from engines.models.residents import Key, Residents

# From heaviest to lightest; "cpu" is not on it (nothing lighter to offer there).
_LIGHTER = ["gpu", "model_offload", "group_offload"]


def choose_device() -> str:
    """The device WEFT_DEVICE asks for (the studio's Device setting), checked against this torch."""
    import torch

    wanted = os.environ.get("WEFT_DEVICE", "auto").strip().lower() or "auto"
    available = {"cuda": torch.cuda.is_available(), "cpu": True,
                 "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())}
    if wanted == "auto":
        return "cuda" if available["cuda"] else "cpu"
    if wanted.split(":")[0] not in available:
        raise ValueError(f"Device {wanted!r} (WEFT_DEVICE, the studio's Device setting) is not one of "
                         "auto, cuda, mps, cpu.")
    if not available[wanted.split(":")[0]]:
        raise RuntimeError(f"Device {wanted!r} was chosen (WEFT_DEVICE, the studio's Device setting) "
                           "but this machine's torch cannot use it; choose Automatic or CPU.")
    return wanted


def default_vram_budget(device: str) -> int:
    """90% of the GPU: the rest is for activations, which the budget does not count."""
    import torch

    return int(torch.cuda.get_device_properties(device).total_memory * 0.9)


def apply_placement(pipe: Any, placement: str, device: str) -> None:
    """Model offload keeps one component on the GPU at a time; group offload
    streams the transformer's blocks in. Both tile the VAE decode, the other
    peak of a video model."""
    if placement == "model_offload":
        pipe.to("cpu")
        pipe.enable_model_cpu_offload(device=device)
    elif placement == "group_offload":
        if hasattr(pipe, "remove_all_hooks"):
            pipe.remove_all_hooks()
        pipe.to("cpu")
        pipe.enable_group_offload(onload_device=device, offload_device="cpu", offload_type="block_level",
                                  num_blocks_per_group=1, use_stream=True)
    vae = getattr(pipe, "vae", None)
    if vae is not None and hasattr(vae, "enable_tiling"):
        vae.enable_tiling()


def place(pipe: Any, key: Key, residents: Residents, device: str, vram_budget: int | None,
          free: Callable[[], None]) -> None:
    """On the device if it fits the VRAM budget, else the lightest placement that works."""
    if not device.startswith("cuda"):
        pipe.to(device)
        residents.placement[key] = "cpu"
        return
    size = weights_bytes([pipe])["cpu"]
    budget = vram_budget or 0
    others = residents.others(key)
    # Evict before offloading: a resident model nobody uses now costs more
    # than a model that streams its weights in every step.
    while others and weights_bytes(others)["cuda"] + size > budget:
        residents.evict(next(k for k in residents.pipelines if k != key))
        others = residents.others(key)
        free()
    if size <= budget:
        pipe.to(device)
        residents.placement[key] = "gpu"
    else:
        largest = max((weights_bytes([m])["cpu"] for m in modules(pipe)), default=0)
        residents.placement[key] = "model_offload" if largest <= budget else "group_offload"
        apply_placement(pipe, residents.placement[key], device)


def relieve(residents: Residents, pipe: Any, device: str, free: Callable[[], None]) -> str | None:
    """After an out-of-memory error: evict the others, else place `pipe` one step lighter.

    Returns what was done, or None when `pipe` is not resident or nothing lighter is left.
    """
    key = next((k for k, p in residents.pipelines.items() if p is pipe), None)
    if key is None:
        return None
    others = [k for k in residents.pipelines if k != key]
    if others:
        for other in others:
            residents.evict(other)
        free()
        return "evicted " + ", ".join(k[0] for k in others)
    current = residents.placement.get(key, "gpu")
    if current not in _LIGHTER or current == _LIGHTER[-1]:
        return None
    nxt = _LIGHTER[_LIGHTER.index(current) + 1]
    apply_placement(pipe, nxt, device)
    residents.placement[key] = nxt
    free()
    return nxt
