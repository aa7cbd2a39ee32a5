"""What the canvas draws: nodes, links, backdrops, reroute dots.

Items show the model; they never change it. A node paints its sockets and its
parameter values itself (no widget per node: proxy widgets are slow and drift
when zooming), and draws less when zoomed out (level of detail). Where things
are (sizes, socket places, hit areas, wire shapes) is ``geometry``'s; here is
what goes there and how it is painted. Geometry is fixed per node type, so run
feedback (progress, errors) never re-lays out links.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyle, QStyleOptionGraphicsItem

from app.ui import theme
from app.ui.canvas import geometry
from app.ui.canvas.geometry import (HEADER, LINK_HIT_WIDTH, MAX_PARAMS, PARAM_ROW, REROUTE_R, ROW, SOCKET_HIT,
                                    SOCKET_R, NodeLayout, link_path, socket_y)
from nodes.anchors import SOCKETS as REFERENCE_SOCKETS, label_param
from nodes.graph import Link, Node
from nodes.registry import UnknownNodeType
from nodes.types import ALL_TYPES, connection_refusal

if TYPE_CHECKING:
    from app.ui.canvas.scene import GraphScene

# Beyond this zoom the device cache would be huge (and Qt clips it): draw directly.
CACHE_MAX_SCALE = 2.5


def _elide(fm: QFontMetricsF, text: str, width: float) -> str:
    return fm.elidedText(text, Qt.ElideRight, width)


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0").rstrip(".")
        return text or "0"
    text = str(value)
    first = text.strip().splitlines()[0] if text.strip() else ""
    if "\n" in text.strip():
        first += " …"
    return first if text else "—"


def choice_label(param: Any, value: str) -> str:
    """What a choice reads as on the face: a model's title, other keys as words ("trim or pad")."""
    if param.name == "model":
        try:
            from nodes.model_catalogue import get_spec
            return get_spec(value).title
        except Exception:
            return value
    return value.replace("_", " ")


def format_bytes(n: int) -> str:
    if n >= 1 << 30:
        return f"{n / (1 << 30):.1f} GiB"
    return f"{n / (1 << 20):.0f} MiB"


class NodeItem(QGraphicsItem):
    """One node: coloured header with the title, sockets, parameter values, status."""

    def __init__(self, scene: "GraphScene", node: Node):
        super().__init__()
        self.gscene = scene
        self.node = node
        self.node_id = node.id
        self.setFlags(QGraphicsItem.ItemIsSelectable | QGraphicsItem.ItemIsMovable
                      | QGraphicsItem.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.setZValue(1)
        # During a link drag: (kind, socket) -> refusal (None when the socket is a valid target).
        self.drop_marks: dict[tuple[str, str], str | None] | None = None
        self.hover_socket: tuple[str, str] | None = None
        self._read_type()

    # -- what the face holds; where it goes is geometry.NodeLayout's ------------------------
    def _read_type(self) -> None:
        registry = self.gscene.document.registry
        try:
            self.node_type = registry.get(self.node.type_id)
            self.known = True
            self.inputs = list(self.node_type.inputs.values())
            self.outputs = list(self.node_type.outputs.values())
            params = [p for p in self.node_type.params.values() if not p.advanced]
            self.category = self.node_type.category
        except UnknownNodeType:
            self.node_type = None
            self.known = False
            self.inputs, self.outputs, params, self.category = [], [], [], ""
        # Wide enough for the type's name (a renamed node elides its own title).
        title_font = QFontMetricsF(theme.font(9.5, bold=True))
        type_title = self.node_type.title if self.known else self.node.type_id
        self.w = geometry.node_width(title_font.horizontalAdvance(type_title))
        self.input_names = [s.name for s in self.inputs]
        self.output_names = [s.name for s in self.outputs]
        self._face_params = params
        self._arrange_face()
        self._measure()

    def _arrange_face(self) -> None:
        """Which parameter rows the face shows: those the other values leave in play
        (never a width an aspect preset overrides), then what they come to (Size, Length)."""
        params = self._face_params
        doc = self.gscene.document
        # How long it will take here (model nodes; engines.estimate), shown in the footer while idle.
        self.estimate = doc.estimate_for(self.node_id) if hasattr(doc, "estimate_for") else None
        self.thumb = getattr(doc, "thumbnails", {}).get(self.node_id)
        self.summary_rows: list[tuple[str, str]] = []
        if self.known:
            values = {**self.node_type.default_params(), **self.node.params}
            try:
                inactive = self.node_type.inactive_params(values)
                self.summary_rows = list(self.node_type.summary(values))
            except Exception:  # a half-typed value must not break drawing; validation reports it
                inactive = {}
            params = [p for p in params if p.name not in inactive]
        # The summary replaces about one parameter row: the values that make it stay visible.
        room = MAX_PARAMS - 1 if self.summary_rows else MAX_PARAMS
        self.shown_params = params[:room]
        self.hidden_params = len(params) - len(self.shown_params)

    def _measure(self) -> None:
        """The node's bands, from how many rows of each it has (``geometry.NodeLayout``)."""
        socket_rows = max(len(self.inputs), len(self.outputs), 1 if not self.known else 0)
        param_rows = len(self.shown_params) + len(self.summary_rows) + (1 if self.hidden_params else 0)
        self.layout = layout = NodeLayout.measure(
            self.w, socket_rows=socket_rows, param_rows=param_rows,
            face_rows=bool(self.shown_params or self.summary_rows), thumbnail=self.thumb is not None)
        # Read on every paint and hover: kept as plain attributes.
        self.params_top, self.thumb_top, self.footer_top = layout.params_top, layout.thumb_top, layout.footer_top
        self.height, self.badge_max_w = layout.height, layout.badge_max_w
        self.body, self._bounds = layout.body, layout.bounds

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        return self.layout.hit_area()

    def input_pos(self, name: str) -> QPointF:
        """A socket's centre, in scene coordinates."""
        index = self.input_names.index(name) if name in self.input_names else None
        return self.mapToScene(geometry.socket_point("in", index, self.w))

    def output_pos(self, name: str) -> QPointF:
        index = self.output_names.index(name) if name in self.output_names else None
        return self.mapToScene(geometry.socket_point("out", index, self.w))

    def socket_at(self, scene_pos: QPointF, radius: float = SOCKET_HIT) -> tuple[str, str] | None:
        """("in" | "out", socket name) under a scene point, or None."""
        return geometry.socket_at(self.mapFromScene(scene_pos), self.w, self.input_names, self.output_names,
                                  radius)

    def socket_type_name(self, kind: str, name: str) -> str:
        sockets = self.inputs if kind == "in" else self.outputs
        for s in sockets:
            if s.name == name:
                return s.type.name
        return ""

    def title_rect(self) -> QRectF:
        return self.layout.title_rect()

    def badge_rect(self) -> QRectF:
        return self.layout.badge_rect(wide=bool(self._badge_text()))

    # -- model changes ---------------------------------------------------------------------
    def refresh(self) -> None:
        before = ([p.name for p in self.shown_params], self.summary_rows, self.hidden_params, self.thumb is None)
        self._arrange_face()
        if ([p.name for p in self.shown_params], self.summary_rows, self.hidden_params, self.thumb is None) != before:
            self.prepareGeometryChange()  # a preset chosen or cleared: rows come and go
            self._measure()
        self.update()

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.ItemPositionHasChanged:
            self.gscene.node_item_moved(self)
        elif change == QGraphicsItem.ItemSelectedHasChanged:
            self.gscene.item_selection_changed()
        return super().itemChange(change, value)

    # -- tooltips -----------------------------------------------------------------------------
    def hoverMoveEvent(self, event) -> None:
        pos = event.pos()
        socket = self.socket_at(self.mapToScene(pos))
        tip = ""
        if socket is not None:
            kind, name = socket
            sockets = self.inputs if kind == "in" else self.outputs
            s = next(s for s in sockets if s.name == name)
            role = "output" if kind == "out" else ("input" if getattr(s, "required", True) else "optional input")
            shown = self.input_name(s) if kind == "in" else s.display_name
            named = f" ({s.display_name})" if shown != s.display_name else ""
            tip = f"<b>{shown}</b>{named} ({s.type.name}) — {role}"
            if s.help:
                tip += f"<br>{s.help}"
            tip += f"<br><i>{s.type.description}</i>"
        elif self.badge_rect().contains(pos):
            tip = self._badge_text(full=True)
        elif self.title_rect().contains(pos):
            if self.known:
                tip = f"<b>{self.node_type.title}</b> ({self.node.id})<br>{self.node_type.description}"
            else:
                tip = f"Unknown node type {self.node.type_id!r}: this Weft does not know it."
        elif pos.y() >= self.params_top and pos.y() < self.footer_top:
            i = self.layout.param_row_at(pos.y())
            if 0 <= i < len(self.shown_params):
                p = self.shown_params[i]
                tip = f"<b>{p.display_name}</b> = {format_value(self.node.params.get(p.name))}<br>{p.help}"
        elif pos.y() >= self.footer_top and self.estimate is not None:
            tip = f"Estimated: {self.estimate.text()}"
            if self.estimate.long:
                tip += "<br>Draft (toolbar) or fewer steps, frames or pixels make it quicker."
        if tip != self.toolTip():
            self.setToolTip(tip)
        if socket != self.hover_socket:
            self.hover_socket = socket
            self.update()
        super().hoverMoveEvent(event)

    def hoverLeaveEvent(self, event) -> None:
        if self.hover_socket is not None:
            self.hover_socket = None
            self.update()
        super().hoverLeaveEvent(event)

    def _badge_text(self, full: bool = False) -> str:
        doc = self.gscene.document
        status = doc.status.get(self.node_id)
        if status is not None and status.state == "failed" and status.message:
            return status.message
        problems = doc.problems.get(self.node_id)
        if problems:
            if full:
                return "<br>".join(f"{p.where + ': ' if p.where else ''}{p.message}" for p in problems)
            p = problems[0]
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            where = self._short_where(p.where)
            return f"{where + ': ' if where else ''}{p.message}{more}"
        return ""

    def type_words(self) -> str:
        """The node type's title when the node has a name of its own ("" otherwise)."""
        if self.known and self.node.title and self.node.title != self.node_type.title:
            return self.node_type.title
        return ""

    def input_name(self, s) -> str:
        """What an input is called on the face: a reference socket takes its label once it has
        one ("Mia" for Reference 1 labelled Mia), as the prompt's anchors name it."""
        if s.name in REFERENCE_SOCKETS:
            label = str(self.node.params.get(label_param(s.name)) or "").strip()
            if label:
                return label
        return s.display_name

    def _short_where(self, where: str) -> str:
        """"parameter 'path'" -> "Path": the name the artist sees on the node."""
        kind, _, quoted = where.partition(" ")
        name = quoted.strip("'\"")
        if self.known and kind == "parameter" and name in self.node_type.params:
            return self.node_type.params[name].display_name
        if self.known and kind == "input" and name in self.node_type.inputs:
            return self.input_name(self.node_type.inputs[name])
        return where

    # -- painting ---------------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        selected = bool(option.state & QStyle.State_Selected)
        node = self.node
        doc = self.gscene.document
        status = doc.status.get(self.node_id)
        header_color = theme.category_color(self.category) if self.known else theme.ERROR.darker(160)
        failed = status is not None and status.state == "failed"
        problems = doc.problems.get(self.node_id)

        body_color = theme.NODE_BODY_BYPASSED if node.bypassed else theme.NODE_BODY
        if lod < 0.3:
            # Far away: a coloured block is all the eye can use.
            painter.setPen(QPen(theme.NODE_SELECTED, 3 / max(lod, 0.05)) if selected else Qt.NoPen)
            painter.setBrush(header_color.darker(140) if node.bypassed else header_color)
            painter.drawRect(self.body)
            if failed or problems:
                painter.setBrush(theme.ERROR)
                painter.setPen(Qt.NoPen)
                painter.drawRect(QRectF(0, -12, self.w, 10))
            return

        painter.setRenderHint(QPainter.Antialiasing, lod > 0.5)
        # Body and header.
        border = QPen(theme.NODE_SELECTED if selected else (theme.ERROR if failed else theme.NODE_BORDER),
                      2.0 if (selected or failed) else 1.0)
        painter.setPen(border)
        painter.setBrush(body_color)
        painter.drawRoundedRect(self.body, 5, 5)
        header = QPainterPath()
        header.setFillRule(Qt.WindingFill)
        header.addRoundedRect(QRectF(0, 0, self.w, HEADER), 5, 5)
        header.addRect(QRectF(0, HEADER - 6, self.w, 6))
        painter.setPen(Qt.NoPen)
        painter.setBrush(header_color.darker(170) if node.bypassed else header_color)
        painter.drawPath(header.simplified())
        if node.bypassed:
            painter.setBrush(QBrush(QColor(0, 0, 0, 70), Qt.BDiagPattern))
            painter.drawRect(QRectF(0, 0, self.w, self.height))

        title = node.title or (self.node_type.title if self.known else f"? {node.type_id}")
        if lod < 0.6:
            # Zoomed out: the name, big enough to read, in the middle of the card.
            self._paint_socket_dots(painter)
            size = min(10.0 / lod, 34.0)  # about 10 screen pixels down to framing's 0.3 zoom
            f = theme.font(size, bold=True)
            painter.setFont(f)
            painter.setPen(theme.NODE_TEXT if not node.bypassed else theme.NODE_TEXT_DIM)
            area = QRectF(10, HEADER, self.w - 20, self.height - HEADER)
            painter.drawText(area, Qt.AlignCenter | Qt.TextWordWrap, title)
            if status is not None and status.state == "running" and status.total:
                bar = QRectF(0, self.height - 8, self.w * status.progress, 8)
                painter.setPen(Qt.NoPen)
                painter.setBrush(theme.RUNNING)
                painter.drawRect(bar)
        else:
            # Title.
            painter.setPen(theme.NODE_TEXT if not node.bypassed else theme.NODE_TEXT_DIM)
            painter.setFont(theme.font(9.5, bold=True))
            fm = QFontMetricsF(theme.font(9.5, bold=True))
            right_space = 24 if status is not None and status.state == "cached" else 8
            if node.bypassed:
                title = f"{title}  (bypassed)"
            room = self.w - 8 - right_space
            shown = _elide(fm, title, room)
            painter.drawText(QRectF(8, 0, room, HEADER), Qt.AlignVCenter | Qt.AlignLeft, shown)
            kind = self.type_words()
            if kind:
                # A renamed node still says what it is, dimmer, after its name.
                used = fm.horizontalAdvance(shown) + 6
                small = theme.font(8.0)
                if room - used > 30:
                    painter.setFont(small)
                    painter.setPen(theme.NODE_TEXT_DIM)
                    painter.drawText(QRectF(8 + used, 0, room - used, HEADER), Qt.AlignVCenter | Qt.AlignLeft,
                                     _elide(QFontMetricsF(small), kind, room - used))
            if status is not None and status.state == "cached":
                self._paint_cache_mark(painter, QPointF(self.w - 13, HEADER / 2))
            self._paint_sockets(painter, lod)
            self._paint_params(painter)
            self._paint_thumbnail(painter)
            self._paint_footer(painter, status)

        if failed or problems:
            # A problem stops the run, as a failure does: both are errors, in the log's error
            # colour (the log lists a refused run's problems as errors).
            self._paint_badge(painter, theme.ERROR)

    def _paint_cache_mark(self, painter: QPainter, c: QPointF) -> None:
        painter.setPen(Qt.NoPen)
        painter.setBrush(theme.CACHED)
        painter.drawEllipse(c, 7, 7)
        pen = QPen(QColor("#10300f"), 2.0)
        pen.setCapStyle(Qt.RoundCap)
        painter.setPen(pen)
        painter.drawPolyline(QPolygonF([c + QPointF(-3.5, 0), c + QPointF(-1, 2.8), c + QPointF(3.5, -2.8)]))

    def _socket_brush(self, kind: str, name: str, type_name: str) -> tuple[QColor, QPen]:
        color = theme.type_color(type_name)
        pen = QPen(theme.NODE_BORDER, 1.2)
        marks = self.drop_marks
        if marks is not None and (kind, name) in marks:
            if marks[(kind, name)] is None:
                pen = QPen(theme.VALID_TARGET, 2.5)
            else:
                color = QColor(color)
                color.setAlpha(60)
        if self.hover_socket == (kind, name):
            pen = QPen(QColor("#ffffff"), 2.0)
        return color, pen

    def _paint_sockets(self, painter: QPainter, lod: float) -> None:
        font = theme.font(8.5)
        fm = QFontMetricsF(font)
        painter.setFont(font)
        for i, s in enumerate(self.inputs):
            cy = socket_y(i)
            color, pen = self._socket_brush("in", s.name, s.type.name)
            painter.setPen(pen)
            painter.setBrush(color)
            painter.drawEllipse(QPointF(0, cy), SOCKET_R, SOCKET_R)
            # Optional inputs are dimmed (their tooltip says so).
            painter.setPen(theme.NODE_TEXT if s.required else theme.NODE_TEXT_DIM)
            room = self.w / 2 + 10 if i < len(self.outputs) else self.w - 24
            painter.drawText(QRectF(10, cy - ROW / 2, room + 10, ROW), Qt.AlignVCenter | Qt.AlignLeft,
                             _elide(fm, self.input_name(s), room))
        for i, s in enumerate(self.outputs):
            cy = socket_y(i)
            color, pen = self._socket_brush("out", s.name, s.type.name)
            painter.setPen(pen)
            painter.setBrush(color)
            painter.drawEllipse(QPointF(self.w, cy), SOCKET_R, SOCKET_R)
            painter.setPen(theme.NODE_TEXT)
            painter.drawText(QRectF(self.w / 2 - 20, cy - ROW / 2, self.w / 2 + 10, ROW),
                             Qt.AlignVCenter | Qt.AlignRight, _elide(fm, s.display_name, self.w / 2))

    def _paint_socket_dots(self, painter: QPainter) -> None:
        painter.setPen(Qt.NoPen)
        for names, sockets, x in ((self.input_names, self.inputs, 0.0), (self.output_names, self.outputs, self.w)):
            for i, s in enumerate(sockets):
                painter.setBrush(theme.type_color(s.type.name))
                painter.drawEllipse(QPointF(x, socket_y(i)), SOCKET_R, SOCKET_R)

    def _paint_params(self, painter: QPainter) -> None:
        if not self.shown_params and not self.summary_rows:
            return
        font = theme.font(8.0)
        fm = QFontMetricsF(font)
        painter.setFont(font)
        painter.setPen(QPen(QColor(255, 255, 255, 18), 1))
        painter.drawLine(QPointF(6, self.params_top - 2), QPointF(self.w - 6, self.params_top - 2))
        problems = self.gscene.document.problems.get(self.node_id) or []
        bad = {p.where for p in problems}
        label_w = 78.0
        for i, p in enumerate(self.shown_params):
            y = self.params_top + PARAM_ROW * i
            painter.setPen(theme.NODE_TEXT_DIM)
            painter.drawText(QRectF(10, y, label_w, PARAM_ROW), Qt.AlignVCenter | Qt.AlignLeft,
                             _elide(fm, p.display_name, label_w))
            value = self.node.params.get(p.name, p.default)
            text = format_value(value)
            if p.type.name == "File" and text and text != "—":
                text = text.replace("\\", "/").rsplit("/", 1)[-1]
            if p.type.name == "Seed":
                text += self.seed_mark(p.name)
            elif p.type.name == "Choice" and isinstance(value, str):
                text = choice_label(p, value)
            is_bad = f"parameter {p.name!r}" in bad
            painter.setPen(theme.WARNING if is_bad else theme.PARAM_VALUE)
            painter.drawText(QRectF(10 + label_w + 4, y, self.w - label_w - 24, PARAM_ROW),
                             Qt.AlignVCenter | Qt.AlignLeft, _elide(fm, text or "—", self.w - label_w - 24))
        for i, (label, text) in enumerate(self.summary_rows):
            # What the settings come to: read-only, in the dim colour of derived facts.
            y = self.params_top + PARAM_ROW * (len(self.shown_params) + i)
            painter.setPen(theme.NODE_TEXT_DIM)
            painter.drawText(QRectF(10, y, label_w, PARAM_ROW), Qt.AlignVCenter | Qt.AlignLeft,
                             _elide(fm, label, label_w))
            painter.drawText(QRectF(10 + label_w + 4, y, self.w - label_w - 24, PARAM_ROW),
                             Qt.AlignVCenter | Qt.AlignLeft, _elide(fm, text, self.w - label_w - 24))
        if self.hidden_params:
            y = self.params_top + PARAM_ROW * (len(self.shown_params) + len(self.summary_rows))
            painter.setPen(theme.NODE_TEXT_DIM)
            painter.drawText(QRectF(10, y, self.w - 20, PARAM_ROW), Qt.AlignVCenter | Qt.AlignLeft,
                             f"+ {self.hidden_params} more in the inspector")

    def seed_mark(self, name: str) -> str:
        """What the face adds to a seed's value: what the seed does after each run."""
        doc = self.gscene.document
        mode = doc.seed_control(self.node_id, name) if hasattr(doc, "seed_control") else "fixed"
        return {"increment": "  (+1 after run)", "randomise": "  (random after run)"}.get(mode, "")

    def thumbnail_rect(self) -> QRectF:
        if self.thumb is None:
            return QRectF()
        return self.layout.thumbnail_rect(self.thumb.width(), self.thumb.height())

    def _paint_thumbnail(self, painter: QPainter) -> None:
        """The last result, updated after each run: a video's first frame, an image, a waveform."""
        if self.thumb is None:
            return
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor("#101113"))
        painter.drawRoundedRect(self.layout.thumb_area(), 3, 3)
        painter.setRenderHint(QPainter.SmoothPixmapTransform, True)
        painter.drawImage(self.thumbnail_rect(), self.thumb)

    def estimate_text(self) -> str:
        e = self.estimate
        if e is None:
            return ""
        from engines.estimate import duration_words
        return f"\u2248 {duration_words(e.seconds)}{'' if e.measured else ' (guess)'}" + \
            (" \u2014 long" if e.long else "")

    def _paint_footer(self, painter: QPainter, status) -> None:
        rect = self.layout.footer_rect()
        font = theme.font(7.5)
        painter.setFont(font)
        if (status is None or not status.state or status.state == "queued") and self.estimate is not None:
            # Before it runs: how long it will take on this machine (amber when long).
            painter.setPen(theme.WARNING if self.estimate.long else theme.NODE_TEXT_DIM)
            painter.drawText(rect, Qt.AlignVCenter | Qt.AlignLeft, self.estimate_text())
        if status is None or not status.state:
            return
        if status.state == "running":
            painter.setPen(Qt.NoPen)
            painter.setBrush(QColor("#15171a"))
            painter.drawRoundedRect(rect, 3, 3)
            fill = QRectF(rect)
            fill.setWidth(max(4.0, rect.width() * (status.progress if status.total else 0.08)))
            painter.setBrush(theme.RUNNING)
            painter.drawRoundedRect(fill, 3, 3)
            painter.setPen(QColor("#ffffff"))
            text = f"{status.step}/{status.total}" if status.total else "running"
            painter.drawText(rect, Qt.AlignCenter, text)
            return
        text, color = "", theme.NODE_TEXT_DIM
        if status.state == "queued":
            text = "queued"
        elif status.state == "cached":
            text, color = "from cache", theme.CACHED
        elif status.state == "done":
            parts = []
            if status.seconds is not None:
                parts.append(f"{status.seconds:.2f} s")
            if status.memory:
                parts.append(format_bytes(status.memory))
            text = " · ".join(parts) or "done"
        elif status.state == "failed":
            text, color = "failed", theme.ERROR
        elif status.state == "cancelled":
            text = "cancelled"
        elif status.state == "skipped":
            text, color = "not run: an input failed", theme.WARNING
        elif status.state == "bypassed":
            text = "bypassed"
        painter.setPen(color)
        painter.drawText(rect, Qt.AlignVCenter | Qt.AlignRight, text)

    def _paint_badge(self, painter: QPainter, color: QColor) -> None:
        text = self._badge_text()
        font = theme.font(8.0, bold=True)
        fm = QFontMetricsF(font)
        rect = self.badge_rect()
        rect.setWidth(min(self.badge_max_w, max(self.w, fm.horizontalAdvance("✕ " + text) + 16)))
        painter.setFont(font)
        painter.setPen(Qt.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(rect, 4, 4)
        painter.setPen(QColor("#ffffff") if color == theme.ERROR else QColor("#1b1b1b"))
        painter.drawText(rect.adjusted(6, 0, -6, 0), Qt.AlignVCenter | Qt.AlignLeft,
                         _elide(fm, ("✕ " if color == theme.ERROR else "! ") + text, rect.width() - 12))


class LinkItem(QGraphicsPathItem):
    def __init__(self, scene: "GraphScene", link: Link, source: NodeItem, target: NodeItem):
        super().__init__()
        self.gscene = scene
        self.link = link
        self.source = source
        self.target = target
        self.setZValue(0)
        self.setFlags(QGraphicsItem.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        type_name = source.socket_type_name("out", link.source_socket) or target.socket_type_name(
            "in", link.target_socket)
        self.color = theme.type_color(type_name)
        self._hover = False
        self._insert = False
        self._shape: QPainterPath | None = None
        self.had_reroutes = False
        src_t = source.socket_type_name("out", link.source_socket)
        dst_t = target.socket_type_name("in", link.target_socket)
        # A link a file holds although its types do not match (validation names it).
        self.broken = (not src_t or not dst_t
                       or connection_refusal(ALL_TYPES[src_t], ALL_TYPES[dst_t]) is not None)
        self.setToolTip(f"{link.source}.{link.source_socket} → {link.target}.{link.target_socket}"
                        f"<br><i>Alt+click: add a reroute dot; drag the input end away to disconnect</i>")
        self._apply_pen()
        self.update_path()

    def set_insert_highlight(self, on: bool) -> None:
        """Lit while a node dragged over it would be inserted into it."""
        self._insert = on
        self._apply_pen()

    def _apply_pen(self) -> None:
        width = 3.2 if (self.isSelected() or self._hover) else 2.2
        color = theme.NODE_SELECTED if self.isSelected() else (theme.ERROR if self.broken else self.color)
        if self._insert:
            color, width = QColor("#ffffff"), 4.0
        pen = QPen(color, width)
        if self.broken or self.source.node.bypassed or self.target.node.bypassed:
            pen.setStyle(Qt.DashLine)
        self.setPen(pen)

    def update_path(self) -> None:
        via = [QPointF(x, y) for x, y in self.gscene.document.reroutes(self.link)]
        self.setPath(link_path(self.source.output_pos(self.link.source_socket),
                               self.target.input_pos(self.link.target_socket), via))
        self._shape = None

    def shape(self) -> QPainterPath:
        if self._shape is None:
            self._shape = geometry.stroke(self.path(), LINK_HIT_WIDTH)
        return self._shape

    def itemChange(self, change, value):
        if change == QGraphicsItem.ItemSelectedHasChanged:
            self._apply_pen()
        return super().itemChange(change, value)

    def hoverEnterEvent(self, event) -> None:
        self._hover = True
        self._apply_pen()

    def hoverLeaveEvent(self, event) -> None:
        self._hover = False
        self._apply_pen()

    def refresh(self) -> None:
        self._apply_pen()


class RerouteItem(QGraphicsItem):
    """A dot that bends a link; drag it to route the wire."""

    R = REROUTE_R

    def __init__(self, scene: "GraphScene", link: Link, index: int, color: QColor):
        super().__init__()
        self.gscene, self.link, self.index, self.color = scene, link, index, color
        self.setFlags(QGraphicsItem.ItemIsSelectable | QGraphicsItem.ItemIsMovable
                      | QGraphicsItem.ItemSendsGeometryChanges)
        self.setZValue(2)
        self.setToolTip("Reroute dot: drag to bend the wire; select and press Delete to remove")
        self.press_pos: QPointF | None = None

    def boundingRect(self) -> QRectF:
        return geometry.dot_bounds(self.R)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.Antialiasing)
        selected = bool(option.state & QStyle.State_Selected)
        painter.setPen(QPen(theme.NODE_SELECTED if selected else theme.NODE_BORDER, 1.5))
        painter.setBrush(self.color)
        painter.drawEllipse(QPointF(0, 0), self.R, self.R)

    def itemChange(self, change, value):
        if change == QGraphicsItem.ItemPositionHasChanged:
            self.gscene.reroute_item_moved(self)
        return super().itemChange(change, value)


class BackdropItem(QGraphicsItem):
    """A coloured frame behind a group of nodes, with a title. Dragging its title
    moves the nodes on it; the corner handle resizes it."""

    TITLE_H = geometry.BACKDROP_TITLE_H

    def __init__(self, scene: "GraphScene", index: int, title: str, rect: tuple[float, float, float, float],
                 color: str):
        super().__init__()
        self.gscene, self.index = scene, index
        self.title, self.color = title, QColor(color)
        x, y, w, h = rect
        self.setPos(x, y)
        self.size = geometry.backdrop_size(w, h)
        self.setZValue(-10)
        self.setFlags(QGraphicsItem.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setToolTip(f"Backdrop “{title}”: drag the title bar to move it with its nodes, "
                        "the corner to resize; double-click the title to rename")

    def rect(self) -> QRectF:
        return QRectF(0, 0, *self.size)

    def scene_rect(self) -> QRectF:
        return QRectF(self.pos(), QRectF(0, 0, *self.size).size())

    def boundingRect(self) -> QRectF:
        return self.rect().adjusted(-2, -2, 2, 2)

    def title_contains(self, scene_pos: QPointF) -> bool:
        return geometry.backdrop_title_rect(self.size).contains(self.mapFromScene(scene_pos))

    def handle_contains(self, scene_pos: QPointF) -> bool:
        return geometry.backdrop_handle_rect(self.size).contains(self.mapFromScene(scene_pos))

    def set_size(self, w: float, h: float) -> None:
        self.prepareGeometryChange()
        self.size = geometry.backdrop_size(w, h)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        selected = bool(option.state & QStyle.State_Selected)
        fill = QColor(self.color)
        fill.setAlpha(70)
        painter.setPen(QPen(theme.NODE_SELECTED, 2) if selected else Qt.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(self.rect(), 6, 6)
        bar = QColor(self.color)
        bar.setAlpha(170)
        painter.setPen(Qt.NoPen)
        painter.setBrush(bar)
        painter.drawRoundedRect(geometry.backdrop_title_rect(self.size), 6, 6)
        if lod > 0.15:
            size = 13.0 if lod > 0.3 else 13.0 / max(lod, 0.1) * 0.3
            f = theme.font(size, bold=True)
            painter.setFont(f)
            painter.setPen(theme.NODE_TEXT)
            fm = QFontMetricsF(f)
            painter.drawText(QRectF(10, 0, self.size[0] - 20, self.TITLE_H), Qt.AlignVCenter | Qt.AlignLeft,
                             _elide(fm, self.title, self.size[0] - 20))
            w, h = self.size
            painter.setPen(QPen(QColor(255, 255, 255, 90), 1.5))
            for d in (5.0, 10.0):
                painter.drawLine(QPointF(w - d, h - 3), QPointF(w - 3, h - d))


class TempLinkItem(QGraphicsPathItem):
    """The wire under the mouse while a link is dragged."""

    def __init__(self, color: QColor):
        super().__init__()
        pen = QPen(color, 2.4)
        pen.setStyle(Qt.DashLine)
        self.setPen(pen)
        self.setZValue(5)

    def set_ends(self, out_pos: QPointF, in_pos: QPointF) -> None:
        self.setPath(link_path(out_pos, in_pos))


class CutLineItem(QGraphicsPathItem):
    def __init__(self):
        super().__init__()
        pen = QPen(theme.LINK_CUT, 1.8)
        pen.setStyle(Qt.DashLine)
        pen.setCosmetic(True)
        self.setPen(pen)
        self.setZValue(6)
        self.points: list[QPointF] = []

    def add_point(self, p: QPointF) -> None:
        self.points.append(p)
        path = QPainterPath(self.points[0])
        for q in self.points[1:]:
            path.lineTo(q)
        self.setPath(path)

