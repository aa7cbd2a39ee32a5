"""The inspector: the parameters of the selected node, with an editor for each.

It reads the graph and listens to its signals; it writes only through
``document.set_param`` and ``document.set_title`` (undoable commands), so an
undo shows up here the same way as an edit made anywhere else. Fields show
model changes with ``set_value`` (which emits nothing), which is what keeps
the two from echoing each other.

Under each field: its help text, then anything that needs the artist's
attention: a typed value that was clamped, a cross-parameter check of the
node type ("832 is not a multiple of 16"), or an anchor in a prompt that
names no connected reference.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QScrollArea, QToolButton, QVBoxLayout,
    QWidget,
)

from app.ui.panels import palette
from app.ui.panels.anchors import prompt_problems, prompt_references
from app.ui.panels.fields import Field, PromptField, SeedField, field_for
from nodes.definition import Param

_MARK = "\u26a0 "
_LEVEL_COLOR = {"warning": palette.WARN_COLOR, "error": palette.ERROR_COLOR, "info": palette.DIM_COLOR}


@dataclass
class ParamRow:
    """One parameter's widgets and what is said under it."""

    param: Param
    label: QLabel
    field: Field
    help: QLabel | None
    note: QLabel
    feedback: tuple[str, str] = ("", "")  # what the field said after the last edit
    problems: list[tuple[str, str]] = dc_field(default_factory=list)  # (message, level)
    inactive: str = ""  # why the other values make this parameter irrelevant now

    def set_inactive(self, reason: str) -> None:
        """Dims the row and says why, as Blender does: still editable, so a width can be
        typed before switching the aspect to custom."""
        if reason == self.inactive:
            return
        self.inactive = reason
        name = html.escape(self.param.display_name)
        dot = f"<span style='color:{self.param.type.color}'>\u25cf</span>"
        self.label.setText(f"{dot} <span style='color:{palette.DIM_COLOR}'>{name}</span>" if reason
                           else f"{dot} {name}")
        self.show()

    def messages(self) -> list[tuple[str, str]]:
        out = []
        if self.inactive:
            out.append((f"Not used now: {self.inactive}.", "info"))
        if self.feedback[0]:
            out.append(self.feedback)
        out.extend(self.problems)
        return out

    def show(self) -> None:
        lines = self.messages()
        if not lines:
            self.note.clear()
            self.note.hide()
            return
        self.note.setText("<br>".join(
            f"<span style='color:{_LEVEL_COLOR.get(level, palette.WARN_COLOR)}'>"
            f"{_MARK if level in ('warning', 'error') else ''}{html.escape(text)}</span>"
            for text, level in lines))
        self.note.show()


def _alive(method):
    """Skips model signals that arrive after Qt deleted the panel."""

    def guarded(self, *args):
        if shiboken6.isValid(self):
            return method(self, *args)
        return None

    guarded.__name__ = method.__name__
    return guarded


class InspectorPanel(QWidget):
    """Parameters of the selected node. ``document`` is an ``app.ui.document.Document``."""

    seed_lock_changed = Signal(str, str, bool)  # node id, parameter, locked

    def __init__(self, document, parent: QWidget | None = None, *, models_profile: str = "default"):
        super().__init__(parent)
        self.document = document
        self.graph = document.graph
        self.models_profile = models_profile
        self.node_id: str | None = None
        self.rows: dict[str, ParamRow] = {}
        self._seed_locks: set[tuple[str, str]] = set()
        self._content: QWidget | None = None
        self.sockets_label: QLabel | None = None
        self._build()
        self._connect_model()
        self.show_node(None)
        selected = document.selected_nodes()
        if selected:
            self._on_selection(selected)

    # -- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        self.header = QFrame()
        self.header.setObjectName("inspectorHeader")
        header = QVBoxLayout(self.header)
        header.setContentsMargins(10, 8, 10, 8)
        header.setSpacing(4)
        top = QHBoxLayout()
        self.type_label = QLabel()
        font = self.type_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.type_label.setFont(font)
        top.addWidget(self.type_label, 1)
        self.category_label = QLabel()
        top.addWidget(self.category_label)
        header.addLayout(top)
        name_row = QHBoxLayout()
        name_row.setSpacing(6)
        name_label = QLabel("Name")
        name_row.addWidget(name_label)
        self.title_edit = QLineEdit()
        self.title_edit.setToolTip("The node's name on the canvas and in messages (F2 on the canvas). "
                                   "Empty: the node type's name.")
        self.title_edit.editingFinished.connect(self._title_edited)
        name_row.addWidget(self.title_edit, 1)
        self.id_label = QLabel()
        self.id_label.setStyleSheet(f"color: {palette.DIM_COLOR}")
        self.id_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        name_row.addWidget(self.id_label)
        header.addLayout(name_row)
        self.selection_note = QLabel()
        self.selection_note.setStyleSheet(f"color: {palette.WARN_COLOR}")
        header.addWidget(self.selection_note)
        outer.addWidget(self.header)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        outer.addWidget(self.scroll, 1)

        self.empty_label = QLabel("Select a node on the canvas to see and change its settings here.")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignCenter)
        self.empty_label.setStyleSheet(f"color: {palette.DIM_COLOR}; padding: 24px")
        outer.addWidget(self.empty_label, 1)

    def _connect_model(self) -> None:
        g = self.graph
        g.param_changed.connect(self._on_param_changed)
        g.node_changed.connect(self._on_node_changed)
        g.node_removed.connect(self._on_node_removed)
        g.link_added.connect(self._on_links_changed)
        g.link_removed.connect(self._on_links_changed)
        self.document.selection_changed.connect(self._on_selection)
        for name in ("problems_changed", "project_replaced"):
            signal = getattr(self.document, name, None)
            if signal is not None:
                signal.connect(self._on_document_changed)
        if hasattr(self.document, "seed_control_changed"):
            self.document.seed_control_changed.connect(self._on_seed_control_changed)
        self.destroyed.connect(self._disconnect_model_later)

    def _disconnect_model_later(self, *_: Any) -> None:
        # psygnal holds weak references; this just makes the end explicit.
        for sig, slot in ((self.graph.param_changed, self._on_param_changed),
                          (self.graph.node_changed, self._on_node_changed),
                          (self.graph.node_removed, self._on_node_removed),
                          (self.graph.link_added, self._on_links_changed),
                          (self.graph.link_removed, self._on_links_changed)):
            try:
                sig.disconnect(slot)
            except Exception:
                pass

    # -- what is shown ------------------------------------------------------------------------------
    def show_node(self, node_id: str | None) -> None:
        """Shows one node's parameters (None: the empty state)."""
        if node_id is not None and node_id not in self.graph.nodes:
            node_id = None
        self.node_id = node_id
        self.rows = {}
        self.sockets_label = None
        self.summary_label = None
        if self._content is not None:
            self.scroll.takeWidget()
            self._content.deleteLater()
            self._content = None
        if node_id is None:
            self.header.hide()
            self.scroll.hide()
            self.empty_label.show()
            return
        self.empty_label.hide()
        self.header.show()
        self.scroll.show()
        node = self.graph.nodes[node_id]
        try:
            node_type = self.graph.node_type(node_id)
        except Exception as exc:  # an unknown type from a newer Weft: say so, edit nothing
            self._show_header(node, None)
            self._content = self._message_page(f"Weft does not know this node's type: {exc}. "
                                               "Its settings are kept as they are in the file.")
            self.scroll.setWidget(self._content)
            return
        self._show_header(node, node_type)
        self._content = self._build_content(node, node_type)
        self.scroll.setWidget(self._content)
        self._refresh_inactive()
        self._refresh_problems()

    def _show_header(self, node, node_type) -> None:
        category = getattr(node_type, "category", "Misc") if node_type else "Misc"
        colour = palette.category_color(category)
        self.header.setStyleSheet(
            f"QFrame#inspectorHeader {{ border-left: 5px solid {colour.name()};"
            f" background: {colour.darker(260).name()}; }}")
        self.type_label.setText(node_type.title if node_type else node.type_id)
        self.type_label.setToolTip(getattr(node_type, "description", "") if node_type else "")
        self.category_label.setText(category)
        self.category_label.setStyleSheet(
            f"color: white; background: {colour.name()}; border-radius: 3px; padding: 1px 6px")
        self.title_edit.blockSignals(True)
        self.title_edit.setText(node.title)
        self.title_edit.setPlaceholderText(node_type.title if node_type else node.type_id)
        self.title_edit.blockSignals(False)
        self.id_label.setText(node.id)
        self.id_label.setToolTip(f"Node id (stable; used by `weft render --set {node.id}.PARAM=VALUE`)")

    def _message_page(self, text: str) -> QWidget:
        page = QLabel(text)
        page.setWordWrap(True)
        page.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        page.setStyleSheet("padding: 10px")
        return page

    def _build_content(self, node, node_type) -> QWidget:
        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(10, 8, 10, 10)
        column.setSpacing(8)
        if node_type.description:
            description = QLabel(node_type.description)
            description.setWordWrap(True)
            description.setStyleSheet(f"color: {palette.DIM_COLOR}")
            column.addWidget(description)
        self.sockets_label = QLabel()
        self.sockets_label.setWordWrap(True)
        self.sockets_label.setTextFormat(Qt.RichText)
        column.addWidget(self.sockets_label)
        self._show_sockets()
        # What the settings come to (the size an aspect preset gives), kept current as they change.
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.RichText)
        self.summary_label.hide()
        column.addWidget(self.summary_label)

        basic = [p for p in node_type.params.values() if not p.advanced]
        advanced = [p for p in node_type.params.values() if p.advanced]
        if not node_type.params:
            none = QLabel("This node has no settings.")
            none.setStyleSheet(f"color: {palette.DIM_COLOR}")
            column.addWidget(none)
        column.addWidget(self._param_grid(node, basic))
        if advanced:
            toggle = QToolButton()
            toggle.setText("Advanced")
            toggle.setCheckable(True)
            toggle.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
            toggle.setArrowType(Qt.RightArrow)
            toggle.setStyleSheet("QToolButton { border: none; font-weight: bold; }")
            grid = self._param_grid(node, advanced)
            grid.setVisible(False)

            def flip(on: bool, grid=grid, toggle=toggle) -> None:
                grid.setVisible(on)
                toggle.setArrowType(Qt.DownArrow if on else Qt.RightArrow)

            toggle.toggled.connect(flip)
            column.addWidget(toggle)
            column.addWidget(grid)
        column.addStretch(1)
        return content

    def _param_grid(self, node, params: list[Param]) -> QWidget:
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(1, 1)
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.88))
        # One label width for the grid: the longest name, within limits; longer names wrap.
        metrics = self.fontMetrics()
        label_width = min(110, max([64] + [metrics.horizontalAdvance(f"\u25cf {p.display_name}") + 6
                                           for p in params]))
        grid.setColumnMinimumWidth(0, label_width)
        r = 0
        for param in params:
            label = QLabel(f"<span style='color:{param.type.color}'>\u25cf</span> {html.escape(param.display_name)}")
            label.setToolTip(param.help)
            label.setAlignment(Qt.AlignLeft | Qt.AlignTop)
            label.setWordWrap(True)
            label.setFixedWidth(label_width)
            field = field_for(param, base_dir=self._base_dir, models_profile=self.models_profile)
            if isinstance(field, SeedField):
                field.set_locked((node.id, param.name) in self._seed_locks)
                field.lock_changed.connect(lambda on, name=param.name: self._seed_lock_toggled(name, on))
                if hasattr(self.document, "seed_control"):
                    field.set_after_run(self.document.seed_control(node.id, param.name))
                field.after_run_changed.connect(
                    lambda mode, name=param.name, node_id=node.id: self.document.set_seed_control(node_id, name, mode))
            help_label = None
            if r:
                grid.setRowMinimumHeight(r, 6)  # air between parameters
                r += 1
            grid.addWidget(label, r, 0, Qt.AlignTop)
            grid.addWidget(field, r, 1)
            r += 1
            if param.help:
                help_label = QLabel(param.help)
                help_label.setWordWrap(True)
                help_label.setFont(small)
                help_label.setStyleSheet(f"color: {palette.DIM_COLOR}")
                grid.addWidget(help_label, r, 1)
                r += 1
            note = QLabel()
            note.setWordWrap(True)
            note.setFont(small)
            note.setTextFormat(Qt.RichText)
            note.setTextInteractionFlags(Qt.TextSelectableByMouse)
            note.hide()
            grid.addWidget(note, r, 1)
            r += 1
            row = ParamRow(param, label, field, help_label, note)
            self.rows[param.name] = row
            # Bound to this node: a field that commits while the panel moves on to
            # another node (focus leaving a prompt) must not edit the new one.
            field.edited.connect(lambda value, name=param.name, node_id=node.id:
                                 self._field_edited(name, value, node_id))
            field.feedback.connect(lambda text, level, name=param.name, node_id=node.id:
                                   self._field_feedback(name, text, level, node_id))
            # Shown once the row listens, so what the field says about the value
            # (a file that is not there) appears under it.
            field.set_value(node.params.get(param.name, param.default))
        return box

    def _show_sockets(self) -> None:
        if self.node_id is None or self.sockets_label is None or not shiboken6.isValid(self.sockets_label):
            return
        try:
            node_type = self.graph.node_type(self.node_id)
        except Exception:
            return
        parts = []
        for inp in node_type.inputs.values():
            link = self.graph.link_into(self.node_id, inp.name)
            dot = f"<span style='color:{inp.type.color}'>\u25cf</span>"
            if link is not None:
                source = self.graph.nodes.get(link.source)
                name = self._node_name(link.source) if source is not None else link.source
                state = f"\u2190 {html.escape(name)}"
            elif inp.required:
                state = f"<span style='color:{palette.WARN_COLOR}'>not connected (needed)</span>"
            else:
                state = f"<span style='color:{palette.DIM_COLOR}'>not connected</span>"
            parts.append(f"{dot} <b>{html.escape(inp.display_name)}</b> {state}")
        outs = " ".join(f"<span style='color:{o.type.color}'>\u25cf</span> {html.escape(o.display_name)} "
                        f"<span style='color:{palette.DIM_COLOR}'>({o.type})</span>"
                        for o in node_type.outputs.values())
        text = ""
        if parts:
            text += "Inputs:<br>" + "<br>".join(parts)
        if outs:
            text += ("<br>" if text else "") + "Gives: " + outs
        self.sockets_label.setText(text)
        self.sockets_label.setVisible(bool(text))

    def _node_name(self, node_id: str) -> str:
        title = getattr(self.document, "node_title", None)
        if callable(title):
            return title(node_id)
        node = self.graph.nodes[node_id]
        if node.title:
            return node.title
        try:
            return self.graph.registry.get(node.type_id).title
        except Exception:
            return node.type_id

    def _base_dir(self) -> Path | None:
        path = getattr(self.document, "path", None)
        return Path(path).parent if path else None

    # -- public helpers ------------------------------------------------------------------------------
    def field(self, name: str) -> Field:
        return self.rows[name].field

    def messages(self, name: str) -> list[str]:
        """What is said under a parameter's field now (clamps, checks, anchors)."""
        return [text for text, _ in self.rows[name].messages()]

    def focus_title(self) -> None:
        self.title_edit.setFocus(Qt.OtherFocusReason)
        self.title_edit.selectAll()

    def seed_locked(self, node_id: str, name: str = "seed") -> bool:
        return (node_id, name) in self._seed_locks

    def set_seed_locked(self, node_id: str, name: str, locked: bool) -> None:
        if locked:
            self._seed_locks.add((node_id, name))
        else:
            self._seed_locks.discard((node_id, name))
        row = self.rows.get(name)
        if node_id == self.node_id and row is not None and isinstance(row.field, SeedField):
            row.field.set_locked(locked)

    def set_models_profile(self, profile: str) -> None:
        if profile != self.models_profile:
            self.models_profile = profile
            self.show_node(self.node_id)

    # -- edits (to the document only) ------------------------------------------------------------------
    def _field_edited(self, name: str, value: Any, node_id: str | None = None) -> None:
        node_id = node_id or self.node_id
        if node_id is None or node_id not in self.graph.nodes:
            return
        try:
            self.document.set_param(node_id, name, value)
        except ValueError as exc:  # GraphError / ParamError: the model refused it
            row = self.rows.get(name) if node_id == self.node_id else None
            if row is not None:
                row.feedback = (_short(str(exc)), "error")
                current = self.graph.nodes[node_id].params.get(name, row.param.default)
                row.field.set_value(current)
                row.show()

    def _field_feedback(self, name: str, text: str, level: str, node_id: str | None = None) -> None:
        if node_id is not None and node_id != self.node_id:
            return
        row = self.rows.get(name)
        if row is not None:
            row.feedback = (text, level or "info")
            row.show()

    def _title_edited(self) -> None:
        if self.node_id is None:
            return
        node = self.graph.nodes.get(self.node_id)
        text = self.title_edit.text()
        if node is not None and text.strip() != node.title:
            self.document.set_title(self.node_id, text)
            # The document may normalise it (a type's own name means "no title").
            self.title_edit.setText(self.graph.nodes[self.node_id].title)

    @_alive
    def _on_seed_control_changed(self, node_id: str) -> None:
        if node_id != self.node_id:
            return
        for name, row in self.rows.items():
            if isinstance(row.field, SeedField):
                row.field.set_after_run(self.document.seed_control(node_id, name))

    def _seed_lock_toggled(self, name: str, locked: bool) -> None:
        if self.node_id is None:
            return
        if locked:
            self._seed_locks.add((self.node_id, name))
        else:
            self._seed_locks.discard((self.node_id, name))
        self.seed_lock_changed.emit(self.node_id, name, locked)

    # -- model signals -----------------------------------------------------------------------------------
    @_alive
    def _on_selection(self, node_ids: list) -> None:
        ids = [n for n in node_ids if n in self.graph.nodes]
        shown = ids[-1] if ids else None
        if shown != self.node_id:
            self._commit_pending()
            self.show_node(shown)
        if len(ids) > 1 and shown is not None:
            self.selection_note.setText(f"{len(ids)} nodes selected: showing {self._node_name(shown)}")
            self.selection_note.show()
        else:
            self.selection_note.hide()

    def _commit_pending(self) -> None:
        for row in self.rows.values():
            if isinstance(row.field, PromptField):
                row.field.commit()

    @_alive
    def _on_param_changed(self, node_id: str, name: str, value: Any) -> None:
        if node_id == self.node_id:
            row = self.rows.get(name)
            if row is not None:
                row.field.set_value(value)
            self._refresh_inactive()
            self._refresh_problems()
        elif self.node_id is not None and self._is_neighbour(node_id):
            self._refresh_problems()  # a reference's label may have changed

    @_alive
    def _on_node_changed(self, node_id: str, what: str) -> None:
        if self.node_id is None:
            return
        if node_id == self.node_id and what == "title":
            node = self.graph.nodes[node_id]
            if self.title_edit.text() != node.title and not self.title_edit.hasFocus():
                self.title_edit.setText(node.title)
        if what == "title":
            self._show_sockets()
            self._refresh_problems()

    @_alive
    def _on_node_removed(self, node) -> None:
        if node.id == self.node_id:
            self.show_node(None)
        elif self.node_id is not None:
            self._show_sockets()

    @_alive
    def _on_links_changed(self, link) -> None:
        if self.node_id is None:
            return
        self._show_sockets()
        self._refresh_problems()

    @_alive
    def _on_document_changed(self, *_: Any) -> None:
        if self.node_id is not None and self.node_id not in self.graph.nodes:
            self.show_node(None)
        else:
            self._refresh_problems()

    def _is_neighbour(self, node_id: str) -> bool:
        return any(node_id in (link.source, link.target) for link in self.graph.links
                   if self.node_id in (link.source, link.target))

    # -- what the values silence and what they come to -------------------------------------------------
    def _refresh_inactive(self) -> None:
        if self.node_id is None or self.node_id not in self.graph.nodes:
            return
        node_type = self.graph.node_type(self.node_id)
        values = {**node_type.default_params(), **self.graph.nodes[self.node_id].params}
        try:
            inactive = node_type.inactive_params(values)
            summary = node_type.summary(values)
        except Exception:  # a value being typed must not break the panel; validation reports it
            inactive, summary = {}, []
        for name, row in self.rows.items():
            row.set_inactive(inactive.get(name, ""))
        label = getattr(self, "summary_label", None)
        if label is not None and shiboken6.isValid(label):
            label.setText("Makes: " + " · ".join(f"{html.escape(k)} <b>{html.escape(v)}</b>"
                                                  for k, v in summary))
            label.setVisible(bool(summary))

    def inactive_reason(self, name: str) -> str:
        """Why a parameter is not used with the current values ("" when it is; for tests)."""
        row = self.rows.get(name)
        return row.inactive if row is not None else ""

    # -- what needs attention ---------------------------------------------------------------------------
    def _refresh_problems(self) -> None:
        if self.node_id is None or self.node_id not in self.graph.nodes:
            return
        node = self.graph.nodes[self.node_id]
        found: dict[str, list[tuple[str, str]]] = {name: [] for name in self.rows}
        try:
            checks = self.graph.node_type(self.node_id).check(dict(node.params))
        except Exception:
            checks = []
        for name, message in checks:
            if name in found:
                found[name].append((message, "warning"))
        for problem in (getattr(self.document, "problems", {}) or {}).get(self.node_id, []):
            where = getattr(problem, "where", "")
            for name in found:
                if where == f"parameter '{name}'":
                    text = (problem.message, "error")
                    if text not in found[name] and (problem.message, "warning") not in found[name]:
                        found[name].append(text)
        for name, row in self.rows.items():
            if isinstance(row.field, PromptField):
                refs = prompt_references(self.graph, self.node_id, name)
                row.field.set_references(refs)
                if refs is not None:
                    text = node.params.get(name, "") or ""
                    for problem in prompt_problems(text, refs):
                        # Validation may have said the same (the render's own words) already.
                        if not any(problem.message == shown for shown, _ in found[name]):
                            found[name].append((problem.message, "warning"))
        for name, row in self.rows.items():
            if found[name] != row.problems:
                row.problems = found[name]
                row.show()

    def anchor_problems(self, name: str = "prompt") -> list[str]:
        """The anchor problems shown under a prompt field (for tests and tooltips)."""
        if self.node_id is None:
            return []
        refs = prompt_references(self.graph, self.node_id, name)
        if refs is None:
            return []
        return [p.message for p in prompt_problems(self.graph.nodes[self.node_id].params.get(name, "") or "", refs)]


def _short(message: str) -> str:
    """A model refusal without the node's name, which the inspector already shows."""
    if ": parameter " in message:
        message = message.split(": parameter ", 1)[1]
        if ": " in message:
            message = message.split(": ", 1)[1]
    return message


__all__ = ["InspectorPanel", "ParamRow"]
