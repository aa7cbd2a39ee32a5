"""Mouse gestures, one small object each (orange-canvas-core's idea).

A gesture starts on a mouse press in the view, follows the mouse, and ends by
asking the document for one edit (or none). While it runs, it only draws
helpers (a dashed wire, a cut line); the model changes once, at the end, so
each gesture is one undo step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QCursor, QMouseEvent, QPainterPathStroker
from PySide6.QtWidgets import QToolTip

from app.ui import theme
from app.ui.canvas.items import (BackdropItem, CutLineItem, LinkItem, NodeItem, TempLinkItem, distance)
from nodes.graph import GraphError, Link
from nodes.types import ALL_TYPES, can_connect

if TYPE_CHECKING:
    from app.ui.canvas.view import GraphView


class Interaction:
    cursor = Qt.ArrowCursor

    def __init__(self, view: "GraphView"):
        self.view = view
        self.scene = view.gscene
        self.document = view.document

    def start(self) -> None:
        self.view.viewport().setCursor(self.cursor)

    def mouse_move(self, event: QMouseEvent, scene_pos: QPointF) -> None:
        pass

    def mouse_release(self, event: QMouseEvent, scene_pos: QPointF) -> None:
        self.finish()

    def cancel(self) -> None:
        self.finish()

    def finish(self) -> None:
        self.view.viewport().unsetCursor()
        self.view.end_interaction(self)


class Pan(Interaction):
    """Middle-drag, or Space+drag: move the view."""

    cursor = Qt.ClosedHandCursor

    def __init__(self, view: "GraphView", view_pos: QPointF):
        super().__init__(view)
        self.last = view_pos

    def mouse_move(self, event: QMouseEvent, scene_pos: QPointF) -> None:
        pos = event.position()
        delta = pos - self.last
        self.last = pos
        h, v = self.view.horizontalScrollBar(), self.view.verticalScrollBar()
        h.setValue(h.value() - round(delta.x()))
        v.setValue(v.value() - round(delta.y()))


class DragLink(Interaction):
    """Drag from a socket to link it; from a linked input to move or remove that link.

    Valid targets are lit while dragging; an incompatible drop is refused with a
    tooltip saying why; a drop on empty canvas opens the add-node search with
    only the node types that fit, and links the new node.
    """

    cursor = Qt.CrossCursor

    def __init__(self, view: "GraphView", item: NodeItem, kind: str, socket: str, scene_pos: QPointF):
        super().__init__(view)
        self.detached: Link | None = None
        if kind == "in":
            existing = self.document.graph.link_into(item.node_id, socket)
            if existing is not None and existing.source in self.scene.nodes:
                # Pulling a link off an input: it now hangs from its output.
                self.detached = existing
                item = self.scene.nodes[existing.source]
                kind, socket = "out", existing.source_socket
        self.item, self.kind, self.socket = item, kind, socket
        self.type_name = item.socket_type_name(kind, socket)
        self.press_pos = scene_pos
        self.temp = TempLinkItem(theme.type_color(self.type_name))
        self.hover: tuple[NodeItem, str, str] | None = None
        self.refusal: str | None = None

    @property
    def anchor(self) -> QPointF:
        return self.item.output_pos(self.socket) if self.kind == "out" else self.item.input_pos(self.socket)

    def start(self) -> None:
        super().start()
        self.scene.addItem(self.temp)
        if self.detached is not None:
            link_item = self.scene.links.get(self.detached)
            if link_item is not None:
                link_item.setVisible(False)
        self._mark_targets()
        self._draw(self.press_pos)

    def _mark_targets(self) -> None:
        """Light the sockets this link may go to (cheap: types and loops only)."""
        graph = self.document.graph
        my_type = ALL_TYPES.get(self.type_name)
        if self.kind == "out":
            blocked = graph.upstream([self.item.node_id])  # linking into these would make a loop
        else:
            blocked = _downstream(graph, self.item.node_id)
        want = "in" if self.kind == "out" else "out"
        for node_item in self.scene.nodes.values():
            marks: dict[tuple[str, str], str | None] = {}
            sockets = node_item.inputs if want == "in" else node_item.outputs
            for s in sockets:
                ok = my_type is not None and node_item.node_id not in blocked and (
                    can_connect(my_type, s.type) if want == "in" else can_connect(s.type, my_type))
                marks[(want, s.name)] = None if ok else "refused"
            node_item.drop_marks = marks
            node_item.update()

    def _clear_marks(self) -> None:
        for node_item in self.scene.nodes.values():
            if node_item.drop_marks is not None:
                node_item.drop_marks = None
                node_item.update()

    def _draw(self, scene_pos: QPointF) -> None:
        end = scene_pos
        if self.hover is not None:
            target, kind, name = self.hover
            end = target.input_pos(name) if kind == "in" else target.output_pos(name)
        if self.kind == "out":
            self.temp.set_ends(self.anchor, end)
        else:
            self.temp.set_ends(end, self.anchor)

    def _target_at(self, scene_pos: QPointF) -> tuple[NodeItem, str, str] | None:
        """The socket under the mouse, or, over a node's body, its first socket that fits."""
        want = "in" if self.kind == "out" else "out"
        hit = self.scene.socket_at(scene_pos)
        if hit is not None and hit[1] == want:
            return hit
        node_item = self.scene.node_at(scene_pos, margin=0)
        if node_item is None or node_item is self.item:
            return None
        sockets = node_item.inputs if want == "in" else node_item.outputs
        marks = node_item.drop_marks or {}
        fitting = [s for s in sockets if marks.get((want, s.name), "x") is None]
        # Prefer a free input, so dropping on a node does not steal a link.
        if want == "in":
            free = [s for s in fitting if self.document.graph.link_into(node_item.node_id, s.name) is None]
            fitting = free or fitting
        if fitting:
            return node_item, want, fitting[0].name
        if sockets:
            return node_item, want, sockets[0].name
        return None

    def _link_for(self, target: tuple[NodeItem, str, str]) -> tuple[str, str, str, str]:
        node_item, _, name = target
        if self.kind == "out":
            return (self.item.node_id, self.socket, node_item.node_id, name)
        return (node_item.node_id, name, self.item.node_id, self.socket)

    def mouse_move(self, event: QMouseEvent, scene_pos: QPointF) -> None:
        target = self._target_at(scene_pos)
        if target != self.hover:
            if self.hover is not None:
                self.hover[0].hover_socket = None
                self.hover[0].update()
            self.hover = target
            if target is not None:
                target[0].hover_socket = (target[1], target[2])
                target[0].update()
                self.refusal = self._problem(target)
                if self.refusal:
                    QToolTip.showText(QCursor.pos(), f"Cannot connect: {self.refusal}", self.view)
                else:
                    QToolTip.hideText()
            else:
                self.refusal = None
                QToolTip.hideText()
        self._draw(scene_pos)

    def _problem(self, target: tuple[NodeItem, str, str]) -> str | None:
        args = self._link_for(target)
        if self.detached is not None and Link(*args) == self.detached:
            return None
        problem = self.document.connection_problem(*args)
        return problem

    def mouse_release(self, event: QMouseEvent, scene_pos: QPointF) -> None:
        target = self._target_at(scene_pos)
        self._cleanup()
        if target is None:
            if distance(scene_pos, self.press_pos) < 6:
                self._restore()
                self.finish()
                return
            if self.detached is not None:
                self.document.disconnect([self.detached])
                self.view.show_status("Link removed")
                self.finish()
                return
            self.finish()
            self.view.open_search_for_link(self.item.node_id, self.kind, self.socket, self.type_name, scene_pos)
            return
        args = self._link_for(target)
        if self.detached is not None and Link(*args) == self.detached:
            self._restore()
            self.finish()
            return
        problem = self.document.connection_problem(*args)
        if problem:
            self._restore()
            self.view.refuse(problem)
            self.finish()
            return
        try:
            if self.detached is not None:
                stack = self.document.undo_stack
                stack.beginMacro("Move link")
                try:
                    self.document.disconnect([self.detached])
                    self.document.connect(*args)
                finally:
                    stack.endMacro()
            else:
                self.document.connect(*args)
        except GraphError as exc:
            self._restore()
            self.view.refuse(str(exc))
        self.finish()

    def _restore(self) -> None:
        if self.detached is not None:
            link_item = self.scene.links.get(self.detached)
            if link_item is not None:
                link_item.setVisible(True)

    def _cleanup(self) -> None:
        QToolTip.hideText()
        if self.hover is not None:
            self.hover[0].hover_socket = None
        self._clear_marks()
        if self.temp.scene() is not None:
            self.scene.removeItem(self.temp)

    def cancel(self) -> None:
        self._cleanup()
        self._restore()
        self.finish()


def _downstream(graph, node_id: str) -> set[str]:
    seen, stack = set(), [node_id]
    by_source: dict[str, list[str]] = {}
    for link in graph.links:
        by_source.setdefault(link.source, []).append(link.target)
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(by_source.get(current, ()))
    return seen


class CutLinks(Interaction):
    """Ctrl+right-drag across wires to cut them."""

    cursor = Qt.CrossCursor

    def __init__(self, view: "GraphView", scene_pos: QPointF):
        super().__init__(view)
        self.line = CutLineItem()
        self.line.add_point(scene_pos)

    def start(self) -> None:
        super().start()
        self.scene.addItem(self.line)

    def mouse_move(self, event: QMouseEvent, scene_pos: QPointF) -> None:
        self.line.add_point(scene_pos)

    def crossed(self) -> list[Link]:
        stroker = QPainterPathStroker()
        stroker.setWidth(2)
        cut = stroker.createStroke(self.line.path())
        bounds = cut.boundingRect()
        hits = []
        for link, item in self.scene.links.items():
            if item.isVisible() and item.sceneBoundingRect().intersects(bounds) and item.shape().intersects(cut):
                hits.append(link)
        return hits

    def mouse_release(self, event: QMouseEvent, scene_pos: QPointF) -> None:
        self.line.add_point(scene_pos)
        links = self.crossed()
        self.scene.removeItem(self.line)
        if links:
            self.document.disconnect(links, text=f"Cut {len(links)} link{'s' if len(links) > 1 else ''}")
            self.view.show_status(f"Cut {len(links)} link{'s' if len(links) > 1 else ''}")
        self.finish()

    def cancel(self) -> None:
        if self.line.scene() is not None:
            self.scene.removeItem(self.line)
        self.finish()


class MoveBackdrop(Interaction):
    """Drag a backdrop by its title: the nodes on it come along."""

    cursor = Qt.SizeAllCursor

    def __init__(self, view: "GraphView", backdrop: BackdropItem, scene_pos: QPointF):
        super().__init__(view)
        self.backdrop = backdrop
        self.press = scene_pos
        self.origin = backdrop.pos()
        area = backdrop.scene_rect()
        self.riders = {nid: item.pos() for nid, item in self.scene.nodes.items()
                       if area.contains(item.mapRectToScene(item.body))}

    def mouse_move(self, event: QMouseEvent, scene_pos: QPointF) -> None:
        delta = scene_pos - self.press
        self.backdrop.setPos(self.origin + delta)
        for nid, start in self.riders.items():
            self.scene.nodes[nid].setPos(start + delta)

    def mouse_release(self, event: QMouseEvent, scene_pos: QPointF) -> None:
        delta = scene_pos - self.press
        if abs(delta.x()) + abs(delta.y()) > 0.5:
            stack = self.document.undo_stack
            stack.beginMacro("Move backdrop")
            try:
                p = self.origin + delta
                b = self.document.graph.backdrops[self.backdrop.index]
                self.document.edit_backdrop(self.backdrop.index, rect=(p.x(), p.y(), b.rect[2], b.rect[3]))
                self.document.move_nodes({nid: (start.x() + delta.x(), start.y() + delta.y())
                                          for nid, start in self.riders.items()},
                                         old={nid: (s.x(), s.y()) for nid, s in self.riders.items()})
            finally:
                stack.endMacro()
        self.finish()

    def cancel(self) -> None:
        self.backdrop.setPos(self.origin)
        for nid, start in self.riders.items():
            if nid in self.scene.nodes:
                self.scene.nodes[nid].setPos(start)
        self.finish()


class ResizeBackdrop(Interaction):
    cursor = Qt.SizeFDiagCursor

    def __init__(self, view: "GraphView", backdrop: BackdropItem, scene_pos: QPointF):
        super().__init__(view)
        self.backdrop = backdrop
        self.press = scene_pos
        self.size = backdrop.size

    def mouse_move(self, event: QMouseEvent, scene_pos: QPointF) -> None:
        delta = scene_pos - self.press
        self.backdrop.set_size(self.size[0] + delta.x(), self.size[1] + delta.y())

    def mouse_release(self, event: QMouseEvent, scene_pos: QPointF) -> None:
        p, (w, h) = self.backdrop.pos(), self.backdrop.size
        self.document.edit_backdrop(self.backdrop.index, rect=(p.x(), p.y(), w, h), text="Resize backdrop")
        self.finish()

    def cancel(self) -> None:
        self.backdrop.set_size(*self.size)
        self.finish()


class MoveReroute(Interaction):
    def __init__(self, view: "GraphView", dot, scene_pos: QPointF):
        super().__init__(view)
        self.dot = dot
        self.press = scene_pos
        self.origin = dot.pos()

    def mouse_move(self, event: QMouseEvent, scene_pos: QPointF) -> None:
        self.dot.setPos(self.origin + (scene_pos - self.press))

    def mouse_release(self, event: QMouseEvent, scene_pos: QPointF) -> None:
        p = self.origin + (scene_pos - self.press)
        if distance(p, self.origin) > 0.5:
            self.document.move_reroute(self.dot.link, self.dot.index, (p.x(), p.y()),
                                       old_pos=(self.origin.x(), self.origin.y()))
        self.finish()

    def cancel(self) -> None:
        self.dot.setPos(self.origin)
        self.finish()


def reroute_index(document, link_item: LinkItem, scene_pos: QPointF) -> int:
    """Where a new dot goes among a link's dots: in order along the wire."""
    points = document.reroutes(link_item.link)
    if not points:
        return 0
    path = link_item.path()
    # Find the fraction of the path nearest to the click, and count dots before it.
    best_t, best_d = 0.0, float("inf")
    for i in range(101):
        t = i / 100
        d = distance(path.pointAtPercent(t), scene_pos)
        if d < best_d:
            best_t, best_d = t, d
    before = 0
    for x, y in points:
        nearest_t, nearest_d = 0.0, float("inf")
        for i in range(101):
            t = i / 100
            d = distance(path.pointAtPercent(t), QPointF(x, y))
            if d < nearest_d:
                nearest_t, nearest_d = t, d
        if nearest_t < best_t:
            before += 1
    return before


def rect_around(items: list[NodeItem], margin: float = 30.0) -> QRectF:
    rect = QRectF()
    for item in items:
        rect = rect.united(item.mapRectToScene(item.body))
    return rect.adjusted(-margin, -margin - BackdropItem.TITLE_H, margin, margin)
