"""The canvas's right-click menus: what a node, a link, a backdrop or the empty canvas offers.

A menu only offers; each entry is one of the view's actions (so it shows the
keymap's keys) or one document edit, as a key or a gesture would make it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QMenu

from app.ui import theme
from app.ui.canvas import interactions as I
from app.ui.canvas.items import BackdropItem, LinkItem, NodeItem

if TYPE_CHECKING:
    from app.ui.canvas.view import GraphView

# What a node's menu lists after Run to Here, in this order.
NODE_ACTIONS = ("rename", "bypass", "duplicate", "copy", "cut", "delete", "disconnect", "backdrop")


def context_menu(view: "GraphView", scene_pos: QPointF) -> QMenu:
    """The menu for what is under ``scene_pos`` (right-clicking a node selects it first)."""
    menu = QMenu(view)
    top = view.top_item(scene_pos)
    if isinstance(top, NodeItem):
        _node_menu(view, menu, top)
    elif isinstance(top, LinkItem):
        _link_menu(view, menu, top, scene_pos)
    elif isinstance(top, BackdropItem):
        _backdrop_menu(view, menu, top.index)
    else:
        _canvas_menu(view, menu, scene_pos)
    return menu


def _node_menu(view: "GraphView", menu: QMenu, item: NodeItem) -> None:
    if not item.isSelected():
        view.document.select([item.node_id])
    menu.addAction("Run to Here", lambda: view.run_node_requested.emit(item.node_id))
    menu.addSeparator()
    for action_id in NODE_ACTIONS:
        menu.addAction(view.actions_by_id[action_id])


def _link_menu(view: "GraphView", menu: QMenu, item: LinkItem, scene_pos: QPointF) -> None:
    document, link = view.document, item.link
    menu.addAction("Disconnect", lambda: document.disconnect([link]))
    menu.addAction("Add Reroute Dot", lambda: document.add_reroute(
        link, scene_pos, I.reroute_index(document, item, scene_pos)))


def _backdrop_menu(view: "GraphView", menu: QMenu, index: int) -> None:
    document = view.document
    menu.addAction("Rename Backdrop…", lambda: view.rename_backdrop(index))
    colours = menu.addMenu("Colour")
    for c in theme.BACKDROP_COLORS:
        colours.addAction(c, lambda c=c: document.edit_backdrop(index, color=c, text="Backdrop colour"))
    menu.addAction("Delete Backdrop", lambda: document.remove_backdrops([index]))


def _canvas_menu(view: "GraphView", menu: QMenu, scene_pos: QPointF) -> None:
    menu.addAction(view.actions_by_id["add_node"])
    add = menu.addMenu("Add")
    for category, types in view.document.registry.categories().items():
        sub = add.addMenu(category)
        for t in types:
            sub.addAction(t.title, lambda t=t: view.add_node_at(t.type_id, scene_pos))
    menu.addSeparator()
    for action_id in ("paste", "frame_all", "select_all"):
        menu.addAction(view.actions_by_id[action_id])
