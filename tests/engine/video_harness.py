"""Running graphs in this process on the tiny models, for the video node tests.

The worker process adds nothing these tests look at (test_end_to_end.py
covers it), and loading each tiny pipeline once per session instead of once
per worker keeps the video tests inside their time budget.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np

from engines.cache import ResultCache
from engines.executor import Executor, Job
from engines.models.manager import ModelManager
from nodes.graph import Graph

_jobs = itertools.count()


class Run:
    """The events of one job, with helpers to read them."""

    def __init__(self, events: list[dict[str, Any]], executor: Executor):
        self.events = events
        self.executor = executor

    @property
    def status(self) -> str:
        return self.events[-1]["status"]

    def failed(self) -> dict[str, str]:
        return self.events[-1]["failed"]

    def finished(self, node: str) -> dict[str, Any]:
        return next(e for e in self.events if e["event"] == "node_finished" and e["node"] == node)

    def progress(self, node: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == "progress" and e["node"] == node]

    def value(self, node: str, socket: str) -> Any:
        key = self.finished(node)["key"]
        return self.executor.cache.get(key)[socket]


def run_graph(graph: Graph, models: ModelManager, tmp_path: Path, *, project_dir: Path | None = None,
              name: str = "test", targets: list[str] | None = None) -> Run:
    """Run ``graph`` (its output nodes, or ``targets`` and what they need) on the tiny models."""
    events: list[dict[str, Any]] = []
    executor = Executor(ResultCache(tmp_path / "cache"), models=models, emit=events.append, models_profile="tiny")
    if targets is None and not any(graph.registry.get(n.type_id).is_output for n in graph.nodes.values()):
        targets = list(graph.nodes)
    job = Job(id=f"job{next(_jobs)}", graph=graph, targets=targets, output_dir=tmp_path / "out",
              project_dir=project_dir or tmp_path, project_name=name)
    executor.run(job)
    return Run(events, executor)


def solid(width: int, height: int, rgb: tuple[int, int, int]) -> np.ndarray:
    return np.broadcast_to(np.asarray(rgb, np.uint8), (height, width, 3)).copy()
