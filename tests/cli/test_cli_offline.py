"""The command line's contract for invalid input: exit 2, one clear line, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from nodes import project
from nodes.graph import Graph

ROOT = Path(__file__).resolve().parents[2]


def write_project(path: Path, mutate=None) -> Path:
    g = Graph()
    g.add_node("text", {"text": "a lighthouse at dusk"}, node_id="prompt")
    g.add_node("text_to_video", {"width": 64 * 2, "height": 128, "frames": 9, "steps": 2}, node_id="t2v")
    g.add_node("save_video", node_id="save")
    g.connect("prompt", "out", "t2v", "prompt")
    g.connect("t2v", "video", "save", "video")
    if mutate:
        mutate(g)
    project.save(project.Project(g), path)
    return path


def test_validate_ok(tmp_path, capsys):
    path = write_project(tmp_path / "ok.weft")
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: ok"


@pytest.mark.parametrize("override, message", [
    ("t2v.steps=0", "--set t2v.steps=0: Text to Video (t2v): parameter 'steps': 0 is below the minimum 1"),
    ("t2v.stepz=3", "no parameter 'stepz'"),
    ("nobody.steps=3", "there is no node 'nobody'"),
    ("t2v.steps", "expected NODE.PARAM=VALUE"),
    ("t2v.guidance=lots", "parameter 'guidance': expected a number, got 'lots'"),
])
def test_bad_overrides_exit_2_naming_node_and_parameter(tmp_path, capsys, override, message):
    path = write_project(tmp_path / "p.weft")
    assert main(["render", str(path), "--set", override, "--models", "tiny"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_invalid_project_lists_each_problem(tmp_path, capsys):
    def break_it(g):
        g.remove_link(g.link_into("t2v", "prompt"))
        g.nodes["t2v"].params["frames"] = 10
    path = write_project(tmp_path / "bad.weft", break_it)
    assert main(["render", str(path), "--models", "tiny"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"weft: {path}: node Text to Video (t2v): parameter 'frames': 10 is not of the form 4k+1; use 9 or 13",
        f"weft: {path}: node Text to Video (t2v): input 'prompt': needs a Text connected",
    ]


def test_unreadable_project_exits_2(tmp_path, capsys):
    path = tmp_path / "broken.weft"
    path.write_text("{ not json")
    assert main(["render", str(path)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["render", str(tmp_path / "missing.weft")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_nodes_json_lists_every_node_with_its_sockets_and_parameters(capsys):
    assert main(["nodes", "--json"]) == 0
    listed = {n["type"]: n for n in json.loads(capsys.readouterr().out)}
    for type_id in ("text", "load_image", "load_video", "load_audio", "text_to_video", "text_to_audio",
                    "add_audio_to_video", "save_video", "save_image", "save_audio"):
        assert type_id in listed
    t2v = listed["text_to_video"]
    assert [i["name"] for i in t2v["inputs"]] == ["prompt"]
    steps = next(p for p in t2v["params"] if p["name"] == "steps")
    assert steps["min"] == 1 and steps["help"]


def test_python_dash_m_app_is_the_same_command():
    out = subprocess.run([sys.executable, "-m", "app", "nodes"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and "text_to_video" in out.stdout


def test_the_domain_and_the_command_line_do_not_import_torch_or_qt():
    code = ("import sys, app.cli, nodes.project, nodes.validation, engines.client, engines.planner;"
            "from nodes.registry import default_registry; [t.describe() for t in default_registry()];"
            "bad = [m for m in ('torch', 'diffusers', 'transformers', 'PySide6') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_import_contracts_hold():
    linter = Path(sys.executable).with_name("lint-imports")
    if not linter.exists():
        pytest.skip("import-linter is not installed")
    out = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:]
