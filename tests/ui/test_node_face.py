"""What a node's face tells the artist: problems as the graph is edited (before any run), names, types."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QStyleOptionGraphicsItem

from app.ui import theme

pytestmark = pytest.mark.ui


def settle(qtbot, doc):
    qtbot.wait(400)  # the check as you go is debounced (250 ms)
    QApplication.processEvents()


def cast(doc):
    prompt = doc.add_node("text", (0, 0), {"text": "[Mia] juggles while [Zoe] watches"})
    mia = doc.add_node("load_image", (0, 200))
    node = doc.add_node("personalize", (350, 0), {"label_1": "Mia"})
    doc.connect(prompt, "out", node, "prompt")
    doc.connect(mia, "image", node, "reference_1")
    return prompt, node


def test_an_anchor_that_names_no_reference_is_marked_on_the_node_before_run(window, qtbot):
    doc, view = window.document, window.view
    prompt, node = cast(doc)
    settle(qtbot, doc)
    item = view.gscene.nodes[node]
    badge = item._badge_text()
    assert badge.startswith("Prompt: [Zoe] has no reference"), badge
    assert "Mia is reference 1" in item._badge_text(full=True)
    assert not window.runner.jobs  # nothing ran: the mark came from editing alone
    # Fixing the word clears the mark.
    doc.set_param(prompt, "text", "[Mia] juggles in the rain")
    settle(qtbot, doc)
    assert item._badge_text() == ""


def test_an_input_not_connected_yet_is_not_marked_while_building(window, qtbot):
    doc, view = window.document, window.view
    t2v = doc.add_node("text_to_video", (0, 0))
    save = doc.add_node("save_video", (350, 0))
    doc.connect(t2v, "video", save, "video")
    settle(qtbot, doc)
    assert view.gscene.nodes[t2v]._badge_text() == ""
    # A run that needs it names it, and from then on the run's check is kept.
    assert window.runner.run() is None
    settle(qtbot, doc)
    assert "needs a Text connected" in view.gscene.nodes[t2v]._badge_text(full=True)


def test_a_problem_badge_is_drawn_in_the_colour_the_log_gives_errors(window, qtbot):
    doc, view = window.document, window.view
    _, node = cast(doc)
    settle(qtbot, doc)
    item = view.gscene.nodes[node]
    rect = item.boundingRect()
    image = QImage(int(rect.width()) + 2, int(rect.height()) + 2, QImage.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.translate(-rect.left(), -rect.top())
    item.paint(painter, QStyleOptionGraphicsItem())
    painter.end()
    colours = {image.pixelColor(x, y).name() for x in range(image.width()) for y in range(image.height())}
    assert theme.ERROR.name() in colours and theme.WARNING.name() not in colours


def test_a_reference_socket_is_called_by_its_label_once_labelled(window, qtbot):
    doc, view = window.document, window.view
    node = doc.add_node("personalize", (0, 0))
    item = view.gscene.nodes[node]
    socket = item.node_type.inputs["reference_2"]
    assert item.input_name(socket) == "Reference 2"
    doc.set_param(node, "label_2", "Leo")
    QApplication.processEvents()
    assert item.input_name(socket) == "Leo"
    # A problem with that input is worded with the name the artist sees.
    assert item._short_where("input 'reference_2'") == "Leo"
    doc.undo_stack.undo()
    assert item.input_name(socket) == "Reference 2"


def test_a_renamed_node_still_says_what_type_it_is(window, hands, qtbot):
    doc, view = window.document, window.view
    node = doc.add_node("text_to_video", (0, 0))
    item = view.gscene.nodes[node]
    assert item.type_words() == ""
    doc.select([node])
    view.setFocus()
    hands.key(Qt.Key_F2)  # rename, as the artist does
    editor = view.rename_editor
    assert editor is not None
    editor.selectAll()
    qtbot.keyClicks(editor, "Hero shot")
    qtbot.keyClick(editor, Qt.Key_Return)
    assert doc.graph.nodes[node].title == "Hero shot"
    assert item.type_words() == "Text to Video"
