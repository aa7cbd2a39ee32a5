"""The add-node search: Tab (or Shift+A, or a double-click) and start typing.

Ranked by nodes/search.py (the search the library and Find node use too) over
a node type's title, id, tags and category; what the artist used recently
comes first. Enter adds the highlighted node where the cursor was.
When a link is dropped on empty canvas, the list holds only the node types
that can take it.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.ui import theme
from nodes.definition import NodeType
from nodes.search import Preference, fields_score, rank

TypeFilter = Callable[[type[NodeType]], bool]


_CHIPS: dict[str, QIcon] = {}


def _chip(category: str) -> QIcon:
    """A small dot in the category's colour (the node header colour)."""
    icon = _CHIPS.get(category)
    if icon is None:
        pixmap = QPixmap(12, 12)
        pixmap.fill(Qt.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(Qt.NoPen)
        painter.setBrush(theme.category_color(category))
        painter.drawEllipse(1, 1, 10, 10)
        painter.end()
        icon = _CHIPS[category] = QIcon(pixmap)
    return icon


class AddNodePopup(QFrame):
    """A small search box with a list. ``chosen`` gives the picked type id."""

    chosen = Signal(str)
    dismissed = Signal()

    def __init__(self, registry, parent: QWidget | None = None):
        super().__init__(parent, Qt.Popup | Qt.FramelessWindowHint)
        self.setObjectName("addNodePopup")
        self.registry = registry
        self.recent: list[str] = []
        self._filter: TypeFilter | None = None
        self._prefer: Preference | None = None
        self._picked = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        self.caption = QLabel(self)
        self.caption.setStyleSheet("color: #9aa0a6;")
        self.edit = QLineEdit(self)
        self.edit.setObjectName("addNodeSearch")
        self.edit.setPlaceholderText("Search: name, tag or category")
        self.edit.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setObjectName("addNodeList")
        self.list.setUniformItemSizes(True)
        layout.addWidget(self.caption)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        self.resize(360, 380)
        self.edit.textChanged.connect(self._refresh)
        self.edit.installEventFilter(self)
        self.list.itemActivated.connect(self._activate)
        self.list.itemClicked.connect(self._activate)

    def open_at(self, global_pos: QPoint, *, type_filter: TypeFilter | None = None, caption: str = "",
                recent: list[str] | None = None, prefer: Preference | None = None) -> None:
        self._filter = type_filter
        self._prefer = prefer
        self._picked = False
        self.recent = list(recent or [])
        self.caption.setText(caption)
        self.caption.setVisible(bool(caption))
        self.edit.blockSignals(True)
        self.edit.clear()
        self.edit.blockSignals(False)
        self._refresh("")
        self.move(global_pos - QPoint(20, 20))
        self.show()
        self.raise_()
        self.activateWindow()
        self.edit.setFocus(Qt.PopupFocusReason)

    def candidates(self) -> list[type[NodeType]]:
        return [t for t in self.registry if self._filter is None or self._filter(t)]

    def _refresh(self, text: str | None = None) -> None:
        query = self.edit.text() if text is None else text
        self.list.clear()
        for t in rank(self.candidates(), query, self.recent, self._prefer):
            item = QListWidgetItem(f"{t.title}    ·  {t.category}")
            item.setData(Qt.UserRole, t.type_id)
            ins = ", ".join(f"{i.type}" for i in t.inputs.values()) or "—"
            outs = ", ".join(f"{o.type}" for o in t.outputs.values()) or "—"
            item.setToolTip(f"<b>{t.title}</b> ({t.type_id})<br>{t.description}<br><i>{ins} → {outs}</i>")
            item.setForeground(QColor("#e6e6e6"))
            item.setIcon(_chip(t.category))
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def visible_type_ids(self) -> list[str]:
        return [self.list.item(i).data(Qt.UserRole) for i in range(self.list.count())]

    def eventFilter(self, obj, event) -> bool:
        if obj is self.edit and event.type() == QEvent.KeyPress:
            key = event.key()
            if key in (Qt.Key_Down, Qt.Key_Up, Qt.Key_PageDown, Qt.Key_PageUp):
                self.list.keyPressEvent(QKeyEvent(event.type(), key, event.modifiers()))
                return True
            if key in (Qt.Key_Return, Qt.Key_Enter):
                item = self.list.currentItem()
                if item is not None:
                    self._activate(item)
                return True
            if key == Qt.Key_Escape:
                self.close()
                return True
            if key == Qt.Key_Tab:
                return True  # Tab again keeps the box open, as in Nuke
        return super().eventFilter(obj, event)

    def _activate(self, item: QListWidgetItem) -> None:
        type_id = item.data(Qt.UserRole)
        self._picked = True
        self.close()
        self.chosen.emit(type_id)

    def closeEvent(self, event) -> None:
        super().closeEvent(event)
        if not self._picked:
            self.dismissed.emit()


class FindNodePopup(AddNodePopup):
    """Ctrl+F: a node of this graph by its name, its type or its id. ``chosen`` gives the node id."""

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(document.registry, parent)
        self.document = document
        self.edit.setPlaceholderText("Find a node: name, type or id")

    def _refresh(self, text: str | None = None) -> None:
        doc = getattr(self, "document", None)
        if doc is None:
            return
        query = self.edit.text() if text is None else text
        self.list.clear()
        found = []
        for node in doc.graph.nodes.values():
            title, type_title = doc.node_title(node.id), doc.type_title(node.type_id)
            s = fields_score(query, [(title, 1.0), (type_title, 0.9), (node.id, 0.9)])
            if s is not None:
                found.append((-s, title.lower(), node, title, type_title))
        found.sort(key=lambda f: f[:2])
        for _, _, node, title, type_title in found[:200]:
            item = QListWidgetItem(f"{title}    ·  {node.id}" + (f"  ({type_title})" if title != type_title else ""))
            item.setData(Qt.UserRole, node.id)
            try:
                item.setIcon(_chip(self.registry.get(node.type_id).category))
            except KeyError:
                pass
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
