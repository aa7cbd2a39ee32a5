"""8-bit float (fp8) single files, plain and scaled, by the real CLI.

An artist's ComfyUI folder often holds fp8 files (`..._fp8_e4m3fn.safetensors`,
`umt5_xxl_fp8_e4m3fn_scaled.safetensors`). The twin is written as ComfyUI's
single files, then each weight is stored the way those files store it: the
transformer scaled per output row (ComfyUI's `weight_scale`), the text encoder
scaled per tensor (the older `scaled_fp8` marker with `scale_weight`), the VAE
plain fp8. A second folder holds the values those files mean (the float8
numbers times their scales) in float32. Rendering from either must give the
same frames, bit for bit: a scale left out, or applied to the wrong weight,
changes them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from test_models_add import WAN, env, render, weft  # noqa: F401 (env is a fixture)

pytestmark = pytest.mark.slow


def _quantise(state: dict, style: str) -> tuple[dict, dict]:
    """(the file's tensors, the values they stand for) with every weight matrix stored in fp8
    as ``style`` says: "plain", "per_tensor" (scaled_fp8 + scale_weight) or "per_row" (weight_scale)."""
    import torch

    stored, meant = {}, {}
    for name, value in state.items():
        if not (name.endswith(".weight") and value.is_floating_point() and value.ndim >= 2):
            stored[name] = meant[name] = value
            continue
        kind = torch.float8_e5m2 if style == "plain" else torch.float8_e4m3fn
        layer = name[: -len(".weight")]
        if style == "plain":
            q = value.to(kind)
            stored[name], meant[name] = q, q.to(torch.float32)
        elif style == "per_tensor":
            scale = (value.abs().amax() / 448).clamp(min=1e-8).reshape(())
            q = (value / scale).to(kind)
            stored[name], stored[f"{layer}.scale_weight"] = q, scale
            stored[f"{layer}.scale_input"] = torch.ones(())  # an activation scale: not a weight
            meant[name] = q.to(torch.float32) * scale
        else:
            rows = value.reshape(value.shape[0], -1).abs().amax(dim=1).clamp(min=1e-8) / 448
            q = (value / rows.view(-1, *[1] * (value.ndim - 1))).to(kind)
            stored[name], stored[f"{layer}.weight_scale"] = q, rows
            stored[f"{layer}.input_scale"] = torch.ones(())
            meant[name] = q.to(torch.float32) * rows.view(-1, *[1] * (value.ndim - 1))
    if style == "per_tensor":
        stored["scaled_fp8"] = torch.empty(0, dtype=torch.float8_e4m3fn)  # the format's marker
    return stored, meant


def _fp8_folders(models: Path, root: Path, transformer: str = "per_row") -> tuple[dict, dict]:
    """An fp8 ComfyUI folder and a float32 one holding the values it means: their {component: path}.
    ``transformer``: how the transformer's weights are stored (the `_quantise` styles)."""
    from safetensors.torch import load_file, save_file

    from engines.models.comfy_layout import write_comfy_models

    fp8 = write_comfy_models(models / WAN, root / "fp8" / "models", names={
        "transformer": "my_wan_fp8_scaled.safetensors", "vae": "wan_2.1_vae_fp8.safetensors",
        "text_encoder": "umt5_xxl_fp8_e4m3fn_scaled.safetensors"})
    meant = {}
    for component, style in (("transformer", transformer), ("text_encoder", "per_tensor"), ("vae", "plain")):
        stored, values = _quantise(load_file(fp8[component]), style)
        save_file(stored, fp8[component])
        meant[component] = root / "meant" / "models" / fp8[component].relative_to(root / "fp8" / "models")
        meant[component] = meant[component].with_name(meant[component].name.replace("fp8", "meant"))
        meant[component].parent.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in values.items()}, meant[component])
    return fp8, meant


def test_fp8_files_plain_and_scaled_render_what_their_scaled_values_mean(env, tmp_path):
    models = Path(env["WEFT_MODELS_DIR"])
    fp8, meant = _fp8_folders(models, tmp_path)
    plain, _ = render(env, tmp_path, WAN, "plain")

    done = weft("models", "add", str(tmp_path / "fp8" / "models"), env=env)
    assert done.returncode == 0, done.stderr
    assert "my_wan_fp8_scaled: added: my_wan_fp8_scaled.safetensors, a Wan text-to-video transformer" in done.stdout
    assert "; in 8-bit floats, scaled)" in done.stdout
    assert f"  VAE: {fp8['vae'].resolve()}" in done.stdout
    assert f"  text encoder: {fp8['text_encoder'].resolve()}" in done.stdout
    reference = weft("models", "add", str(tmp_path / "meant" / "models"), env=env)
    assert reference.returncode == 0, reference.stderr
    assert "in 8-bit floats" not in reference.stdout

    quantised, _ = render(env, tmp_path, "my_wan_fp8_scaled", "fp8")
    expected, _ = render(env, tmp_path, "my_wan_meant_scaled", "meant")
    assert np.array_equal(quantised, expected)
    # The 8-bit rounding is really in both (the comparison is not of two untouched models).
    assert not np.array_equal(quantised, plain)


def test_weights_that_are_exactly_8_bit_floats_stay_8_bit_in_memory_and_give_the_same_numbers(env, tmp_path,
                                                                                             monkeypatch):
    """A plain fp8 file's weights are held in 8 bits (a quarter of float32's memory) and widened
    only while their layer runs; the 16 and 32-bit tensors the file kept stay as they were, and
    the model computes exactly what the widened one computes (transformer and VAE, plain e5m2)."""
    import torch

    from engines.models.manager import ModelManager
    from engines.models.user_models import reload_registered

    models = Path(env["WEFT_MODELS_DIR"])
    _fp8_folders(models, tmp_path, transformer="plain")
    for folder in ("fp8", "meant"):
        assert weft("models", "add", str(tmp_path / folder / "models"), env=env).returncode == 0
    monkeypatch.setenv("WEFT_MODELS_DIR", str(models))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    reload_registered()
    try:
        manager = ModelManager(profile="default", models_dir=models, device="cpu")
        fp8, meant = manager.pipeline("my_wan_fp8_scaled"), manager.pipeline("my_wan_meant_scaled")

        # The transformer: its blocks' matrices in 8 bits; the embedders Wan's code reads the dtype of stay wide.
        small, wide = fp8.transformer, meant.transformer
        assert small.blocks[0].attn1.to_q.weight.dtype == torch.float8_e5m2
        assert small.condition_embedder.time_embedder.linear_1.weight.dtype == torch.float32
        g = torch.Generator().manual_seed(0)
        x = torch.randn(1, small.config.in_channels, 3, 6, 8, generator=g)
        text = torch.randn(1, 8, small.config.text_dim, generator=g)
        with torch.no_grad():
            assert torch.equal(small(x, torch.tensor([500.0]), text).sample, wide(x, torch.tensor([500.0]), text).sample)

        small, wide = fp8.vae, meant.vae
        conv = small.decoder.conv_out
        assert conv.weight.dtype == torch.float8_e5m2 and conv.bias.dtype == torch.float32  # as the file has them
        assert small.dtype == torch.float32  # what the pipeline casts latents to
        size = {name: sum(p.numel() * p.element_size() for p in vae.parameters())
                for name, vae in (("small", small), ("wide", wide))}
        assert size["small"] < 0.5 * size["wide"], size
        latents = torch.randn(1, small.config.z_dim, 3, 6, 8, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            assert torch.equal(small.decode(latents).sample, wide.decode(latents).sample)
        assert conv.weight.dtype == torch.float8_e5m2  # back to 8 bits after the forward
    finally:
        monkeypatch.undo()
        reload_registered()


def test_quantisations_weft_cannot_read_are_refused_by_name_before_loading(env, tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    models = Path(env["WEFT_MODELS_DIR"])
    fp8, _ = _fp8_folders(models, tmp_path)
    blocks = tmp_path / "wan_int8_blockwise.safetensors"
    state = load_file(fp8["transformer"])
    name = next(k for k in state if k.endswith("self_attn.q.weight"))
    state[name] = torch.zeros(state[name].shape, dtype=torch.int8)
    save_file(state, blocks)
    before = (models / "registered.json").read_text() if (models / "registered.json").exists() else None

    done = weft("models", "add", str(blocks), "--as", "blocks", env=env)
    assert done.returncode == 2, done.stdout
    assert (f"wan_int8_blockwise.safetensors: its weights are quantised in a way Weft does not read (int8 blocks "
            f"or 4-bit floats: {name}). Weft reads 16 and 32-bit files and 8-bit float (fp8) ones") in done.stderr

    # A scale that is neither one number nor one per output row (block-wise) is refused the same way.
    state = load_file(fp8["transformer"])
    scale = next(k for k in state if k.endswith(".weight_scale"))
    state[scale] = torch.ones(3)
    odd = tmp_path / "my_wan_odd.safetensors"
    save_file(state, odd)
    done = weft("models", "add", str(odd), env=env)
    assert done.returncode == 2, done.stdout
    assert (f"my_wan_odd.safetensors: the scale of {scale[: -len('_scale')]} has shape [3] for a weight of shape "
            f"{list(state[scale[: -len('_scale')]].shape)} (block-wise scaling") in done.stderr
    after = (models / "registered.json").read_text() if (models / "registered.json").exists() else None
    assert after == before
