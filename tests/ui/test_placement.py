"""New nodes from a link drop or a duplicate land wholly in view and over no other node."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import socket

pytestmark = pytest.mark.ui


def body(view, node_id):
    item = view.gscene.nodes[node_id]
    return item.mapRectToScene(item.body)


def visible(view):
    return view.mapToScene(view.viewport().rect()).boundingRect()


def test_a_node_from_a_link_dropped_near_the_edge_lands_in_view_and_clear(window, hands, qtbot):
    doc, view = window.document, window.view
    prompt = doc.add_node("text", (0, 0), {"text": "a fox"})
    t2v = doc.add_node("text_to_video", (300, 0), {"width": 64, "height": 48, "frames": 9, "steps": 4})
    blocker = doc.add_node("save_video", (640, 120))
    view.set_zoom(1.0, QPointF(450, 120))
    QApplication.processEvents()
    # Dropped right on top of another node's spot, next to the view's bottom edge.
    edge = visible(view)
    target = QPointF(body(view, blocker).left() + 10, edge.bottom() - 8)
    hands.drag(socket(view, t2v, "out", "video"), target)
    popup = view.popup
    qtbot.keyClicks(popup.edit, "save video")
    qtbot.keyClick(popup.edit, Qt.Key_Return)
    (new,) = [n for n in doc.graph.nodes if n not in (prompt, t2v, blocker)]
    rect = body(view, new)
    assert visible(view).contains(rect), (rect, visible(view))
    for other in (prompt, t2v, blocker):
        assert not rect.intersects(body(view, other)), other
    assert doc.graph.link_into(new, "video") is not None
    doc.undo_stack.undo()  # one step: node, link and placement
    assert new not in doc.graph.nodes


def test_duplicates_do_not_cover_their_originals(window, hands, qtbot):
    doc, view = window.document, window.view
    prompt = doc.add_node("text", (0, 0), {"text": "a fox"})
    t2v = doc.add_node("text_to_video", (300, 0), {"width": 64, "height": 48, "frames": 9, "steps": 4})
    doc.connect(prompt, "out", t2v, "prompt")
    view.set_zoom(1.0, QPointF(300, 100))
    QApplication.processEvents()
    doc.select([prompt, t2v])
    view.setFocus()
    view.actions_by_id["duplicate"].trigger()
    new = [n for n in doc.graph.nodes if n not in (prompt, t2v)]
    assert len(new) == 2 and set(doc.selected_nodes()) == set(new)
    for a in new:
        assert visible(view).contains(body(view, a))
        for b in (prompt, t2v):
            assert not body(view, a).intersects(body(view, b)), (a, b)
    doc.undo_stack.undo()
    assert set(doc.graph.nodes) == {prompt, t2v}


def test_a_node_from_a_link_drop_does_not_land_on_a_wire_between_other_nodes(window, hands, qtbot):
    doc, view = window.document, window.view
    prompt = doc.add_node("text", (0, 0), {"text": "a fox"})
    t2v = doc.add_node("text_to_video", (300, 0), {"width": 64, "height": 48, "frames": 9, "steps": 4})
    save = doc.add_node("save_video", (300, 520))
    wire = doc.connect(t2v, "video", save, "video")
    sound = doc.add_node("text_to_audio", (-300, 300))
    view.set_zoom(0.8, QPointF(200, 260))
    QApplication.processEvents()
    # Dropped right on the wire from Text to Video down to Save Video.
    on_wire = view.gscene.links[wire].path().pointAtPercent(0.5)
    hands.drag(socket(view, sound, "out", "audio"), on_wire)
    qtbot.keyClicks(view.popup.edit, "save audio")
    qtbot.keyClick(view.popup.edit, Qt.Key_Return)
    (new,) = [n for n in doc.graph.nodes if n not in (prompt, t2v, save, sound)]
    rect = body(view, new)
    assert not view.gscene.links[wire].shape().intersects(rect)
    assert visible(view).contains(rect)
    for other in (prompt, t2v, save, sound):
        assert not rect.intersects(body(view, other)), other
