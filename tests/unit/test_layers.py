"""The layers hold: the domain works without the runtime, and the runtime's services are what the domain declares.

The import direction itself (app > engines > nodes) is import-linter's contract,
checked in tests/cli/test_cli_offline.py::test_import_contracts_hold.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from engines.services import EngineServices
from nodes.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]


def _members(protocol: type) -> list[str]:
    return [name for name, value in vars(protocol).items() if callable(value) and not name.startswith("_")]


def _parameters(fn) -> list[tuple[str, object, bool]]:
    """Name, kind and whether it has a default: what a caller's arguments depend on."""
    sig = inspect.signature(fn)
    return [(p.name, p.kind, p.default is not inspect.Parameter.empty) for p in sig.parameters.values()
            if p.name != "self"]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_service_member_exists_in_the_runtime_with_the_declared_parameters(service):
    implementation = getattr(EngineServices, service)
    protocol = SERVICES[service]
    members = _members(protocol)
    assert members, f"{protocol.__name__} declares nothing"
    for name in members:
        assert hasattr(implementation, name), f"ctx.{service}.{name} is declared in nodes/services.py " \
                                              f"but {implementation.__name__} has no {name}"
        declared = _parameters(getattr(protocol, name))
        actual = _parameters(getattr(implementation, name))
        assert actual == declared, f"ctx.{service}.{name}: the runtime takes {actual}, the domain declares {declared}"


def test_the_run_context_declares_every_service():
    from nodes.definition import RunContext

    declared = {name for name in RunContext.__annotations__}
    assert set(SERVICES) <= declared


def test_node_bodies_use_only_declared_services():
    """A node body calling ctx.edits.something_new would pass review and fail at render time."""
    import re

    used = set()
    for path in (ROOT / "nodes" / "catalogue").glob("*.py"):
        used |= set(re.findall(r"\bctx\.(media|streams|edits|audio|video|sound)\.(\w+)", path.read_text()))
    assert used, "no node uses a service: the search is broken"
    undeclared = sorted(f"ctx.{s}.{m}" for s, m in used if m not in _members(SERVICES[s]))
    assert not undeclared, f"used by nodes but not declared in nodes/services.py: {undeclared}"


def test_the_domain_loads_and_validates_an_example_project_without_the_runtime():
    # What `weft validate` and the GUI's checks rest on: no engines module, no torch.
    code = (
        "import sys\n"
        "from nodes import project\n"
        "from nodes.validation import validate\n"
        "p = project.load(sys.argv[1])\n"
        "bad = p.graph.nodes['t2v']\n"
        "bad.params['frames'] = 18\n"
        "problems = validate(p.graph)\n"
        "print([pr.message for pr in problems])\n"
        "print(sorted(m for m in sys.modules if m == 'engines' or m.startswith('engines.') or m == 'torch'))\n"
    )
    example = ROOT / "assets" / "examples" / "sketch_text_to_video.weft"
    done = subprocess.run([sys.executable, "-c", code, str(example)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    messages, modules = done.stdout.strip().splitlines()
    assert "17 frames only, not 18" in messages  # the model's rule, known to the domain
    assert modules == "[]"
