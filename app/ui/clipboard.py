"""Copy and paste of nodes: what goes on the clipboard, and what a paste adds.

The clipboard holds a project dict (JSON text, under ``CLIPBOARD_MIME`` and as
plain text, so it pastes into any project or a text editor). Links from nodes
outside the copied ones are kept apart, under "links_in", for a paste that keeps
input links (Duplicate). The document turns a ``Paste`` into undoable commands.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Iterable

from nodes import project as project_io
from nodes.graph import Graph, Link, Node
from nodes.registry import Registry

CLIPBOARD_MIME = "application/x-weft-nodes"


def copy_nodes(graph: Graph, node_ids: Iterable[str]) -> dict[str, Any]:
    """The nodes as a project dict, in the graph's order, with the links among
    them, and under "links_in" the links coming in from outside them."""
    ids = [n for n in graph.nodes if n in set(node_ids)]
    part = Graph(graph.registry)
    for node_id in ids:
        part.insert_node(copy.deepcopy(graph.nodes[node_id]), graph.positions.get(node_id))
    links_in = []
    for link in graph.links:
        if link.source in part.nodes and link.target in part.nodes:
            part.add_link(link)
        elif link.target in part.nodes:
            links_in.append({"from": f"{link.source}.{link.source_socket}",
                             "to": f"{link.target}.{link.target_socket}"})
    data = project_io.to_dict(part)
    data["links_in"] = links_in
    return data


@dataclass
class Paste:
    """What a paste adds: fresh nodes where they land, the links among them, and the
    links from the project's nodes into them (``source`` not checked yet)."""

    nodes: list[tuple[Node, tuple[float, float]]]
    links: list[Link]
    links_in: list[Link]

    @property
    def ids(self) -> list[str]:
        return [node.id for node, _ in self.nodes]


def plan_paste(data: dict[str, Any] | str, registry: Registry, taken: Iterable[str],
               at: tuple[float, float] | None, offset: tuple[float, float]) -> Paste:
    """The nodes of a copied project dict (or its JSON text), with ids not in ``taken``.

    With ``at`` the group's top-left corner goes there; otherwise the nodes land
    ``offset`` from where they were copied. Raises ``ProjectError`` for text
    that is not a Weft project."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise project_io.ProjectError(f"the clipboard holds no Weft nodes: {exc}") from None
    if not isinstance(data, dict):
        raise project_io.ProjectError("the clipboard holds no Weft nodes")
    links_in = data.get("links_in", []) if isinstance(data.get("links_in"), list) else []
    clean = {k: v for k, v in data.items() if k != "links_in"}
    part = project_io.from_dict(clean, registry, source="clipboard").graph
    if not part.nodes:
        return Paste([], [], [])
    positions = [part.positions[n] for n in part.nodes if n in part.positions]
    if at is not None and positions:
        x0, y0 = min(p[0] for p in positions), min(p[1] for p in positions)
        dx, dy = at[0] - x0, at[1] - y0
    else:
        dx, dy = offset
    taken = set(taken)
    new_ids: dict[str, str] = {}
    for old_id, node in part.nodes.items():
        base = node.type_id[:60]
        new_id, n = base, 2
        while new_id in taken:
            new_id, n = f"{base}_{n}", n + 1
        taken.add(new_id)
        new_ids[old_id] = new_id
    nodes = []
    for old_id, node in part.nodes.items():
        fresh = Node(new_ids[old_id], node.type_id, dict(node.params), node.title, node.bypassed, node.version)
        pos = part.positions.get(old_id)
        nodes.append((fresh, (pos[0] + dx, pos[1] + dy) if pos is not None else (dx, dy)))
    links = [Link(new_ids[link.source], link.source_socket, new_ids[link.target], link.target_socket)
             for link in part.links]
    inputs = []
    for entry in links_in:
        try:
            src, _, src_socket = str(entry["from"]).partition(".")
            dst, _, dst_socket = str(entry["to"]).partition(".")
        except (KeyError, TypeError):
            continue
        if dst in new_ids:
            inputs.append(Link(src, src_socket, new_ids[dst], dst_socket))
    return Paste(nodes, links, inputs)
