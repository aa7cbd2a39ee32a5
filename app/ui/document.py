"""The open project: its graph, its undo history, its file, what is selected,
and what the last runs said about each node.

Three jobs live in modules of their own: what runs said (``app.ui.run_state``),
copy and paste (``app.ui.clipboard``), reading and writing files
(``app.ui.project_files``). The document keeps the state and the signals.

Every edit goes through a method here that checks it, then pushes an undoable
command (``app.ui.commands``) that touches only the graph model. Views (the
canvas, the inspector) listen to the graph's psygnal signals and to this
object's Qt signals; they never change the model behind its back.

The one ``Graph`` object lives as long as the document: opening another file
empties and refills it, so everything connected to its signals keeps working.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Iterable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from app.ui import clipboard
from app.ui import commands as C
from app.ui import project_files
from app.ui.run_state import NodeStatus, RunState
from nodes import project as project_io
from nodes.definition import ParamError
from nodes.graph import Backdrop, Graph, GraphError, Link, Node, reroute_key
from nodes.registry import Registry, UnknownNodeType, default_registry
from nodes.validation import Problem, RenderPlace, validate

# The canvas reads it from here (it lives with the rest of copy and paste).
CLIPBOARD_MIME = clipboard.CLIPBOARD_MIME
# What a seed does after each run (ComfyUI's "control after generate").
SEED_MODES = {"fixed": "Fixed", "increment": "+1 after each run", "randomise": "Random after each run"}


class Document(QObject):
    selection_changed = Signal(list)
    dirty_changed = Signal(bool)
    path_changed = Signal()
    # Runtime state, per node: progress, cache mark, error, time and memory.
    node_status_changed = Signal(str)
    # Validation problems found before a run, per node (shown as badges).
    problems_changed = Signal()
    reroutes_changed = Signal()
    # Emitted after a file was opened or a new project started (the graph was refilled).
    project_replaced = Signal()
    # A node's seed control (fixed / increment / randomise) changed.
    seed_control_changed = Signal(str)
    # Draft / Final changed ("draft" or "final").
    quality_changed = Signal(str)

    def __init__(self, registry: Registry | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.registry = registry or default_registry()
        self.graph = Graph(self.registry)
        self.undo_stack = QUndoStack(self)
        self.path: Path | None = None
        # An untitled project opened from a file it must not write back to (an
        # example, a render): where it came from, where its relative input paths
        # start, and its name for {project} in file names.
        self.origin: Path | None = None
        self._origin_dir: Path | None = None
        self._origin_name: str | None = None
        self.settings: dict[str, Any] = {}
        self.migration_notes: list[str] = []
        # Runtime only: what the last runs said about each node, and a QImage of its
        # last result (the face shows them); every change emits node_status_changed.
        self.run_state = RunState(self.graph.nodes, self.node_status_changed.emit)
        self.problems: dict[str, list[Problem]] = {}
        self._selection: list[str] = []
        # Set by the window: (node type, params, quality) -> Estimate | None, and
        # type id -> parameter values this machine starts new nodes with.
        self.estimator: Any = None
        self.machine_defaults: Any = None
        # Set by the window: type id -> the model a new node starts with here, and its settings
        # (models_info.starting_params); used only for a node made with no values of its own.
        self.starting_params: Any = None
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        # Every edit re-checks (debounced). Before a run asked for it, only what is wrong with
        # what is there is marked (a value, an anchor that names no reference, a link of the
        # wrong type); an input not connected yet is left alone while the graph is being
        # built. Once a run was refused, the check is the run's own, so a fixed problem's mark
        # goes away and a new one appears.
        self._check_targets: list[str] | None = None
        self._check_place: RenderPlace | None = None
        self._checked_for_run = False
        self._recheck = QTimer(self)
        self._recheck.setSingleShot(True)
        self._recheck.setInterval(250)
        self._recheck.timeout.connect(self.recheck)
        self.undo_stack.indexChanged.connect(self._on_edit)
        self.graph.node_removed.connect(self._on_node_removed)
        self.graph.reroutes_changed.connect(self._on_graph_reroutes_changed)

    def _on_edit(self, index: int) -> None:
        self._recheck.start()

    def _on_clean_changed(self, clean: bool) -> None:
        self.dirty_changed.emit(not clean)

    @property
    def status(self) -> dict[str, NodeStatus]:
        """Node id -> what the engine last said about it (read it; change it with ``set_status``)."""
        return self.run_state.status

    @property
    def thumbnails(self) -> dict[str, Any]:
        """Node id -> a QImage of its last result (change it with ``set_thumbnail``)."""
        return self.run_state.thumbnails

    # -- names -------------------------------------------------------------------------
    def type_title(self, type_id: str) -> str:
        try:
            return self.registry.get(type_id).title
        except UnknownNodeType:
            return type_id

    def node_title(self, node_id: str) -> str:
        node = self.graph.nodes.get(node_id)
        if node is None:
            return node_id
        return node.title or self.type_title(node.type_id)

    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def name(self) -> str:
        return self.path.stem if self.path else (self._origin_name or "untitled")

    @property
    def base_dir(self) -> Path:
        """Where the project's relative input paths start: its file's folder, or the
        folder of the file an untitled copy came from."""
        if self.path is not None:
            return self.path.parent
        return self._origin_dir or Path.cwd()

    # -- selection ----------------------------------------------------------------------
    def selected_nodes(self) -> list[str]:
        return list(self._selection)

    def select(self, node_ids: Iterable[str]) -> None:
        ids = [n for n in dict.fromkeys(node_ids) if n in self.graph.nodes]
        if ids != self._selection:
            self._selection = ids
            self.selection_changed.emit(list(ids))

    def _on_node_removed(self, node: Node) -> None:
        self.run_state.forget(node.id)
        self.problems.pop(node.id, None)
        if node.id in self._selection:
            self.select([n for n in self._selection if n != node.id])

    # -- nodes ---------------------------------------------------------------------------
    def add_node(self, type_id: str, pos: tuple[float, float] | Any, params: dict[str, Any] | None = None,
                 *, title: str = "") -> str:
        """Adds a node of ``type_id`` at ``pos`` (scene coordinates); returns its id."""
        node = self._make_node(type_id, params or {}, title=title)
        self.undo_stack.push(C.AddNode(self, node, _xy(pos)))
        return node.id

    def _make_node(self, type_id: str, params: dict[str, Any], *, title: str = "",
                   node_id: str | None = None) -> Node:
        try:
            node_type = self.registry.get(type_id)
        except UnknownNodeType as exc:
            raise GraphError(str(exc)) from None
        values = node_type.default_params()
        # This machine's defaults (Text to Video sized for a CPU), under what the caller gave.
        machine = self.machine_defaults(type_id) if self.machine_defaults is not None else {}
        if not params and self.starting_params is not None:
            machine = {**machine, **self.starting_params(type_id)}
        for name, value in {**machine, **params}.items():
            values[name] = self._coerce(node_type, name, value, title or node_type.title)
        return Node(node_id or self.graph.new_id(type_id), type_id, values, title, False, node_type.version)

    def _coerce(self, node_type, name: str, value: Any, label: str) -> Any:
        param = node_type.params.get(name)
        if param is None:
            raise GraphError(f"{label}: no parameter {name!r}")
        try:
            return param.coerce(value)
        except ParamError as exc:
            raise GraphError(f"{label}: parameter {name!r}: {exc}") from None

    def remove_nodes(self, node_ids: Iterable[str]) -> None:
        ids = [n for n in dict.fromkeys(node_ids) if n in self.graph.nodes]
        if ids:
            self.undo_stack.push(C.RemoveNodes(self, ids))

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        """Sets a parameter (checked; raises GraphError saying why a value is refused)."""
        node = self.graph.node(node_id)
        node_type = self.graph.node_type(node_id)
        value = self._coerce(node_type, name, value, node.label(self.registry))
        old = node.params.get(name)
        if old == value and type(old) is type(value):
            return
        fit = _settings_for(node_type, value, node.params) if name == "model" else {}
        if not fit:
            self.undo_stack.push(C.SetParam(self, node_id, name, old, value))
            return
        # A model trained at one shape (a sketch model) brings it along, in the same undo step.
        self.undo_stack.beginMacro(f"{node.label(self.registry)}: model {value}")
        try:
            self.undo_stack.push(C.SetParam(self, node_id, name, old, value))
            for other, new in fit.items():
                self.undo_stack.push(C.SetParam(self, node_id, other, node.params.get(other),
                                                self._coerce(node_type, other, new, node.label(self.registry))))
        finally:
            self.undo_stack.endMacro()

    def set_title(self, node_id: str, title: str) -> None:
        node = self.graph.node(node_id)
        title = title.strip()
        if title == self.type_title(node.type_id):
            title = ""  # the type's own name: keep the file free of redundant titles
        if title != node.title:
            self.undo_stack.push(C.SetTitle(self, node_id, node.title, title))

    def set_bypassed(self, node_ids: Iterable[str], bypassed: bool | None = None) -> None:
        """Bypass (or enable) nodes; with ``bypassed=None`` toggles them together:
        if any is enabled, all become bypassed."""
        nodes = [self.graph.nodes[n] for n in node_ids if n in self.graph.nodes]
        if not nodes:
            return
        if bypassed is None:
            bypassed = not all(n.bypassed for n in nodes)
        changes = {n.id: (n.bypassed, bypassed) for n in nodes if n.bypassed != bypassed}
        if changes:
            self.undo_stack.push(C.SetBypassed(self, changes))

    def move_nodes(self, moves: dict[str, tuple[float, float]], old: dict[str, tuple[float, float]] | None = None,
                   *, text: str = "") -> None:
        """Moves nodes to new positions. ``old`` gives where they were when the
        canvas already shows them at the new place (a drag)."""
        entries = {}
        for node_id, new in moves.items():
            if node_id not in self.graph.nodes:
                continue
            before = (old or {}).get(node_id, self.graph.positions.get(node_id))
            if before is not None and _close(before, new):
                continue
            entries[node_id] = (before, (float(new[0]), float(new[1])))
        if entries:
            self.undo_stack.push(C.MoveNodes(self, entries, text))

    # -- how long a node will take (set by the window: engines.estimate with this machine's figures) --
    def estimate_for(self, node_id: str) -> Any:
        """An ``engines.estimate.Estimate`` for a model node at the project's quality, or None."""
        if self.estimator is None or node_id not in self.graph.nodes:
            return None
        try:
            return self.estimator(self.graph.node_type(node_id), self.graph.nodes[node_id].params, self.quality)
        except Exception:  # a half-typed value: validation says what is wrong
            return None

    # -- Draft / Final ---------------------------------------------------------------------------
    @property
    def quality(self) -> str:
        return "draft" if self.settings.get("quality") == "draft" else "final"

    def set_quality(self, quality: str) -> None:
        """Draft (fast settings for every model node: engines/quality.py) or Final; one undoable step."""
        if quality not in ("draft", "final"):
            raise GraphError(f"quality is 'draft' or 'final', not {quality!r}")
        if quality != self.quality:
            self.undo_stack.push(C.SetQuality(self, self.quality, quality))

    def _apply_quality(self, quality: str) -> None:
        """The one place ``settings.quality`` changes (for C.SetQuality): set, and said."""
        if quality == "draft":
            self.settings["quality"] = "draft"
        else:
            self.settings.pop("quality", None)
        self.quality_changed.emit(quality)

    # -- seeds after a run --------------------------------------------------------------------
    def seed_control(self, node_id: str, name: str = "seed") -> str:
        mode = (self.settings.get("seed_control") or {}).get(f"{node_id}.{name}", "fixed")
        return mode if mode in SEED_MODES else "fixed"

    def set_seed_control(self, node_id: str, name: str, mode: str) -> None:
        if mode not in SEED_MODES:
            raise GraphError(f"a seed is one of {', '.join(SEED_MODES)} after a run, not {mode!r}")
        node_type = self.graph.node_type(node_id)
        param = node_type.params.get(name)
        if param is None or param.type.name != "Seed":
            raise GraphError(f"{self.node_title(node_id)}: {name!r} is not a seed")
        old = self.seed_control(node_id, name)
        if old != mode:
            self.undo_stack.push(C.SetSeedControl(self, f"{node_id}.{name}", old, mode))

    def _apply_seed_control(self, key: str, mode: str) -> None:
        """The one place ``settings.seed_control`` changes (for C.SetSeedControl): set, and said."""
        table = dict(self.settings.get("seed_control") or {})
        if mode == "fixed":
            table.pop(key, None)
        else:
            table[key] = mode
        if table:
            self.settings["seed_control"] = table
        else:
            self.settings.pop("seed_control", None)
        self.seed_control_changed.emit(key.rpartition(".")[0])

    def seed_params(self) -> list[tuple[str, str]]:
        """(node, parameter) for every seed in the graph."""
        out = []
        for node_id in self.graph.nodes:
            try:
                node_type = self.graph.node_type(node_id)
            except Exception:
                continue
            out.extend((node_id, p.name) for p in node_type.params.values() if p.type.name == "Seed")
        return out

    def advance_seeds(self, rng: Any = None) -> dict[str, tuple[int, int]]:
        """After a run: each seed set to increment or randomise moves on (as undoable
        edits); returns {"node.param": (old, new)}."""
        import random
        rng = rng or random
        changed = {}
        for node_id, name in self.seed_params():
            mode = self.seed_control(node_id, name)
            if mode == "fixed":
                continue
            param = self.graph.node_type(node_id).params[name]
            lo = int(param.min if param.min is not None else 0)
            hi = int(param.max if param.max is not None else 2**32 - 1)
            old = int(self.graph.nodes[node_id].params.get(name, param.default))
            if mode == "increment":
                new = old + 1 if old < hi else lo
            else:
                new = rng.randint(lo, hi)
                while new == old and hi > lo:
                    new = rng.randint(lo, hi)
            self.set_param(node_id, name, new)
            changed[f"{node_id}.{name}"] = (old, new)
        return changed

    # -- restoring a graph from the history ------------------------------------------------------
    def restore_graph(self, data: dict[str, Any], *, text: str = "Restore graph from history") -> None:
        """Puts a project's graph (a history entry's) on the canvas, as one undoable step:
        the nodes, links, positions, backdrops and seed controls it had. The file name stays."""
        project = project_io.from_dict(data, self.registry, source="history")
        src = project.graph
        self.undo_stack.beginMacro(text)
        try:
            if self.graph.nodes:
                self.undo_stack.push(C.RemoveNodes(self, list(self.graph.nodes)))
            for node in src.nodes.values():
                self.undo_stack.push(C.AddNode(self, copy.deepcopy(node), src.positions.get(node.id)))
            for link in src.links:
                self.undo_stack.push(C.AddLink(self, link))
            for key, points in src.reroutes.items():
                self.undo_stack.push(C.SetReroutes(self, key, self._reroute_points(key),
                                                   [[float(x), float(y)] for x, y in points], "Reroutes"))
            if [(b.title, tuple(b.rect), b.color) for b in self.graph.backdrops] != \
                    [(b.title, tuple(b.rect), b.color) for b in src.backdrops]:
                self.undo_stack.push(C.SetBackdrops(self, self.graph.backdrops, src.backdrops, "Backdrops"))
            wanted = dict(project.settings.get("seed_control") or {})
            for key in set(wanted) | set(self.settings.get("seed_control") or {}):
                node_id, _, name = key.rpartition(".")
                old, new = self.seed_control(node_id, name), wanted.get(key, "fixed")
                if old != new and new in SEED_MODES:
                    self.undo_stack.push(C.SetSeedControl(self, key, old, new))
        finally:
            self.undo_stack.endMacro()

    # -- links ------------------------------------------------------------------------------
    def connection_problem(self, src: str, src_socket: str, dst: str, dst_socket: str) -> str | None:
        return self.graph.connection_problem(src, src_socket, dst, dst_socket)

    def connect(self, src: str, src_socket: str, dst: str, dst_socket: str) -> Link:
        """Links an output to an input (replacing the input's link); raises GraphError saying why not."""
        problem = self.connection_problem(src, src_socket, dst, dst_socket)
        if problem:
            raise GraphError(problem)
        link = Link(src, src_socket, dst, dst_socket)
        if link in self.graph.links:
            return link
        self.undo_stack.push(C.Connect(self, link))
        return link

    def disconnect(self, links: Iterable[Link], *, text: str = "") -> None:
        present = [l for l in dict.fromkeys(links) if l in self.graph.links]
        if present:
            self.undo_stack.push(C.RemoveLinks(self, present, text))

    # -- backdrops ---------------------------------------------------------------------------
    def add_backdrop(self, rect: tuple[float, float, float, float], title: str = "Backdrop",
                     color: str | None = None) -> int:
        from app.ui.theme import BACKDROP_COLORS
        old = self.graph.backdrops
        color = color or BACKDROP_COLORS[len(old) % len(BACKDROP_COLORS)]
        new = C.copy_backdrops(old) + [Backdrop(title, tuple(float(v) for v in rect), color)]
        self.undo_stack.push(C.SetBackdrops(self, old, new, "Add backdrop"))
        return len(new) - 1

    def edit_backdrop(self, index: int, *, title: str | None = None, color: str | None = None,
                      rect: tuple[float, float, float, float] | None = None, text: str = "") -> None:
        old = self.graph.backdrops
        new = C.copy_backdrops(old)
        b = new[index]
        if title is not None:
            b.title = title
        if color is not None:
            b.color = color
        if rect is not None:
            b.rect = tuple(float(v) for v in rect)
        if (b.title, b.color, tuple(b.rect)) != (old[index].title, old[index].color, tuple(old[index].rect)):
            self.undo_stack.push(C.SetBackdrops(self, old, new, text or "Edit backdrop"))

    def remove_backdrops(self, indexes: Iterable[int]) -> None:
        drop = set(indexes)
        old = self.graph.backdrops
        if drop:
            new = [b for i, b in enumerate(C.copy_backdrops(old)) if i not in drop]
            self.undo_stack.push(C.SetBackdrops(self, old, new, "Delete backdrop"))

    # -- reroutes ------------------------------------------------------------------------
    # Reroute dots are bends in a link's drawing: they change nothing that
    # renders, so they are not nodes. They live in the graph's layout table,
    # ``graph.reroutes`` ({"src.socket>dst.socket": [(x, y), ...]}), saved in
    # the file's layout section with positions and backdrops.
    def reroutes(self, link: Link) -> list[tuple[float, float]]:
        return [(float(x), float(y)) for x, y in self.graph.reroutes.get(reroute_key(link), [])]

    def _reroute_points(self, key: str) -> list[list[float]]:
        return [[float(x), float(y)] for x, y in self.graph.reroutes.get(key, [])]

    def add_reroute(self, link: Link, pos: tuple[float, float] | Any, index: int | None = None) -> None:
        key = reroute_key(link)
        old = self._reroute_points(key)
        new = [list(p) for p in old]
        x, y = _xy(pos)
        new.insert(len(new) if index is None else index, [round(x, 2), round(y, 2)])
        self.undo_stack.push(C.SetReroutes(self, key, old, new, "Add reroute"))

    def move_reroute(self, link: Link, index: int, pos: tuple[float, float] | Any, *,
                     old_pos: tuple[float, float] | None = None) -> None:
        key = reroute_key(link)
        old = self._reroute_points(key)
        if index >= len(old):
            return
        if old_pos is not None:
            old[index] = [round(old_pos[0], 2), round(old_pos[1], 2)]
        new = [list(p) for p in old]
        x, y = _xy(pos)
        new[index] = [round(x, 2), round(y, 2)]
        self.undo_stack.push(C.SetReroutes(self, key, old, new, "Move reroute", merge=old_pos is None))

    def remove_reroute(self, link: Link, index: int) -> None:
        key = reroute_key(link)
        old = self._reroute_points(key)
        if index < len(old):
            new = old[:index] + old[index + 1:]
            self.undo_stack.push(C.SetReroutes(self, key, old, new, "Delete reroute"))

    def _set_reroute_points(self, key: str, points: list[list[float]]) -> None:
        self.graph.set_reroutes(key, [(x, y) for x, y in points])

    def _take_reroutes(self, links: Iterable[Link]) -> dict[str, list[tuple[float, float]]]:
        """The reroutes of links going away, out of the table (kept by the undo command)."""
        return self.graph.take_reroutes(links)

    def _put_reroutes(self, taken: dict[str, list[tuple[float, float]]]) -> None:
        self.graph.put_reroutes(taken)

    def _on_graph_reroutes_changed(self) -> None:
        self.reroutes_changed.emit()

    # -- clipboard (app.ui.clipboard) ------------------------------------------------------
    def copy_nodes(self, node_ids: Iterable[str]) -> dict[str, Any]:
        """The nodes as a project dict (pastable into any project, or a text editor).
        Links from outside the copied nodes are kept apart, under "links_in", for
        a paste that keeps input links."""
        return clipboard.copy_nodes(self.graph, node_ids)

    def paste(self, data: dict[str, Any] | str, at: tuple[float, float] | Any = None, *,
              offset: tuple[float, float] = (40.0, 40.0), keep_input_links: bool = False,
              text: str = "Paste") -> list[str]:
        """Adds the nodes of a copied project dict (or its JSON text) with fresh ids.

        With ``at`` the pasted group's top-left corner goes there; otherwise the
        nodes land ``offset`` from where they were copied. Returns the new ids,
        which become the selection. Raises ``ProjectError`` for text that is not
        a Weft project.
        """
        pasted = clipboard.plan_paste(data, self.registry, self.graph.nodes,
                                      _xy(at) if at is not None else None, offset)
        if not pasted.nodes:
            return []
        self.undo_stack.beginMacro(text)
        try:
            for node, pos in pasted.nodes:
                self.undo_stack.push(C.AddNode(self, node, pos))
            for link in pasted.links:
                if self.graph.connection_problem(*_link_args(link)) is None:
                    self.undo_stack.push(C.AddLink(self, link))
            if keep_input_links:
                for link in pasted.links_in:
                    if link.source in self.graph.nodes and self.graph.connection_problem(*_link_args(link)) is None:
                        self.undo_stack.push(C.Connect(self, link))
        finally:
            self.undo_stack.endMacro()
        ids = pasted.ids
        self.select(ids)
        return ids

    def duplicate(self, node_ids: Iterable[str]) -> list[str]:
        ids = list(node_ids)
        if not ids:
            return []
        return self.paste(self.copy_nodes(ids), text="Duplicate", keep_input_links=True)

    # -- run feedback ------------------------------------------------------------------------
    # -- run feedback (app.ui.run_state) ---------------------------------------------------
    def node_status(self, node_id: str) -> NodeStatus:
        return self.run_state.node_status(node_id)

    def set_status(self, node_id: str, **fields: Any) -> None:
        self.run_state.set_status(node_id, **fields)

    def set_thumbnail(self, node_id: str, image: Any) -> None:
        self.run_state.set_thumbnail(node_id, image)

    def clear_status(self, node_ids: Iterable[str] | None = None) -> None:
        self.run_state.clear_status(node_ids)

    def check(self, targets: list[str] | None = None, *, place: RenderPlace | None = None) -> list[Problem]:
        """Validates the graph (the part ``targets`` need) as a run does and shows the problems on the nodes.

        ``place``: where the run reads and writes, so missing input files and an
        unwritable output folder are found too (nodes.validation.RenderPlace)."""
        self._check_targets = [t for t in targets if t in self.graph.nodes] if targets is not None else None
        self._check_place = place
        problems = validate(self.graph, self._check_targets, place=place)
        self._checked_for_run = bool(problems)
        self.set_problems(problems)
        return problems

    def check_as_you_go(self) -> list[Problem]:
        """The problems shown while editing, before any run: all but inputs not connected yet."""
        problems = [p for p in validate(self.graph) if p.code != "missing_input"]
        self.set_problems(problems)
        return problems

    def recheck(self) -> None:
        """After an edit: the run's check again once a run was refused, else the check as you go."""
        if self._checked_for_run:
            self.check(self._check_targets, place=self._check_place)
        else:
            self.check_as_you_go()

    def set_problems(self, problems: list[Problem]) -> None:
        table: dict[str, list[Problem]] = {}
        for p in problems:
            if p.node_id:
                table.setdefault(p.node_id, []).append(p)
        if table != self.problems:
            self.problems = table
            self.problems_changed.emit()

    # -- files ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        # Reroutes of links that are gone are not written (project_io.to_dict).
        return project_io.to_dict(self.graph, self.settings)

    def replace_project(self, project: project_io.Project) -> None:
        """Shows another project: empties this document's graph and refills it."""
        graph = self.graph
        self.select([])
        self.run_state.forget_all()
        self.problems.clear()
        graph.clear()
        src = project.graph
        graph.put_reroutes(src.reroutes)
        for node in src.nodes.values():
            graph.insert_node(node, src.positions.get(node.id))
        for link in src.links:
            graph.add_link(link)
        graph.set_backdrops(src.backdrops)
        self.settings = dict(project.settings)
        self.migration_notes = list(project.migration_notes)
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.origin = self._origin_dir = self._origin_name = None
        self._set_path(project.path)
        self.problems_changed.emit()
        self.reroutes_changed.emit()
        self._checked_for_run = False
        self._recheck.start()  # an opened project's own problems show before any run
        self.project_replaced.emit()

    def new(self) -> None:
        self.replace_project(project_io.Project(Graph(self.registry)))

    def load(self, path: str | Path) -> None:
        """Opens a .weft file (raises ProjectError, saying why it cannot be read)."""
        self._show(project_files.read_weft(path, self.registry))

    def load_copy(self, path: str | Path) -> None:
        """Opens a .weft as an untitled copy (an example): Save asks where, and
        renders never go next to the original."""
        self._show(project_files.read_weft(path, self.registry, as_copy=True))

    def open_file(self, path: str | Path, *, as_copy: bool = False) -> bool:
        """Opens the project a file holds, as a drop on the studio does: a .weft
        (an untitled copy with ``as_copy``), or the project a render carries
        (engines.media.provenance), as a new untitled project. False for a
        file without one (the caller makes a loader); ProjectError for one
        that cannot be read."""
        opened = project_files.read_file(path, self.registry, as_copy=as_copy)
        if opened is None:
            return False
        self._show(opened)
        return True

    holds_project = staticmethod(project_files.holds_project)

    def _show(self, opened: project_files.Opened) -> None:
        self.replace_project(opened.project)
        if opened.origin is not None:
            self._set_origin(opened.origin, opened.folder, opened.name)

    def _set_origin(self, origin: Path, folder: Path, name: str) -> None:
        self.origin, self._origin_dir, self._origin_name = origin, folder, name
        self.path_changed.emit()

    def load_dict(self, data: dict[str, Any], path: Path | None = None, *, dirty: bool = False) -> None:
        self.replace_project(project_files.read_dict(data, self.registry, path))
        if dirty:
            self.undo_stack.resetClean()  # a recovered project is unsaved work

    def save(self, path: str | Path | None = None) -> Path:
        target = project_files.save_target(path, self.path)
        self._keep_input_paths(target.resolve().parent)
        saved = project_files.write(self.graph, self.settings, target)
        self.undo_stack.setClean()
        self._set_path(saved)
        return saved

    def _keep_input_paths(self, folder: Path) -> None:
        """Saving into another folder than the one relative input paths start from
        (an example's copy saved in the artist's folder): they become absolute, so
        the saved project still finds its pictures and clips. One undoable step."""
        base = self.base_dir.resolve()
        if base == folder:
            return
        changes = project_files.absolute_input_paths(self.graph, base)
        if not changes:
            return
        self.undo_stack.beginMacro("Keep input paths")
        try:
            for node_id, name, value in changes:
                self.set_param(node_id, name, value)
        finally:
            self.undo_stack.endMacro()

    def _set_path(self, path: Path | None) -> None:
        if path != self.path:
            self.path = path
            self.path_changed.emit()


def _xy(pos: Any) -> tuple[float, float]:
    if pos is None:
        return (0.0, 0.0)
    if hasattr(pos, "x") and callable(pos.x):
        return (float(pos.x()), float(pos.y()))
    return (float(pos[0]), float(pos[1]))


def _close(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) < 0.01 and abs(a[1] - b[1]) < 0.01


def _link_args(link: Link) -> tuple[str, str, str, str]:
    return (link.source, link.source_socket, link.target, link.target_socket)


def _settings_for(node_type: Any, model: Any, params: dict[str, Any]) -> dict[str, Any]:
    """What else changes when a node gets ``model`` (ModelNode.settings_for); {} when nothing does."""
    settings_for = getattr(node_type, "settings_for", None)
    if settings_for is None or not isinstance(model, str):
        return {}
    try:
        return dict(settings_for(model, params))
    except Exception:  # an unknown model id: validation says so
        return {}
