"""manifest.json and manifest.csv: what each job of a batch was, and what it made.

Written into the output folder after every job (atomically), so that an
interrupted batch still has a true manifest, and a studio's own tools (a
spreadsheet, a review page, a script) can pick the best seed without reading
the queue. Paths are relative to the output folder, so the folder can be
moved or shared as a whole.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from app.batch.queue import BatchQueue, JobRecord

MANIFEST_JSON = "manifest.json"
MANIFEST_CSV = "manifest.csv"


def job_entry(job: JobRecord, folder: Path) -> dict[str, Any]:
    return {
        "job": job.id,
        "folder": job.folder,
        "label": job.label,
        "source": job.source,
        "params": job.params,
        "status": job.status,
        "attempts": job.attempts,
        "worker": job.worker,
        "seconds": job.seconds,
        "peak_memory_bytes": job.peak_memory_bytes,
        "outputs": [_relative(p, folder) for p in job.outputs],
        "error": job.error if job.status != "done" else None,
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        # Per node: whether it came from the cache, its cache key (the same key
        # means the same result, wherever it was rendered), seconds, memory, nfe.
        "nodes": job.nodes,
    }


def build(queue: BatchQueue) -> dict[str, Any]:
    info = queue.info()
    jobs = queue.jobs()
    return {
        "weft_batch": 1,
        "project": info.project_path,
        "models": info.models,
        "targets": info.targets,
        "created": _iso(info.created),
        "updated": _iso(time.time()),
        "made_from": info.description,
        "counts": queue.counts(),
        "jobs": [job_entry(job, queue.folder) for job in jobs],
    }


def write(queue: BatchQueue) -> tuple[Path, Path]:
    """Write both files into the batch folder; returns their paths."""
    data = build(queue)
    folder = queue.folder
    json_path = folder / MANIFEST_JSON
    _atomic_write(json_path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    csv_path = folder / MANIFEST_CSV
    _atomic_write(csv_path, to_csv(data))
    return json_path, csv_path


def to_csv(data: dict[str, Any]) -> str:
    """One row per job: the fixed columns, then one column per parameter (NODE.PARAM),
    so the sheet can be sorted and filtered by any swept value."""
    params: list[str] = []
    for job in data["jobs"]:
        for key in job["params"]:
            if key not in params:
                params.append(key)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["job", "status", *params, "outputs", "seconds", "peak_memory_mib", "attempts", "folder",
                     "error"])
    for job in data["jobs"]:
        peak = job["peak_memory_bytes"]
        writer.writerow([
            job["job"], job["status"], *[job["params"].get(p, "") for p in params],
            ";".join(job["outputs"]),
            "" if job["seconds"] is None else f"{job['seconds']:.2f}",
            "" if not peak else f"{peak / 2**20:.0f}",
            job["attempts"], job["folder"], job["error"] or "",
        ])
    return out.getvalue()


def _relative(path: str, folder: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(folder.resolve()))
    except ValueError:
        return path


def _iso(t: float | None) -> str | None:
    return None if t is None else time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
