"""Checks a graph before a run, so that nothing starts that is bound to fail.

Every problem names the node (title and id) and the parameter or input it is
about, in words an artist can act on.
"""

from __future__ import annotations

import graphlib
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Protocol

from nodes import filenames
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
    code: str  # unknown_type, type_mismatch, cycle, missing_input, bad_value, bad_link, missing_file, bad_file, output_folder

    def __str__(self) -> str:
        parts = [f"node {self.node_label}" if self.node_label else "project"]
        if self.where:
            parts.append(self.where)
        return ": ".join(parts + [self.message])


class MediaProbe(Protocol):
    """Says why a file cannot be read as a kind of media ("image", "video", "audio",
    "image sequence"), or None. The engine's readers implement it (engines.media.preflight.media_problem);
    the domain only asks."""

    def __call__(self, path: Path, kind: str) -> str | None: ...


@dataclass(frozen=True)
class RenderPlace:
    """Where a render reads and writes, for the checks that look at files and folders.

    Given to ``validate``, it adds: every input file exists and reads as its kind
    (with ``probe``); every Save node's name, filled with ``name_fields`` (the
    fields the render fills beyond the node's id and the seed: {project}, a batch's
    {job}...), uses no unknown field and fits a file name; and, with ``output_dir``,
    the output folder can be written and has room for the estimated files.
    """

    project_dir: Path
    output_dir: Path | None = None
    name_fields: Mapping[str, str] = field(default_factory=dict)
    probe: MediaProbe | None = None


# Room a Save node needs at the least, beyond the estimate of its file (the encoder's
# temporary file, the provenance it embeds).
MIN_FREE_BYTES = 16 * 2 ** 20


def validate(graph: Graph, targets: Iterable[str] | None = None, *,
             place: RenderPlace | None = None) -> list[Problem]:
    """All problems in the part of the graph that ``targets`` need (all of it by default).

    With ``place``, also what the files and folders of that render say (RenderPlace).
    """
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
            if place is not None and not node.bypassed:
                # A node's own check may have said it already (Save's filename pattern).
                problems.extend(p for p in _place_problems(graph, node_id, node_type, params, place, label(node_id))
                                if p not in problems)
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


def _place_problems(graph: Graph, node_id: str, node_type, params, place: RenderPlace,
                    node_label: str) -> list[Problem]:
    """The files a node reads and the file it writes, checked where this render runs."""
    problems = []
    for param, typed, kind in node_type.input_files(params):
        path = Path(os.path.expanduser(typed))
        path = path if path.is_absolute() else place.project_dir / path
        where = f"parameter {param!r}"
        if kind != "image sequence" and not path.exists():
            problems.append(Problem(node_id, node_label, where, f"no such file: {path}", "missing_file"))
            continue
        if kind != "image sequence" and path.is_dir():
            problems.append(Problem(node_id, node_label, where, f"{path} is a folder, not {kind} file",
                                    "missing_file"))
            continue
        message = place.probe(path, kind) if place.probe is not None else None
        if message:
            problems.append(Problem(node_id, node_label, where, message, "bad_file"))
    named = node_type.output_name(params)
    if named is None:
        return problems
    pattern, ext = named
    fields = {"project": "untitled", "node": node_id, "seed": filenames.WIDEST_SEED, **place.name_fields}
    message = filenames.name_problem(pattern, fields, ext=ext)
    if message:
        return problems + [Problem(node_id, node_label, "parameter 'filename'", message, "bad_value")]
    if place.output_dir is not None:
        folder = filenames.fill(pattern, fields, ext=ext).folder
        message = _output_folder_problem(Path(place.output_dir) / folder, _estimated_bytes(graph, node_id, ext))
        if message:
            problems.append(Problem(node_id, node_label, "", message, "output_folder"))
    return problems


def _output_folder_problem(folder: Path, needed: int) -> str | None:
    """Why nothing can be written into ``folder`` (made if missing), or None."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"cannot write into {folder}: {existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        made = "" if existing == folder else f" (to make {folder} in it)"
        return f"the output folder {existing} is not writable{made}; choose another with --output-dir"
    free = shutil.disk_usage(existing).free
    needed += MIN_FREE_BYTES
    if free < needed:
        return (f"the output folder {existing} has {free / 2 ** 20:.0f} MB free; this file needs about "
                f"{needed / 2 ** 20:.0f} MB")
    return None


# Bytes a frame's pixel takes in the file, by extension (H.264 at high quality is ~0.25).
_STILLS = (".jpg", ".webp", ".png")  # one picture per file (a sequence's folder has ext "")
_BYTES_PER_PIXEL = {".mp4": 0.3, ".mov": 0.3, ".webm": 0.3, ".jpg": 0.5, ".webp": 0.5, ".png": 3.0, "": 3.0}


def _estimated_bytes(graph: Graph, node_id: str, ext: str) -> int:
    """A rough size of what a Save node writes: the picture size from the nearest node upstream
    that sets one, times the frame count from the nearest that sets one (width, height, frames
    or seconds x fps); a sound's length from the nearest that sets seconds.

    A node on the way may set only one of them: Reframe Video sets a size (0 keeps the
    clip's) but takes the length of the clip it is given, so the walk goes on past it."""
    registry = graph.registry
    size: tuple[int, int] | None = None
    frames: int | None = 1 if ext in _STILLS else None
    seen, frontier = {node_id}, [node_id]
    while frontier:
        current = frontier.pop(0)
        for link in graph.links:
            if link.target != current or link.source in seen or link.source not in graph.nodes:
                continue
            seen.add(link.source)
            frontier.append(link.source)
            source = graph.nodes[link.source]
            if source.type_id not in registry:
                continue
            p = {**registry.get(source.type_id).default_params(), **source.params}
            if ext in (".wav", ".flac") and isinstance(p.get("seconds"), (int, float)):
                return int(p["seconds"] * 48000 * 2 * 2)
            w, h = p.get("width"), p.get("height")
            if size is None and isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0:
                size = (w, h)
            if frames is None:
                frames = _frame_count(p)
            if size is not None and frames is not None:
                return int(size[0] * size[1] * frames * _BYTES_PER_PIXEL.get(ext, 3.0))
    return 0 if size is None else int(size[0] * size[1] * _BYTES_PER_PIXEL.get(ext, 3.0))


def _frame_count(p: dict) -> int | None:
    """The frames a node's parameters make (frames, or seconds x fps), if they say."""
    if p.get("duration_unit", "frames") == "frames" and isinstance(p.get("frames"), int) and p["frames"] > 0:
        return p["frames"]
    seconds, fps = p.get("seconds"), p.get("fps")
    if isinstance(seconds, (int, float)) and isinstance(fps, (int, float)) and seconds > 0 and fps > 0:
        return int(seconds * fps)
    return None


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
