"""Where things are on the canvas: sizes, socket places, hit areas, wire shapes. No painting.

Everything here is in an item's own coordinates (a node's top-left is 0, 0)
and depends only on numbers (a node's width, how many rows it has), never on
the model or on a painter. The items paint at these places and answer hits
with them, and the gestures aim with them, so what is drawn and what is hit
are the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath, QPainterPathStroker

WIDTH = 210.0      # the usual node width; long type names get more, up to MAX_WIDTH
MAX_WIDTH = 290.0
HEADER = 26.0
ROWS_TOP = HEADER + 4  # the first socket row
ROW = 20.0
PARAM_ROW = 16.0
FOOTER = 18.0
SOCKET_R = 5.5
SOCKET_HIT = 10.0
BADGE_H = 20.0
BADGE_MAX_W = WIDTH * 1.6  # a message may run past the node's right edge
MAX_PARAMS = 6
THUMB_H = 72.0     # the last result's first frame or waveform, under the parameters
LINK_HIT_WIDTH = 10.0  # a wire is easier to click than it is thick
REROUTE_R = 6.0
BACKDROP_TITLE_H = 30.0
BACKDROP_HANDLE = 16.0
BACKDROP_MIN = (80.0, 60.0)


# -- nodes -----------------------------------------------------------------------------------
def node_width(title_advance: float) -> float:
    """A node's width: the usual one, or wide enough for its type's name (``title_advance``
    pixels in the title font) up to MAX_WIDTH."""
    return float(min(MAX_WIDTH, max(WIDTH, round(title_advance + 44))))


def socket_y(index: int) -> float:
    """The centre of the ``index``-th socket row (inputs and outputs share rows)."""
    return ROWS_TOP + ROW * index + ROW / 2


def socket_point(kind: str, index: int | None, width: float) -> QPointF:
    """A socket's centre: inputs on the left edge, outputs on the right; a socket the
    node does not have (``index`` None) sits at the title bar's edge."""
    x = 0.0 if kind == "in" else width
    return QPointF(x, HEADER / 2 if index is None else socket_y(index))


def socket_at(p: QPointF, width: float, input_names: list[str], output_names: list[str],
              radius: float = SOCKET_HIT) -> tuple[str, str] | None:
    """("in" | "out", socket name) whose row and edge hold ``p``, or None."""
    for kind, names, x in (("in", input_names, 0.0), ("out", output_names, width)):
        for i, name in enumerate(names):
            if abs(p.x() - x) <= radius and abs(p.y() - socket_y(i)) <= ROW / 2:
                return kind, name
    return None


@dataclass(frozen=True)
class NodeLayout:
    """A node's bands from top to bottom: title, socket rows, parameter rows, the
    thumbnail (when it has one), footer; with the error badge above the title.

    Fixed by the node's type and face, so run feedback never moves a socket."""

    w: float
    params_top: float
    thumb_top: float
    footer_top: float
    height: float

    @classmethod
    def measure(cls, w: float, *, socket_rows: int, param_rows: int, face_rows: bool,
                thumbnail: bool) -> "NodeLayout":
        """``param_rows``: parameter, summary and "+ n more" rows; ``face_rows``: whether
        any parameter or summary row shows (a gap parts them from the sockets)."""
        params_top = ROWS_TOP + socket_rows * ROW + (4 if face_rows else 0)
        thumb_top = params_top + param_rows * PARAM_ROW + 4
        footer_top = thumb_top + (THUMB_H + 4 if thumbnail else 0)
        return cls(w, params_top, thumb_top, footer_top, footer_top + FOOTER)

    @property
    def badge_max_w(self) -> float:
        return max(BADGE_MAX_W, self.w)

    @property
    def body(self) -> QRectF:
        return QRectF(0, 0, self.w, self.height)

    @property
    def bounds(self) -> QRectF:
        """Everything the node may paint: sockets past its edges, the badge above and past its right."""
        return QRectF(-SOCKET_R - 2, -BADGE_H - 6, self.badge_max_w + 2 * SOCKET_R + 4, self.height + BADGE_H + 8)

    def hit_area(self) -> QPainterPath:
        """What a click takes as the node: its body and the sockets' outer halves."""
        path = QPainterPath()
        path.addRect(self.body.adjusted(-SOCKET_R, 0, SOCKET_R, 0))
        return path

    def title_rect(self) -> QRectF:
        return QRectF(0, 0, self.w, HEADER)

    def badge_rect(self, wide: bool) -> QRectF:
        """Where the badge goes; ``wide`` when it holds a message (it may then run past the edge)."""
        return QRectF(0, -BADGE_H - 4, self.badge_max_w if wide else self.w, BADGE_H)

    def param_row_at(self, y: float) -> int:
        """Which parameter row ``y`` is in (0 is the first; may be past the last)."""
        return int((y - self.params_top) // PARAM_ROW)

    def thumb_area(self) -> QRectF:
        return QRectF(8, self.thumb_top, self.w - 16, THUMB_H)

    def thumbnail_rect(self, width: float, height: float) -> QRectF:
        """A picture of ``width`` x ``height`` fitted in the thumbnail band, centred, its shape kept."""
        area = self.thumb_area()
        scale = min(area.width() / max(1, width), area.height() / max(1, height))
        return QRectF(area.center().x() - width * scale / 2, area.center().y() - height * scale / 2,
                      width * scale, height * scale)

    def footer_rect(self) -> QRectF:
        return QRectF(8, self.footer_top + 2, self.w - 16, FOOTER - 6)


# -- links -----------------------------------------------------------------------------------
def link_path(p0: QPointF, p1: QPointF, via: list[QPointF] = ()) -> QPainterPath:
    """A smooth wire from an output to an input, bending through reroute dots."""
    points = [p0, *via, p1]
    path = QPainterPath(p0)
    for a, b in zip(points, points[1:]):
        dx = max(30.0, abs(b.x() - a.x()) * 0.5)
        if b.x() < a.x():  # wires going backwards loop round, as in Nuke/Blender
            dx = max(dx, 60.0 + abs(b.y() - a.y()) * 0.15)
        path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
    return path


def stroke(path: QPainterPath, width: float) -> QPainterPath:
    """The area a line along ``path``, ``width`` wide, covers: what hits a wire or a cut."""
    stroker = QPainterPathStroker()
    stroker.setWidth(width)
    return stroker.createStroke(path)


def dot_bounds(radius: float) -> QRectF:
    """Around a dot of ``radius`` centred on 0, 0, with room for its outline."""
    return QRectF(-radius - 2, -radius - 2, 2 * radius + 4, 2 * radius + 4)


# -- backdrops -------------------------------------------------------------------------------
def backdrop_size(w: float, h: float) -> tuple[float, float]:
    """A backdrop never shrinks below a title and a little room."""
    return (max(w, BACKDROP_MIN[0]), max(h, BACKDROP_MIN[1]))


def backdrop_title_rect(size: tuple[float, float]) -> QRectF:
    return QRectF(0, 0, size[0], BACKDROP_TITLE_H)


def backdrop_handle_rect(size: tuple[float, float]) -> QRectF:
    """The corner that resizes it."""
    w, h = size
    return QRectF(w - BACKDROP_HANDLE, h - BACKDROP_HANDLE, BACKDROP_HANDLE, BACKDROP_HANDLE)


def distance(a: QPointF, b: QPointF) -> float:
    return math.hypot(a.x() - b.x(), a.y() - b.y())
