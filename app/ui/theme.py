"""Colours, fonts and the style sheet of the studio.

The one table of node-category colours is here, for the canvas, the node
library and the inspector alike (``app.ui.panels.palette`` re-exports it);
socket and link colours are the data types' own, from ``nodes.types`` (one
table for the canvas, the inspector and the docs). Everything a painter needs
is built once here, so ``paint`` methods never allocate colours or fonts.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from nodes.types import ALL_TYPES, DataType

# -- canvas ----------------------------------------------------------------------
CANVAS_BG = QColor("#1b1d20")
GRID_MINOR = QColor("#23262a")
GRID_MAJOR = QColor("#2b2f34")
NODE_BODY = QColor("#2b2e33")
NODE_BODY_BYPASSED = QColor("#26282b")
NODE_BORDER = QColor("#121315")
NODE_SELECTED = QColor("#f0c674")
NODE_TEXT = QColor("#e6e6e6")
NODE_TEXT_DIM = QColor("#9aa0a6")
PARAM_VALUE = QColor("#cfd8dc")
RUNNING = QColor("#4fa3f7")
CACHED = QColor("#7bc67b")
ERROR = QColor("#e0524f")
WARNING = QColor("#e0a24f")
LINK_CUT = QColor("#ff6b6b")
VALID_TARGET = QColor("#9cff9c")
REROUTE = QColor("#d0d0d0")

# Header colour per node category (the canvas's node headers, the library's
# swatches, the inspector's header); unknown categories get a stable colour of
# their own (``category_color``) so a plug-in's nodes are told apart too.
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

BACKDROP_COLORS = ["#5a6a7a", "#6a5a7a", "#7a6a4a", "#4a7a5a", "#7a4a4a", "#4a6a7a"]


@lru_cache(maxsize=None)
def category_color(category: str) -> QColor:
    """The header colour of a node category; unknown ones get a stable hashed colour.

    Cached and shared: derive (``darker()``, ``QColor(c)``), never modify it.
    """
    hex_color = CATEGORY_COLORS.get(category)
    if hex_color is None:
        digest = hashlib.md5(category.encode()).digest()
        return QColor.fromHsv(digest[0] * 360 // 256, 110, 140)
    return QColor(hex_color)


def type_color(data_type: DataType | str) -> QColor:
    """The colour of a data type (a ``DataType`` or its name, "Video", "Image"...), from ``nodes.types``.

    Cached and shared, like ``category_color``.
    """
    return _type_color(data_type.name if isinstance(data_type, DataType) else str(data_type))


@lru_cache(maxsize=None)
def _type_color(type_name: str) -> QColor:
    data_type = ALL_TYPES.get(type_name)
    return QColor(data_type.color if data_type else "#888888")


@lru_cache(maxsize=None)
def font(size: float = 9.0, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSizeF(size)
    f.setBold(bold)
    return f


STYLE_SHEET = """
QMainWindow::separator { background: #15171a; width: 3px; height: 3px; }
QDockWidget { titlebar-close-icon: none; }
QDockWidget::title { background: #24272b; padding: 4px 6px; }
QToolBar { background: #24272b; border: none; spacing: 2px; }
QStatusBar { background: #1f2124; }
QToolTip { color: #eeeeee; background: #2c2f34; border: 1px solid #555; padding: 3px; }
QLineEdit#addNodeSearch { padding: 5px; font-size: 11pt; }
QListWidget#addNodeList { font-size: 10pt; }
QFrame#addNodePopup { background: #26292d; border: 1px solid #4a4f55; border-radius: 4px; }
"""


def apply(app: QApplication) -> None:
    """A dark Fusion palette: the norm for video tools, and easy on footage."""
    app.setStyle("Fusion")
    palette = QPalette()
    base, window, text = QColor("#1f2124"), QColor("#2a2d31"), QColor("#e0e0e0")
    palette.setColor(QPalette.Window, window)
    palette.setColor(QPalette.WindowText, text)
    palette.setColor(QPalette.Base, base)
    palette.setColor(QPalette.AlternateBase, QColor("#26292d"))
    palette.setColor(QPalette.ToolTipBase, QColor("#2c2f34"))
    palette.setColor(QPalette.ToolTipText, text)
    palette.setColor(QPalette.Text, text)
    palette.setColor(QPalette.Button, window)
    palette.setColor(QPalette.ButtonText, text)
    palette.setColor(QPalette.BrightText, QColor("#ff5555"))
    palette.setColor(QPalette.Highlight, QColor("#3d7bbf"))
    palette.setColor(QPalette.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.Link, QColor("#6fb1ff"))
    palette.setColor(QPalette.PlaceholderText, QColor("#80868b"))
    for role in (QPalette.Text, QPalette.ButtonText, QPalette.WindowText):
        palette.setColor(QPalette.Disabled, role, QColor("#6b6f74"))
    app.setPalette(palette)
    app.setStyleSheet(STYLE_SHEET)
