"""Helpers shared by the benchmarks (not a test: they print figures)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


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
