"""What the last runs said about each node of the open project: its state,
progress, error, time and memory, and a picture of its last result.

Runtime only: none of it is saved, none of it is undone, and opening another
project forgets it all. The document owns one ``RunState`` and says every
change through its ``node_status_changed`` signal (the ``changed`` callback).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Container, Iterable


@dataclass
class NodeStatus:
    """What the engine last said about a node (runtime only, never saved)."""

    state: str = ""          # "", queued, running, done, cached, failed, cancelled, bypassed, skipped
    step: int = 0
    total: int = 0
    message: str = ""        # the error, for failed nodes
    seconds: float | None = None
    memory: int | None = None  # peak bytes
    outputs: list[str] = field(default_factory=list)

    @property
    def progress(self) -> float:
        return self.step / self.total if self.total else 0.0


class RunState:
    """Per node: its ``NodeStatus`` and the thumbnail of its last result (a QImage).

    ``nodes`` is what is in the graph now (news of a node that is gone is
    dropped); ``changed(node_id)`` is called after each change."""

    def __init__(self, nodes: Container[str], changed: Callable[[str], None]):
        self._nodes = nodes
        self._changed = changed
        self.status: dict[str, NodeStatus] = {}
        self.thumbnails: dict[str, Any] = {}

    def node_status(self, node_id: str) -> NodeStatus:
        return self.status.get(node_id) or NodeStatus()

    def set_status(self, node_id: str, **fields: Any) -> None:
        if node_id not in self._nodes:
            return
        status = self.status.setdefault(node_id, NodeStatus())
        for name, value in fields.items():
            setattr(status, name, value)
        self._changed(node_id)

    def set_thumbnail(self, node_id: str, image: Any) -> None:
        if node_id in self._nodes:
            self.thumbnails[node_id] = image
            self._changed(node_id)

    def clear_status(self, node_ids: Iterable[str] | None = None) -> None:
        ids = list(self.status) if node_ids is None else [n for n in node_ids if n in self.status]
        for node_id in ids:
            del self.status[node_id]
            self._changed(node_id)

    def forget(self, node_id: str) -> None:
        """A node went: what was said about it goes too (its face is gone, nothing to tell)."""
        self.status.pop(node_id, None)
        self.thumbnails.pop(node_id, None)

    def forget_all(self) -> None:
        """Another project is shown: nothing said about the old one applies."""
        self.status.clear()
        self.thumbnails.clear()
