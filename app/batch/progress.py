"""What a batch shows while it runs, and at the end.

Three modes, like ``weft render``'s:
- ``bar`` (a terminal): one bar for the batch (jobs done of all, time left),
  one line per worker with its current job and node step; a line per
  finished job; a summary table at the end.
- ``json`` (``--json``): one JSON object per line on stdout: batch_started,
  job_started, the engine's node events tagged with the batch job id
  (node_started, progress, node_finished, node_failed), job_finished with the
  job's status, and batch_finished with the counts. Scripts read this.
- ``plain`` (not a terminal, e.g. a log file): a line per job on stderr.

BatchReporter is ``app.reporting.Reporter`` (what ``weft render`` shows) with
the batch's bars and lines added.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from app.batch.plan import node_titles as _node_titles
from app.batch.queue import BatchQueue, JobRecord
from app.reporting import Reporter, mib, wrote_lines

# Beyond this many rows the summary shows the failures and a count: a table
# of 2 000 seeds helps nobody; manifest.csv has them all.
SUMMARY_ROWS = 40


class BatchReporter(Reporter):
    """A render's reporter (app.reporting) with a bar for the batch and a line per worker."""

    def __init__(self, mode: str):
        super().__init__(mode)
        self._overall: Any = None
        self._worker_tasks: dict[str, Any] = {}
        self._current: dict[str, JobRecord] = {}
        self._started = time.time()

    def progress_columns(self) -> tuple[Any, ...]:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
        return (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TimeRemainingColumn())

    # -- events ----------------------------------------------------------------
    def starting(self, pool: Any) -> None:
        """Before the workers are up: importing torch and starting Ray take a while."""
        if self.mode == "json":
            return
        if getattr(pool, "kind", "") == "ray":
            self.say(f"weft: connecting to Ray ({pool.address}) and starting the actors...")
        else:
            n = len(getattr(pool, "slots", []))
            self.say(f"weft: starting {n} engine worker{'s' if n != 1 else ''}...")

    def batch_started(self, queue: BatchQueue, workers: list[dict[str, Any]], recovered: list[str],
                      start_errors: list[str]) -> None:
        info = queue.info()
        counts = queue.counts()
        self.titles = _node_titles(info.project)
        total = sum(counts.values())
        if self.mode == "json":
            self.emit({"event": "batch_started", "batch": str(queue.folder.resolve()), "project": info.project_path,
                       "models": info.models, "jobs": total, "counts": counts, "workers": workers,
                       "recovered": recovered, "worker_errors": start_errors})
            return
        todo = counts["pending"]
        where = ", ".join(_worker_text(w) for w in workers)
        lines = [f"weft: batch {queue.folder}: {todo} of {total} jobs to render on {len(workers)} "
                 f"worker{'s' if len(workers) != 1 else ''} ({where})"]
        if counts["done"]:
            lines.append(f"weft: {counts['done']} jobs already done are kept as they are")
        if recovered:
            lines.append(f"weft: rendering again the job{'s' if len(recovered) > 1 else ''} that "
                         f"{'were' if len(recovered) > 1 else 'was'} in flight when the batch stopped: "
                         + ", ".join(recovered))
        lines += [f"weft: a worker could not start: {e}" for e in start_errors]
        for line in lines:
            self.say(line)
        if self._progress is not None:
            finished = counts["done"] + counts["failed"] + counts["cancelled"]
            self._overall = self._progress.add_task("batch", total=total, completed=finished)
            for w in workers:
                # An idle worker shows an empty bar (total 1), not a pulsing one.
                self._worker_tasks[w["worker"]] = self._progress.add_task(f"  {w['worker']}: idle", total=1)

    def job_started(self, job: JobRecord, worker: str) -> None:
        self._current[worker] = job
        if self.mode == "json":
            self.emit({"event": "job_started", "job": job.id, "worker": worker, "attempt": job.attempts,
                       "params": job.params, "folder": job.folder})
        elif self.mode == "plain":
            self.say(f"[{worker}] {job.id} {job.label}: started" + (f" (attempt {job.attempts})"
                                                                     if job.attempts > 1 else ""))
        elif self._progress is not None and worker in self._worker_tasks:
            self._progress.update(self._worker_tasks[worker], description=f"  {worker}: {job.id} {job.label}",
                                  completed=0, total=None)

    def show_node(self, event: dict[str, Any]) -> None:
        """A node's progress shows on its worker's line; failures come with the job's line."""
        if self._progress is None:
            return
        worker = event.get("worker", "")
        task = self._worker_tasks.get(worker)
        job = self._current.get(worker)
        if task is None or job is None:
            return
        label = self.titles.get(event.get("node", ""), event.get("node", ""))
        if event["event"] == "node_started":
            self._progress.update(task, description=f"  {worker}: {job.id} {job.label} · {label}", completed=0,
                                  total=None)
        elif event["event"] == "progress":
            self._progress.update(task, description=f"  {worker}: {job.id} {job.label} · {label}",
                                  completed=event.get("step", 0), total=event.get("total") or None)

    def job_finished(self, job: JobRecord, status: str, *, seconds: float | None, peak_memory_bytes: int | None,
                     outputs: list[str], error: str | None, counts: dict[str, int]) -> None:
        worker = job.worker or ""
        self._current.pop(worker, None)
        if self.mode == "json":
            self.emit({"event": "job_finished", "job": job.id, "status": status, "attempt": job.attempts,
                       "worker": worker, "params": job.params, "seconds": seconds,
                       "peak_memory_bytes": peak_memory_bytes, "outputs": outputs, "error": error})
            return
        mark = {"done": "+", "failed": "x", "retrying": "!", "cancelled": "-", "interrupted": "-"}.get(status, "?")
        line = f"{mark} {job.id} {job.label}: {status}"
        if status == "done" and seconds is not None:
            line += f" in {seconds:.1f} s"
            if peak_memory_bytes:
                line += f", peak {mib(peak_memory_bytes)} MiB"
        if error:
            line += f": {error}"
        if status == "retrying":
            line += " (will try again)"
        if status == "done" and outputs:
            line += wrote_lines(outputs)
        self.say(line)
        if self._progress is not None:
            finished = counts["done"] + counts["failed"] + counts["cancelled"]
            if self._overall is not None:
                self._progress.update(self._overall, completed=finished)
            task = self._worker_tasks.get(worker)
            if task is not None:
                self._progress.update(task, description=f"  {worker}: idle", completed=0, total=1)

    def warn(self, message: str) -> None:
        if self.mode == "json":
            self.emit({"event": "warning", "message": message})
        else:
            self.say(f"weft: {message}")

    # -- the end ------------------------------------------------------------------
    def summary(self, queue: BatchQueue, exit_code: int, manifest_paths: Any = None) -> None:
        counts = queue.counts()
        if self.mode == "json":
            self.emit({"event": "batch_finished", "batch": str(queue.folder.resolve()), "counts": counts,
                       "exit_code": exit_code, "seconds": round(time.time() - self._started, 3),
                       "manifest": [str(p) for p in manifest_paths] if manifest_paths else None})
            return
        self.stop_bars()
        print_table(queue, file=sys.stderr)
        total = sum(counts.values())
        parts = [f"{counts[s]} {s}" for s in ("done", "failed", "cancelled", "pending", "running") if counts[s]]
        self.say(f"weft: {total} jobs: {', '.join(parts)}; manifest: {queue.folder / 'manifest.csv'}")
        if counts["pending"] or counts["running"]:
            self.say(f"weft: continue with: weft batch --resume {queue.folder}")
        if counts["failed"]:
            self.say(f"weft: render the failed jobs again with: weft queue retry {queue.folder} && "
                      f"weft batch --resume {queue.folder}")


def print_table(queue: BatchQueue, *, file: Any = None, limit: int = SUMMARY_ROWS,
                only: list[str] | None = None) -> None:
    """The jobs as a table: id, status, the swept values, seconds, memory, outputs or error."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    jobs = queue.jobs()
    if only is not None:
        jobs = [j for j in jobs if j.id in only]
    console = Console(file=file or sys.stdout, width=max(100, Console(file=file or sys.stdout).width))
    shown = jobs
    if len(jobs) > limit:
        failed = [j for j in jobs if j.status == "failed"]
        others = [j for j in jobs if j.status != "failed"]
        shown = sorted(failed[:limit] + others[:max(0, limit - len(failed))], key=lambda j: j.position)
    keys: list[str] = []
    for job in jobs:
        for key in job.params:
            if key not in keys:
                keys.append(key)
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("job")
    table.add_column("status")
    for key in keys:
        table.add_column(key, overflow="ellipsis", max_width=30)
    table.add_column("seconds", justify="right")
    table.add_column("peak MiB", justify="right")
    table.add_column("output / error", overflow="fold")
    style = {"done": "green", "failed": "red", "cancelled": "yellow", "running": "cyan"}
    for job in shown:
        what = job.error if job.status in ("failed", "cancelled") else ", ".join(_short(p, queue) for p in job.outputs)
        # Text, not markup: a prompt or an error message may contain [brackets].
        table.add_row(job.id, Text(job.status, style=style.get(job.status, "")),
                      *[Text(_value(job.params.get(k, ""))) for k in keys],
                      "" if job.seconds is None else f"{job.seconds:.1f}",
                      "" if not job.peak_memory_bytes else f"{job.peak_memory_bytes / 2**20:.0f}",
                      Text(what or ""))
    console.print(table)
    if len(shown) < len(jobs):
        console.print(f"... {len(jobs) - len(shown)} more jobs in {queue.folder / 'manifest.csv'}")


def _short(path: str, queue: BatchQueue) -> str:
    from pathlib import Path
    try:
        return str(Path(path).resolve().relative_to(queue.folder.resolve()))
    except ValueError:
        return path


def _value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _worker_text(worker: dict[str, Any]) -> str:
    name = worker.get("worker", "?")
    if "gpu" in worker:
        return f"{name}: GPU {worker['gpu']}"
    if worker.get("kind") == "ray":
        return f"{name}: Ray actor on {worker.get('host', '?')}" + (
            f" GPU {','.join(worker['gpus'])}" if worker.get("gpus") else "")
    if "threads" in worker:
        return f"{name}: {worker['threads']} CPU thread{'s' if worker['threads'] != 1 else ''}"
    return name
