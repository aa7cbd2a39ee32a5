"""The canvas view: pan, zoom, frame, keys, and which gesture a mouse press starts.

Mouse:
  left-drag a socket          link (valid targets light up; wrong drops are refused, saying why)
  left-drag a linked input    move the link, or drop it on empty canvas to disconnect
  drop a link on empty canvas add-node search, filtered to what fits, and link the new node
  left-drag empty canvas      box select (Shift / Ctrl: add / toggle)
  middle-drag, Space+drag     pan
  wheel                       zoom at the cursor
  Ctrl+right-drag             cut the links crossed
  Alt+click a link            add a reroute dot
  drag a node onto a link     insert it there (hold Alt to just move)
  double-click empty canvas   add-node search;  double-click a title: rename
  Esc                         cancel the drag under way (a box select excepted)
Keys: see ``app.ui.keys``.

Each drag is an object in ``interactions``; the right-click menus are in
``menus``, drag-and-drop onto the canvas in ``drops``, renaming in ``rename``.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable

from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeyEvent, QMouseEvent, QPainter, QTransform
from PySide6.QtWidgets import QGraphicsView, QLineEdit, QToolTip, QWidget

from app.ui.canvas import drops, interactions as I, menus, rename
from app.ui.canvas.geometry import WIDTH
from app.ui.canvas.items import BackdropItem, LinkItem, NodeItem, RerouteItem
from app.ui.keys import CANVAS_ACTIONS as ACTIONS, Keymap
from app.ui.canvas.minimap import Minimap
from app.ui.canvas.scene import GraphScene, set_cache_for_zoom
from app.ui.canvas.search import AddNodePopup, FindNodePopup
from app.ui.document import CLIPBOARD_MIME, Document
from nodes import project as project_io
from nodes.graph import GraphError
from nodes.types import ALL_TYPES, can_connect

MIN_ZOOM, MAX_ZOOM, FRAME_MAX_ZOOM = 0.06, 3.0, 1.25
# Framing (F, Home) never zooms out further than this: below it a node's name is
# smaller than a few pixels (items.NodeItem.paint draws blocks), so a framed
# wide graph would be a field of coloured rectangles. The minimap shows the rest.
FRAME_MIN_ZOOM = 0.3


class GraphView(QGraphicsView):
    status_message = Signal(str)
    node_activated = Signal(str)       # double-click on a node's body
    run_node_requested = Signal(str)   # "Run to here" in a node's menu
    # A dropped .weft, or a render that carries its project: the window opens it.
    project_dropped = Signal(str)

    def __init__(self, document: Document, *, keymap: str = "vfx",
                 recent_nodes: Callable[[], list[str]] | None = None,
                 remember_node: Callable[[str], None] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.gscene = GraphScene(document, self)
        self.setScene(self.gscene)
        self.keymap = Keymap(keymap)
        self._recent_nodes = recent_nodes or (lambda: list(self._recent))
        # What the add-node search lists as recent: the window's list, or one of its own.
        self.remember_node = remember_node or self._remember_locally
        self._recent: list[str] = []
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.BoundingRectViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheBackground)
        self.setOptimizationFlags(QGraphicsView.DontSavePainterState | QGraphicsView.DontAdjustForAntialiasing)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setDragMode(QGraphicsView.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.IntersectsItemShape)
        self.setAcceptDrops(True)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setFrameShape(QGraphicsView.NoFrame)
        self.interaction: I.Interaction | None = None
        self.last_scene_pos = QPointF(0, 0)
        self.last_refusal = ""
        self._space = False
        self.popup = AddNodePopup(document.registry, self)
        self._popup_callback: Callable[[str], None] | None = None
        self.popup.chosen.connect(self._on_popup_chosen)
        self.find_popup = FindNodePopup(document, self)
        self.find_popup.chosen.connect(self._on_found)
        self.minimap = Minimap(self)
        self.titles = rename.TitleEditor(self)
        self.actions_by_id: dict[str, QAction] = {}
        self._build_actions()
        self.scale_changed()

    # -- actions -------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        handlers = {
            "add_node": lambda: self.open_search(),
            "find": self.open_find,
            "frame_selected": self.frame_selected,
            "frame_all": self.frame_all,
            "bypass": self.toggle_bypass,
            "duplicate": self.duplicate,
            "delete": self.delete_selected,
            "rename": self.rename_selected,
            "backdrop": self.backdrop_selected,
            "disconnect": self.disconnect_selected,
            "minimap": self.toggle_minimap,
            "select_all": self.select_all,
            "select_none": lambda: self.document.select([]),
            "copy": self.copy,
            "cut": self.cut,
            "paste": lambda: self.paste(at_cursor=True),
            "paste_with_links": lambda: self.paste(at_cursor=True, keep_input_links=True),
        }
        for action_id, handler in handlers.items():
            action = QAction(ACTIONS[action_id], self)
            action.triggered.connect(lambda checked=False, h=handler: h())
            self.actions_by_id[action_id] = action
        self.set_keymap(self.keymap.preset)

    def set_keymap(self, preset: str) -> None:
        """Switches the canvas keys; menus show them after a tab (they act only on the canvas)."""
        self.keymap = Keymap(preset)
        for action_id, action in self.actions_by_id.items():
            keys = self.keymap.text(action_id)
            action.setText(ACTIONS[action_id] + (f"\t{keys}" if keys else ""))

    def trigger(self, action_id: str) -> None:
        self.actions_by_id[action_id].trigger()

    # -- zoom, pan, frame ------------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, scale: float, anchor_scene: QPointF | None = None) -> None:
        scale = min(MAX_ZOOM, max(MIN_ZOOM, scale))
        centre = anchor_scene if anchor_scene is not None else self.mapToScene(self.viewport().rect().center())
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(centre)
        self.scale_changed()

    def scale_changed(self) -> None:
        set_cache_for_zoom(self.gscene, self.zoom())
        self.minimap.update()

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if not delta:
            return
        self.zoom_at(event.position(), math.pow(1.0015, delta))

    def zoom_at(self, view_pos: QPointF, factor: float) -> None:
        """Zooms keeping the scene point under ``view_pos`` (the mouse) where it is."""
        new = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom() * factor))
        anchor = self.mapToScene(view_pos.toPoint())
        self.setTransformationAnchor(QGraphicsView.NoAnchor)
        self.setTransform(QTransform.fromScale(new, new))
        drift = self.mapToScene(view_pos.toPoint()) - anchor
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() - round(drift.x() * new))
        v.setValue(v.value() - round(drift.y() * new))
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.scale_changed()

    def frame_rect(self, rect: QRectF) -> None:
        if rect.isNull() or rect.isEmpty():
            return
        m = 60.0
        self.fitInView(rect.adjusted(-m, -m, m, m), Qt.KeepAspectRatio)
        if self.zoom() > FRAME_MAX_ZOOM:
            self.set_zoom(FRAME_MAX_ZOOM, rect.center())
        elif self.zoom() < FRAME_MIN_ZOOM:
            self.set_zoom(FRAME_MIN_ZOOM, rect.center())
            self.minimap.setVisible(True)
            self.show_status("Too wide to read at once: the minimap shows the whole graph (the wheel zooms out)")
        self.scale_changed()

    def frame_selected(self) -> None:
        ids = self.document.selected_nodes()
        self.frame_rect(self.gscene.nodes_rect(ids or None))

    def frame_all(self) -> None:
        self.frame_rect(self.gscene.nodes_rect(None))

    def toggle_minimap(self) -> None:
        self.minimap.setVisible(not self.minimap.isVisible())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.minimap.place()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        self.minimap.place()  # scrolling the viewport moves its child widgets too
        self.minimap.schedule()

    # -- helpers for gestures ------------------------------------------------------------------------
    def show_status(self, text: str) -> None:
        self.status_message.emit(text)

    def refuse(self, reason: str) -> None:
        """Says why a gesture was refused, next to the mouse and in the status bar."""
        self.last_refusal = reason
        QToolTip.showText(self.mapToGlobal(self.mapFromScene(self.last_scene_pos)), f"Cannot connect: {reason}",
                          self)
        self.status_message.emit(f"Cannot connect: {reason}")

    def start_interaction(self, interaction: I.Interaction) -> None:
        self.interaction = interaction
        interaction.start()

    def end_interaction(self, interaction: I.Interaction) -> None:
        if self.interaction is interaction:
            self.interaction = None

    def cursor_scene_pos(self) -> QPointF:
        """Where the mouse last was over the canvas (the centre if it never was)."""
        if self.viewport().rect().contains(self.mapFromScene(self.last_scene_pos)):
            return QPointF(self.last_scene_pos)
        return self.mapToScene(self.viewport().rect().center())

    # -- mouse ----------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        scene_pos = self.mapToScene(event.position().toPoint())
        self.last_scene_pos = scene_pos
        self.titles.commit()
        if self.interaction is not None:
            return
        button, mods = event.button(), event.modifiers()
        if button == Qt.MiddleButton or (button == Qt.LeftButton and self._space):
            self.start_interaction(I.Pan(self, event.position()))
            return
        if button == Qt.RightButton and mods & Qt.ControlModifier:
            self.start_interaction(I.CutLinks(self, scene_pos))
            return
        on_node = False
        if button == Qt.LeftButton:
            hit = self.gscene.socket_at(scene_pos)
            if hit is not None:
                item, kind, name = hit
                self.start_interaction(I.DragLink(self, item, kind, name, scene_pos))
                return
            if mods & Qt.AltModifier:
                link_item = self.gscene.link_at(scene_pos)
                if link_item is not None:
                    index = I.reroute_index(self.document, link_item, scene_pos)
                    self.document.add_reroute(link_item.link, scene_pos, index)
                    self.show_status("Reroute dot added")
                    return
            top = self.top_item(scene_pos)
            if isinstance(top, RerouteItem):
                self.gscene.clearSelection()
                top.setSelected(True)
                self.start_interaction(I.MoveReroute(self, top, scene_pos))
                return
            if isinstance(top, BackdropItem):
                if top.handle_contains(scene_pos):
                    self.start_interaction(I.ResizeBackdrop(self, top, scene_pos))
                    return
                if top.title_contains(scene_pos):
                    if not mods & (Qt.ShiftModifier | Qt.ControlModifier):
                        self.gscene.clearSelection()
                    top.setSelected(True)
                    self.start_interaction(I.MoveBackdrop(self, top, scene_pos))
                    return
            on_node = isinstance(top, NodeItem)
        # Qt selects (and, for a node, grabs it to drag) or starts the rubber band.
        super().mousePressEvent(I.shift_as_ctrl(event))
        if on_node:
            starts = {item.node_id: item.pos() for item in self.gscene.selectedItems() if isinstance(item, NodeItem)}
            if len(starts) == 1:
                self.start_interaction(I.InsertNode(self, starts))
            elif starts:
                self.start_interaction(I.MoveNodes(self, starts))

    def top_item(self, scene_pos: QPointF):
        """The node, reroute dot, backdrop or link on top under a scene point."""
        for item in self.gscene.items(scene_pos, Qt.IntersectsItemShape, Qt.DescendingOrder):
            if isinstance(item, (NodeItem, RerouteItem, BackdropItem, LinkItem)):
                return item
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        scene_pos = self.mapToScene(event.position().toPoint())
        self.last_scene_pos = scene_pos
        if self.interaction is not None:
            self.interaction.mouse_move(event, scene_pos)
            return
        super().mouseMoveEvent(I.shift_as_ctrl(event))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        scene_pos = self.mapToScene(event.position().toPoint())
        self.last_scene_pos = scene_pos
        if self.interaction is not None:
            self.interaction.mouse_release(event, scene_pos)
            return
        super().mouseReleaseEvent(I.shift_as_ctrl(event))

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        scene_pos = self.mapToScene(event.position().toPoint())
        self.last_scene_pos = scene_pos
        if event.button() != Qt.LeftButton:
            return super().mouseDoubleClickEvent(event)
        top = self.top_item(scene_pos)
        if isinstance(top, NodeItem):
            if top.mapFromScene(scene_pos).y() < top.title_rect().bottom():
                self.start_rename(top.node_id)
            else:
                self.node_activated.emit(top.node_id)
            return
        if isinstance(top, BackdropItem) and top.title_contains(scene_pos):
            self.rename_backdrop(top.index)
            return
        if top is None:
            self.open_search(scene_pos)
            return
        super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event) -> None:
        if event.modifiers() & Qt.ControlModifier or self.interaction is not None:
            return  # Ctrl+right-drag cuts links
        scene_pos = self.mapToScene(event.pos())
        self.last_scene_pos = scene_pos
        menus.context_menu(self, scene_pos).popup(event.globalPos())

    # -- keys ------------------------------------------------------------------------------------------
    def focusNextPrevChild(self, next: bool) -> bool:
        return False  # Tab belongs to the add-node search, not to focus changes

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.interaction is not None:
            if event.key() == Qt.Key_Escape:
                self.interaction.cancel()
            return
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.OpenHandCursor)
            return
        action_id = self.keymap.match(event)
        if action_id is not None:
            self.trigger(action_id)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().unsetCursor()
            return
        super().keyReleaseEvent(event)

    def event(self, event) -> bool:
        # Claim the canvas keys before window shortcuts see them, but only while the canvas has focus.
        if event.type() == QEvent.ShortcutOverride:
            busy = self.interaction is not None or self.rename_editor is not None
            if self.keymap.match(event) is not None or (busy and event.key() == Qt.Key_Escape):
                event.accept()
                return True
        return super().event(event)

    # -- add-node search -------------------------------------------------------------------------------
    def _remember_locally(self, type_id: str) -> None:
        self._recent = [type_id] + [t for t in self._recent if t != type_id][:19]

    def open_search(self, scene_pos: QPointF | None = None, *, type_filter=None, caption: str = "",
                    on_chosen: Callable[[str], None] | None = None, prefer=None) -> None:
        pos = scene_pos if scene_pos is not None else self.cursor_scene_pos()
        self._search_pos = QPointF(pos)
        selected = self.document.selected_nodes()
        upstream = selected[0] if len(selected) == 1 and self.keymap.preset == "vfx" else None
        self._popup_callback = on_chosen or (lambda type_id: self.add_node_at(type_id, self._search_pos,
                                                                              connect_from=upstream))
        self.popup.open_at(self.mapToGlobal(self.mapFromScene(pos)), type_filter=type_filter, caption=caption,
                           recent=self._recent_nodes(), prefer=prefer)

    def open_find(self) -> None:
        """Ctrl+F: find a node by name, type or id; it is selected and framed."""
        centre = self.viewport().rect().center()
        self.find_popup.open_at(self.mapToGlobal(QPoint(centre.x() - 160, self.viewport().rect().top() + 40)))

    def _on_found(self, node_id: str) -> None:
        if node_id in self.document.graph.nodes:
            self.document.select([node_id])
            self.frame_selected()
            self.setFocus()

    def _on_popup_chosen(self, type_id: str) -> None:
        callback, self._popup_callback = self._popup_callback, None
        self.remember_node(type_id)
        if callback is not None:
            callback(type_id)

    def add_node_at(self, type_id: str, scene_pos: QPointF, params: dict[str, Any] | None = None, *,
                    connect_from: str | None = None) -> str:
        """Adds a node whose title bar is under ``scene_pos``; it becomes the selection.

        With ``connect_from`` (the node selected when Tab was pressed, as in Nuke) the
        new node is fed from that node's first output that fits one of its inputs."""
        pos = (scene_pos.x() - WIDTH / 2, scene_pos.y() - 12)
        stack = self.document.undo_stack
        stack.beginMacro(f"Add {self.document.type_title(type_id)}")
        try:
            node_id = self.document.add_node(type_id, pos, params)
            if connect_from is not None and connect_from in self.document.graph.nodes:
                self._feed(connect_from, node_id)
        finally:
            stack.endMacro()
        self.document.select([node_id])
        self.setFocus()
        return node_id

    def _feed(self, source: str, target: str) -> None:
        graph = self.document.graph
        try:
            outputs = graph.node_type(source).outputs.values()
            inputs = graph.node_type(target).inputs.values()
        except KeyError:
            return
        for out in outputs:
            for inp in inputs:
                if graph.connection_problem(source, out.name, target, inp.name) is None:
                    self.document.connect(source, out.name, target, inp.name)
                    return

    def open_search_for_link(self, node_id: str, kind: str, socket: str, type_name: str,
                             scene_pos: QPointF) -> None:
        """A link dropped on empty canvas: offer the node types that can take it, and link the new one."""
        data_type = ALL_TYPES.get(type_name)
        if data_type is None:
            return

        def fits(t) -> bool:
            if kind == "out":
                return any(can_connect(data_type, s.type) for s in t.inputs.values())
            return any(can_connect(s.type, data_type) for s in t.outputs.values())

        def prefer(t) -> float:
            # The node that makes (or takes) exactly this type, and needs nothing
            # else to do it, is the one wanted most often: Text for a prompt,
            # Load Image for an image, Save Video for a video.
            sockets = t.outputs.values() if kind == "in" else t.inputs.values()
            exact = any(s.type is data_type for s in sockets)
            if not exact:
                return 0.0
            others = t.inputs.values() if kind == "in" else [s for s in t.inputs.values() if s.type is not data_type]
            return 1.0 + 1.0 / (1 + sum(1 for s in others if s.required))

        def chosen(type_id: str) -> None:
            node_type = self.document.registry.get(type_id)
            stack = self.document.undo_stack
            stack.beginMacro(f"Add {node_type.title} and connect")
            try:
                if kind == "out":
                    new_id = self.document.add_node(type_id, (scene_pos.x() + 20, scene_pos.y() - 30))
                    name = next(s.name for s in node_type.inputs.values() if can_connect(data_type, s.type))
                    self.document.connect(node_id, socket, new_id, name)
                else:
                    new_id = self.document.add_node(type_id, (scene_pos.x() - WIDTH - 20, scene_pos.y() - 30))
                    name = next(s.name for s in node_type.outputs.values() if can_connect(s.type, data_type))
                    self.document.connect(new_id, name, node_id, socket)
                self.place_clear([new_id])
            except GraphError as exc:
                self.refuse(str(exc))
            finally:
                stack.endMacro()
            self.document.select([new_id])

        what = "take" if kind == "out" else "give"
        self.open_search(scene_pos, type_filter=fits, caption=f"Nodes that {what} {type_name}", on_chosen=chosen,
                         prefer=prefer)

    # -- edits on the selection ----------------------------------------------------------------------------
    def select_all(self) -> None:
        self.document.select(list(self.document.graph.nodes))

    def delete_selected(self) -> None:
        ids = self.document.selected_nodes()
        backdrops = [b.index for b in self.gscene.backdrops if b.isSelected()]
        links = [item.link for item in self.gscene.selectedItems() if isinstance(item, LinkItem)]
        dots = [(d.link, d.index) for d in self.gscene.selectedItems() if isinstance(d, RerouteItem)]
        if not (ids or backdrops or links or dots):
            return
        stack = self.document.undo_stack
        stack.beginMacro("Delete")
        try:
            for link, index in sorted(dots, key=lambda d: -d[1]):
                if link in self.document.graph.links:
                    self.document.remove_reroute(link, index)
            self.document.disconnect(links)
            self.document.remove_nodes(ids)
            self.document.remove_backdrops(backdrops)
        finally:
            stack.endMacro()

    def toggle_bypass(self) -> None:
        self.document.set_bypassed(self.document.selected_nodes())

    def disconnect_selected(self) -> None:
        ids = set(self.document.selected_nodes())
        links = [l for l in self.document.graph.links if l.source in ids or l.target in ids]
        self.document.disconnect(links, text="Disconnect")

    def duplicate(self) -> None:
        ids = self.document.selected_nodes()
        if not ids:
            return
        stack = self.document.undo_stack
        stack.beginMacro("Duplicate")
        try:
            new_ids = self.document.duplicate(ids)
            self.place_clear(new_ids)
        finally:
            stack.endMacro()

    # -- where new nodes land --------------------------------------------------------------------------------
    def nodes_rect(self, node_ids) -> QRectF:
        rect = QRectF()
        for node_id in node_ids:
            item = self.gscene.nodes.get(node_id)
            if item is not None:
                rect = rect.united(item.mapRectToScene(item.body))
        return rect

    def free_spot(self, rect: QRectF, ignore: set[str]) -> QPointF:
        """Where a group of nodes of ``rect``'s size can go, near where it is: over no other
        node (with a margin), over no link between other nodes where a spot like that is near
        (a node on a wire hides it and looks connected to it), and, when it fits, wholly inside
        the visible canvas."""
        visible = self.mapToScene(self.viewport().rect()).boundingRect().adjusted(16, 16, -16, -16)
        others = [item.mapRectToScene(item.body).adjusted(-14, -14, 14, 14)
                  for node_id, item in self.gscene.nodes.items() if node_id not in ignore]
        wires = [item.shape() for link, item in self.gscene.links.items()
                 if link.source not in ignore and link.target not in ignore]

        def inside(r: QRectF) -> QRectF:
            if r.width() <= visible.width():
                r.moveLeft(min(max(r.left(), visible.left()), visible.right() - r.width()))
            if r.height() <= visible.height():
                r.moveTop(min(max(r.top(), visible.top()), visible.bottom() - r.height()))
            return r

        step = 24.0
        tries = [QPointF(0, 0)]
        for ring in range(1, 40):
            d = ring * step
            tries += [QPointF(0, d), QPointF(d, 0), QPointF(0, -d), QPointF(-d, 0), QPointF(d, d), QPointF(-d, d),
                      QPointF(d, -d), QPointF(-d, -d)]
        clear_of_nodes = None
        for offset in tries:
            candidate = inside(rect.translated(offset))
            if any(candidate.intersects(o) for o in others):
                continue
            if not any(w.intersects(candidate) for w in wires):
                return candidate.topLeft()
            clear_of_nodes = clear_of_nodes or candidate.topLeft()
        return clear_of_nodes or inside(QRectF(rect)).topLeft()

    def place_clear(self, node_ids) -> None:
        """Moves new nodes (one undoable step with what made them) to a free spot in view."""
        ids = [n for n in node_ids if n in self.gscene.nodes]
        rect = self.nodes_rect(ids)
        if rect.isNull():
            return
        spot = self.free_spot(QRectF(rect), set(ids))
        dx, dy = spot.x() - rect.left(), spot.y() - rect.top()
        if abs(dx) < 0.5 and abs(dy) < 0.5:
            return
        positions = self.document.graph.positions
        self.document.move_nodes({n: (positions[n][0] + dx, positions[n][1] + dy) for n in ids if n in positions},
                                 text="Place new nodes")

    def copy(self) -> bool:
        ids = self.document.selected_nodes()
        if not ids:
            return False
        data = self.document.copy_nodes(ids)
        mime = QMimeData()
        text = json.dumps(data, indent=2, ensure_ascii=False)
        mime.setData(CLIPBOARD_MIME, text.encode("utf-8"))
        mime.setText(text)
        QGuiApplication.clipboard().setMimeData(mime)
        self.show_status(f"Copied {len(ids)} node{'s' if len(ids) > 1 else ''}")
        return True

    def cut(self) -> None:
        if self.copy():
            stack = self.document.undo_stack
            stack.beginMacro("Cut")
            try:
                self.document.remove_nodes(self.document.selected_nodes())
            finally:
                stack.endMacro()

    def paste(self, *, at_cursor: bool = True, keep_input_links: bool = False) -> list[str]:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            return []
        if mime.hasFormat(CLIPBOARD_MIME):
            text = bytes(mime.data(CLIPBOARD_MIME)).decode("utf-8")
        elif mime.hasText():
            text = mime.text()
        else:
            return []
        try:
            ids = self.document.paste(text, self.cursor_scene_pos() if at_cursor else None,
                                      keep_input_links=keep_input_links)
        except project_io.ProjectError as exc:
            self.show_status(f"Nothing to paste: {exc}")
            return []
        if ids:
            self.show_status(f"Pasted {len(ids)} node{'s' if len(ids) > 1 else ''}")
        return ids

    def backdrop_selected(self) -> None:
        items = [self.gscene.nodes[n] for n in self.document.selected_nodes() if n in self.gscene.nodes]
        if not items:
            pos = self.cursor_scene_pos()
            rect = QRectF(pos.x(), pos.y(), 400, 260)
        else:
            rect = I.rect_around(items)
        self.document.add_backdrop((rect.x(), rect.y(), rect.width(), rect.height()))

    def rename_backdrop(self, index: int) -> None:
        rename.rename_backdrop(self, index)

    # -- rename in place (``rename``) ------------------------------------------------------------------------
    @property
    def rename_editor(self) -> QLineEdit | None:
        """The line editor over a node's title while it is renamed."""
        return self.titles.editor

    def rename_selected(self) -> None:
        ids = self.document.selected_nodes()
        if ids:
            self.start_rename(ids[-1])

    def start_rename(self, node_id: str) -> None:
        self.titles.start(node_id)

    # -- drops: node types from the library, media files from the file manager (``drops``) ----------------------
    def dragEnterEvent(self, event) -> None:
        if drops.accepts(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if drops.accepts(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        scene_pos = self.mapToScene(event.position().toPoint())
        self.last_scene_pos = scene_pos
        if drops.drop(self, event.mimeData(), scene_pos):
            event.acceptProposedAction()
        else:
            event.ignore()

    def drop_files(self, paths: list[str], scene_pos: QPointF) -> list[str]:
        """Loader nodes for the media files, or the project they carry opened (``drops.drop_files``)."""
        return drops.drop_files(self, paths, scene_pos)

    # -- teardown -------------------------------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        self.gscene.detach()
        super().closeEvent(event)
