"""Model nodes' cache keys (issue 13): the weights actually on disk, and only what the model sees.

Renders run in this process on the tiny twins (random weights); what is checked is whether the
model ran again (``cached`` on node_finished) and what came out.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from engines.models import fingerprint as fp
from engines.models.manager import ModelManager
from nodes.graph import Graph
from video_harness import run_graph

WAN = "wan2.1-t2v-1.3b"
LTX = "ltx-video-0.9.5"


def t2v_graph(model: str, **params) -> Graph:
    g = Graph()
    g.add_node("text", {"text": "a lighthouse in a storm"}, node_id="prompt")
    settings = {"model": model, "aspect": "custom", "width": 64, "height": 64, "duration_unit": "frames",
                "frames": 5, "steps": 2, "seed": 3, **params}
    g.add_node("text_to_video", settings, node_id="t2v")
    g.connect("prompt", "out", "t2v", "prompt")
    return g


@pytest.fixture(scope="module")
def tiny(tiny_models_dir) -> ModelManager:
    return ModelManager(profile="tiny", tiny_dir=tiny_models_dir, device="cpu")


# ---- the weights fingerprint ---------------------------------------------------------


def test_the_fingerprint_reads_a_folder_once_until_a_file_changes(tmp_path, monkeypatch):
    folder = tmp_path / "model"
    (folder / "transformer").mkdir(parents=True)
    weights = folder / "transformer" / "diffusion_pytorch_model.safetensors"
    from safetensors.numpy import save_file
    save_file({"w": np.zeros((4, 4), np.float32)}, str(weights))
    reads = []
    real = fp._safetensors_header
    monkeypatch.setattr(fp, "_safetensors_header", lambda p: reads.append(p) or real(p))
    first = fp.folder_fingerprint(folder)
    assert fp.folder_fingerprint(folder) == first and len(reads) == 1, "an unchanged folder must not be read again"
    save_file({"w": np.ones((4, 4), np.float32)}, str(weights))  # other weights, same size
    assert fp.folder_fingerprint(folder) != first, "weights rewritten under the same name must change the fingerprint"
    assert fp.folder_fingerprint(tmp_path / "empty") == fp.ABSENT
    (tmp_path / "empty").mkdir()
    assert fp.folder_fingerprint(tmp_path / "empty") == fp.ABSENT


@pytest.mark.slow
def test_other_weights_under_the_same_id_render_again(tiny, tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    twins = tmp_path / "twins"
    shutil.copytree(tiny.ensure_tiny(WAN), twins / WAN, symlinks=True)
    models = ModelManager(profile="tiny", tiny_dir=twins, device="cpu")
    first = run_graph(t2v_graph(WAN), models, tmp_path)
    assert first.status == "ok", first.failed()
    again = run_graph(t2v_graph(WAN), ModelManager(profile="tiny", tiny_dir=twins, device="cpu"), tmp_path)
    assert again.finished("t2v")["cached"], "the same weights and settings must come from the cache"

    file = twins / WAN / "transformer" / "diffusion_pytorch_model.safetensors"
    tensors = load_file(str(file))
    save_file({name: t * 1.5 if t.is_floating_point() else t for name, t in tensors.items()}, str(file))
    swapped = run_graph(t2v_graph(WAN), ModelManager(profile="tiny", tiny_dir=twins, device="cpu"), tmp_path)
    assert swapped.status == "ok", swapped.failed()
    assert not swapped.finished("t2v")["cached"], "Text to Video: new weights behind the id must re-render"
    assert not np.array_equal(swapped.value("t2v", "video").frames, first.value("t2v", "video").frames)


@pytest.mark.slow
def test_a_models_folder_without_the_weights_never_answers_from_the_cache(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # no Hub cache to fall back on
    models_dir = tmp_path / "models"
    shutil.copytree(tiny.ensure_tiny(WAN), models_dir / WAN, symlinks=True)
    made = run_graph(t2v_graph(WAN), ModelManager(profile="default", models_dir=models_dir, device="cpu"), tmp_path)
    assert made.status == "ok", made.failed()
    (tmp_path / "empty").mkdir()
    empty = ModelManager(profile="default", models_dir=tmp_path / "empty", device="cpu")
    run = run_graph(t2v_graph(WAN), empty, tmp_path)
    assert run.status == "failed", "an empty models folder must fail, not return the video made with other weights"
    assert not any(e["event"] == "node_finished" and e["node"] == "t2v" for e in run.events)


@pytest.mark.slow
def test_another_seed_renders_again_and_the_same_seed_comes_from_the_cache(tiny, tmp_path):
    first = run_graph(t2v_graph(WAN, seed=3), tiny, tmp_path)
    same = run_graph(t2v_graph(WAN, seed=3), tiny, tmp_path)
    assert same.finished("t2v")["cached"], "the same seed and settings must come from the cache"
    other = run_graph(t2v_graph(WAN, seed=4), tiny, tmp_path)
    assert not other.finished("t2v")["cached"], "another seed is another clip: it must render again"
    assert not np.array_equal(first.value("t2v", "video").frames, other.value("t2v", "video").frames)


# ---- parameters after the model -------------------------------------------------------


@pytest.mark.slow
def test_an_fps_change_on_wan_reuses_the_clip_and_on_ltx_renders_again(tiny, tmp_path):
    first = run_graph(t2v_graph(WAN, fps=16.0), tiny, tmp_path)
    assert first.status == "ok", first.failed()
    changed = run_graph(t2v_graph(WAN, fps=12.0), tiny, tmp_path)
    done = changed.finished("t2v")
    assert done["cached"] and done.get("after_model") == ["fps"], \
        f"Text to Video on Wan: fps is stamped after the model and must not re-run it, got {done}"
    video = changed.value("t2v", "video")
    assert video.fps == 12.0, "the cached clip must carry the new fps"
    assert np.array_equal(video.frames, first.value("t2v", "video").frames)
    # A length in seconds: a new fps changes the frame count, so the model runs again.
    secs = dict(duration_unit="seconds", seconds=0.5)
    run_graph(t2v_graph(WAN, fps=16.0, **secs), tiny, tmp_path)
    longer = run_graph(t2v_graph(WAN, fps=24.0, **secs), tiny, tmp_path)
    assert not longer.finished("t2v")["cached"], "fps with a length in seconds changes the frames: must re-run"

    ltx = run_graph(t2v_graph(LTX, width=64, height=64, frames=9, fps=24.0), tiny, tmp_path)
    assert ltx.status == "ok", ltx.failed()
    ltx2 = run_graph(t2v_graph(LTX, width=64, height=64, frames=9, fps=12.0), tiny, tmp_path)
    assert not ltx2.finished("t2v")["cached"], "Text to Video on LTX-Video: the frame rate conditions the model"


def test_after_model_parameters_per_model():
    from nodes.catalogue.generate import TextToVideo

    assert TextToVideo.after_model({"model": WAN}) == ("fps",)
    assert TextToVideo.after_model({"model": LTX}) == ()


@pytest.mark.slow
def test_an_fps_change_on_image_to_video_reuses_the_clip(tiny, tmp_path):
    from engines import media
    from nodes.values import Image
    from video_harness import solid

    still = tmp_path / "still.png"
    media.write_image(still, Image(solid(64, 64, (10, 200, 10))))

    def graph(fps: float) -> Graph:
        g = Graph()
        g.add_node("text", {"text": "leaves sway"}, node_id="prompt")
        g.add_node("load_image", {"path": str(still)}, node_id="still")
        g.add_node("image_to_video", {"model": "wan2.2-ti2v-5b", "aspect": "from input", "resolution": "preview",
                                      "duration_unit": "frames", "frames": 5, "steps": 1, "fps": fps},
                   node_id="i2v")
        g.connect("prompt", "out", "i2v", "prompt")
        g.connect("still", "image", "i2v", "first_frame")
        return g

    first = run_graph(graph(24.0), tiny, tmp_path)
    assert first.status == "ok", first.failed()
    again = run_graph(graph(12.0), tiny, tmp_path)
    assert again.finished("i2v")["cached"], "Image to Video on Wan: fps is after the model, must not re-run it"
    assert again.value("i2v", "video").fps == 12.0
