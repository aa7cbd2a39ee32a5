"""Speed switches on the tiny models: exactness when off, evaluations saved when on,
clear messages when a switch cannot work, residency under a memory budget, Draft.

In-process (no worker), latents only (no VAE decode), a few steps at 32x32:
what is tested is what the hooks do to the transformer calls, not the pictures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engines.services import EngineServices
from nodes.catalogue.generate import TextToAudio, TextToVideo
from nodes.definition import NodeError

torch = pytest.importorskip("torch")

WAN = "wan2.1-t2v-1.3b"
AUDIO = "stable-audio-open-1.0"


class Ctx(EngineServices):
    """The RunContext a model node sees, without an executor."""

    def __init__(self, node_type: Any, **params: Any) -> None:
        self.node_type = node_type
        self.node_id = "n1"
        self.models_profile = "tiny"
        self.params = {**node_type.default_params(), **params}
        self.stats: dict[str, Any] = {}
        self.steps_seen: list[int] = []

    def progress(self, step: int, total: int, preview: Any = None) -> None:
        self.steps_seen.append(step)

    def check_cancelled(self) -> None:
        pass

    def resolve_path(self, path: str) -> Path:
        return Path(path)


@pytest.fixture(scope="module")
def manager(tiny_models_dir):
    from engines.models.manager import ModelManager

    return ModelManager(profile="tiny", tiny_dir=tiny_models_dir)


@pytest.fixture(scope="module")
def wan(manager):
    return manager.pipeline(WAN)


@pytest.fixture(scope="module")
def audio(manager):
    return manager.pipeline(AUDIO)


WAN_CALL = dict(prompt="a red fox runs through fresh snow", negative_prompt="blurry", width=32, height=32,
                num_frames=9, output_type="latent")


def run_wan(pipe, steps: int = 6, guidance: float = 5.0, **params):
    from engines.diffusion import generator, run_denoiser

    ctx = Ctx(TextToVideo, **params)
    out = run_denoiser(ctx, pipe, steps=steps, guidance_scale=guidance, generator=generator(0), **WAN_CALL)
    return out.frames, ctx.stats


def bare_wan(pipe, steps: int = 6, guidance: float = 5.0):
    from engines.diffusion import generator

    return pipe(num_inference_steps=steps, guidance_scale=guidance, generator=generator(0), **WAN_CALL).frames


def run_audio(pipe, steps: int = 4, **params):
    from engines.diffusion import generator, run_denoiser

    ctx = Ctx(TextToAudio, **params)
    out = run_denoiser(ctx, pipe, steps=steps, legacy_callback=True, preview=None, prompt="rain on a tin roof",
                       negative_prompt="noise", audio_end_in_s=0.5, guidance_scale=7.0, generator=generator(0),
                       output_type="latent")
    return out.audios, ctx.stats


def assert_clean(pipe) -> None:
    """No cache, LoRA or Weft hook left on a resident pipeline."""
    from diffusers.hooks import HookRegistry

    from engines.diffusion import denoisers

    for model in denoisers(pipe):
        assert not getattr(model, "is_cache_enabled", False)
        assert not getattr(model, "_hf_peft_config_loaded", False)
        registry = HookRegistry.check_if_exists_or_initialize(model)
        assert not [name for name in registry.hooks if name.startswith("weft")]
        assert not model._forward_pre_hooks and not any(m._forward_pre_hooks for m in model.modules())


# -- exactness ---------------------------------------------------------------------------
def test_threshold_one_and_guidance_until_100_are_bit_exact_for_split_guidance(wan):
    plain = bare_wan(wan)
    frames, stats = run_wan(wan, adaptive_guidance=1.0, guidance_until=100.0)
    assert torch.equal(frames, plain)
    assert stats["nfe"] == 2 * 6 and len(stats["guidance_similarity"]) == 6  # measured, never acted on
    assert_clean(wan)


def test_threshold_one_is_bit_exact_for_batched_guidance(audio):
    from engines.diffusion import generator

    plain = audio(prompt="rain on a tin roof", negative_prompt="noise", audio_end_in_s=0.5, guidance_scale=7.0,
                  num_inference_steps=4, generator=generator(0), output_type="latent").audios
    latents, stats = run_audio(audio, adaptive_guidance=1.0)
    assert torch.equal(latents, plain)
    assert stats["nfe"] == 2 * 4
    assert_clean(audio)


# -- each switch changes the counts as expected ----------------------------------------
def test_adaptive_guidance_drops_the_unconditional_pass_once_converged(wan):
    plain = bare_wan(wan)
    frames, stats = run_wan(wan, adaptive_guidance=0.5)  # any similarity passes: converged at step 0
    assert stats["nfe"] == 6 + 1  # both passes at step 0, then the conditional one only
    assert stats["guidance_stopped_at"] == 1 and stats["guidance_skipped"] == 5
    assert not torch.equal(frames, plain)
    assert_clean(wan)


def test_adaptive_guidance_on_batched_guidance_runs_half_the_batch(audio):
    _, stats = run_audio(audio, adaptive_guidance=0.5)
    assert stats["nfe"] == 2 + 3 and stats["guidance_stopped_at"] == 1


def test_guidance_until_a_share_of_the_steps(wan):
    _, stats = run_wan(wan, steps=6, guidance_until=50.0)
    assert stats["nfe"] == 2 * 3 + 3 and stats["guidance_stopped_at"] == 3
    _, stats = run_wan(wan, steps=6, guidance_until=0.0)
    assert stats["nfe"] == 6


@pytest.mark.parametrize("cache, params", [
    ("first_block", {"cache_threshold": 0.5}),
    ("taylorseer", {"cache_interval": 3}),
    ("magcache", {"cache_threshold": 0.2}),
])
def test_block_caches_skip_block_evaluations_and_come_off_after(wan, cache, params):
    plain = bare_wan(wan, steps=8)
    _, stats = run_wan(wan, steps=8, block_cache=cache, **params)
    assert stats["block_cache"] == cache
    assert stats["nfe"] == 16  # same transformer calls...
    assert stats["block_evals"] < 0.8 * stats["block_evals_full"]  # ...fewer blocks run in them
    assert_clean(wan)
    frames, _ = run_wan(wan, steps=8)
    assert torch.equal(frames, plain)  # the resident pipeline is as it was


def test_fastercache_without_guidance(wan):
    _, stats = run_wan(wan, steps=8, guidance=1.0, block_cache="fastercache", cache_interval=2)
    assert stats["nfe"] == 8 and stats["block_evals"] < stats["block_evals_full"]
    assert_clean(wan)


def test_draft_cache_auto_is_off_where_a_model_has_no_cache_hooks(audio):
    _, stats = run_audio(audio, block_cache="auto")
    assert "block_cache" not in stats and stats["nfe"] == 8


# -- invalid combinations -------------------------------------------------------------------
def test_a_cache_on_a_model_without_cache_hooks_names_node_parameter_and_model(audio):
    with pytest.raises(NodeError) as caught:
        run_audio(audio, block_cache="first_block")
    message = str(caught.value)
    assert "Text to Audio (n1)" in message and "'block_cache'" in message
    assert "Stable Audio Open 1.0" in message and "no cache hooks" in message
    assert_clean(audio)


def test_fastercache_with_separate_guidance_passes_is_refused(wan):
    with pytest.raises(NodeError, match=r"parameter 'block_cache' = 'fastercache'.*separate calls"):
        run_wan(wan, block_cache="fastercache")
    assert_clean(wan)


def test_magcache_without_calibrated_ratios_says_how_to_calibrate(wan, tmp_path, monkeypatch):
    monkeypatch.setenv("WEFT_MAGCACHE_DIR", str(tmp_path))
    with pytest.raises(NodeError, match="calibrate-magcache"):
        run_wan(wan, block_cache="magcache")
    assert_clean(wan)


def test_adaptive_guidance_on_an_unknown_pipeline_layout_is_refused(wan, monkeypatch):
    from engines.accel import guidance

    monkeypatch.setattr(guidance, "SPLIT_CFG", frozenset())
    with pytest.raises(NodeError, match="parameter 'adaptive_guidance'"):
        run_wan(wan, adaptive_guidance=0.99)
    assert_clean(wan)


def test_magcache_calibration_stores_ratios_per_profile(manager, tmp_path, monkeypatch):
    from engines.accel import magcache

    monkeypatch.setenv("WEFT_MAGCACHE_DIR", str(tmp_path))
    entry = magcache.calibrate(WAN, manager=manager, steps=4)
    assert len(entry["cond"]) == 4 and entry["cond"][0] == 1.0 and len(entry["uncond"]) == 4
    assert magcache.stored_ratios(WAN, "tiny") == entry["cond"]
    assert magcache.stored_ratios(WAN, "default") is None


# -- LoRA -----------------------------------------------------------------------------------
def test_step_distillation_lora_preset_sets_steps_and_guidance_and_unloads(wan, tmp_path):
    pytest.importorskip("peft")
    from engines.accel.lora import write_random_lora

    lora = write_random_lora(wan.transformer, tmp_path / "lightx2v_tiny.safetensors")
    before = bare_wan(wan, steps=4, guidance=1.0)
    frames, stats = run_wan(wan, steps=30, lora_file=str(lora), lora_preset="lightx2v_4step")
    assert stats["steps"] == 4 and stats["nfe"] == 4  # 4 steps, guidance off: one pass a step
    assert stats["lora"] == lora.name
    assert not torch.equal(frames, before)  # the LoRA changed the model...
    assert_clean(wan)
    assert torch.equal(bare_wan(wan, steps=4, guidance=1.0), before)  # ...for this node only


def test_a_lora_that_does_not_fit_is_named(wan, tmp_path):
    pytest.importorskip("peft")
    from safetensors.torch import save_file

    bad = tmp_path / "other.safetensors"
    save_file({"diffusion_model.blocks.0.self_attn.q.lora_down.weight": torch.zeros(2, 7),
               "diffusion_model.blocks.0.self_attn.q.lora_up.weight": torch.zeros(5, 2)}, str(bad))
    with pytest.raises(NodeError, match=r"parameter 'lora_file'.*other.safetensors does not fit"):
        run_wan(wan, lora_file=str(bad))
    assert_clean(wan)


# -- memory ---------------------------------------------------------------------------------
def test_eviction_under_a_small_ram_budget_keeps_runs_working(tiny_models_dir):
    from engines.models.manager import ModelManager

    small = ModelManager(profile="tiny", tiny_dir=tiny_models_dir, ram_budget=1)  # one model at a time
    wan = small.pipeline(WAN)
    _, stats = run_wan(wan, steps=2)
    assert stats["nfe"] == 4
    audio = small.pipeline(AUDIO)
    assert small.resident() == [AUDIO] and small.evictions == [WAN]
    _, stats = run_audio(audio, steps=2)
    assert stats["nfe"] == 4
    wan = small.pipeline(WAN)  # loaded again, the audio model goes
    assert small.resident() == [WAN] and small.evictions == [WAN, AUDIO]
    _, stats = run_wan(wan, steps=2)
    assert stats["nfe"] == 4

    roomy = ModelManager(profile="tiny", tiny_dir=tiny_models_dir, ram_budget="1GB")
    roomy.pipeline(WAN)
    roomy.pipeline(AUDIO)
    roomy.pipeline(WAN)  # most recently used now
    assert roomy.evictions == [] and roomy.resident() == [AUDIO, WAN]


def test_pipelines_of_one_family_share_components(tiny_models_dir, monkeypatch):
    from dataclasses import replace

    from engines.models import manager as manager_module
    from nodes import model_catalogue as catalogue
    from engines.models.manager import ModelManager

    v2v = replace(catalogue.get_spec(WAN), id="wan-v2v-test", pipeline_class="WanVideoToVideoPipeline")
    real = catalogue.get_spec
    monkeypatch.setattr(manager_module, "get_spec", lambda mid: v2v if mid == v2v.id else real(mid))
    models = ModelManager(profile="tiny", tiny_dir=tiny_models_dir)
    t2v = models.pipeline(WAN)
    alone = models.memory_usage()["cpu"]
    other = models.pipeline(v2v.id)
    assert type(other).__name__ == "WanVideoToVideoPipeline" and other.transformer is t2v.transformer
    assert models.memory_usage()["cpu"] == alone  # shared weights counted once


# -- Draft / Final --------------------------------------------------------------------------
def test_draft_parameters_and_cache_keys(tmp_path):
    from engines.cache import ResultCache
    from engines.executor import Executor
    from engines.quality import effective_params, quality_of
    from nodes.graph import Graph

    final = TextToVideo.default_params()
    draft = effective_params(TextToVideo, final, "draft")
    assert effective_params(TextToVideo, final, "final") is final
    assert (draft["steps"], draft["width"], draft["height"]) == (12, 416, 240)
    assert draft["adaptive_guidance"] < 1.0 and draft["block_cache"] == "auto"
    assert quality_of({"quality": "draft"}) == "draft" and quality_of({"quality": "draft"}, "final") == "final"

    g = Graph()
    g.add_node("text", {"text": "a fox"}, node_id="prompt")
    g.add_node("text_to_video", {}, node_id="t2v")
    g.connect("prompt", "out", "t2v", "prompt")
    executor = Executor(ResultCache(tmp_path))
    inputs = {"prompt": ("k", "out")}
    key_final = executor.node_key(g, "t2v", inputs, tmp_path, effective_params(TextToVideo, g.nodes["t2v"].params))
    key_draft = executor.node_key(g, "t2v", inputs, tmp_path, draft)
    assert key_final == executor.node_key(g, "t2v", inputs, tmp_path) and key_draft != key_final


def test_draft_render_runs_fewer_steps_at_lower_resolution(manager, tmp_path):
    from engines.cache import ResultCache
    from engines.executor import Executor, Job
    from nodes.graph import Graph

    g = Graph()
    g.add_node("text", {"text": "a fox"}, node_id="prompt")
    g.add_node("text_to_video", {"width": 64, "height": 64, "frames": 5, "steps": 10}, node_id="t2v")
    g.connect("prompt", "out", "t2v", "prompt")
    events: list[dict] = []
    executor = Executor(ResultCache(tmp_path / "cache"), manager, events.append, models_profile="tiny")
    result = executor.run(Job("j", g, targets=["t2v"], output_dir=tmp_path, project_dir=tmp_path, quality="draft"))
    assert result["status"] == "ok", result
    done = next(e for e in events if e["event"] == "node_finished" and e["node"] == "t2v")
    assert done["stats"]["steps"] == 4 and done["stats"]["block_cache"] == "first_block"
    assert done["results"]["video"]["width"] == 32


def test_draft_of_the_sketch_example_renders_at_the_one_size_the_sketch_model_knows(tmp_path):
    """Halving 64x64 would make a size the sketch model refuses: Draft keeps it and saves steps."""
    import os
    import subprocess
    import sys

    import av

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "WEFT_CACHE_DIR": str(tmp_path / "cache"), "WEFT_MODELS_DIR": str(tmp_path / "models")}
    done = subprocess.run([sys.executable, "-m", "app", "render", "assets/examples/sketch_text_to_video.weft",
                           "--quality", "draft", "--output-dir", str(tmp_path / "out")],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    video = next((tmp_path / "out").rglob("*.mp4"))

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (64, 64)

# -- options without a GPU ------------------------------------------------------------------
def test_gpu_options_report_what_this_machine_lacks():
    from engines.accel.gpu import GpuOptions

    assert GpuOptions().fingerprint() == "" and GpuOptions().problems() == []
    assert GpuOptions(precision="fp16", compile=True).fingerprint() == "precision=fp16,compile"
    assert any("Hub" in p for p in GpuOptions(attention="flash_hub").problems())
    assert any("not a diffusers backend" in p for p in GpuOptions(attention="warp").problems())
    import importlib.util

    if importlib.util.find_spec("bitsandbytes") is None:
        assert any("bitsandbytes" in p for p in GpuOptions(quantize="bnb_nf4").problems())


def test_unguided_model_nodes_have_no_guidance_switches():
    from nodes.catalogue.model_node import ModelNode

    class Distilled(ModelNode):
        type_id = "distilled_test"
        guided = False

    assert "adaptive_guidance" not in Distilled.params and "block_cache" in Distilled.params
    assert "adaptive_guidance" in TextToVideo.params


def test_identical_components_of_other_models_are_shared(tiny_models_dir):
    from engines.models.manager import ModelManager
    from engines.models.sharing import component_identities

    models = ModelManager(profile="tiny", tiny_dir=tiny_models_dir)
    t2v = models.pipeline(WAN)
    vace = models.pipeline("wan2.1-vace-1.3b")  # another repo: its own transformer, the same VAE
    assert vace.vae is t2v.vae  # byte-identical files: loaded once
    assert vace.transformer is not t2v.transformer  # different architectures: never shared
    # Every other component is shared exactly when its files hold the same bytes
    # (whether the two twins' text encoders match depends on how they were built).
    same = component_identities(models.local_folder(WAN))
    other = component_identities(models.local_folder("wan2.1-vace-1.3b"))
    for name in ("text_encoder", "vae"):  # weights only: tokenizers cost nothing to load twice
        identical = name in same and same.get(name) == other.get(name)
        assert (getattr(vace, name) is getattr(t2v, name)) == identical, name
    models.evict(WAN)
    assert next(vace.vae.parameters()).abs().sum() > 0  # still there for the pipeline that uses it


def test_the_worker_takes_quality_from_the_project_and_the_run(tiny_models_dir, tmp_path, monkeypatch):
    import io
    import json
    import threading

    from engines.worker import Worker
    from nodes import project
    from nodes.graph import Graph

    monkeypatch.setenv("WEFT_TINY_DIR", str(tiny_models_dir))
    g = Graph()
    g.add_node("text", {"text": "a fox"}, node_id="prompt")
    g.add_node("text_to_video", {"width": 32, "height": 32, "frames": 5, "steps": 10}, node_id="t2v")
    g.connect("prompt", "out", "t2v", "prompt")
    out = io.StringIO()
    worker = Worker(out, models_profile="tiny", cache_dir=tmp_path / "cache", memory_budget=1 << 28,
                    disk_budget=None)
    command = {"cmd": "run", "job": "a", "project": project.to_dict(g, {"quality": "draft"}), "targets": ["t2v"],
               "output_dir": str(tmp_path)}
    worker._run_one(command, threading.Event())
    worker._run_one({**command, "job": "b", "quality": "final"}, threading.Event())
    finished = [json.loads(line) for line in out.getvalue().splitlines()]
    steps = {e["job"]: e["stats"]["steps"] for e in finished if e["event"] == "node_finished" and e["node"] == "t2v"}
    assert steps == {"a": 4, "b": 10}
