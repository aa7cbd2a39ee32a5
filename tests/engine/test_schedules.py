"""The noise schedule (issue 13): shift 0 is the model folder's own; named sigma schedules.

ComfyUI is not installed here: its "simple" schedule is written below from its documented
behaviour (pick evenly spaced entries, from the top, of the model's 1000-entry sigma table, whose
entry i is the flow-shifted time (i + 1) / 1000), in plain floats, independently of engines/sigmas.py.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from engines.models.manager import ModelManager
from engines.sigmas import schedule_sigmas
from nodes.graph import Graph
from video_harness import run_graph

WAN = "wan2.1-t2v-1.3b"


def comfy_simple(steps: int, shift: float) -> list[float]:
    def shifted(t: float) -> float:
        return shift * t / (1 + (shift - 1) * t)
    return [shifted((1000 - int(x * (1000 / steps))) / 1000) for x in range(steps)] + [0.0]


@pytest.mark.parametrize("steps", [1, 2, 4, 7, 20, 30, 50])
@pytest.mark.parametrize("shift", [1.0, 3.0, 5.0, 8.0])
def test_simple_is_comfyuis_sigma_list(steps, shift):
    ours, theirs = schedule_sigmas("simple", steps, shift), comfy_simple(steps, shift)
    assert len(ours) == steps + 1 and ours[-1] == 0.0
    assert np.allclose(ours, theirs, rtol=0, atol=1e-6), f"simple, {steps} steps, shift {shift}: {ours} != {theirs}"


def test_schedules_by_hand():
    assert np.allclose(schedule_sigmas("simple", 4, 3.0), [1.0, 0.9, 0.75, 0.5, 0.0], atol=1e-7)
    # Movie Gen: one linear step to 0.025 noise... here 2 steps: noise 0, then 0.025, then 1.
    assert np.allclose(schedule_sigmas("linear_quadratic", 2, 3.0), [1.0, 0.975, 0.0], atol=1e-9)
    for name in ("karras", "beta", "linear_quadratic"):
        sigmas = schedule_sigmas(name, 12, 5.0)
        assert sigmas[-1] == 0.0 and abs(sigmas[0] - 1.0) < 1e-6, f"{name} must run from 1 to 0: {sigmas}"
        assert all(a > b for a, b in zip(sigmas, sigmas[1:])), f"{name} must fall at every step: {sigmas}"
    assert schedule_sigmas("default", 12, 5.0) is None
    with pytest.raises(ValueError, match="unknown sigma schedule 'nope'"):
        schedule_sigmas("nope", 4, 3.0)


def t2v_graph(**params) -> Graph:
    g = Graph()
    g.add_node("text", {"text": "a lighthouse in a storm"}, node_id="prompt")
    g.add_node("text_to_video", {"model": WAN, "aspect": "custom", "width": 64, "height": 64,
                                 "duration_unit": "frames", "frames": 5, "steps": 4, **params}, node_id="t2v")
    g.connect("prompt", "out", "t2v", "prompt")
    return g


@pytest.fixture
def walked(monkeypatch):
    """The sigmas each pipeline call's scheduler walked."""
    import engines.diffusion as diffusion

    seen: list[list[float]] = []
    real = diffusion.run_denoiser

    def spy(ctx, pipe, **kwargs):
        result = real(ctx, pipe, **kwargs)
        seen.append([float(s) for s in pipe.scheduler.sigmas])
        return result

    monkeypatch.setattr(diffusion, "run_denoiser", spy)
    return seen


@pytest.mark.slow
def test_shift_zero_is_the_folders_own_and_a_schedule_is_walked(tiny_models_dir, tmp_path, walked):
    twins = tmp_path / "twins"
    shutil.copytree(ModelManager(profile="tiny", tiny_dir=tiny_models_dir).ensure_tiny(WAN), twins / WAN)
    config_file = twins / WAN / "scheduler" / "scheduler_config.json"
    config = json.loads(config_file.read_text())
    config["flow_shift"] = 7.0  # not the 3.0 Wan 2.1 usually ships with
    config_file.write_text(json.dumps(config))
    models = ModelManager(profile="tiny", tiny_dir=twins, device="cpu")

    def uni_pc(shift: float) -> list[float]:  # UniPC's flow sigmas for 4 steps
        s = np.linspace(1, 1 / 1000, 5)[:-1]
        return list(shift * s / (1 + (shift - 1) * s)) + [0.0]

    run = run_graph(t2v_graph(shift=0.0), models, tmp_path)
    assert run.status == "ok", run.failed()
    assert np.allclose(walked[-1], uni_pc(7.0), atol=2e-6), \
        f"Text to Video shift 0: expected the folder's flow_shift 7, walked {walked[-1]}"
    run = run_graph(t2v_graph(shift=5.0), models, tmp_path)
    assert np.allclose(walked[-1], uni_pc(5.0), atol=2e-6), "the node's own shift must win over the folder's"

    run = run_graph(t2v_graph(shift=0.0, schedule="simple"), models, tmp_path)
    assert run.status == "ok", run.failed()
    assert np.allclose(walked[-1], comfy_simple(4, 7.0), atol=2e-6), \
        f"Text to Video schedule 'simple': expected ComfyUI's sigmas {comfy_simple(4, 7.0)}, walked {walked[-1]}"
    assert run.value("t2v", "video").frames.std() > 0, "the schedule must give a picture, not a blank (NaN) one"
