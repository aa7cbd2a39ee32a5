"""The node library: every node type by category, searchable, draggable onto the canvas.

Search is forgiving the way artists type: "t2v" finds Text to Video by its
tag, "vid" by a word's start, "ttv" by the title's initials, "txtvid" as
letters in order. Enter (in the search box or on an entry) and double-click
ask for the node; dragging an entry carries its type id as
``application/x-weft-node-type`` for the canvas to drop.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView, QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from app.ui.panels import palette
from nodes.search import match_score

NODE_TYPE_MIME = "application/x-weft-node-type"
TYPE_ROLE = Qt.UserRole + 1

def node_tooltip(node_type) -> str:
    lines = [f"<b>{html.escape(node_type.title)}</b> <span style='color:{palette.DIM_COLOR}'>"
             f"{html.escape(node_type.type_id)}</span>"]
    if node_type.description:
        lines.append(html.escape(node_type.description))
    ins = ", ".join(f"<span style='color:{i.type.color}'>\u25cf</span> {html.escape(i.display_name)}"
                    for i in node_type.inputs.values())
    outs = ", ".join(f"<span style='color:{o.type.color}'>\u25cf</span> {html.escape(o.display_name)}"
                     for o in node_type.outputs.values())
    if ins:
        lines.append(f"Takes: {ins}")
    if outs:
        lines.append(f"Gives: {outs}")
    if node_type.tags:
        lines.append(f"<span style='color:{palette.DIM_COLOR}'>Tags: {html.escape(', '.join(node_type.tags))}</span>")
    return "<br>".join(lines)


class _NodeTree(QTreeWidget):
    activated_type = Signal(str)

    def __init__(self):
        super().__init__()
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragOnly)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setIndentation(14)
        self.setUniformRowHeights(True)
        self.setExpandsOnDoubleClick(False)
        self.itemDoubleClicked.connect(self._double_clicked)

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [NODE_TYPE_MIME]

    def mimeData(self, items) -> QMimeData:  # noqa: N802
        data = QMimeData()
        type_ids = [item.data(0, TYPE_ROLE) for item in items if item.data(0, TYPE_ROLE)]
        if type_ids:
            data.setData(NODE_TYPE_MIME, type_ids[0].encode("utf-8"))
            data.setText(type_ids[0])
        return data

    def supportedDropActions(self):  # noqa: N802
        return Qt.CopyAction

    def _double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        type_id = item.data(0, TYPE_ROLE)
        if type_id:
            self.activated_type.emit(type_id)
        else:
            item.setExpanded(not item.isExpanded())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key_Return, Qt.Key_Enter):
            item = self.currentItem()
            if item is not None and item.data(0, TYPE_ROLE):
                self.activated_type.emit(item.data(0, TYPE_ROLE))
                return
        super().keyPressEvent(event)


class _SearchBox(QLineEdit):
    down = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key_Down:
            self.down.emit()
            return
        if event.key() == Qt.Key_Escape and self.text():
            self.clear()
            return
        super().keyPressEvent(event)


class NodeLibraryPanel(QWidget):
    """Every node type, by category. ``node_requested(type_id)`` on double-click or Enter."""

    node_requested = Signal(str)

    def __init__(self, registry, parent: QWidget | None = None):
        super().__init__(parent)
        self.registry = registry
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        self.search = _SearchBox()
        self.search.setPlaceholderText("Search nodes: name, tag (t2v, mp4)\u2026")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.set_filter)
        self.search.returnPressed.connect(self._request_best)
        layout.addWidget(self.search)
        self.tree = _NodeTree()
        self.tree.activated_type.connect(self.node_requested)
        self.tree.currentItemChanged.connect(self._show_description)
        self.search.down.connect(self._focus_tree)
        layout.addWidget(self.tree, 1)
        self.empty_label = QLabel()
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet(f"color: {palette.DIM_COLOR}")
        self.empty_label.hide()
        layout.addWidget(self.empty_label)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setTextFormat(Qt.RichText)
        self.description.setMinimumHeight(self.fontMetrics().lineSpacing() * 3)
        self.description.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.description.setStyleSheet("QLabel { background: rgba(0,0,0,40); border-radius: 3px; padding: 4px; }")
        self.description.hide()
        layout.addWidget(self.description)
        self.hint = QLabel("Drag onto the canvas, or double-click to add")
        self.hint.setStyleSheet(f"color: {palette.DIM_COLOR}")
        layout.addWidget(self.hint)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._categories: dict[str, QTreeWidgetItem] = {}
        self.reload()

    # -- building ------------------------------------------------------------------------------
    def reload(self) -> None:
        """Rebuilds the tree from the registry (after a plug-in registered nodes)."""
        self.tree.clear()
        self._items.clear()
        self._categories.clear()
        groups = self.registry.categories()
        order = {name: i for i, name in enumerate(palette.CATEGORY_ORDER)}
        bold = QFont(self.font())
        bold.setBold(True)
        for category in sorted(groups, key=lambda c: (order.get(c, len(order)), c)):
            colour = palette.category_color(category)
            parent = QTreeWidgetItem([category])
            parent.setIcon(0, palette.swatch_icon(colour, 12, round_=False))
            parent.setFont(0, bold)
            parent.setFlags(Qt.ItemIsEnabled)
            parent.setData(0, Qt.UserRole + 2, category)
            self.tree.addTopLevelItem(parent)
            self._categories[category] = parent
            for node_type in sorted(groups[category], key=lambda t: t.title.lower()):
                item = QTreeWidgetItem([node_type.title])
                item.setData(0, TYPE_ROLE, node_type.type_id)
                item.setIcon(0, palette.swatch_icon(colour, 10))
                item.setToolTip(0, node_tooltip(node_type))
                item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
                parent.addChild(item)
                self._items[node_type.type_id] = item
            parent.setExpanded(True)
        self.set_filter(self.search.text())

    # -- searching -------------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        """Shows only the node types that match ``text``, best first; selects the best."""
        if self.search.text() != text:
            self.search.blockSignals(True)
            self.search.setText(text)
            self.search.blockSignals(False)
        query = text.strip()
        in_descriptions = False
        if query and not any(match_score(query, t) is not None for t in self.registry):
            in_descriptions = True  # nothing by name or tag: look in what the nodes do
        best: tuple[float, str] | None = None
        for category, parent in self._categories.items():
            scores: dict[str, float] = {}
            for i in range(parent.childCount()):
                item = parent.child(i)
                type_id = item.data(0, TYPE_ROLE)
                score = (match_score(query, self.registry.get(type_id), descriptions=in_descriptions)
                         if query else 0.0)
                if score is not None:
                    scores[type_id] = score
                    if query and (best is None or score > best[0]):
                        best = (score, type_id)
            # Best matches first while searching; alphabetical otherwise.
            items = [parent.takeChild(0) for _ in range(parent.childCount())]
            items.sort(key=lambda it: (-scores.get(it.data(0, TYPE_ROLE), 0.0), it.text(0).lower()))
            parent.addChildren(items)
            # (Hidden is a state of the view: set it once the items are back in.)
            for item in items:
                item.setHidden(item.data(0, TYPE_ROLE) not in scores)
            parent.setHidden(not scores)
            parent.setText(0, category)
            parent.setExpanded(True)
        if query and best is None:
            self.empty_label.setText(f"No node matches \u201c{query}\u201d. Try a shorter word, or a tag "
                                     "like t2v, mp4, sound.")
            self.empty_label.show()
        elif in_descriptions:
            self.empty_label.setText(f"No node is called \u201c{query}\u201d; these mention it in their "
                                     "description.")
            self.empty_label.show()
        else:
            self.empty_label.hide()
        if best is not None:
            self.tree.setCurrentItem(self._items[best[1]])
        elif not query:
            self.tree.setCurrentItem(None)
            self.description.clear()
            self.description.hide()

    def visible_types(self) -> list[str]:
        """The type ids shown now, in the order shown."""
        out = []
        for c in range(self.tree.topLevelItemCount()):
            parent = self.tree.topLevelItem(c)
            if parent.isHidden():
                continue
            for i in range(parent.childCount()):
                item = parent.child(i)
                if not item.isHidden():
                    out.append(item.data(0, TYPE_ROLE))
        return out

    def best_match(self) -> str | None:
        item = self.tree.currentItem()
        if item is not None and not item.isHidden():
            return item.data(0, TYPE_ROLE)
        return None

    def item_for(self, type_id: str) -> QTreeWidgetItem:
        return self._items[type_id]

    def mime_data_for(self, type_id: str) -> QMimeData:
        """What dragging the entry of ``type_id`` carries."""
        return self.tree.mimeData([self._items[type_id]])

    # -- acting ------------------------------------------------------------------------------------
    def _request_best(self) -> None:
        type_id = self.best_match()
        if type_id:
            self.node_requested.emit(type_id)

    def _focus_tree(self) -> None:
        self.tree.setFocus(Qt.OtherFocusReason)
        if self.tree.currentItem() is None:
            ids = self.visible_types()
            if ids:
                self.tree.setCurrentItem(self._items[ids[0]])

    def _show_description(self, item: QTreeWidgetItem | None, _previous=None) -> None:
        type_id = item.data(0, TYPE_ROLE) if item is not None else None
        if not type_id:
            self.description.clear()
            self.description.hide()
            return
        self.description.setText(node_tooltip(self.registry.get(type_id)))
        self.description.show()


__all__ = ["NODE_TYPE_MIME", "NodeLibraryPanel"]
