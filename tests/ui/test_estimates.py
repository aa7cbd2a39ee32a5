"""Before a render starts, the studio says how long it will take here; Draft / Final on
the toolbar; the models profile in Settings and on screen. The real window, keys and clicks."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from engines import estimate as E
from tests.ui.test_history import FakeEngine, PaintingEngine, run_keys, wait_done

pytestmark = pytest.mark.ui


@pytest.fixture
def cpu_studio(make_window, tmp_path):
    from app.ui.settings import Settings
    FakeEngine.instances.clear()
    PaintingEngine.folder = tmp_path
    settings = Settings()
    settings.set("device", "cpu")
    return make_window(client_factory=PaintingEngine, settings=settings)


def add_by_search(qtbot, w, words):
    """Tab, type, Enter: the artist's way of adding a node."""
    before = set(w.document.graph.nodes)
    w.view.setFocus()
    qtbot.keyClick(w.view.viewport(), Qt.Key_Tab)
    popup = w.view.popup
    assert popup.isVisible()
    qtbot.keyClicks(popup.edit, words)
    qtbot.keyClick(popup.edit, Qt.Key_Return)
    (new,) = set(w.document.graph.nodes) - before
    return new


def test_text_to_video_on_a_cpu_starts_sized_for_a_minute_and_says_how_long(cpu_studio, qtbot):
    w = cpu_studio
    doc = w.document
    assert w.device == "cpu"
    t2v = add_by_search(qtbot, w, "text to video")
    params = doc.graph.nodes[t2v].params
    guess = doc.estimate_for(t2v)
    assert guess is not None and guess.seconds < 60 and not guess.measured
    # The largest CPU rung that fits a minute, not the node's 480p default.
    assert (params["width"], params["height"], params["frames"], params["steps"]) in E.CPU_LADDER
    item = w.view.gscene.nodes[t2v]
    assert item.estimate_text().startswith("\u2248 ") and "(guess)" in item.estimate_text()
    assert "long" not in item.estimate_text()
    # Made long: the face and the Run button's tooltip say so before anything runs.
    doc.set_param(t2v, "frames", 81)
    doc.set_param(t2v, "width", 832)
    doc.set_param(t2v, "height", 480)
    doc.set_param(t2v, "steps", 50)
    assert doc.estimate_for(t2v).long and item.estimate_text().endswith("long")
    doc.select([t2v])
    assert "Estimated: about" in w.run_action.toolTip() and "That is long" in w.run_action.toolTip()
    assert "Models: tiny" in w.run_action.toolTip()


def test_a_long_render_is_announced_before_it_starts_and_the_run_teaches_the_estimate(cpu_studio, qtbot):
    w = cpu_studio
    doc = w.document
    prompt = doc.add_node("text", (0, 0), {"text": "a lighthouse"})
    t2v = doc.add_node("text_to_video", (350, 0), {"aspect": "custom", "duration_unit": "frames", "width": 832,
                                                   "height": 480, "frames": 81, "steps": 50})
    save = doc.add_node("save_video", (700, 0))
    doc.connect(prompt, "out", t2v, "prompt")
    doc.connect(t2v, "video", save, "video")
    logged = []
    w._api(w.log_panel).append = lambda text, level="info": logged.append((text, level))
    job = w.run()
    assert job is not None and w.runner.jobs[job].status == "queued"  # nothing has run yet
    warnings = [t for t, level in logged if level == "warning" and t.startswith("A long render")]
    assert warnings and "this CPU" in warnings[0]
    assert "A long render" in w.statusBar().currentMessage()
    assert any(t.startswith("Queued 1 run: models tiny") for t, _ in logged)
    wait_done(qtbot, w, 1)
    # The stand-in engine said 0.25 s: that is this machine's figure now, not a guess.
    measured = doc.estimate_for(t2v)
    assert measured.measured and abs(measured.seconds - 0.25) < 1e-6
    assert "(guess)" not in w.view.gscene.nodes[t2v].estimate_text()


def test_draft_on_the_toolbar_is_saved_sent_undone_and_shortens_the_estimate(cpu_studio, qtbot):
    w = cpu_studio
    doc = w.document
    from tests.ui.test_runs import build
    prompt, t2v, save = build(doc, steps=20)
    final = doc.estimate_for(t2v).seconds
    button = w.toolbar.widgetForAction(w.draft_action)
    qtbot.mouseClick(button, Qt.LeftButton)
    assert doc.quality == "draft" and doc.to_dict()["settings"]["quality"] == "draft"
    assert doc.estimate_for(t2v).seconds < final
    run_keys(qtbot, w)
    wait_done(qtbot, w, 1)
    assert FakeEngine.instances[0].submitted[0]["project"]["settings"]["quality"] == "draft"
    doc.undo_stack.undo()
    assert doc.quality == "final" and not w.draft_action.isChecked()


def test_the_models_profile_is_in_settings_and_on_screen(cpu_studio, qtbot):
    from app.ui.settings import SettingsDialog
    w = cpu_studio
    assert w.models_label.text().strip() == "models: tiny"
    dialog = SettingsDialog(w.settings, w)
    assert dialog.models.currentData() == "tiny"
    dialog.models.setCurrentIndex(dialog.models.findData("default"))
    dialog.apply()
    w.apply_settings()
    assert w.models == "default" and w.runner.models == "default"
    assert w.models_label.text().strip() == "models: default"
    assert w.settings.get("models") == "default"
    from tests.ui.test_runs import build
    build(w.document)
    run_keys(qtbot, w)
    qtbot.waitUntil(lambda: bool(FakeEngine.instances), timeout=3000)
    assert FakeEngine.instances[-1].models == "default"
