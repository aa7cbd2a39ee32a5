"""Runs from the studio: queueing, feedback on the nodes, cancel, validation.

These use a stand-in engine that speaks the engine client's API and the
worker's event protocol, so they take milliseconds; ``test_engine.py`` runs
the real worker on the tiny models.
"""

from __future__ import annotations

import asyncio

import pytest

from engines.planner import make_plan
from nodes import project as project_io

pytestmark = pytest.mark.ui


class FakeEngine:
    """The EngineClient API over a scripted worker: one job at a time, a few steps per node."""

    instances: list["FakeEngine"] = []

    def __init__(self, models: str = "default", steps: int = 3, step_delay: float = 0.01, **kwargs):
        self.models, self.kwargs = models, kwargs
        self.steps, self.step_delay = steps, step_delay
        self.alive = False
        self.submitted: list[dict] = []
        self.queues: dict[str, asyncio.Queue] = {}
        self.cancelled: set[str] = set()
        self.lock = asyncio.Lock()
        FakeEngine.instances.append(self)

    async def submit(self, project, *, targets=None, output_dir=".", project_dir=".", project_name="untitled",
                     job_id=None, **kw):
        self.alive = True
        self.queues[job_id] = asyncio.Queue()
        self.submitted.append({"job": job_id, "targets": targets, "project": project, "output_dir": output_dir})
        asyncio.get_event_loop().create_task(self._play(job_id, project, targets))
        return job_id

    async def _play(self, job, project, targets):
        q = self.queues[job]
        async with self.lock:
            graph = project_io.from_dict(project).graph
            plan = make_plan(graph, targets)
            q.put_nowait({"event": "job_started", "job": job, "nodes": list(plan.order), "targets": targets})
            for node in plan.order:
                q.put_nowait({"event": "node_started", "job": job, "node": node})
                for step in range(1, self.steps + 1):
                    await asyncio.sleep(self.step_delay)
                    if job in self.cancelled:
                        q.put_nowait({"event": "node_failed", "job": job, "node": node, "kind": "cancelled",
                                      "error": "cancelled"})
                        q.put_nowait({"event": "job_finished", "job": job, "status": "cancelled",
                                      "failed": {node: "cancelled"}, "outputs": []})
                        return
                    q.put_nowait({"event": "progress", "job": job, "node": node, "step": step,
                                  "total": self.steps})
                t = graph.node_type(node)
                results = {name: {"kind": out.type.name, "files": {"frames": f"/tmp/{node}.npy"}}
                           for name, out in t.outputs.items()}
                q.put_nowait({"event": "node_finished", "job": job, "node": node, "cached": False,
                              "outputs": [], "results": results,
                              "stats": {"seconds": 0.5, "peak_memory_bytes": 300 << 20}})
            q.put_nowait({"event": "job_finished", "job": job, "status": "ok", "failed": {}, "outputs": [],
                          "seconds": 1.0})

    async def events(self, job_id):
        q = self.queues[job_id]
        while True:
            event = await q.get()
            yield event
            if event["event"] == "job_finished":
                return

    async def cancel(self, job_id):
        self.cancelled.add(job_id)

    def kill(self):
        self.alive = False

    async def close(self):
        self.alive = False


@pytest.fixture
def fake_window(make_window):
    FakeEngine.instances.clear()
    return make_window(client_factory=FakeEngine)


def spy(obj, name):
    calls = []
    original = getattr(obj, name)

    def record(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    setattr(obj, name, record)
    return calls


def build(doc, steps=4):
    prompt = doc.add_node("text", (0, 0), {"text": "a lighthouse at dusk"})
    t2v = doc.add_node("text_to_video", (350, 0), {"steps": steps, "width": 64, "height": 48, "frames": 9})
    save = doc.add_node("save_video", (700, 0))
    doc.connect(prompt, "out", t2v, "prompt")
    doc.connect(t2v, "video", save, "video")
    return prompt, t2v, save


def test_run_shows_progress_then_time_memory_and_the_video(fake_window, qtbot):
    w = fake_window
    doc = w.document
    prompt, t2v, save = build(doc)
    viewer = w._api(w.viewer)
    shown = spy(viewer, "show_result")
    logged = spy(w._api(w.log_panel), "append")
    queued = spy(w._api(w.queue), "add_job")
    seen_running = []
    doc.node_status_changed.connect(lambda n: seen_running.append(n) if doc.node_status(n).state == "running" else None)

    job = w.run()
    assert job is not None and queued and queued[0][0] == job
    assert not w.runner.jobs[job].status == "done"  # run() returned before anything ran
    qtbot.waitUntil(lambda: w.runner.jobs[job].status == "done", timeout=5000)
    assert t2v in seen_running
    status = doc.node_status(t2v)
    assert status.state == "done" and status.seconds == 0.5 and status.memory == 300 << 20
    (engine,) = FakeEngine.instances
    assert engine.submitted[0]["targets"] == [save]  # every output node when nothing is selected
    assert any(node == t2v and results["video"]["kind"] == "Video" for node, results in shown)
    assert any("done" in args[0] for args in logged)
    assert not w.cancel_action.isEnabled()


def test_a_graph_with_problems_is_not_sent_and_the_nodes_say_why(fake_window, qtbot):
    w = fake_window
    doc = w.document
    prompt, t2v, save = build(doc)
    doc.disconnect([doc.graph.link_into(t2v, "prompt")])
    doc.set_param(t2v, "frames", 10)
    logged = spy(w._api(w.log_panel), "append")
    assert w.run() is None
    assert not FakeEngine.instances or not FakeEngine.instances[0].submitted
    wheres = {p.where for p in doc.problems[t2v]}
    assert wheres == {"input 'prompt'", "parameter 'frames'"}
    badge = w.view.gscene.nodes[t2v]._badge_text()
    assert "needs a Text connected" in badge or "4k+1" in badge
    assert any("problem" in args[0] for args in logged)
    # Fixing the problems clears the marks, without running.
    doc.set_param(t2v, "frames", 9)
    doc.connect(prompt, "out", t2v, "prompt")
    qtbot.waitUntil(lambda: not doc.problems, timeout=3000)


def test_a_missing_input_file_is_found_before_the_run_and_the_node_says_where(fake_window, qtbot, tmp_path):
    w = fake_window
    doc = w.document
    still = doc.add_node("load_image", (0, 0), {"path": str(tmp_path / "gone.png")})
    prompt = doc.add_node("text", (0, 200), {"text": "a red circle moves right on a blue background"})
    i2v = doc.add_node("image_to_video", (350, 0), {"steps": 2, "frames": 9})
    save = doc.add_node("save_video", (700, 0))
    doc.connect(still, "image", i2v, "first_frame")
    doc.connect(prompt, "out", i2v, "prompt")
    doc.connect(i2v, "video", save, "video")
    assert w.run() is None
    assert not FakeEngine.instances or not FakeEngine.instances[0].submitted
    (problem,) = doc.problems[still]
    assert problem.where == "parameter 'path'" and f"no such file: {tmp_path / 'gone.png'}" in problem.message
    assert "no such file" in w.view.gscene.nodes[still]._badge_text()
    # The file appears where the node says: the mark goes, and the run is sent.
    from engines import media
    from nodes.values import Image
    import numpy as np
    media.write_image(tmp_path / "gone.png", Image(pixels=np.zeros((32, 32, 3), np.uint8)))
    doc.set_param(still, "path", str(tmp_path / "gone.png"))
    qtbot.waitUntil(lambda: not doc.problems, timeout=3000)
    assert w.run() is not None


def test_several_runs_queue_and_cancel_stops_the_current_one(fake_window, qtbot):
    w = fake_window
    doc = w.document
    prompt, t2v, save = build(doc)
    first = w.run()
    qtbot.waitUntil(lambda: bool(FakeEngine.instances and FakeEngine.instances[0].submitted), timeout=3000)
    engine = FakeEngine.instances[0]
    engine.steps, engine.step_delay = 50, 0.02
    doc.set_param(t2v, "seed", 7)  # the artist keeps working while it runs
    second = w.run()
    assert first != second
    qtbot.waitUntil(lambda: w.runner.jobs[first].status == "running", timeout=3000)
    assert w.runner.jobs[second].status == "queued"
    assert w.cancel_action.isEnabled()
    w.cancel_action.trigger()
    qtbot.waitUntil(lambda: w.runner.jobs[first].status == "cancelled", timeout=3000)
    engine.steps, engine.step_delay = 3, 0.01
    qtbot.waitUntil(lambda: w.runner.jobs[second].status == "done", timeout=10000)
    assert engine.submitted[1]["project"]["nodes"][t2v]["params"]["seed"] == 7


def test_run_only_the_selected_nodes(fake_window, qtbot):
    w = fake_window
    doc = w.document
    prompt, t2v, save = build(doc)
    doc.select([t2v])
    job = w.run()
    qtbot.waitUntil(lambda: w.runner.jobs[job].status == "done", timeout=5000)
    (engine,) = FakeEngine.instances
    assert engine.submitted[0]["targets"] == [t2v]
    assert doc.node_status(save).state == ""  # not part of this run


def test_selecting_a_node_shows_its_last_result(fake_window, qtbot):
    w = fake_window
    doc = w.document
    prompt, t2v, save = build(doc)
    job = w.run()
    qtbot.waitUntil(lambda: w.runner.jobs[job].status == "done", timeout=5000)
    shown = spy(w._api(w.viewer), "show_result")
    doc.select([save])  # a Save node shows what feeds it
    assert shown and shown[-1][0] == t2v


def test_nothing_to_run_says_so(fake_window):
    w = fake_window
    w.document.add_node("text", (0, 0))
    assert w.run() is None
