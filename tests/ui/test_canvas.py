"""The canvas as an artist uses it: search, drag, refuse, cut, select, undo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import socket

pytestmark = pytest.mark.ui


def three_nodes(doc):
    prompt = doc.add_node("text", (0, 0), {"text": "a fox in the snow"})
    t2v = doc.add_node("text_to_video", (350, 0))
    save = doc.add_node("save_video", (700, 0))
    return prompt, t2v, save


def frame(window):
    window.view.set_zoom(1.0, QPointF(450, 120))
    QApplication.processEvents()


def test_tab_opens_the_search_and_enter_adds_the_node_at_the_cursor(window, hands, qtbot):
    doc, view = window.document, window.view
    frame(window)
    hands.move((200, 300))
    hands.key(Qt.Key_Tab)
    popup = view.popup
    assert popup.isVisible()
    qtbot.keyClicks(popup.edit, "txvid")  # fuzzy: letters in order
    assert popup.visible_type_ids()[0] == "text_to_video"
    qtbot.keyClick(popup.edit, Qt.Key_Return)
    assert not popup.isVisible()
    (node_id,) = doc.graph.nodes
    assert doc.graph.nodes[node_id].type_id == "text_to_video"
    x, y = doc.graph.positions[node_id]
    item = view.gscene.nodes[node_id]
    assert item.mapRectToScene(item.title_rect()).contains(QPointF(200, 300))  # placed under the cursor
    assert doc.selected_nodes() == [node_id]

    doc.undo_stack.undo()
    assert not doc.graph.nodes and not view.gscene.nodes
    doc.undo_stack.redo()
    assert list(doc.graph.nodes) == [node_id] and node_id in view.gscene.nodes

    # Recently used types come first the next time.
    hands.key(Qt.Key_A, Qt.ShiftModifier)
    assert popup.isVisible() and popup.visible_type_ids()[0] == "text_to_video"
    qtbot.keyClick(popup.edit, Qt.Key_Escape)
    assert not popup.isVisible() and len(doc.graph.nodes) == 1


def test_search_finds_by_category_and_tag(window, hands, qtbot):
    hands.move((0, 0))
    hands.key(Qt.Key_Tab)
    popup = window.view.popup
    qtbot.keyClicks(popup.edit, "output")
    registry = window.document.registry
    outputs = {t.type_id for t in registry if t.category == "Output"}
    assert {"save_video", "save_image", "save_audio"} <= outputs
    assert set(popup.visible_type_ids()[:len(outputs)]) == outputs
    popup.edit.clear()
    qtbot.keyClicks(popup.edit, "mp4")
    assert popup.visible_type_ids()[0] in ("save_video", "load_video")
    popup.edit.clear()
    qtbot.keyClicks(popup.edit, "t2v")
    assert popup.visible_type_ids()[0] == "text_to_video"
    qtbot.keyClick(popup.edit, Qt.Key_Escape)


def test_double_click_on_empty_canvas_opens_the_search(window, hands, qtbot):
    frame(window)
    hands.double_click((100, 500))
    assert window.view.popup.isVisible()
    qtbot.keyClicks(window.view.popup.edit, "save audio")
    qtbot.keyClick(window.view.popup.edit, Qt.Key_Return)
    assert [n.type_id for n in window.document.graph.nodes.values()] == ["save_audio"]


def test_drag_from_socket_to_socket_connects_and_undo_redo(window, hands):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    frame(window)
    hands.drag(socket(view, prompt, "out", "out"), socket(view, t2v, "in", "prompt"))
    assert [str(l) for l in doc.graph.links] == [f"{prompt}.out -> {t2v}.prompt"]
    assert len(view.gscene.links) == 1
    # Dragging backwards, from an empty input to an output, works too.
    hands.drag(socket(view, save, "in", "video"), socket(view, t2v, "out", "video"))
    assert len(doc.graph.links) == 2
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert not doc.graph.links and not view.gscene.links
    doc.undo_stack.redo()
    assert len(view.gscene.links) == 1


def test_a_wrong_connection_is_refused_saying_why(window, hands):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    frame(window)
    hands.drag(socket(view, prompt, "out", "out"), socket(view, save, "in", "video"))
    assert not doc.graph.links
    assert "Text output cannot feed a Video input" in view.last_refusal
    assert doc.undo_stack.count() == 3  # just the three additions


def test_valid_targets_light_up_while_dragging(window, hands):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    frame(window)
    start = hands.at(socket(view, prompt, "out", "out"))
    hands._send(QEvent_press(), start, Qt.LeftButton, Qt.LeftButton, Qt.NoModifier)
    hands.move((500, 300), buttons=Qt.LeftButton)
    assert view.gscene.nodes[t2v].drop_marks[("in", "prompt")] is None       # lit: fits
    assert view.gscene.nodes[save].drop_marks[("in", "video")] == "refused"   # dimmed
    hands.key(Qt.Key_Escape)
    assert view.interaction is None and view.gscene.nodes[t2v].drop_marks is None
    assert not doc.graph.links


def QEvent_press():
    from PySide6.QtCore import QEvent
    return QEvent.MouseButtonPress


def test_a_new_link_replaces_the_one_an_input_held(window, hands):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    other = doc.add_node("text", (0, 200), {"text": "a cat"})
    doc.connect(prompt, "out", t2v, "prompt")
    frame(window)
    hands.drag(socket(view, other, "out", "out"), socket(view, t2v, "in", "prompt"))
    assert [(l.source, l.target) for l in doc.graph.links] == [(other, t2v)]
    doc.undo_stack.undo()
    assert [(l.source, l.target) for l in doc.graph.links] == [(prompt, t2v)]


def test_drag_a_link_off_an_input_disconnects_it(window, hands):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    doc.connect(prompt, "out", t2v, "prompt")
    frame(window)
    hands.drag(socket(view, t2v, "in", "prompt"), (200, 400))
    assert not doc.graph.links and not view.gscene.links
    doc.undo_stack.undo()
    assert len(view.gscene.links) == 1 and view.gscene.links[doc.graph.links[0]].isVisible()


def test_a_link_dropped_on_empty_canvas_offers_fitting_nodes_and_connects(window, hands, qtbot):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    doc.remove_nodes([save])
    frame(window)
    hands.drag(socket(view, t2v, "out", "video"), (650, 300))
    popup = view.popup
    assert popup.isVisible()
    offered = set(popup.visible_type_ids())
    assert "save_video" in offered and "add_audio_to_video" in offered
    assert not offered & {"text", "save_audio", "text_to_audio", "save_image"}
    qtbot.keyClicks(popup.edit, "save video")
    assert popup.visible_type_ids()[0] == "save_video"
    qtbot.keyClick(popup.edit, Qt.Key_Return)
    (new,) = [n for n in doc.graph.nodes if n not in (prompt, t2v)]
    assert doc.graph.nodes[new].type_id == "save_video"
    assert [(l.source, l.target_socket, l.target) for l in doc.graph.links] == [(t2v, "video", new)]
    doc.undo_stack.undo()  # one step: the node and its link
    assert set(doc.graph.nodes) == {prompt, t2v} and not doc.graph.links


def test_a_link_dragged_back_from_an_input_offers_the_node_that_makes_its_type_first(window, hands, qtbot):
    doc, view = window.document, window.view
    t2v = doc.add_node("text_to_video", (350, 0))
    frame(window)
    hands.drag(socket(view, t2v, "in", "prompt"), (100, 300))
    popup = view.popup
    assert popup.isVisible() and popup.caption.text() == "Nodes that give Text"
    assert popup.visible_type_ids()[0] == "text"
    qtbot.keyClick(popup.edit, Qt.Key_Return)
    (new,) = [n for n in doc.graph.nodes if n != t2v]
    assert doc.graph.nodes[new].type_id == "text"
    assert [(l.source, l.target, l.target_socket) for l in doc.graph.links] == [(new, t2v, "prompt")]


def test_a_video_dragged_to_empty_canvas_offers_save_video_before_the_converters(window, hands):
    doc, view = window.document, window.view
    t2v = doc.add_node("text_to_video", (0, 0))
    frame(window)
    hands.drag(socket(view, t2v, "out", "video"), (650, 300))
    offered = view.popup.visible_type_ids()
    assert offered.index("save_video") < offered.index("add_audio_to_video")


def test_ctrl_right_drag_cuts_the_links_it_crosses(window, hands):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    doc.connect(prompt, "out", t2v, "prompt")
    doc.connect(t2v, "video", save, "video")
    frame(window)
    a = socket(view, prompt, "out", "out")
    b = socket(view, t2v, "in", "prompt")
    mid = (a + b) / 2
    hands.drag_path([(mid.x(), mid.y() - 60), (mid.x() + 3, mid.y()), (mid.x(), mid.y() + 60)],
                    button=Qt.RightButton, mods=Qt.ControlModifier)
    assert [(l.source, l.target) for l in doc.graph.links] == [(t2v, save)]
    doc.undo_stack.undo()
    assert len(doc.graph.links) == 2


def test_alt_click_on_a_link_adds_a_reroute_dot_that_bends_it(window, hands):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    link = doc.connect(prompt, "out", t2v, "prompt")
    frame(window)
    path = view.gscene.links[link].path()
    point = path.pointAtPercent(0.5)
    hands.click(point, mods=Qt.AltModifier)
    assert len(doc.reroutes(link)) == 1 and len(view.gscene.reroutes) == 1
    # a bend is layout, not a render setting
    assert list(doc.graph.reroutes) == [f"{prompt}.out>{t2v}.prompt"] and "reroutes" not in doc.settings
    dot = view.gscene.reroutes[0]
    hands.drag(dot.pos(), dot.pos() + QPointF(0, 120))
    (x, y), = doc.reroutes(link)
    assert y == pytest.approx(point.y() + 120, abs=2)
    assert view.gscene.links[link].path().intersects(
        view.gscene.reroutes[0].mapRectToScene(view.gscene.reroutes[0].boundingRect()))
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.reroutes(link) == [] and not view.gscene.reroutes


def test_click_box_and_shift_select(window, hands):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    frame(window)
    title = lambda n: view.gscene.nodes[n].mapRectToScene(view.gscene.nodes[n].title_rect()).center()
    hands.click(title(prompt))
    assert doc.selected_nodes() == [prompt]
    hands.click(title(save), mods=Qt.ShiftModifier)
    assert set(doc.selected_nodes()) == {prompt, save}
    hands.click(title(save), mods=Qt.ControlModifier)
    assert doc.selected_nodes() == [prompt]
    hands.click((300, 700))
    assert doc.selected_nodes() == []
    # A box from empty canvas selects what it touches.
    hands.drag((300, -100), (600, 100))
    assert doc.selected_nodes() == [t2v]


def test_moving_nodes_is_one_undo_step(window, hands):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    doc.connect(prompt, "out", t2v, "prompt")
    frame(window)
    start = view.gscene.nodes[prompt].mapRectToScene(view.gscene.nodes[prompt].title_rect()).center()
    hands.drag(start, start + QPointF(40, 150))
    assert doc.graph.positions[prompt] == pytest.approx((40.0, 150.0), abs=1.5)
    link_item = view.gscene.links[doc.graph.links[0]]
    assert link_item.path().pointAtPercent(0) == view.gscene.nodes[prompt].output_pos("out")
    doc.undo_stack.undo()
    assert doc.graph.positions[prompt] == (0.0, 0.0)
    assert view.gscene.nodes[prompt].pos() == QPointF(0, 0)


def test_keys_delete_bypass_rename_duplicate(window, hands, qtbot):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    doc.connect(prompt, "out", t2v, "prompt")
    frame(window)
    doc.select([t2v])
    hands.key(Qt.Key_D)
    assert doc.graph.nodes[t2v].bypassed
    hands.key(Qt.Key_D)
    assert not doc.graph.nodes[t2v].bypassed

    hands.key(Qt.Key_F2)
    editor = view.rename_editor
    assert editor is not None and editor.text() == "Text to Video"
    editor.selectAll()
    qtbot.keyClicks(editor, "Hero shot")
    qtbot.keyClick(editor, Qt.Key_Return)
    assert doc.graph.nodes[t2v].title == "Hero shot"

    hands.key(Qt.Key_D, Qt.ControlModifier)
    assert len(doc.graph.nodes) == 4
    (copy,) = doc.selected_nodes()
    assert doc.graph.nodes[copy].title == "Hero shot"
    assert doc.graph.link_into(copy, "prompt").source == prompt  # duplicate keeps input links

    doc.select([t2v])
    hands.key(Qt.Key_Delete)
    assert t2v not in doc.graph.nodes and t2v not in view.gscene.nodes
    for _ in range(5):
        doc.undo_stack.undo()
    assert doc.graph.nodes[t2v].title == "" and not doc.graph.nodes[t2v].bypassed
    assert len(doc.graph.nodes) == 3


def test_blender_keymap(window, hands):
    doc = window.document
    prompt, t2v, save = three_nodes(doc)
    window.view.set_keymap("blender")
    doc.select([t2v])
    hands.key(Qt.Key_M)
    assert doc.graph.nodes[t2v].bypassed
    hands.key(Qt.Key_D)  # D means nothing in Blender's node editor
    assert doc.graph.nodes[t2v].bypassed
    hands.key(Qt.Key_D, Qt.ShiftModifier)
    assert len(doc.graph.nodes) == 4


def test_frame_selected_and_frame_all(window, hands):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    far = doc.add_node("text", (1500, 1400))
    doc.select([prompt])
    hands.key(Qt.Key_F)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.gscene.nodes[prompt].sceneBoundingRect())
    assert not visible.contains(QPointF(1500, 1400))
    hands.key(Qt.Key_Home)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    for node_id in (prompt, far):
        assert visible.contains(view.gscene.nodes[node_id].mapRectToScene(view.gscene.nodes[node_id].body))


def test_frame_all_on_a_graph_too_wide_to_read_stops_at_a_readable_zoom_and_shows_the_minimap(window, hands):
    doc, view = window.document, window.view
    nodes = [doc.add_node("text", (x, 0)) for x in range(0, 24000, 400)]
    view.set_zoom(1.0, QPointF(0, 0))
    hands.key(Qt.Key_Home)
    assert view.zoom() >= 0.3  # a node's name is still about 10 screen pixels high
    assert view.minimap.isVisible()
    assert "minimap" in window.statusBar().currentMessage()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    middle = view.gscene.nodes[nodes[len(nodes) // 2]]
    assert visible.contains(middle.mapRectToScene(middle.body))  # centred on the graph


def test_zoom_at_the_cursor_and_pan_with_the_middle_button(window, hands, qtbot):
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtCore import QPoint
    view = window.view
    frame(window)
    anchor = QPointF(300, 150)
    pos = hands.at(anchor)
    hands.move(anchor)
    event = QWheelEvent(QPointF(pos), QPointF(view.viewport().mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 240),
                        Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)
    assert view.zoom() > 1.2
    assert (view.mapToScene(pos) - anchor).manhattanLength() < 3  # the point under the mouse stays put
    before = view.mapToScene(view.viewport().rect().center())
    hands.drag((0, 0), (100, 0), button=Qt.MiddleButton)
    after = view.mapToScene(view.viewport().rect().center())
    assert after.x() < before.x() - 50
    # Space + left-drag pans too (and selects nothing).
    qtbot.keyPress(view.viewport(), Qt.Key_Space)
    hands.drag((200, 200), (200, 100))
    qtbot.keyRelease(view.viewport(), Qt.Key_Space)
    moved = view.mapToScene(view.viewport().rect().center())
    assert moved.y() > after.y() + 50 and not window.document.selected_nodes()


def test_backdrop_around_selection_moves_its_nodes(window, hands):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    frame(window)
    doc.select([prompt, t2v])
    hands.key(Qt.Key_J, Qt.ControlModifier)
    (b,) = doc.graph.backdrops
    rect = view.gscene.backdrops[0].scene_rect()
    for n in (prompt, t2v):
        assert rect.contains(view.gscene.nodes[n].mapRectToScene(view.gscene.nodes[n].body))
    assert not rect.contains(view.gscene.nodes[save].mapRectToScene(view.gscene.nodes[save].body))
    title = QPointF(rect.left() + 60, rect.top() + 10)
    hands.drag(title, title + QPointF(0, 200))
    assert doc.graph.positions[prompt][1] == pytest.approx(200, abs=2)
    assert doc.graph.positions[t2v][1] == pytest.approx(200, abs=2)
    assert doc.graph.positions[save][1] == 0
    doc.undo_stack.undo()
    assert doc.graph.positions[prompt] == (0.0, 0.0) and doc.graph.backdrops[0].rect == b.rect


def test_minimap_moves_the_view(window, hands, qtbot):
    doc, view = window.document, window.view
    three_nodes(doc)
    doc.add_node("text", (4000, 2000))
    minimap = view.minimap
    assert minimap.isVisible()
    before = view.mapToScene(view.viewport().rect().center())
    qtbot.mouseClick(minimap, Qt.LeftButton, Qt.NoModifier, minimap.rect().bottomRight() - minimap.rect().center() / 4)
    after = view.mapToScene(view.viewport().rect().center())
    assert (after - before).manhattanLength() > 500
    hands.key(Qt.Key_M, Qt.AltModifier)
    assert not minimap.isVisible()


def test_dropping_a_node_onto_a_link_inserts_it(window, hands):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    link = doc.connect(t2v, "video", save, "video")
    speed = doc.add_node("change_speed", (350, 500)) if "change_speed" in doc.registry else \
        doc.add_node("add_audio_to_video", (350, 500))
    frame(window)
    item = view.gscene.nodes[speed]
    grab = item.mapToScene(item.title_rect().center())
    wire = view.gscene.links[link].path().pointAtPercent(0.5)
    offset = wire - item.mapToScene(item.body.center())
    hands.drag(grab, grab + offset, steps=10)
    links = {(l.source, l.target) for l in doc.graph.links}
    assert links == {(t2v, speed), (speed, save)}
    doc.undo_stack.undo()  # one step: the move and the new links
    assert [(l.source, l.target) for l in doc.graph.links] == [(t2v, save)]
    assert doc.graph.positions[speed] == (350.0, 500.0)


def test_a_node_dragged_so_the_link_crosses_its_body_off_centre_lights_the_link_and_takes_it(window, hands):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    link = doc.connect(t2v, "video", save, "video")
    speed = doc.add_node("add_audio_to_video", (350, 500))
    frame(window)
    item = view.gscene.nodes[speed]
    wire_item = view.gscene.links[link]
    grab = item.mapToScene(item.title_rect().center())
    wire = wire_item.path().pointAtPercent(0.5)
    body = item.mapRectToScene(item.body)
    # The wire passes through the node's lower part, well away from its centre.
    offset = wire - QPointF(body.center().x(), body.bottom() - 12)
    steps = 8
    hands.move(grab)
    hands._send(QEvent.MouseButtonPress, hands.at(grab), Qt.LeftButton, Qt.LeftButton, Qt.NoModifier)
    for i in range(1, steps + 1):
        hands.move(grab + offset * (i / steps), buttons=Qt.LeftButton)
    assert wire_item.pen().color() == QColor("#ffffff") and wire_item.pen().widthF() >= 4.0  # lit: it will take it
    hands._send(QEvent.MouseButtonRelease, hands.at(grab + offset), Qt.LeftButton, Qt.NoButton, Qt.NoModifier)
    assert {(l.source, l.target) for l in doc.graph.links} == {(t2v, speed), (speed, save)}


def test_ctrl_f_finds_a_node_by_name_and_frames_it(window, hands, qtbot):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    far = doc.add_node("text_to_audio", (6000, 4000))
    doc.set_title(far, "Thunder")
    hands.key(Qt.Key_F, Qt.ControlModifier)
    popup = view.find_popup
    assert popup.isVisible()
    qtbot.keyClicks(popup.edit, "thun")
    assert popup.visible_type_ids() == [far]
    qtbot.keyClick(popup.edit, Qt.Key_Return)
    assert doc.selected_nodes() == [far]
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(QPointF(6050, 4050))


def test_tab_with_a_node_selected_feeds_the_new_node_from_it(window, hands, qtbot):
    doc, view = window.document, window.view
    t2v = doc.add_node("text_to_video", (0, 0))
    doc.select([t2v])
    frame(window)
    hands.move((400, 100))
    hands.key(Qt.Key_Tab)
    qtbot.keyClicks(view.popup.edit, "save video")
    qtbot.keyClick(view.popup.edit, Qt.Key_Return)
    (save,) = [n for n in doc.graph.nodes if n != t2v]
    assert [(l.source, l.target) for l in doc.graph.links] == [(t2v, save)]
    doc.undo_stack.undo()  # one step
    assert list(doc.graph.nodes) == [t2v] and not doc.graph.links


def test_the_node_face_shows_the_size_a_preset_gives_not_the_width_it_overrides(window):
    doc, view = window.document, window.view
    t2v = doc.add_node("text_to_video", (0, 0), {"aspect": "16:9", "resolution": "preview", "width": 128,
                                                 "height": 80, "duration_unit": "frames", "frames": 33})
    item = view.gscene.nodes[t2v]
    shown = [p.name for p in item.shown_params]
    assert "width" not in shown and "height" not in shown and "resolution" in shown
    assert dict(item.summary_rows) == {"Size": "480 x 272", "Length": "33 frames, 2.06 s"}
    preset_height = item.height

    doc.set_param(t2v, "aspect", "custom")  # as the inspector does
    shown = [p.name for p in item.shown_params]
    assert "width" in shown and "resolution" not in shown
    assert dict(item.summary_rows)["Size"] == "128 x 80"
    doc.set_param(t2v, "width", 100)  # not a multiple of 16: no size to show; validation says why
    assert item.summary_rows == [] and len(item.shown_params) == 6  # the freed rows show parameters
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert dict(item.summary_rows)["Size"] == "480 x 272" and item.height == preset_height


def test_esc_while_dragging_nodes_puts_them_back_and_the_next_drag_moves_from_there(window, hands):
    doc, view = window.document, window.view
    prompt, t2v, save = three_nodes(doc)
    frame(window)
    steps_before = doc.undo_stack.count()
    start = tuple(doc.graph.positions[t2v])
    item = view.gscene.nodes[t2v]
    grab = item.mapToScene(item.title_rect().center())
    hands.move(grab)
    hands._send(QEvent.MouseButtonPress, hands.at(grab), Qt.LeftButton, Qt.LeftButton, Qt.NoModifier)
    for i in range(1, 7):
        hands.move(grab + QPointF(20 * i, 10 * i), buttons=Qt.LeftButton)
    assert item.pos() != QPointF(*start)  # it follows the mouse while dragged
    hands.key(Qt.Key_Escape)
    hands._send(QEvent.MouseButtonRelease, hands.at(grab + QPointF(120, 60)), Qt.LeftButton, Qt.NoButton,
                Qt.NoModifier)
    QApplication.processEvents()
    assert tuple(doc.graph.positions[t2v]) == start and item.pos() == QPointF(*start)
    assert doc.undo_stack.count() == steps_before  # nothing to undo: nothing happened
    # The next drag moves the node by exactly the mouse's way, not from where the cancelled one left off.
    hands.drag(grab, grab + QPointF(0, 80))
    moved = doc.graph.positions[t2v]
    assert abs(moved[0] - start[0]) < 1 and abs(moved[1] - start[1] - 80) < 1
    assert doc.undo_stack.count() == steps_before + 1
