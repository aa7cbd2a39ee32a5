"""The environment of a process that runs models: thread policy and malloc tuning (issue 13)."""

from __future__ import annotations

from engines.client import MALLOC_TUNING, engine_process_env, thread_policy


def test_one_worker_keeps_the_library_thread_defaults():
    env = engine_process_env({"PATH": "/bin"})
    assert "OMP_WAIT_POLICY" not in env, "a lone worker must keep OpenMP's own wait policy (passive doubled the loop)"
    assert "OMP_NUM_THREADS" not in env
    assert thread_policy(1, 16, user_env={}) == {}


def test_several_workers_wait_passively_on_their_share_of_the_cores():
    policy = thread_policy(4, 16, user_env={})
    assert policy["OMP_WAIT_POLICY"] == "PASSIVE" and policy["OMP_NUM_THREADS"] == "4"
    kept = thread_policy(4, 16, user_env={"OMP_WAIT_POLICY": "ACTIVE", "OMP_NUM_THREADS": "3"})
    assert "OMP_WAIT_POLICY" not in kept and "OMP_NUM_THREADS" not in kept, "the user's own settings must win"


def test_malloc_tuning_is_on_by_default_and_the_users_value_wins():
    env = engine_process_env({})
    for name, value in MALLOC_TUNING.items():
        assert env[name] == value, f"{name}: expected {value}, got {env.get(name)}"
    assert engine_process_env({"MALLOC_TOP_PAD_": "0"})["MALLOC_TOP_PAD_"] == "0"


def test_vae_channels_last_is_an_option_in_the_cache_key_and_decodes_the_same_within_rounding(
        tiny_models_dir, monkeypatch):
    import torch

    from engines.models.manager import ModelManager

    plain = ModelManager(profile="tiny", tiny_dir=tiny_models_dir, device="cpu").pipeline("wan2.1-t2v-1.3b")
    monkeypatch.setenv("WEFT_VAE_CHANNELS_LAST", "1")
    fast_models = ModelManager(profile="tiny", tiny_dir=tiny_models_dir, device="cpu")
    fast = fast_models.pipeline("wan2.1-t2v-1.3b")
    assert "vae_channels_last" in fast_models.fingerprint, "a setting that changes numbers must key the cache"
    conv = next(p for p in fast.vae.parameters() if p.dim() == 5)
    assert conv.is_contiguous(memory_format=torch.channels_last_3d), "WEFT_VAE_CHANNELS_LAST=1: VAE not converted"
    latents = torch.randn(1, plain.vae.config.z_dim, 2, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a, b = plain.vae.decode(latents).sample, fast.vae.decode(latents).sample
    assert torch.allclose(a, b, atol=1e-4), f"channels_last decode drifted by {float((a - b).abs().max())}"
