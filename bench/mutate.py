"""Mutation check: does the test suite notice when a core module's behaviour breaks?

    .venv/bin/python bench/mutate.py                      # every core, up to 25 mutants each
    .venv/bin/python bench/mutate.py nodes/project.py --limit 0   # one module, every mutant

Each mutant is a one-token change to one line of a core module (a comparison
turned around, ``and`` for ``or``, ``True`` for ``False``, a number off by
one, ``+`` for ``-``, a ``return`` of a value replaced by ``return None``).
The module's own tests run against it (in a copy of the tree, so the working
tree is never touched); a mutant is *killed* when a test fails or the run
times out, and *survives* when every test still passes. Survivors are printed
with file, line and change: each is behaviour no test guards. The score is
killed / mutants.

Mutants are picked by a fixed seed from every candidate in the module, so two
runs of one revision test the same mutants and their scores compare.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The cores of the domain and the engine, with the tests that claim to guard them
# (the fast ones: a mutant must be judged in seconds).
CORES: dict[str, list[str]] = {
    "nodes/graph.py": ["tests/unit/test_graph.py"],
    "nodes/project.py": ["tests/unit/test_project.py", "tests/unit/test_project_save.py"],
    "nodes/migrations.py": ["tests/unit/test_migrations.py"],
    "nodes/numbers.py": ["tests/unit/test_numbers.py"],
    "nodes/validation.py": ["tests/unit/test_validation.py"],
    "nodes/video_rules.py": ["tests/unit/test_validation.py", "tests/unit/test_video_rules.py",
                             "tests/engine/test_video_nodes.py"],
    "engines/edits.py": ["tests/engine/test_edit_nodes.py"],
    "engines/audio_ops.py": ["tests/engine/test_audio_nodes.py"],
    "engines/cache.py": ["tests/engine/test_executor.py", "tests/engine/test_cache.py"],
}

_COMPARE_SWAP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                 ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_BINOP_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult,
               ast.Div: ast.Mult}


@dataclass(frozen=True)
class Mutant:
    module: str
    line: int
    change: str
    source: str  # the whole mutated module


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def candidates(module: str) -> list[tuple[int, int, str]]:
    """(index of the node in ast.walk order, line, what the change is) for every possible mutant."""
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    skip = _docstring_lines(tree)
    found = []
    for index, node in enumerate(ast.walk(tree)):
        line = getattr(node, "lineno", 0)
        if line in skip:
            continue
        if isinstance(node, ast.Compare) and type(node.ops[0]) in _COMPARE_SWAP:
            new = _COMPARE_SWAP[type(node.ops[0])]
            found.append((index, line, f"{type(node.ops[0]).__name__} -> {new.__name__}"))
        elif isinstance(node, ast.BoolOp):
            found.append((index, line, "and -> or" if isinstance(node.op, ast.And) else "or -> and"))
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAP:
            found.append((index, line, f"{type(node.op).__name__} -> {_BINOP_SWAP[type(node.op)].__name__}"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            found.append((index, line, f"{node.value} -> {not node.value}"))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            found.append((index, line, f"{node.value} -> {node.value + 1}"))
        elif isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            found.append((index, line, "return value -> return None"))
    return found


def make(module: str, index: int, line: int, change: str) -> Mutant:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    node = list(ast.walk(tree))[index]
    if isinstance(node, ast.Compare):
        node.ops[0] = _COMPARE_SWAP[type(node.ops[0])]()
    elif isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.BinOp):
        node.op = _BINOP_SWAP[type(node.op)]()
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        node.value = not node.value
    elif isinstance(node, ast.Constant):
        node.value = node.value + 1
    elif isinstance(node, ast.Return):
        node.value = None
    return Mutant(module, line, change, ast.unparse(tree))


def copy_tree(into: Path) -> Path:
    """The project without its virtual environment, history and caches."""
    target = into / "tree"
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(
        ".venv", ".git", "__pycache__", ".pytest_cache", "renders", "*.egg-info", "mutants"))
    return target


def run_tests(tree: Path, tests: list[str], timeout: float) -> str:
    """"killed" or "survived" (a timeout counts as killed: the mutant hung the code)."""
    env = dict(os.environ, PYTHONPATH=str(tree), QT_QPA_PLATFORM="offscreen", HF_HUB_OFFLINE="1")
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                               "-m", "not slow", *tests], cwd=tree, env=env, capture_output=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return "killed"
    if done.returncode == 5:  # no tests ran: the selection is wrong, not the mutant caught
        raise SystemExit(f"no tests were collected from {tests}")
    return "survived" if done.returncode == 0 else "killed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"modules to mutate (default: {', '.join(CORES)})")
    parser.add_argument("--limit", type=int, default=25, help="mutants per module, 0 for all (default 25)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant's tests")
    args = parser.parse_args(argv)
    modules = args.modules or list(CORES)
    unknown = [m for m in modules if m not in CORES]
    if unknown:
        parser.error(f"no tests are named for {', '.join(unknown)}; add them to CORES in bench/mutate.py")
    totals = {"killed": 0, "survived": 0}
    survivors: list[Mutant] = []
    with tempfile.TemporaryDirectory(prefix="weft-mutants-") as scratch:
        tree = copy_tree(Path(scratch))
        for module in modules:
            found = candidates(module)
            picked = random.Random(f"{args.seed}:{module}").sample(found, min(len(found), args.limit or len(found)))
            # A clean run first: a test that fails without any mutant would count every mutant as killed.
            if run_tests(tree, CORES[module], args.timeout) != "survived":
                raise SystemExit(f"the tests for {module} fail without a mutant; fix them first")
            original = (tree / module).read_text(encoding="utf-8")
            killed = 0
            started = time.monotonic()
            for index, line, change in sorted(picked, key=lambda c: c[1]):
                mutant = make(module, index, line, change)
                (tree / module).write_text(mutant.source, encoding="utf-8")
                outcome = run_tests(tree, CORES[module], args.timeout)
                totals[outcome] += 1
                if outcome == "killed":
                    killed += 1
                else:
                    survivors.append(mutant)
                    print(f"  survived: {module}:{line}  {change}", flush=True)
            (tree / module).write_text(original, encoding="utf-8")
            print(f"{module}: {killed}/{len(picked)} killed (of {len(found)} possible mutants), "
                  f"{time.monotonic() - started:.0f} s", flush=True)
    total = totals["killed"] + totals["survived"]
    if total:
        print(f"score: {totals['killed']}/{total} mutants killed = {100 * totals['killed'] / total:.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
