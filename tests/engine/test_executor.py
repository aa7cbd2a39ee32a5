"""The planner and executor, on small model-free node types (fast, no torch)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from engines.cache import ResultCache
from engines.executor import Executor, Job
from engines.planner import make_plan
from nodes import types as T
from nodes.definition import Input, NodeError, NodeType, Output, Param
from nodes.graph import Graph
from nodes.registry import Registry
from nodes.values import Image

RUNS: list[str] = []


class Solid(NodeType):
    type_id = "solid"
    title = "Solid"
    value = Param.int(0, min=0, max=255)
    image = Output(T.IMAGE)

    def run(self, ctx, *, value, **_):
        RUNS.append(ctx.node_id)
        return {"image": Image(np.full((4, 4, 3), value, np.uint8))}


class Add(NodeType):
    type_id = "add"
    title = "Add"
    a = Input(T.IMAGE)
    b = Input(T.IMAGE, required=False)
    amount = Param.int(0, min=-255, max=255)
    image = Output(T.IMAGE)

    def run(self, ctx, *, a, b, amount, **_):
        RUNS.append(ctx.node_id)
        out = a.pixels.astype(int) + amount + (b.pixels.astype(int) if b is not None else 0)
        return {"image": Image(np.clip(out, 0, 255).astype(np.uint8))}


class Fail(NodeType):
    type_id = "fail"
    title = "Fail"
    a = Input(T.IMAGE)
    image = Output(T.IMAGE)

    def run(self, ctx, **_):
        RUNS.append(ctx.node_id)
        raise NodeError("parameter 'nothing': this node always fails")


class Slow(NodeType):
    """Pretends to denoise: 100 steps of 20 ms, checking for cancel between steps."""
    type_id = "slow"
    title = "Slow"
    a = Input(T.IMAGE)
    image = Output(T.IMAGE)

    def run(self, ctx, *, a, **_):
        RUNS.append(ctx.node_id)
        for step in range(100):
            time.sleep(0.02)
            ctx.progress(step + 1, 100)
        return {"image": a}


class Sink(NodeType):
    type_id = "sink"
    title = "Sink"
    is_output = True
    cacheable = False
    image = Input(T.IMAGE)

    def run(self, ctx, *, image, **_):
        RUNS.append(ctx.node_id)
        ctx.stats["mean"] = float(image.pixels.mean())
        return {}


REGISTRY = Registry([Solid, Add, Fail, Slow, Sink])


@pytest.fixture(autouse=True)
def clear_runs():
    RUNS.clear()


def chain() -> Graph:
    g = Graph(REGISTRY)
    g.add_node("solid", {"value": 10}, node_id="base")
    g.add_node("add", {"amount": 5}, node_id="grade")
    g.add_node("sink", node_id="out")
    g.add_node("solid", {"value": 99}, node_id="unused")
    g.connect("base", "image", "grade", "a")
    g.connect("grade", "image", "out", "image")
    return g


def run(executor, graph, **kw):
    events = []
    executor.emit = events.append
    result = executor.run(Job("j", graph, **kw))
    return result, events


def finished(events):
    return {e["node"]: e for e in events if e["event"] == "node_finished"}


def test_plan_runs_only_what_outputs_need_in_dependency_order():
    plan = make_plan(chain())
    assert plan.targets == ("out",)
    assert plan.order == ("base", "grade", "out")


def test_results_are_cached_and_a_downstream_change_reruns_only_downstream(tmp_path):
    executor = Executor(ResultCache(tmp_path))
    g = chain()
    result, events = run(executor, g)
    assert result["status"] == "ok"
    assert RUNS == ["base", "grade", "out"]
    assert finished(events)["out"]["stats"]["mean"] == 15.0

    RUNS.clear()
    g.set_param("grade", "amount", 7)
    result, events = run(executor, g)
    assert RUNS == ["grade", "out"]
    done = finished(events)
    assert done["base"]["cached"] is True and done["grade"]["cached"] is False
    assert done["out"]["stats"]["mean"] == 17.0


def test_cache_survives_a_new_executor_on_the_same_folder(tmp_path):
    run(Executor(ResultCache(tmp_path)), chain())
    RUNS.clear()
    _, events = run(Executor(ResultCache(tmp_path)), chain())
    assert RUNS == ["out"]
    assert finished(events)["grade"]["cached"]
    files = finished(events)["grade"]["results"]["image"]["files"]
    assert np.load(files["pixels"]).mean() == 15


def test_memory_budget_spills_to_disk_and_results_come_back(tmp_path):
    cache = ResultCache(tmp_path, memory_budget=60)  # one 48-byte image fits, not two
    executor = Executor(cache)
    run(executor, chain())
    assert cache.memory_bytes <= 60
    RUNS.clear()
    g = chain()
    g.set_param("grade", "amount", 1)  # needs 'base' back from disk
    result, events = run(executor, g)
    assert result["status"] == "ok" and finished(events)["out"]["stats"]["mean"] == 11.0


def test_a_failing_branch_does_not_stop_an_independent_one(tmp_path):
    g = chain()
    g.add_node("fail", node_id="broken")
    g.add_node("sink", node_id="out2")
    g.connect("base", "image", "broken", "a")
    g.connect("broken", "image", "out2", "image")
    result, events = run(Executor(ResultCache(tmp_path)), g)
    assert result["status"] == "failed"
    assert result["failed"] == {"broken": "parameter 'nothing': this node always fails",
                                "out2": "not run because broken failed"}
    assert "out" in finished(events)
    failed = [e for e in events if e["event"] == "node_failed"]
    assert [(e["node"], e["kind"]) for e in failed] == [("broken", "error"), ("out2", "skipped")]


def test_cancel_between_steps_returns_quickly(tmp_path):
    g = chain()
    g.add_node("slow", node_id="slow")
    g.connect("grade", "image", "slow", "a")
    g.connect("slow", "image", "out", "image")
    cancel = threading.Event()
    executor = Executor(ResultCache(tmp_path))
    events = []

    def emit(event):
        events.append(event)
        if event["event"] == "progress" and event["step"] == 5:
            threading.Timer(0.0, cancel.set).start()
            cancel.wait(1)
            emit.cancelled_at = time.perf_counter()

    executor.emit = emit
    result = executor.run(Job("j", g), cancel)
    assert result["status"] == "cancelled"
    assert time.perf_counter() - emit.cancelled_at < 1.0
    assert "out" not in RUNS
    assert [e["kind"] for e in events if e["event"] == "node_failed"] == ["cancelled"]


def test_cancel_between_two_model_free_nodes_stops_the_run(tmp_path):
    # Nodes without steps never call progress: the executor itself must look between nodes.
    cancel = threading.Event()
    executor = Executor(ResultCache(tmp_path))
    events = []

    def emit(event):
        events.append(event)
        if event["event"] == "node_finished" and event["node"] == "base":
            cancel.set()

    executor.emit = emit
    result = executor.run(Job("j", chain()), cancel)
    assert result["status"] == "cancelled"
    assert RUNS == ["base"], "nothing after the cancel may run"
    assert {e["node"] for e in events if e["event"] == "node_finished"} == {"base"}


def test_bypass_passes_the_input_through(tmp_path):
    g = chain()
    g.set_bypassed("grade", True)
    result, events = run(Executor(ResultCache(tmp_path)), g)
    assert "grade" not in RUNS
    assert finished(events)["out"]["stats"]["mean"] == 10.0


def test_changing_a_loaded_file_invalidates_its_cache(tmp_path):
    from nodes.registry import default_registry
    from engines import media
    from nodes.values import Image as Img
    picture = tmp_path / "in.png"
    media.write_image(picture, Img(np.full((8, 8, 3), 50, np.uint8)))
    g = Graph(default_registry())
    g.add_node("load_image", {"path": "in.png"}, node_id="load")
    g.add_node("save_image", node_id="save")
    g.connect("load", "image", "save", "image")
    executor = Executor(ResultCache(tmp_path / "cache"))
    job = dict(project_dir=tmp_path, output_dir=tmp_path / "out")
    first, _ = run(executor, g, **job)
    time.sleep(0.01)
    media.write_image(picture, Img(np.full((8, 8, 3), 200, np.uint8)))
    second, events = run(executor, g, **job)
    assert finished(events)["load"]["cached"] is False
    # Each render writes a new file (nodes.filenames): the second one is _0002.
    assert media.read_image(tmp_path / "out" / "untitled_save.png").pixels.mean() == 50
    assert media.read_image(tmp_path / "out" / "untitled_save_0002.png").pixels.mean() == 200


def test_each_node_reports_its_own_peak_memory_even_when_it_freed_it():
    from engines.executor import _MemorySampler

    baseline = _MemorySampler()
    with baseline:
        pass
    with _MemorySampler() as big:
        scratch = np.ones(40_000_000)  # 320 MB, touched, then freed before the node ends
        del scratch
    with _MemorySampler() as small:  # the next node does not inherit the last one's peak
        np.ones(1000).sum()
    assert big.peak - baseline.peak > 250 * 2**20
    assert small.peak < big.peak - 250 * 2**20
