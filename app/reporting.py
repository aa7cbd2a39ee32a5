"""What ``weft render`` and ``weft batch`` show while they run: one reporter, three modes.

- ``json`` (``--json``): one JSON object per line on stdout, for scripts; the
  engine's events as they come (previews only when asked for).
- ``bar`` (a terminal): rich progress bars on stderr, and a line for each
  finished node or job printed above them.
- ``plain`` (not a terminal, e.g. a log file): the same lines, no bars.

``Reporter`` is a render's: a bar per running node. A batch
(``app.batch.progress.BatchReporter``) is the same reporter with one bar for
the whole batch and one per worker, so both commands print, colour and stop
their bars the same way and a fix to one is a fix to both.
"""

from __future__ import annotations

import json
import sys
from typing import Any


class Reporter:
    """Shows a render's events: JSON lines, a progress bar per running node, or plain lines."""

    def __init__(self, mode: str, previews: bool = False):
        if mode not in ("json", "bar", "plain"):
            raise ValueError(f"report mode must be json, bar or plain, not {mode!r}")
        self.mode = mode
        self.previews = previews
        self.titles: dict[str, str] = {}
        self._progress: Any = None
        self._node_tasks: dict[tuple[str, str], Any] = {}

    # -- lifecycle -------------------------------------------------------------
    def progress_columns(self) -> tuple[Any, ...]:
        from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
        return (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn())

    def __enter__(self) -> "Reporter":
        if self.mode == "bar":
            from rich.progress import Progress
            self._progress = Progress(*self.progress_columns(), console=_console(), transient=False)
            self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop_bars()

    def stop_bars(self) -> None:
        """Take the bars off the terminal (before a summary table, and at the end)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    # -- a render's events ---------------------------------------------------------
    def project(self, prepared: Any) -> None:
        """A project is about to render: messages name its nodes by title ("Text to Video (t2v)")."""
        graph = prepared.project.graph
        self.titles = {n.id: n.label(graph.registry) for n in graph.nodes.values()}

    def __call__(self, event: dict[str, Any]) -> None:
        self.node_event(event)

    def node_event(self, event: dict[str, Any]) -> None:
        """One of the engine's events (node_started, progress, node_finished, node_failed)."""
        if self.mode == "json":
            self.emit(event if self.previews else {k: v for k, v in event.items() if k != "preview"})
            return
        self.show_node(event)

    def show_node(self, event: dict[str, Any]) -> None:
        kind, node = event["event"], event.get("node", "")
        label = self.titles.get(node, node)
        if kind == "node_failed":
            self.say(f"x {label}: {event.get('error')}")
        elif kind == "node_finished":
            self._remove_node_bar(event)
            self.say(finished_line(label, event))
        elif self._progress is not None:
            key = (event.get("job", ""), node)
            if kind == "node_started":
                self._node_tasks[key] = self._progress.add_task(label, total=None)
            elif kind == "progress" and key in self._node_tasks:
                self._progress.update(self._node_tasks[key], completed=event["step"], total=event["total"])

    def _remove_node_bar(self, event: dict[str, Any]) -> None:
        task = self._node_tasks.pop((event.get("job", ""), event.get("node", "")), None)
        if task is not None and self._progress is not None:
            self._progress.remove_task(task)

    # -- output ------------------------------------------------------------------------
    def emit(self, event: dict[str, Any]) -> None:
        """One JSON line on stdout."""
        print(json.dumps(event, default=str), flush=True)

    def say(self, line: str) -> None:
        """A line for the person watching, on stderr (above the bars when they show).
        Never rich markup (a prompt or an error message may hold [brackets]), and never
        wrapped (a path broken over two lines cannot be copied)."""
        if self._progress is not None:
            self._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            print(line, file=sys.stderr, flush=True)


def finished_line(label: str, event: dict[str, Any]) -> str:
    """"+ Text to Video (t2v): 6.60 s, peak 812 MiB, 40 evaluations" and the files it wrote."""
    stats = event.get("stats", {})
    if event.get("bypassed"):
        return f"- {label}: bypassed"
    if event.get("cached"):
        line = f"= {label}: from cache"
    else:
        line = f"+ {label}: {stats.get('seconds', 0):.2f} s"
        if stats.get("peak_memory_bytes"):
            line += f", peak {mib(stats['peak_memory_bytes'])} MiB"
        if "nfe" in stats:
            line += f", {stats['nfe']} evaluations"
    return line + wrote_lines(event.get("outputs", []))


def wrote_lines(paths: list[str]) -> str:
    return "".join(f"\n    wrote {p}" for p in paths)


def mib(nbytes: float) -> str:
    return f"{nbytes / 2**20:.0f}"


def _console() -> Any:
    from rich.console import Console
    return Console(stderr=True)
