"""Ray: the batch's slots as Ray actors, one per GPU of the cluster (CPU actors here).

Why actors, and why each actor owns an ``EngineClient`` (an engine worker
subprocess) rather than running the executor in the actor's own process:

- Actors, not tasks: an actor lives for the whole batch, so the models its
  worker loads stay resident from one job to the next, exactly like a local
  worker. A task per job would load the models for every job.
- The same worker code as ``weft render`` and the local pool: the worker
  process is the only thing that imports torch; the actor is a thin, torch-free
  proxy. A CUDA out-of-memory or a segfault in a library kills the worker, not
  the actor: the client reports which node was running, and the next job
  starts a fresh worker on the same GPU without Ray having to restart
  anything. Cancellation (Ctrl-C, ``weft queue cancel``) uses the worker's own
  cancel between denoising steps.
- Ray pins the actor to its GPU (``num_gpus=1`` sets CUDA_VISIBLE_DEVICES in
  the actor), and the worker subprocess inherits it.

Events stream back as a Ray generator (``num_returns="streaming"``), so the
driver shows live progress for every actor. Results are files: when the
output folder is shared storage mounted at the same path on every node (the
usual cluster set-up), the worker writes straight into it; when it is not
(the actor cannot see the folder's marker file), the actor renders into a
temporary folder and sends the files back through Ray's object store, and the
driver writes them into the output folder.

Retries are the coordinator's (run.py), recorded in the queue, so a retried job
is retried the same way locally and on Ray; an actor that dies (a lost node)
fails its job (retried if --retries allows) and is replaced.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from app.batch.local import THREAD_VARS, RunSpec

MARKER = ".weft-batch-marker"
# Environment a Ray actor needs from the driver: where the tiny models and the
# cache live, offline switches for the model hub.
_PASSED_ENV_PREFIXES = ("WEFT_", "HF_", "TRANSFORMERS_", "HUGGINGFACE_")
_FILE_CHUNK = 64 << 20


class RayUnavailable(RuntimeError):
    pass


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayUnavailable("--ray needs Ray: pip install 'weft[batch]' (or pip install 'ray[default]>=2.40')") from None
    return ray


class RenderActor:
    """Runs in a Ray worker process: owns one engine worker subprocess for the batch."""

    def __init__(self, models: str, cache_dir: str, threads: int | None, marker: str, token: str):
        self.models = models
        self.cache_dir = cache_dir
        self.threads = threads
        self.marker = marker
        self.token = token
        self._client: Any = None
        self._shared: bool | None = None

    def _shared_storage(self) -> bool:
        if self._shared is None:
            try:
                self._shared = Path(self.marker).read_text().strip() == self.token
            except OSError:
                self._shared = False
        return self._shared

    async def _engine(self) -> Any:
        from engines.client import EngineClient
        if self._client is None:
            env = dict(os.environ)
            if self.threads:
                for var in THREAD_VARS:
                    env[var] = str(self.threads)
            self._client = EngineClient(models=self.models, cache_dir=Path(self.cache_dir), env=env)
        await self._client.start()
        return self._client

    async def describe(self) -> dict[str, Any]:
        import socket

        import ray
        client = await self._engine()
        context = ray.get_runtime_context()
        gpus = [str(g) for g in context.get_accelerator_ids().get("GPU", [])]
        return {"kind": "ray", "host": socket.gethostname(), "node": context.get_node_id()[:8], "pid": os.getpid(),
                "worker_pid": client.pid, "gpus": gpus, "threads": self.threads,
                "shared_storage": self._shared_storage()}

    async def run(self, spec: dict[str, Any]):  # an async generator: Ray streams what it yields
        import tempfile

        client = await self._engine()
        run = RunSpec(**spec)
        local_dir: str | None = None
        if not self._shared_storage():
            local_dir = tempfile.mkdtemp(prefix=f"weft-{run.job}-")
        out_dir = Path(local_dir or run.output_dir)
        engine_job = await client.submit(run.project, targets=run.targets, output_dir=out_dir,
                                         project_dir=Path(run.project_dir), project_name=run.project_name,
                                         name_fields=run.name_fields, job_id=run.engine_job)
        try:
            async for event in client.events(engine_job):
                if event["event"] == "job_finished" and local_dir is not None:
                    # No shared storage: the files travel back with the result.
                    event = dict(event)
                    event["files"] = _collect(event.get("outputs") or [], local_dir)
                    event["outputs"] = []
                yield event
        finally:
            if local_dir is not None:
                import shutil
                shutil.rmtree(local_dir, ignore_errors=True)

    async def cancel(self, engine_job: str) -> None:
        if self._client is not None:
            await self._client.cancel(engine_job)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def _collect(outputs: list[str], root: str) -> list[dict[str, Any]]:
    files = []
    for path in outputs:
        p = Path(path)
        try:
            relative = str(p.resolve().relative_to(Path(root).resolve()))
        except ValueError:
            relative = p.name
        files.append({"path": relative, "data": p.read_bytes()})
    return files


class RaySlot:
    """The driver's handle on one actor: the same interface as local.LocalSlot."""

    def __init__(self, name: str, pool: "RayPool"):
        self.name = name
        self.pool = pool
        self.actor: Any = None
        self.info: dict[str, Any] = {"worker": name, "kind": "ray"}

    async def start(self) -> None:
        self.actor = self.pool.new_actor()
        self.info.update(await self.actor.describe.remote())

    def describe(self) -> dict[str, Any]:
        return dict(self.info)

    async def run(self, spec: RunSpec, on_event: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        ray = self.pool.ray
        finished: dict[str, Any] | None = None
        try:
            stream = self.actor.run.options(num_returns="streaming").remote(asdict(spec))
            async for ref in stream:
                event = await ref
                if event["event"] == "job_finished":
                    finished = event
                else:
                    on_event(event)
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as exc:
            # The actor or its node is gone: fail this job (the coordinator may
            # retry it) and put a fresh actor in this slot for the next one.
            message = f"the Ray actor {self.name} on {self.info.get('host', '?')} died: {_first_line(exc)}"
            await self._replace()
            return {"status": "failed", "failed": {"": message}, "outputs": []}
        if finished is None:
            return {"status": "failed", "failed": {"": "the Ray actor ended the job without a result"},
                    "outputs": []}
        if finished.get("files"):
            finished = dict(finished)
            finished["outputs"] = _write_back(finished.pop("files"), Path(spec.output_dir))
        return finished

    async def cancel(self, spec: RunSpec) -> None:
        if self.actor is not None:
            await self.actor.cancel.remote(spec.engine_job)

    async def close(self) -> None:
        if self.actor is None:
            return
        try:
            await asyncio.wait_for(self.actor.close.remote(), timeout=20)
        except Exception:
            pass
        try:
            self.pool.ray.kill(self.actor)
        except Exception:
            pass
        self.actor = None

    async def _replace(self) -> None:
        try:
            self.pool.ray.kill(self.actor)
        except Exception:
            pass
        try:
            await self.start()
        except Exception:
            pass  # the next job on this slot fails with Ray's own message


def _write_back(files: list[dict[str, Any]], output_dir: Path) -> list[str]:
    """Files an actor sent back (no shared storage): written atomically into the job's folder."""
    written = []
    for item in files:
        target = (output_dir / item["path"]).resolve()
        if output_dir.resolve() not in target.parents:
            continue  # never outside the job's folder, whatever came over the wire
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.partial")
        tmp.write_bytes(item["data"])
        os.replace(tmp, target)
        written.append(str(target))
    return written


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class RayPool:
    """Connects to Ray (or starts a local instance) and puts one actor in each slot."""

    kind = "ray"

    def __init__(self, address: str, *, workers: int | None, models: str, output_dir: Path,
                 cache_dir: Path | None = None, cpus_per_actor: int | None = None, max_actors: int | None = None):
        self.address = address
        self.requested = workers
        self.models = models
        self.output_dir = Path(output_dir)
        self.cache_dir = cache_dir
        self.cpus_per_actor = cpus_per_actor
        self.max_actors = max_actors
        self.ray: Any = None
        self.slots: list[RaySlot] = []
        self.start_errors: list[str] = []
        self._started_ray = False
        self._actor_class: Any = None
        self._actor_options: dict[str, Any] = {}
        self._threads: int | None = None
        self._token = secrets.token_hex(16)

    # -- connecting ---------------------------------------------------------------
    def connect(self) -> None:
        ray = import_ray()
        self.ray = ray
        if not ray.is_initialized():
            root = str(Path(__file__).resolve().parents[2])
            env_vars = {k: v for k, v in os.environ.items() if k.startswith(_PASSED_ENV_PREFIXES)}
            runtime_env: dict[str, Any] = {"env_vars": env_vars}
            local = self.address in ("auto", "local") or self.address.startswith(("127.", "localhost"))
            if local:
                # Same machine: the actors import this very checkout.
                env_vars["PYTHONPATH"] = root + (os.pathsep + os.environ["PYTHONPATH"]
                                                 if os.environ.get("PYTHONPATH") else "")
            else:
                # A remote cluster runs this driver's code: ship Weft's own packages
                # (its dependencies must be installed on the cluster; see docs/batch.md).
                import app
                import engines
                import nodes
                runtime_env["py_modules"] = [app, engines, nodes]
            kwargs: dict[str, Any] = {"runtime_env": runtime_env, "log_to_driver": False,
                                      "logging_level": "ERROR"}
            if self.address in ("auto", "local"):
                # No address: Ray joins the cluster named by RAY_ADDRESS or started
                # here with `ray start`, and otherwise starts a local instance.
                address = None if self.address == "auto" else "local"
                kwargs["include_dashboard"] = False
            else:
                address = self.address
            try:
                ray.init(address=address, **kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise RayUnavailable(f"--ray {self.address}: cannot connect to Ray: {_first_line(exc)}") from None
            self._started_ray = True
        self._plan_actors()

    def _plan_actors(self) -> None:
        ray = self.ray
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        cpus = int(resources.get("CPU", 1))
        if gpus:
            count = min(self.requested or gpus, self.max_actors or 1 << 30)
            if count > gpus:
                self.start_errors.append(f"asked for {count} actors with one GPU each, but the cluster has {gpus} "
                                         f"GPUs; using {gpus}")
                count = gpus
            self._actor_options = {"num_gpus": 1, "num_cpus": 1}
            self._threads = None
        else:
            count = min(self.requested or 1, self.max_actors or 1 << 30)
            per_actor = self.cpus_per_actor or max(1, cpus // count)
            if per_actor * count > cpus:
                per_actor = max(1, cpus // count)
            self._actor_options = {"num_cpus": per_actor}
            self._threads = per_actor
        self.count = count
        self._actor_class = ray.remote(RenderActor)

    def new_actor(self) -> Any:
        marker = self.output_dir.resolve() / MARKER
        return self._actor_class.options(**self._actor_options, max_restarts=0).remote(
            self.models, str(self.cache_dir) if self.cache_dir else _default_cache(), self._threads,
            str(marker), self._token)

    # -- the pool interface -----------------------------------------------------------
    async def __aenter__(self) -> "RayPool":
        if self.ray is None:
            self.connect()
        self.output_dir.mkdir(parents=True, exist_ok=True)
        (self.output_dir / MARKER).write_text(self._token)
        self.slots = [RaySlot(f"r{i + 1}", self) for i in range(self.count)]
        results = await asyncio.gather(*(slot.start() for slot in self.slots), return_exceptions=True)
        failed = [(s, r) for s, r in zip(self.slots, results) if isinstance(r, BaseException)]
        self.start_errors += [f"{s.name}: {_first_line(r)}" for s, r in failed]
        self.slots = [s for s, r in zip(self.slots, results) if not isinstance(r, BaseException)]
        if not self.slots:
            await self.close()
            raise RayUnavailable("no Ray actor could start: " + "; ".join(self.start_errors))
        for slot in self.slots:
            if not slot.info.get("shared_storage"):
                self.start_errors.append(
                    f"{slot.name} on {slot.info.get('host')} cannot see {self.output_dir}: its files are sent back "
                    "through Ray (put the output folder on shared storage to skip the copy)")
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        await asyncio.gather(*(slot.close() for slot in self.slots), return_exceptions=True)
        try:
            (self.output_dir / MARKER).unlink(missing_ok=True)
        except OSError:
            pass
        if self._started_ray and self.ray is not None:
            self.ray.shutdown()
            self._started_ray = False


def _default_cache() -> str:
    from engines.client import default_cache_dir
    return str(default_cache_dir())


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: weft batch PROJECT --ray auto")
