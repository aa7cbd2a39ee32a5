"""The studio's history of results: one SQLite file in the user's data folder.

Every run the studio queues becomes a row here the moment it is queued (the
project as it was sent, the targets, the models profile), and the row is
updated as the run starts and ends (status, seconds, the results per node,
the files written, a thumbnail). Written the way the batch queue is
(``app.batch.queue``: WAL, synchronous=FULL, one transaction per change), so
the history survives a crash of the studio or of the machine: a row left
``queued`` or ``running`` by a studio process that is gone reads back as
``interrupted``. The history dock also lists the jobs of ``weft batch`` runs,
read from their own queues (``app.batch.queue.known_batches``).

Plain Python (no Qt): the dock polls ``changed()`` from a timer, and the
command line could read the same file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from app import processes
from app.batch.queue import data_dir

HISTORY_FILE = "history.sqlite"
SCHEMA_VERSION = 1
LIVE = ("queued", "running")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    project_name TEXT NOT NULL,
    project_path TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    models TEXT NOT NULL DEFAULT '',
    project TEXT NOT NULL,          -- JSON: the project dict as it was sent to the engine
    targets TEXT NOT NULL DEFAULT '[]',
    variation INTEGER NOT NULL DEFAULT 0,   -- 1..n within a "run n variations", 0 for a single run
    variations INTEGER NOT NULL DEFAULT 0,
    group_id TEXT NOT NULL DEFAULT '',      -- the runs queued by one click share it
    status TEXT NOT NULL DEFAULT 'queued',
    pid INTEGER NOT NULL,
    pid_started REAL,
    queued_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    seconds REAL,
    results TEXT NOT NULL DEFAULT '{}',     -- JSON {node: {socket: {kind, files, ...}}}
    main_node TEXT NOT NULL DEFAULT '',     -- the node whose result the entry shows
    outputs TEXT NOT NULL DEFAULT '[]',
    thumbnail TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS entries_by_position ON entries (position);
"""


@dataclass
class HistoryEntry:
    id: str
    position: int
    project_name: str
    project_path: str
    title: str
    models: str
    project: dict[str, Any]
    targets: list[str]
    variation: int
    variations: int
    group_id: str
    status: str
    pid: int
    pid_started: float | None
    queued_at: float
    started_at: float | None
    finished_at: float | None
    seconds: float | None
    results: dict[str, dict[str, Any]]
    main_node: str
    outputs: list[str]
    thumbnail: str
    detail: str
    source: str = "studio"          # "studio", or "batch" for a job of a weft batch
    batch_folder: str = ""

    @property
    def main_results(self) -> dict[str, Any]:
        return self.results.get(self.main_node, {}) if self.main_node else {}

    @property
    def played_file(self) -> str | None:
        """For an entry whose results are only files (a weft batch job): the first the viewer can show."""
        return next((o for o in self.outputs if _played_kind(o)), None)

    @property
    def playable(self) -> bool:
        return bool(self.main_node or self.played_file)

    @property
    def duration(self) -> float | None:
        """How long the result plays (seconds), from its main video or sound."""
        for entry in self.main_results.values():
            if not isinstance(entry, dict):
                continue
            if entry.get("kind") == "Video" and entry.get("count") and entry.get("fps"):
                return float(entry["count"]) / float(entry["fps"])
            if entry.get("kind") == "Audio" and entry.get("seconds"):
                return float(entry["seconds"])
        return None


class History:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else data_dir() / HISTORY_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(_SCHEMA)
        self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        self._data_version: int | None = None
        self.pid = os.getpid()
        self.pid_started = processes.started_at(self.pid)
        self.mark_interrupted()

    def close(self) -> None:
        self._db.close()

    # -- writing (the studio's runner) -------------------------------------------------------------
    def record_queued(self, entry_id: str, *, project_name: str, project_path: str, title: str, models: str,
                      project: dict[str, Any], targets: Iterable[str] | None, variation: int = 0,
                      variations: int = 0, group_id: str = "") -> None:
        now = time.time()
        with self._db:
            position = self._db.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM entries").fetchone()[0]
            self._db.execute(
                "INSERT OR REPLACE INTO entries (id, position, project_name, project_path, title, models, project, "
                "targets, variation, variations, group_id, status, pid, pid_started, queued_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)",
                (entry_id, position, project_name, project_path, title, models, json.dumps(project),
                 json.dumps(list(targets or [])), variation, variations, group_id, self.pid, self.pid_started, now))

    def record_started(self, entry_id: str) -> None:
        with self._db:
            self._db.execute("UPDATE entries SET status = 'running', started_at = COALESCE(started_at, ?) "
                             "WHERE id = ?", (time.time(), entry_id))

    def record_results(self, entry_id: str, results: dict[str, dict[str, Any]], main_node: str) -> None:
        with self._db:
            self._db.execute("UPDATE entries SET results = ?, main_node = ? WHERE id = ?",
                             (json.dumps(results), main_node, entry_id))

    def record_finished(self, entry_id: str, status: str, *, seconds: float | None = None,
                        outputs: Iterable[str] = (), detail: str = "") -> None:
        now = time.time()
        with self._db:
            self._db.execute(
                "UPDATE entries SET status = ?, finished_at = ?, seconds = COALESCE(?, seconds), outputs = ?, "
                "detail = ? WHERE id = ?",
                (status, now, seconds, json.dumps(list(outputs)), detail, entry_id))

    def set_thumbnail(self, entry_id: str, path: str | Path) -> None:
        with self._db:
            self._db.execute("UPDATE entries SET thumbnail = ? WHERE id = ?", (str(path), entry_id))

    def remove(self, entry_ids: Iterable[str]) -> None:
        with self._db:
            self._db.executemany("DELETE FROM entries WHERE id = ?", [(i,) for i in entry_ids])

    def mark_interrupted(self) -> list[str]:
        """Rows left queued or running by a studio that is no longer alive (a crash, a kill)."""
        stale = []
        for row in self._db.execute("SELECT id, pid, pid_started FROM entries WHERE status IN ('queued', 'running')"):
            if row["pid"] == self.pid:
                continue
            if not processes.alive(row["pid"], row["pid_started"]):
                stale.append(row["id"])
        if stale:
            with self._db:
                self._db.executemany("UPDATE entries SET status = 'interrupted', "
                                     "detail = 'the studio closed before it finished' WHERE id = ?",
                                     [(i,) for i in stale])
        return stale

    # -- reading (the dock) -----------------------------------------------------------------------
    def entries(self, limit: int = 1000) -> list[HistoryEntry]:
        """Oldest first (the last ``limit``)."""
        rows = self._db.execute("SELECT * FROM (SELECT * FROM entries ORDER BY position DESC LIMIT ?) "
                                "ORDER BY position", (limit,)).fetchall()
        return [_entry(row) for row in rows]

    def entry(self, entry_id: str) -> HistoryEntry | None:
        row = self._db.execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return _entry(row) if row is not None else None

    def changed(self) -> bool:
        """True when another connection committed since the last call."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        changed = version != self._data_version
        self._data_version = version
        return changed


def _entry(row: sqlite3.Row) -> HistoryEntry:
    data = dict(row)
    for key in ("project", "targets", "results", "outputs"):
        data[key] = json.loads(data[key])
    return HistoryEntry(**data)


def batch_entries(folders: Iterable[str | Path] | None = None) -> list[HistoryEntry]:
    """The finished jobs of weft batch runs, as history entries (read from their SQLite queues)."""
    from app.batch.plan import job_project
    from app.batch.queue import BatchQueue, QueueError, known_batches
    out: list[HistoryEntry] = []
    for folder in (known_batches() if folders is None else [Path(f) for f in folders]):
        try:
            with BatchQueue.open(folder) as queue:
                info = queue.info()
                for job in queue.jobs(("done", "failed", "cancelled")):
                    out.append(HistoryEntry(
                        id=f"batch:{folder}:{job.id}", position=job.position, project_name=info.project_name,
                        project_path=info.project_path, title=f"{info.project_name} batch {job.id}"
                        + (f": {job.label}" if job.label else ""),
                        models=info.models, project=job_project(info.project, job.params), targets=info.targets,
                        variation=0, variations=0, group_id=str(folder), status=job.status, pid=0,
                        pid_started=None, queued_at=job.started_at or info.created, started_at=job.started_at,
                        finished_at=job.finished_at, seconds=job.seconds, results={}, main_node="",
                        outputs=list(job.outputs), thumbnail="", detail=job.error or "", source="batch",
                        batch_folder=str(folder)))
        except (QueueError, sqlite3.Error, OSError, KeyError, ValueError):
            continue
    return out


# -- what changed from one run to the next ------------------------------------------------------------
def param_changes(before: dict[str, Any] | None, after: dict[str, Any],
                  titles: dict[str, str] | None = None) -> list[tuple[str, Any, Any]]:
    """(label, old, new) for every parameter that differs between two project dicts,
    with nodes added or removed named as such. Labels read "Title param"."""
    if before is None:
        return []
    titles = titles or {}
    old_nodes, new_nodes = before.get("nodes", {}), after.get("nodes", {})
    changes: list[tuple[str, Any, Any]] = []
    for node_id, node in new_nodes.items():
        name = titles.get(node_id) or node.get("title") or node_id
        if node_id not in old_nodes:
            changes.append((f"{name}", None, "added"))
            continue
        old_params = old_nodes[node_id].get("params", {})
        for key, value in node.get("params", {}).items():
            if old_params.get(key, value) != value or key not in old_params:
                changes.append((f"{name} {key}", old_params.get(key), value))
        if bool(node.get("bypassed")) != bool(old_nodes[node_id].get("bypassed")):
            changes.append((f"{name} bypass", bool(old_nodes[node_id].get("bypassed")), bool(node.get("bypassed"))))
    for node_id in old_nodes:
        if node_id not in new_nodes:
            changes.append((titles.get(node_id) or old_nodes[node_id].get("title") or node_id, "removed", None))
    if _links(before) != _links(after):
        changes.append(("links", "", "rewired"))
    return changes


def _links(project: dict[str, Any]) -> list:
    return sorted(json.dumps(l, sort_keys=True) for l in project.get("links", []))


def changes_text(changes: list[tuple[str, Any, Any]], limit: int = 4) -> str:
    parts = []
    for label, old, new in changes[:limit]:
        if new in ("added", "rewired"):
            parts.append(f"{label} {new}")
        elif old == "removed":
            parts.append(f"{label} removed")
        else:
            parts.append(f"{label} {_short(old)} \u2192 {_short(new)}")
    if len(changes) > limit:
        parts.append(f"+{len(changes) - limit} more")
    return ", ".join(parts)


def _short(value: Any) -> str:
    text = "\u2014" if value is None else str(value)
    text = text.strip().splitlines()[0] if text.strip() else text
    return text if len(text) <= 24 else text[:23] + "\u2026"


__all__ = ["file_results", "History", "HistoryEntry", "batch_entries", "changes_text", "param_changes"]


# -- results that are only files (weft batch jobs) ----------------------------------------------------
def _played_kind(path: str | Path) -> str | None:
    """"video", "image" or "audio" for a file in a format Weft's Save nodes write, else None."""
    from engines.media import AUDIO_FORMATS, IMAGE_FORMATS, VIDEO_FORMATS  # imported when first needed

    suffix = Path(path).suffix.lower()
    for kind, formats in (("video", VIDEO_FORMATS), ("image", IMAGE_FORMATS), ("audio", AUDIO_FORMATS)):
        if suffix in formats:
            return kind
    return None


MAX_PLAYED_FRAMES = 2000  # ~80 s at 24 fps: what a viewer decodes of a batch render at most


def file_results(path: str | Path, cache_root: Path | None = None) -> dict[str, dict[str, Any]]:
    """A rendered file as the viewer shows a node's results: decoded once into memory-mappable
    arrays under the data folder (keyed by the file's path, size and time, so a re-render is
    decoded again), described as a run's event describes them. Empty for a file the viewer
    cannot show; raises engines.media.MediaError for one that does not decode."""
    import hashlib

    from engines import media
    from engines.cache import store_for_viewer

    p = Path(path)
    kind = _played_kind(p)
    if kind is None or not p.is_file():
        return {}
    stat = p.stat()
    key = hashlib.sha256(f"{p.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:20]
    folder = (cache_root or data_dir() / "played") / key
    described = folder / "results.json"
    if described.is_file():
        try:
            return json.loads(described.read_text())
        except (OSError, ValueError):
            pass
    if kind == "video":
        value = media.read_video(p, max_frames=MAX_PLAYED_FRAMES)
    elif kind == "image":
        value = media.read_image(p)
    else:
        value = media.read_audio(p)
    results = {kind: store_for_viewer(folder, kind, value)}
    described.write_text(json.dumps(results))
    return results

