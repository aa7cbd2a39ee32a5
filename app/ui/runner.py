"""Runs the graph in the engine worker, on the Qt loop (asyncio through qasync).

``run()`` checks the graph, queues a job and returns at once; the events that
stream back update the document's per-node status (progress, cache mark,
errors, time and memory) and are re-emitted as Qt signals for the viewer, the
queue and the log. The GUI never waits on the worker: if it dies, the job's
nodes say so, the graph is untouched, and the next run starts a new worker.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal

from app.ui.document import Document
from app.ui.thumbnails import has_media, save_thumbnail, thumbnail
from engines.media.preflight import media_problem
from engines.planner import output_nodes
from nodes.validation import RenderPlace

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
# The engine runs at a lower CPU priority than the window (Unix "nice" value).
WORKER_NICENESS = 10
# How often, at most, a run's progress reaches the queue panel and the viewer (seconds).
PROGRESS_INTERVAL = 0.25
PREVIEW_INTERVAL = 0.1


@dataclass
class JobInfo:
    id: str
    title: str
    targets: list[str] | None
    status: str = QUEUED
    nodes: list[str] = field(default_factory=list)
    running_node: str | None = None
    started: float = field(default_factory=time.monotonic)
    outputs: list[str] = field(default_factory=list)
    error: str = ""
    project: dict[str, Any] = field(default_factory=dict)   # as it was sent
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # node -> results of this run
    main_node: str = ""   # the node whose media the history shows for this run
    seconds: float | None = None


class Runner(QObject):
    job_added = Signal(str, str)          # job id, title
    job_updated = Signal(str, str, str)   # job id, status, detail
    log = Signal(str, str)                # text, level ("info", "warning", "error", "engine")
    result = Signal(str, dict)            # node id, results (per output socket)
    preview = Signal(str, bytes)          # node id, JPEG bytes
    busy_changed = Signal(bool)
    worker_died = Signal(str)             # what the artist should know
    job_finished = Signal(str)            # job id, once its history entry is complete

    def __init__(self, document: Document, *, models: str = "default", engine_kwargs: dict[str, Any] | None = None,
                 client_factory: Callable[..., Any] | None = None, output_dir: Path | None = None,
                 history: Any = None, parent: QObject | None = None):
        super().__init__(parent)
        # app.history.History: every run is written there as it is queued, runs and ends.
        self.history = history
        # engines.estimate.Timings: what each model node took here, for the next estimates.
        self.timings: Any = None
        self.device = "cpu"
        self.document = document
        self.models = models
        self.engine_kwargs = dict(engine_kwargs or {})
        self.client_factory = client_factory
        self.output_dir = output_dir
        self.client = None
        self.jobs: dict[str, JobInfo] = {}
        self.results: dict[str, dict[str, Any]] = {}   # node id -> last results
        self._tasks: set[asyncio.Task] = set()
        self._restart_pending = False
        self._reniced: int | None = None
        self._last_queue_update: dict[str, float] = {}
        # Previews come with every step; the viewer gets the newest a few times a second.
        self._pending_preview: tuple[str, str] | None = None
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(int(PREVIEW_INTERVAL * 1000))
        self._preview_timer.timeout.connect(self._flush_preview)

    # -- state ---------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return any(j.status in (QUEUED, RUNNING) for j in self.jobs.values())

    def current_job(self) -> JobInfo | None:
        """The job the worker is on (or the next one it will take)."""
        running = [j for j in self.jobs.values() if j.status == RUNNING]
        if running:
            return running[0]
        queued = [j for j in self.jobs.values() if j.status == QUEUED]
        return queued[0] if queued else None

    @property
    def worker_alive(self) -> bool:
        return self.client is not None and self.client.alive

    def _make_client(self):
        if self.client_factory is not None:
            return self.client_factory(models=self.models, **self.engine_kwargs)
        from engines.client import EngineClient
        return EngineClient(models=self.models, on_log=lambda line: self.log.emit(line, "engine"),
                            **self.engine_kwargs)

    def set_engine_kwargs(self, kwargs: dict[str, Any]) -> None:
        """New engine settings: they apply when the worker next starts (now, if it is idle)."""
        self.engine_kwargs = dict(kwargs)
        if self.client is not None:
            self._restart_pending = True
            if not self.busy:
                self._spawn(self._drop_client())

    # -- running ---------------------------------------------------------------------------------
    def default_targets(self) -> list[str] | None:
        """The selected nodes if any (an artist previewing a branch), else every output node."""
        selected = self.document.selected_nodes()
        if selected:
            return selected
        return output_nodes(self.document.graph)

    def run(self, targets: list[str] | None = None, *, variation: int = 0, variations: int = 0,
            group_id: str = "") -> str | None:
        """Checks the graph and queues a job; returns its id, or None when nothing was sent."""
        doc = self.document
        targets = list(targets) if targets is not None else self.default_targets()
        if not targets:
            self.log.emit("Nothing to run: the project has no output node (Save Video, Save Image, Save Audio). "
                          "Add one, or select the nodes to run.", "warning")
            return None
        # An untitled copy (an example, a dropped render) reads its inputs where it
        # came from but renders into the studio's own folder, never next to it.
        project_dir = doc.base_dir
        output_dir = self.output_dir or (project_dir / "renders" if doc.path else _default_output_dir())
        place = RenderPlace(project_dir=project_dir, output_dir=output_dir, name_fields={"project": doc.name},
                            probe=media_problem)
        problems = doc.check(targets, place=place)
        if problems:
            self.log.emit(f"Not run: {len(problems)} problem{'s' if len(problems) > 1 else ''} to fix first "
                          "(marked on the nodes)", "error")
            for p in problems:
                self.log.emit(f"  {p}", "error")
            return None
        job_id = uuid.uuid4().hex[:12]
        names = [doc.node_title(t) for t in targets]
        title = f"{doc.name}: {', '.join(names[:3])}{' …' if len(names) > 3 else ''}"
        if variations > 1:
            title += f" ({variation}/{variations})"
        project = doc.to_dict()
        info = JobInfo(job_id, title, targets, project=project)
        self.jobs[job_id] = info
        self._history("record_queued", job_id, project_name=doc.name,
                      project_path=str(doc.path) if doc.path else "", title=title, models=self.models,
                      project=project, targets=targets, variation=variation, variations=variations,
                      group_id=group_id)
        self.job_added.emit(job_id, title)
        self.job_updated.emit(job_id, QUEUED, "waiting for the engine")
        self.log.emit(f"Queued {title}", "info")
        self.busy_changed.emit(True)
        self._spawn(self._run_job(info, project, output_dir, project_dir, doc.name))
        return job_id

    def _history(self, method: str, *args: Any, **kwargs: Any) -> None:
        """Best effort: a full disk or a locked file must not stop a render."""
        if self.history is None:
            return
        try:
            getattr(self.history, method)(*args, **kwargs)
        except Exception as exc:  # sqlite3.Error, OSError
            self.log.emit(f"The history could not be written ({exc})", "warning")

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_event_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run_job(self, info: JobInfo, project: dict, output_dir: Path, project_dir: Path, name: str) -> None:
        try:
            if self.client is None:
                self.client = self._make_client()
            client = self.client
            if not client.alive:
                self.log.emit("Starting the engine…", "info")
            await client.submit(project, targets=info.targets, output_dir=output_dir, project_dir=project_dir,
                                project_name=name, job_id=info.id)
            self._lower_priority(client)
            async for event in client.events(info.id):
                self._handle(info, event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the engine could not start, or the pipe broke
            info.status = FAILED
            info.error = str(exc)
            self.log.emit(f"The engine could not run {info.title}: {exc}", "error")
            self.job_updated.emit(info.id, FAILED, str(exc).splitlines()[0] if str(exc) else "engine error")
            self._history("record_finished", info.id, FAILED, detail=str(exc))
        finally:
            if info.status in (QUEUED, RUNNING):
                info.status = FAILED
                self.job_updated.emit(info.id, FAILED, "the engine stopped answering")
                self._history("record_finished", info.id, FAILED, detail="the engine stopped answering")
            self.busy_changed.emit(self.busy)
            if self._restart_pending and not self.busy:
                await self._drop_client()

    def _lower_priority(self, client) -> None:
        """The engine yields the CPU to the GUI: the studio stays smooth while a render
        decodes, encodes or runs on the CPU; on a GPU the worker mostly waits anyway."""
        pid = getattr(client, "pid", None)
        if not pid or pid == self._reniced or not hasattr(os, "setpriority"):
            return
        try:
            os.setpriority(os.PRIO_PROCESS, pid, max(os.getpriority(os.PRIO_PROCESS, pid), WORKER_NICENESS))
        except OSError:
            pass
        self._reniced = pid

    async def _drop_client(self) -> None:
        client, self.client = self.client, None
        self._restart_pending = False
        if client is not None:
            try:
                await client.close()
            except Exception:
                client.kill()

    # -- events ------------------------------------------------------------------------------------
    def _handle(self, info: JobInfo, event: dict[str, Any]) -> None:
        doc = self.document
        kind = event["event"]
        node = event.get("node", "")
        if kind == "job_started":
            info.status = RUNNING
            info.nodes = list(event.get("nodes", []))
            self._history("record_started", info.id)
            for node_id in info.nodes:
                doc.set_status(node_id, state="queued", step=0, total=0, message="")
            self.job_updated.emit(info.id, RUNNING, f"{len(info.nodes)} nodes")
        elif kind == "node_started":
            info.running_node = node
            doc.set_status(node, state="running", step=0, total=0, message="")
            self.job_updated.emit(info.id, RUNNING, f"running {doc.node_title(node)}")
        elif kind == "progress":
            doc.set_status(node, state="running", step=int(event.get("step", 0)), total=int(event.get("total", 0)))
            preview = event.get("preview")
            if preview:
                self._pending_preview = (node, preview)
                if not self._preview_timer.isActive():
                    self._preview_timer.start()
            # The queue's line changes a few times a second, not at every denoising step.
            now = time.monotonic()
            if now - self._last_queue_update.get(info.id, 0.0) >= PROGRESS_INTERVAL or \
                    event.get("step") == event.get("total"):
                self._last_queue_update[info.id] = now
                self.job_updated.emit(info.id, RUNNING,
                                      f"{doc.node_title(node)} {event.get('step')}/{event.get('total')}")
        elif kind == "node_finished":
            info.running_node = None
            self._drop_preview(node)
            stats = event.get("stats", {})
            if event.get("bypassed"):
                state = "bypassed"
            elif event.get("cached"):
                state = "cached"
            else:
                state = "done"
            doc.set_status(node, state=state, seconds=stats.get("seconds"), memory=stats.get("peak_memory_bytes"),
                           outputs=list(event.get("outputs", [])), message="", step=0, total=0)
            if state == "done" and self.timings is not None and stats.get("seconds"):
                self._record_timing(info, node, float(stats["seconds"]) - float(stats.get("load_seconds") or 0.0))
            info.outputs.extend(event.get("outputs", []))
            results = event.get("results") or {}
            if results:
                self.results[node] = results
                info.results[node] = results
                if has_media(results):
                    info.main_node = node
                    self._show_thumbnail(node, results)
                self.result.emit(node, results)
            for path in event.get("outputs", []):
                self.log.emit(f"{doc.node_title(node)} wrote {path}", "info")
        elif kind == "node_failed":
            info.running_node = None
            self._drop_preview(node)
            failure = event.get("kind", "error")
            message = event.get("error", "failed")
            state = {"cancelled": "cancelled", "skipped": "skipped"}.get(failure, "failed")
            doc.set_status(node, state=state, message=message)
            if failure == "worker_died":
                self.log.emit(f"The engine process stopped while running {doc.node_title(node)} ({node}). "
                              "Your graph is untouched; the next run starts a new engine.", "error")
                self.worker_died.emit(f"The engine stopped while running {doc.node_title(node)}: {message}")
            elif failure == "error":
                self.log.emit(f"{doc.node_title(node)} ({node}) failed: {message}", "error")
                if event.get("traceback"):
                    self.log.emit(event["traceback"], "engine")
        elif kind == "job_finished":
            status = event.get("status", "failed")
            was_running = info.status == RUNNING
            info.status = {"ok": DONE, "cancelled": CANCELLED}.get(status, FAILED)
            for node_id in info.nodes:  # nodes the job never reached
                if doc.node_status(node_id).state in ("queued", "running"):
                    doc.set_status(node_id, state="cancelled" if info.status == CANCELLED else "", step=0, total=0)
            seconds = event.get("seconds")
            detail = f"{seconds:.1f} s" if isinstance(seconds, (int, float)) else ""
            if event.get("worker_died"):
                detail = event.get("error", "the engine stopped")
                if was_running and not any(n for n in event.get("failed", {}) if n):
                    self.worker_died.emit(detail)
                    self.log.emit(f"{detail}. Your graph is untouched; the next run starts a new engine.", "error")
            elif info.status == FAILED:
                failed = [doc.node_title(n) for n in event.get("failed", {}) if n]
                detail = f"failed: {', '.join(failed)}" if failed else "failed"
            self.job_updated.emit(info.id, info.status, detail)
            level = {DONE: "info", CANCELLED: "warning"}.get(info.status, "error")
            self.log.emit(f"{info.title}: {info.status}{' (' + detail + ')' if detail else ''}", level)
            info.seconds = seconds if isinstance(seconds, (int, float)) else None
            self._finish_history(info, detail)

    def _finish_history(self, info: JobInfo, detail: str) -> None:
        if self.history is not None:
            self._history("record_results", info.id, info.results, info.main_node)
            if info.main_node:
                folder = Path(self.history.path).parent / "thumbnails"
                try:
                    thumb = save_thumbnail(info.results[info.main_node], folder / f"{info.id}.png")
                except Exception:  # a thumbnail is a nicety
                    thumb = None
                if thumb is not None:
                    self._history("set_thumbnail", info.id, thumb)
            self._history("record_finished", info.id, info.status, seconds=info.seconds, outputs=info.outputs,
                          detail=detail)
        self.job_finished.emit(info.id)

    def _show_thumbnail(self, node: str, results: dict[str, Any]) -> None:
        """The node's face shows its new result; so do the Save nodes it feeds."""
        from PySide6.QtCore import QSize
        image = thumbnail(results, QSize(256, 144))
        if image is None:
            return
        doc = self.document
        doc.set_thumbnail(node, image)
        for link in doc.graph.links:
            if link.source == node and doc.graph.nodes.get(link.target) is not None:
                try:
                    is_output = doc.graph.node_type(link.target).is_output
                except Exception:
                    is_output = False
                if is_output:
                    doc.set_thumbnail(link.target, image)

    def _record_timing(self, info: JobInfo, node: str, seconds: float) -> None:
        """A model node rendered: its seconds teach the estimates (at the values it ran with)."""
        try:
            from engines.quality import effective_params
            entry = info.project["nodes"][node]
            node_type = self.document.registry.get(entry["type"])
            params = {**node_type.default_params(), **entry.get("params", {})}
            quality = (info.project.get("settings") or {}).get("quality") or "final"
            self.timings.record(node_type, effective_params(node_type, params, quality), seconds,
                                profile=self.models, device=self.device)
        except Exception:  # an estimate is a nicety; never break a run over it
            pass

    def _drop_preview(self, node: str) -> None:
        """A finished node's result must not be covered by a late step preview."""
        if self._pending_preview is not None and self._pending_preview[0] == node:
            self._pending_preview = None

    def _flush_preview(self) -> None:
        pending, self._pending_preview = self._pending_preview, None
        if pending is None:
            return
        node, data = pending
        try:
            self.preview.emit(node, base64.b64decode(data))
        except ValueError:
            pass

    # -- cancel, kill, shut down --------------------------------------------------------------------------
    def cancel(self, job_id: str | None = None) -> bool:
        """Cancels a job (the current one by default). The worker stops it between steps."""
        info = self.jobs.get(job_id) if job_id else self.current_job()
        if info is None or info.status not in (QUEUED, RUNNING) or self.client is None:
            return False
        self.log.emit(f"Cancelling {info.title}…", "warning")
        self.job_updated.emit(info.id, info.status, "cancelling…")
        self._spawn(self.client.cancel(info.id))
        return True

    def cancel_all(self) -> None:
        for info in list(self.jobs.values()):
            if info.status in (QUEUED, RUNNING):
                self.cancel(info.id)

    def kill_worker(self) -> None:
        """Kills the engine process at once (a last resort; the next run starts a new one)."""
        if self.client is not None:
            self.client.kill()

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._drop_client()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stops the worker before the window closes (called from Qt, never from a coroutine)."""
        if self.client is None and not self._tasks:
            return
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            return
        client = self.client  # aclose() lets go of it before it has stopped
        task = loop.create_task(self.aclose())
        wait_for(task.done, timeout)
        if not task.done():
            for stuck in {id(c): c for c in (client, self.client) if c is not None}.values():
                stuck.kill()
            task.cancel()


def wait_for(condition: Callable[[], bool], timeout: float, poll_ms: int = 20) -> bool:
    """Runs the Qt (and asyncio) loop until ``condition()`` holds or ``timeout`` seconds pass.
    Blocks in the event loop between checks instead of spinning, so the engine keeps the CPU."""
    if condition():
        return True
    from PySide6.QtCore import QTimer
    loop = QEventLoop()
    deadline = time.monotonic() + timeout

    def check() -> None:
        if condition() or time.monotonic() >= deadline:
            loop.quit()

    timer = QTimer()
    timer.setInterval(poll_ms)
    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    return condition()


def _default_output_dir() -> Path:
    from app.ui.settings import data_dir
    return data_dir() / "renders"
