"""The engine client: starts the worker process and talks to it with asyncio.

Used by the command line (under ``asyncio.run``) and by the GUI (on the Qt
loop through qasync). Several jobs can be queued; their events are routed to
each job's own stream. When the worker dies (killed, out of memory), every
unfinished job gets a ``node_failed`` naming the node that was running and a
``job_finished`` with status "failed"; the next ``run`` starts a new worker.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import os
import signal
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Callable

from engines.protocol import JOB_EVENTS


def default_cache_dir() -> Path:
    env = os.environ.get("WEFT_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs
    return Path(platformdirs.user_cache_dir("weft")) / "results"


class EngineError(RuntimeError):
    pass


@dataclass
class _JobState:
    id: str
    events: asyncio.Queue = field(default_factory=asyncio.Queue)
    running_node: str | None = None
    finished: bool = False


# glibc malloc, tuned for a process that frees and reallocates the same large
# tensors every step (the VAE decode above all): freed blocks stay in the heap
# instead of going back to the kernel and coming back as fresh zeroed pages.
# It changes where memory comes from, never a number (bit-identical results;
# issue 13 measured a 6-9% faster CPU decode). 32 MiB is the largest mmap
# threshold glibc accepts on 64-bit. Other allocators ignore these variables.
MALLOC_TUNING = {
    "MALLOC_MMAP_THRESHOLD_": str(32 << 20),
    "MALLOC_TRIM_THRESHOLD_": str(256 << 20),
    "MALLOC_TOP_PAD_": str(64 << 20),
}

# Variables that size a library's thread pool.
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def thread_policy(workers: int, cores: int, user_env: dict[str, str] | None = None) -> dict[str, str]:
    """The thread settings of one of ``workers`` engine processes sharing ``cores`` CPU cores.

    One worker: nothing (the libraries' defaults: every core, OpenMP's own wait
    policy). Several: each gets its share of the cores and waits passively, since
    a thread that spins while waiting burns the cores its siblings in the other
    workers need (a tenfold slowdown measured with spinning, bench/batch.py). A
    variable set in ``user_env`` (default: this process's environment) is the
    user's choice and is left out, so it wins."""
    user_env = os.environ if user_env is None else user_env
    if workers <= 1:
        return {}
    share = str(max(1, cores // workers))
    policy = {var: share for var in THREAD_VARS}
    policy["OMP_WAIT_POLICY"] = "PASSIVE"
    return {name: value for name, value in policy.items() if name not in user_env}


def engine_process_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a process that runs models (the worker, a calibration):
    ``base`` (default: this process's) with what such a process needs. Values
    already set in ``base`` win."""
    env = dict(os.environ if base is None else base)
    # It must import this very checkout, wherever it runs from.
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # One worker: OpenMP's own wait policy (spinning briefly between parallel
    # regions), which passive waiting made about twice as slow on a quiet
    # machine. Several workers on one machine get theirs from thread_policy().
    for name, value in MALLOC_TUNING.items():
        env.setdefault(name, value)
    # numpy's BLAS only does small sums there (step previews); its own threads,
    # spinning after each call, slowed the denoiser's by ~10% here.
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


class EngineClient:
    def __init__(self, *, models: str = "default", cache_dir: Path | None = None, models_dir: Path | None = None,
                 memory_budget: int = 2 << 30, disk_budget: int | None = None,
                 env: dict[str, str] | None = None, on_log: Callable[[str], None] | None = None,
                 prewarm: bool = False):
        self.models = models
        self.prewarm = prewarm  # the worker imports torch and diffusers as soon as it starts
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.models_dir = models_dir
        self.memory_budget = memory_budget
        self.disk_budget = disk_budget
        self.env = env
        self.on_log = on_log
        self.log_tail: collections.deque[str] = collections.deque(maxlen=200)
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task | None = None
        self._stderr: asyncio.Task | None = None
        self._jobs: dict[str, _JobState] = {}
        self._ready: asyncio.Future | None = None
        self._pings = itertools.count()
        self._pongs: dict[int, asyncio.Future] = {}
        self.worker_info: dict[str, Any] = {}

    # -- lifecycle ------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def start(self) -> None:
        """Starts the worker unless it runs. Several jobs submitted at once (a run count)
        share one start: without the lock each would spawn its own worker."""
        if self.alive:
            return
        lock = self.__dict__.setdefault("_start_lock", asyncio.Lock())
        async with lock:
            if not self.alive:
                await self._start()

    async def _start(self) -> None:
        args = [sys.executable, "-m", "engines.worker", "--models", self.models,
                "--cache-dir", str(self.cache_dir), "--memory-budget", str(self.memory_budget)]
        if self.disk_budget is not None:
            args += ["--disk-budget", str(self.disk_budget)]
        if self.models_dir is not None:
            args += ["--models-dir", str(self.models_dir)]
        if self.prewarm:
            args.append("--prewarm")
        env = engine_process_env(self.env)
        self._proc = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, limit=64 << 20)
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._reader = asyncio.create_task(self._read_events(self._proc))
        self._stderr = asyncio.create_task(self._read_log(self._proc))
        await self._ready

    async def close(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            try:
                await self._send({"cmd": "shutdown"})
                if proc.stdin:
                    proc.stdin.close()
                await asyncio.wait_for(proc.wait(), timeout=10)
            except (asyncio.TimeoutError, ConnectionError, BrokenPipeError):
                proc.kill()
                await proc.wait()
        for task in (self._reader, self._stderr):
            if task:
                await asyncio.gather(task, return_exceptions=True)
        self._proc = None

    async def __aenter__(self) -> "EngineClient":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def kill(self) -> None:
        """Kill the worker at once (for tests and a last resort)."""
        if self.alive and self._proc is not None:
            self._proc.send_signal(signal.SIGKILL)

    # -- jobs -----------------------------------------------------------------------
    async def submit(self, project: dict[str, Any], *, targets: list[str] | None = None,
                     output_dir: Path | str = ".", project_dir: Path | str = ".", project_name: str = "untitled",
                     name_fields: dict[str, str] | None = None, job_id: str | None = None) -> str:
        """Queue a job; returns its id. Read its events with ``events(job_id)``."""
        await self.start()
        job_id = job_id or uuid.uuid4().hex[:12]
        self._jobs[job_id] = _JobState(job_id)
        await self._send({"cmd": "run", "job": job_id, "project": project, "targets": targets,
                          "output_dir": str(Path(output_dir).resolve()),
                          "project_dir": str(Path(project_dir).resolve()), "project_name": project_name,
                          "name_fields": name_fields or {}})
        return job_id

    async def events(self, job_id: str) -> AsyncIterator[dict[str, Any]]:
        state = self._jobs[job_id]
        try:
            while True:
                event = await state.events.get()
                yield event
                if event["event"] == "job_finished":
                    return
        finally:
            if state.finished:
                self._jobs.pop(job_id, None)

    async def run(self, project: dict[str, Any], **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        job_id = await self.submit(project, **kwargs)
        async for event in self.events(job_id):
            yield event

    async def cancel(self, job_id: str) -> None:
        if self.alive:
            await self._send({"cmd": "cancel", "job": job_id})

    async def ping(self, timeout: float = 5.0) -> bool:
        if not self.alive:
            return False
        n = next(self._pings)
        future = asyncio.get_running_loop().create_future()
        self._pongs[n] = future
        await self._send({"cmd": "ping", "id": n})
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            self._pongs.pop(n, None)

    # -- plumbing -------------------------------------------------------------------
    async def _send(self, message: dict[str, Any]) -> None:
        if not self._proc or not self._proc.stdin:
            raise EngineError("the engine is not running")
        self._proc.stdin.write((json.dumps(message) + "\n").encode())
        await self._proc.stdin.drain()

    async def _read_events(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while True:
            line = await proc.stdout.readline()
            if not line:
                break
            try:
                event = json.loads(line)
            except ValueError:
                self._log(f"[engine] unreadable message: {line[:200]!r}")
                continue
            self._dispatch(event)
        code = await proc.wait()
        self._worker_died(code)

    def _dispatch(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "ready":
            self.worker_info = event
            if self._ready and not self._ready.done():
                self._ready.set_result(event)
            return
        if kind == "pong":
            future = self._pongs.get(event.get("id"))
            if future and not future.done():
                future.set_result(True)
            return
        if kind in JOB_EVENTS:
            state = self._jobs.get(event.get("job", ""))
            if state is None:
                return
            if kind == "node_started":
                state.running_node = event.get("node")
            elif kind in ("node_finished", "node_failed"):
                state.running_node = None
            elif kind == "job_finished":
                state.finished = True
            state.events.put_nowait(event)
            return
        self._log(f"[engine] {event}")

    def _worker_died(self, code: int | None) -> None:
        if code is not None and code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
            if -code == signal.SIGKILL:
                how += " (out of memory, or killed by hand)"
        elif code is None:
            how = "went away"
        else:
            how = f"exited with code {code}"
        if self._ready and not self._ready.done():
            tail = "\n".join(list(self.log_tail)[-15:])
            self._ready.set_exception(EngineError(f"the engine process failed to start ({how}):\n{tail}"))
        for state in list(self._jobs.values()):
            if state.finished:
                continue
            node = state.running_node
            where = f" while running node {node}" if node else ""
            message = f"the engine process stopped ({how}){where} in job {state.id}"
            if node:
                state.events.put_nowait({"event": "node_failed", "job": state.id, "node": node,
                                         "kind": "worker_died", "error": message})
            state.events.put_nowait({"event": "job_finished", "job": state.id, "status": "failed",
                                     "failed": {node or "": message}, "outputs": [], "worker_died": True,
                                     "error": message})
            state.finished = True
        for future in self._pongs.values():
            if not future.done():
                future.set_result(False)

    async def _read_log(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        while True:
            line = await proc.stderr.readline()
            if not line:
                return
            self._log(line.decode(errors="replace").rstrip())

    def _log(self, text: str) -> None:
        self.log_tail.append(text)
        if self.on_log:
            self.on_log(text)
