"""Mouse gestures, one small object each (orange-canvas-core's idea).

A gesture starts on a mouse press in the view, follows the mouse, and ends by
asking the document for one edit (or none). While it runs, it only draws
helpers (a dashed wire, a cut line); the model changes once, at the end, so
each gesture is one undo step.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QCursor, QMouseEvent
from PySide6.QtWidgets import QGraphicsView, QToolTip

from app.ui import theme
from app.ui.canvas import geometry
from app.ui.canvas.geometry import distance
from app.ui.canvas.items import BackdropItem, CutLineItem, LinkItem, NodeItem, TempLinkItem
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


def shift_as_ctrl(event: QMouseEvent) -> QMouseEvent:
    """Shift extends the selection like Ctrl (Qt only knows Ctrl)."""
    mods = event.modifiers()
    if not mods & Qt.ShiftModifier:
        return event
    mods = (mods & ~Qt.ShiftModifier) | Qt.ControlModifier
    return QMouseEvent(event.type(), event.position(), event.scenePosition(), event.globalPosition(),
                       event.button(), event.buttons(), mods, event.pointingDevice())


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
        cut = geometry.stroke(self.line.path(), 2)
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


class MoveNodes(Interaction):
    """Left-drag a node: it and the other selected nodes move; one undo step at the end.

    Qt itself drags the items (the gesture hands it the mouse events), so its rules
    stay as they were: which nodes a press selects, every selected node following.
    The gesture keeps where they started and turns the drag into one document edit.
    """

    def __init__(self, view: "GraphView", starts: dict[str, QPointF]):
        super().__init__(view)
        self.starts = starts  # node id -> the item's position at the press
        self.last_pos: tuple[QPointF, QPointF] | None = None  # the last move: (in the view, on screen)

    def mouse_move(self, event: QMouseEvent, scene_pos: QPointF) -> None:
        QGraphicsView.mouseMoveEvent(self.view, shift_as_ctrl(event))
        self.last_pos = (QPointF(event.position()), QPointF(event.globalPosition()))

    def mouse_release(self, event: QMouseEvent, scene_pos: QPointF) -> None:
        QGraphicsView.mouseReleaseEvent(self.view, shift_as_ctrl(event))
        if event.button() != Qt.LeftButton:
            return  # another button let go: the left one still drags
        moved, old = self.moved()
        self.commit(moved, old)
        self.finish()

    def moved(self) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
        """(new, old) positions of the nodes that moved."""
        moved, old = {}, {}
        for node_id, start in self.starts.items():
            item = self.scene.nodes.get(node_id)
            if item is not None and item.pos() != start:
                moved[node_id] = (item.pos().x(), item.pos().y())
                old[node_id] = (start.x(), start.y())
        return moved, old

    def commit(self, moved: dict[str, tuple[float, float]], old: dict[str, tuple[float, float]]) -> None:
        if moved:
            stack = self.document.undo_stack
            stack.beginMacro("Move")
            try:
                self.document.move_nodes(moved, old=old)
            finally:
                stack.endMacro()

    def cancel(self) -> None:
        self._end_qt_drag()
        for node_id, start in self.starts.items():
            item = self.scene.nodes.get(node_id)
            if item is not None:
                item.setPos(start)
        self.finish()

    def _end_qt_drag(self) -> None:
        """Ends Qt's own drag before the button is up, leaving nothing of it behind."""
        if self.last_pos is None:
            # Not moved yet: Qt has only grabbed the mouse (a release here would be a click).
            grabber = self.scene.mouseGrabberItem()
            if grabber is not None:
                grabber.ungrabMouse()
            return
        # Qt keeps where the items started until it sees the release; without one, the next
        # drag of any node would start from these nodes' places.
        at, on_screen = self.last_pos
        QGraphicsView.mouseReleaseEvent(self.view, QMouseEvent(
            QEvent.MouseButtonRelease, at, on_screen, Qt.LeftButton, Qt.NoButton, Qt.NoModifier))


class InsertNode(MoveNodes):
    """Drag one unlinked node onto a link to insert it there (hold Alt to just move it).

    The link it would take is lit while dragging: any link that crosses the node's body
    (a wire is thin and the artist aims with the whole node, as in Blender). The move
    and the new links are one undo step.
    """

    def __init__(self, view: "GraphView", starts: dict[str, QPointF]):
        super().__init__(view, starts)
        (self.node_id,) = starts
        self.target: LinkItem | None = None

    def mouse_move(self, event: QMouseEvent, scene_pos: QPointF) -> None:
        super().mouse_move(event, scene_pos)
        self._mark_target(event)

    def _mark_target(self, event: QMouseEvent) -> None:
        target = None
        if not event.modifiers() & Qt.AltModifier:
            item = self.scene.nodes.get(self.node_id)
            free = not any(self.node_id in (l.source, l.target) for l in self.document.graph.links)
            if item is not None and free:
                target = self._link_under(item)
        if target is not self.target:
            if self.target is not None:
                self.target.set_insert_highlight(False)
            if target is not None:
                target.set_insert_highlight(True)
            self.target = target

    def _link_under(self, item: NodeItem) -> LinkItem | None:
        """The link crossing the node's body nearest its centre, that the node can go into."""
        body = item.mapRectToScene(item.body)
        centre = body.center()
        best, best_d = None, math.inf
        for found in self.scene.items(body, Qt.IntersectsItemShape):
            if not isinstance(found, LinkItem) or not insertable(self.document.graph, item.node_id, found.link):
                continue
            path = found.path()
            d = min(QLineF(centre, path.pointAtPercent(i / 64)).length() for i in range(65))
            if d < best_d:
                best, best_d = found, d
        return best

    def _take_target(self) -> LinkItem | None:
        target, self.target = self.target, None
        if target is not None:
            target.set_insert_highlight(False)
        return target

    def commit(self, moved: dict[str, tuple[float, float]], old: dict[str, tuple[float, float]]) -> None:
        target = self._take_target()
        if not moved:
            return
        stack = self.document.undo_stack
        stack.beginMacro("Move and insert" if target is not None else "Move")
        try:
            self.document.move_nodes(moved, old=old)
            if target is not None:
                self._insert(target.link)
        finally:
            stack.endMacro()

    def _insert(self, link: Link) -> None:
        sockets = insertable(self.document.graph, self.node_id, link)
        if sockets is None or link not in self.document.graph.links:
            return
        inp, out = sockets
        self.document.disconnect([link])
        self.document.connect(link.source, link.source_socket, self.node_id, inp)
        self.document.connect(self.node_id, out, link.target, link.target_socket)
        self.view.show_status(f"Inserted {self.document.node_title(self.node_id)} "
                              "(hold Alt while dragging to just move)")

    def cancel(self) -> None:
        self._take_target()
        super().cancel()


def insertable(graph, node_id: str, link: Link) -> tuple[str, str] | None:
    """(input, output) of ``node_id`` that can take ``link``'s place in the middle, or None."""
    try:
        t = graph.node_type(node_id)
        src = graph.node_type(link.source).outputs[link.source_socket].type
        dst = graph.node_type(link.target).inputs[link.target_socket].type
    except (KeyError, GraphError):  # unknown types or sockets: nothing to insert
        return None
    inp = next((s.name for s in t.inputs.values() if can_connect(src, s.type)), None)
    out = next((s.name for s in t.outputs.values() if can_connect(s.type, dst)), None)
    return (inp, out) if inp and out else None


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
