"""Loading a pipeline: the spec's diffusers class, `from_pretrained(source)`.

One loading path for every model and both profiles, so the tiny twins that
tests load exercise the very code that loads the real weights. What differs
is only how: shipped models and twins are small enough to load as they are,
with no quantisation and no Hub; the artist's single files are read with
`from_single_file` into the base model's configs (a VAE or text encoder file
strictly, engines/models/single_files.py); real weights load from the
pulled folder or the Hub cache, in the precision (engines/accel/gpu.py) the
device wants. Where the weights come from is engines/models/sources.py; which
components can be reused is engines/models/sharing.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engines.models import single_files
from engines.models.folders import is_complete_pipeline
from engines.models.hub import hub_offline, not_available_message
from engines.models.low_precision import fp8_kind, read_weights
from engines.models.sources import ModelNotAvailableError
from engines.models.user_models import borrowed_from_base
from nodes.model_catalogue import ModelSpec, get_spec


def dtypes(spec: ModelSpec, device: str) -> Any:
    """The torch dtype (or {component: dtype}) to load `spec` in on `device`."""
    import torch

    if spec.shipped:
        # A few million parameters, stored in float16 and trained in float32:
        # float32 costs nothing here and keeps the results the judges saw.
        return torch.float32
    if device.startswith("cuda"):
        # bfloat16 halves memory and keeps float32's range; float16 is
        # known to overflow in T5-family text encoders like these.
        choice = {"default": torch.bfloat16}
        choice.update({name: torch.float32 for name in spec.keep_fp32})
        return choice
    # CPUs are slow in half precision and tiny twins are tested in float32.
    return torch.float32


def from_pretrained(spec: ModelSpec, pipeline_class: Any, source: Path | None, *, profile: str,
                    models_dir: Path, gpu: Any, shared: dict[str, Any], kwargs: dict[str, Any]) -> Any:
    """`spec`'s pipeline from `source`, with the `shared` components passed in where allowed."""
    if spec.shipped or profile == "tiny":
        # Small enough to run as they are: no quantisation, no Hub.
        return pipeline_class.from_pretrained(source, local_files_only=True, **shared, **kwargs)
    if spec.registered:
        return _load_registered(spec, pipeline_class, source, shared, kwargs)
    quantization = gpu.quantization_config()
    if quantization is not None:
        kwargs["quantization_config"] = quantization
    else:
        kwargs.update(shared)  # a quantised load makes its own copies
    return _load_default(spec, pipeline_class, models_dir, kwargs)


def from_pipe(spec: ModelSpec, source: Any, profile: str) -> Any:
    """`spec`'s pipeline built over the resident `source`, which holds the same weights."""
    import diffusers

    pipeline_class = getattr(diffusers, spec.pipeline_class)
    pipe = pipeline_class.from_pipe(source)
    pipe._weft_components = getattr(source, "_weft_components", {})
    tag(pipe, spec.id, profile)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def tag(pipe: Any, model_id: str, profile: str) -> None:
    # Lets engines/accel find the model's title and its MagCache ratios.
    pipe._weft_model_id = model_id
    pipe._weft_profile = profile


def _load_default(spec: ModelSpec, pipeline_class: Any, models_dir: Path, kwargs: dict[str, Any]) -> Any:
    from huggingface_hub.errors import HfHubHTTPError

    folder = models_dir / spec.id
    if is_complete_pipeline(folder):
        # A pulled copy: a broken file here is not "missing", so let the
        # real error through rather than advise a download that exists.
        return pipeline_class.from_pretrained(folder, local_files_only=True, **kwargs)
    try:
        # From the Hub cache; downloads into it when online. Offline, say
        # so up front: diffusers would otherwise try the network first.
        return pipeline_class.from_pretrained(spec.repo_id, local_files_only=hub_offline(), **kwargs)
    except (OSError, HfHubHTTPError) as exc:
        # diffusers reports a missing cache entry, no network and a gated
        # repo alike as OSError; huggingface_hub's HTTP errors for the rest.
        raise ModelNotAvailableError(not_available_message(spec, models_dir / spec.id, exc)) from exc


def _load_registered(spec: ModelSpec, pipeline_class: Any, source: Path | None,
                     shared: dict[str, Any], kwargs: dict[str, Any]) -> Any:
    """The artist's own weights: a whole folder, or single files over the base model's folder."""
    base = get_spec(spec.base)
    if source is None:
        if spec.user_folder:
            raise ModelNotAvailableError(f"{spec.title} ({spec.id}): its folder {spec.user_folder} is gone or "
                                         "incomplete (weft models add it again, or weft models remove "
                                         f"{spec.id}).")
        raise ModelNotAvailableError(
            f"{spec.title} ({spec.id}) runs with the {borrowed_from_base(dict(spec.user_files))} and configs of "
            f"{base.title} ({base.id}), which is not on this machine.\n"
            f"Fetch it with: weft models pull {base.id}")
    if spec.user_folder:
        return pipeline_class.from_pretrained(source, local_files_only=True, **shared, **kwargs)
    import diffusers

    index = json.loads((source / "model_index.json").read_text(encoding="utf-8"))
    dtype = kwargs["dtype"]
    components = dict(shared)
    for name, path in spec.user_files:
        if not Path(path).is_file():
            raise ModelNotAvailableError(f"{spec.title} ({spec.id}): {path} is gone (weft models add it again, "
                                         f"or weft models remove {spec.id}).")
        component_dtype = dtype.get(name, dtype.get("default")) if isinstance(dtype, dict) else dtype
        if name == "vae":
            # The original Wan 2.1 layout, renamed for the base's block layout and checked weight by weight.
            components[name] = single_files.load_wan_vae(Path(path), source, component_dtype)
        elif name == "text_encoder":
            # Hugging Face's own T5 names, into the base's text_encoder config (UMT5EncoderModel).
            components[name] = single_files.load_text_encoder(Path(path), source, index[name][1], component_dtype)
        else:
            # The file's tensors, renamed from the original layout by diffusers, in the
            # base's own config for that component (no Hub: the config is on disk).
            # 8-bit float weights are dequantised on reading (engines/models/low_precision.py).
            component_class = getattr(diffusers, index[name][1])
            components[name] = component_class.from_single_file(
                read_weights(Path(path), component_dtype), config=str(source), subfolder=name,
                local_files_only=True, torch_dtype=component_dtype)
        kind = fp8_kind(Path(path))
        if kind is not None and hasattr(components[name], "enable_layerwise_casting"):  # a diffusers model
            # Weights that are exactly 8-bit floats stay so (engines/models/eight_bit_weights.py).
            from engines.models.eight_bit_weights import keep_in_8_bits

            keep_in_8_bits(components[name], kind)
    return pipeline_class.from_pretrained(source, local_files_only=True, **components, **kwargs)
