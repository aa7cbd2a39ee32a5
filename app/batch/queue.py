"""The persistent batch queue: one SQLite file next to the renders.

``DIR/.weft-queue.sqlite`` holds the batch (a snapshot of the project, the
models profile, the output nodes) and one row per job with its status. It is
the single source of truth for what is left to do, so a batch survives a
crash, a kill -9 or a reboot: ``weft batch --resume DIR`` picks up the jobs
that are not done, and a job that was in flight when the coordinator died is
found (its run is no longer alive) and rendered again. A finished job is never
rendered twice, because a job only becomes ``done`` in the same transaction
that records its outputs.

Why SQLite: stdlib, one file that travels with the renders, transactions that
survive a power cut (WAL with synchronous=FULL), and safe to read from other
processes while a batch runs: ``weft queue list`` in another terminal, or the
GUI's queue dock. This module is plain Python (no Qt, no asyncio), so the dock
can poll it from a timer; ``changed()`` tells it cheaply whether to reload.

Job states::

    pending --claim--> running --finish--> done | failed
       ^                  |  \\--release (retry, or interrupted)--> pending
       |                  \\--cancel--> cancelled
       \\------ retry ------ failed | cancelled
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from app import processes

QUEUE_FILE = ".weft-queue.sqlite"
SCHEMA_VERSION = 1
STATUSES = ("pending", "running", "done", "failed", "cancelled")
FINISHED = ("done", "failed", "cancelled")
# A coordinator on another machine (a shared folder) counts as alive while its
# heartbeat is this recent; on this machine its process id is checked instead.
HEARTBEAT_STALE_S = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pid INTEGER NOT NULL,
    pid_started REAL,             -- the process's start time, so a reused pid is not mistaken for it
    host TEXT NOT NULL,
    started_at REAL NOT NULL,
    heartbeat REAL NOT NULL,
    finished_at REAL,
    exit_code INTEGER
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    folder TEXT NOT NULL,
    params TEXT NOT NULL,         -- JSON {"node.param": value}
    name_fields TEXT NOT NULL,    -- JSON {"job": ..., "seed": ...}
    label TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'done', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    run_id INTEGER,
    worker TEXT,
    started_at REAL,
    finished_at REAL,
    seconds REAL,
    peak_memory_bytes INTEGER,
    outputs TEXT NOT NULL DEFAULT '[]',
    nodes TEXT NOT NULL DEFAULT '{}',   -- JSON {node: {cached, key, seconds, peak_memory_bytes, nfe}}
    error TEXT,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, position);
"""


class QueueError(RuntimeError):
    """No queue where one was expected, or one already running; the message says what to do."""


@dataclass
class JobRecord:
    id: str
    position: int
    folder: str
    params: dict[str, Any]
    name_fields: dict[str, str]
    label: str
    source: str
    status: str
    attempts: int
    run_id: int | None
    worker: str | None
    started_at: float | None
    finished_at: float | None
    seconds: float | None
    peak_memory_bytes: int | None
    outputs: list[str]
    nodes: dict[str, Any]
    error: str | None
    updated_at: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RunRecord:
    id: int
    pid: int
    pid_started: float | None
    host: str
    started_at: float
    heartbeat: float
    finished_at: float | None
    exit_code: int | None

    @property
    def alive(self) -> bool:
        if self.finished_at is not None:
            return False
        if self.host == socket.gethostname():
            return processes.alive(self.pid, self.pid_started)
        return time.time() - self.heartbeat < HEARTBEAT_STALE_S


@dataclass
class BatchInfo:
    folder: Path
    project: dict[str, Any]           # the snapshot every job starts from
    project_path: str
    project_name: str
    project_dir: str                  # relative file paths in the project resolve here
    targets: list[str]
    models: str
    retries: int
    created: float
    description: dict[str, Any] = field(default_factory=dict)  # sweeps, csv: how the jobs were made


class BatchQueue:
    def __init__(self, folder: str | Path, *, _create: bool = False):
        self.folder = Path(folder)
        self.path = self.folder / QUEUE_FILE
        if not _create and not self.path.is_file():
            raise QueueError(f"{self.folder}: no batch here (no {QUEUE_FILE}); start one with "
                             "weft batch PROJECT --output-dir DIR")
        self.folder.mkdir(parents=True, exist_ok=True)
        # Autocommit; every change below is one explicit transaction.
        self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a finished job's row reaches the disk before we go on, even across a power cut.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(_SCHEMA)
        self._data_version: int | None = None
        if not _create:
            version = self._meta("schema")
            if version is None:
                raise QueueError(f"{self.path}: not a Weft batch queue (no schema version)")
            if int(version) > SCHEMA_VERSION:
                raise QueueError(f"{self.path}: written by a newer Weft (queue schema {version}; "
                                 f"this Weft reads {SCHEMA_VERSION})")

    # -- opening -------------------------------------------------------------------
    @staticmethod
    def exists(folder: str | Path) -> bool:
        return (Path(folder) / QUEUE_FILE).is_file()

    @classmethod
    def open(cls, folder: str | Path) -> "BatchQueue":
        return cls(folder)

    @classmethod
    def create(cls, folder: str | Path, *, project: dict[str, Any], project_path: str | Path, targets: list[str],
               models: str, jobs: Sequence[Any], retries: int = 0,
               description: dict[str, Any] | None = None) -> "BatchQueue":
        """A new queue holding ``jobs`` (``plan.JobSpec``s), all pending."""
        if cls.exists(folder):
            raise QueueError(f"{folder} already holds a batch; continue it with weft batch --resume {folder}, "
                             "or choose another --output-dir")
        queue = cls(folder, _create=True)
        now = time.time()
        project_path = Path(project_path)
        meta = {
            "schema": SCHEMA_VERSION,
            "project": json.dumps(project),
            "project_path": str(project_path.resolve()),
            "project_name": project_path.stem,
            "project_dir": str(project_path.resolve().parent),
            "targets": json.dumps(list(targets)),
            "models": models,
            "retries": int(retries),
            "created": now,
            "description": json.dumps(description or {}),
        }
        with queue._transaction():
            queue._db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                                  [(k, str(v)) for k, v in meta.items()])
            queue._db.executemany(
                "INSERT INTO jobs (id, position, folder, params, name_fields, label, source, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(j.id, i, j.folder, json.dumps(j.params), json.dumps(j.name_fields), j.label, j.source, now)
                 for i, j in enumerate(jobs)])
        remember_batch(queue.folder)
        return queue

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "BatchQueue":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- reading (what `weft queue list` and the GUI's dock use) --------------------
    def info(self) -> BatchInfo:
        meta = {row["key"]: row["value"] for row in self._db.execute("SELECT key, value FROM meta")}
        return BatchInfo(self.folder, json.loads(meta["project"]), meta["project_path"], meta["project_name"],
                         meta["project_dir"], json.loads(meta["targets"]), meta["models"], int(meta["retries"]),
                         float(meta["created"]), json.loads(meta.get("description", "{}")))

    def set_retries(self, retries: int) -> None:
        with self._transaction():
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'retries'", (str(int(retries)),))

    def jobs(self, statuses: Iterable[str] | None = None) -> list[JobRecord]:
        if statuses is None:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY position").fetchall()
        else:
            statuses = list(statuses)
            marks = ",".join("?" * len(statuses))
            rows = self._db.execute(f"SELECT * FROM jobs WHERE status IN ({marks}) ORDER BY position",
                                    statuses).fetchall()
        return [_job(row) for row in rows]

    def job(self, job_id: str) -> JobRecord:
        row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise QueueError(f"{self.folder}: no job {job_id!r}")
        return _job(row)

    def counts(self) -> dict[str, int]:
        counts = {status: 0 for status in STATUSES}
        for row in self._db.execute("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status"):
            counts[row["status"]] = row["n"]
        return counts

    def resolve_ids(self, names: Iterable[str]) -> list[str]:
        """Job ids as typed: '0003', '3' and '0003_seed-3' all mean job 0003."""
        ids = [row["id"] for row in self._db.execute("SELECT id FROM jobs ORDER BY position")]
        by_number = {int(i): i for i in ids if i.isdigit()}
        out = []
        for name in names:
            head = name.strip().split("_", 1)[0]
            if head in ids:
                out.append(head)
            elif head.isdigit() and int(head) in by_number:
                out.append(by_number[int(head)])
            else:
                raise QueueError(f"{self.folder}: no job {name!r} (jobs are {ids[0]}..{ids[-1]})" if ids
                                 else f"{self.folder}: the batch has no jobs")
        return out

    def changed(self) -> bool:
        """True when another connection committed since the last call (cheap: for polling from a GUI)."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        changed = version != self._data_version
        self._data_version = version
        return changed

    # -- runs: which coordinator owns the running jobs ------------------------------
    def begin_run(self) -> int:
        """Register this process as the batch's coordinator; QueueError if another one is alive."""
        with self._transaction():
            other = self.active_run()
            if other is not None:
                where = f"pid {other.pid}" + (f" on {other.host}" if other.host != socket.gethostname() else "")
                raise QueueError(f"{self.folder}: another weft batch ({where}) is working on this batch; "
                                 "wait for it, or stop it first")
            now = time.time()
            cursor = self._db.execute(
                "INSERT INTO runs (pid, pid_started, host, started_at, heartbeat) VALUES (?, ?, ?, ?, ?)",
                (os.getpid(), processes.started_at(os.getpid()), socket.gethostname(), now, now))
            return int(cursor.lastrowid)

    def heartbeat(self, run_id: int) -> None:
        with self._transaction():
            self._db.execute("UPDATE runs SET heartbeat = ? WHERE id = ?", (time.time(), run_id))

    def end_run(self, run_id: int, exit_code: int) -> None:
        with self._transaction():
            self._db.execute("UPDATE runs SET finished_at = ?, exit_code = ? WHERE id = ?",
                             (time.time(), exit_code, run_id))

    def runs(self) -> list[RunRecord]:
        return [RunRecord(**dict(row)) for row in self._db.execute("SELECT * FROM runs ORDER BY id")]

    def active_run(self) -> RunRecord | None:
        for run in reversed(self.runs()):
            if run.alive:
                return run
        return None

    def recover(self, run_id: int) -> list[str]:
        """Jobs left ``running`` by a coordinator that died go back to ``pending``.

        Their attempt is not counted against --retries: the job did not fail,
        its coordinator went away (a kill, a crash, a reboot).
        """
        with self._transaction():
            stale = []
            runs = {r.id: r for r in self.runs()}
            for row in self._db.execute("SELECT id, run_id FROM jobs WHERE status = 'running'").fetchall():
                run = runs.get(row["run_id"])
                if row["run_id"] != run_id and (run is None or not run.alive):
                    stale.append(row["id"])
            self._db.executemany(
                "UPDATE jobs SET status = 'pending', attempts = MAX(attempts - 1, 0), run_id = NULL, worker = NULL, "
                "error = 'interrupted: rendered again', updated_at = ? WHERE id = ?",
                [(time.time(), job_id) for job_id in stale])
        return stale

    # -- the coordinator's side --------------------------------------------------
    def claim(self, run_id: int, worker: str) -> JobRecord | None:
        """The next pending job, now ``running`` under this run; None when none is pending."""
        with self._transaction():
            row = self._db.execute("SELECT id FROM jobs WHERE status = 'pending' ORDER BY position LIMIT 1").fetchone()
            if row is None:
                return None
            now = time.time()
            self._db.execute(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, run_id = ?, worker = ?, "
                "started_at = ?, finished_at = NULL, updated_at = ? WHERE id = ?",
                (run_id, worker, now, now, row["id"]))
            return _job(self._db.execute("SELECT * FROM jobs WHERE id = ?", (row["id"],)).fetchone())

    def finish(self, job_id: str, run_id: int, status: str, *, seconds: float | None = None,
               peak_memory_bytes: int | None = None, outputs: Sequence[str] = (),
               nodes: dict[str, Any] | None = None, error: str | None = None) -> bool:
        """Record a job's end; False when it was no longer ours (cancelled meanwhile)."""
        if status not in FINISHED:
            raise ValueError(f"a job finishes as one of {FINISHED}, not {status!r}")
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE jobs SET status = ?, seconds = ?, peak_memory_bytes = ?, outputs = ?, nodes = ?, error = ?, "
                "finished_at = ?, updated_at = ? WHERE id = ? AND status = 'running' AND run_id = ?",
                (status, seconds, peak_memory_bytes, json.dumps(list(outputs)), json.dumps(nodes or {}), error,
                 time.time(), time.time(), job_id, run_id))
            return cursor.rowcount == 1

    def release(self, job_id: str, run_id: int, *, error: str | None = None, count_attempt: bool = True) -> bool:
        """Put a running job back to ``pending``: to retry it, or because the batch was interrupted."""
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE jobs SET status = 'pending', run_id = NULL, worker = NULL, error = ?, updated_at = ?, "
                f"attempts = {'attempts' if count_attempt else 'MAX(attempts - 1, 0)'} "
                "WHERE id = ? AND status = 'running' AND run_id = ?",
                (error, time.time(), job_id, run_id))
            return cursor.rowcount == 1

    def statuses(self, job_ids: Iterable[str]) -> dict[str, str]:
        ids = list(job_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return {row["id"]: row["status"]
                for row in self._db.execute(f"SELECT id, status FROM jobs WHERE id IN ({marks})", ids)}

    # -- the user's side: weft queue cancel | retry -------------------------------------
    def cancel(self, job_ids: Iterable[str] | None = None) -> list[str]:
        """Cancel pending and running jobs (all of them by default). A running
        batch notices within a second and stops rendering them."""
        return self._move(job_ids, ("pending", "running"), "cancelled",
                          "error = 'cancelled by the user', finished_at = :now")

    def retry(self, job_ids: Iterable[str] | None = None) -> list[str]:
        """Queue failed and cancelled jobs again (all of them by default), with their attempts reset."""
        return self._move(job_ids, ("failed", "cancelled"), "pending",
                          "attempts = 0, run_id = NULL, worker = NULL, finished_at = NULL")

    def rerender(self, job_ids: Iterable[str]) -> list[str]:
        """Queue finished jobs again, done ones included (weft queue retry --force)."""
        return self._move(job_ids, FINISHED, "pending", "attempts = 0, run_id = NULL, worker = NULL, finished_at = NULL")

    def _move(self, job_ids: Iterable[str] | None, from_statuses: Sequence[str], to_status: str, extra: str) -> list[str]:
        with self._transaction():
            marks = ",".join(f"'{s}'" for s in from_statuses)
            if job_ids is None:
                ids = [r["id"] for r in self._db.execute(f"SELECT id FROM jobs WHERE status IN ({marks}) "
                                                         "ORDER BY position")]
            else:
                wanted = list(job_ids)
                ids = [r["id"] for r in self._db.execute(f"SELECT id FROM jobs WHERE status IN ({marks})")
                       if r["id"] in wanted]
                ids.sort(key=wanted.index)
            now = time.time()
            self._db.executemany(f"UPDATE jobs SET status = :to, {extra}, updated_at = :now WHERE id = :id",
                                 [{"to": to_status, "now": now, "id": i} for i in ids])
        return ids

    # -- plumbing -----------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row["value"]

    def _transaction(self) -> "_Transaction":
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT: takes the write lock up front, so two
    coordinators (or a coordinator and `weft queue cancel`) never both claim a job."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        self.nested = False

    def __enter__(self) -> None:
        self.nested = self.db.in_transaction
        if not self.nested:
            self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if self.nested:
            return
        if exc_type is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")


def _job(row: sqlite3.Row) -> JobRecord:
    data = dict(row)
    for key in ("params", "name_fields", "outputs", "nodes"):
        data[key] = json.loads(data[key])
    return JobRecord(**data)


# -- every batch this user started, so `weft queue list` and the GUI can find them --------
def data_dir() -> Path:
    env = os.environ.get("WEFT_DATA_DIR")
    if env:
        return Path(env)
    import platformdirs
    return Path(platformdirs.user_data_dir("weft"))


def _index_path() -> Path:
    return data_dir() / "batches.json"


def remember_batch(folder: str | Path) -> None:
    """Note a batch's folder in the user's data folder. Best effort: a read-only
    home must not stop a render."""
    try:
        path = _index_path()
        known = [str(p) for p in known_batches()]
        entry = str(Path(folder).resolve())
        if entry in known:
            return
        known.append(entry)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".batches.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(known, fh, indent=1)
        os.replace(tmp, path)
    except OSError:
        pass


def known_batches() -> list[Path]:
    """Folders of batches started on this machine that still have their queue."""
    try:
        entries = json.loads(_index_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [Path(e) for e in entries if isinstance(e, str) and BatchQueue.exists(e)]
