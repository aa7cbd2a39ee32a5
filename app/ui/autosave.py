"""Autosave to a recovery folder, and recovery after a crash.

While the project has unsaved changes, it is written every N seconds to
``<data dir>/recovery/<session>.weft`` with a small ``.json`` note beside it
(which file it was, which process wrote it, when). Saving or closing cleanly
removes both. At the next start, recovery files whose process is gone are
offered back to the artist.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from app import processes
from app.ui.document import Document
from app.ui.settings import data_dir


def recovery_dir() -> Path:
    return data_dir() / "recovery"


@dataclass
class Recovery:
    project_file: Path      # the autosaved project
    note_file: Path
    original: Path | None   # the file the artist was editing, if it had one
    saved_at: float
    pid: int

    @property
    def name(self) -> str:
        return self.original.name if self.original else "an untitled project"

    def read(self) -> dict:
        return json.loads(self.project_file.read_text(encoding="utf-8"))

    def discard(self) -> None:
        self.project_file.unlink(missing_ok=True)
        self.note_file.unlink(missing_ok=True)


def find_recoveries(folder: Path | None = None) -> list[Recovery]:
    """Autosaves left by sessions that did not close cleanly, newest first."""
    folder = folder or recovery_dir()
    found = []
    for note in folder.glob("*.json"):
        try:
            meta = json.loads(note.read_text(encoding="utf-8"))
            pid = int(meta.get("pid", 0))
            started = meta.get("pid_started")
            started = float(started) if started is not None else None
            saved_at = float(meta.get("saved_at", 0))
            original = Path(meta["original"]) if meta.get("original") else None
        except (OSError, ValueError, TypeError):
            continue
        project_file = note.with_suffix(".weft")
        if not project_file.exists() or pid == os.getpid() or processes.alive(pid, started):
            continue
        found.append(Recovery(project_file, note, original, saved_at, pid))
    found.sort(key=lambda r: r.saved_at, reverse=True)
    return found


class Autosaver(QObject):
    def __init__(self, document: Document, interval_s: int = 60, folder: Path | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.folder = folder or recovery_dir()
        self.session = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.save_now)
        self.set_interval(interval_s)
        document.dirty_changed.connect(self._on_dirty)

    @property
    def project_file(self) -> Path:
        return self.folder / f"{self.session}.weft"

    @property
    def note_file(self) -> Path:
        return self.folder / f"{self.session}.json"

    def set_interval(self, seconds: int) -> None:
        self.timer.start(max(1, int(seconds)) * 1000)

    def stop(self) -> None:
        self.timer.stop()

    def save_now(self) -> bool:
        """Writes the recovery copy if there are unsaved changes; True if it wrote."""
        if not self.document.dirty:
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.document.to_dict(), indent=1, ensure_ascii=False)
        tmp = self.project_file.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.project_file)
        note = {"pid": os.getpid(), "pid_started": processes.started_at(os.getpid()), "saved_at": time.time(),
                "original": str(self.document.path) if self.document.path else None}
        self.note_file.write_text(json.dumps(note), encoding="utf-8")
        return True

    def discard(self) -> None:
        self.project_file.unlink(missing_ok=True)
        self.note_file.unlink(missing_ok=True)

    def _on_dirty(self, dirty: bool) -> None:
        if not dirty:
            self.discard()  # saved (or undone back to the saved state): nothing to recover
