"""The queue: every run of this session, its state and how long it took.

``QueueModel`` is a plain Qt table model over ``Job`` records and knows
nothing about the engine: the runner feeds it (``add_job``/``update_job``),
and a persistent batch queue can feed another instance, or subclass it,
and show it in the same ``QueuePanel``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTreeView, QVBoxLayout, QWidget,
)

from app.ui.panels import palette

STATUSES = ("queued", "running", "done", "failed", "cancelled")
FINISHED = frozenset({"done", "failed", "cancelled"})
STATUS_WORDS = {"queued": "Queued", "running": "Running", "done": "Done", "failed": "Failed",
                "cancelled": "Cancelled"}


@dataclass
class Job:
    job_id: str
    title: str
    status: str = "queued"
    detail: str = ""
    queued_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def seconds(self, now: float | None = None) -> float | None:
        """How long it ran (so far, while it runs)."""
        if self.started_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else (now or time.time())
        return max(0.0, end - self.started_at)


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class QueueModel(QAbstractTableModel):
    """Runs, newest last. Columns: run, status, queued at, took, detail."""

    COLUMNS = ("Run", "Status", "Queued", "Took", "Detail")
    JOB_ROLE = Qt.UserRole + 1

    def __init__(self, parent=None, *, clock=time.time):
        super().__init__(parent)
        self._jobs: list[Job] = []
        self._rows: dict[str, int] = {}
        self.clock = clock

    # -- feeding -----------------------------------------------------------------------------------
    def add_job(self, job_id: str, title: str, status: str = "queued", detail: str = "") -> Job:
        if job_id in self._rows:
            job = self._jobs[self._rows[job_id]]
            job.title = title
            self.update_job(job_id, status, detail)
            return job
        job = Job(job_id, title, "queued", detail, queued_at=self.clock())
        row = len(self._jobs)
        self.beginInsertRows(QModelIndex(), row, row)
        self._jobs.append(job)
        self._rows[job_id] = row
        self.endInsertRows()
        if status != "queued":
            self.update_job(job_id, status, detail)
        return job

    def update_job(self, job_id: str, status: str, detail: str = "") -> Job:
        if status not in STATUSES:
            raise ValueError(f"unknown job status {status!r}; one of {', '.join(STATUSES)}")
        row = self._rows.get(job_id)
        if row is None:
            return self.add_job(job_id, job_id, status, detail)
        job = self._jobs[row]
        now = self.clock()
        if status == "running" and job.started_at is None:
            job.started_at = now
        if status in FINISHED and job.finished_at is None:
            job.finished_at = now
            if job.started_at is None and status != "cancelled":
                job.started_at = now
        if status not in FINISHED:
            job.finished_at = None
        job.status = status
        job.detail = detail
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))
        return job

    def clear_finished(self) -> None:
        keep = [j for j in self._jobs if not j.finished]
        if len(keep) == len(self._jobs):
            return
        self.beginResetModel()
        self._jobs = keep
        self._rows = {j.job_id: i for i, j in enumerate(keep)}
        self.endResetModel()

    def tick(self) -> None:
        """Redraws the running time of running jobs."""
        col = self.COLUMNS.index("Took")
        for row, job in enumerate(self._jobs):
            if job.status == "running":
                self.dataChanged.emit(self.index(row, col), self.index(row, col))

    # -- reading -----------------------------------------------------------------------------------
    def job(self, job_id: str) -> Job:
        return self._jobs[self._rows[job_id]]

    def jobs(self) -> list[Job]:
        return list(self._jobs)

    def job_at(self, row: int) -> Job:
        return self._jobs[row]

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for job in self._jobs:
            out[job.status] = out.get(job.status, 0) + 1
        return out

    # -- Qt model ----------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole) -> Any:
        if not index.isValid():
            return None
        job = self._jobs[index.row()]
        column = self.COLUMNS[index.column()]
        if role == self.JOB_ROLE:
            return job.job_id
        if role == Qt.DisplayRole:
            if column == "Run":
                return job.title
            if column == "Status":
                return STATUS_WORDS.get(job.status, job.status)
            if column == "Queued":
                return time.strftime("%H:%M:%S", time.localtime(job.queued_at))
            if column == "Took":
                return duration_text(job.seconds(self.clock()))
            if column == "Detail":
                return job.detail.splitlines()[0] if job.detail else ""
        if role == Qt.ToolTipRole:
            lines = [f"{job.title} ({job.job_id})", STATUS_WORDS.get(job.status, job.status)]
            if job.detail:
                lines.append(job.detail)
            return "\n".join(lines)
        if role == Qt.DecorationRole and column == "Status":
            return palette.swatch_icon(palette.STATUS_COLORS.get(job.status, "#888888"))
        if role == Qt.ForegroundRole and column in ("Status", "Detail") and job.status in ("failed", "cancelled"):
            return QColor(palette.STATUS_COLORS[job.status])
        if role == Qt.TextAlignmentRole and column in ("Queued", "Took"):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None


class QueuePanel(QWidget):
    """The runs, with their states. ``cancel_requested(job_id)`` when the artist cancels one."""

    cancel_requested = Signal(str)

    def __init__(self, model: QueueModel | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model or QueueModel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        self.view = QTreeView()
        self.view.setModel(self.model)
        self.view.setRootIsDecorated(False)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SingleSelection)
        header = self.view.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.Interactive)
        self.view.setColumnWidth(0, 160)
        for col in range(1, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeToContents)
        layout.addWidget(self.view, 1)
        self.empty_label = QLabel("No runs yet. Run (Ctrl+Enter) queues the graph; its progress shows here.")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignCenter)
        self.empty_label.setStyleSheet(f"color: {palette.DIM_COLOR}; padding: 12px")
        layout.addWidget(self.empty_label, 1)
        bar = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setStyleSheet(f"color: {palette.DIM_COLOR}")
        bar.addWidget(self.summary, 1)
        self.cancel_button = QPushButton("Cancel run")
        self.cancel_button.setToolTip("Stop the selected run (a queued one never starts)")
        self.cancel_button.clicked.connect(self._cancel_selected)
        bar.addWidget(self.cancel_button)
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.clicked.connect(self.model.clear_finished)
        bar.addWidget(self.clear_button)
        layout.addLayout(bar)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.model.tick)
        for signal in (self.model.rowsInserted, self.model.modelReset, self.model.dataChanged):
            signal.connect(self._refresh)
        self.view.selectionModel().selectionChanged.connect(self._refresh)
        self._refresh()

    # The runner's calls.
    def add_job(self, job_id: str, title: str) -> None:
        self.model.add_job(job_id, title)
        self.view.scrollToBottom()

    def update_job(self, job_id: str, status: str, detail: str = "") -> None:
        self.model.update_job(job_id, status, detail)

    def selected_job(self) -> str | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.job_at(rows[0].row()).job_id if rows else None

    def _cancel_selected(self) -> None:
        job_id = self.selected_job()
        if job_id is None:
            running = [j for j in self.model.jobs() if not j.finished]
            job_id = running[0].job_id if running else None
        if job_id is not None and not self.model.job(job_id).finished:
            self.cancel_requested.emit(job_id)

    def _refresh(self, *_: Any) -> None:
        counts = self.model.counts()
        jobs = self.model.jobs()
        self.empty_label.setVisible(not jobs)
        self.view.setVisible(bool(jobs))
        parts = [f"{counts[s]} {s}" for s in ("running", "queued", "failed") if counts.get(s)]
        done = counts.get("done", 0)
        if done:
            parts.append(f"{done} done")
        self.summary.setText(" \u00b7 ".join(parts))
        active = any(not j.finished for j in jobs)
        self.cancel_button.setEnabled(active)
        self.clear_button.setEnabled(any(j.finished for j in jobs))
        if counts.get("running") and not self._timer.isActive():
            self._timer.start()
        elif not counts.get("running") and self._timer.isActive():
            self._timer.stop()


__all__ = ["FINISHED", "Job", "QueueModel", "QueuePanel", "STATUSES", "duration_text"]
