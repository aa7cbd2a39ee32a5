"""A LoRA on a resident pipeline for the length of one node's run.

``pipe.load_lora_weights(path)`` reads a local .safetensors file; diffusers
converts the key names of the common non-diffusers formats (for Wan: the
ComfyUI/Kohya ``diffusion_model.*`` layout of lightx2v and CausVid files, and
musubi's ``lora_unet_*``). With two experts (Wan 2.2 A14B) the file goes into
both. ``unload_lora_weights()`` afterwards puts the original layers back, so
the next node gets the model as it was. Needs the ``peft`` package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ADAPTER = "weft_lora"


class LoraError(ValueError):
    """A LoRA that cannot be applied; the message says why."""


class LoraApplied:
    def __init__(self, pipe: Any, path: Path, strength: float, model_title: str) -> None:
        self.pipe = pipe
        self.path = path
        self.strength = float(strength)
        self.model_title = model_title
        self._loaded = False

    def __enter__(self) -> "LoraApplied":
        pipe, path = self.pipe, self.path
        if not path.is_file():
            raise LoraError(f"no LoRA file at {path}")
        if not hasattr(pipe, "load_lora_weights"):
            raise LoraError(f"{self.model_title} ({type(pipe).__name__}) cannot load LoRAs in diffusers")
        try:
            import peft  # noqa: F401
        except ImportError:
            raise LoraError("LoRAs need the peft package, which is not installed (pip install peft)") from None
        try:
            self._loaded = True
            pipe.load_lora_weights(str(path), adapter_name=ADAPTER)
            if getattr(pipe, "transformer_2", None) is not None:
                pipe.load_lora_weights(str(path), adapter_name=ADAPTER, load_into_transformer_2=True)
            if self.strength != 1.0:
                pipe.set_adapters([ADAPTER], [self.strength])
        except Exception as exc:
            self.__exit__()
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise LoraError(f"{path.name} does not fit {self.model_title}: {text}") from exc
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._loaded:
            self._loaded = False
            self.pipe.unload_lora_weights()


def write_random_lora(transformer: Any, path: Path, *, rank: int = 2, scale: float = 0.5, seed: int = 0) -> Path:
    """A small random LoRA for a Wan transformer, in the ComfyUI / lightx2v key layout.

    For tests and benchmarks: there is no real step-distillation LoRA for a
    tiny twin, but a file in the format the real ones ship in exercises
    diffusers' key conversion and Weft's load / unload path just the same.
    """
    import torch
    from safetensors.torch import save_file

    generator = torch.Generator("cpu").manual_seed(seed)
    targets = {"self_attn": ("attn1", ("q", "to_q"), ("k", "to_k"), ("v", "to_v"), ("o", "to_out.0")),
               "cross_attn": ("attn2", ("q", "to_q"), ("k", "to_k"), ("v", "to_v"), ("o", "to_out.0"))}
    state: dict[str, Any] = {}
    for i, block in enumerate(transformer.blocks):
        names = [(f"{group}.{short}", getattr(block, attn).get_submodule(full))
                 for group, (attn, *pairs) in targets.items() for short, full in pairs]
        names += [("ffn.0", block.ffn.net[0].proj), ("ffn.2", block.ffn.net[2])]
        for name, linear in names:
            out_features, in_features = linear.weight.shape
            key = f"diffusion_model.blocks.{i}.{name}"
            state[f"{key}.lora_down.weight"] = torch.randn(rank, in_features, generator=generator) * scale
            state[f"{key}.lora_up.weight"] = torch.randn(out_features, rank, generator=generator) * scale
            state[f"{key}.alpha"] = torch.tensor(float(rank))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    return path
