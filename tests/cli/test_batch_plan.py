"""weft batch: what the user types becomes the jobs they expect, and mistakes are caught before anything renders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.batch.plan import build_jobs, job_project
from app.batch.sweep import BatchInputError, parse_sweep, read_csv
from app.cli import main
from engines.planner import output_nodes
from nodes import project
from nodes.graph import Graph


def make_project(path: Path | None = None) -> project.Project:
    g = Graph()
    g.add_node("text", {"text": "a lighthouse at dusk"}, node_id="prompt")
    g.add_node("text_to_video", {"width": 128, "height": 128, "frames": 5, "steps": 2}, node_id="t2v", title="Shot")
    g.add_node("save_video", node_id="save")
    g.connect("prompt", "out", "t2v", "prompt")
    g.connect("t2v", "video", "save", "video")
    p = project.Project(g)
    if path is not None:
        project.save(p, path)
    return p


def jobs_for(*sweeps: str, table=None, sets=()):
    p = make_project()
    return build_jobs(p, output_nodes(p.graph), sweeps=[parse_sweep(s) for s in sweeps], table=table, sets=sets).jobs


def error_for(*sweeps: str, table=None) -> str:
    with pytest.raises(BatchInputError) as info:
        jobs_for(*sweeps, table=table)
    return str(info.value)


# -- sweeps -------------------------------------------------------------------------------
def test_sweeps_make_every_combination_first_sweep_slowest():
    jobs = jobs_for("t2v.seed=1,2", "t2v.guidance=3,5,7")
    assert [(j.params["t2v.seed"], j.params["t2v.guidance"]) for j in jobs] == [
        (1, 3.0), (1, 5.0), (1, 7.0), (2, 3.0), (2, 5.0), (2, 7.0)]
    assert [j.id for j in jobs] == ["0001", "0002", "0003", "0004", "0005", "0006"]


def test_integer_ranges_include_both_ends_and_mix_with_lists():
    assert [j.params["t2v.seed"] for j in jobs_for("t2v.seed=1..16")] == list(range(1, 17))
    assert [j.params["t2v.seed"] for j in jobs_for("t2v.seed=1..3,10,20")] == [1, 2, 3, 10, 20]
    assert [j.params["t2v.seed"] for j in jobs_for("t2v.seed=5..1")] == [5, 4, 3, 2, 1]
    assert [j.params["t2v.seed"] for j in jobs_for("t2v.seed=0..20..5")] == [0, 5, 10, 15, 20]


def test_float_range_with_a_step_lands_on_round_values_and_the_end():
    values = [j.params["t2v.guidance"] for j in jobs_for("t2v.guidance=3..7..0.5")]
    assert values == [3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0]
    assert [j.params["t2v.guidance"] for j in jobs_for("t2v.guidance=1.1..1.5..0.1")] == [1.1, 1.2, 1.3, 1.4, 1.5]


def test_quoted_values_keep_their_commas_and_titles_name_nodes():
    jobs = jobs_for('prompt.text="a fox, running",a cat', "Shot.steps=2,4")
    assert [j.params["prompt.text"] for j in jobs] == ["a fox, running"] * 2 + ["a cat"] * 2
    assert [j.params["t2v.steps"] for j in jobs] == [2, 4, 2, 4]  # the title 'Shot' resolves to the node t2v


def test_each_job_has_its_own_folder_and_file_name_fields():
    jobs = jobs_for("t2v.seed=1,2", "t2v.guidance=3..4..0.5", sets=["t2v.steps=3"])
    assert jobs[1].folder == "0002_seed-1_guidance-3.5"
    assert jobs[1].name_fields == {"job": "0002", "seed": "1", "guidance": "3.5"}
    assert len({j.folder for j in jobs}) == len(jobs)
    assert all(j.params.keys() == {"t2v.seed", "t2v.guidance"} for j in jobs)


def test_a_job_renders_the_snapshot_with_its_values_set():
    p = make_project()
    base = project.to_dict(p.graph)
    job = jobs_for("t2v.seed=7", "prompt.text=a cat")[0]
    rendered = job_project(base, job.params)
    assert rendered["nodes"]["t2v"]["params"]["seed"] == 7
    assert rendered["nodes"]["prompt"]["params"]["text"] == "a cat"
    assert base["nodes"]["t2v"]["params"]["seed"] == 0  # the snapshot itself is untouched


@pytest.mark.parametrize("sweep, message", [
    ("t2v.seed", "--sweep 't2v.seed': expected NODE.PARAM=V1,V2,..."),
    ("t2v.seed=", "--sweep t2v.seed=: no values after '='"),
    ("t2v.seed=1,,3", "--sweep t2v.seed=1,,3: value 2 is empty"),
    ("t2v.seed=1..3..0.5", "range '1..3..0.5': the parameter takes whole numbers, but the step is 0.5"),
    ("t2v.guidance=3..7..0", "range '3..7..0' has a step of 0"),
    ("t2v.guidance=7..3..0.5", "range '7..3..0.5' never reaches 3 with a step of 0.5"),
    ("t2v.guidance=3..x", "range '3..x': 'x' is not a number"),
    ("t2v.seed=1..2..3..4", "'1..2..3..4' is not a range"),
    ("t2v.guidance=3,25", "--sweep t2v.guidance=3,25: value '25': Shot (t2v): parameter 'guidance': 25 is above the maximum 20"),
    ("t2v.steps=two", "--sweep t2v.steps=two: value 'two': Shot (t2v): parameter 'steps': expected a whole number, got 'two'"),
    ("nobody.seed=1", "--sweep nobody.seed=1: there is no node 'nobody'"),
    ("t2v.sead=1", "--sweep t2v.sead=1: Shot (t2v): no parameter 'sead'"),
    ("t2v.seed=1..1000000", "at most 100000 jobs"),
])
def test_bad_sweeps_say_what_is_wrong(sweep, message):
    assert message in error_for(sweep)


def test_a_value_that_breaks_a_rule_between_parameters_names_the_job():
    message = error_for("t2v.frames=5,6")
    assert message == "job 0002 (frames=6): node Shot (t2v): parameter 'frames': 6 is not of the form 4k+1; use 5 or 9"


def test_file_names_can_use_the_swept_values_but_not_unknown_fields():
    p = make_project()
    p.graph.set_param("save", "filename", "shot_{seed}_g{guidance}_{job}")
    plan = build_jobs(p, output_nodes(p.graph), sweeps=[parse_sweep("t2v.seed=1,2"), parse_sweep("t2v.guidance=4")])
    assert plan.jobs[1].name_fields == {"job": "0002", "seed": "2", "guidance": "4"}
    p.graph.set_param("save", "filename", "shot_{take}")
    with pytest.raises(BatchInputError) as info:
        build_jobs(p, output_nodes(p.graph), sweeps=[parse_sweep("t2v.seed=1,2")])
    assert str(info.value) == ("job 0001: node Save Video (save): parameter 'filename': 'shot_{take}' uses {take}, "
                               "which this batch does not fill; known: {project}, {node}, {seed}, {version}, {job}")
    p.graph.set_param("save", "filename", "../{seed}")
    with pytest.raises(BatchInputError, match=r"'\.\./{seed}' climbs out of the output folder"):
        build_jobs(p, output_nodes(p.graph), sweeps=[parse_sweep("t2v.seed=1,2")])


def test_the_same_parameter_cannot_be_swept_twice():
    assert "t2v.seed is already varied by --sweep t2v.seed=1,2" in error_for("t2v.seed=1,2", "Shot.seed=3")


# -- CSV ----------------------------------------------------------------------------------
def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shots.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_one_job_per_csv_row_with_names_notes_and_empty_cells(tmp_path):
    path = write_csv(tmp_path, 'name,prompt.text,t2v.steps,#notes\n'
                               'fox,"a fox, running",4,wide shot\n'
                               '\n'
                               'cat,a cat,,keep the default steps\n')
    jobs = jobs_for(table=read_csv(path))
    assert [j.params for j in jobs] == [{"prompt.text": "a fox, running", "t2v.steps": 4},
                                         {"prompt.text": "a cat", "t2v.steps": 2}]
    assert jobs[0].folder.startswith("0001_fox_") and jobs[1].folder.startswith("0002_cat_")
    assert jobs[1].source == f"{path}, row 4"


def test_csv_rows_times_sweeps(tmp_path):
    path = write_csv(tmp_path, "prompt.text\na fox\na cat\n")
    jobs = jobs_for("t2v.seed=1..3", table=read_csv(path))
    assert [(j.params["prompt.text"], j.params["t2v.seed"]) for j in jobs] == [
        ("a fox", 1), ("a fox", 2), ("a fox", 3), ("a cat", 1), ("a cat", 2), ("a cat", 3)]


def test_semicolon_csv_from_a_spreadsheet_with_a_bom(tmp_path):
    path = tmp_path / "shots.csv"
    path.write_bytes("\ufeffprompt.text;t2v.guidance\na fox;4,5\n".replace("4,5", '"4.5"').encode("utf-8"))
    assert [j.params for j in jobs_for(table=read_csv(path))] == [{"prompt.text": "a fox", "t2v.guidance": 4.5}]


@pytest.mark.parametrize("text, message", [
    ("t2v.steps,prompt.text\n4,a fox\nlots,a cat\n",
     "shots.csv, row 3, column t2v.steps: value 'lots': Shot (t2v): parameter 'steps': expected a whole number"),
    ("t2v.steps,prompt.text\n4,a fox\n4,a cat\n0,a dog\n",
     "shots.csv, row 4, column t2v.steps: value '0': Shot (t2v): parameter 'steps': 0 is below the minimum 1"),
    ("t2v.steps,prompt.text\n4,a fox, running\n",
     "shots.csv, row 2: 3 cells but the first row names 2 columns (an unquoted comma in a value?"),
    ("t2v.steps,prompt\n4,a fox\n", "shots.csv, row 1, column B: 'prompt' is not NODE.PARAM"),
    ("t2v.stepz\n4\n", "shots.csv, column t2v.stepz: Shot (t2v): no parameter 'stepz'"),
    ("t2v.frames\n5\n6\n", "job 0002 (" ),
    ("t2v.steps,t2v.steps\n1,2\n", "column t2v.steps appears twice (columns A and B)"),
    ('t2v.steps,prompt.text\n4,"a fox\n', "shots.csv, row 2: cannot read the CSV"),
    ("t2v.steps\n", "no rows after the header"),
    ("", "the file is empty"),
])
def test_bad_csv_rows_name_the_row_and_column(tmp_path, text, message):
    path = write_csv(tmp_path, text)
    with pytest.raises(BatchInputError) as info:
        jobs_for(table=read_csv(path))
    assert message in str(info.value)
    if "job 0002" in message:
        assert "row 3" in str(info.value) and "6 is not of the form 4k+1" in str(info.value)


def test_planning_leaves_the_project_as_it_was(tmp_path):
    # The studio plans a batch on the open project. A value the file did not hold (a
    # hand-edited file without 'steps') was put back as None after planning, and then
    # saved with the project; it must be put back as absent.
    p = make_project()
    del p.graph.nodes["t2v"].params["steps"]  # as a hand-edited file leaves it
    before = {n.id: dict(n.params) for n in p.graph.nodes.values()}
    jobs = build_jobs(p, output_nodes(p.graph), sweeps=[parse_sweep("t2v.steps=2,3")]).jobs
    assert len(jobs) == 2
    assert {n.id: dict(n.params) for n in p.graph.nodes.values()} == before


# -- through the command line ---------------------------------------------------------------
def test_bad_csv_row_exits_2_and_renders_nothing(tmp_path, capsys):
    proj = tmp_path / "shot.weft"
    make_project(proj)
    csv_path = write_csv(tmp_path, "prompt.text,t2v.guidance\na fox,4\na cat,50\n")
    out = tmp_path / "out"
    assert main(["batch", str(proj), "--from-csv", str(csv_path), "--output-dir", str(out), "--models", "tiny"]) == 2
    err = capsys.readouterr().err
    assert f"weft: {csv_path}, row 3, column t2v.guidance: value '50'" in err
    assert "above the maximum 20" in err and "Traceback" not in err
    assert not out.exists()


def test_bad_sweep_exits_2_with_one_line(tmp_path, capsys):
    proj = tmp_path / "shot.weft"
    make_project(proj)
    assert main(["batch", str(proj), "--sweep", "t2v.seed=1..4..0.5", "--output-dir", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["weft: --sweep t2v.seed=1..4..0.5: range '1..4..0.5': the parameter takes whole numbers, "
                   "but the step is 0.5"]
    assert not (tmp_path / "o").exists()


def test_dry_run_lists_the_jobs_and_renders_nothing(tmp_path, capsys):
    proj = tmp_path / "shot.weft"
    make_project(proj)
    out = tmp_path / "out"
    args = ["batch", str(proj), "--sweep", "t2v.seed=1..3", "--sweep", "t2v.guidance=4,6", "--output-dir", str(out),
            "--dry-run"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "6 jobs would render into" in captured.err and "nothing rendered" in captured.err
    for folder in ("0001_seed-1_guidance-4", "0006_seed-3_guidance-6"):
        assert folder in captured.out
    assert not out.exists()
    assert main(args + ["--json"]) == 0
    planned = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [p["job"] for p in planned] == ["0001", "0002", "0003", "0004", "0005", "0006"]
    assert planned[5]["params"] == {"t2v.seed": 3, "t2v.guidance": 6.0}
    assert planned[5]["folder"] == str(out / "0006_seed-3_guidance-6")


def test_batch_needs_a_project_or_resume(tmp_path, capsys):
    assert main(["batch", "--sweep", "t2v.seed=1"]) == 2
    assert "which project?" in capsys.readouterr().err
    assert main(["batch", "--resume", str(tmp_path)]) == 2
    assert "no batch here" in capsys.readouterr().err
    assert main(["batch", str(tmp_path / "nope.weft")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_ray_not_installed_is_one_clear_line_and_no_batch_is_made(tmp_path, capsys, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    proj = tmp_path / "shot.weft"
    make_project(proj)
    out = tmp_path / "out"
    assert main(["batch", str(proj), "--sweep", "t2v.seed=1,2", "--ray", "auto", "--output-dir", str(out)]) == 2
    assert capsys.readouterr().err.strip() == ("weft: --ray needs Ray: pip install 'weft[batch]' "
                                               "(or pip install 'ray[default]>=2.40')")
    assert not out.exists()
