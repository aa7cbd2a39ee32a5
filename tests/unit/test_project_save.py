"""Saving a project: the file keeps its permissions, and a killed save leaves
nothing behind once the project is saved again."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from nodes import project as project_io
from nodes.graph import Graph

ROOT = Path(__file__).resolve().parents[2]


def a_project() -> project_io.Project:
    g = Graph()
    g.add_node("text", {"text": "a kite over the dunes"}, node_id="prompt")
    g.add_node("text_to_video", node_id="t2v")
    g.add_node("save_video", node_id="save")
    g.connect("prompt", "out", "t2v", "prompt")
    g.connect("t2v", "video", "save", "video")
    return project_io.Project(g)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_saving_keeps_the_files_permissions(tmp_path):
    path = tmp_path / "shared.weft"
    project_io.save(a_project(), path)
    umask = os.umask(0)
    os.umask(umask)
    assert mode(path) == 0o666 & ~umask  # a new project: as any new file, not 0600
    for wanted in (0o644, 0o664, 0o600):
        os.chmod(path, wanted)
        project_io.save(a_project(), path)
        assert mode(path) == wanted
    assert project_io.load(path).graph.nodes.keys() == {"prompt", "t2v", "save"}


KILLED_SAVE = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from nodes import project as project_io
from tests.unit.test_project_save import a_project
# Killed after the project is written to its temporary file, before it is moved into place.
os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
project_io.save(a_project(), Path({path!r}))
"""


def test_a_killed_save_leaves_its_temporary_file_only_until_the_next_save(tmp_path):
    path = tmp_path / "shot.weft"
    project_io.save(a_project(), path)
    before = path.read_text()
    killed = subprocess.run([sys.executable, "-c", KILLED_SAVE.format(root=str(ROOT), path=str(path))],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    (left,) = hidden(tmp_path)  # what a killed save leaves: the project is untouched
    assert left.startswith(".shot.weft.") and path.read_text() == before
    # Some time later the artist saves again: the leftover goes.
    old = time.time() - project_io.STALE_TEMP_SECONDS - 5
    os.utime(tmp_path / left, (old, old))
    project_io.save(a_project(), path)
    assert hidden(tmp_path) == []


def test_a_save_in_progress_elsewhere_is_left_alone(tmp_path):
    path = tmp_path / "shot.weft"
    other = tmp_path / ".shot.weft.0123456789ab.tmp"   # another process's save, a moment ago
    other.write_text("{}")
    unrelated = tmp_path / ".notes.txt.tmp"
    unrelated.write_text("mine")
    old = time.time() - 3600
    os.utime(unrelated, (old, old))
    project_io.save(a_project(), path)
    assert hidden(tmp_path) == [".notes.txt.tmp", ".shot.weft.0123456789ab.tmp"]
