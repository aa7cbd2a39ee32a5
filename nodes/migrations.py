"""Upgrades of project files saved by older versions of Weft.

Each step is a small pure function from the dict of schema N to the dict of
schema N+1, registered in ``STEPS``; ``upgrade`` applies them in order. Each
step has its own test with a file of the old version. Node types upgrade their
own parameters (``NodeType.migrate``), so a renamed parameter of one node type
does not need a schema step.

Schema history:
  1  first release: nodes by id, parameters by name, links "node.socket",
     a separate layout section.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

CURRENT_SCHEMA = 1

Step = Callable[[dict[str, Any]], dict[str, Any]]

# STEPS[n] upgrades a schema-n file to schema n+1.
STEPS: dict[int, Step] = {}


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
    while version < current:
        step = steps.get(version)
        if step is None:
            raise MigrationError(f"schema {version} files cannot be upgraded (no migration to {version + 1})")
        data = step(data)
        version += 1
        data.setdefault("weft", {})["schema"] = version
        if notes is not None:
            notes.append(f"project file upgraded to schema {version}")
    return data
