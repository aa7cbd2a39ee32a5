"""The executor: runs a plan node by node, reusing cached results.

Each node's result is cached under a key of (type, version, parameters, the
keys of its inputs, and the model profile for model nodes). So changing one
parameter changes that node's key and the keys downstream of it, and only
those run again. A failing node fails only what depends on it: independent
branches still finish. Cancellation is checked between nodes and, inside
model nodes, between denoising steps.

Events are plain dicts (see engines/protocol.py) passed to ``emit``.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from engines.cache import ResultCache, cache_key
from engines.planner import make_plan
from engines.quality import effective_params
from engines.services import EngineServices
from nodes import filenames
from nodes.definition import Cancelled, NodeError, NodeType
from nodes.graph import Graph
from nodes.registry import UnknownNodeType
from nodes.types import can_connect

Emit = Callable[[dict[str, Any]], None]
Ref = tuple[str, str]  # (cache key, output socket)


@dataclass
class Job:
    id: str
    graph: Graph
    targets: list[str] | None = None
    output_dir: Path = Path(".")
    project_dir: Path = Path(".")
    project_name: str = "untitled"
    # Fills {seed} etc. in file names; set by batch jobs.
    name_fields: dict[str, str] = field(default_factory=dict)
    # "final" renders as authored; "draft" runs model nodes fast (engines/quality.py).
    quality: str = "final"
    # The project as rendered (nodes.project.to_dict), embedded in every saved
    # file so the render can be opened and rendered again (engines/media/provenance.py).
    project: dict[str, Any] | None = None


class JobCancelled(Exception):
    pass


class _Context(EngineServices):
    """The RunContext a node sees (see nodes.definition.RunContext)."""

    def __init__(self, executor: "Executor", job: Job, node_id: str, node_type: type[NodeType],
                 params: dict[str, Any], cancel: threading.Event):
        self._executor = executor
        self._job = job
        self._cancel = cancel
        self._params = params
        self.params = params  # the node's parameter values, read-only by convention
        self.node_id = node_id
        self.node_type = node_type
        self.output_dir = job.output_dir
        self.models_profile = executor.models_profile
        self.stats: dict[str, Any] = {}
        self.saved: list[str] = []
        self._last_progress = 0.0

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def progress(self, step: int, total: int, preview: Any = None) -> None:
        self.check_cancelled()
        event: dict[str, Any] = {"event": "progress", "job": self._job.id, "node": self.node_id,
                                 "step": int(step), "total": int(total)}
        if preview is not None:
            event["preview"] = self._executor.encode_preview(preview)
        self._executor.emit(event)

    def pipeline(self, model_id: str) -> Any:
        if self._executor.models is None:
            raise NodeError("this engine has no model manager")
        # Loading is reported apart, so the studio's render-time estimates
        # (engines/estimate.py) learn the rendering, not a first run's load.
        started = time.perf_counter()
        pipe = self._executor.models.pipeline(model_id)
        self.stats["load_seconds"] = round(self.stats.get("load_seconds", 0.0) + time.perf_counter() - started, 4)
        return pipe

    def resolve_path(self, path: str) -> Path:
        return _resolve(self._job.project_dir, path)

    def output_path(self, name: str, ext: str = "") -> Path:
        """Where a Save node writes: the pattern ``name`` (nodes.filenames) filled in,
        with the next free version in its folder, unless the node's ``overwrite`` is on."""
        seed = self._params.get("seed", self._job.name_fields.get("seed", ""))
        fields = {"project": self._job.project_name, "node": self.node_id, "seed": str(seed),
                  **self._job.name_fields}
        try:
            filled = filenames.fill(name, fields, ext=ext)
        except filenames.FileNameError as exc:
            raise NodeError(f"parameter 'filename': {exc}") from None
        root = self._job.output_dir.resolve()
        folder = (root / filled.folder).resolve() if filled.folder else root
        if folder != root and root not in folder.parents:
            raise NodeError(f"parameter 'filename': {name!r} points outside the output folder")
        folder.mkdir(parents=True, exist_ok=True)
        with self._executor.names_lock:
            # Names other Save nodes of this engine took but have not written yet count as taken.
            existing = {p.name for p in folder.iterdir()} | {
                Path(p).name for p in self._executor.names_taken if Path(p).parent == folder}
            path = folder / filled.choose(existing, overwrite=bool(self._params.get("overwrite", False)))
            self._executor.names_taken.add(str(path))
        self.saved.append(str(path))
        return path

    def provenance(self) -> str | None:
        """The text a Save node embeds in its file: the project as rendered and how
        (engines/media/provenance.py); None when the job did not bring its project."""
        if self._job.project is None:
            return None
        from engines.media.provenance import make_payload
        return make_payload(self._job.project, {
            "project_name": self._job.project_name, "project_dir": str(self._job.project_dir.resolve()),
            "node": self.node_id, "models": self.models_profile, "quality": self._job.quality,
            # A batch job's own file-name fields ({job}, the swept values), to name the file again.
            "name_fields": dict(self._job.name_fields)})


def _resolve(base: Path, path: str) -> Path:
    p = Path(os.path.expanduser(path))
    return p if p.is_absolute() else (base / p)


class _MemorySampler:
    """Peak resident memory of this process while a node runs (CPU), or the
    CUDA allocator's peak when torch has a GPU.

    On Linux the kernel keeps the peak itself (VmHWM) and lets a process reset
    it (/proc/self/clear_refs), so nothing runs during the node. Elsewhere a
    thread samples the resident size; its wake-ups cost the denoiser's threads
    a few percent on a small CPU, hence the kernel's way first.
    """

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._kernel = False

    def __enter__(self) -> "_MemorySampler":
        import psutil
        self._proc = psutil.Process()
        self.peak = self._proc.memory_info().rss
        self._cuda = _cuda_reset_peak()
        self._kernel = _reset_kernel_peak()
        if not self._kernel:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.peak = max(self.peak, self._proc.memory_info().rss)
            except Exception:
                return

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)
        if self._kernel:
            self.peak = max(self.peak, _kernel_peak() or 0)
        if self._cuda:
            import torch
            self.peak = int(torch.cuda.max_memory_allocated())


def _reset_kernel_peak() -> bool:
    """Resets this process's peak resident size (Linux 4.0+); False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _kernel_peak() is not None
    except OSError:
        return False


def _kernel_peak() -> int | None:
    """This process's peak resident bytes since the last reset (VmHWM), or None."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cuda_reset_peak() -> bool:
    import sys
    torch = sys.modules.get("torch")  # only if a model node already loaded it
    if torch is None or not torch.cuda.is_available():
        return False
    torch.cuda.reset_peak_memory_stats()
    return True


class Executor:
    def __init__(self, cache: ResultCache, models: Any = None, emit: Emit | None = None,
                 models_profile: str = "default"):
        self.cache = cache
        self.models = models
        self.models_profile = models_profile
        self.emit: Emit = emit or (lambda event: None)
        # Output files chosen by Save nodes (engines run branches on threads):
        # two nodes never pick the same new name.
        self.names_lock = threading.Lock()
        self.names_taken: set[str] = set()

    @staticmethod
    def encode_preview(preview: Any) -> str:
        import base64
        from engines import media
        return base64.b64encode(media.preview_jpeg(preview)).decode("ascii")

    # -- keys ------------------------------------------------------------------
    def node_key(self, graph: Graph, node_id: str, inputs: dict[str, Ref], project_dir: Path,
                 params: dict[str, Any] | None = None) -> str:
        """``params``: the values the node runs with, when they differ from the graph's (Draft)."""
        node = graph.nodes[node_id]
        node_type = graph.registry.get(node.type_id)
        params = node.params if params is None else params
        parts: dict[str, Any] = {
            "type": node.type_id,
            "version": node_type.version,
            "params": params,
            "inputs": {name: list(ref) for name, ref in sorted(inputs.items())},
            "salt": node_type.cache_salt(params, lambda p: _resolve(project_dir, p)),
        }
        if node_type.uses_model:
            parts["models"] = self.models_profile
            fingerprint = getattr(self.models, "fingerprint", "")
            if fingerprint:  # GPU options that change the numbers (engines/accel/gpu.py)
                parts["engine"] = fingerprint
            weights = self.weights_of(params)
            if weights:  # the weights actually on disk: other weights under the same id never match
                parts["weights"] = weights
        return cache_key(parts)

    def weights_of(self, params: dict[str, Any]) -> dict[str, str]:
        """{model id: fingerprint of the weights it loads} for a model node's ``model`` parameter."""
        model = params.get("model")
        fingerprint = getattr(self.models, "weights_fingerprint", None)
        if not isinstance(model, str) or fingerprint is None:
            return {}
        try:
            return {model: fingerprint(model)}
        except Exception:  # an unknown id: the node fails naming it when it runs
            return {}

    def model_run_key(self, graph: Graph, node_id: str, inputs: dict[str, Ref], project_dir: Path,
                      params: dict[str, Any]) -> str | None:
        """The key of a model node's run without its after-model parameters (ModelNode.after_model);
        None when it has none, or when its weights are unknown (never answered from the cache)."""
        node_type = graph.registry.get(graph.nodes[node_id].type_id)
        after = node_type.after_model(params) if hasattr(node_type, "after_model") else ()
        if not after:
            return None
        call = {name: value for name, value in params.items() if name not in after}
        call["_model_call"] = node_type.model_call(params)
        return self.node_key(graph, node_id, inputs, project_dir, call)

    # -- running -----------------------------------------------------------------
    def run(self, job: Job, cancel: threading.Event | None = None) -> dict[str, Any]:
        cancel = cancel or threading.Event()
        graph = job.graph
        plan = make_plan(graph, job.targets)
        started = time.perf_counter()
        self.emit({"event": "job_started", "job": job.id, "nodes": list(plan.order),
                   "targets": list(plan.targets)})
        refs: dict[str, dict[str, Ref]] = {}    # node -> output socket -> where its value is
        live: dict[str, dict[str, Any]] = {}    # values made in this job, by key
        failed: dict[str, str] = {}             # node -> message
        saved: list[str] = []
        status = "ok"

        for node_id in plan.order:
            node = graph.nodes[node_id]
            upstream_failed = sorted({l.source for l in graph.incoming(node_id) if l.source in failed})
            if upstream_failed:
                failed[node_id] = f"not run because {', '.join(upstream_failed)} failed"
                self.emit({"event": "node_failed", "job": job.id, "node": node_id, "kind": "skipped",
                           "error": failed[node_id]})
                continue
            if cancel.is_set():
                status = "cancelled"
                break
            try:
                node_type = graph.registry.get(node.type_id)
            except UnknownNodeType as exc:
                failed[node_id] = str(exc)
                self.emit({"event": "node_failed", "job": job.id, "node": node_id, "kind": "error",
                           "error": str(exc)})
                continue
            inputs = {l.target_socket: refs[l.source][l.source_socket] for l in graph.incoming(node_id)
                      if l.source in refs and l.source_socket in refs[l.source]}
            if node.bypassed:
                refs[node_id] = self._bypass(node_type, inputs)
                self.emit({"event": "node_finished", "job": job.id, "node": node_id, "cached": True,
                           "bypassed": True, "outputs": [], "results": {}, "stats": {"seconds": 0.0}})
                continue
            params = effective_params(node_type, node.params, job.quality)
            key = self.node_key(graph, node_id, inputs, job.project_dir, params)
            refs[node_id] = {name: (key, name) for name in node_type.outputs}
            # Weights not found on disk (yet): a result can't be matched to them, never reuse one.
            from engines.models.fingerprint import ABSENT
            reusable = node_type.cacheable and ABSENT not in self.weights_of(params).values() \
                if node_type.uses_model else node_type.cacheable
            if reusable and (key in live or self.cache.contains(key)):
                self.emit({"event": "node_finished", "job": job.id, "node": node_id, "cached": True,
                           "key": key, "outputs": [], "results": self.cache.describe(key),
                           "stats": {"seconds": 0.0}})
                continue
            run_key = self.model_run_key(graph, node_id, inputs, job.project_dir, params) \
                if node_type.uses_model else None
            if reusable and run_key is not None and self.cache.contains(run_key):
                made = self.cache.get(run_key)
                if made is not None:  # the model's run is cached: apply only the after-model parameters
                    outputs = node_type.apply_after_model(made, params)
                    self.cache.put(key, outputs, {"node": node_id, "type": node.type_id})
                    live[key] = outputs
                    self.emit({"event": "node_finished", "job": job.id, "node": node_id, "cached": True,
                               "key": key, "outputs": [], "results": self.cache.describe(key),
                               "after_model": list(node_type.after_model(params)),
                               "stats": {"seconds": 0.0}})
                    continue
            self.emit({"event": "node_started", "job": job.id, "node": node_id, "type": node.type_id,
                       "key": key})
            try:
                values = {name: self._value(ref, live) for name, ref in inputs.items()}
                for name, socket in node_type.inputs.items():
                    if name not in values and socket.required:
                        link = graph.link_into(node_id, name)
                        source = f" (its source {link.source} is bypassed and passes no {socket.type})" if link else ""
                        raise NodeError(f"input {name!r} has no value{source}")
                    values.setdefault(name, None)
                ctx = _Context(self, job, node_id, node_type, params, cancel)
                t0 = time.perf_counter()
                with _MemorySampler() as memory:
                    outputs = node_type().run(ctx, **values, **params) or {}
                seconds = time.perf_counter() - t0
                missing = set(node_type.outputs) - set(outputs)
                if missing:
                    raise NodeError(f"{node_type.title} gave no value for {', '.join(sorted(missing))}")
                if node_type.outputs:
                    self.cache.put(key, outputs, {"node": node_id, "type": node.type_id})
                    if run_key is not None:  # the model's run, for a later change after the model
                        self.cache.put(run_key, outputs, {"node": node_id, "type": node.type_id})
                live[key] = outputs
                stats = {"seconds": round(seconds, 4), "peak_memory_bytes": int(memory.peak), **ctx.stats}
                saved.extend(ctx.saved)
                self.emit({"event": "node_finished", "job": job.id, "node": node_id, "cached": False,
                           "key": key, "outputs": ctx.saved,
                           "results": self.cache.describe(key) if node_type.outputs else {},
                           "stats": stats})
            except Cancelled:
                failed[node_id] = "cancelled"
                self.emit({"event": "node_failed", "job": job.id, "node": node_id, "kind": "cancelled",
                           "error": "cancelled"})
                status = "cancelled"
                break
            except Exception as exc:  # one node's failure must not stop the others
                message = _describe_failure(exc)
                failed[node_id] = message
                event = {"event": "node_failed", "job": job.id, "node": node_id, "kind": "error",
                         "error": message}
                if not isinstance(exc, (NodeError, FileNotFoundError, ValueError)):
                    event["traceback"] = traceback.format_exc(limit=8)
                self.emit(event)
        if status == "ok" and failed:
            status = "failed"
        result = {"event": "job_finished", "job": job.id, "status": status,
                  "failed": {k: v for k, v in failed.items()}, "outputs": saved,
                  "seconds": round(time.perf_counter() - started, 4)}
        self.emit(result)
        if self.cache.disk_budget is not None:
            self.cache.prune()
        return result

    def _value(self, ref: Ref, live: dict[str, dict[str, Any]]) -> Any:
        key, socket = ref
        values = live.get(key)
        if values is None:
            values = self.cache.get(key)
            if values is None:
                raise NodeError("an input's cached result disappeared; render again")
            live[key] = values
        return values[socket]

    @staticmethod
    def _bypass(node_type: type[NodeType], inputs: dict[str, Ref]) -> dict[str, Ref]:
        """A bypassed node passes each output the first input of a matching type."""
        out: dict[str, Ref] = {}
        for name, socket in node_type.outputs.items():
            for in_name, in_socket in node_type.inputs.items():
                if in_name in inputs and can_connect(in_socket.type, socket.type):
                    out[name] = inputs[in_name]
                    break
        return out


def _describe_failure(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, (NodeError, ValueError, FileNotFoundError)) and text:
        return text
    if "out of memory" in text.lower():
        return f"out of memory: {text.splitlines()[0]}"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
