"""The planner: which nodes a render needs, and in which order.

Only what the requested outputs depend on runs; a node whose result nobody
asked for is never started. The order is a topological order that keeps the
project's own node order where dependencies allow, so runs are repeatable.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass
from typing import Iterable

from nodes.graph import Graph, GraphError
from nodes.registry import UnknownNodeType


@dataclass(frozen=True)
class Plan:
    targets: tuple[str, ...]
    order: tuple[str, ...]


def output_nodes(graph: Graph) -> list[str]:
    """The nodes `weft render` runs by default: every output node that is not bypassed."""
    found = []
    for node in graph.nodes.values():
        try:
            node_type = graph.registry.get(node.type_id)
        except UnknownNodeType:
            continue
        if node_type.is_output and not node.bypassed:
            found.append(node.id)
    return found


def make_plan(graph: Graph, targets: Iterable[str] | None = None) -> Plan:
    target_list = list(targets) if targets is not None else output_nodes(graph)
    for node_id in target_list:
        if node_id not in graph.nodes:
            raise GraphError(f"there is no node {node_id!r} to render")
    needed = graph.upstream(target_list)
    position = {node_id: i for i, node_id in enumerate(graph.nodes)}
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for node_id in needed:
        sorter.add(node_id)
    for link in graph.links:
        if link.source in needed and link.target in needed:
            sorter.add(link.target, link.source)
    sorter.prepare()  # raises CycleError; validation reports cycles before this
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda n: position.get(n, len(position)))
        order.extend(ready)
        sorter.done(*ready)
    return Plan(tuple(target_list), tuple(order))
