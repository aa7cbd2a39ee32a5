"""The command line: `weft render`, `weft validate`, `weft nodes`, `weft models`, `weft gui`.

This is a contract scripts rely on:
  exit 0   everything rendered
  exit 1   a node failed while rendering (the message names it)
  exit 2   the project or an override is invalid (one line per problem, no traceback)
  exit 130 cancelled with Ctrl-C (no half-written files are left behind)

The command line never imports torch itself: rendering happens in the engine
worker process, which it shares across all the projects of one call.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_CANCELLED = 0, 1, 2, 130

NOISE_WARNING = ("weft: using the tiny models: random weights built offline for testing. "
                 "Their output is noise, not a real video or sound.")


def sketch_notice(prepared: Sequence["Prepared"]) -> str | None:
    """What to tell an artist whose render uses the sketch models (toy models shipped with Weft)."""
    from nodes.model_catalogue import CATALOGUE
    used = sorted({str(node.params.get("model")) for item in prepared for node in item.project.graph.nodes.values()
                   if not node.bypassed and getattr(CATALOGUE.get(str(node.params.get("model"))), "shipped", False)})
    if not used:
        return None
    return (f"weft: using the sketch models ({', '.join(used)}): toy models of a toy world (flat shapes, simple "
            "sounds) trained by the Weft authors and shipped with Weft, not the real thing. For real video and "
            "sound, `weft models pull ID` (see `weft models list`) and pick that model instead.")


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit 2."""


# -- loading and checking projects ------------------------------------------------
@dataclass
class Prepared:
    path: Path
    project: Any
    targets: list[str]
    # Where relative input paths start and what {project} is: the project file's
    # folder and name, or, for `--from RENDER`, the ones the render recorded.
    project_dir: Path | None = None
    name: str | None = None
    # `--from RENDER`: the models profile the render was made with, and the
    # file-name fields it filled beyond the engine's own (a batch job's {job}...).
    models: str | None = None
    name_fields: dict[str, str] | None = None

    @property
    def folder(self) -> Path:
        return self.project_dir or self.path.parent

    @property
    def project_name(self) -> str:
        return self.name or self.path.stem


# Where `weft render` writes when not told (--output-dir).
DEFAULT_OUTPUT_DIR = Path("renders")


def prepare(path: str, overrides: Sequence[str], output_dir: Path | None = None) -> Prepared:
    from nodes import project as project_io

    try:
        project = project_io.load(path)
    except project_io.ProjectError as exc:
        raise UsageError(str(exc)) from None
    return _checked(Prepared(Path(path), project, []), overrides, output_dir)


def prepare_render(path: str, overrides: Sequence[str], output_dir: Path | None = None) -> Prepared:
    """`weft render --from FILE`: the project a render carries (engines.media.provenance)."""
    from engines.media.provenance import read_embedded
    from nodes import project as project_io

    if not Path(path).is_file():
        raise UsageError(f"--from {path}: no such file")
    if Path(path).suffix.lower() == project_io.SUFFIX:
        return prepare(path, overrides, output_dir)  # a project file is its own recipe
    embedded = read_embedded(path)
    if embedded is None:
        raise UsageError(f"--from {path}: the file carries no Weft project (only files that Weft's Save nodes "
                         "wrote do); open its project file instead")
    try:
        project = project_io.from_dict(embedded.project, source=f"{path} (its embedded project)")
    except project_io.ProjectError as exc:
        raise UsageError(str(exc)) from None
    item = Prepared(Path(path), project, [], project_dir=embedded.project_dir or Path(path).parent,
                    name=embedded.project_name, models=embedded.models, name_fields=embedded.name_fields)
    item = _checked(item, overrides, output_dir)
    node = embedded.render.get("node")
    if isinstance(node, str) and node in item.targets:
        item.targets = [node]  # the Save node that wrote this file, not every output of the project
    return item


def _checked(item: Prepared, overrides: Sequence[str], output_dir: Path | None = None) -> Prepared:
    """The project with its --set overrides, checked (UsageError naming every problem).

    Checked as it will render: input files exist and read as their media, Save
    names fit, and the output folder (``output_dir`` or ./renders) takes the files.
    """
    from engines.media.preflight import media_problem
    from engines.planner import output_nodes
    from nodes import project as project_io
    from nodes.graph import GraphError
    from nodes.validation import RenderPlace, validate

    path, project = item.path, item.project
    for assignment in overrides:
        try:
            project_io.apply_override(project.graph, assignment)
        except GraphError as exc:
            raise UsageError(f"{path}: --set {assignment}: {exc}") from None
    targets = output_nodes(project.graph)
    if not targets:
        raise UsageError(f"{path}: nothing to render: the project has no output node (Save Video, "
                         "Save Image, Save Audio)")
    place = RenderPlace(project_dir=item.folder, output_dir=output_dir or DEFAULT_OUTPUT_DIR,
                        name_fields={"project": item.project_name, **(item.name_fields or {})}, probe=media_problem)
    problems = validate(project.graph, targets, place=place)
    if problems:
        raise UsageError("\n".join(f"{path}: {p}" for p in problems))
    item.targets = targets
    return item


# -- weft render ---------------------------------------------------------------------
async def open_engine(models: str) -> Any:
    """The engine a render runs on, started: the resident one for these models when it runs
    (weft engine start: no worker start at all), else a fresh worker told to import the
    inference stack at once (while the projects are still being read)."""
    from engines.client import EngineClient
    from engines.resident import connect_if_running

    client = await connect_if_running(models)
    if client is not None:
        print(f"weft: rendering on the resident engine (pid {client.worker_info.get('server_pid')}; "
              "weft engine stop ends it)", file=sys.stderr)
        return client
    client = EngineClient(models=models, prewarm=True)
    await client.start()
    return client


async def render_projects(prepared: list[Prepared], *, output_dir: Path | None, models: str,
                          report: Callable[[dict[str, Any]], None], cancel_requested: asyncio.Event,
                          client_factory: Callable[..., Any] | None = None, client: Any = None) -> int:
    from nodes import project as project_io

    failures = 0
    if client is None:
        client = client_factory(models=models) if client_factory is not None else await open_engine(models)
    async with client:
        for item in prepared:
            if cancel_requested.is_set():
                return EXIT_CANCELLED
            if hasattr(report, "project"):
                report.project(item)
            out_dir = output_dir or DEFAULT_OUTPUT_DIR
            job_id = await client.submit(project_io.to_dict(item.project.graph, item.project.settings),
                                         targets=item.targets, output_dir=out_dir,
                                         project_dir=item.folder, project_name=item.project_name,
                                         name_fields=item.name_fields or {})
            waiter = asyncio.create_task(cancel_requested.wait())
            cancel_sent = False
            events = client.events(job_id).__aiter__()
            while True:
                next_event = asyncio.create_task(events.__anext__())
                done, _ = await asyncio.wait({next_event, waiter}, return_when=asyncio.FIRST_COMPLETED)
                if waiter in done and not cancel_sent:
                    cancel_sent = True
                    await client.cancel(job_id)
                try:
                    event = await next_event
                except StopAsyncIteration:
                    break
                report(event)
                if event["event"] == "job_finished":
                    if event["status"] == "cancelled" or cancel_sent:
                        waiter.cancel()
                        return EXIT_CANCELLED
                    if event["status"] != "ok":
                        failures += 1
                        graph = item.project.graph
                        for node, message in event.get("failed", {}).items():
                            label = graph.nodes[node].label(graph.registry) if node in graph.nodes else "job"
                            print(f"weft: {item.path}: node {label} failed: {message}", file=sys.stderr)
                    break
            waiter.cancel()
    return EXIT_FAILED if failures else EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    sources = list(getattr(args, "from_files", None) or [])
    if not args.projects and not sources:
        raise UsageError("weft render: which project? (weft render PROJECT..., or --from RENDER to render a "
                         "file Weft made again)")
    # The worker starts (and imports torch) while the projects are read and checked, when
    # its models profile is known before reading them (--from files record their own).
    early = args.models or ("default" if not sources else None)
    mode = "json" if args.json else ("bar" if sys.stderr.isatty() else "plain")

    async def main() -> int:
        starting = asyncio.create_task(open_engine(early)) if early else None
        try:
            prepared = await asyncio.to_thread(_prepare_all, args, sources)
        except BaseException:
            if starting is not None:
                with contextlib.suppress(Exception):
                    await (await starting).close()
            raise
        client = await starting if starting is not None and early == args.models else None
        if starting is not None and client is None:
            await (await starting).close()  # the files asked for the other profile
        cancel = asyncio.Event()
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, cancel.set)
        except (NotImplementedError, RuntimeError):
            pass
        from app.reporting import Reporter

        with Reporter(mode, previews=args.previews) as reporter:
            return await render_projects(prepared, output_dir=args.output_dir, models=args.models,
                                         report=reporter, cancel_requested=cancel, client=client)

    code = asyncio.run(main())
    if code == EXIT_CANCELLED:
        print("weft: cancelled", file=sys.stderr)
    return code


def _prepare_all(args: argparse.Namespace, sources: list[Path]) -> list[Prepared]:
    """Read and check every project (raises UsageError with what is wrong); settles args.models."""
    prepared = [prepare(p, args.set or [], args.output_dir) for p in args.projects]
    prepared += [prepare_render(p, args.set or [], args.output_dir) for p in sources]
    if args.quality:
        for item in prepared:  # this render only: the project file keeps its own choice
            item.project.settings["quality"] = args.quality
    if args.models is None:
        # A render made again uses the models it was made with, unless told otherwise.
        recorded = {item.models for item in prepared if item.models}
        if len(recorded) > 1:
            raise UsageError("the --from files were made with different models (tiny and default); "
                             "choose with --models")
        args.models = recorded.pop() if recorded else "default"
    notice = sketch_notice(prepared)
    if args.models == "tiny":
        print(NOISE_WARNING + (" The sketch models run their own shipped weights in every profile."
                               if notice else ""), file=sys.stderr)
    if notice:
        print(notice, file=sys.stderr)
    return prepared


# -- the other commands ---------------------------------------------------------------
def cmd_engine(args: argparse.Namespace) -> int:
    """weft engine start|status|stop (engines/resident.py)."""
    from engines import resident
    from engines.client import EngineError

    if args.action == "start":
        try:
            asyncio.run(resident.serve_forever(args.models))
        except EngineError as exc:
            print(f"weft: {exc}", file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK
    if args.action == "stop":
        if asyncio.run(resident.stop(args.models)):
            print(f"weft: stopped the engine for the {args.models} models")
            return EXIT_OK
        print(f"weft: no engine for the {args.models} models is running", file=sys.stderr)
        return EXIT_FAILED
    status = asyncio.run(resident.ping(resident.socket_path(args.models)))
    if status is None:
        print(f"no engine for the {args.models} models is running (start one with: weft engine start"
              + ("" if args.models == "default" else f" --models {args.models}") + ")")
        return EXIT_FAILED
    since = time.strftime("%H:%M:%S", time.localtime(status.get("started_at", 0)))
    print(f"engine for the {args.models} models: running since {since}, pid {status.get('server_pid')}, "
          f"worker {status.get('worker_pid')}, {status.get('renders', 0)} renders")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    for path in args.projects:
        prepare(path, args.set or [], args.output_dir)
        print(f"{path}: ok")
    return EXIT_OK


def cmd_nodes(args: argparse.Namespace) -> int:
    from nodes.registry import default_registry
    registry = default_registry()
    if args.json:
        print(json.dumps([t.describe() for t in registry], indent=2, default=str))
        return EXIT_OK
    for category, types in registry.categories().items():
        print(category)
        for t in types:
            ins = ", ".join(f"{i.name}: {i.type}" for i in t.inputs.values()) or "-"
            outs = ", ".join(f"{o.name}: {o.type}" for o in t.outputs.values()) or "-"
            print(f"  {t.type_id:<22} {t.title}  ({ins} -> {outs})")
    return EXIT_OK


def cmd_models(args: argparse.Namespace) -> int:
    from nodes.model_catalogue import CATALOGUE, SKETCH_NOTICE, get_spec, size_text
    if args.action == "list":
        from engines.models.manager import ModelManager
        manager = ModelManager(profile="default")
        rows = []
        for spec in CATALOGUE.values():
            flags = [f for f, on in (("non-commercial", spec.non_commercial), ("gated", spec.gated)) if on]
            status = "installed" if manager.is_installed(spec.id) else "not installed"
            if spec.shipped:
                status += f" ({SKETCH_NOTICE})" if status == "installed" else " (reinstall Weft)"
            rows.append((spec.id, spec.task, spec.source_text, size_text(spec.download_gb),
                         f"~{spec.vram_gb:g} GB", spec.licence + (f" ({', '.join(flags)})" if flags else ""),
                         status))
        if args.json:
            print(json.dumps([dict(zip(("id", "task", "repo", "download", "vram", "licence", "status"), r))
                              for r in rows], indent=2))
        else:
            widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
            for r in rows:
                print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        return EXIT_OK
    if args.action == "pull":
        _known_model(args)
        from engines.models.manager import ModelManager
        path = ModelManager(profile="default").pull(args.target)
        if get_spec(args.target).shipped:
            print(f"{args.target} ships with Weft: nothing to download ({path})")
        else:
            print(f"{args.target}: {path}")
        return EXIT_OK
    if args.action == "add":
        return _models_add(args)
    if args.action == "remove":
        from engines.models.user_models import remove
        if not args.target:
            raise UsageError("weft models remove: which of your models? (see weft models list)")
        spec = CATALOGUE.get(args.target)
        if spec is not None and spec.registered:
            remove(args.target)
            print(f"weft: forgot {args.target} (its files stay where they are)")
            return EXIT_OK
        raise UsageError(f"weft models remove: {args.target} is not one of the models you added "
                         "(weft models add registers them)")
    if args.action == "make-tiny":
        if not args.target:
            raise UsageError("weft models make-tiny: into which folder?")
        from engines.models.manager import ModelManager
        print(NOISE_WARNING, file=sys.stderr)
        ModelManager(profile="tiny").make_tiny(Path(args.target))
        print(f"tiny models written to {args.target}")
        return EXIT_OK
    if args.action == "calibrate-magcache":
        _known_model(args)
        if args.models == "tiny":
            print(NOISE_WARNING, file=sys.stderr)
        # The calibration renders with torch: in its own process, as every render does.
        command = [sys.executable, "-m", "engines.accel.magcache", args.target, "--models", args.models]
        if args.steps:
            command += ["--steps", str(args.steps)]
        import subprocess

        from engines.client import engine_process_env
        return EXIT_OK if subprocess.run(command, env=engine_process_env()).returncode == 0 else EXIT_FAILED
    raise UsageError(f"unknown action {args.action!r}")


def _models_add(args: argparse.Namespace) -> int:
    """`weft models add PATH [--as ID] [--like ID]`: register the artist's own weights (nothing is copied);
    `weft models add FILE --into ID`: a VAE or text encoder file for a model registered from a single file."""
    from engines.models.user_models import RegistrationError, add
    if not args.target:
        raise UsageError("weft models add: which file or folder? (a diffusers folder, a .safetensors "
                         "checkpoint, or a ComfyUI models folder)")
    try:
        report = add(Path(args.target), as_id=args.as_id, like=args.like, into=args.into)
    except RegistrationError as exc:
        print(f"weft models add: {exc}", file=sys.stderr)
        return EXIT_INVALID
    for model_id, text in report.added:
        print(f"{model_id}: {text}")
        # Which file each component comes from ("" for the base model's folder).
        for component, path in report.uses.get(model_id, []):
            where = path or "the base model's own"
            print(f"  {component}: {where}")
    for path, why in report.skipped:
        print(f"skipped {path}: {why}", file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    return EXIT_OK


def _known_model(args: argparse.Namespace) -> None:
    """`weft models ACTION ID`: the ID must name a catalogue model (exit 2 otherwise)."""
    from nodes.model_catalogue import UnknownModelError, get_spec
    if not args.target:
        raise UsageError(f"weft models {args.action}: which model? (see weft models list)")
    try:
        get_spec(args.target)
    except UnknownModelError as exc:
        raise UsageError(str(exc)) from None


def cmd_gui(args: argparse.Namespace) -> int:
    try:
        from app.ui.main import run_gui
    except ImportError as exc:
        raise UsageError(f"the studio cannot start: {exc}") from None
    return run_gui(getattr(args, "project", None), screenshot=getattr(args, "screenshot", None),
                   models=getattr(args, "models", None))


# -- argument parsing ---------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="weft", description="Weft: make video and sound with node graphs.")
    sub = parser.add_subparsers(dest="command")

    render = sub.add_parser("render", help="render every output node of one or more projects")
    render.add_argument("projects", nargs="*", metavar="PROJECT")
    render.add_argument("--from", dest="from_files", action="append", metavar="RENDER",
                        help="render again the project embedded in a file Weft rendered (MP4, MOV, WebM, PNG, "
                             "JPEG, WAV, FLAC), with the models it was made with (repeatable)")
    render.add_argument("--output-dir", type=Path, default=None, help="where files go (default: ./renders)")
    render.add_argument("--set", action="append", metavar="NODE.PARAM=VALUE",
                        help="override a parameter for this render (repeatable)")
    render.add_argument("--models", choices=("tiny", "default"), default=None,
                        help="tiny: random-weight test models that make noise; default: the real models "
                             "(the default, or with --from, what the file was made with)")
    render.add_argument("--json", action="store_true", help="one JSON event per line on stdout")
    render.add_argument("--previews", action="store_true", help="with --json, include step preview JPEGs")
    render.add_argument("--quality", choices=("draft", "final"), default=None,
                        help="draft: fewer steps, adaptive guidance, a block cache, lower resolution; "
                             "final: as authored (default: the project's own setting)")
    render.set_defaults(func=cmd_render)

    validate = sub.add_parser("validate", help="check projects without rendering")
    validate.add_argument("projects", nargs="+", metavar="PROJECT")
    validate.add_argument("--set", action="append", metavar="NODE.PARAM=VALUE")
    validate.add_argument("--output-dir", type=Path, default=None,
                          help="the folder the render would write to, checked for room (default: ./renders)")
    validate.set_defaults(func=cmd_validate)

    nodes = sub.add_parser("nodes", help="list every node type")
    nodes.add_argument("--json", action="store_true")
    nodes.set_defaults(func=cmd_nodes)

    models = sub.add_parser("models", help="the model catalogue: list, pull ID, add PATH, remove ID, "
                                           "make-tiny DIR, calibrate-magcache ID")
    models.add_argument("action", choices=("list", "pull", "add", "remove", "make-tiny", "calibrate-magcache"))
    models.add_argument("target", nargs="?")
    models.add_argument("--as", dest="as_id", metavar="ID",
                        help="add: the id your weights get (default: from the file or folder name)")
    models.add_argument("--like", metavar="ID",
                        help="add: the Weft model your weights run as (default: recognised from the file)")
    models.add_argument("--into", metavar="ID",
                        help="add: give a Wan 2.1 VAE or UMT5 text encoder file to ID, a model you registered "
                             "from a transformer file (a ComfyUI models folder pairs them by itself)")
    models.add_argument("--json", action="store_true")
    models.add_argument("--models", choices=("tiny", "default"), default="default",
                        help="calibrate-magcache: the real model or its tiny twin")
    models.add_argument("--steps", type=int, default=None, help="calibrate-magcache: steps of the calibration run")
    models.set_defaults(func=cmd_models)

    engine = sub.add_parser("engine", help="a resident engine that weft render uses while it runs: start, "
                                           "status, stop")
    engine.add_argument("action", choices=("start", "status", "stop"))
    engine.add_argument("--models", choices=("tiny", "default"), default="default")
    engine.set_defaults(func=cmd_engine)

    gui = sub.add_parser("gui", help="open the studio")
    gui.add_argument("project", nargs="?")
    gui.add_argument("--screenshot", type=Path, help="draw the window, save a PNG and exit")
    gui.add_argument("--models", choices=("tiny", "default"), default=None,
                     help="the models profile for this session (default: the one chosen in Settings, else default)")
    gui.set_defaults(func=cmd_gui)

    extend = _extensions()
    for register in extend:
        register(sub)
    return parser


def _extensions() -> list[Callable[[Any], None]]:
    """Sub-commands that live in their own modules (batch, queue)."""
    found = []
    for module_name in ("app.batch_cli",):
        try:
            module = __import__(module_name, fromlist=["register"])
        except ImportError:
            continue
        found.append(module.register)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # The model catalogue is domain data; this hands it the machine's facts (the artist's
    # registered weights, the shipped models' sizes) before any command reads it.
    import engines.models  # noqa: F401
    parser = build_parser()
    if not argv:
        argv = ["gui"]
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_INVALID
    try:
        return args.func(args)
    except UsageError as exc:
        for line in str(exc).splitlines():
            print(f"weft: {line}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("weft: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except BrokenPipeError:
        os._exit(EXIT_OK)


if __name__ == "__main__":
    sys.exit(main())
