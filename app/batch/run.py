"""The coordinator: hands the queue's jobs to the pool's slots and records what happened.

It is the only place that decides a job's fate, and it decides in the queue
(SQLite) first, so whatever happens to this process the queue says what is
left: a job is claimed (running) before it is sent to a worker, and marked
done only once the worker said so, in one transaction with its outputs.

The pool is either local worker processes (local.py) or Ray actors
(ray_runner.py); both offer the same slots, so retries, cancellation,
progress and the manifest work the same way on a laptop and on a cluster.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from app.batch import manifest
from app.batch.local import RunSpec
from app.batch.plan import job_project, node_titles
from app.batch.queue import BatchQueue, JobRecord

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_CANCELLED = 0, 1, 2, 130

# How often the coordinator looks at the queue for changes made by others
# (weft queue cancel / retry, the GUI) and refreshes its heartbeat.
POLL_S = 0.5
HEARTBEAT_S = 5.0
MANIFEST_EVERY_S = 2.0
# Node events the batch passes on; the engine's own job_started/job_finished are
# replaced by the batch's, which carry the batch job id and the final status.
NODE_EVENTS = ("node_started", "progress", "node_finished", "node_failed")


@dataclass
class _Busy:
    job: JobRecord
    spec: RunSpec
    cancel_sent: bool = False


@dataclass
class BatchResult:
    exit_code: int
    counts: dict[str, int]
    manifest: tuple[Path, Path] | None = None
    start_errors: list[str] = field(default_factory=list)


async def run_batch(queue: BatchQueue, pool: Any, reporter: Any, cancel: asyncio.Event) -> BatchResult:
    """Render every pending job of ``queue`` on ``pool``'s slots. ``pool`` is an
    async context manager whose ``slots`` each have ``run(spec, on_event)`` and ``cancel(spec)``."""
    run_id = queue.begin_run()
    code = EXIT_FAILED
    paths = None
    try:
        recovered = queue.recover(run_id)
        info = queue.info()
        if hasattr(reporter, "starting"):
            reporter.starting(pool)
        async with pool:
            reporter.batch_started(queue, [slot.describe() for slot in pool.slots], recovered,
                                   getattr(pool, "start_errors", []))
            coordinator = _Coordinator(queue, info, pool, reporter, cancel, run_id)
            await coordinator.run()
        counts = queue.counts()
        if cancel.is_set():
            code = EXIT_CANCELLED
        elif counts["failed"]:
            code = EXIT_FAILED
        else:
            code = EXIT_OK
    finally:
        # Whatever happened, the queue says this run is over (so --resume need
        # not wait for it) and the manifest matches the queue.
        queue.end_run(run_id, code)
        try:
            paths = manifest.write(queue)
        except OSError:
            pass
    return BatchResult(code, queue.counts(), paths, getattr(pool, "start_errors", []))


class _Coordinator:
    def __init__(self, queue: BatchQueue, info: Any, pool: Any, reporter: Any, cancel: asyncio.Event, run_id: int):
        self.queue = queue
        self.info = info
        self.pool = pool
        self.reporter = reporter
        self.cancel = cancel
        self.run_id = run_id
        self.busy: dict[str, _Busy] = {}  # slot name -> its job
        self.manifest_written = float("-inf")

    async def run(self) -> None:
        watcher = asyncio.create_task(self._watch())
        try:
            await asyncio.gather(*(self._slot_loop(slot) for slot in self.pool.slots))
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

    async def _slot_loop(self, slot: Any) -> None:
        while not self.cancel.is_set():
            job = self.queue.claim(self.run_id, slot.name)
            if job is None:
                # Nothing pending now; but a job another slot is rendering may
                # fail and come back for a retry, or someone may `weft queue
                # retry`: stay while anything is in flight.
                if not self.busy:
                    return
                await asyncio.sleep(POLL_S)
                continue
            await self._run_job(slot, job)

    async def _run_job(self, slot: Any, job: JobRecord) -> None:
        info = self.info
        spec = make_spec(info, self.queue.folder, job)
        self.busy[slot.name] = _Busy(job, spec)
        nodes: dict[str, dict[str, Any]] = {}
        self.reporter.job_started(job, slot.name)
        started = time.perf_counter()

        def on_event(event: dict[str, Any]) -> None:
            if event.get("event") not in NODE_EVENTS:
                return
            event = {**event, "job": job.id, "attempt": job.attempts, "worker": slot.name}
            if event["event"] == "node_finished":
                stats = event.get("stats", {})
                entry = {"cached": bool(event.get("cached")), "key": event.get("key"),
                         "seconds": stats.get("seconds")}
                for name in ("peak_memory_bytes", "nfe"):
                    if name in stats:
                        entry[name] = stats[name]
                if event.get("bypassed"):
                    entry["bypassed"] = True
                nodes[event["node"]] = entry
            elif event["event"] == "node_failed":
                nodes[event["node"]] = {"failed": event.get("error"), "kind": event.get("kind")}
            self.reporter.node_event(event)

        try:
            finished = await slot.run(spec, on_event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a worker that cannot start, a lost Ray node: this job failed, go on
            finished = {"status": "failed", "failed": {"": f"{type(exc).__name__}: {exc}"}, "outputs": []}
        finally:
            self.busy.pop(slot.name, None)
        seconds = finished.get("seconds")
        if seconds is None:
            seconds = round(time.perf_counter() - started, 3)
        peaks = [n.get("peak_memory_bytes") or 0 for n in nodes.values() if not n.get("cached")]
        peak = max(peaks) if peaks else None
        outputs = list(finished.get("outputs") or [])
        status = finished.get("status")
        error = None
        if status == "ok":
            final = "done" if self.queue.finish(job.id, self.run_id, "done", seconds=seconds, peak_memory_bytes=peak,
                                                 outputs=outputs, nodes=nodes) else "cancelled"
        elif self.queue.statuses([job.id]).get(job.id) == "cancelled":
            final = "cancelled"  # by the user, through the queue: it stays cancelled
        elif status == "cancelled" or self.cancel.is_set():
            # Ctrl-C: the job goes back to pending, not held against --retries,
            # and --resume renders it.
            self.queue.release(job.id, self.run_id, error="interrupted", count_attempt=False)
            final = "interrupted"
        else:
            error = _failure_message(finished, info.project)
            if job.attempts <= info.retries:
                self.queue.release(job.id, self.run_id, error=error, count_attempt=True)
                final = "retrying"
            else:
                self.queue.finish(job.id, self.run_id, "failed", seconds=seconds, peak_memory_bytes=peak,
                                  outputs=outputs, nodes=nodes, error=error)
                final = "failed"
        self.reporter.job_finished(job, final, seconds=seconds, peak_memory_bytes=peak, outputs=outputs, error=error,
                                   counts=self.queue.counts())
        # Rewriting the manifest is O(jobs): at most every few seconds, so that a
        # batch of thousands of short jobs does not spend its time on it. The
        # queue is the record; run_batch writes the final manifest at the end.
        if final in ("done", "failed") and time.monotonic() - self.manifest_written > MANIFEST_EVERY_S:
            try:
                manifest.write(self.queue)
            except OSError as exc:  # a full disk must not stop the batch
                self.reporter.warn(f"could not write the manifest: {exc}")
            self.manifest_written = time.monotonic()

    async def _watch(self) -> None:
        """Cancels sent by others (weft queue cancel, the GUI) and by Ctrl-C; the heartbeat."""
        last_beat = 0.0
        while True:
            if self.busy:
                statuses = self.queue.statuses(b.job.id for b in self.busy.values())
                for slot in self.pool.slots:
                    busy = self.busy.get(slot.name)
                    if busy is None or busy.cancel_sent:
                        continue
                    if self.cancel.is_set() or statuses.get(busy.job.id) != "running":
                        busy.cancel_sent = True
                        try:
                            await slot.cancel(busy.spec)
                        except Exception:
                            pass
            if time.monotonic() - last_beat > HEARTBEAT_S:
                self.queue.heartbeat(self.run_id)
                last_beat = time.monotonic()
            try:
                await asyncio.wait_for(self.cancel.wait(), POLL_S)
            except asyncio.TimeoutError:
                pass
            if self.cancel.is_set():
                await asyncio.sleep(0.05)


def _failure_message(finished: dict[str, Any], project: dict[str, Any]) -> str:
    failed = dict(finished.get("failed") or {})
    # Nodes skipped because an upstream node failed add nothing to the cause.
    causes = {n: m for n, m in failed.items() if not str(m).startswith("not run because")}
    titles = node_titles(project)
    parts = []
    for node, message in (causes or failed).items():
        parts.append(f"node {titles.get(node, node)}: {message}" if node else str(message))
    return "; ".join(parts) or str(finished.get("error") or "the job failed")


def make_spec(info: Any, folder: Path, job: JobRecord) -> RunSpec:
    """What a slot needs to render one queued job: plain data, so it can travel to a Ray actor."""
    return RunSpec(job=job.id, engine_job=f"{job.id}.{job.attempts}", project=job_project(info.project, job.params),
                   targets=list(info.targets), output_dir=str((folder / job.folder).resolve()),
                   project_dir=info.project_dir, project_name=info.project_name, name_fields=dict(job.name_fields))


OnEvent = Callable[[dict[str, Any]], None]
