"""The pipelines kept loaded between calls, least recently used first.

Loading Wan takes tens of seconds and an artist tweaking a prompt should not
pay it again, so pipelines stay resident. This table is what the memory budget
(engines/models/memory.py), the GPU placement (engines/models/placement.py)
and component sharing (engines/models/sharing.py) all read and change: each
pipeline under its (model id, profile) key, how it is placed, and which models
were evicted, so that one eviction drops a pipeline and its placement together.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

Key = tuple[str, str]  # (model id, profile)


class Residents:
    """Resident pipelines in least-recently-used order, with their placements."""

    def __init__(self) -> None:
        # Least recently used first.
        self.pipelines: OrderedDict[Key, Any] = OrderedDict()
        # How each resident pipeline is placed: "gpu", "cpu", "model_offload", "group_offload".
        self.placement: dict[Key, str] = {}
        # Models evicted to stay within budget, oldest first (for stats and tests).
        self.evictions: list[str] = []

    def use(self, key: Key) -> Any:
        """The pipeline under `key`, now the most recently used; None when it is not loaded."""
        pipe = self.pipelines.get(key)
        if pipe is not None:
            self.pipelines.move_to_end(key)
        return pipe

    def drop(self, key: Key) -> Any:
        """Forget `key`'s pipeline and placement; the pipeline, or None when it was not loaded."""
        self.placement.pop(key, None)
        return self.pipelines.pop(key, None)

    def evict(self, key: Key) -> None:
        """Drop `key` to make room, and remember that it went."""
        self.pipelines.pop(key)
        self.placement.pop(key, None)
        self.evictions.append(key[0])

    def others(self, key: Key) -> list[Any]:
        """Every resident pipeline but `key`'s."""
        return [p for k, p in self.pipelines.items() if k != key]

    def clear(self) -> None:
        self.pipelines.clear()
        self.placement.clear()
