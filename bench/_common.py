"""Helpers shared by the benchmarks (not a test: they print figures)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from engines.services import EngineServices  # noqa: E402 (after the path is set)


def fresh_cache_dir() -> Path:
    """Benchmarks never read results cached by an earlier run."""
    return Path(tempfile.mkdtemp(prefix="weft-bench-cache-"))


def t2v_graph(*, width: int, height: int, frames: int, steps: int, seed: int, prompt: str):
    from nodes.graph import Graph
    g = Graph()
    g.add_node("text", {"text": prompt}, node_id="prompt")
    g.add_node("text_to_video", {"width": width, "height": height, "frames": frames, "steps": steps,
                                 "seed": seed}, node_id="t2v")
    g.connect("prompt", "out", "t2v", "prompt")
    return g


class NodeRunContext(EngineServices):
    """The RunContext a model node's code sees, without an executor: parameters
    (the node type's defaults, then ``params``), stats, no progress, no cancel."""

    def __init__(self, node_type: Any, params: dict[str, Any], *, node_id: str = "bench",
                 profile: str = "tiny") -> None:
        self.node_type = node_type
        self.node_id = node_id
        self.models_profile = profile
        self.params = {**node_type.default_params(), **params}
        self.stats: dict[str, Any] = {}

    def progress(self, *_: Any, **__: Any) -> None:
        pass

    def check_cancelled(self) -> None:
        pass

    def resolve_path(self, path: str) -> Path:
        return Path(path)
