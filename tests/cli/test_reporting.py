"""What weft render and weft batch print: one reporter (app/reporting.py), three modes."""

from __future__ import annotations

import json

import pytest

from app.batch.progress import BatchReporter
from app.reporting import Reporter

# An error as a user can cause it: a prompt or a path with rich markup-like brackets in it.
ERROR = "Save Video (save): cannot write 'out/[/bold] take [1].mp4': Permission denied"

EVENTS = [
    {"event": "node_started", "job": "j1", "node": "t2v"},
    {"event": "progress", "job": "j1", "node": "t2v", "step": 3, "total": 20, "preview": "AAAA"},
    {"event": "node_finished", "job": "j1", "node": "t2v", "stats": {"seconds": 6.6, "peak_memory_bytes": 812 * 2**20,
                                                                     "nfe": 40}, "outputs": []},
    {"event": "node_finished", "job": "j1", "node": "save", "cached": True, "outputs": ["renders/clip.mp4"]},
    {"event": "node_failed", "job": "j1", "node": "save", "error": ERROR},
]


@pytest.mark.parametrize("mode", ["bar", "plain"])
def test_a_render_prints_each_node_and_an_error_with_brackets_as_it_is(mode, capsys):
    with Reporter(mode) as report:
        report.titles = {"t2v": "Text to Video (t2v)", "save": "Save Video (save)"}
        for event in EVENTS:
            report(event)
    err = capsys.readouterr().err
    assert "+ Text to Video (t2v): 6.60 s, peak 812 MiB, 40 evaluations" in err
    assert "= Save Video (save): from cache\n    wrote renders/clip.mp4" in err
    # Not read as rich markup (that raised MarkupError, or ate the brackets).
    assert "x Save Video (save): " + ERROR in err


def test_json_lines_leave_out_previews_unless_asked(capsys):
    with Reporter("json") as report:
        report(EVENTS[1])
    with Reporter("json", previews=True) as report:
        report(EVENTS[1])
    without, with_preview = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert "preview" not in without and without["step"] == 3
    assert with_preview["preview"] == "AAAA"


def test_a_batch_reports_through_the_same_reporter(capsys):
    with BatchReporter("json") as report:
        report.node_event(EVENTS[1])
        report.warn("disk nearly full")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["event"] == "progress" and "preview" not in lines[0]
    assert lines[1] == {"event": "warning", "message": "disk nearly full"}


def test_an_unknown_mode_is_refused_by_name():
    with pytest.raises(ValueError, match="json, bar or plain, not 'tty'"):
        Reporter("tty")
