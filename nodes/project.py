"""The project file (``.weft``): a graph saved as human-diffable JSON.

```json
{
  "weft": {"schema": 2},
  "nodes": {
    "prompt": {"type": "text", "version": 1, "title": "Prompt", "params": {"text": "a red fox"}},
    "t2v":    {"type": "text_to_video", "version": 1, "params": {"steps": 30}}
  },
  "links": [{"from": "prompt.text", "to": "t2v.prompt"}],
  "layout": {"nodes": {"prompt": [0, 0]}, "backdrops": [],
             "reroutes": {"prompt.text>t2v.prompt": [[150, 40]]}},
  "settings": {}
}
```

Parameters are stored by name, never by position; node ids are stable; the
layout (positions, backdrops, reroute dots) lives in a section of its own so
that moving a node never shows up as a change to what renders; ``settings``
is for what renders (it goes to the engine with every run). Older files are
migrated forward by the small functions in ``nodes.migrations``. Loading
parses JSON and nothing else: no code from a file is ever executed.
"""

from __future__ import annotations

import glob
import json
import os
import stat
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from nodes import migrations
from nodes.definition import ParamError
from nodes.graph import NODE_ID, Backdrop, Graph, GraphError, Link, Node, reroute_key
from nodes.registry import Registry, default_registry

SCHEMA_VERSION = migrations.CURRENT_SCHEMA
SUFFIX = ".weft"


class ProjectError(ValueError):
    """The file cannot be read as a Weft project; the message says where and why."""


# -- the file's shape, checked by pydantic ------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Header(_Strict):
    model_config = ConfigDict(extra="allow", strict=True)
    schema_: int = Field(alias="schema", ge=0)


class _NodeEntry(_Strict):
    type: str = Field(min_length=1, max_length=200)
    version: int = Field(default=1, ge=1)
    title: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    bypassed: bool = False


class _LinkEntry(_Strict):
    from_: str = Field(alias="from")
    to: str

    @field_validator("from_", "to")
    @classmethod
    def _socket_ref(cls, value: str) -> str:
        node_id, dot, socket = value.partition(".")
        if not dot or not NODE_ID.match(node_id) or not socket:
            raise ValueError(f"{value!r} is not of the form node.socket")
        return value


Point = Annotated[list[float], Field(min_length=2, max_length=2)]
Rect = Annotated[list[float], Field(min_length=4, max_length=4)]


class _BackdropEntry(_Strict):
    title: str = ""
    rect: Rect
    color: str = "#5a6a7a"


class _Layout(_Strict):
    nodes: dict[str, Point] = Field(default_factory=dict)
    backdrops: list[_BackdropEntry] = Field(default_factory=list)
    # Reroute dots by link, "src.socket>dst.socket": [[x, y], ...] (schema 2).
    reroutes: dict[str, list[Point]] = Field(default_factory=dict)


class _ProjectFile(_Strict):
    weft: _Header
    nodes: dict[str, _NodeEntry] = Field(default_factory=dict)
    links: list[_LinkEntry] = Field(default_factory=list)
    layout: _Layout = Field(default_factory=_Layout)
    settings: dict[str, Any] = Field(default_factory=dict)


# -- the loaded project ---------------------------------------------------------
@dataclass
class Project:
    graph: Graph
    settings: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    # What loading changed to bring an old file up to date, for the log.
    migration_notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.stem if self.path else "untitled"


def loads(text: str | bytes, registry: Registry | None = None, *, source: str = "project") -> Project:
    """Parse a project from JSON text. Raises ProjectError, and nothing else, on bad input."""
    registry = registry or default_registry()
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{source}: not valid JSON: {exc}") from None
    except RecursionError:
        raise ProjectError(f"{source}: nested too deeply to be a Weft project") from None
    return from_dict(data, registry, source=source)


def from_dict(data: Any, registry: Registry | None = None, *, source: str = "project") -> Project:
    registry = registry or default_registry()
    if not isinstance(data, dict) or not isinstance(data.get("weft"), dict):
        raise ProjectError(f"{source}: not a Weft project (no \"weft\" header)")
    notes: list[str] = []
    try:
        data = migrations.upgrade(data, notes)
    except migrations.MigrationError as exc:
        raise ProjectError(f"{source}: {exc}") from None
    try:
        parsed = _ProjectFile.model_validate(data)
    except ValidationError as exc:
        raise ProjectError(f"{source}: {_first_error(exc)}") from None
    except RecursionError:
        raise ProjectError(f"{source}: nested too deeply to be a Weft project") from None

    graph = Graph(registry)
    for node_id, entry in parsed.nodes.items():
        if not NODE_ID.match(node_id):
            raise ProjectError(f"{source}: node id {node_id!r} must be 1-64 letters, digits, '_' or '-'")
        params = dict(entry.params)
        version = entry.version
        if entry.type in registry:
            node_type = registry.get(entry.type)
            if version > node_type.version:
                raise ProjectError(
                    f"{source}: node {entry.title or node_type.title} ({node_id}) was saved by a newer Weft "
                    f"({node_type.title} version {version}; this Weft has version {node_type.version})")
            if version < node_type.version:
                try:
                    params = node_type.migrate(params, version)
                except ParamError as exc:
                    raise ProjectError(f"{source}: node {node_id}: {exc}") from None
                notes.append(f"{node_type.title} ({node_id}) upgraded from version {version} to {node_type.version}")
                version = node_type.version
            # Parameters the file does not mention take today's defaults.
            params = {**node_type.default_params(), **params}
        graph.insert_node(Node(node_id, entry.type, params, entry.title, entry.bypassed, version))
    for entry in parsed.links:
        src, _, src_socket = entry.from_.partition(".")
        dst, _, dst_socket = entry.to.partition(".")
        # Kept even when wrong: validation names the problem and the artist
        # can fix it, rather than the link silently disappearing.
        graph.add_link(Link(src, src_socket, dst, dst_socket))
    for node_id, (x, y) in parsed.layout.nodes.items():
        if node_id in graph.nodes:
            graph.move_node(node_id, x, y)
    graph.set_backdrops([Backdrop(b.title, tuple(b.rect), b.color) for b in parsed.layout.backdrops])
    # Only the reroutes of links the file has: one without its link could be
    # neither drawn nor deleted by the artist, and would ride along in the file
    # for ever (positions of missing nodes are dropped the same way).
    live = {reroute_key(link) for link in graph.links}
    graph.put_reroutes({key: points for key, points in parsed.layout.reroutes.items() if key in live and points})
    return Project(graph, dict(parsed.settings), migration_notes=notes)


def load(path: str | os.PathLike, registry: Registry | None = None) -> Project:
    path = Path(path)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file") from None
    except OSError as exc:
        raise ProjectError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    project = loads(text, registry, source=str(path))
    project.path = path
    return project


def to_dict(graph: Graph, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    nodes: dict[str, Any] = {}
    for node in graph.nodes.values():
        entry: dict[str, Any] = {"type": node.type_id, "version": node.version}
        if node.title:
            entry["title"] = node.title
        entry["params"] = dict(node.params)
        if node.bypassed:
            entry["bypassed"] = True
        nodes[node.id] = entry
    layout: dict[str, Any] = {
        "nodes": {nid: [round(float(x), 2), round(float(y), 2)] for nid, (x, y) in graph.positions.items()
                  if nid in graph.nodes},
        "backdrops": [{"title": b.title, "rect": [float(v) for v in b.rect], "color": b.color}
                      for b in graph.backdrops],
    }
    # Written only for links that exist (as positions only for nodes that do),
    # and left out when there are none, so a file without bends stays as it was.
    live = [key for key in map(reroute_key, graph.links) if graph.reroutes.get(key)]
    if live:
        layout["reroutes"] = {key: [[round(float(x), 2), round(float(y), 2)] for x, y in graph.reroutes[key]]
                              for key in live}
    return {
        "weft": {"schema": SCHEMA_VERSION},
        "nodes": nodes,
        "links": [{"from": f"{l.source}.{l.source_socket}", "to": f"{l.target}.{l.target_socket}"}
                  for l in graph.links],
        "layout": layout,
        "settings": dict(settings or {}),
    }


def dumps(graph: Graph, settings: dict[str, Any] | None = None) -> str:
    return json.dumps(to_dict(graph, settings), indent=2, ensure_ascii=False) + "\n"


# A save's temporary file: hidden, next to the project, named after it.
_TEMP_PREFIX, _TEMP_SUFFIX = ".", ".tmp"
# A temporary file older than this was left by a save that was killed (a save
# takes milliseconds); younger ones may belong to a save running right now.
STALE_TEMP_SECONDS = 10.0


def save(project: Project, path: str | os.PathLike | None = None) -> Path:
    """Write atomically: a crash while saving never leaves half a project.

    The file keeps its permissions (a project shared as 0644 stays 0644; a new
    one gets the usual 0666 less the umask), and hidden temporary files that a
    killed save left next to it are removed.
    """
    target = Path(path) if path is not None else project.path
    if target is None:
        raise ProjectError("the project has no file name yet")
    text = dumps(project.graph, project.settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(target)
    try:
        mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None
    tmp = target.with_name(f"{_TEMP_PREFIX}{target.name}.{uuid.uuid4().hex[:12]}{_TEMP_SUFFIX}")
    # O_EXCL with 0666: the umask applies, as for any new file (mkstemp would make it 0600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    project.path = target
    return target


def remove_stale_temp_files(target: Path, *, older_than: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Remove the temporary files that killed saves of ``target`` left behind; returns them."""
    removed = []
    now = time.time()
    try:
        candidates = list(target.parent.glob(f"{glob.escape(_TEMP_PREFIX + target.name)}.*{_TEMP_SUFFIX}"))
    except OSError:
        return removed
    for candidate in candidates:
        try:
            if candidate.is_file() and now - candidate.stat().st_mtime > older_than:
                candidate.unlink()
                removed.append(candidate)
        except OSError:
            continue  # gone already, or not ours to remove
    return removed


def apply_override(graph: Graph, assignment: str) -> None:
    """Apply a ``NODE.PARAM=VALUE`` override (from ``--set``), or raise GraphError."""
    target, eq, value = assignment.partition("=")
    node_name, dot, param = target.strip().rpartition(".")
    if not eq or not dot or not node_name or not param:
        raise GraphError(f"--set {assignment!r}: expected NODE.PARAM=VALUE, e.g. --set text_to_video.steps=20")
    node = graph.find(node_name)
    graph.set_param(node.id, param, value)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(part) for part in err.get("loc", ()) if part != "schema_") or "file"
    where = where.replace("from_", "from").replace("schema_", "schema")
    extra = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
    return f"{where}: {err.get('msg', 'invalid')}{extra}"


__all__ = ["Project", "ProjectError", "SCHEMA_VERSION", "SUFFIX", "apply_override", "dumps", "from_dict",
           "load", "loads", "remove_stale_temp_files", "save", "to_dict", "GraphError"]
