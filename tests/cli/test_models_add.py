"""`weft models add`: the artist's own weights (a ComfyUI single file, a ComfyUI models folder), by the real CLI.

The "real" Wan 2.1 T2V 1.3B here is the tiny twin copied into the models folder,
exactly where `weft models pull` puts the real one; the single file is its
transformer written in the original layout ComfyUI's diffusion_models files use.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engines import media
from nodes import project
from nodes.graph import Graph

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
WAN = "wan2.1-t2v-1.3b"


def weft(*args, env):
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture
def env(tmp_path, tiny_models_dir) -> dict[str, str]:
    """The default profile with 'Wan 2.1 T2V 1.3B' pulled (its tiny twin) and an empty registry."""
    from engines.models.manager import ModelManager

    twin = ModelManager(profile="tiny", tiny_dir=tiny_models_dir).ensure_tiny(WAN)
    shutil.copytree(twin, tmp_path / "models" / WAN)
    return {**os.environ, "WEFT_MODELS_DIR": str(tmp_path / "models"), "WEFT_CACHE_DIR": str(tmp_path / "cache")}


def comfy_transformer(models: Path, out: Path, *, scale_output: float = 1.0) -> Path:
    """The pulled Wan's transformer as one ComfyUI-layout .safetensors file (checked against
    diffusers' own converter, so the fixture cannot drift from what from_single_file reads)."""
    import torch
    from diffusers import WanTransformer3DModel
    from diffusers.loaders.single_file_utils import convert_wan_transformer_to_diffusers
    from safetensors.torch import save_file

    from engines.models.comfy_layout import transformer_to_comfy

    state = WanTransformer3DModel.from_pretrained(models / WAN, subfolder="transformer").state_dict()
    original = transformer_to_comfy({k: v.contiguous().clone() for k, v in state.items()})
    assert set(convert_wan_transformer_to_diffusers(dict(original))) == set(state)
    if scale_output != 1.0:
        with torch.no_grad():
            original["model.diffusion_model.head.head.weight"] *= scale_output
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(original, out)
    return out


def render(env, tmp_path: Path, model: str, name: str, *, size: tuple[int, int] = (64, 48)) -> tuple[np.ndarray, bool]:
    """Render a small Wan project with ``model``; the frames and whether the model node came from the cache."""
    g = Graph()
    g.add_node("text", {"text": "a paper boat on a river"}, node_id="prompt")
    g.add_node("text_to_video", {"model": WAN, "width": size[0], "height": size[1], "frames": 9, "steps": 2,
                                 "seed": 5}, node_id="t2v")
    g.add_node("save_video", node_id="save")
    g.connect("prompt", "out", "t2v", "prompt")
    g.connect("t2v", "video", "save", "video")
    path = tmp_path / f"{name}.weft"
    project.save(project.Project(g), path)
    done = weft("render", str(path), "--json", "--output-dir", str(tmp_path / "out"), "--set", f"t2v.model={model}",
                env=env)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    finished = {e["node"]: e for e in events if e["event"] == "node_finished"}
    video = media.read_video(finished["save"]["outputs"][0])
    return np.asarray(video.frames), bool(finished["t2v"]["cached"])


def test_a_comfyui_single_file_renders_bit_identical_to_the_same_weights_as_a_diffusers_folder(env, tmp_path):
    models = Path(env["WEFT_MODELS_DIR"])
    file = comfy_transformer(models, tmp_path / "ComfyUI" / "models" / "diffusion_models" / "my_wan.safetensors")
    plain, _ = render(env, tmp_path, WAN, "plain")

    added = weft("models", "add", str(file), "--as", "my-wan", env=env)
    assert added.returncode == 0, added.stderr
    assert "my-wan: added: my_wan.safetensors, a Wan text-to-video transformer" in added.stdout
    assert "runs as Wan 2.1 Text to Video 1.3B" in added.stdout
    listed = weft("models", "list", "--json", env=env)
    mine = next(row for row in json.loads(listed.stdout) if row["id"] == "my-wan")
    assert mine["status"] == "installed" and mine["repo"] == str(file.resolve())

    frames, cached = render(env, tmp_path, "my-wan", "mine")
    assert not cached  # other files, another fingerprint: made, not looked up
    assert frames.shape == plain.shape and np.array_equal(frames, plain)

    # New weights behind the same id and path: rendered again, never the old result.
    comfy_transformer(models, file, scale_output=3.0)
    changed, cached = render(env, tmp_path, "my-wan", "mine")
    assert not cached and not np.array_equal(changed, plain)

    gone = weft("models", "remove", "my-wan", env=env)
    assert gone.returncode == 0 and file.exists()
    assert "my-wan" not in weft("models", "list", env=env).stdout


def _fake_safetensors(path: Path, names: list[str]) -> Path:
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({name: np.zeros((4, 4), np.float32) for name in names}, path)
    return path


def test_files_weft_cannot_use_get_a_message_that_says_why(env, tmp_path):
    models = Path(env["WEFT_MODELS_DIR"])
    good = comfy_transformer(models, tmp_path / "wan.safetensors")
    data = good.read_bytes()
    cut = tmp_path / "wan_cut.safetensors"
    cut.write_bytes(data[: len(data) // 2])
    from engines.models.comfy_layout import write_comfy_models

    written = write_comfy_models(models / WAN, tmp_path / "comfy", names={"vae": "wan_2.1_vae.safetensors",
                                                                          "text_encoder": "umt5_xxl.safetensors"})
    vae, text = written["vae"], written["text_encoder"]
    other = _fake_safetensors(tmp_path / "flux.safetensors", ["double_blocks.0.img_attn.qkv.weight"])
    pickle = tmp_path / "old.ckpt"
    pickle.write_bytes(b"not read")

    cases = {
        cut: rf"wan_cut.safetensors is truncated: the file has {len(data) // 2:,} bytes but its header describes",
        vae: "wan_2.1_vae.safetensors is a Wan 2.1 VAE, not a diffusion model",
        text: "umt5_xxl.safetensors is a UMT5 text encoder, not a diffusion model",
        other: "flux.safetensors: not a model family Weft can load from a single file",
        pickle: "old.ckpt: a pickle checkpoint",
        tmp_path / "nowhere.safetensors": "no such file or folder",
    }
    for path, message in cases.items():
        done = weft("models", "add", str(path), env=env)
        assert done.returncode == 2, (path, done.stdout)
        assert message in done.stderr, done.stderr
    taken = weft("models", "add", str(good), "--as", WAN, env=env)
    assert taken.returncode == 2 and "one of Weft's own models" in taken.stderr
    # A Wan transformer of another size than the model it is said to be.
    wrong = weft("models", "add", str(good), "--like", "wan2.1-vace-14b", env=env)
    assert wrong.returncode == 2
    assert "does not fit --like wan2.1-vace-14b: wan2.1-vace-14b has a Wan vace transformer of width 5120" \
        in wrong.stderr
    assert not (models / "registered.json").exists()  # nothing was registered


def test_a_comfyui_models_folder_registers_what_it_can_use_in_place(env, tmp_path):
    models = Path(env["WEFT_MODELS_DIR"])
    comfy = tmp_path / "ComfyUI" / "models"
    good = comfy_transformer(models, comfy / "diffusion_models" / "Wan2.1 Boats v2.safetensors")
    data = good.read_bytes()
    (comfy / "diffusion_models" / "half.safetensors").write_bytes(data[: len(data) // 3])
    _fake_safetensors(comfy / "vae" / "wan_2.1_vae.safetensors", ["decoder.middle.0.residual.0.gamma"])

    done = weft("models", "add", str(comfy), env=env)
    assert done.returncode == 0, done.stderr
    assert "wan2.1-boats-v2: added" in done.stdout
    assert "skipped" in done.stderr and "half.safetensors is truncated" in done.stderr
    listed = {row["id"]: row for row in json.loads(weft("models", "list", "--json", env=env).stdout)}
    assert listed["wan2.1-boats-v2"]["repo"] == str(good.resolve())  # used where it is, not copied
    assert not list(models.rglob("*Boats*"))


def test_a_diffusers_folder_registers_as_its_own_model(env, tmp_path):
    mine = shutil.copytree(Path(env["WEFT_MODELS_DIR"]) / WAN, tmp_path / "My Finetune")
    ask = weft("models", "add", str(mine), env=env)
    # Several Weft models are WanPipelines and this one's size is none of theirs: ask which.
    assert ask.returncode == 2 and "say which with --like ID" in ask.stderr
    done = weft("models", "add", str(mine), "--like", WAN, env=env)
    assert done.returncode == 0, done.stderr
    assert "my-finetune: added: the diffusers folder" in done.stdout
    listed = {row["id"]: row for row in json.loads(weft("models", "list", "--json", env=env).stdout)}
    assert listed["my-finetune"]["status"] == "installed" and listed["my-finetune"]["task"] == "text_to_video"
    (mine / "transformer" / "diffusion_pytorch_model.safetensors").unlink()
    broken = {row["id"]: row for row in json.loads(weft("models", "list", "--json", env=env).stdout)}
    assert broken["my-finetune"]["status"] == "not installed"
    again = weft("models", "add", str(mine), "--like", WAN, env=env)
    assert again.returncode == 2 and "a component missing or half-written" in again.stderr
