"""The scene: a mirror of the document's graph.

It listens to the graph's signals (node added, link removed, parameter
changed...) and to the document's (selection, run status, problems) and keeps
one item per node, link, backdrop and reroute dot. It never changes the model:
gestures become document edits in ``view``/``interactions``, and the model's
signals bring the scene up to date.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from app.ui import theme
from app.ui.canvas.items import BackdropItem, LinkItem, NodeItem, RerouteItem
from app.ui.document import Document
from nodes.graph import Link, Node

GRID = 20.0
SCENE_EXTENT = 200_000.0


class GraphScene(QGraphicsScene):
    def __init__(self, document: Document, parent=None):
        super().__init__(parent)
        self.document = document
        self.nodes: dict[str, NodeItem] = {}
        self.links: dict[Link, LinkItem] = {}
        self.links_by_node: dict[str, set[Link]] = {}
        self.backdrops: list[BackdropItem] = []
        self.reroutes: list[RerouteItem] = []
        self._syncing_selection = False
        self._moving_from_model = False
        self._selection_dirty = False
        self._dirty_links: set[Link] = set()
        self._flush_scheduled = False
        # A fixed, huge rectangle: the scene never re-measures itself as nodes move.
        self.setSceneRect(QRectF(-SCENE_EXTENT / 2, -SCENE_EXTENT / 2, SCENE_EXTENT, SCENE_EXTENT))
        # Nodes move all the time; a BSP index costs more to keep up than it saves at these sizes.
        self.setItemIndexMethod(QGraphicsScene.NoIndex)
        self.setBackgroundBrush(theme.CANVAS_BG)

        graph = document.graph
        self._connections = [
            (graph.node_added, self._on_node_added),
            (graph.node_removed, self._on_node_removed),
            (graph.link_added, self._on_link_added),
            (graph.link_removed, self._on_link_removed),
            (graph.param_changed, self._on_param_changed),
            (graph.node_changed, self._on_node_changed),
            (graph.node_moved, self._on_node_moved),
            (graph.backdrops_changed, self._on_backdrops_changed),
        ]
        for signal, slot in self._connections:
            signal.connect(slot)
        document.selection_changed.connect(self._on_document_selection)
        document.node_status_changed.connect(self._on_status)
        document.problems_changed.connect(self._on_problems)
        document.reroutes_changed.connect(self._on_reroutes_changed)
        if hasattr(document, "seed_control_changed"):
            document.seed_control_changed.connect(self._on_status)  # the seed row shows +1 or random
        if hasattr(document, "quality_changed"):
            document.quality_changed.connect(lambda quality: self._on_problems())  # estimates follow Draft
        self.selectionChanged.connect(self._push_selection)
        self.rebuild()
        self._on_document_selection(document.selected_nodes())

    def detach(self) -> None:
        """Stops listening to the model (before the scene is deleted)."""
        for signal, slot in self._connections:
            try:
                signal.disconnect(slot)
            except (ValueError, RuntimeError):
                pass
        self._connections = []

    # -- building --------------------------------------------------------------------------
    def rebuild(self) -> None:
        self.clear()
        self.nodes.clear()
        self.links.clear()
        self.links_by_node.clear()
        self.backdrops = []
        self.reroutes = []
        graph = self.document.graph
        for node in graph.nodes.values():
            self._on_node_added(node)
        for link in graph.links:
            self._on_link_added(link)
        self._on_backdrops_changed()
        self._on_reroutes_changed()

    def _on_node_added(self, node: Node) -> None:
        item = NodeItem(self, node)
        x, y = self.document.graph.positions.get(node.id, (0.0, 0.0))
        self._moving_from_model = True
        item.setPos(x, y)
        self._moving_from_model = False
        self.nodes[node.id] = item
        self.addItem(item)

    def _on_node_removed(self, node: Node) -> None:
        item = self.nodes.pop(node.id, None)
        for link in list(self.links_by_node.pop(node.id, ())):
            self._on_link_removed(link)
        if item is not None:
            self.removeItem(item)

    def _on_link_added(self, link: Link) -> None:
        source, target = self.nodes.get(link.source), self.nodes.get(link.target)
        if source is None or target is None or link in self.links:
            return  # a link to a node the file does not have: validation reports it
        item = LinkItem(self, link, source, target)
        self.links[link] = item
        self.links_by_node.setdefault(link.source, set()).add(link)
        self.links_by_node.setdefault(link.target, set()).add(link)
        self.addItem(item)
        if self.document.graph.reroutes and self.document.reroutes(link):
            self._add_dots(link, item)
            item.update_path()

    def _on_link_removed(self, link: Link) -> None:
        item = self.links.pop(link, None)
        for node_id in (link.source, link.target):
            self.links_by_node.get(node_id, set()).discard(link)
        if item is not None:
            self.removeItem(item)
        dots = [r for r in self.reroutes if r.link == link]
        for dot in dots:
            self.removeItem(dot)
            self.reroutes.remove(dot)

    def _on_param_changed(self, node_id: str, name: str, value) -> None:
        item = self.nodes.get(node_id)
        if item is not None:
            item.refresh()

    def _on_node_changed(self, node_id: str, field: str) -> None:
        item = self.nodes.get(node_id)
        if item is not None:
            item.refresh()
            for link in self.links_by_node.get(node_id, ()):
                self.links[link].refresh()

    def _on_node_moved(self, node_id: str, x: float, y: float) -> None:
        item = self.nodes.get(node_id)
        if item is not None and (item.pos().x(), item.pos().y()) != (x, y):
            self._moving_from_model = True
            item.setPos(x, y)
            self._moving_from_model = False

    def _on_backdrops_changed(self) -> None:
        for item in self.backdrops:
            self.removeItem(item)
        self.backdrops = []
        for i, b in enumerate(self.document.graph.backdrops):
            item = BackdropItem(self, i, b.title, tuple(b.rect), b.color)
            self.backdrops.append(item)
            self.addItem(item)

    def _on_reroutes_changed(self) -> None:
        for item in self.reroutes:
            self.removeItem(item)
        self.reroutes = []
        table = self.document.graph.reroutes
        for link, link_item in self.links.items():
            points = self._add_dots(link, link_item) if table else 0
            if points or link_item.had_reroutes:
                link_item.update_path()
            link_item.had_reroutes = bool(points)

    def _add_dots(self, link: Link, link_item: LinkItem) -> int:
        points = self.document.reroutes(link)
        for i, (x, y) in enumerate(points):
            dot = RerouteItem(self, link, i, link_item.color)
            dot.setPos(x, y)
            self.reroutes.append(dot)
            self.addItem(dot)
        return len(points)

    def _on_status(self, node_id: str) -> None:
        item = self.nodes.get(node_id)
        if item is not None:
            item.refresh()

    def _on_problems(self) -> None:
        for item in self.nodes.values():
            item.refresh()

    # -- from items --------------------------------------------------------------------------
    def node_item_moved(self, item: NodeItem) -> None:
        links = self.links_by_node.get(item.node_id, ())
        if self._moving_from_model:
            # The model moves many nodes at once (undo, paste, a backdrop): redraw each
            # link once, after all of them moved, not once per end.
            self._dirty_links.update(links)
            if not self._flush_scheduled:
                self._flush_scheduled = True
                QTimer.singleShot(0, self.flush_links)
            return
        for link in links:
            self.links[link].update_path()

    def flush_links(self) -> None:
        self._flush_scheduled = False
        dirty, self._dirty_links = self._dirty_links, set()
        for link in dirty:
            item = self.links.get(link)
            if item is not None:
                item.update_path()

    def reroute_item_moved(self, dot: RerouteItem) -> None:
        link_item = self.links.get(dot.link)
        if link_item is None:
            return
        # Draw the wire through the dot where it is now (the model catches up on release).
        from app.ui.canvas.geometry import link_path
        dots = sorted((r for r in self.reroutes if r.link == dot.link), key=lambda r: r.index)
        link_item.setPath(link_path(link_item.source.output_pos(dot.link.source_socket),
                                    link_item.target.input_pos(dot.link.target_socket),
                                    [r.pos() for r in dots]))
        link_item._shape = None

    # -- selection --------------------------------------------------------------------------------
    def item_selection_changed(self) -> None:
        self._selection_dirty = True

    def selected_node_ids(self) -> list[str]:
        return [item.node_id for item in self.selectedItems() if isinstance(item, NodeItem)]

    def _push_selection(self) -> None:
        if self._syncing_selection:
            return
        self._syncing_selection = True
        try:
            selected = set(self.selected_node_ids())
            current = self.document.selected_nodes()
            ordered = [n for n in current if n in selected] + sorted(selected - set(current))
            self.document.select(ordered)
        finally:
            self._syncing_selection = False

    def _on_document_selection(self, ids: list) -> None:
        if self._syncing_selection:
            return
        self._syncing_selection = True
        try:
            wanted = set(ids)
            for item in self.selectedItems():
                if not (isinstance(item, NodeItem) and item.node_id in wanted):
                    item.setSelected(False)
            for node_id in ids:
                item = self.nodes.get(node_id)
                if item is not None and not item.isSelected():
                    item.setSelected(True)
        finally:
            self._syncing_selection = False

    # -- queries -------------------------------------------------------------------------------------
    def node_at(self, scene_pos: QPointF, margin: float = 10.0) -> NodeItem | None:
        rect = QRectF(scene_pos.x() - margin, scene_pos.y() - 2, 2 * margin, 4)
        for item in self.items(rect, Qt.IntersectsItemShape, Qt.DescendingOrder):
            if isinstance(item, NodeItem):
                return item
        return None

    def socket_at(self, scene_pos: QPointF) -> tuple[NodeItem, str, str] | None:
        rect = QRectF(scene_pos.x() - 12, scene_pos.y() - 12, 24, 24)
        for item in self.items(rect, Qt.IntersectsItemBoundingRect, Qt.DescendingOrder):
            if isinstance(item, NodeItem):
                hit = item.socket_at(scene_pos)
                if hit is not None:
                    return item, hit[0], hit[1]
        return None

    def link_at(self, scene_pos: QPointF) -> LinkItem | None:
        for item in self.items(scene_pos, Qt.IntersectsItemShape, Qt.DescendingOrder):
            if isinstance(item, LinkItem):
                return item
        return None

    def nodes_rect(self, node_ids: list[str] | None = None) -> QRectF:
        """The bounding rectangle of some nodes (all by default), in scene coordinates."""
        items = [self.nodes[n] for n in node_ids if n in self.nodes] if node_ids else list(self.nodes.values())
        rect = QRectF()
        for item in items:
            rect = rect.united(item.mapRectToScene(item.body))
        if not node_ids:
            for b in self.backdrops:
                rect = rect.united(b.scene_rect())
        return rect

    # -- background ------------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, theme.CANVAS_BG)
        scale = painter.worldTransform().m11()
        step = GRID
        while step * scale < 12:  # keep the grid from turning into grey mush
            step *= 5
        left = int(rect.left() // step) * step
        top = int(rect.top() // step) * step
        lines_minor, lines_major = [], []
        x = left
        from PySide6.QtCore import QLineF
        while x < rect.right():
            (lines_major if round(x / step) % 5 == 0 else lines_minor).append(QLineF(x, rect.top(), x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            (lines_major if round(y / step) % 5 == 0 else lines_minor).append(QLineF(rect.left(), y, rect.right(), y))
            y += step
        from PySide6.QtGui import QPen
        pen = QPen(theme.GRID_MINOR, 0)
        painter.setPen(pen)
        painter.drawLines(lines_minor)
        pen = QPen(theme.GRID_MAJOR, 0)
        painter.setPen(pen)
        painter.drawLines(lines_major)


def set_cache_for_zoom(scene: GraphScene, scale: float) -> None:
    """Device-coordinate caching, except when zoomed in far (the cache would be huge)."""
    from app.ui.canvas.items import CACHE_MAX_SCALE
    mode = QGraphicsItem.DeviceCoordinateCache if scale <= CACHE_MAX_SCALE else QGraphicsItem.NoCache
    for item in scene.nodes.values():
        if item.cacheMode() != mode:
            item.setCacheMode(mode)
