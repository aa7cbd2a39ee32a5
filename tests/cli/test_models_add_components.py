"""`weft models add` with a ComfyUI folder's VAE and text encoder, by the real CLI.

The "real" Wan 2.1 T2V 1.3B is the tiny twin copied where `weft models pull`
puts the real one (the `env` fixture of test_models_add.py); the artist's
ComfyUI folder is the same twin written as ComfyUI's single files by
engines/models/comfy_layout.py (the converter bench/peers.py gives ComfyUI
itself): the transformer under ComfyUI's prefix, the VAE in the original Wan
layout, the UMT5 encoder under Hugging Face's names with ComfyUI's
`spiece_model` tokenizer blob. Same tensors, same dtype (float32): a render
from them must be bit-identical to one from the diffusers folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from test_models_add import WAN, env, render, weft  # noqa: F401 (env is a fixture)

pytestmark = pytest.mark.slow


def comfy_folder(models: Path, root: Path) -> dict[str, Path]:
    """The pulled twin as an artist's ComfyUI models folder under ``root``."""
    from engines.models.comfy_layout import write_comfy_models

    return write_comfy_models(models / WAN, root, names={"transformer": "my_wan.safetensors",
                                                         "vae": "wan_2.1_vae.safetensors",
                                                         "text_encoder": "umt5_xxl_fp16.safetensors"})


def rewrite(path: Path, change) -> None:
    """Write ``path`` again with ``change(state)`` applied to its tensors."""
    import torch
    from safetensors.torch import load_file, save_file

    state = load_file(path)
    with torch.no_grad():
        change(state)
    save_file(state, path)


def test_a_comfyui_folder_with_its_vae_and_text_encoder_renders_bit_identical(env, tmp_path):
    models = Path(env["WEFT_MODELS_DIR"])
    comfy = tmp_path / "ComfyUI" / "models"
    files = comfy_folder(models, comfy)
    plain, _ = render(env, tmp_path, WAN, "plain")

    done = weft("models", "add", str(comfy), env=env)
    assert done.returncode == 0, done.stderr
    # Says which file each component comes from; nothing is copied.
    assert "my_wan: added: my_wan.safetensors, a Wan text-to-video transformer" in done.stdout
    assert f"  transformer: {files['transformer'].resolve()}" in done.stdout
    assert f"  VAE: {files['vae'].resolve()}" in done.stdout
    assert f"  text encoder: {files['text_encoder'].resolve()}" in done.stdout
    entry = json.loads((models / "registered.json").read_text())["models"][0]
    assert entry["files"] == {name: str(path.resolve()) for name, path in files.items()}
    assert not list(models.rglob("*umt5*")) and not list(models.rglob("*wan_2.1_vae*"))

    frames, cached = render(env, tmp_path, "my_wan", "mine")
    assert not cached
    assert frames.shape == plain.shape and np.array_equal(frames, plain)

    # The render really reads the folder's VAE and text encoder: change either and it changes.
    rewrite(files["vae"], lambda s: s["decoder.head.2.weight"].mul_(3.0))
    changed_vae, cached = render(env, tmp_path, "my_wan", "vae3")
    assert not cached and not np.array_equal(changed_vae, plain)
    rewrite(files["vae"], lambda s: s["decoder.head.2.weight"].div_(3.0))
    rewrite(files["text_encoder"], lambda s: s["shared.weight"].mul_(-1.0))
    changed_text, cached = render(env, tmp_path, "my_wan", "text")
    assert not cached and not np.array_equal(changed_text, plain)

    # A text encoder with a weight missing: the render stops and says which file and which weight.
    rewrite(files["text_encoder"], lambda s: s.pop("encoder.final_layer_norm.weight"))
    failed = weft("render", str(tmp_path / "mine.weft"), "--output-dir", str(tmp_path / "out"),
                  "--set", "t2v.model=my_wan", env=env)
    assert failed.returncode != 0
    assert ("umt5_xxl_fp16.safetensors does not hold the base model's UMT5EncoderModel of wan2.1-t2v-1.3b: "
            "1 of its weights are not in the file (encoder.final_layer_norm.weight)") in failed.stderr + failed.stdout


def test_a_vae_and_text_encoder_file_can_be_given_to_a_registered_model(env, tmp_path):
    models = Path(env["WEFT_MODELS_DIR"])
    files = comfy_folder(models, tmp_path / "loose")
    added = weft("models", "add", str(files["transformer"]), "--as", "my-wan", env=env)
    assert added.returncode == 0, added.stderr
    assert "  VAE: the base model's own" in added.stdout

    vae = weft("models", "add", str(files["vae"]), "--into", "my-wan", env=env)
    assert vae.returncode == 0, vae.stderr
    assert "my-wan: updated: its VAE is now wan_2.1_vae.safetensors, a Wan 2.1 VAE" in vae.stdout
    assert f"  VAE: {files['vae'].resolve()}" in vae.stdout and "  text encoder: the base model's own" in vae.stdout
    text = weft("models", "add", str(files["text_encoder"]), "--into", "my-wan", env=env)
    assert text.returncode == 0, text.stderr
    assert f"  text encoder: {files['text_encoder'].resolve()}" in text.stdout
    entry = json.loads((models / "registered.json").read_text())["models"][0]
    assert entry["files"] == {name: str(path.resolve()) for name, path in files.items()}

    # --into takes a VAE or text encoder for a model registered from a file, nothing else.
    other = weft("models", "add", str(files["vae"]), "--into", "nobody", env=env)
    assert other.returncode == 2 and "--into nobody: not one of the models you registered" in other.stderr
    transformer = weft("models", "add", str(files["transformer"]), "--into", "my-wan", env=env)
    assert transformer.returncode == 2
    assert "my_wan.safetensors is a Wan text-to-video transformer; --into takes a VAE or text encoder" \
        in transformer.stderr


def _header_only(path: Path, shapes: dict[str, tuple[int, ...]]) -> Path:
    """A real safetensors file with these tensor names and shapes (zeros)."""
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({name: np.zeros(shape, np.float16) for name, shape in shapes.items()}, path)
    return path


def test_component_files_weft_cannot_use_get_a_message_that_says_which_and_why(env, tmp_path):
    models = Path(env["WEFT_MODELS_DIR"])
    files = comfy_folder(models, tmp_path / "loose")
    assert weft("models", "add", str(files["transformer"]), "--as", "my-wan", env=env).returncode == 0
    before = (models / "registered.json").read_text()

    data = files["vae"].read_bytes()
    cut = tmp_path / "wan_2.1_vae_cut.safetensors"
    cut.write_bytes(data[: len(data) - 100])
    flux = _header_only(tmp_path / "ae.safetensors", {"decoder.conv_in.weight": (4, 4),
                                                      "encoder.conv_in.weight": (4, 4)})
    wide = _header_only(tmp_path / "umt5_base.safetensors", {
        "shared.weight": (198, 64), **{f"encoder.block.{i}.layer.0.SelfAttention.relative_attention_bias.weight":
                                       (8, 4) for i in range(2)}})
    t5 = _header_only(tmp_path / "t5xxl_fp16.safetensors", {
        "shared.weight": (198, 32), "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight": (8, 4),
        "encoder.block.1.layer.0.SelfAttention.q.weight": (32, 32)})

    cases = {
        cut: f"wan_2.1_vae_cut.safetensors is truncated: the file has {len(data) - 100:,} bytes but its header "
             f"describes {len(data):,}",
        flux: "ae.safetensors: not a model family Weft can load from a single file (its first tensors: "
              "decoder.conv_in.weight, encoder.conv_in.weight). Weft reads Wan 2.1 / 2.2 transformers",
        wide: "umt5_base.safetensors is a UMT5 text encoder (width 64, blocks 2, vocabulary 198), which does not fit "
              "Wan 2.1 Text to Video 1.3B (wan2.1-t2v-1.3b): its text encoder is a UMT5 text encoder (width 32, "
              "blocks 2, vocabulary 198)",
        t5: "t5xxl_fp16.safetensors is a T5 text encoder (the kind Flux and SD3 read), not the UMT5 encoder",
    }
    for path, message in cases.items():
        done = weft("models", "add", str(path), "--into", "my-wan", env=env)
        assert done.returncode == 2, (path, done.stdout)
        assert message in done.stderr, done.stderr
    assert (models / "registered.json").read_text() == before  # nothing was changed

    # A VAE where a transformer is expected says what it is and what to do with it.
    vae = weft("models", "add", str(files["vae"]), env=env)
    assert vae.returncode == 2
    assert ("wan_2.1_vae.safetensors is a Wan 2.1 VAE, not a diffusion model: register the transformer file "
            "(ComfyUI's diffusion_models folder) or the whole ComfyUI models folder, or give this file to a "
            "model you registered: weft models add FILE --into ID.") in vae.stderr

    # In a ComfyUI folder the files that do not fit are passed over, each with why; the good ones pair.
    comfy = tmp_path / "ComfyUI" / "models"
    good = comfy_folder(models, comfy)
    (comfy / "vae" / "a_cut.safetensors").write_bytes(data[: len(data) - 100])
    (comfy / "text_encoders" / "a_wide.safetensors").write_bytes(wide.read_bytes())
    (comfy / "vae" / "zz_second.safetensors").write_bytes(good["vae"].read_bytes())
    done = weft("models", "add", str(comfy), env=env)
    assert done.returncode == 0, done.stderr
    assert "a_cut.safetensors is truncated" in done.stderr
    assert "a_wide.safetensors is a UMT5 text encoder (width 64, blocks 2, vocabulary 198), which does not fit" \
        in done.stderr
    assert ("zz_second.safetensors: another VAE in the folder fitted first (wan_2.1_vae.safetensors); to use "
            "this one: weft models add FILE --into ID.") in done.stderr
    assert f"  VAE: {good['vae'].resolve()}" in done.stdout
    assert f"  text encoder: {good['text_encoder'].resolve()}" in done.stdout


def test_the_vae_converter_is_diffusers_own_on_the_published_layout():
    """Weft reads the VAE's block numbers from the config (the twin has no residual blocks per
    level); on the published Wan 2.1 VAE it renames exactly as diffusers' converter does, and
    the published VAE's header is recognised as what the catalogue's Wan models use."""
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKLWan
    from diffusers.loaders.single_file_utils import convert_wan_vae_to_diffusers

    from engines.models.comfy_layout import vae_to_comfy, vae_to_diffusers

    with init_empty_weights():
        published = AutoencoderKLWan()  # the published Wan 2.1 VAE's config
    names = {k: tuple(v.shape) for k, v in published.state_dict().items()}
    original = vae_to_comfy(dict(names), 2)
    assert convert_wan_vae_to_diffusers(dict(original)) == vae_to_diffusers(dict(original), 2) == names


def test_a_published_wan_vae_header_is_recognised(tmp_path):
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKLWan

    from engines.models.checkpoints import identify
    from engines.models.comfy_layout import vae_to_comfy
    from engines.models.user_models import KNOWN_COMPONENTS

    with init_empty_weights():
        published = AutoencoderKLWan()
    # The real names; shapes only where identify reads them (the rest one element, to stay small).
    shapes = {k: (1,) for k in vae_to_comfy({k: None for k in published.state_dict()}, 2)}
    shapes.update({"conv2.weight": (16, 16, 1, 1, 1), "encoder.conv1.weight": (96, 3, 3, 3, 3)})
    check = identify(_header_only(tmp_path / "wan_2.1_vae.safetensors", shapes))
    assert (check.family, check.dims) == KNOWN_COMPONENTS[WAN]["vae"]


WAN22 = "wan2.2-ti2v-5b"
# The published Wan 2.2 VAE's diffusers config (Wan-AI/Wan2.2-TI2V-5B-Diffusers, vae/config.json).
_WAN22_VAE = dict(base_dim=160, decoder_base_dim=256, z_dim=48, dim_mult=[1, 2, 4, 4], num_res_blocks=2,
                  is_residual=True, in_channels=12, out_channels=12, patch_size=2, scale_factor_spatial=16,
                  scale_factor_temporal=4, temperal_downsample=[False, True, True])


def test_the_wan22_vae_converter_reads_the_published_layout(tmp_path):
    """diffusers has no converter for the Wan 2.2 VAE: Weft's turns the published file's names
    (tests/cli/data/wan2.2_vae_layout.json) into exactly diffusers' model's names and shapes, and
    the published header is recognised as the VAE Wan 2.2 TI2V 5B uses."""
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKLWan

    from engines.models.checkpoints import identify
    from engines.models.comfy_layout import vae_to_comfy, vae_to_diffusers
    from engines.models.user_models import KNOWN_COMPONENTS

    published = {k: tuple(v) for k, v in json.loads((Path(__file__).parent / "data" / "wan2.2_vae_layout.json")
                                                      .read_text()).items()}
    with init_empty_weights():
        model = AutoencoderKLWan(**_WAN22_VAE)
    names = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert vae_to_diffusers(dict(published), 2, residual=True) == names
    assert vae_to_comfy(dict(names), 2, residual=True) == published
    # A Wan 2.1 VAE's renames on these names would not give diffusers' (the layouts differ).
    assert vae_to_diffusers(dict(published), 2) != names

    shapes = {k: (1,) for k in published}
    shapes.update({k: published[k] for k in ("conv2.weight", "encoder.conv1.weight")})
    check = identify(_header_only(tmp_path / "wan2.2_vae.safetensors", shapes))
    assert (check.family, check.dims) == KNOWN_COMPONENTS[WAN22]["vae"]


@pytest.fixture
def env22(env, tiny_models_dir) -> dict[str, str]:
    """`env` with Wan 2.2 TI2V 5B pulled too (its tiny twin)."""
    import shutil

    from engines.models.manager import ModelManager

    twin = ModelManager(profile="tiny", tiny_dir=tiny_models_dir).ensure_tiny(WAN22)
    shutil.copytree(twin, Path(env["WEFT_MODELS_DIR"]) / WAN22)
    return env


def test_a_wan22_comfyui_folder_with_its_vae_loads_the_same_weights_and_renders(env22, tmp_path, monkeypatch):
    """The Wan 2.2 twin as an artist's ComfyUI folder: registered, its pipeline holds exactly the
    diffusers folder's weights (compared in this process: the random 5B twin's frames are chaotic
    enough that two processes' float rounding can differ in the last bits), and it renders."""
    import torch

    from engines.models.comfy_layout import write_comfy_models
    from engines.models.manager import ModelManager
    from engines.models.user_models import reload_registered

    models = Path(env22["WEFT_MODELS_DIR"])
    comfy = tmp_path / "ComfyUI" / "models"
    files = write_comfy_models(models / WAN22, comfy, names={"transformer": "wan2.2_ti2v_5B_fp16.safetensors",
                                                              "vae": "wan2.2_vae.safetensors",
                                                              "text_encoder": "umt5_xxl_fp16.safetensors"})
    done = weft("models", "add", str(comfy), env=env22)
    assert done.returncode == 0, done.stderr
    assert "runs as Wan 2.2 Text/Image to Video 5B" in done.stdout
    assert f"  VAE: {files['vae'].resolve()}" in done.stdout
    mine_id = "wan2.2_ti2v_5b_fp16"
    frames, cached = render(env22, tmp_path, mine_id, "mine", size=(64, 64))
    assert frames.shape == (9, 64, 64, 3) and not cached

    monkeypatch.setenv("WEFT_MODELS_DIR", str(models))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    reload_registered()
    try:
        manager = ModelManager(profile="default", models_dir=models, device="cpu")
        mine, plain = manager.pipeline(mine_id), manager.pipeline(WAN22)
        for name in ("transformer", "vae", "text_encoder"):
            theirs, ours = getattr(plain, name).state_dict(), getattr(mine, name).state_dict()
            assert theirs.keys() == ours.keys() and all(torch.equal(theirs[k], ours[k]) for k in theirs), name
        assert dict(mine.vae.config) | {"_name_or_path": ""} == dict(plain.vae.config) | {"_name_or_path": ""}
    finally:
        monkeypatch.undo()
        reload_registered()

    # A Wan 2.1 VAE is not Wan 2.2's: refused at once, with what the model's own is.
    wan21 = comfy_folder(models, tmp_path / "loose")["vae"]
    refused = weft("models", "add", str(wan21), "--into", mine_id, env=env22)
    assert refused.returncode == 2
    assert "wan_2.1_vae.safetensors is a Wan 2.1 VAE" in refused.stderr and "Wan 2.2 VAE" in refused.stderr


def test_a_resident_registered_model_lends_none_of_its_own_files_to_the_plain_model(env, tmp_path, monkeypatch):
    """Components byte-identical to a resident pipeline's are shared (engines/models/sharing.py);
    a registered model's own VAE, text encoder and transformer are not the base folder's, so the
    plain model loaded next to it must get the base's own weights, not the artist's."""
    import torch
    from diffusers import AutoencoderKLWan

    from engines.models.manager import ModelManager
    from engines.models.user_models import reload_registered

    models = Path(env["WEFT_MODELS_DIR"])
    comfy = tmp_path / "ComfyUI" / "models"
    files = comfy_folder(models, comfy)
    rewrite(files["vae"], lambda s: s["decoder.head.2.weight"].mul_(3.0))
    assert weft("models", "add", str(comfy), env=env).returncode == 0
    monkeypatch.setenv("WEFT_MODELS_DIR", str(models))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    reload_registered()
    try:
        manager = ModelManager(profile="default", models_dir=models, device="cpu")
        mine = manager.pipeline("my_wan")
        plain = manager.pipeline(WAN)
        for name in ("transformer", "vae", "text_encoder"):
            assert getattr(plain, name) is not getattr(mine, name), name
        base = AutoencoderKLWan.from_pretrained(models / WAN, subfolder="vae")
        assert torch.equal(plain.vae.decoder.conv_out.weight, base.decoder.conv_out.weight)
        assert torch.equal(mine.vae.decoder.conv_out.weight, 3.0 * base.decoder.conv_out.weight)
    finally:
        monkeypatch.undo()
        reload_registered()


def test_a_text_encoder_file_may_name_its_embedding_either_way(env, tmp_path):
    """T5's input embedding is one tensor under two names (shared.weight, encoder.embed_tokens.weight);
    a file that kept either loads the same encoder."""
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import UMT5EncoderModel

    from engines.models.checkpoints import identify
    from engines.models.single_files import load_text_encoder

    models = Path(env["WEFT_MODELS_DIR"])
    state = load_file(comfy_folder(models, tmp_path / "loose")["text_encoder"])
    state["encoder.embed_tokens.weight"] = state.pop("shared.weight")
    save_file(state, tmp_path / "umt5_other_name.safetensors")
    assert identify(tmp_path / "umt5_other_name.safetensors").dims == {"width": 32, "blocks": 2, "vocabulary": 198}
    loaded = load_text_encoder(tmp_path / "umt5_other_name.safetensors", models / WAN, "UMT5EncoderModel",
                               torch.float32).state_dict()
    base = UMT5EncoderModel.from_pretrained(models / WAN / "text_encoder").state_dict()
    assert loaded.keys() == base.keys() and all(torch.equal(loaded[k], base[k]) for k in base)
