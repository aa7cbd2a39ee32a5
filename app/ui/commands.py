"""Undoable edits. Each command changes the graph model and nothing else,
through the graph's methods (or the document's, for its settings), each of
which emits the signal that says what changed.

The canvas, the inspector and every other view follow the model through its
signals, so undoing a command needs no knowledge of who is showing what
(orange-canvas-core's scheme/canvas/document split). Commands are built by
``Document`` after the edit has been checked, so ``redo`` never fails half-way.
Undoing a removal puts each node, position and link back at the index it had,
so delete-then-undo leaves the saved file byte for byte the same.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Iterable, TypeVar

from PySide6.QtGui import QUndoCommand

from nodes.graph import Backdrop, Link, Node

if TYPE_CHECKING:
    from app.ui.document import Document

# QUndoCommand.id() values for the commands that merge with their predecessor.
SET_PARAM_ID = 1001
MOVE_REROUTE_ID = 1002

K = TypeVar("K")


def _ranks(items: Iterable[K]) -> dict[K, int]:
    return {item: i for i, item in enumerate(items)}


def _index_among(present: Iterable[K], rank: dict[K, int], item: K) -> int:
    """Where ``item`` goes back among what is ``present`` so that all of them stand
    in the order they had when ``rank`` was taken (before the removal)."""
    mine = rank[item]
    return sum(1 for other in present if rank.get(other, mine) < mine)


class AddNode(QUndoCommand):
    def __init__(self, doc: "Document", node: Node, position: tuple[float, float] | None, text: str = ""):
        super().__init__(text or f"Add {doc.type_title(node.type_id)}")
        self.doc, self.node, self.position = doc, node, position

    def redo(self) -> None:
        self.doc.graph.insert_node(self.node, self.position)

    def undo(self) -> None:
        self.doc.graph.remove_node(self.node.id)


class RemoveNodes(QUndoCommand):
    """Removes nodes with their links; undo puts everything back where it was."""

    def __init__(self, doc: "Document", node_ids: list[str], text: str = ""):
        super().__init__(text or (f"Delete {len(node_ids)} nodes" if len(node_ids) != 1 else "Delete node"))
        self.doc, self.node_ids = doc, list(node_ids)
        self._removed: list[tuple[Node, list[Link], tuple[float, float] | None]] = []
        self._node_rank: dict[str, int] = {}
        self._position_rank: dict[str, int] = {}
        self._link_rank: dict[Link, int] = {}
        self._reroutes: dict[str, list[tuple[float, float]]] = {}

    def redo(self) -> None:
        graph = self.doc.graph
        self._node_rank, self._position_rank = _ranks(graph.nodes), _ranks(graph.positions)
        self._link_rank = _ranks(graph.links)
        self._removed = []
        gone_links: list[Link] = []
        for node_id in self.node_ids:
            node, links, position = graph.remove_node(node_id)
            self._removed.append((node, links, position))
            gone_links.extend(links)
        self._reroutes = self.doc._take_reroutes(gone_links)

    def undo(self) -> None:
        graph = self.doc.graph
        for node, _, position in self._removed:
            graph.insert_node(node, position, index=_index_among(graph.nodes, self._node_rank, node.id),
                              position_index=_index_among(graph.positions, self._position_rank, node.id)
                              if position is not None else None)
        for _, links, _ in self._removed:
            for link in links:
                graph.add_link(link, index=_index_among(graph.links, self._link_rank, link))
        self.doc._put_reroutes(self._reroutes)


class AddLink(QUndoCommand):
    """Adds a link that is known to be valid (paste, undo of a removal)."""

    def __init__(self, doc: "Document", link: Link, text: str = "Connect"):
        super().__init__(text)
        self.doc, self.link = doc, link

    def redo(self) -> None:
        self.doc.graph.add_link(self.link)

    def undo(self) -> None:
        self.doc.graph.remove_link(self.link)


class Connect(QUndoCommand):
    """Links an output to an input; the link the input held before comes back on undo."""

    def __init__(self, doc: "Document", link: Link):
        super().__init__(f"Connect {doc.node_title(link.source)} {link.source_socket} to "
                         f"{doc.node_title(link.target)} {link.target_socket}")
        self.doc, self.link = doc, link
        self._replaced: Link | None = None
        self._replaced_index = 0
        self._reroutes: dict[str, list[tuple[float, float]]] = {}

    def redo(self) -> None:
        graph = self.doc.graph
        link = self.link
        held = graph.link_into(link.target, link.target_socket)
        self._replaced_index = graph.link_index(held) if held is not None else 0
        _, self._replaced = graph.connect(link.source, link.source_socket, link.target, link.target_socket)
        self._reroutes = self.doc._take_reroutes([self._replaced] if self._replaced else [])

    def undo(self) -> None:
        graph = self.doc.graph
        graph.remove_link(self.link)
        if self._replaced is not None:
            graph.add_link(self._replaced, index=self._replaced_index)
            self.doc._put_reroutes(self._reroutes)


class RemoveLinks(QUndoCommand):
    def __init__(self, doc: "Document", links: list[Link], text: str = ""):
        super().__init__(text or ("Disconnect" if len(links) == 1 else f"Cut {len(links)} links"))
        self.doc, self.links = doc, list(links)
        self._link_rank: dict[Link, int] = {}
        self._reroutes: dict[str, list[tuple[float, float]]] = {}

    def redo(self) -> None:
        graph = self.doc.graph
        self._link_rank = _ranks(graph.links)
        for link in self.links:
            graph.remove_link(link)
        self._reroutes = self.doc._take_reroutes(self.links)

    def undo(self) -> None:
        graph = self.doc.graph
        for link in self.links:
            graph.add_link(link, index=_index_among(graph.links, self._link_rank, link))
        self.doc._put_reroutes(self._reroutes)


class SetParam(QUndoCommand):
    """One parameter edit. Consecutive edits of the same parameter of the same
    node merge into one step, so dragging a slider is one undo, not fifty."""

    def __init__(self, doc: "Document", node_id: str, name: str, old: Any, new: Any):
        super().__init__(f"Set {doc.node_title(node_id)} {name}")
        self.doc, self.node_id, self.name, self.old, self.new = doc, node_id, name, old, new

    def id(self) -> int:
        return SET_PARAM_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParam) or (other.node_id, other.name) != (self.node_id, self.name):
            return False
        self.new = other.new
        # Back where it started: the step disappears from the history.
        self.setObsolete(self.new == self.old and type(self.new) is type(self.old))
        return True

    def redo(self) -> None:
        self.doc.graph.set_param(self.node_id, self.name, self.new)

    def undo(self) -> None:
        self.doc.graph.set_param(self.node_id, self.name, self.old)


class SetTitle(QUndoCommand):
    def __init__(self, doc: "Document", node_id: str, old: str, new: str):
        type_title = doc.type_title(doc.graph.node(node_id).type_id)
        super().__init__(f"Rename {old or type_title} to {new or type_title}")
        self.doc, self.node_id, self.old, self.new = doc, node_id, old, new

    def redo(self) -> None:
        self.doc.graph.set_title(self.node_id, self.new)

    def undo(self) -> None:
        self.doc.graph.set_title(self.node_id, self.old)


class SetBypassed(QUndoCommand):
    def __init__(self, doc: "Document", changes: dict[str, tuple[bool, bool]]):
        on = sum(1 for _, new in changes.values() if new)
        super().__init__("Bypass" if on else "Enable")
        self.doc, self.changes = doc, changes

    def redo(self) -> None:
        for node_id, (_, new) in self.changes.items():
            self.doc.graph.set_bypassed(node_id, new)

    def undo(self) -> None:
        for node_id, (old, _) in self.changes.items():
            self.doc.graph.set_bypassed(node_id, old)


class MoveNodes(QUndoCommand):
    def __init__(self, doc: "Document", moves: dict[str, tuple[tuple[float, float] | None, tuple[float, float]]],
                 text: str = ""):
        super().__init__(text or ("Move node" if len(moves) == 1 else f"Move {len(moves)} nodes"))
        self.doc, self.moves = doc, moves

    def redo(self) -> None:
        for node_id, (_, new) in self.moves.items():
            if node_id in self.doc.graph.nodes:
                self.doc.graph.move_node(node_id, *new)

    def undo(self) -> None:
        for node_id, (old, new) in self.moves.items():
            if node_id in self.doc.graph.nodes:
                self.doc.graph.move_node(node_id, *(old if old is not None else new))


def copy_backdrops(backdrops: list[Backdrop]) -> list[Backdrop]:
    return [replace(b, rect=tuple(b.rect)) for b in backdrops]


class SetBackdrops(QUndoCommand):
    """Any change to the backdrops: the list before and after (there are few)."""

    def __init__(self, doc: "Document", old: list[Backdrop], new: list[Backdrop], text: str):
        super().__init__(text)
        self.doc, self.old, self.new = doc, copy_backdrops(old), copy_backdrops(new)

    def redo(self) -> None:
        self.doc.graph.set_backdrops(copy_backdrops(self.new))

    def undo(self) -> None:
        self.doc.graph.set_backdrops(copy_backdrops(self.old))


class SetReroutes(QUndoCommand):
    """The reroute dots of one link (visual bends; they change nothing that renders)."""

    def __init__(self, doc: "Document", key: str, old: list[list[float]], new: list[list[float]], text: str,
                 merge: bool = False):
        super().__init__(text)
        self.doc, self.key, self.old, self.new, self.merge = doc, key, old, new, merge

    def id(self) -> int:
        return MOVE_REROUTE_ID if self.merge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetReroutes) or not other.merge or other.key != self.key:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.doc._set_reroute_points(self.key, self.new)

    def undo(self) -> None:
        self.doc._set_reroute_points(self.key, self.old)


class SetSeedControl(QUndoCommand):
    """What a seed does after each run (fixed, increment, randomise): kept in the
    project's settings (``settings.seed_control``, {"node.param": mode}), saved with it."""

    def __init__(self, doc: "Document", key: str, old: str, new: str):
        node_id, _, param = key.rpartition(".")
        super().__init__(f"{doc.node_title(node_id)} {param}: {new} after each run")
        self.doc, self.key, self.old, self.new = doc, key, old, new

    def redo(self) -> None:
        self.doc._apply_seed_control(self.key, self.new)

    def undo(self) -> None:
        self.doc._apply_seed_control(self.key, self.old)


class SetQuality(QUndoCommand):
    """Draft / Final, the project's ``settings.quality`` (what the engine reads: engines/quality.py)."""

    def __init__(self, doc: "Document", old: str, new: str):
        super().__init__("Draft quality" if new == "draft" else "Final quality")
        self.doc, self.old, self.new = doc, old, new

    def redo(self) -> None:
        self.doc._apply_quality(self.new)

    def undo(self) -> None:
        self.doc._apply_quality(self.old)
