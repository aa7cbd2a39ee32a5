"""One table of colours: a node category has the same colour on the canvas's
node header, in the node library and in the inspector; a data type has the
same colour everywhere (``nodes.types``)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from app.ui import theme
from app.ui.panels import palette
from nodes import types as T

pytestmark = pytest.mark.ui


def test_the_panels_use_the_canvas_table_not_a_copy():
    assert palette.CATEGORY_COLORS is theme.CATEGORY_COLORS
    assert palette.CATEGORY_ORDER is theme.CATEGORY_ORDER
    assert palette.category_color is theme.category_color
    assert palette.type_color is theme.type_color
    for category in [*theme.CATEGORY_COLORS, "Made up by a plug-in"]:
        assert palette.category_color(category) is theme.category_color(category)
    for data_type in T.ALL_TYPES.values():
        assert theme.type_color(data_type) is theme.type_color(data_type.name)
        assert theme.type_color(data_type) == QColor(data_type.color)  # the domain's table
    assert palette.ERROR_COLOR == theme.ERROR.name() and palette.WARN_COLOR == theme.WARNING.name()


def _header_pixel(view, node_id: str) -> QColor:
    """What the canvas painted in the node's header, near its left edge, below the title."""
    item = view.gscene.nodes[node_id]
    item.setSelected(False)
    rect = item.sceneBoundingRect()
    image = QImage(int(rect.width()) + 1, int(rect.height()) + 1, QImage.Format_ARGB32)
    image.fill(Qt.transparent)
    painter = QPainter(image)
    view.gscene.render(painter, QRectF(0, 0, image.width(), image.height()),
                       QRectF(rect.topLeft(), image.size().toSizeF()))
    painter.end()
    header = item.header_rect() if hasattr(item, "header_rect") else QRectF(0, 0, item.w, 26)
    spot = item.mapToScene(QPointF(4, header.bottom() - 3)) - rect.topLeft()
    return image.pixelColor(int(spot.x()), int(spot.y()))


def test_a_category_has_one_colour_on_the_canvas_in_the_library_and_in_the_inspector(window, qtbot):
    doc = window.document
    for i, type_id in enumerate(("text", "load_image", "save_video")):
        node_id = doc.add_node(type_id, (0.0, 400.0 * i))
        category = doc.registry.get(type_id).category
        colour = theme.category_color(category)

        painted = _header_pixel(window.view, node_id)
        assert painted.name() == colour.name(), (type_id, category)

        library_item = window.library._categories[category]
        swatch = library_item.icon(0).pixmap(12, 12).toImage()
        assert swatch.pixelColor(6, 6).name() == colour.name()

        doc.select([node_id])
        qtbot.waitUntil(lambda: window.inspector.node_id == node_id)
        assert f"border-left: 5px solid {colour.name()}" in window.inspector.header.styleSheet()
