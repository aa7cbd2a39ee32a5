"""Checks a graph before a run, so that nothing starts that is bound to fail.

Every problem names the node (title and id) and the parameter or input it is
about, in words an artist can act on.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass
from typing import Iterable

from nodes.definition import ParamError
from nodes.graph import Graph
from nodes.registry import UnknownNodeType
from nodes.types import connection_refusal


@dataclass(frozen=True)
class Problem:
    node_id: str | None
    node_label: str
    where: str  # "parameter 'steps'", "input 'prompt'", "" for the node itself
    message: str
    code: str  # unknown_type, type_mismatch, cycle, missing_input, bad_value, bad_link

    def __str__(self) -> str:
        parts = [f"node {self.node_label}" if self.node_label else "project"]
        if self.where:
            parts.append(self.where)
        return ": ".join(parts + [self.message])


def validate(graph: Graph, targets: Iterable[str] | None = None) -> list[Problem]:
    """All problems in the part of the graph that ``targets`` need (all of it by default)."""
    registry = graph.registry
    scope = graph.upstream(targets) if targets is not None else set(graph.nodes)
    problems: list[Problem] = []

    def label(node_id: str) -> str:
        node = graph.nodes.get(node_id)
        return node.label(registry) if node else repr(node_id)

    ordered = [n for n in graph.nodes if n in scope] + sorted(scope - set(graph.nodes))
    for node_id in ordered:
        node = graph.nodes.get(node_id)
        if node is None:
            problems.append(Problem(None, repr(node_id), "", "is missing from the project", "bad_link"))
            continue
        try:
            node_type = registry.get(node.type_id)
        except UnknownNodeType as exc:
            problems.append(Problem(node_id, label(node_id), "", f"{exc}; this Weft does not know it",
                                    "unknown_type"))
            continue
        for name, value in node.params.items():
            param = node_type.params.get(name)
            if param is None:
                problems.append(Problem(node_id, label(node_id), f"parameter {name!r}",
                                        f"{node_type.title} has no such parameter", "bad_value"))
                continue
            try:
                param.coerce(value)
            except ParamError as exc:
                problems.append(Problem(node_id, label(node_id), f"parameter {name!r}", str(exc), "bad_value"))
        for name in node_type.params:
            if name not in node.params:
                problems.append(Problem(node_id, label(node_id), f"parameter {name!r}", "has no value",
                                        "bad_value"))
        if not any(p.code == "bad_value" and p.node_id == node_id for p in problems):
            params = {**node_type.default_params(), **node.params}
            for name, message in node_type.check(params):
                problems.append(Problem(node_id, label(node_id), f"parameter {name!r}" if name else "",
                                        message, "bad_value"))
            problems.extend(_link_check_problems(graph, node_id, node_type, params, label(node_id)))
        for name, socket in node_type.inputs.items():
            if socket.required and graph.link_into(node_id, name) is None:
                problems.append(Problem(node_id, label(node_id), f"input {name!r}",
                                        f"needs a {socket.type} connected", "missing_input"))

    for link in graph.links:
        if link.target not in scope:
            continue
        problems.extend(_link_problems(graph, link, label))

    cycle = _find_cycle(graph, scope)
    if cycle:
        names = " -> ".join(label(n) for n in cycle)
        problems.append(Problem(cycle[0], label(cycle[0]), "", f"is part of a loop: {names}", "cycle"))
    return problems


def _link_check_problems(graph: Graph, node_id: str, node_type, params, node_label: str) -> list[Problem]:
    """``NodeType.check_links``: what is connected, and the values known before running."""
    registry = graph.registry
    connected: set[str] = set()
    known: dict = {}
    for name in node_type.inputs:
        link = graph.link_into(node_id, name)
        if link is None:
            continue
        connected.add(name)
        source = graph.nodes.get(link.source)
        if source is None or source.bypassed or source.type_id not in registry:
            continue
        source_type = registry.get(source.type_id)
        value = source_type.static_output({**source_type.default_params(), **source.params}, link.source_socket)
        if value is not None:
            known[name] = value
    problems = []
    for name, message in node_type.check_links(params, frozenset(connected), known):
        where = f"input {name!r}" if name in node_type.inputs else f"parameter {name!r}" if name else ""
        problems.append(Problem(node_id, node_label, where, message, "bad_value"))
    return problems


def _link_problems(graph: Graph, link, label) -> list[Problem]:
    registry = graph.registry
    where = f"input {link.target_socket!r}"
    if link.source not in graph.nodes:
        return [Problem(link.target, label(link.target), where,
                        f"is linked from a node {link.source!r} that is not in the project", "bad_link")]
    if link.target not in graph.nodes:
        return []
    src, dst = graph.nodes[link.source], graph.nodes[link.target]
    if src.type_id not in registry or dst.type_id not in registry:
        return []  # reported as an unknown type already
    src_type, dst_type = registry.get(src.type_id), registry.get(dst.type_id)
    out = src_type.outputs.get(link.source_socket)
    inp = dst_type.inputs.get(link.target_socket)
    if inp is None:
        return [Problem(link.target, label(link.target), where, f"{dst_type.title} has no such input", "bad_link")]
    if out is None:
        return [Problem(link.target, label(link.target), where,
                        f"is linked from {label(link.source)} output {link.source_socket!r}, "
                        f"which {src_type.title} does not have", "bad_link")]
    refusal = connection_refusal(out.type, inp.type)
    if refusal:
        return [Problem(link.target, label(link.target), where,
                        f"expects {inp.type} but is linked from {label(link.source)} "
                        f"output {link.source_socket!r}, which gives {out.type}", "type_mismatch")]
    return []


def _find_cycle(graph: Graph, scope: set[str]) -> list[str] | None:
    sorter = graphlib.TopologicalSorter()
    for node_id in scope:
        sorter.add(node_id)
    for link in graph.links:
        if link.source in scope and link.target in scope:
            sorter.add(link.target, link.source)
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def raise_for_problems(problems: list[Problem]) -> None:
    if problems:
        raise InvalidGraph(problems)


class InvalidGraph(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))
