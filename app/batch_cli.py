"""`weft batch` and `weft queue`: many variations of a project, rendered by a pool of workers.

Plugged into app/cli.py through its ``_extensions()`` hook (``register``).
The exit codes are weft render's:
  0   every job is done
  1   some jobs failed (the others were rendered; the summary names the failures)
  2   invalid input: a bad --sweep, CSV row or project; nothing was rendered
  130 cancelled with Ctrl-C; the queue keeps the state and --resume continues

Like the rest of the command line this never imports torch: the engine worker
processes (local, or inside Ray actors) do the rendering.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from app.cli import EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, NOISE_WARNING, UsageError

BATCH_HELP = """\
Render many variations of one project: every combination of the --sweep values,
or one job per row of a CSV file (columns named NODE.PARAM), or both (each row
with every combination). Each job renders into its own folder inside the output
folder; manifest.json and manifest.csv there list every job's parameters,
outputs, status, time and peak memory. The queue (DIR/.weft-queue.sqlite)
survives a crash: weft batch --resume DIR continues.

sweeps:  t2v.seed=1..16   t2v.guidance=3..7..0.5   t2v.steps=20,30,40
         prompt.text="a fox, running","a cat"   (quotes keep commas)
"""


def register(subparsers: Any) -> None:
    batch = subparsers.add_parser("batch", help="render many variations of a project (sweeps, CSV, Ray)",
                                  description=BATCH_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    batch.add_argument("project", nargs="?", metavar="PROJECT")
    batch.add_argument("--sweep", action="append", default=[], metavar="NODE.PARAM=V1,V2,...",
                       help="values for one parameter (repeatable: the jobs are every combination); "
                            "ranges for numbers: 1..16, 3..7..0.5")
    batch.add_argument("--from-csv", type=Path, metavar="FILE",
                       help="one job per row; the header names the columns NODE.PARAM (a 'name' column labels "
                            "the job, '#...' columns are notes, an empty cell keeps the project's value)")
    batch.add_argument("--set", action="append", default=[], metavar="NODE.PARAM=VALUE",
                       help="a value for every job (repeatable)")
    batch.add_argument("--output-dir", type=Path, metavar="DIR",
                       help="where the jobs' folders, the manifest and the queue go "
                            "(default: renders/PROJECT-batch-DATE-TIME)")
    batch.add_argument("--resume", type=Path, metavar="DIR",
                       help="continue the batch in DIR: jobs that are done are kept, the one in flight when it "
                            "stopped is rendered again")
    batch.add_argument("--workers", type=int, metavar="N",
                       help="worker processes (default: one per GPU, or 1 on a CPU); with --ray, actors")
    batch.add_argument("--ray", metavar="ADDRESS",
                       help="run the jobs as Ray actors: 'auto' (the cluster this machine belongs to, or a local "
                            "instance), or an address such as ray://head:10001")
    batch.add_argument("--models", choices=("tiny", "default"), default=None,
                       help="tiny: random-weight test models that make noise; default: the real models")
    batch.add_argument("--cache-dir", type=Path, metavar="DIR",
                       help="the result cache the workers share (default: WEFT_CACHE_DIR or the user cache; "
                            "on a cluster, a folder on shared storage)")
    batch.add_argument("--retries", type=int, default=None, metavar="N",
                       help="render a failed job up to N more times before marking it failed (default 0)")
    batch.add_argument("--dry-run", action="store_true", help="check every job and print the list; render nothing")
    batch.add_argument("--json", action="store_true", help="one JSON event per line on stdout")
    batch.set_defaults(func=cmd_batch)

    queue = subparsers.add_parser(
        "queue", help="the batch queue: list, cancel or retry jobs",
        description="Look at and change a batch's queue (DIR/.weft-queue.sqlite), also while it runs. "
                    "DIR defaults to the current folder; 'weft queue list' with no batch there lists "
                    "every batch started on this machine. JOB is a job id (0003, or 3).")
    queue.add_argument("action", choices=("list", "cancel", "retry"))
    queue.add_argument("items", nargs="*", metavar="[DIR] [JOB]",
                       help="the batch's folder, then job ids (none: every job the action applies to)")
    queue.add_argument("--force", action="store_true", help="retry: also render again jobs that are done")
    queue.add_argument("--json", action="store_true")
    queue.set_defaults(func=cmd_queue)


# -- weft batch --------------------------------------------------------------------------
def cmd_batch(args: argparse.Namespace) -> int:
    from app.batch.queue import QueueError
    from app.batch.sweep import BatchInputError

    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be 1 or more")
    if args.retries is not None and args.retries < 0:
        raise UsageError("--retries must be 0 or more")
    if args.ray and not args.dry_run:
        from app.batch.ray_runner import RayUnavailable, import_ray
        try:
            import_ray()  # before a queue is made for a batch that could not run
        except RayUnavailable as exc:
            raise UsageError(str(exc)) from None
    try:
        if args.resume is not None:
            queue = _resume(args)
        else:
            queue = _new_batch(args)
            if queue is None:
                return EXIT_OK  # a dry run
    except _DryRunDone:
        return EXIT_OK
    except (BatchInputError, QueueError) as exc:
        raise UsageError(str(exc)) from None
    with queue:
        return _render(queue, args)


def _new_batch(args: argparse.Namespace) -> Any:
    from app.batch.plan import build_jobs
    from app.batch.queue import BatchQueue
    from app.batch.sweep import parse_sweep, read_csv
    from engines.planner import output_nodes
    from nodes import project as project_io

    if not args.project:
        raise UsageError("which project? weft batch PROJECT --sweep NODE.PARAM=V1,V2,... "
                         "(or weft batch --resume DIR)")
    sweeps = [parse_sweep(text) for text in args.sweep]
    table = read_csv(args.from_csv) if args.from_csv else None
    try:
        project = project_io.load(args.project)
    except project_io.ProjectError as exc:
        raise UsageError(str(exc)) from None
    targets = output_nodes(project.graph)
    if not targets:
        raise UsageError(f"{args.project}: nothing to render: the project has no output node (Save Video, "
                         "Save Image, Save Audio)")
    plan = build_jobs(project, targets, sweeps=sweeps, table=table, sets=args.set)
    # The project's own values with the --set overrides: every job starts from this.
    snapshot = project_io.to_dict(project.graph, project.settings)
    output_dir = args.output_dir or Path("renders") / time.strftime(f"{Path(args.project).stem}-batch-%Y%m%d-%H%M%S")
    models = args.models or "default"
    if args.dry_run:
        _print_plan(plan, output_dir, args)
        return None
    if BatchQueue.exists(output_dir):
        raise UsageError(f"{output_dir} already holds a batch; continue it with weft batch --resume {output_dir}, "
                         "or choose another --output-dir")
    description = {"sweeps": list(args.sweep), "csv": str(args.from_csv) if args.from_csv else None,
                   "set": list(args.set), "varying": plan.varying}
    return BatchQueue.create(output_dir, project=snapshot, project_path=args.project, targets=targets,
                             models=models, jobs=plan.jobs, retries=args.retries or 0, description=description)


def _resume(args: argparse.Namespace) -> Any:
    from app.batch.queue import BatchQueue

    if args.project:
        raise UsageError(f"--resume {args.resume} continues a batch as it was queued; leave out PROJECT "
                         "(the batch keeps its own copy of the project)")
    if args.sweep or args.from_csv or args.set:
        raise UsageError("--resume cannot change a batch's jobs; start a new batch in another --output-dir "
                         "for other values")
    if args.output_dir and Path(args.output_dir).resolve() != Path(args.resume).resolve():
        raise UsageError("--resume DIR renders into DIR; leave out --output-dir")
    queue = BatchQueue.open(args.resume)
    info = queue.info()
    if args.models and args.models != info.models:
        queue.close()
        raise UsageError(f"{args.resume} was queued with --models {info.models}; resuming with --models "
                         f"{args.models} would mix outputs of different models")
    args.models = info.models
    if args.retries is not None:
        queue.set_retries(args.retries)
    if args.dry_run:
        left = queue.jobs(["pending", "running"])
        queue.close()
        for job in left:
            print(json.dumps({"event": "job_planned", "job": job.id, "folder": job.folder, "params": job.params})
                  if args.json else f"{job.id}  {job.folder}")
        if not args.json:
            print(f"{len(left)} jobs left to render in {args.resume}", file=sys.stderr)
        raise _DryRunDone()
    return queue


class _DryRunDone(Exception):
    pass


def _print_plan(plan: Any, output_dir: Path, args: argparse.Namespace) -> None:
    if args.json:
        for job in plan.jobs:
            print(json.dumps({"event": "job_planned", "job": job.id, "folder": str(output_dir / job.folder),
                              "params": job.params, "name_fields": job.name_fields, "source": job.source}))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    keys: list[str] = []
    for job in plan.jobs:
        keys += [k for k in job.params if k not in keys]
    table.add_column("job")
    for key in keys:
        table.add_column(key, overflow="ellipsis", max_width=40)
    table.add_column("folder", overflow="fold")
    for job in plan.jobs:
        table.add_row(job.id, *[Text(_show(job.params.get(k, ""))) for k in keys], Text(job.folder))
    Console(width=max(100, Console().width)).print(table)
    print(f"{len(plan.jobs)} job{'s' if len(plan.jobs) != 1 else ''} would render into {output_dir} "
          "(dry run: nothing rendered)", file=sys.stderr)


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _render(queue: Any, args: argparse.Namespace) -> int:
    from app.batch.local import LocalPool, default_workers
    from app.batch.progress import BatchReporter
    from app.batch.queue import QueueError
    from app.batch.ray_runner import RayPool, RayUnavailable
    from app.batch.run import run_batch

    info = queue.info()
    if info.models == "tiny":
        print(NOISE_WARNING, file=sys.stderr)
    counts = queue.counts()
    # No more workers than jobs left: an idle worker still costs a process and, on Ray, a GPU.
    todo = max(1, counts["pending"] + counts["running"])
    if args.ray:
        pool: Any = RayPool(args.ray, workers=args.workers, models=info.models, output_dir=queue.folder,
                            cache_dir=args.cache_dir, max_actors=todo)
    else:
        pool = LocalPool(min(args.workers or default_workers(), todo), models=info.models, cache_dir=args.cache_dir)
    mode = "json" if args.json else ("bar" if sys.stderr.isatty() else "plain")

    async def main() -> int:
        cancel = asyncio.Event()
        loop = asyncio.get_running_loop()
        presses = 0

        def interrupt() -> None:
            nonlocal presses
            presses += 1
            if presses == 1:
                print("\nweft: stopping: cancelling the jobs in flight (Ctrl-C again to quit at once; "
                      f"weft batch --resume {queue.folder} continues)", file=sys.stderr, flush=True)
                cancel.set()
            else:
                # The queue still says which jobs were in flight: --resume renders them again.
                os._exit(EXIT_CANCELLED)

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, interrupt)
            except (NotImplementedError, RuntimeError):
                pass
        with BatchReporter(mode) as reporter:
            result = await run_batch(queue, pool, reporter, cancel)
            reporter.summary(queue, result.exit_code, result.manifest)
        return result.exit_code

    from engines.client import EngineError
    try:
        code = asyncio.run(main())
    except (QueueError, RayUnavailable) as exc:
        raise UsageError(str(exc)) from None
    except EngineError as exc:
        # No worker could start at all (every job would fail the same way): say why once.
        print(f"weft: {exc}", file=sys.stderr)
        print(f"weft: nothing was rendered; weft batch --resume {queue.folder} tries again", file=sys.stderr)
        return EXIT_FAILED
    if code == EXIT_CANCELLED:
        print("weft: cancelled", file=sys.stderr)
    return code


# -- weft queue ------------------------------------------------------------------------------
def cmd_queue(args: argparse.Namespace) -> int:
    from app.batch.queue import BatchQueue, QueueError, known_batches

    folder, job_names = _split_items(args.items)
    if folder is None:
        if args.action != "list":
            raise UsageError(f"weft queue {args.action}: which batch? give its folder: "
                             f"weft queue {args.action} DIR [JOB...]")
        return _list_known(known_batches(), args.json)
    try:
        with BatchQueue.open(folder) as queue:
            ids = queue.resolve_ids(job_names) if job_names else None
            if args.action == "list":
                return _list_one(queue, ids, args.json)
            return _change(queue, args.action, ids, args.force, args.json)
    except QueueError as exc:
        raise UsageError(str(exc)) from None


def _split_items(items: list[str]) -> tuple[Path | None, list[str]]:
    """[DIR] [JOB...]: the first item is the batch's folder when it is a folder."""
    from app.batch.queue import BatchQueue
    if items and (Path(items[0]).is_dir() or BatchQueue.exists(items[0]) or os.sep in items[0]):
        return Path(items[0]), items[1:]
    if BatchQueue.exists(Path.cwd()):
        return Path.cwd(), items
    if items:
        raise UsageError(f"{items[0]} is not a batch folder, and there is no batch in the current folder")
    return None, []


def _list_known(folders: list[Path], as_json: bool) -> int:
    from app.batch.queue import BatchQueue, QueueError
    rows = []
    for folder in folders:
        try:
            with BatchQueue.open(folder) as queue:
                info, counts, run = queue.info(), queue.counts(), queue.active_run()
        except (QueueError, OSError, KeyError, ValueError):
            continue
        rows.append({"batch": str(folder), "project": info.project_path, "models": info.models,
                     "counts": counts, "running": run is not None})
    if as_json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print("no batches yet (weft batch PROJECT --sweep ... starts one)", file=sys.stderr)
        return EXIT_OK
    for row in rows:
        c = row["counts"]
        state = "running" if row["running"] else ("finished" if not (c["pending"] or c["running"]) else "stopped")
        print(f"{row['batch']}  {state}  {sum(c.values())} jobs: {c['done']} done, {c['failed']} failed, "
              f"{c['pending'] + c['running']} to do  ({Path(row['project']).name}, models {row['models']})")
    return EXIT_OK


def _list_one(queue: Any, ids: list[str] | None, as_json: bool) -> int:
    from app.batch.progress import print_table
    info, counts, run = queue.info(), queue.counts(), queue.active_run()
    jobs = [queue.job(i) for i in ids] if ids else queue.jobs()
    if as_json:
        print(json.dumps({"batch": str(queue.folder), "project": info.project_path, "models": info.models,
                          "counts": counts, "running": None if run is None else {"pid": run.pid, "host": run.host},
                          "jobs": [j.to_dict() for j in jobs]}, indent=2, default=str))
        return EXIT_OK
    state = f"running (pid {run.pid} on {run.host})" if run else "not running"
    print(f"batch {queue.folder}: {Path(info.project_path).name}, models {info.models}, {state}")
    print_table(queue, limit=10**9, only=ids)
    parts = [f"{counts[s]} {s}" for s in ("done", "failed", "cancelled", "pending", "running") if counts[s]]
    print(f"{sum(counts.values())} jobs: {', '.join(parts)}")
    return EXIT_OK


def _change(queue: Any, action: str, ids: list[str] | None, force: bool, as_json: bool) -> int:
    run = queue.active_run()
    if action == "cancel":
        changed = queue.cancel(ids)
        verb = "cancelled"
        after = ("the running batch stops them within a second" if run else None)
        unchanged_why = "only pending or running jobs can be cancelled"
    else:
        changed = queue.retry(ids)
        if force and ids:
            changed += [i for i in queue.rerender(ids) if i not in changed]
        verb = "queued again"
        after = ("the running batch picks them up" if run else f"render them with: weft batch --resume {queue.folder}")
        unchanged_why = ("only failed or cancelled jobs are retried (--force also renders done jobs again)")
    skipped = [i for i in (ids or []) if i not in changed]
    if as_json:
        print(json.dumps({"batch": str(queue.folder), "action": action, "changed": changed, "skipped": skipped,
                          "statuses": queue.statuses(skipped)}))
        return EXIT_OK
    if changed:
        print(f"{verb} {len(changed)} job{'s' if len(changed) != 1 else ''}: {', '.join(changed)}")
        if after:
            print(after)
    else:
        print(f"nothing {verb}")
    if skipped:
        statuses = queue.statuses(skipped)
        print("left as they are: " + ", ".join(f"{i} ({statuses.get(i)})" for i in skipped) + f"; {unchanged_why}")
    return EXIT_OK
