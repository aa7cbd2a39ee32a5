"""The sketch models are ordinary catalogue models that ship with Weft.

Real files, the real command line and the real loader: `weft models list` shows
them installed with the size of their shipped folders; `weft models pull` says
they ship; the manifest catches a changed or missing file, before anything
loads; `weft validate` refuses words, sizes, lengths they were not trained for,
naming the node and the parameter; a wheel built from the project carries the
weights. (These use whatever weights the folders hold: the wiring, not the look.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from nodes.model_catalogue import CATALOGUE, models_for, size_text
from engines.sketch import manifest
import engines.models  # noqa: F401  (the runtime tells the catalogue the shipped sizes on import)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "assets" / "examples"
SKETCH = ("sketch-video", "sketch-sound")


def weft(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "WEFT_MODELS_DIR": str(tmp_path / "models"), "WEFT_TINY_DIR": str(tmp_path / "tiny"),
           "WEFT_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


# ---- the catalogue ---------------------------------------------------------------------


@pytest.mark.parametrize("model_id", SKETCH)
def test_models_list_shows_each_sketch_model_installed_with_its_size_and_licence(tmp_path, model_id):
    done = weft("models", "list", "--json", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    row = next(r for r in json.loads(done.stdout) if r["id"] == model_id)
    folder_bytes = sum(p.stat().st_size for p in manifest.folder(model_id).rglob("*") if p.is_file())
    assert folder_bytes > 100_000  # real weights, not an empty folder
    assert row["download"] == size_text(folder_bytes / 1e9)
    assert CATALOGUE[model_id].download_gb == pytest.approx(folder_bytes / 1e9)
    assert row["status"] == "installed (toy model, shipped with Weft)"
    assert row["licence"] == "Apache-2.0" and row["repo"] == "ships with Weft"
    spec = CATALOGUE[model_id]
    assert spec.shipped and not spec.gated and not spec.non_commercial and spec.licence_warning() == ""
    # The table an artist reads says the same.
    table = weft("models", "list", tmp_path=tmp_path).stdout
    line = next(l for l in table.splitlines() if l.startswith(model_id + " "))
    assert "ships with Weft" in line and size_text(folder_bytes / 1e9) in line and "installed (toy model" in line


def test_the_pickers_of_text_to_video_and_audio_list_the_sketch_models():
    from nodes.registry import default_registry

    registry = default_registry()
    assert "sketch-video" in registry.get("text_to_video").params["model"].options()
    assert "sketch-sound" in registry.get("text_to_audio").params["model"].options()
    assert "sketch-sound" in registry.get("soundtrack_for_video").params["model"].options()
    # The real models stay the defaults of the catalogue (see README: a project names its model).
    assert models_for("text_to_video")[0].id == "wan2.1-t2v-1.3b"


def test_pull_says_a_sketch_model_ships_with_weft(tmp_path):
    done = weft("models", "pull", "sketch-video", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "sketch-video ships with Weft: nothing to download" in done.stdout
    assert not (tmp_path / "models" / "sketch-video").exists()


# ---- the manifest ------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", SKETCH)
def test_the_manifest_matches_what_ships(model_id):
    assert manifest.problems(model_id) == []
    assert manifest.is_present(model_id)


@pytest.fixture
def copied_weights(tmp_path, monkeypatch):
    """A copy of the shipped sketch-video folder with its own manifest, made the package's for this test."""
    root = tmp_path / "weights"
    shutil.copytree(manifest.folder("sketch-video"), root / "sketch-video")
    manifest.write(root)
    monkeypatch.setattr(manifest, "WEIGHTS", root)
    return root


def test_a_changed_file_is_refused_naming_the_model_and_the_file(copied_weights, tmp_path):
    from engines.models.manager import ModelManager
    from engines.models.sources import ModelNotAvailableError

    assert manifest.verify("sketch-video") == copied_weights / "sketch-video"
    weights = copied_weights / "sketch-video" / "transformer" / "diffusion_pytorch_model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF  # same size, one byte different: only the sha256 sees it
    weights.write_bytes(bytes(data))
    with pytest.raises(manifest.ManifestError) as caught:
        manifest.verify("sketch-video")
    message = str(caught.value)
    assert "sketch-video" in message and "transformer/diffusion_pytorch_model.safetensors has changed" in message
    assert "Reinstall Weft" in message
    # The manager refuses before loading anything, in every profile.
    for profile in ("default", "tiny"):
        manager = ModelManager(profile, models_dir=tmp_path / "m", tiny_dir=tmp_path / "t", device="cpu")
        with pytest.raises(ModelNotAvailableError, match="transformer/diffusion_pytorch_model.safetensors"):
            manager.pipeline("sketch-video")
        assert manager.resident() == []


def test_a_missing_file_is_refused_and_the_model_reads_not_installed(copied_weights, tmp_path):
    from engines.models.manager import ModelManager

    manager = ModelManager("default", models_dir=tmp_path / "m", device="cpu")
    assert manager.is_installed("sketch-video")
    (copied_weights / "sketch-video" / "vae" / "config.json").unlink()
    assert not manager.is_installed("sketch-video")
    with pytest.raises(manifest.ManifestError, match=r"sketch-video .*vae/config\.json is missing.*Reinstall"):
        manifest.verify("sketch-video")


def test_the_manifest_command_writes_and_checks(copied_weights):
    target = copied_weights / manifest.MANIFEST_NAME
    target.unlink()
    env = {**os.environ}
    run = [sys.executable, "-m", "engines.sketch.manifest", "--root", str(copied_weights)]
    done = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    entry = json.loads(target.read_text())["models"]["sketch-video"]
    assert entry["files"]["model_index.json"]["bytes"] == (copied_weights / "sketch-video" / "model_index.json"
                                                           ).stat().st_size
    assert subprocess.run(run + ["--check"], cwd=ROOT, capture_output=True, timeout=60).returncode == 0
    (copied_weights / "sketch-video" / "extra.safetensors").write_bytes(b"x")
    checked = subprocess.run(run + ["--check"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 1 and "extra.safetensors is not one of its files" in checked.stderr


def test_a_wheel_of_weft_carries_the_weights(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("app", "nodes", "engines"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", ".",
                           "-w", str(tmp_path / "wheel")], cwd=source, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    names = set(zipfile.ZipFile(next((tmp_path / "wheel").glob("*.whl"))).namelist())
    assert "engines/sketch/weights/manifest.json" in names
    for model_id in SKETCH:
        for file in manifest.entry(model_id)["files"]:
            assert f"engines/sketch/weights/{model_id}/{file}" in names


# ---- what they accept ----------------------------------------------------------------------


def test_the_shape_presets_give_the_one_shape_sketch_video_makes():
    from nodes.video_rules import resolve_shape
    from nodes.registry import default_registry

    t2v = default_registry().get("text_to_video")
    for aspect in ("16:9", "9:16", "1:1"):
        for resolution in ("preview", "480p", "720p"):
            params = {**t2v.default_params(), "model": "sketch-video", "aspect": aspect, "resolution": resolution,
                      "duration_unit": "seconds", "seconds": 2.0, "fps": 0.0}
            shape = resolve_shape("sketch-video", params)
            assert (shape.width, shape.height, shape.frames, shape.fps) == (64, 64, 17, 8.0)
            assert t2v.summary(params) == [("Size", "64 x 64"), ("Length", "17 frames, 2.12 s")]


def _validate(tmp_path, example: str, *sets: str) -> subprocess.CompletedProcess:
    args = ["validate", str(EXAMPLES / example)]
    for assignment in sets:
        args += ["--set", assignment]
    return weft(*args, tmp_path=tmp_path)


def test_the_examples_validate(tmp_path):
    for example in ("sketch_text_to_video.weft", "sketch_video_with_sound.weft"):
        done = _validate(tmp_path, example)
        assert done.returncode == 0, done.stderr


def test_unknown_words_are_named_by_weft_validate(tmp_path):
    done = _validate(tmp_path, "sketch_video_with_sound.weft",
                     "prompt.text=A cinematic fox moves right on a blue background",
                     "sound_prompt.text=a dog barks twice")
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    video = next(l for l in lines if "(t2v)" in l)
    assert "node Text to Video (sketch) (t2v): input 'prompt': sketch-video does not know the words: cinematic, fox" \
        " \u2014 it knows shapes, colours, motions: circle" in video
    sound = next(l for l in lines if "(t2a)" in l)
    assert "node Text to Audio (sketch) (t2a): input 'prompt': sketch-sound does not know the words: dog, barks, " \
        "twice \u2014 it knows simple sounds" in sound
    assert "Traceback" not in done.stderr


def test_a_negative_prompt_the_model_cannot_read_is_refused(tmp_path):
    done = _validate(tmp_path, "sketch_text_to_video.weft", "t2v.negative_prompt=blurry, low quality")
    assert done.returncode == 2
    assert ("node Text to Video (sketch) (t2v): parameter 'negative_prompt': sketch-video does not know the words: "
            "blurry, low, quality") in done.stderr
    assert "Leave the negative prompt empty" in done.stderr


@pytest.mark.parametrize("sets, where, expected", [
    (("t2v.aspect=custom", "t2v.width=480", "t2v.height=272"), "parameter 'width'",
     "was trained at 64x64 only, not 480; use width 64"),
    (("t2v.aspect=custom", "t2v.width=480", "t2v.height=272"), "parameter 'height'",
     "was trained at 64x64 only, not 272; use height 64"),
    (("t2v.frames=33",), "parameter 'frames'", "was trained for 17 frames only, not 33; use 17"),
    (("t2v.duration_unit=seconds", "t2v.seconds=5"), "parameter 'seconds'",
     "makes 17 frames only (2.125 s at 8 fps), not 5 s; use 2.125"),
])
def test_a_shape_sketch_video_was_not_trained_for_is_refused(tmp_path, sets, where, expected):
    done = _validate(tmp_path, "sketch_text_to_video.weft", *sets)
    assert done.returncode == 2
    line = next(l for l in done.stderr.splitlines() if where in l)
    assert line.startswith("weft: ") and "node Text to Video (sketch) (t2v): " + where in line and expected in line


@pytest.mark.parametrize("seconds", ["6", "0.5"])
def test_a_sound_length_sketch_sound_was_not_trained_for_is_refused(tmp_path, seconds):
    done = _validate(tmp_path, "sketch_video_with_sound.weft", f"t2a.seconds={seconds}")
    assert done.returncode == 2
    assert (f"node Text to Audio (sketch) (t2a): parameter 'seconds': Sketch Sound (toy model) was trained on 1-4 s "
            f"sounds; asked for {float(seconds):.2f} s") in done.stderr


def test_the_quick_start_renders_the_sketch_example_with_no_flags():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands = block.strip().splitlines()
    assert commands == [
        "packaging/install.sh && .venv/bin/weft render assets/examples/sketch_video_with_sound.weft "
        "--output-dir renders",
        "packaging/install.sh --dev && .venv/bin/python -m pytest",
    ]


def test_the_real_models_take_any_words(tmp_path):
    done = weft("validate", str(EXAMPLES / "text_to_video.weft"), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("real, toy", [("wan2.1-t2v-1.3b", "sketch-video"), ("stable-audio-open-1.0", "sketch-sound")])
def test_a_missing_real_model_says_how_to_pull_it_and_names_the_toy_model_of_its_task(tmp_path, monkeypatch, real, toy):
    from huggingface_hub import constants

    from engines.models.manager import ModelManager
    from engines.models.sources import ModelNotAvailableError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    manager = ModelManager("default", models_dir=tmp_path / "models", device="cpu")
    with pytest.raises(ModelNotAvailableError) as caught:
        manager.pipeline(real)
    message = str(caught.value)
    assert f"weft models pull {real}" in message
    assert f"({toy}) ships with Weft: a toy model of a toy world" in message and "not a substitute" in message
    assert manager.resident() == []  # nothing was swapped in
