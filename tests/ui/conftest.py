"""Fixtures for the studio's tests: an offscreen Qt, an asyncio loop on it, a
window with its settings in a temp folder, and an artist's mouse and keys."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("QT_API", "pyside6")

import asyncio  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch) -> Path:
    """Settings, autosaves and renders of unsaved projects go to a temp folder."""
    folder = tmp_path / "weft-data"
    monkeypatch.setenv("WEFT_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def qloop(qapp):
    """asyncio on the Qt loop, running whenever Qt processes events (qtbot.waitUntil included)."""
    from app.ui.main import close_loop, install_loop
    loop = install_loop(qapp)
    errors: list = []
    loop.set_exception_handler(lambda l, context: errors.append(context))
    yield loop
    close_loop(loop)
    assert not errors, errors


@pytest.fixture
def make_window(qtbot, qloop):
    """Builds studio windows (tiny models; settings and autosaves in the temp data folder)."""
    from app.ui.main_window import MainWindow
    from app.ui.settings import Settings

    windows = []

    def make(**kwargs):
        kwargs.setdefault("models", "tiny")
        kwargs.setdefault("settings", Settings())
        w = MainWindow(**kwargs)
        # The studio shows a note in place of a panel that fails to build, so an artist can still
        # work; in the tests that is a failure, never a quiet stand-in.
        assert not w.panel_errors, f"panels failed to build: {w.panel_errors}"
        w.ask_unsaved = lambda: "discard"
        w.ask_recover = lambda recovery: "later"
        qtbot.addWidget(w)
        w.resize(1400, 900)
        w.show()
        qtbot.waitExposed(w)
        w.view.setFocus()
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.runner.shutdown(timeout=10)
        w.close_without_asking()


@pytest.fixture
def window(make_window):
    return make_window()


# -- an artist's hands ---------------------------------------------------------------------------------
class Hands:
    """Mouse and keys on the canvas, in scene coordinates (what an artist aims at)."""

    def __init__(self, qtbot, view):
        self.qtbot, self.view = qtbot, view

    def at(self, scene_pos) -> QPoint:
        if not isinstance(scene_pos, QPointF):
            scene_pos = QPointF(*scene_pos)
        return self.view.mapFromScene(scene_pos)

    def _send(self, kind, pos: QPoint, button, buttons, mods) -> None:
        vp = self.view.viewport()
        event = QMouseEvent(kind, QPointF(pos), QPointF(pos), QPointF(vp.mapToGlobal(pos)), button, buttons, mods)
        QApplication.sendEvent(vp, event)

    def move(self, scene_pos, buttons=Qt.NoButton, mods=Qt.NoModifier) -> None:
        self._send(QEvent.MouseMove, self.at(scene_pos), Qt.NoButton, buttons, mods)

    def drag(self, start, end, button=Qt.LeftButton, mods=Qt.NoModifier, steps: int = 6) -> None:
        """Press at ``start``, move in a few steps with the button held, release at ``end``."""
        a, b = self.at(start), self.at(end)
        self._send(QEvent.MouseMove, a, Qt.NoButton, Qt.NoButton, mods)
        self._send(QEvent.MouseButtonPress, a, button, button, mods)
        for i in range(1, steps + 1):
            p = a + (b - a) * (i / steps)
            self._send(QEvent.MouseMove, QPoint(round(p.x()), round(p.y())), Qt.NoButton, button, mods)
        self._send(QEvent.MouseButtonRelease, b, button, Qt.NoButton, mods)
        QApplication.processEvents()

    def drag_path(self, points, button=Qt.LeftButton, mods=Qt.NoModifier) -> None:
        pts = [self.at(p) for p in points]
        self._send(QEvent.MouseButtonPress, pts[0], button, button, mods)
        for p in pts[1:]:
            self._send(QEvent.MouseMove, p, Qt.NoButton, button, mods)
        self._send(QEvent.MouseButtonRelease, pts[-1], button, Qt.NoButton, mods)
        QApplication.processEvents()

    def click(self, scene_pos, button=Qt.LeftButton, mods=Qt.NoModifier) -> None:
        self.qtbot.mouseClick(self.view.viewport(), button, mods, self.at(scene_pos))

    def double_click(self, scene_pos) -> None:
        self.move(scene_pos)
        self.qtbot.mouseDClick(self.view.viewport(), Qt.LeftButton, Qt.NoModifier, self.at(scene_pos))

    def key(self, key, mods=Qt.NoModifier) -> None:
        self.qtbot.keyClick(self.view.viewport(), key, mods)


@pytest.fixture
def hands(qtbot, window) -> Hands:
    return Hands(qtbot, window.view)


def socket(view, node_id: str, kind: str, name: str) -> QPointF:
    item = view.gscene.nodes[node_id]
    return item.output_pos(name) if kind == "out" else item.input_pos(name)
