"""Loading the artist's single-file VAE and text encoder into the base model's configs.

`weft models add` pairs a ComfyUI folder's `vae/` and `text_encoders/` files
with its Wan transformers (engines/models/user_models.py); the engine loads
them here, strictly: every weight the base's component has must be in the
file, with the base's shape, and nothing of the component may be left
unread, or the load stops with a message that says which file and what was
missing. (diffusers' `from_single_file` only warns about names it did not
use, and leaves a missing weight at random or on the meta device.) Every file,
transformers too, is read by engines/models/low_precision.py, which turns
8-bit float (fp8) weights, plain or scaled, into the render's dtype.

* The Wan 2.1 and 2.2 VAEs (original layout): renamed by
  `comfy_layout.vae_to_diffusers` for the base's block layout, checked, then
  `AutoencoderKLWan.from_single_file` with the base folder's `vae/` config.
  (diffusers has no converter for Wan 2.2's; Weft's is checked against the
  original Wan 2.2 code, see comfy_layout.)
* The UMT5 text encoder (Hugging Face's own T5 names): the base folder's
  `text_encoder/` config builds the encoder class its model_index.json names
  (UMT5EncoderModel) and the file's state dict loads into it. A tensor that
  is not a weight of the encoder (ComfyUI's `spiece_model` tokenizer blob, a
  T5 decoder's weights) is left out; the tokenizer still comes from the base.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engines.models.checkpoints import CheckpointError
from engines.models.comfy_layout import vae_to_diffusers
from engines.models.low_precision import read_weights

# Tensors in a text-encoder file that are not the encoder's weights.
_NOT_ENCODER = ("spiece_model", "decoder.", "lm_head.")


def load_wan_vae(path: Path, source: Path, dtype: Any) -> Any:
    """The Wan 2.1 or 2.2 VAE in ``path`` (the original layout), as an AutoencoderKLWan in
    ``source``'s vae config (which says which: ``is_residual`` is Wan 2.2's)."""
    from diffusers import AutoencoderKLWan

    path = Path(path)
    config = AutoencoderKLWan.load_config(source, subfolder="vae", local_files_only=True)
    residual = bool(config.get("is_residual"))
    state = vae_to_diffusers(read_weights(path, dtype), int(config["num_res_blocks"]), residual)
    _check_state(path, "Wan 2.2 VAE" if residual else "Wan 2.1 VAE", state, _empty_state(AutoencoderKLWan, config))
    return AutoencoderKLWan.from_single_file(state, config=str(source), subfolder="vae", local_files_only=True,
                                             torch_dtype=dtype)


def load_text_encoder(path: Path, source: Path, class_name: str, dtype: Any) -> Any:
    """The text encoder in ``path`` (Hugging Face T5 names), built as ``class_name`` from
    ``source``'s text_encoder config."""
    import torch
    import transformers

    path = Path(path)
    model_class = getattr(transformers, class_name)
    config = model_class.config_class.from_pretrained(source / "text_encoder")
    with torch.device("meta"):
        model = model_class(config)
    state = {k: v for k, v in read_weights(path, dtype).items() if not k.startswith(_NOT_ENCODER)}
    # Tied weights are stored once (T5's input embedding is `shared.weight`).
    tied = dict(getattr(model, "all_tied_weights_keys", None) or {})
    for name, source_name in tied.items():
        if name not in state and source_name in state:
            state[name] = state[source_name]
        elif source_name not in state and name in state:  # a file that kept the other name
            state[source_name] = state[name]
    expected = {k: (tuple(v.shape), v.dtype) for k, v in model.state_dict().items()}
    _check_state(path, f"{class_name} of {source.name}", state, expected)
    model.load_state_dict(state, strict=True, assign=True)
    model.tie_weights()
    left = [n for n, t in list(model.named_parameters()) + list(model.named_buffers()) if t.is_meta]
    if left:
        raise CheckpointError(f"{path.name}: {len(left)} tensors of the text encoder were not in the file "
                              f"({', '.join(left[:3])}).")
    return model.to(dtype).eval()


def _empty_state(model_class: Any, config: dict) -> dict[str, tuple]:
    """{name: (shape, dtype)} of ``model_class`` built from ``config``, without allocating its weights."""
    from accelerate import init_empty_weights

    with init_empty_weights():
        model = model_class.from_config(config)
    return {k: (tuple(v.shape), v.dtype) for k, v in model.state_dict().items()}


def _check_state(path: Path, what: str, state: dict, expected: dict) -> None:
    """`CheckpointError` unless ``state`` has exactly ``expected``'s weights, in its shapes."""
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(state) & set(expected) if tuple(state[k].shape) != tuple(expected[k][0]))
    if not (missing or extra or wrong):
        return
    parts = []
    if missing:
        parts.append(f"{len(missing)} of its weights are not in the file ({', '.join(missing[:3])}"
                     + (", ..." if len(missing) > 3 else "") + ")")
    if wrong:
        k = wrong[0]
        parts.append(f"{len(wrong)} have other shapes ({k}: {list(state[k].shape)} in the file, "
                     f"{list(expected[k][0])} expected)")
    if extra:
        parts.append(f"{len(extra)} tensors in the file are not its weights ({', '.join(extra[:3])}"
                     + (", ..." if len(extra) > 3 else "") + ")")
    raise CheckpointError(f"{path.name} does not hold the base model's {what}: " + "; ".join(parts)
                          + ". Give the model a whole file of the base's size (weft models add FILE --into ID), "
                          "or register its transformer again to use the base's own.")

