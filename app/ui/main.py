"""Starts the studio: ``weft`` or ``weft gui [PROJECT] [--screenshot PNG]``.

asyncio runs on the Qt event loop through qasync, so the engine client's
coroutines and the widgets share one thread and never block each other.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

# qasync picks the first Qt binding it can import unless told (PyQt before PySide6).
os.environ.setdefault("QT_API", "pyside6")


def make_app():
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.ui import theme
    from app.ui.main_window import ICON

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    app.setApplicationName("Weft")
    app.setOrganizationName("Weft")
    app.setApplicationDisplayName("Weft")
    app.setDesktopFileName("weft")
    app.setWindowIcon(QIcon(str(ICON)))
    theme.apply(app)
    return app


def install_loop(app):
    """An asyncio loop that runs whenever Qt processes events (including nested loops)."""
    import qasync
    loop = qasync.QEventLoop(app, already_running=True)
    asyncio.set_event_loop(loop)
    return loop


def close_loop(loop) -> None:
    """Closes the loop without ``loop.stop()``: that calls ``QApplication.exit()``,
    which leaves Qt unable to run another loop in this process (tests make many)."""
    loop._QEventLoop__is_running = False
    asyncio.events._set_running_loop(None)
    try:
        loop.close()
    except RuntimeError:
        pass
    asyncio.set_event_loop(None)


def take_screenshot(window, path: Path, app) -> None:
    """Shows the window, frames the graph, and saves the window as a PNG."""
    from PySide6.QtCore import QEventLoop, QTimer

    window.show()
    for _ in range(3):
        app.processEvents(QEventLoop.AllEvents, 50)
    window.view.frame_all()
    # Let docks settle and the canvas repaint at the final zoom.
    done = QEventLoop()
    QTimer.singleShot(200, done.quit)
    done.exec()
    window.view.frame_all()
    app.processEvents(QEventLoop.AllEvents, 50)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        raise OSError(f"cannot write {path}")


def run_gui(project: str | Path | None = None, screenshot: str | Path | None = None,
            models: str | None = None) -> int:
    headless = sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                          or os.environ.get("WAYLAND_DISPLAY"))
    if screenshot is not None and headless:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if headless and not os.environ.get("QT_QPA_PLATFORM"):
        # Qt would abort with a cryptic "could not connect to display".
        print("weft: no display to open the studio on (DISPLAY is not set). Use `weft render` here, or "
              "`weft gui PROJECT --screenshot out.png` for a picture.", file=sys.stderr)
        return 2
    app = make_app()
    loop = install_loop(app)
    if models is None:  # no --models: the profile chosen in Settings
        from app.ui.settings import Settings
        models = Settings().get("models") or "default"
    from app.ui.main_window import MainWindow

    try:
        if screenshot is not None:
            window = MainWindow(models=models, autosave=False, interactive=False)
            if project is not None and not window.open_path(project, ask=False):
                return 2
            take_screenshot(window, Path(screenshot), app)
            print(f"screenshot written to {screenshot}", file=sys.stderr)
            window.close_without_asking()
            return 0

        window = MainWindow(models=models)
        if models == "tiny":
            window.log("Using the tiny test models: random weights built offline. Their output is noise, "
                       "not a real video or sound.", "warning")
        window.show()
        if project is not None:
            window.open_path(project, ask=False)
        else:
            from PySide6.QtCore import QTimer
            QTimer.singleShot(300, window.offer_recovery)
        return app.exec()
    finally:
        close_loop(loop)


if __name__ == "__main__":
    sys.exit(run_gui(sys.argv[1] if len(sys.argv) > 1 else None))
