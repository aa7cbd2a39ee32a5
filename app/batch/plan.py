"""From a project and its variations to a list of validated jobs.

Every job is checked exactly as ``weft render --set`` would check it (the
override goes through ``nodes.project.apply_override``, the whole graph through
``nodes.validation.validate``) before anything renders: a batch that would fail
on job 412 at four in the morning must fail now, with the row or the --sweep
to fix. Each job gets an id, its own folder and file-name fields, so that every
file says which job made it.
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from app.batch.sweep import MAX_JOBS, BatchInputError, CsvTable, Sweep
from nodes import filenames
from nodes import types as T

# A batch with more problems than this prints the first ones: the rest are
# almost always the same mistake repeated.
MAX_PROBLEMS_SHOWN = 20


@dataclass
class JobSpec:
    id: str                              # "0001": stable, sorts in order, short to type
    folder: str                          # the job's folder inside the output folder
    params: dict[str, Any]               # "node_id.param" -> value (typed, after checking)
    name_fields: dict[str, str]          # {job}, {seed}, {guidance}... for save nodes' file names
    source: str = ""                     # "row 4 of shots.csv", for messages
    label: str = ""                      # "seed=3 guidance=5.5", for people

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "folder": self.folder, "params": self.params, "name_fields": self.name_fields,
                "source": self.source, "label": self.label}


@dataclass
class _Choice:
    """One parameter setting of one job, and where it came from."""
    target: str          # as typed: node id or title, '.', param
    value: str | int | float
    where: str           # "--sweep t2v.seed=1..4" or "shots.csv, row 3, column t2v.seed"


@dataclass
class BatchPlan:
    jobs: list[JobSpec]
    varying: list[str] = field(default_factory=list)   # "node.param" that differ between jobs


_ABSENT = object()  # what a job's value replaced: nothing


def kind_of(graph: Any, node_name: str, param: str) -> str:
    """'int', 'float' or 'other': whether ranges expand for this parameter."""
    try:
        node = graph.find(node_name)
        spec = graph.registry.get(node.type_id).params.get(param)
    except Exception:
        return "other"  # the override itself will say what is wrong
    if spec is None:
        return "other"
    if spec.type in (T.INT, T.SEED):
        return "int"
    if spec.type == T.FLOAT:
        return "float"
    return "other"


def build_jobs(project: Any, targets: list[str], *, sweeps: Iterable[Sweep] = (), table: CsvTable | None = None,
               sets: Iterable[str] = ()) -> BatchPlan:
    """All jobs of a batch, validated; raises BatchInputError listing the problems."""
    from nodes.graph import GraphError
    from nodes.project import apply_override
    from nodes.validation import validate

    graph = project.graph
    sweeps = list(sweeps)
    # --set applies to every job, like weft render's.
    for assignment in sets:
        try:
            apply_override(graph, assignment)
        except GraphError as exc:
            raise BatchInputError(f"--set {assignment}: {exc}") from None

    # The axes of the product: each CSV row is one point on the first axis.
    axes: list[list[list[_Choice]]] = []
    seen_targets: dict[str, str] = {}

    def claim(target: str, where: str) -> str:
        resolved = _resolve_target(graph, target, where)
        if resolved in seen_targets:
            raise BatchInputError(f"{where}: {resolved} is already varied by {seen_targets[resolved]}")
        seen_targets[resolved] = where
        return resolved

    if table is not None:
        for column in table.columns:
            claim(column, f"{table.path}, column {column}")
        axes.append([[_Choice(column, value, row.where(str(table.path), column))
                      for column, value in row.values.items()] for row in table.rows])
    for sweep in sweeps:
        claim(sweep.target, f"--sweep {sweep.text}")
        values = sweep.values(kind_of(graph, sweep.node, sweep.param))
        axes.append([[_Choice(sweep.target, v, f"--sweep {sweep.text}")] for v in values])

    total = 1
    for axis in axes:
        total *= len(axis)
    if total > MAX_JOBS:
        raise BatchInputError(f"the sweeps make {total} jobs; at most {MAX_JOBS} fit in one batch")

    problems: list[str] = []
    bad_values: dict[tuple[str, str], str] = {}  # each bad value is reported once, not once per job
    combos = [list(itertools.chain.from_iterable(c)) for c in itertools.product(*axes)] if axes else [[]]
    rows_per_combo = (total // len(table.rows)) if table is not None and table.rows else 0
    width = max(4, len(str(len(combos))))
    resolved_jobs: list[tuple[str, dict[str, Any], str, str]] = []

    for index, choices in enumerate(combos):
        job_id = f"{index + 1:0{width}d}"
        saved: list[tuple[str, str, Any]] = []
        params: dict[str, Any] = {}
        ok = True
        try:
            for choice in choices:
                key = (choice.where, str(choice.value))
                if key in bad_values:
                    ok = False
                    continue
                try:
                    node = graph.find(choice.target.rpartition(".")[0].strip())
                    param = choice.target.rpartition(".")[2].strip()
                    saved.append((node.id, param, node.params.get(param, _ABSENT)))
                    apply_override(graph, f"{choice.target}={choice.value}")
                except GraphError as exc:
                    bad_values[key] = f"{choice.where}: value {str(choice.value)!r}: {exc}"
                    problems.append(bad_values[key])
                    ok = False
                    continue
                params[f"{node.id}.{param}"] = graph.nodes[node.id].params[param]
            # An empty CSV cell keeps the project's value; the manifest still shows it.
            for target in seen_targets:
                if target not in params:
                    node_id, _, param = target.rpartition(".")
                    params[target] = graph.nodes[node_id].params.get(param)
            params = {target: params[target] for target in seen_targets if target in params}
            row = table.rows[index // rows_per_combo] if table is not None and rows_per_combo else None
            source = f"{table.path}, row {row.row}" if table is not None and row is not None else ""
            if ok:
                for problem in validate(graph, targets):
                    problems.append(f"job {job_id} ({source or _label(params)}): {problem}")
                    ok = False
            resolved_jobs.append((job_id, params, row.name if row is not None else "", source))
        finally:
            # Put the project back as it was for the next job (cheaper than a copy per job).
            for node_id, param, old in reversed(saved):
                if old is _ABSENT:  # the file held no value for it (hand-edited): leave none behind
                    graph.nodes[node_id].params.pop(param, None)
                else:
                    graph.nodes[node_id].params[param] = old
        if len(problems) > MAX_PROBLEMS_SHOWN * 5:
            break  # enough to show; validating 100 000 broken jobs helps nobody

    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            shown.append(f"... and more problems like these ({len(problems) - MAX_PROBLEMS_SHOWN} not shown); "
                         "nothing was rendered")
        raise BatchInputError("\n".join(shown))

    varying = _varying([p for _, p, _, _ in resolved_jobs])
    field_names = _field_names(list(seen_targets))
    jobs = []
    for job_id, params, name, source in resolved_jobs:
        shown = {k: params[k] for k in varying if k in params}
        # Every swept value is a file-name field ({seed}, {guidance}...); slugged,
        # because "a fox, running" is not welcome in a file name.
        fields = {"job": job_id, **{field_names[k]: _slug(_text(v), 40) for k, v in params.items()}}
        label = _label(shown)
        folder_bits = [_slug(name, 40)] if name else []
        folder_bits += [f"{field_names[k]}-{_slug(_text(v), 24)}" for k, v in shown.items()]
        folder = _slug("_".join([job_id] + folder_bits), 120)
        jobs.append(JobSpec(job_id, folder, params, fields, source, f"{name} {label}".strip() if name else label))
    problems = _check_file_names(graph, targets, jobs)
    if problems:
        raise BatchInputError("\n".join(problems[:MAX_PROBLEMS_SHOWN]))
    return BatchPlan(jobs, varying)


# The fields the executor fills in every save node's file name (nodes/filenames.py).
ENGINE_NAME_FIELDS = filenames.ENGINE_FIELDS


def _check_file_names(graph: Any, targets: list[str], jobs: list[JobSpec]) -> list[str]:
    """A save node's file name may only use fields this batch fills, and must fit a file
    name: found now, not after the first job has rendered for an hour and failed to save."""
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    outputs = [n for n in targets if n in graph.nodes and graph.node_type(n).output_name({}) is not None]
    for job in jobs:
        for node_id in outputs:
            node = graph.nodes[node_id]
            params = {**node.params, **{k.rpartition(".")[2]: v for k, v in job.params.items()
                                        if k.rpartition(".")[0] == node_id}}
            named = graph.node_type(node_id).output_name(params)
            if named is None or (node_id, named[0]) in seen:
                continue
            seen.add((node_id, named[0]))
            fields = {"project": "p", "node": node_id, "seed": filenames.WIDEST_SEED, **job.name_fields}
            problem = filenames.name_problem(named[0], fields, ext=named[1], filled_by="this batch")
            if problem:
                where = f"job {job.id}: " if len(jobs) > 1 else ""
                label = node.label(graph.registry)
                problems.append(f"{where}node {label}: parameter 'filename': {problem}")
    return problems


def job_project(base: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The project dict one job renders: the batch's snapshot with the job's values set."""
    project = copy.deepcopy(base)
    for target, value in params.items():
        node_id, _, param = target.rpartition(".")
        project["nodes"][node_id]["params"][param] = value
    return project


# -- helpers ---------------------------------------------------------------------------
def _resolve_target(graph: Any, target: str, where: str) -> str:
    """'Title.param' or 'id.param' -> 'id.param', or a message naming the --sweep or the column."""
    from nodes.graph import GraphError
    node_name, _, param = target.rpartition(".")
    try:
        node = graph.find(node_name.strip())
    except GraphError as exc:
        raise BatchInputError(f"{where}: {exc}") from None
    node_type = graph.registry.get(node.type_id) if node.type_id in graph.registry else None
    if node_type is not None and param.strip() not in node_type.params:
        known = ", ".join(node_type.params) or "none"
        raise BatchInputError(f"{where}: {node.label(graph.registry)}: no parameter {param.strip()!r} "
                              f"(its parameters: {known})")
    return f"{node.id}.{param.strip()}"


def _varying(all_params: list[dict[str, Any]]) -> list[str]:
    """The parameters whose value differs between jobs, in the order first seen."""
    order: list[str] = []
    values: dict[str, set[str]] = {}
    for params in all_params:
        for key, value in params.items():
            if key not in values:
                order.append(key)
                values[key] = set()
            values[key].add(repr(value))
    missing_somewhere = {k for k in order if any(k not in p for p in all_params)}
    return [k for k in order if len(values[k]) > 1 or k in missing_somewhere]


def _field_names(keys: list[str]) -> dict[str, str]:
    """'t2v.seed' -> 'seed', unless two nodes' parameters share a name: then 't2v_seed'."""
    params = [k.rpartition(".")[2] for k in keys]
    return {k: (p if params.count(p) == 1 else k.replace(".", "_")) for k, p in zip(keys, params)}


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)


def _label(params: dict[str, Any]) -> str:
    return " ".join(f"{k.rpartition('.')[2]}={_text(v)}" for k, v in params.items())


_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")


def _slug(text: str, limit: int) -> str:
    """Safe in a file name on every OS; readable; short enough for deep paths."""
    slug = _UNSAFE.sub("-", text).strip("-.")
    return slug[:limit].rstrip("-.") or "x"


def node_titles(project: dict[str, Any]) -> dict[str, str]:
    """Node id -> how messages name it ("Text to Video (t2v)"), from a project dict."""
    try:
        from nodes.registry import default_registry
        registry = default_registry()
    except Exception:
        registry = None
    titles = {}
    for node_id, entry in project.get("nodes", {}).items():
        title = entry.get("title")
        if not title and registry is not None and entry.get("type") in registry:
            title = registry.get(entry["type"]).title
        titles[node_id] = f"{title or entry.get('type', node_id)} ({node_id})"
    return titles
