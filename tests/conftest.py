"""Shared fixtures. Every test runs offline, with its caches in a temp folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# No test may reach the model hub, and none may write into the user's folders.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The models folder (and the artist's registered weights in it) is an empty one of
# the test run's own: the catalogue reads registered.json at import.
os.environ.setdefault("WEFT_MODELS_DIR", tempfile.mkdtemp(prefix="weft-test-models-"))


@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory) -> Path:
    """One folder of tiny models for the whole session (built on first use)."""
    folder = Path(os.environ.get("WEFT_TEST_TINY_DIR") or tmp_path_factory.mktemp("tiny-models"))
    return folder


@pytest.fixture
def engine_env(tmp_path, tiny_models_dir, monkeypatch) -> dict[str, str]:
    """Environment for an engine worker: its own result cache, shared tiny models."""
    monkeypatch.setenv("WEFT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("WEFT_TINY_DIR", str(tiny_models_dir))
    env = dict(os.environ)
    return env
