"""Local parallelism: N engine worker processes on this machine.

Each slot owns one ``EngineClient`` (one worker process) for the whole batch,
so the models it loads stay resident from one job to the next: the first job
on a slot pays for loading, the others do not. All slots point at one result
cache folder, which is content-addressed and safe for several writers, so jobs
that share upstream results (the same prompt and seed, different save
settings) reuse them across workers.

How the machine is split:
- GPUs: one worker per GPU by default, pinned with CUDA_VISIBLE_DEVICES, so
  each has a whole card and its own copy of the models. More workers than GPUs
  share cards round-robin (useful only when the models are small).
- CPU only: the cores are divided between the workers (OMP_NUM_THREADS and
  friends, which torch reads at start-up), so N workers do not each start a
  thread per core and thrash the caches.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

# Thread pools torch, numpy (OpenBLAS / MKL) and OpenCV size from the environment.
from engines.client import THREAD_VARS, thread_policy  # noqa: E402  (stdlib only: no torch)


@dataclass
class RunSpec:
    """What one slot renders for one job (plain data: it also travels to Ray actors)."""
    job: str                       # the batch job id ("0003")
    engine_job: str                # unique per attempt, for the engine's own bookkeeping
    project: dict[str, Any]
    targets: list[str]
    output_dir: str
    project_dir: str
    project_name: str
    name_fields: dict[str, str] = field(default_factory=dict)


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def visible_gpus() -> list[str]:
    """GPU ids this process may use, without importing torch (the command line never does).

    CUDA_VISIBLE_DEVICES, when set, is the answer (an empty value means none);
    otherwise ask nvidia-smi, and no nvidia-smi means no NVIDIA GPU.
    """
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g.strip() for g in env.split(",") if g.strip() and g.strip() != "-1"]
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        out = subprocess.run([smi, "--query-gpu=index", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode != 0:
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def worker_env(index: int, workers: int, gpus: list[str], base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of worker ``index`` of ``workers``: its GPU, or its share of the cores."""
    env = dict(os.environ if base is None else base)
    if gpus:
        env["CUDA_VISIBLE_DEVICES"] = gpus[index % len(gpus)]
    # One worker: the libraries' own thread defaults; several: a share of the cores each, waiting
    # passively (engines/client.py says why).
    env.update(thread_policy(workers, cpu_count()))
    return env


def default_workers() -> int:
    """One worker per GPU; on a CPU-only machine one (it uses every core)."""
    return max(1, len(visible_gpus()))


class LocalSlot:
    """One engine worker process and the jobs it runs, one at a time."""

    def __init__(self, name: str, client: Any, *, gpu: str | None = None, threads: int | None = None):
        self.name = name
        self.client = client
        self.gpu = gpu
        self.threads = threads

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"worker": self.name, "kind": "local", "pid": self.client.pid}
        if self.gpu is not None:
            info["gpu"] = self.gpu
        if self.threads is not None:
            info["threads"] = self.threads
        return info

    async def start(self) -> None:
        await self.client.start()

    async def run(self, spec: RunSpec, on_event: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Render one job; returns the engine's ``job_finished`` event."""
        engine_job = await self.client.submit(
            spec.project, targets=spec.targets, output_dir=Path(spec.output_dir), project_dir=Path(spec.project_dir),
            project_name=spec.project_name, name_fields=spec.name_fields, job_id=spec.engine_job)
        async for event in self.client.events(engine_job):
            if event["event"] == "job_finished":
                return event
            on_event(event)
        # The stream ends only with job_finished (the client synthesises one if the worker dies).
        return {"event": "job_finished", "status": "failed", "failed": {"": "the engine stopped answering"},
                "outputs": []}

    async def cancel(self, spec: RunSpec) -> None:
        await self.client.cancel(spec.engine_job)

    async def close(self) -> None:
        await self.client.close()


class LocalPool:
    """N local slots sharing one result cache folder."""

    kind = "local"

    def __init__(self, workers: int, *, models: str, cache_dir: Path | None = None,
                 client_factory: Callable[..., Any] | None = None, gpus: list[str] | None = None):
        from engines.client import EngineClient, default_cache_dir

        factory = client_factory or EngineClient
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        gpus = visible_gpus() if gpus is None else gpus
        self.slots: list[LocalSlot] = []
        self.start_errors: list[str] = []
        for i in range(workers):
            env = worker_env(i, workers, gpus)
            client = factory(models=models, cache_dir=self.cache_dir, env=env)
            self.slots.append(LocalSlot(f"w{i + 1}", client, gpu=gpus[i % len(gpus)] if gpus else None,
                                        threads=None if gpus else int(env.get(THREAD_VARS[0]) or cpu_count())))

    async def __aenter__(self) -> "LocalPool":
        import asyncio
        # Start every worker at once: each imports torch, which takes seconds.
        results = await asyncio.gather(*(slot.start() for slot in self.slots), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if len(failures) == len(self.slots):
            await self.close()
            raise failures[0]
        # A worker that cannot start (a GPU in a bad state) is left out; the others carry on.
        self.start_errors = [f"{slot.name}: {r}" for slot, r in zip(self.slots, results)
                             if isinstance(r, BaseException)]
        self.slots = [slot for slot, r in zip(self.slots, results) if not isinstance(r, BaseException)]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        import asyncio
        await asyncio.gather(*(slot.close() for slot in self.slots), return_exceptions=True)
