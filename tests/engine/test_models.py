"""Models: the catalogue, the tiny twins and the manager that loads them.

Every render goes through the same `from_pretrained` path the real weights
take; the tiny twins (random weights, built offline) stand in for them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from nodes import model_catalogue as catalogue
from nodes.model_catalogue import CATALOGUE, UnknownModelError, get_spec
from engines.models.folders import cached_snapshot
from engines.models.manager import ModelManager
from engines.models.sources import ModelNotAvailableError

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.filterwarnings("ignore:Should have:UserWarning")  # torchsde, harmless

WAN = "wan2.1-t2v-1.3b"
AUDIO = "stable-audio-open-1.0"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_dir(tiny_models_dir) -> Path:
    """The session's tiny twins, built once (shared with the end-to-end tests)."""
    ModelManager(profile="tiny", tiny_dir=tiny_models_dir).make_tiny()
    return tiny_models_dir


@pytest.fixture(scope="session")
def tiny(tiny_dir) -> ModelManager:
    """One manager for the session, so pipelines load once."""
    return ModelManager(profile="tiny", tiny_dir=tiny_dir, device="cpu")


def render_video(pipe, seed=0, *, width=176, height=96, frames=13, steps=2):
    import torch

    out = pipe(
        "a lighthouse in a storm",
        negative_prompt="blurry",
        width=width,
        height=height,
        num_frames=frames,
        num_inference_steps=steps,
        guidance_scale=5.0,
        generator=torch.Generator("cpu").manual_seed(seed),
        output_type="np",
    )
    return np.asarray(out.frames)


def render_audio(pipe, seed=0, *, seconds=1.5, steps=3):
    import torch

    out = pipe(
        "waves on a pebble beach",
        negative_prompt="low quality",
        audio_end_in_s=seconds,
        num_inference_steps=steps,
        guidance_scale=7.0,
        generator=torch.Generator("cpu").manual_seed(seed),
        output_type="np",
    )
    return np.asarray(out.audios)


# ---- the catalogue -------------------------------------------------------------


def test_unknown_model_names_the_id_and_lists_the_known_ones(tiny):
    with pytest.raises(UnknownModelError) as caught:
        get_spec("wan9-t2v")
    message = str(caught.value)
    assert "wan9-t2v" in message
    assert WAN in message and AUDIO in message
    assert isinstance(caught.value, ValueError)
    # The manager refuses the same way, before touching any disk.
    with pytest.raises(UnknownModelError, match="wan9-t2v"):
        tiny.pipeline("wan9-t2v")


def test_every_catalogue_model_has_a_tiny_twin_and_a_default_per_task():
    from engines.models.tiny import tiny_families

    # Shipped models (the sketch models) need no twin: every profile loads their own weights.
    assert {spec.family for spec in CATALOGUE.values() if not spec.shipped} <= set(tiny_families())
    assert all(spec.family not in tiny_families() for spec in CATALOGUE.values() if spec.shipped)
    assert catalogue.models_for(catalogue.TEXT_TO_VIDEO)[0].id == WAN
    assert catalogue.models_for(catalogue.TEXT_TO_AUDIO)[0].id == AUDIO


def test_licence_terms_are_flagged_for_the_artist():
    audio = get_spec(AUDIO)
    assert audio.gated
    assert "revenue" in audio.licence_warning()
    wan = get_spec(WAN)
    assert wan.licence == "Apache-2.0" and not wan.gated and wan.licence_warning() == ""


@pytest.mark.parametrize("module", ["nodes.model_catalogue", "engines.models.manager"])
def test_importing_the_catalogue_or_manager_loads_no_inference_stack(module):
    # The GUI imports these; torch alone takes seconds to import.
    code = (
        f"import sys, {module}\n"
        "from engines.models.manager import ModelManager\n"
        "m = ModelManager(profile='default', models_dir=sys.argv[1], tiny_dir=sys.argv[1])\n"
        f"m.is_installed({WAN!r})\n"
        f"ModelManager(profile='tiny', tiny_dir=sys.argv[1]).is_installed({AUDIO!r})\n"
        "print(sorted(n for n in ('torch', 'diffusers', 'transformers') if n in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "no-such-dir")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_model_folders_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WEFT_MODELS_DIR", str(tmp_path / "real"))
    monkeypatch.setenv("WEFT_TINY_DIR", str(tmp_path / "tiny"))
    manager = ModelManager()
    assert manager.models_dir == tmp_path / "real"
    assert manager.tiny_dir == tmp_path / "tiny"
    assert ModelManager(profile="tiny").local_folder(WAN) == tmp_path / "tiny" / WAN


# ---- tiny twins: build, save, reload, render ------------------------------------


def test_tiny_folders_are_diffusers_pipelines_that_say_they_are_noise(tiny_dir):
    for model_id, spec in CATALOGUE.items():
        folder = tiny_dir / model_id
        if spec.shipped:  # no twin: the shipped weights, in every profile
            assert not folder.exists()
            assert "noise" not in ModelManager(profile="tiny").display_title(model_id)
            continue
        index = json.loads((folder / "model_index.json").read_text())
        assert index["_class_name"] == spec.pipeline_class
        assert "RANDOM weights" in (folder / "README.txt").read_text()
    assert "noise" in ModelManager(profile="tiny").display_title(WAN)


def test_wan_twin_renders_the_frames_and_size_asked_for(tiny):
    frames = render_video(tiny.pipeline(WAN), width=176, height=96, frames=13)
    assert frames.shape == (1, 13, 96, 176, 3)
    assert np.isfinite(frames).all()
    assert 0.0 <= frames.min() and frames.max() <= 1.0
    assert frames.std() > 0.01  # a picture of noise, not a flat grey


@pytest.mark.parametrize("seconds", [1.5, 12.0])
def test_stable_audio_twin_renders_44k_stereo_of_the_length_asked_for(tiny, seconds):
    pipe = tiny.pipeline(AUDIO)
    audio = render_audio(pipe, seconds=seconds)
    assert pipe.vae.sampling_rate == 44100
    assert audio.shape == (1, 2, round(seconds * 44100))
    assert np.isfinite(audio).all() and np.abs(audio).max() > 0


@pytest.mark.parametrize(("model_id", "render"), [(WAN, render_video), (AUDIO, render_audio)])
def test_same_seed_same_output_after_reload(tiny, tiny_dir, model_id, render):
    before = render(tiny.pipeline(model_id), seed=7)
    # A second manager reads the saved folder again: a fresh load from disk.
    reloaded = ModelManager(profile="tiny", tiny_dir=tiny_dir, device="cpu").pipeline(model_id)
    assert reloaded is not tiny.pipeline(model_id)
    np.testing.assert_allclose(render(reloaded, seed=7), before, atol=1e-5)
    assert np.abs(render(reloaded, seed=8) - before).max() > 1e-3


def test_pipelines_stay_resident_until_evicted(tiny_dir, monkeypatch):
    import diffusers

    manager = ModelManager(profile="tiny", tiny_dir=tiny_dir, device="cpu")
    loads = []
    original = diffusers.WanPipeline.from_pretrained.__func__

    def counting(cls, *args, **kwargs):
        loads.append(args[0])
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(diffusers.WanPipeline, "from_pretrained", classmethod(counting))
    first = manager.pipeline(WAN)
    assert manager.pipeline(WAN) is first
    assert len(loads) == 1 and manager.resident() == [WAN]
    assert manager.evict(WAN) and manager.resident() == []
    assert manager.pipeline(WAN) is not first
    assert len(loads) == 2


def test_building_twins_at_once_leaves_one_complete_folder(tmp_path):
    # Two builders racing (a GUI worker and a CLI render, say) must not
    # corrupt the folder or leave half-built temporaries behind.
    errors = []

    def build():
        try:
            ModelManager(profile="tiny", tiny_dir=tmp_path).ensure_tiny(AUDIO)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == [AUDIO]
    assert ModelManager(profile="tiny", tiny_dir=tmp_path).is_installed(AUDIO)


def test_a_twin_from_an_older_builder_is_rebuilt(tmp_path):
    manager = ModelManager(profile="tiny", tiny_dir=tmp_path)
    folder = manager.ensure_tiny(AUDIO)
    stamp_file = folder / "weft_tiny.json"
    stamp = json.loads(stamp_file.read_text())
    stamp_file.write_text(json.dumps({**stamp, "version": stamp["version"] - 1}))
    assert not manager.is_installed(AUDIO)
    manager.ensure_tiny(AUDIO)
    assert json.loads(stamp_file.read_text()) == stamp


# ---- real weights: missing, pulled, partial --------------------------------------


@pytest.mark.parametrize("model_id", [WAN, AUDIO])
def test_missing_weights_offline_say_how_to_fetch_them(tmp_path, model_id):
    spec = get_spec(model_id)
    if cached_snapshot(spec.repo_id) is not None:
        pytest.skip("the real weights are in this machine's Hugging Face cache")
    manager = ModelManager(profile="default", models_dir=tmp_path)
    assert not manager.is_installed(model_id)
    with pytest.raises(ModelNotAvailableError) as caught:
        manager.pipeline(model_id)
    message = str(caught.value)
    assert model_id in message and spec.repo_id in message and spec.title in message
    assert f"weft models pull {model_id}" in message
    assert ("accept its licence" in message) == spec.gated
    assert not manager.is_resident(model_id)


def test_a_pulled_folder_loads_through_the_default_profile(tiny_dir, tmp_path):
    import shutil

    # A twin copied where `weft models pull` puts real weights: the default
    # profile must load it from there, without the Hub.
    shutil.copytree(tiny_dir / AUDIO, tmp_path / AUDIO)
    manager = ModelManager(profile="default", models_dir=tmp_path, device="cpu")
    assert manager.is_installed(AUDIO)
    pipe = manager.pipeline(AUDIO)
    assert type(pipe).__name__ == "StableAudioPipeline" and pipe.vae.sampling_rate == 44100

    # An interrupted download is not "installed": weights missing, or a
    # whole component not there yet.
    (tmp_path / AUDIO / "transformer" / "diffusion_pytorch_model.safetensors").unlink()
    assert not ModelManager(profile="default", models_dir=tmp_path).is_installed(AUDIO)
    shutil.rmtree(tmp_path / AUDIO / "transformer")
    assert not ModelManager(profile="default", models_dir=tmp_path).is_installed(AUDIO)


def test_pull_fetches_only_the_diffusers_files_and_reports_progress(tmp_path, monkeypatch):
    import huggingface_hub

    calls = {}

    def fake_snapshot_download(repo_id, *, local_dir, allow_patterns, tqdm_class, **_):
        calls.update(repo_id=repo_id, local_dir=Path(local_dir), patterns=allow_patterns)
        bar = tqdm_class(total=3000, unit="B")
        bar.update(1000)
        bar.update(2000)
        bar.close()
        return str(local_dir)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    seen = []
    path = ModelManager(models_dir=tmp_path).pull(AUDIO, progress=lambda done, total: seen.append((done, total)))
    assert path == tmp_path / AUDIO == calls["local_dir"]
    assert calls["repo_id"] == "stabilityai/stable-audio-open-1.0"
    assert seen == [(1000, 3000), (3000, 3000)]

    # The repo's top-level original checkpoint is never loaded, so never fetched.
    from fnmatch import fnmatch

    def fetched(name):
        return any(fnmatch(name, pattern) for pattern in calls["patterns"])

    assert fetched("model_index.json") and fetched("transformer/diffusion_pytorch_model.safetensors")
    assert fetched("tokenizer/spiece.model") and fetched("text_encoder/config.json")
    assert not fetched("model.safetensors") and not fetched("model.ckpt")


def test_pull_offline_explains_what_failed(tmp_path):
    if cached_snapshot(get_spec(AUDIO).repo_id) is not None:
        pytest.skip("the real weights are in this machine's Hugging Face cache")
    with pytest.raises(ModelNotAvailableError) as caught:
        ModelManager(models_dir=tmp_path).pull(AUDIO)
    message = str(caught.value)
    assert "stabilityai/stable-audio-open-1.0" in message and "HF_HUB_OFFLINE" in message
    assert not (tmp_path / AUDIO).exists()  # no empty folder posing as a model



def test_the_device_setting_reaches_the_model_manager(monkeypatch):
    import torch

    from engines.models.manager import ModelManager

    monkeypatch.setenv("WEFT_DEVICE", "cpu")
    assert ModelManager(profile="tiny").device == "cpu"
    monkeypatch.setenv("WEFT_DEVICE", "banana")
    with pytest.raises(ValueError, match="'banana'.*auto, cuda, mps, cpu"):
        ModelManager(profile="tiny").device
    if not torch.cuda.is_available():
        monkeypatch.setenv("WEFT_DEVICE", "cuda")
        with pytest.raises(RuntimeError, match="Device setting.*choose Automatic or CPU"):
            ModelManager(profile="tiny").device
