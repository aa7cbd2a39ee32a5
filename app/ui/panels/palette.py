"""Colours of the panels.

Nothing here is a second table: node-category colours (and the library's
category order) are ``app.ui.theme``'s, the one table the canvas paints its
node headers with; data-type colours are ``nodes.types``' (through
``theme.type_color``). They are re-exported here so a panel imports its
colours from one module, and an artist sees the same purple for Generate and
the same green for Audio on the canvas, in the library and in the inspector.
This module adds the panels' own colours (message levels, job states) and
small swatch icons.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from app.ui import theme
from app.ui.theme import CATEGORY_COLORS, CATEGORY_ORDER, category_color, type_color

# The canvas's status colours (a failed node, a warning badge, a cached result), as text for style sheets.
OK_COLOR = theme.CACHED.name()
WARN_COLOR = theme.WARNING.name()
ERROR_COLOR = theme.ERROR.name()
DIM_COLOR = "#8d9399"
ANCHOR_COLOR = "#6fb1ff"

# Message levels (log, queue, problems under a field).
LEVEL_COLORS: dict[str, str] = {
    "debug": "#80868b",
    "info": "#d0d4d8",
    "warning": WARN_COLOR,
    "error": ERROR_COLOR,
}

# Job states in the queue.
STATUS_COLORS: dict[str, str] = {
    "queued": "#9aa0a6",
    "running": theme.RUNNING.name(),
    "done": OK_COLOR,
    "failed": ERROR_COLOR,
    "cancelled": "#c9a227",
}


def swatch_icon(color: QColor | str, size: int = 12, *, round_: bool = True) -> QIcon:
    """A small filled circle (or square) of ``color``, for lists and combos."""
    color = QColor(color)
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setPen(color.darker(160))
    painter.setBrush(color)
    if round_:
        painter.drawEllipse(1, 1, size - 2, size - 2)
    else:
        painter.drawRoundedRect(1, 1, size - 2, size - 2, 2, 2)
    painter.end()
    return QIcon(pixmap)


__all__ = [
    "ANCHOR_COLOR", "CATEGORY_COLORS", "CATEGORY_ORDER", "DIM_COLOR", "ERROR_COLOR", "LEVEL_COLORS", "OK_COLOR",
    "STATUS_COLORS", "WARN_COLOR", "category_color", "swatch_icon", "type_color",
]
