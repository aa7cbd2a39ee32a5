"""Renaming on the canvas: a node's name typed in place over its title bar, a backdrop's title in a dialog.

Enter, or a click anywhere else, keeps the typed name; Esc drops it. Either way
the model changes once (one undo step), and the canvas has the keys again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QInputDialog, QLineEdit

if TYPE_CHECKING:
    from app.ui.canvas.view import GraphView


class TitleEditor(QObject):
    """The line editor over a node's title bar while the node is renamed (one at a time)."""

    def __init__(self, view: "GraphView"):
        super().__init__(view)
        self.view = view
        self.editor: QLineEdit | None = None

    def start(self, node_id: str) -> None:
        view = self.view
        item = view.gscene.nodes.get(node_id)
        if item is None:
            return
        self.commit()
        editor = QLineEdit(view.viewport())
        editor.setObjectName("renameEditor")
        editor.setText(view.document.node_title(node_id))
        editor.selectAll()
        rect = view.mapFromScene(item.mapRectToScene(item.title_rect())).boundingRect()
        editor.setGeometry(rect.adjusted(2, 2, -2, -2))
        editor.setProperty("node_id", node_id)
        editor.returnPressed.connect(self.commit)
        editor.installEventFilter(self)
        editor.show()
        editor.setFocus()
        self.editor = editor

    def commit(self, cancel: bool = False) -> None:
        """Ends the rename, keeping the typed name unless ``cancel``; nothing when none is open."""
        # Forget the editor first: hiding it sends a focus-out, which must not commit twice.
        editor, self.editor = self.editor, None
        if editor is None:
            return
        node_id = editor.property("node_id")
        document = self.view.document
        if not cancel and node_id in document.graph.nodes:
            document.set_title(node_id, editor.text())
        editor.hide()
        editor.deleteLater()
        self.view.setFocus()

    def eventFilter(self, obj, event) -> bool:
        if obj is self.editor:
            if event.type() == QEvent.KeyPress and event.key() == Qt.Key_Escape:
                self.commit(cancel=True)
                return True
            if event.type() == QEvent.FocusOut:
                self.commit()
                return False
        return super().eventFilter(obj, event)


def rename_backdrop(view: "GraphView", index: int) -> None:
    old = view.document.graph.backdrops[index].title
    title, ok = QInputDialog.getText(view, "Rename backdrop", "Title:", text=old)
    if ok and title.strip():
        view.document.edit_backdrop(index, title=title.strip(), text="Rename backdrop")
