"""The studio: the Qt (PySide6) GUI. Nothing outside ``app.ui`` imports Qt.

Importing this package guards against a PySide6 bug first (see below), so
every module under ``app.ui`` can rely on it.
"""

from __future__ import annotations

import sys


def _guard_singleton_refcounts() -> bool:
    """Work around PySide6 wheels that assume Python 3.12's immortal objects.

    PySide6 6.12's abi3 wheel returns ``None`` from every void method (and
    ``True`` from ``Signal.emit``) without taking a reference. Python 3.12+
    ignores reference counts of these singletons; Python 3.10/3.11 count
    them, so each call drops one reference that was never taken, and after a
    few thousand calls (one repaint of a big graph) the interpreter aborts
    with "Fatal Python error: none_dealloc". Giving the three singletons a
    huge reference count makes them as good as immortal, as they are on 3.12.
    Returns True when the guard was needed and applied.
    """
    if sys.version_info >= (3, 12):
        return False
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(50):
        probe.setObjectName("probe")  # a void method
    leaks = sys.getrefcount(None) < before - 25
    if leaks:
        import ctypes
        for obj in (None, True, False):
            # ob_refcnt is the first field of every object in a release build of CPython.
            ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 56
    return leaks


PYSIDE_REFCOUNT_GUARD = _guard_singleton_refcounts()
