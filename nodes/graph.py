"""The graph model: the single source of truth for a project's nodes and links.

The GUI's canvas mirrors it by listening to its signals (psygnal, which works
with or without Qt); undo commands call its methods. Nothing here runs a node.

The graph owns its collections: ``nodes``, ``positions`` and ``reroutes`` are
read-only mappings, ``links`` and ``backdrops`` tuples, and every change goes
through a method here that emits its signal. Undo puts a node or link back at
the index it had (``insert_node(..., index=)``, ``add_link(..., index=)``), so
that delete-then-undo saves the same file byte for byte.

The model accepts what a saved file holds even when it is wrong (an unknown
node type, a link of mismatched types) so that opening a project never loses
the artist's work; `nodes.validation` reports such problems before a run.
Interactive edits (``add_node``, ``connect``, ``set_param``) refuse wrong
values with a message that says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Mapping, TypeVar

from psygnal import Signal

from nodes.definition import NodeType, ParamError
from nodes.registry import Registry, UnknownNodeType, default_registry
from nodes.types import connection_refusal

NODE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

K = TypeVar("K")
V = TypeVar("V")


class GraphError(ValueError):
    """An edit the graph refuses; the message says why."""


@dataclass
class Node:
    id: str
    type_id: str
    params: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    bypassed: bool = False
    # The version of the node type that saved these parameters (after loading
    # and migration this is the registry's current version).
    version: int = 1

    def label(self, registry: Registry | None = None) -> str:
        """How messages name this node: its title, or its type's title, and its id."""
        name = self.title
        if not name and registry is not None and self.type_id in registry:
            name = registry.get(self.type_id).title
        return f"{name or self.type_id} ({self.id})"


@dataclass(frozen=True)
class Link:
    source: str
    source_socket: str
    target: str
    target_socket: str

    def __str__(self) -> str:
        return f"{self.source}.{self.source_socket} -> {self.target}.{self.target_socket}"


def reroute_key(link: Link) -> str:
    """How the layout's reroute table names a link: ``src.socket>dst.socket``."""
    return f"{link.source}.{link.source_socket}>{link.target}.{link.target_socket}"


@dataclass
class Backdrop:
    title: str
    rect: tuple[float, float, float, float]
    color: str = "#5a6a7a"


class Graph:
    node_added = Signal(object)              # Node
    node_removed = Signal(object)            # Node
    link_added = Signal(object)              # Link
    link_removed = Signal(object)            # Link
    param_changed = Signal(str, str, object)  # node id, parameter, value
    node_changed = Signal(str, str)          # node id, field ("title", "bypassed")
    node_moved = Signal(str, float, float)   # node id, x, y
    backdrops_changed = Signal()
    reroutes_changed = Signal()

    def __init__(self, registry: Registry | None = None):
        self.registry = registry or default_registry()
        self._nodes: dict[str, Node] = {}
        self._links: list[Link] = []
        self._positions: dict[str, tuple[float, float]] = {}
        self._backdrops: list[Backdrop] = []
        # Reroute dots: bends in a link's drawing, by ``reroute_key(link)``. Like
        # positions and backdrops they are layout only and change nothing that
        # renders. Removing a link leaves its entry alone (the editor's undo
        # commands take and put entries back explicitly, with the link); saving
        # writes only the entries of links that exist, as it does for positions.
        self._reroutes: dict[str, list[tuple[float, float]]] = {}

    # -- what the graph holds (read-only; change it through the edits below) ----
    @property
    def nodes(self) -> Mapping[str, Node]:
        """The nodes by id, in the order the file lists them."""
        return MappingProxyType(self._nodes)

    @property
    def links(self) -> tuple[Link, ...]:
        """The links, in the order the file lists them (a snapshot: it does not follow later edits)."""
        return tuple(self._links)

    @property
    def positions(self) -> Mapping[str, tuple[float, float]]:
        return MappingProxyType(self._positions)

    @property
    def backdrops(self) -> tuple[Backdrop, ...]:
        return tuple(self._backdrops)

    @property
    def reroutes(self) -> Mapping[str, list[tuple[float, float]]]:
        return MappingProxyType(self._reroutes)

    # -- queries -----------------------------------------------------------
    def link_index(self, link: Link) -> int:
        """Where a link stands in ``links`` (what undo gives ``add_link``)."""
        try:
            return self._links.index(link)
        except ValueError:
            raise GraphError(f"there is no link {link}") from None

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise GraphError(f"there is no node {node_id!r}") from None

    def node_type(self, node_id: str) -> type[NodeType]:
        return self.registry.get(self.node(node_id).type_id)

    def incoming(self, node_id: str) -> list[Link]:
        return [link for link in self._links if link.target == node_id]

    def outgoing(self, node_id: str) -> list[Link]:
        return [link for link in self._links if link.source == node_id]

    def link_into(self, node_id: str, socket: str) -> Link | None:
        for link in self._links:
            if link.target == node_id and link.target_socket == socket:
                return link
        return None

    def find(self, name: str) -> Node:
        """A node by id, or by its title when exactly one node has that title."""
        if name in self._nodes:
            return self._nodes[name]
        titled = [n for n in self._nodes.values() if n.title and n.title == name]
        if len(titled) == 1:
            return titled[0]
        if len(titled) > 1:
            raise GraphError(f"{len(titled)} nodes are titled {name!r}; use a node id: "
                             + ", ".join(n.id for n in titled))
        raise GraphError(f"there is no node {name!r}; the nodes are: " + ", ".join(self._nodes))

    def new_id(self, type_id: str) -> str:
        """A readable id for a new node: its type, numbered when taken."""
        base = type_id[:60]
        if base not in self._nodes:
            return base
        n = 2
        while f"{base}_{n}" in self._nodes:
            n += 1
        return f"{base}_{n}"

    # -- edits ---------------------------------------------------------------
    def add_node(self, type_id: str, params: dict[str, Any] | None = None, *, node_id: str | None = None,
                 title: str = "", position: tuple[float, float] | None = None) -> Node:
        """Add a node of a known type, with its defaults for the parameters not given."""
        try:
            node_type = self.registry.get(type_id)
        except UnknownNodeType as exc:
            raise GraphError(str(exc)) from None
        values = node_type.default_params()
        for name, value in (params or {}).items():
            values[name] = self._coerce(node_type, name, value, node_label=title or node_type.title)
        node = Node(node_id or self.new_id(type_id), type_id, values, title, False, node_type.version)
        self.insert_node(node, position)
        return node

    def insert_node(self, node: Node, position: tuple[float, float] | None = None, *,
                    index: int | None = None, position_index: int | None = None) -> None:
        """Put a node in as it is (used by loading, paste and undo): last, or at
        ``index`` in ``nodes`` (and its position at ``position_index`` in
        ``positions``), as ``list.insert`` places it, so undo restores the order."""
        if not NODE_ID.match(node.id):
            raise GraphError(f"node id {node.id!r} must be 1-64 letters, digits, '_' or '-'")
        if node.id in self._nodes:
            raise GraphError(f"there is already a node {node.id!r}")
        _insert_at(self._nodes, index, node.id, node)
        if position is not None:
            _insert_at(self._positions, position_index, node.id, (float(position[0]), float(position[1])))
        self.node_added.emit(node)

    def remove_node(self, node_id: str) -> tuple[Node, list[Link], tuple[float, float] | None]:
        """Remove a node and its links; returns what undo needs to put them back."""
        node = self.node(node_id)
        removed = [link for link in self._links if node_id in (link.source, link.target)]
        for link in removed:
            self.remove_link(link)
        del self._nodes[node_id]
        position = self._positions.pop(node_id, None)
        self.node_removed.emit(node)
        return node, removed, position

    def connection_problem(self, source: str, source_socket: str, target: str, target_socket: str) -> str | None:
        """Why this link would be refused, in words for a tooltip; None if it is fine."""
        if source == target:
            return "a node cannot feed itself"
        for node_id in (source, target):
            if node_id not in self._nodes:
                return f"there is no node {node_id!r}"
        try:
            src_type = self.node_type(source)
            dst_type = self.node_type(target)
        except UnknownNodeType as exc:
            return str(exc)
        out = src_type.outputs.get(source_socket)
        if out is None:
            return f"{src_type.title} has no output {source_socket!r}"
        inp = dst_type.inputs.get(target_socket)
        if inp is None:
            return f"{dst_type.title} has no input {target_socket!r}"
        refusal = connection_refusal(out.type, inp.type)
        if refusal:
            return f"{src_type.title} '{out.display_name}' is {out.type}; {dst_type.title} '{inp.display_name}' takes {inp.type}: {refusal}"
        if self._reaches(target, source):
            return "this link would make a loop"
        return None

    def connect(self, source: str, source_socket: str, target: str, target_socket: str) -> tuple[Link, Link | None]:
        """Link an output to an input. An input holds one link: an existing one is
        replaced, and returned second so that undo can restore it."""
        problem = self.connection_problem(source, source_socket, target, target_socket)
        if problem:
            raise GraphError(problem)
        replaced = self.link_into(target, target_socket)
        if replaced is not None:
            self.remove_link(replaced)
        link = Link(source, source_socket, target, target_socket)
        self.add_link(link)
        return link, replaced

    def add_link(self, link: Link, *, index: int | None = None) -> None:
        """Put a link in as it is (used by loading and undo), last or at ``index``
        (as ``list.insert`` places it); validation checks it later."""
        if link in self._links:
            return
        if index is None:
            self._links.append(link)
        else:
            self._links.insert(index, link)
        self.link_added.emit(link)

    def remove_link(self, link: Link) -> None:
        try:
            self._links.remove(link)
        except ValueError:
            raise GraphError(f"there is no link {link}") from None
        self.link_removed.emit(link)

    def set_param(self, node_id: str, name: str, value: Any) -> Any:
        """Set a parameter, checked against its type and range; returns the old value."""
        node = self.node(node_id)
        node_type = self.node_type(node_id)
        value = self._coerce(node_type, name, value, node_label=node.label(self.registry))
        old = node.params.get(name)
        if old == value and type(old) is type(value):
            return old
        node.params[name] = value
        self.param_changed.emit(node_id, name, value)
        return old

    def set_title(self, node_id: str, title: str) -> str:
        node = self.node(node_id)
        old, node.title = node.title, title
        self.node_changed.emit(node_id, "title")
        return old

    def set_bypassed(self, node_id: str, bypassed: bool) -> bool:
        node = self.node(node_id)
        old, node.bypassed = node.bypassed, bool(bypassed)
        self.node_changed.emit(node_id, "bypassed")
        return old

    def move_node(self, node_id: str, x: float, y: float) -> tuple[float, float] | None:
        self.node(node_id)
        old = self._positions.get(node_id)
        self._positions[node_id] = (float(x), float(y))
        self.node_moved.emit(node_id, float(x), float(y))
        return old

    def set_backdrops(self, backdrops: Iterable[Backdrop]) -> None:
        self._backdrops = list(backdrops)
        self.backdrops_changed.emit()

    def clear(self) -> None:
        """Empty the graph: every node and link removed (each one signalled), and
        the layout that went with them (positions, reroutes, backdrops)."""
        for node_id in list(self._nodes):
            self.remove_node(node_id)
        for link in list(self._links):  # links to nodes that were never there
            self.remove_link(link)
        self._positions.clear()
        if self._reroutes:
            self._reroutes.clear()
            self.reroutes_changed.emit()
        if self._backdrops:
            self.set_backdrops([])

    def set_reroutes(self, key: str, points: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
        """Set the reroute dots of the link named ``key`` (none: the link is drawn
        straight); returns the old ones."""
        old = self._reroutes.get(key, [])
        new = [(float(x), float(y)) for x, y in points]
        if new:
            self._reroutes[key] = new
        else:
            self._reroutes.pop(key, None)
        self.reroutes_changed.emit()
        return old

    def take_reroutes(self, links: Iterable[Link]) -> dict[str, list[tuple[float, float]]]:
        """Remove the reroute dots of these links and return them (for undo)."""
        taken = {}
        for link in links:
            key = reroute_key(link)
            if key in self._reroutes:
                taken[key] = self._reroutes.pop(key)
        if taken:
            self.reroutes_changed.emit()
        return taken

    def put_reroutes(self, table: dict[str, list[tuple[float, float]]]) -> None:
        """Put back what ``take_reroutes`` returned."""
        if table:
            self._reroutes.update({key: [(float(x), float(y)) for x, y in points] for key, points in table.items()})
            self.reroutes_changed.emit()

    # -- helpers -------------------------------------------------------------
    def _coerce(self, node_type: type[NodeType], name: str, value: Any, *, node_label: str) -> Any:
        param = node_type.params.get(name)
        if param is None:
            known = ", ".join(node_type.params) or "none"
            raise GraphError(f"{node_label}: no parameter {name!r} (its parameters: {known})")
        try:
            return param.coerce(value)
        except ParamError as exc:
            raise GraphError(f"{node_label}: parameter {name!r}: {exc}") from None

    def _reaches(self, start: str, goal: str) -> bool:
        """True when ``goal`` is downstream of ``start`` (or is ``start``)."""
        seen, stack = set(), [start]
        while stack:
            current = stack.pop()
            if current == goal:
                return True
            if current in seen:
                continue
            seen.add(current)
            stack.extend(link.target for link in self._links if link.source == current)
        return False

    def upstream(self, node_ids: Iterable[str]) -> set[str]:
        """The given nodes and everything they depend on."""
        seen: set[str] = set()
        stack = list(node_ids)
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            stack.extend(link.source for link in self._links if link.target == current)
        return seen


def _insert_at(table: dict[K, V], index: int | None, key: K, value: V) -> None:
    """``table[key] = value``, the key placed at ``index`` in the table's order (last when None)."""
    if index is None or index >= len(table) and key not in table:
        table[key] = value
        return
    table.pop(key, None)
    items = list(table.items())
    items.insert(index, (key, value))
    table.clear()
    table.update(items)
