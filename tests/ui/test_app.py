"""Starting the studio: `weft gui PROJECT --screenshot PNG`, and what the GUI process imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

pytestmark = pytest.mark.ui
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "assets" / "examples").glob("*.weft"))


def looks_drawn(path: Path) -> bool:
    """A real picture, not a blank window: several distinct colours across it."""
    image = QImage(str(path))
    if image.isNull() or image.width() < 800:
        return False
    colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 29)}
    return len(colours) > 20


def test_screenshot_of_an_example(qapp, tmp_path):
    from app.ui.main import run_gui
    out = tmp_path / "shot.png"
    assert run_gui(EXAMPLES[0], screenshot=out, models="tiny") == 0
    assert looks_drawn(out)


def test_weft_gui_screenshot_from_the_command_line(tmp_path):
    out = tmp_path / "cli.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "WEFT_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run([sys.executable, "-m", "app", "gui", str(EXAMPLES[-1]), "--screenshot", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert looks_drawn(out)
    # A project that cannot be read: exit 2 and say why, no dialog.
    bad = tmp_path / "bad.weft"
    bad.write_text("{ not json")
    proc = subprocess.run([sys.executable, "-m", "app", "gui", str(bad), "--screenshot", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "not valid JSON" in proc.stderr


def test_opening_the_studio_and_every_example_imports_no_torch(tmp_path):
    script = f"""
import sys
from app.ui.main import make_app, install_loop
from app.ui.main_window import MainWindow
app = make_app(); install_loop(app)
w = MainWindow(models="tiny", interactive=False)
w.show()
for path in {[str(p) for p in EXAMPLES]!r}:
    assert w.open_path(path, ask=False), path
    w.document.select(list(w.document.graph.nodes)[:1])
    app.processEvents()
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "diffusers", "transformers"))
print("HEAVY", heavy)
w.close_without_asking()
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "WEFT_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "HEAVY []" in proc.stdout


def test_pyside_refcount_guard_keeps_long_sessions_alive(qapp):
    """PySide6 6.12 drops a reference to None on every void call under Python 3.11;
    the guard in app.ui keeps the interpreter from aborting after a few thousand calls."""
    import app.ui
    from PySide6.QtCore import QObject
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(20000):
        probe.setObjectName("x")
    dropped = before - sys.getrefcount(None)
    if dropped > 10000:  # this PySide build drops a reference per void call
        assert app.ui.PYSIDE_REFCOUNT_GUARD, "PySide leaks references to None and the guard was not applied"
        assert sys.getrefcount(None) > 1 << 55, "the guard must leave None as good as immortal"
    else:  # Python 3.12+ (immortal singletons) or a fixed PySide: nothing to guard
        assert dropped < 100
