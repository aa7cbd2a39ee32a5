"""The minimap: the whole graph in a corner, with the visible part outlined.
Click or drag in it to move there. Alt+M shows or hides it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

from app.ui import theme

if TYPE_CHECKING:
    from app.ui.canvas.view import GraphView


class Minimap(QWidget):
    W, H, MARGIN = 200, 130, 10

    def __init__(self, view: "GraphView"):
        super().__init__(view.viewport())
        self.view = view
        self.resize(self.W, self.H)
        self.setCursor(Qt.PointingHandCursor)
        self.setToolTip("Minimap: click or drag to move the view (Alt+M hides it)")
        self._drag_mapping: tuple[QRectF, float, QPointF] | None = None
        # Redraw at most ~7 times a second: the scene changes constantly while nodes move.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.update)
        view.gscene.changed.connect(self.schedule)

    def schedule(self, *args) -> None:
        if self.isVisible() and not self._timer.isActive():
            self._timer.start()

    def place(self) -> None:
        # The view's own size: its viewport is resized only after the view's resizeEvent.
        area = self.view.contentsRect()
        self.move(area.width() - self.width() - self.MARGIN, area.height() - self.height() - self.MARGIN)

    def _mapping(self) -> tuple[QRectF, float, QPointF]:
        scene = self.view.gscene
        world = scene.nodes_rect()
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        world = world.united(visible) if not world.isNull() else visible
        world = world.adjusted(-40, -40, 40, 40)
        inner = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        s = min(inner.width() / max(world.width(), 1.0), inner.height() / max(world.height(), 1.0))
        offset = QPointF(inner.left() + (inner.width() - world.width() * s) / 2 - world.left() * s,
                         inner.top() + (inner.height() - world.height() * s) / 2 - world.top() * s)
        return world, s, offset

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(20, 22, 25, 210))
        painter.setPen(QPen(QColor("#3a3f45"), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        world, s, off = self._mapping()

        def to_map(r: QRectF) -> QRectF:
            return QRectF(r.left() * s + off.x(), r.top() * s + off.y(), max(r.width() * s, 2), max(r.height() * s, 2))

        scene = self.view.gscene
        painter.setPen(Qt.NoPen)
        for b in scene.backdrops:
            c = QColor(b.color)
            c.setAlpha(90)
            painter.setBrush(c)
            painter.drawRect(to_map(b.scene_rect()))
        for item in scene.nodes.values():
            color = theme.category_color(item.category) if item.known else theme.ERROR
            if item.isSelected():
                color = theme.NODE_SELECTED
            painter.setBrush(color)
            painter.drawRect(to_map(item.mapRectToScene(item.body)))
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        painter.setBrush(Qt.NoBrush)
        painter.setPen(QPen(QColor("#ffffff"), 1.2))
        painter.drawRect(to_map(visible))
        painter.end()

    def _go(self, pos: QPointF) -> None:
        # Keep the mapping of the press for the whole drag: the view moving under
        # the mouse must not move the map.
        world, s, off = self._drag_mapping or self._mapping()
        if s <= 0:
            return
        self.view.centerOn(QPointF((pos.x() - off.x()) / s, (pos.y() - off.y()) / s))
        self.update()

    def mousePressEvent(self, event) -> None:
        self._drag_mapping = self._mapping()
        self._go(event.position())

    def mouseReleaseEvent(self, event) -> None:
        self._drag_mapping = None

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.LeftButton:
            self._go(event.position())
