"""The memory budget: how many bytes resident pipelines hold, and evicting to fit.

Residency is bounded by a RAM and a VRAM budget (WEFT_RAM_BUDGET,
WEFT_VRAM_BUDGET, or the worker's options). Before a model loads, the least
recently used pipelines are evicted until its weights fit: loading next to
pipelines that must go anyway would need both in memory at once. Weights are
counted by tensor, so components two pipelines share count once.

torch is never imported here: with no torch loaded nothing can be resident,
and asking costs nothing.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engines.models.residents import Key, Residents


def parse_bytes(value: Any) -> int | None:
    """Bytes from 123, "123", "8GB", "512 MiB"; None for None or ""."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip().upper().replace(" ", "").removesuffix("B").removesuffix("I")
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(float(text))


def modules(pipe: Any) -> list[Any]:
    """The torch modules among a pipeline's components (its weights)."""
    import torch

    return [m for m in getattr(pipe, "components", {}).values() if isinstance(m, torch.nn.Module)]


def weights_bytes(pipes: list[Any]) -> dict[str, int]:
    """Parameter and buffer bytes of `pipes` (each a pipeline or a module), by device type, shared once."""
    torch = sys.modules.get("torch")
    usage = {"cpu": 0, "cuda": 0}
    if torch is None:
        return usage
    seen: set[int] = set()
    for pipe in pipes:
        parts = [pipe] if isinstance(pipe, torch.nn.Module) else modules(pipe)
        for module in parts:
            for tensor in [*module.parameters(), *module.buffers()]:
                if id(tensor) in seen:
                    continue
                seen.add(id(tensor))
                kind = "cuda" if tensor.device.type == "cuda" else "cpu"
                usage[kind] += tensor.numel() * tensor.element_size()
    return usage


def estimate_bytes(folder: Path | None) -> int:
    """The weights' size on disk: a fair guess at their size in memory, before loading."""
    if folder is None or not folder.is_dir():
        return 0
    return sum(f.stat().st_size for pattern in ("*/*.safetensors", "*/*.bin") for f in folder.glob(pattern))


def over_budget(residents: Residents, extra: int, ram_budget: int | None, vram_budget: int | None) -> bool:
    """Whether `extra` more bytes would overflow either budget (None: that one is unbounded)."""
    usage = weights_bytes(list(residents.pipelines.values()))
    if ram_budget is not None and usage["cpu"] + extra > ram_budget:
        return True
    if vram_budget is not None and usage["cuda"] + extra > vram_budget:
        return True
    return False


def make_room(residents: Residents, extra: int, keep: tuple[Key, ...], ram_budget: int | None,
              vram_budget: int | None, free: Callable[[], None]) -> None:
    """Evict least recently used pipelines until `extra` more bytes fit the budgets."""
    while over_budget(residents, extra, ram_budget, vram_budget):
        victim = next((key for key in residents.pipelines if key not in keep), None)
        if victim is None:
            return  # what is left is needed; placement handles a model too big alone
        residents.evict(victim)
        free()


def free_memory(device: str | None) -> None:
    """Give the memory of dropped pipelines back (`device`: None when torch never loaded)."""
    # Pipelines hold reference cycles (modules <-> hooks), so collect
    # before asking CUDA to hand the cached blocks back.
    gc.collect()
    if device is not None and device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
