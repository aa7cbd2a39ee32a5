"""Undoable edits. Each command changes the graph model and nothing else.

The canvas, the inspector and every other view follow the model through its
signals, so undoing a command needs no knowledge of who is showing what
(orange-canvas-core's scheme/canvas/document split). Commands are built by
``Document`` after the edit has been checked, so ``redo`` never fails half-way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from nodes.graph import Backdrop, Graph, Link, Node

if TYPE_CHECKING:
    from app.ui.document import Document

# QUndoCommand.id() values for the commands that merge with their predecessor.
SET_PARAM_ID = 1001
MOVE_REROUTE_ID = 1002


def _restore_order(graph: Graph, node_order: list[str], link_order: list[Link],
                   position_order: list[str] | None = None) -> None:
    """Put nodes, positions and links back in the order they had before a removal
    was undone, so that delete-then-undo leaves the saved file byte for byte the same."""
    for table, order in ((graph.nodes, node_order), (graph.positions, position_order)):
        if order is None:
            continue
        rank = {node_id: i for i, node_id in enumerate(order)}
        ordered = sorted(table.items(), key=lambda kv: rank.get(kv[0], len(rank)))
        table.clear()
        table.update(ordered)
    link_rank = {link: i for i, link in enumerate(link_order)}
    graph.links.sort(key=lambda link: link_rank.get(link, len(link_rank)))


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
        self._node_order: list[str] = []
        self._link_order: list[Link] = []
        self._reroutes: dict[str, list[tuple[float, float]]] = {}

    def redo(self) -> None:
        graph = self.doc.graph
        self._node_order = list(graph.nodes)
        self._position_order = list(graph.positions)
        self._link_order = list(graph.links)
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
            graph.insert_node(node, position)
        for _, links, _ in self._removed:
            for link in links:
                graph.add_link(link)
        _restore_order(graph, self._node_order, self._link_order, self._position_order)
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
        self._link_order: list[Link] = []
        self._reroutes: dict[str, list[tuple[float, float]]] = {}

    def redo(self) -> None:
        graph = self.doc.graph
        self._link_order = list(graph.links)
        link = self.link
        _, self._replaced = graph.connect(link.source, link.source_socket, link.target, link.target_socket)
        self._reroutes = self.doc._take_reroutes([self._replaced] if self._replaced else [])

    def undo(self) -> None:
        graph = self.doc.graph
        graph.remove_link(self.link)
        if self._replaced is not None:
            graph.add_link(self._replaced)
            _restore_order(graph, list(graph.nodes), self._link_order)
            self.doc._put_reroutes(self._reroutes)


class RemoveLinks(QUndoCommand):
    def __init__(self, doc: "Document", links: list[Link], text: str = ""):
        super().__init__(text or ("Disconnect" if len(links) == 1 else f"Cut {len(links)} links"))
        self.doc, self.links = doc, list(links)
        self._link_order: list[Link] = []
        self._reroutes: dict[str, list[tuple[float, float]]] = {}

    def redo(self) -> None:
        graph = self.doc.graph
        self._link_order = list(graph.links)
        for link in self.links:
            graph.remove_link(link)
        self._reroutes = self.doc._take_reroutes(self.links)

    def undo(self) -> None:
        graph = self.doc.graph
        for link in self.links:
            graph.add_link(link)
        _restore_order(graph, list(graph.nodes), self._link_order)
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

    def _apply(self, mode: str) -> None:
        table = dict(self.doc.settings.get("seed_control") or {})
        if mode == "fixed":
            table.pop(self.key, None)
        else:
            table[self.key] = mode
        if table:
            self.doc.settings["seed_control"] = table
        else:
            self.doc.settings.pop("seed_control", None)
        self.doc.seed_control_changed.emit(self.key.rpartition(".")[0])

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


class SetQuality(QUndoCommand):
    """Draft / Final, the project's ``settings.quality`` (what the engine reads: engines/quality.py)."""

    def __init__(self, doc: "Document", old: str, new: str):
        super().__init__("Draft quality" if new == "draft" else "Final quality")
        self.doc, self.old, self.new = doc, old, new

    def _apply(self, quality: str) -> None:
        if quality == "draft":
            self.doc.settings["quality"] = "draft"
        else:
            self.doc.settings.pop("quality", None)
        self.doc.quality_changed.emit(quality)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)
