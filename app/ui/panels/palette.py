"""Colours shared by the panels, the canvas and the docs.

Data-type colours come from ``nodes.types`` (the one table of the product);
this module only turns them into ``QColor`` and adds the colours of node
categories, which are a matter of the studio's look, not of the domain.
Anything Qt-side that colours a socket, a node header or a library entry
imports from here, so an artist sees the same green for Audio everywhere.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from nodes.types import ALL_TYPES, DataType

# Node header colour per category. A category a plug-in invents gets a stable
# colour of its own (see ``category_color``), so its nodes are told apart too.
CATEGORY_COLORS: dict[str, str] = {
    "Input": "#3d6e8f",
    "Generate": "#7a4a8c",
    "Edit": "#8c6a3a",
    "Audio": "#3e7d5a",
    "Output": "#8c3f3f",
    "Utility": "#5a5f66",
    "Misc": "#5a5f66",
}

# Order in which the library lists categories: the way a graph reads, left to right.
CATEGORY_ORDER = ("Input", "Generate", "Edit", "Audio", "Output", "Utility", "Misc")

# Message levels (log, queue, problems under a field).
LEVEL_COLORS: dict[str, str] = {
    "debug": "#80868b",
    "info": "#d0d4d8",
    "warning": "#e0a24f",
    "error": "#e0524f",
}

# Job states in the queue.
STATUS_COLORS: dict[str, str] = {
    "queued": "#9aa0a6",
    "running": "#4fa3f7",
    "done": "#7bc67b",
    "failed": "#e0524f",
    "cancelled": "#c9a227",
}

OK_COLOR = "#7bc67b"
WARN_COLOR = "#e0a24f"
ERROR_COLOR = "#e0524f"
DIM_COLOR = "#8d9399"
ANCHOR_COLOR = "#6fb1ff"


@lru_cache(maxsize=None)
def category_color(category: str) -> QColor:
    """The header colour of a node category; unknown ones get a stable hashed colour."""
    hex_color = CATEGORY_COLORS.get(category)
    if hex_color is not None:
        return QColor(hex_color)
    digest = hashlib.md5(category.encode()).digest()
    return QColor.fromHsv(digest[0] * 360 // 256, 110, 140)


def type_color(data_type: DataType | str) -> QColor:
    """The colour of a data type (a ``DataType`` or its name, "Video", "Image"...)."""
    if isinstance(data_type, DataType):
        return QColor(data_type.color)
    known = ALL_TYPES.get(str(data_type))
    return QColor(known.color if known else "#888888")


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
