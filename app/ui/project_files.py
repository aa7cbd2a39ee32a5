"""Reading and writing the open project's file: what Open, a drop, an example,
a recovered autosave and Save read and write. The document shows what is read
(``Document.replace_project``) and keeps the file's name.

Reading never changes the document: each function returns a ``Project`` (with
where an untitled copy came from), or raises ``ProjectError`` saying why a file
cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nodes import project as project_io
from nodes import types as T
from nodes.graph import Graph


@dataclass
class Opened:
    """A project read from a file, and for an untitled copy (an example, a render)
    where it came from: the file, the folder its relative input paths start from,
    and its name for {project} in file names."""

    project: project_io.Project
    origin: Path | None = None
    folder: Path | None = None
    name: str | None = None


def read_weft(path: str | Path, registry: Any, *, as_copy: bool = False) -> Opened:
    """A .weft file; ``as_copy``: as an untitled copy (Save asks where, and renders
    never go next to the original)."""
    if as_copy:
        path = Path(path).resolve()
        project = project_io.load(path, registry)
        project.path = None
        return Opened(project, path, path.parent, path.stem)
    project = project_io.load(path, registry)
    project.path = Path(path).resolve()
    return Opened(project)


def read_file(path: str | Path, registry: Any, *, as_copy: bool = False) -> Opened | None:
    """The project a file holds, as a drop on the studio reads it: a .weft (an
    untitled copy with ``as_copy``), or the project a render carries
    (engines.media.provenance), untitled. None for a file without one."""
    path = Path(path)
    if path.suffix.lower() == project_io.SUFFIX:
        return read_weft(path, registry, as_copy=as_copy)
    from engines.media.provenance import read_embedded
    embedded = read_embedded(path)
    if embedded is None:
        return None
    project = project_io.from_dict(embedded.project, registry, source=f"{path} (its embedded project)")
    return Opened(project, path.resolve(), embedded.project_dir or path.resolve().parent, embedded.project_name)


def holds_project(path: str | Path) -> bool:
    """A .weft, or a render that carries the project that made it."""
    if Path(path).suffix.lower() == project_io.SUFFIX:
        return True
    from engines.media.provenance import read_embedded
    return read_embedded(path) is not None


def read_dict(data: dict[str, Any], registry: Any, path: Path | None = None) -> project_io.Project:
    """A project dict (a recovered autosave), as if it were the file ``path``."""
    project = project_io.from_dict(data, registry, source=str(path or "project"))
    project.path = path
    return project


def save_target(path: str | Path | None, current: Path | None) -> Path:
    """Where Save writes: ``path``, else the project's own file, with the .weft suffix."""
    target = Path(path) if path is not None else current
    if target is None:
        raise project_io.ProjectError("the project has no file name yet")
    if target.suffix != project_io.SUFFIX:
        target = target.with_suffix(project_io.SUFFIX)
    return target


def write(graph: Graph, settings: dict[str, Any], target: Path) -> Path:
    """Writes the project atomically; returns the file's resolved path."""
    return project_io.save(project_io.Project(graph, settings), target).resolve()


def absolute_input_paths(graph: Graph, base: Path) -> list[tuple[str, str, str]]:
    """(node, parameter, absolute path) for each input path that is relative to ``base``:
    what saving into another folder must change for the project to find its files."""
    changes = []
    for node in graph.nodes.values():
        if node.type_id not in graph.registry:
            continue
        for name, param in graph.node_type(node.id).params.items():
            value = node.params.get(name)
            if param.type == T.PATH and isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
                changes.append((node.id, name, str(base / value)))
    return changes
