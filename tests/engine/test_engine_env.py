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
