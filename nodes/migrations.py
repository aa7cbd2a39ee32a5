"""Upgrades of project files saved by older versions of Weft.

Each step is a small pure function from the dict of schema N to the dict of
schema N+1, registered in ``STEPS``; ``upgrade`` applies them in order. A step
never changes the dict it is given; what it cannot carry forward it drops, and
says so in the list of notes it is given (shown to the artist when the file
opens). Each step has its own test with a file of the old version. Node types upgrade their
own parameters (``NodeType.migrate``), so a renamed parameter of one node type
does not need a schema step.

Schema history:
  1  first release: nodes by id, parameters by name, links "node.socket",
     a separate layout section.
  2  reroute dots (bends of a link's drawing) move from ``settings.reroutes``
     to ``layout.reroutes``: {"src.socket>dst.socket": [[x, y], ...]}. The
     settings are sent to the engine with every run and are for what renders;
     a reroute changes nothing that renders.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any, Callable

CURRENT_SCHEMA = 2

# step(data, notes) -> the upgraded data; ``data`` is left as it was, and a line
# is appended to ``notes`` for anything the step had to drop.
Step = Callable[[dict[str, Any], list[str]], dict[str, Any]]

# A reroute table key: "src.socket>dst.socket".
_REROUTE_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}\.[^>]+>[A-Za-z0-9_-]{1,64}\.[^>]+$")


def _is_point(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value))


def reroutes_to_layout(data: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """Schema 1 -> 2: ``settings.reroutes`` moves to ``layout.reroutes``.

    Schema 1 had no layout entry for reroute dots, so the editor kept them in
    the settings, which go to the engine with every run. A table that is not
    of the form {"src.socket>dst.socket": [[x, y], ...]} (edited by hand, say)
    cannot be drawn: its bad entries are dropped, with a note, rather than
    refusing the whole file over a drawing detail.
    """
    data = copy.deepcopy(data)  # the result shares nothing with the input
    settings = data.get("settings")
    if not isinstance(settings, dict) or "reroutes" not in settings:
        return data
    table = settings.pop("reroutes")
    kept: dict[str, list[list[float]]] = {}
    if isinstance(table, dict):
        bad = 0
        for key, points in table.items():
            if (isinstance(key, str) and _REROUTE_KEY.match(key) and isinstance(points, list)
                    and all(_is_point(p) for p in points)):
                if points:
                    kept[key] = [[float(x), float(y)] for x, y in points]
            else:
                bad += 1
        if bad:
            notes.append(f"the reroute dots of {bad} link{'s' if bad != 1 else ''} could not be read and were "
                         "dropped (settings.reroutes)")
    else:
        notes.append("the reroute dots could not be read and were dropped (settings.reroutes is not a table)")
    layout = data.setdefault("layout", {}) if kept else None
    if isinstance(layout, dict):
        # A schema-1 layout has no "reroutes"; should one be there anyway and
        # not be a table, it is left for the file check to report.
        existing = layout.setdefault("reroutes", {})
        if isinstance(existing, dict):
            existing.update(kept)
    return data


# STEPS[n] upgrades a schema-n file to schema n+1.
STEPS: dict[int, Step] = {
    1: reroutes_to_layout,
}


class MigrationError(ValueError):
    pass


def upgrade(data: dict[str, Any], notes: list[str] | None = None, *, steps: dict[int, Step] | None = None,
            current: int = CURRENT_SCHEMA) -> dict[str, Any]:
    """The project dict brought to the current schema (a copy; the input is untouched)."""
    steps = STEPS if steps is None else steps
    header = data.get("weft")
    version = header.get("schema") if isinstance(header, dict) else None
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise MigrationError("weft.schema: expected a whole number (the file's schema version)")
    if version > current:
        raise MigrationError(f"saved by a newer Weft (schema {version}; this Weft reads up to {current}). "
                             "Update Weft to open it.")
    if version == current:
        return data
    data = copy.deepcopy(data)
    step_notes: list[str] = [] if notes is None else notes
    while version < current:
        step = steps.get(version)
        if step is None:
            raise MigrationError(f"schema {version} files cannot be upgraded (no migration to {version + 1})")
        data = step(data, step_notes)
        version += 1
        data.setdefault("weft", {})["schema"] = version
        if notes is not None:
            notes.append(f"project file upgraded to schema {version}")
    return data
