"""Is the process that wrote this note still running? One answer for the whole app.

A pid alone is not enough: the system hands a dead program's pid to the next
one, so a check by pid (``os.kill(pid, 0)``) can take a stranger for the
studio that left an autosave, or for a batch's coordinator. A note therefore
records the process's start time with its pid, and a process only counts as
the same if both match (psutil reads both on every platform).
"""

from __future__ import annotations

import psutil


def started_at(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or None if there is none."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, ValueError, OverflowError):
        return None


def alive(pid: int, started: float | None = None) -> bool:
    """Process ``pid`` is running (not a zombie), and is the one that started at ``started``
    (None: a note too old to say; then any process with that pid counts)."""
    if pid <= 0:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or abs(proc.create_time() - started) < 1.0
    except (psutil.Error, ValueError, OverflowError):
        return False
