"""GPU options, chosen when the engine starts: precision, compile, attention, quantisation.

All off by default: until each is measured on the artist's GPU, Weft renders
with the settings the model was published with (bfloat16 on a GPU, float32 VAE
where the catalogue says so). They are load-time settings, not node
parameters: changing one means loading the model again.

* ``precision``: auto (the catalogue's choice), bf16, fp16 or fp32.
* ``compile``: ``torch.compile`` of the transformer's repeated blocks
  (``compile_repeated_blocks``: a few seconds of compiling per shape, then
  faster steps). Worth it for repeated renders of one size.
* ``attention``: a diffusers attention backend (``flash``, ``sage``,
  ``_native_cudnn``, ...), set on the transformers; the kernel must be
  installed. Hub-downloaded kernels (``*_hub``) are refused: Weft runs offline.
* ``quantize``: a diffusers quantisation backend for the transformer and text
  encoder, when its package is installed: ``bnb_nf4``, ``bnb_int8``
  (bitsandbytes), ``torchao_int8`` (torchao).

* ``vae_channels_last``: the VAE's weights in ``channels_last_3d`` memory
  order (``channels_last`` for a 2D VAE), which the CPU convolution kernels run
  faster (issue 13 measured a CPU video decode about 10% faster). Not
  bit-identical (differences near 6e-6), hence an option and in the cache key.

Given by worker options or environment variables (WEFT_PRECISION,
WEFT_COMPILE, WEFT_ATTENTION, WEFT_QUANTIZE, WEFT_VAE_CHANNELS_LAST).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Any

PRECISIONS = ("auto", "bf16", "fp16", "fp32")
QUANTIZATIONS = ("none", "bnb_nf4", "bnb_int8", "torchao_int8")
_QUANT_PACKAGES = {"bnb_nf4": "bitsandbytes", "bnb_int8": "bitsandbytes", "torchao_int8": "torchao"}


class GpuOptionError(ValueError):
    """An option this machine cannot honour; the message says why."""


@dataclass(frozen=True)
class GpuOptions:
    precision: str = "auto"
    compile: bool = False
    attention: str = ""
    quantize: str = "none"
    vae_channels_last: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "GpuOptions":
        env = dict(os.environ if env is None else env)
        return cls(precision=env.get("WEFT_PRECISION", "auto") or "auto",
                   compile=env.get("WEFT_COMPILE", "").strip().lower() in ("1", "true", "yes", "on"),
                   attention=env.get("WEFT_ATTENTION", "") or "",
                   quantize=env.get("WEFT_QUANTIZE", "none") or "none",
                   vae_channels_last=env.get("WEFT_VAE_CHANNELS_LAST", "").strip().lower()
                   in ("1", "true", "yes", "on"))

    def problems(self) -> list[str]:
        """What is wrong with these options on this machine (empty when fine)."""
        found = []
        if self.precision not in PRECISIONS:
            found.append(f"precision {self.precision!r}: choose one of {', '.join(PRECISIONS)}")
        if self.quantize not in QUANTIZATIONS:
            found.append(f"quantize {self.quantize!r}: choose one of {', '.join(QUANTIZATIONS)}")
        elif self.quantize != "none" and importlib.util.find_spec(_QUANT_PACKAGES[self.quantize]) is None:
            found.append(f"quantize {self.quantize!r} needs the {_QUANT_PACKAGES[self.quantize]} package, "
                         "which is not installed")
        if self.attention:
            if self.attention.endswith("_hub"):
                found.append(f"attention {self.attention!r} downloads its kernel from the Hub; "
                             "install the kernel locally and use the local backend")
            else:
                from diffusers.models.attention_dispatch import AttentionBackendName

                names = [b.value for b in AttentionBackendName]
                if self.attention not in names:
                    found.append(f"attention {self.attention!r}: not a diffusers backend "
                                 f"({', '.join(n for n in names if not n.endswith('_hub'))})")
        return found

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise GpuOptionError("; ".join(problems))

    def fingerprint(self) -> str:
        """What of these options changes the numbers a render produces ("" at the defaults).

        Goes into model nodes' cache keys: an fp16 render is not a bf16 one.
        The attention backend and compile change rounding too.
        """
        parts = []
        if self.precision != "auto":
            parts.append(f"precision={self.precision}")
        if self.quantize != "none":
            parts.append(f"quantize={self.quantize}")
        if self.attention:
            parts.append(f"attention={self.attention}")
        if self.compile:
            parts.append("compile")
        if self.vae_channels_last:
            parts.append("vae_channels_last")
        return ",".join(parts)

    # -- applied by the model manager -----------------------------------------------
    def dtype(self, default: Any) -> Any:
        import torch

        chosen = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}.get(self.precision)
        if chosen is None:
            return default
        if isinstance(default, dict):  # keep the catalogue's float32 components (the Wan VAE)
            return {name: (chosen if name == "default" else value) for name, value in default.items()}
        return chosen

    def quantization_config(self) -> Any:
        if self.quantize == "none":
            return None
        import torch
        from diffusers import PipelineQuantizationConfig

        components = ["transformer", "transformer_2", "text_encoder"]
        if self.quantize == "bnb_nf4":
            return PipelineQuantizationConfig(
                quant_backend="bitsandbytes_4bit",
                quant_kwargs={"load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
                              "bnb_4bit_compute_dtype": torch.bfloat16},
                components_to_quantize=components)
        if self.quantize == "bnb_int8":
            return PipelineQuantizationConfig(quant_backend="bitsandbytes_8bit",
                                              quant_kwargs={"load_in_8bit": True},
                                              components_to_quantize=components)
        from diffusers import TorchAoConfig
        from torchao.quantization import Int8WeightOnlyConfig

        return PipelineQuantizationConfig(
            quant_mapping={"transformer": TorchAoConfig(Int8WeightOnlyConfig()),
                           "transformer_2": TorchAoConfig(Int8WeightOnlyConfig())})

    def after_load(self, pipe: Any) -> None:
        from engines.diffusion import denoisers

        vae = getattr(pipe, "vae", None)
        if self.vae_channels_last and vae is not None:
            import torch

            # Only the convolution kernels have a channels-last order (5D: 3D convs, 4D: 2D ones).
            formats = {5: torch.channels_last_3d, 4: torch.channels_last}
            for param in vae.parameters():
                if param.dim() in formats:
                    param.data = param.data.contiguous(memory_format=formats[param.dim()])

        for model in denoisers(pipe):
            if self.attention and hasattr(model, "set_attention_backend"):
                model.set_attention_backend(self.attention)
            if self.compile and getattr(model, "_repeated_blocks", None):
                model.compile_repeated_blocks(fullgraph=True)
                model._weft_compiled = True
