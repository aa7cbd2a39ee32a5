"""What `weft render` imports before it hands a project to the engine.

On the resident engine a render that only re-runs Save Video is decided by the
command line's own start: reading, checking and sending the project. PyAV,
OpenCV and numpy took more than half of that (0.2 of 0.4 s on this CPU) while
a project that loads no file never needs them, so they are imported only where
a file is read or a value is made. bench/peers.py measures the time; this
checks the cause, which a timed test could not do without flaking.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "av", "cv2", "torch", "PySide6")

CHECK = """
import sys
from app import cli
item = cli.prepare({project!r}, [])
assert item.targets, item
print(" ".join(m for m in {heavy!r} if m in sys.modules))
"""


def imported_by_prepare(project: Path) -> list[str]:
    done = subprocess.run([sys.executable, "-c", CHECK.format(project=str(project), heavy=HEAVY)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_checking_a_text_to_video_project_imports_no_media_or_array_library():
    assert imported_by_prepare(ROOT / "assets" / "examples" / "sketch_text_to_video.weft") == []


def test_a_project_that_loads_an_image_still_has_it_read_before_the_render(tmp_path):
    # The other side of the same change: the readers come in when a file is named, and the
    # file is still opened and checked before any model runs.
    from nodes import project as project_io
    from nodes.graph import Graph
    from nodes.registry import default_registry

    graph = Graph(default_registry())
    graph.add_node("load_image", {"path": str(tmp_path / "missing.png")}, node_id="load")
    graph.add_node("save_image", node_id="save")
    graph.connect("load", "image", "save", "image")
    path = tmp_path / "still.weft"
    path.write_text(project_io.dumps(graph))
    done = subprocess.run([sys.executable, "-m", "app", "validate", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "missing.png" in done.stderr + done.stdout
