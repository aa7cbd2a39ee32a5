"""Wan 2.1 and 2.2 weights in the original layout ComfyUI's single files use, and back.

ComfyUI's folders hold the published Wan checkpoints as one file per component:
`diffusion_models/` (the transformer, names prefixed `model.diffusion_model.`),
`vae/` (the original Wan VAE's names: `encoder.downsamples.N`,
`decoder.upsamples.N`, `residual.0/2/3/6`; Wan 2.2's grouped by level,
`encoder.downsamples.L.downsamples.N`) and `text_encoders/` (a UMT5 encoder
under Hugging Face's own T5 names: `shared.weight`, `encoder.block.N...`).

Two directions live here, so there is one implementation of each:

* `vae_to_diffusers`: what Weft loads. diffusers' own converter
  (`convert_wan_vae_to_diffusers`) hard-codes the published Wan 2.1 VAE's
  block numbers (two residual blocks per level) and has no Wan 2.2 case;
  this one reads them from the config, so it also reads the tiny twins. On
  the published Wan 2.1 layout it equals diffusers' converter; on the Wan 2.2
  one its names and shapes are diffusers' model's (both checked by
  tests/cli/test_models_add_components.py, the 2.2 names from
  tests/cli/data/wan2.2_vae_layout.json, the published VAE's state-dict
  names and shapes). When written (2026-12-07) it was also checked against
  the original Wan 2.2 code (Wan-Video/Wan2.2, wan/modules/vae2_2.py, not a
  dependency): the same random weights in both, 0, 1 and 2 residual blocks
  per level, encode and decode agreed exactly (largest difference 0.0).
* `*_to_comfy` and `write_comfy_models`: a diffusers folder written as
  ComfyUI's single files, for tests (the twin as an artist's ComfyUI folder)
  and bench/peers.py (the twin for ComfyUI itself).

Only `write_comfy_models` and `vae_to_diffusers` callers import torch; the
renames are plain string work.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

COMFY_PREFIX = "model.diffusion_model."

# diffusers WanTransformer3DModel names -> the original Wan names (the inverse of
# diffusers' scripts/convert_wan_to_diffusers.py).
_TRANSFORMER_RENAMES = [
    ("condition_embedder.time_embedder.linear_1", "time_embedding.0"),
    ("condition_embedder.time_embedder.linear_2", "time_embedding.2"),
    ("condition_embedder.time_proj", "time_projection.1"),
    ("condition_embedder.text_embedder.linear_1", "text_embedding.0"),
    ("condition_embedder.text_embedder.linear_2", "text_embedding.2"),
    (".attn1.to_out.0.", ".self_attn.o."), (".attn2.to_out.0.", ".cross_attn.o."),
    (".attn1.to_", ".self_attn."), (".attn2.to_", ".cross_attn."),
    (".attn1.", ".self_attn."), (".attn2.", ".cross_attn."),  # norm_q, norm_k
    (".norm2.", ".norm3."),  # the cross-attention norm: norm3 in the original
    (".ffn.net.0.proj.", ".ffn.0."), (".ffn.net.2.", ".ffn.2."),
    (".scale_shift_table", ".modulation"), ("proj_out.", "head.head."),
]

# A Wan VAE residual block's parts: RMS norm, conv, RMS norm, conv in one Sequential, and a shortcut.
_RESIDUAL_PARTS = {"norm1": "residual.0", "conv1": "residual.2", "norm2": "residual.3", "conv2": "residual.6",
                   "conv_shortcut": "shortcut"}
_RESIDUAL_NAMES = {v: k for k, v in _RESIDUAL_PARTS.items()}


def transformer_to_comfy(sd: dict[str, Any], prefix: str = COMFY_PREFIX) -> dict[str, Any]:
    """diffusers WanTransformer3DModel names -> the original Wan names, with ComfyUI's ``prefix``."""
    out = {}
    for key, value in sd.items():
        new = "head.modulation" if key == "scale_shift_table" else key
        for old, repl in _TRANSFORMER_RENAMES:
            new = new.replace(old, repl)
        out[prefix + new] = value
    return out


# The Wan VAE's plain renames (2.1 and 2.2 alike), (diffusers, original); "^" anchors a name
# at the start. Both directions read this one table (`_vae_steps`).
_VAE_RENAMES = [
    (".mid_block.resnets.0.", ".middle.0."),
    (".mid_block.attentions.0.", ".middle.1."),
    (".mid_block.resnets.1.", ".middle.2."),
    *[(f"^{side}.{ours}.", f"^{side}.{theirs}.") for side in ("encoder", "decoder")
      for ours, theirs in (("conv_in", "conv1"), ("norm_out", "head.0"), ("conv_out", "head.2"))],
    ("^quant_conv.", "^conv1."),
    ("^post_quant_conv.", "^conv2."),
]


def _literal(text: str) -> str:
    return "^" + re.escape(text[1:]) if text.startswith("^") else re.escape(text)


_RESIDUAL_IN_BLOCK = r"(\.(?:middle|downsamples|upsamples)\.\d+\.)"


def _vae_steps(num_res_blocks: int, residual: bool = False) -> list[tuple[Any, Any]]:
    """(forward, back) name functions, in forward order, for a VAE with ``num_res_blocks``
    residual blocks per level; ``residual``: the Wan 2.2 VAE (diffusers' ``is_residual``)."""
    steps = _wan22_block_steps(num_res_blocks) if residual else _wan21_block_steps(num_res_blocks)
    steps += [(_sub(_literal(ours), theirs.lstrip("^")), _sub(_literal(theirs), ours.lstrip("^")))
              for ours, theirs in _VAE_RENAMES]
    # A residual block's parts, named inside the original's block names (so: last going there,
    # first coming back).
    steps.append((_sub(_RESIDUAL_IN_BLOCK + r"(norm1|conv1|norm2|conv2|conv_shortcut)\.",
                       lambda m: m[1] + _RESIDUAL_PARTS[m[2]] + "."),
                  _sub(_RESIDUAL_IN_BLOCK + r"(residual\.[0236]|shortcut)\.",
                       lambda m: m[1] + _RESIDUAL_NAMES[m[2]] + ".")))
    return steps


def _sub(pattern: str, repl: Any):
    return lambda name: re.sub(pattern, repl, name)


def _wan21_block_steps(num_res_blocks: int) -> list[tuple[Any, Any]]:
    """Wan 2.1: the original keeps each side's blocks in one flat list; diffusers' encoder
    does too, its decoder groups them by level (num_res_blocks + 1 residual blocks, then an
    upsampler)."""
    per_level = num_res_blocks + 2

    def up_to_flat(m: re.Match) -> str:
        level, kind, index = int(m[1]), m[2], int(m[3])
        return f"decoder.upsamples.{level * per_level + (index if kind == 'resnets' else num_res_blocks + 1)}."

    def flat_to_up(m: re.Match) -> str:
        level, index = divmod(int(m[1]), per_level)
        if index <= num_res_blocks:
            return f"decoder.up_blocks.{level}.resnets.{index}."
        return f"decoder.up_blocks.{level}.upsamplers.0."

    return [(_sub(r"^decoder\.up_blocks\.(\d+)\.(resnets|upsamplers)\.(\d+)\.", up_to_flat),
             _sub(r"^decoder\.upsamples\.(\d+)\.", flat_to_up)),
            (_sub(r"^encoder\.down_blocks\.", "encoder.downsamples."),
             _sub(r"^encoder\.downsamples\.", "encoder.down_blocks."))]


def _wan22_block_steps(num_res_blocks: int) -> list[tuple[Any, Any]]:
    """Wan 2.2: both sides are grouped by level in both layouts. A level of the original is
    one Sequential (`encoder.downsamples.L.downsamples.N`: num_res_blocks residual blocks, then
    the downsampler; the decoder's has num_res_blocks + 1, then the upsampler); diffusers names
    the resampler apart (`down_blocks.L.downsampler`, `up_blocks.L.upsampler`). The shortcut
    that averages or repeats pixels has no weights."""
    steps = []
    for side, ours, theirs, sampler, count in (("encoder", "down_blocks", "downsamples", "downsampler",
                                                 num_res_blocks),
                                                ("decoder", "up_blocks", "upsamples", "upsampler",
                                                 num_res_blocks + 1)):
        def there(m: re.Match, side=side, theirs=theirs, count=count) -> str:
            index = count if m[2] is None else int(m[2])
            return f"{side}.{theirs}.{m[1]}.{theirs}.{index}."

        def back(m: re.Match, side=side, ours=ours, sampler=sampler, count=count) -> str:
            index = int(m[2])
            return f"{side}.{ours}.{m[1]}." + (sampler if index == count else f"resnets.{index}") + "."

        steps.append((_sub(rf"^{side}\.{ours}\.(\d+)\.(?:resnets\.(\d+)|{sampler})\.", there),
                      _sub(rf"^{side}\.{theirs}\.(\d+)\.{theirs}\.(\d+)\.", back)))
    return steps


def vae_to_comfy(sd: dict[str, Any], num_res_blocks: int, residual: bool = False) -> dict[str, Any]:
    """diffusers AutoencoderKLWan names -> the original Wan VAE names (``residual``: Wan 2.2's)."""
    steps = [forward for forward, _ in _vae_steps(num_res_blocks, residual)]
    return {_apply(steps, key): value for key, value in sd.items()}


def vae_to_diffusers(sd: dict[str, Any], num_res_blocks: int, residual: bool = False) -> dict[str, Any]:
    """The original Wan VAE names -> diffusers AutoencoderKLWan names, for a VAE with
    ``num_res_blocks`` residual blocks per level, Wan 2.2's when ``residual`` (the inverse of
    `vae_to_comfy`)."""
    steps = [back for _, back in reversed(_vae_steps(num_res_blocks, residual))]
    return {_apply(steps, key): value for key, value in sd.items()}


def _apply(steps: list[Any], name: str) -> str:
    for step in steps:
        name = step(name)
    return name


def spiece_model(tokenizer_json: Path) -> bytes:
    """A unigram tokenizer.json's vocabulary as a SentencePiece model, the form ComfyUI's UMT5
    files carry it in (a ``spiece_model`` byte tensor). Same pieces and scores: the same token ids."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    spec = json.loads(Path(tokenizer_json).read_text())["model"]
    model = pb.ModelProto()
    model.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    model.trainer_spec.pad_id, model.trainer_spec.eos_id, model.trainer_spec.unk_id = 0, 1, 2
    model.trainer_spec.bos_id = -1
    model.normalizer_spec.name = "identity"
    model.normalizer_spec.add_dummy_prefix = True
    model.normalizer_spec.remove_extra_whitespaces = True
    kinds = {"<pad>": pb.ModelProto.SentencePiece.CONTROL, "</s>": pb.ModelProto.SentencePiece.CONTROL,
             "<unk>": pb.ModelProto.SentencePiece.UNKNOWN}
    for text, score in spec["vocab"]:
        piece = model.pieces.add()
        piece.piece, piece.score = text, score
        piece.type = kinds.get(text, pb.ModelProto.SentencePiece.NORMAL)
    return model.SerializeToString()


def write_comfy_models(folder: Path, models: Path, *, names: dict[str, str] | None = None,
                       transformer_prefix: str = COMFY_PREFIX, with_spiece: bool = True) -> dict[str, Path]:
    """Write the Wan 2.1 diffusers ``folder``'s transformer, VAE and text encoder as ComfyUI's
    single files under ``models`` (diffusion_models/, vae/, text_encoders/). ``names``: the file
    name per component ("transformer", "vae", "text_encoder"). Returns {component: path}.
    The tensors are written as they are (same dtype, same values): only the names change."""
    import torch
    from safetensors.torch import load_file, save_file

    folder, models = Path(folder), Path(models)
    names = {"transformer": "wan2.1_t2v_tiny.safetensors", "vae": "wan2.1_vae_tiny.safetensors",
             "text_encoder": "umt5_tiny.safetensors", **(names or {})}
    vae_config = json.loads((folder / "vae" / "config.json").read_text())
    paths = {"transformer": models / "diffusion_models" / names["transformer"],
             "vae": models / "vae" / names["vae"],
             "text_encoder": models / "text_encoders" / names["text_encoder"]}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    save_file(transformer_to_comfy(load_file(folder / "transformer" / "diffusion_pytorch_model.safetensors"),
                                   transformer_prefix), paths["transformer"])
    save_file(vae_to_comfy(load_file(folder / "vae" / "diffusion_pytorch_model.safetensors"),
                           vae_config["num_res_blocks"], bool(vae_config.get("is_residual"))), paths["vae"])
    text = load_file(folder / "text_encoder" / "model.safetensors")
    if with_spiece:
        text["spiece_model"] = torch.frombuffer(bytearray(spiece_model(folder / "tokenizer" / "tokenizer.json")),
                                                dtype=torch.uint8)
    save_file(text, paths["text_encoder"])
    return paths
