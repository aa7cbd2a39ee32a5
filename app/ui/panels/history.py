"""The history of results: every run of the studio (and every job of ``weft batch``),
newest first, with a thumbnail, when it ran, how long it plays, how long it
took, and the parameters that differed from the run before it.

It reads ``app.history.History`` (one SQLite file, so it is all there after a
restart or a crash) and the batch queues, and polls them a few times a second
cheaply (``changed()``). Double-click an entry to play it; Restore graph puts
its graph back on the canvas (one undoable step); Compare shows two entries
A/B in the viewer; Contact sheet shows a run's variations side by side.
"""

from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QListView, QListWidget, QListWidgetItem, QPushButton,
    QStackedWidget, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from app.history import History, HistoryEntry, batch_entries, changes_text, param_changes
from app.ui import thumbnails
from app.ui.panels import palette
from app.ui.panels.queue import duration_text

ENTRY_ROLE = Qt.UserRole + 1
ICON_SIZE = QSize(96, 54)
SHEET_ICON = QSize(160, 90)
STATUS_WORDS = {"queued": "Queued", "running": "Running", "done": "Done", "failed": "Failed",
                "cancelled": "Cancelled", "interrupted": "Interrupted"}


class HistoryPanel(QWidget):
    play_requested = Signal(object)      # HistoryEntry
    restore_requested = Signal(object)   # HistoryEntry
    compare_requested = Signal(object, object)  # HistoryEntry A, HistoryEntry B
    pin_requested = Signal(object)       # HistoryEntry

    COLUMNS = ("Result", "When", "Plays", "Took", "Changed")

    def __init__(self, history: History, *, titles: Callable[[str], str] | None = None,
                 read_batches: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        self.history = history
        self.read_batches = read_batches
        # Node id -> the name the artist knows it by (the open document's titles).
        self.titles = titles or (lambda node_id: node_id)
        self.entries: list[HistoryEntry] = []
        self._by_id: dict[str, HistoryEntry] = {}
        self._icons: dict[str, QIcon] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        self.stack = QStackedWidget()
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(self.COLUMNS))
        self.tree.setHeaderLabels(list(self.COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setIconSize(ICON_SIZE)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectRows)
        header = self.tree.header()
        header.setStretchLastSection(True)
        self.tree.setColumnWidth(0, 300)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeToContents)
        self.tree.itemDoubleClicked.connect(lambda item, col: self._play(item))
        self.tree.itemSelectionChanged.connect(self._refresh_buttons)
        self.stack.addWidget(self.tree)
        self.sheet = QListWidget()
        self.sheet.setViewMode(QListView.IconMode)
        self.sheet.setIconSize(SHEET_ICON)
        self.sheet.setResizeMode(QListView.Adjust)
        self.sheet.setMovement(QListView.Static)
        self.sheet.setSpacing(6)
        self.sheet.setWordWrap(True)
        self.sheet.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.sheet.itemDoubleClicked.connect(self._play)
        self.sheet.itemSelectionChanged.connect(self._refresh_buttons)
        self.stack.addWidget(self.sheet)
        layout.addWidget(self.stack, 1)
        self.empty_label = QLabel("No results yet. Every run lands here, with what changed since the one before; "
                                  "double-click one to play it.")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignCenter)
        self.empty_label.setStyleSheet(f"color: {palette.DIM_COLOR}; padding: 12px")
        layout.addWidget(self.empty_label, 1)
        bar = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setStyleSheet(f"color: {palette.DIM_COLOR}")
        bar.addWidget(self.summary, 1)
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Show this result in the viewer (or double-click it); the viewer stays on it")
        self.play_button.clicked.connect(lambda: self._play(self._current_item()))
        self.restore_button = QPushButton("Restore graph")
        self.restore_button.setToolTip("Put this run's graph back on the canvas (undo with Ctrl+Z)")
        self.restore_button.clicked.connect(self._restore)
        self.compare_button = QPushButton("Compare A/B")
        self.compare_button.setToolTip("Select two results, then compare them in the viewer (wipe or side by side)")
        self.compare_button.clicked.connect(self._compare)
        self.sheet_button = QPushButton("Contact sheet")
        self.sheet_button.setCheckable(True)
        self.sheet_button.setToolTip("The selected run's variations (or sweep) side by side")
        self.sheet_button.toggled.connect(self.show_contact_sheet)
        for button in (self.play_button, self.restore_button, self.compare_button, self.sheet_button):
            bar.addWidget(button)
        layout.addLayout(bar)
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self.poll)
        self._timer.start()
        self.reload()

    # -- reading ------------------------------------------------------------------------------------
    def poll(self) -> None:
        if self.history.changed():
            self.reload()

    def reload(self) -> None:
        entries = self.history.entries()
        if self.read_batches:
            entries = sorted(entries + batch_entries(), key=lambda e: e.queued_at)
        selected = set(self.selected_ids())
        self.entries = entries
        self._by_id = {e.id: e for e in entries}
        self.tree.clear()
        previous: dict[str, HistoryEntry] = {}
        rows = []
        for entry in entries:
            prev = previous.get(entry.project_name)
            changes = param_changes(prev.project if prev else None, entry.project, self._project_titles(entry))
            previous[entry.project_name] = entry
            rows.append((entry, changes))
        for entry, changes in reversed(rows):  # newest first
            item = QTreeWidgetItem(self._texts(entry, changes))
            item.setData(0, ENTRY_ROLE, entry.id)
            item.setIcon(0, self._icon(entry))
            item.setToolTip(0, self._tooltip(entry, changes))
            item.setToolTip(4, changes_text(changes, limit=20) if changes else "")
            if entry.status in ("failed", "cancelled", "interrupted"):
                item.setForeground(0, QColor(palette.STATUS_COLORS.get(entry.status, "#e0a24f")))
            self.tree.addTopLevelItem(item)
            if entry.id in selected:
                item.setSelected(True)
        self.changes = {entry.id: changes for entry, changes in rows}
        if self.sheet_button.isChecked():
            self._fill_sheet()
        has = bool(entries)
        self.empty_label.setVisible(not has)
        self.stack.setVisible(has)
        done = sum(1 for e in entries if e.status == "done")
        self.summary.setText(f"{len(entries)} runs \u00b7 {done} done" if entries else "")
        self._refresh_buttons()

    def _project_titles(self, entry: HistoryEntry) -> dict[str, str]:
        out = {}
        for node_id, node in entry.project.get("nodes", {}).items():
            out[node_id] = node.get("title") or self._type_title(node.get("type", "")) or node_id
        return out

    @staticmethod
    def _type_title(type_id: str) -> str:
        try:
            from nodes.registry import default_registry
            return default_registry().get(type_id).title
        except Exception:
            return type_id

    def _texts(self, entry: HistoryEntry, changes) -> list[str]:
        status = STATUS_WORDS.get(entry.status, entry.status)
        first = entry.title
        if entry.main_node:  # whose picture the thumbnail is
            shows = self._project_titles(entry).get(entry.main_node, entry.main_node)
            if shows not in first:
                first += f" \u2014 {shows}"
        if entry.status != "done":
            first += f"  [{status}]"
        when = time.strftime("%d %b %H:%M:%S", time.localtime(entry.queued_at))
        plays = duration_text(entry.duration) if entry.duration else ""
        took = duration_text(entry.seconds) if entry.seconds is not None else ""
        return [first, when, plays, took, changes_text(changes) if changes else ""]

    def _tooltip(self, entry: HistoryEntry, changes) -> str:
        lines = [entry.title, f"{STATUS_WORDS.get(entry.status, entry.status)} \u00b7 models: {entry.models}"]
        if entry.source == "batch":
            lines.append(f"weft batch in {entry.batch_folder}")
        if entry.detail:
            lines.append(entry.detail)
        if changes:
            lines.append("Changed: " + changes_text(changes, limit=20))
        for path in entry.outputs[:4]:
            lines.append(path)
        return "\n".join(lines)

    def _icon(self, entry: HistoryEntry) -> QIcon:
        icon = self._icons.get(entry.id)
        if icon is not None and entry.thumbnail:
            return icon
        image = QImage(entry.thumbnail) if entry.thumbnail else QImage()
        if image.isNull():
            word = {"done": "no picture", "running": "rendering\u2026", "queued": "queued"}.get(
                entry.status, STATUS_WORDS.get(entry.status, entry.status).lower())
            if entry.source == "batch" and entry.status == "done":
                word = "batch: files"
            image = thumbnails.placeholder(word, SHEET_ICON)
        icon = QIcon(QPixmap.fromImage(image))
        if entry.thumbnail:
            self._icons[entry.id] = icon
        return icon

    # -- the contact sheet ------------------------------------------------------------------------------
    def show_contact_sheet(self, on: bool = True) -> None:
        if self.sheet_button.isChecked() != on:
            self.sheet_button.setChecked(on)
            return
        if on:
            self._fill_sheet()
        self.stack.setCurrentWidget(self.sheet if on else self.tree)
        self._refresh_buttons()

    def sheet_entries(self) -> list[HistoryEntry]:
        """The entries the contact sheet shows: the selected run's group (its variations,
        or the batch's jobs), or the newest group."""
        ids = self.selected_ids()
        anchor = self._by_id.get(ids[0]) if ids else None
        if anchor is None:
            anchor = next((e for e in reversed(self.entries) if e.group_id), None)
        if anchor is None or not anchor.group_id:
            return [anchor] if anchor else []
        return [e for e in self.entries if e.group_id == anchor.group_id]

    def _fill_sheet(self) -> None:
        self.sheet.clear()
        for entry in self.sheet_entries():
            changes = self.changes.get(entry.id, [])
            caption = changes_text(changes, limit=2) if changes else entry.title
            item = QListWidgetItem(self._icon(entry), caption)
            item.setData(ENTRY_ROLE, entry.id)
            item.setToolTip(self._tooltip(entry, changes))
            item.setSizeHint(QSize(SHEET_ICON.width() + 16, SHEET_ICON.height() + 44))
            self.sheet.addItem(item)

    # -- selection and actions --------------------------------------------------------------------------
    def entry(self, entry_id: str) -> HistoryEntry | None:
        return self._by_id.get(entry_id)

    def selected_ids(self) -> list[str]:
        widget = self.sheet if self.stack.currentWidget() is self.sheet else self.tree
        return [item.data(0, ENTRY_ROLE) if isinstance(item, QTreeWidgetItem) else item.data(ENTRY_ROLE)
                for item in widget.selectedItems()]

    def select(self, entry_ids: list[str]) -> None:
        self.tree.clearSelection()
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, ENTRY_ROLE) in entry_ids:
                # Current without touching the selection (it would select this one only).
                self.tree.setCurrentItem(item, 0, QItemSelectionModel.NoUpdate)
                item.setSelected(True)

    def item_for(self, entry_id: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, ENTRY_ROLE) == entry_id:
                return item
        return None

    def _current_item(self):
        widget = self.sheet if self.stack.currentWidget() is self.sheet else self.tree
        items = widget.selectedItems()
        return items[0] if items else None

    def _entry_of(self, item) -> HistoryEntry | None:
        if item is None:
            return None
        entry_id = item.data(0, ENTRY_ROLE) if isinstance(item, QTreeWidgetItem) else item.data(ENTRY_ROLE)
        return self._by_id.get(entry_id)

    def _play(self, item) -> None:
        entry = self._entry_of(item)
        if entry is not None:
            self.play_requested.emit(entry)

    def _restore(self) -> None:
        entry = self._entry_of(self._current_item())
        if entry is not None:
            self.restore_requested.emit(entry)

    def _compare(self) -> None:
        ids = self.selected_ids()
        if len(ids) >= 2:
            a, b = self._by_id.get(ids[-1]), self._by_id.get(ids[0])
            # Oldest as A, newest as B, whatever the order they were clicked in.
            if a and b and a.queued_at > b.queued_at:
                a, b = b, a
            if a and b:
                self.compare_requested.emit(a, b)

    def _refresh_buttons(self) -> None:
        ids = self.selected_ids()
        entries = [self._by_id[i] for i in ids if i in self._by_id]
        playable = [e for e in entries if e.playable]
        self.play_button.setEnabled(bool(playable))
        self.restore_button.setEnabled(len(entries) == 1)
        self.compare_button.setEnabled(len(playable) >= 2)


__all__ = ["HistoryPanel"]
