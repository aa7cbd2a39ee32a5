"""The engine worker: a separate process that owns torch and runs jobs.

It speaks JSON lines: commands on stdin, events on stdout (see
engines/protocol.py). Anything a library prints goes to stderr, never into
the message channel. Jobs run one at a time on a job thread, so a ``cancel``
command is read and acted on while a job is denoising.

Started by engines.client.EngineClient as ``python -m engines.worker``.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, TextIO

from engines import protocol

# After its commands stop, how long a job gets to notice the cancel before the worker
# leaves anyway: a shutdown asked for is waited on longer (a model may be loading) than a
# parent that died (a killed `weft batch` or studio), whose worker must not linger.
SHUTDOWN_GRACE_S = 10.0
ORPHAN_GRACE_S = 1.0
PARENT_CHECK_S = 0.5


class Worker:
    def __init__(self, out: TextIO, *, models_profile: str, cache_dir: Path, memory_budget: int,
                 disk_budget: int | None, models_dir: Path | None = None,
                 model_options: dict[str, Any] | None = None):
        from engines.cache import ResultCache
        from engines.executor import Executor

        self._out = out
        self._write_lock = threading.Lock()
        self._jobs: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._finished = threading.Event()  # the job loop has returned
        self._cancel: dict[str, threading.Event] = {}
        self._models = None
        self._parent = os.getppid()
        self.models_profile = models_profile
        self.models_dir = models_dir
        # RAM / VRAM budgets and GPU options for the model manager (see main()).
        self.model_options = dict(model_options or {})
        self.cache = ResultCache(cache_dir, memory_budget, disk_budget)
        self.executor = Executor(self.cache, None, self.emit, models_profile)

    # -- output ---------------------------------------------------------------
    def emit(self, event: dict[str, Any]) -> None:
        line = json.dumps(event, separators=(",", ":"), default=str)
        with self._write_lock:
            self._out.write(line + "\n")
            self._out.flush()

    # -- models are loaded on first use: a graph of model-free nodes never imports torch
    def models(self) -> Any:
        if self._models is None:
            from engines.models.manager import ModelManager
            self._models = ModelManager(profile=self.models_profile, models_dir=self.models_dir,
                                        **self.model_options)
            self.executor.models = self._models
        return self._models

    # -- the loops --------------------------------------------------------------
    def serve(self, commands: TextIO) -> None:
        """Reads commands on a thread and runs jobs on this (the main) thread.

        Jobs run on the main thread because that is where torch's thread pool
        was set up: the denoiser ran a few percent slower when called from a
        second thread (bench/overhead.py).
        """
        reader = threading.Thread(target=self._read_commands, args=(commands,), name="weft-commands",
                                  daemon=True)
        threading.Thread(target=self._watch_parent, name="weft-parent", daemon=True).start()
        self.emit({"event": "ready", "pid": os.getpid(), "models": self.models_profile,
                   "cache_dir": str(self.cache.root), "protocol": protocol.VERSION})
        reader.start()
        self._run_jobs()
        self._finished.set()

    def _read_commands(self, commands: TextIO) -> None:
        for line in commands:
            line = line.strip()
            if not line:
                continue
            try:
                command = json.loads(line)
                name = command["cmd"]
            except (ValueError, KeyError, TypeError):
                self.emit({"event": "error", "error": f"unreadable command: {line[:200]}"})
                continue
            if name == "run":
                self._cancel[command["job"]] = threading.Event()
                self._jobs.put(command)
            elif name == "cancel":
                event = self._cancel.get(command.get("job", ""))
                if event is not None:
                    event.set()
            elif name == "ping":
                self.emit({"event": "pong", "id": command.get("id")})
            elif name == "shutdown":
                break
            else:
                self.emit({"event": "error", "error": f"unknown command {name!r}"})
        # stdin closed or shutdown: cancel what runs and leave.
        self._leave(ORPHAN_GRACE_S if self._orphaned() else SHUTDOWN_GRACE_S)

    def _orphaned(self) -> bool:
        """The process that started this worker is gone (this one was handed to init or a reaper)."""
        return os.getppid() != self._parent

    def _watch_parent(self) -> None:
        # stdin's EOF tells most deaths, but not when another process still holds the
        # pipe (a child the parent forked); the parent's pid tells every one.
        while not self._finished.wait(PARENT_CHECK_S):
            if self._orphaned():
                self._leave(ORPHAN_GRACE_S)
                return

    def _leave(self, grace: float) -> None:
        """Cancel every job, end the job loop, and exit if a job has not let go within ``grace`` s
        (a job stuck where it cannot notice the cancel, loading a model, must not keep an
        orphaned worker holding memory)."""
        for event in list(self._cancel.values()):
            event.set()
        self._jobs.put(None)
        if not self._finished.wait(timeout=grace):
            os._exit(0)

    def _run_jobs(self) -> None:
        while True:
            command = self._jobs.get()
            if command is None:
                return
            job_id = command["job"]
            cancel = self._cancel[job_id]
            try:
                self._run_one(command, cancel)
            except Exception as exc:  # a broken job must not take the worker down
                self.emit({"event": "job_finished", "job": job_id, "status": "failed",
                           "failed": {"": f"{type(exc).__name__}: {exc}"}, "outputs": [],
                           "traceback": traceback.format_exc(limit=8)})
            finally:
                self._cancel.pop(job_id, None)

    def _run_one(self, command: dict[str, Any], cancel: threading.Event) -> None:
        from engines.executor import Job
        from engines.quality import quality_of
        from nodes import project

        loaded = project.from_dict(command["project"], source=f"job {command['job']}")
        if _graph_uses_models(loaded.graph):
            self.models()
        job = Job(
            id=command["job"],
            graph=loaded.graph,
            targets=command.get("targets"),
            output_dir=Path(command.get("output_dir") or "."),
            project_dir=Path(command.get("project_dir") or "."),
            project_name=command.get("project_name") or "untitled",
            name_fields=dict(command.get("name_fields") or {}),
            # Draft / Final: the run's own choice (weft render --quality), else the project's.
            quality=quality_of(loaded.settings, command.get("quality")),
            # What Save nodes embed: the project as loaded here (upgraded, every
            # parameter filled in), so it reopens as exactly what rendered.
            project=project.to_dict(loaded.graph, loaded.settings),
        )
        if cancel.is_set():
            self.emit({"event": "job_finished", "job": job.id, "status": "cancelled", "failed": {},
                       "outputs": []})
            return
        self.executor.run(job, cancel)


def _graph_uses_models(graph: Any) -> bool:
    for node in graph.nodes.values():
        if node.type_id in graph.registry and graph.registry.get(node.type_id).uses_model:
            return True
    return False


def _model_options(args: argparse.Namespace) -> dict[str, Any]:
    """ModelManager keyword arguments from the command line, over the environment."""
    options: dict[str, Any] = {}
    if args.ram_budget:
        options["ram_budget"] = args.ram_budget
    if args.vram_budget:
        options["vram_budget"] = args.vram_budget
    if any(v is not None for v in (args.precision, args.compile, args.attention, args.quantize)):
        from dataclasses import replace

        from engines.accel.gpu import GpuOptions

        env = GpuOptions.from_env()
        options["gpu"] = replace(env, **{k: v for k, v in (("precision", args.precision), ("compile", args.compile),
                                                           ("attention", args.attention),
                                                           ("quantize", args.quantize)) if v is not None})
    return options


def _prewarm() -> None:
    """Import torch while the command line still reads and checks the projects: it is most of a
    fresh worker's first seconds. The first model node then finds it done (or waits on
    Python's import lock for the rest: it is never imported twice)."""
    try:
        # torch only: diffusers and transformers import their pipelines lazily, and that
        # is not safe from two threads at once (measured: "Failed to import
        # diffusers.pipelines.stable_audio" when a job's first node raced the prewarm).
        import torch  # noqa: F401
    except Exception:  # the real import, on first use, reports what is wrong
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engines.worker")
    parser.add_argument("--models", default="default", choices=("tiny", "default"))
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--memory-budget", type=int, default=2 << 30)
    parser.add_argument("--disk-budget", type=int, default=None)
    # Model residency and GPU options (engines/models/manager.py, engines/accel/gpu.py);
    # each also reads its WEFT_* environment variable when not given here.
    parser.add_argument("--ram-budget", default=None, help="weights kept in RAM, e.g. 24GB (WEFT_RAM_BUDGET)")
    parser.add_argument("--vram-budget", default=None, help="weights kept on the GPU (WEFT_VRAM_BUDGET)")
    parser.add_argument("--precision", default=None, choices=("auto", "bf16", "fp16", "fp32"))
    parser.add_argument("--compile", action="store_true", default=None,
                        help="torch.compile the transformers' repeated blocks")
    parser.add_argument("--attention", default=None, help="a diffusers attention backend (flash, sage, ...)")
    parser.add_argument("--quantize", default=None, choices=("none", "bnb_nf4", "bnb_int8", "torchao_int8"))
    parser.add_argument("--prewarm", action="store_true",
                        help="import the inference stack now, in the background (weft render: a job is coming)")
    args = parser.parse_args(argv)
    if args.prewarm:
        threading.Thread(target=_prewarm, name="prewarm", daemon=True).start()

    # The message channel is a private copy of stdout; fd 1 then points at
    # stderr so that stray prints from libraries cannot corrupt it.
    channel = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    # Ctrl-C in a terminal reaches the whole process group; the client decides
    # what to cancel and tells us, so the worker itself ignores SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    worker = Worker(channel, models_profile=args.models, cache_dir=args.cache_dir,
                    memory_budget=args.memory_budget, disk_budget=args.disk_budget, models_dir=args.models_dir,
                    model_options=_model_options(args))
    worker.serve(sys.stdin)
    channel.flush()
    return 0


def leave_now(code: int) -> None:
    """Exit without Python's own finalisation. With torch, diffusers and a pipeline loaded it
    took 1.8 s (measured on the tiny Wan twin), all of it after the render's last file was
    written and while `weft render` waits for this process to end. Nothing of the worker needs
    it: each node writes and closes its files, scratch files are unlinked when made, and the
    message channel and stderr are flushed here."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(code)


if __name__ == "__main__":
    leave_now(main())
