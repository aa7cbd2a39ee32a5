"""The batch queue and its coordinator: jobs survive a dead coordinator, are never
rendered twice, are retried and cancelled as asked; `weft queue list|cancel|retry`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.batch.plan import JobSpec
from app.batch.queue import BatchQueue, QueueError, known_batches
from app.batch.run import run_batch
from app.cli import main
from nodes import project
from nodes.graph import Graph

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def own_data_dir(tmp_path, monkeypatch):
    """The list of known batches goes to a temp folder, never the user's."""
    monkeypatch.setenv("WEFT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WEFT_CACHE_DIR", str(tmp_path / "cache"))


def specs(n: int) -> list[JobSpec]:
    return [JobSpec(f"{i:04d}", f"{i:04d}_seed-{i}", {"t2v.seed": i}, {"job": f"{i:04d}", "seed": str(i)},
                    label=f"seed={i}") for i in range(1, n + 1)]


def new_queue(folder: Path, n: int = 3, retries: int = 0) -> BatchQueue:
    snapshot = {"weft": {"schema": 1}, "nodes": {"t2v": {"type": "text_to_video", "params": {"seed": 0}}},
                "links": [], "layout": {}, "settings": {}}
    return BatchQueue.create(folder, project=snapshot, project_path=folder.parent / "shot.weft", targets=["save"],
                             models="tiny", jobs=specs(n), retries=retries)


# -- the queue on its own ----------------------------------------------------------------
def test_jobs_are_claimed_in_order_and_done_once(tmp_path):
    q = new_queue(tmp_path / "out")
    run = q.begin_run()
    first = q.claim(run, "w1")
    second = q.claim(run, "w2")
    assert (first.id, second.id) == ("0001", "0002")
    assert first.status == "running" and first.attempts == 1 and first.worker == "w1"
    assert q.finish("0001", run, "done", seconds=1.5, peak_memory_bytes=2**20, outputs=["a.mp4"])
    assert not q.finish("0001", run, "done"), "a job is finished once"
    assert q.counts() == {"pending": 1, "running": 1, "done": 1, "failed": 0, "cancelled": 0}
    assert q.job("0001").outputs == ["a.mp4"] and q.job("0001").seconds == 1.5
    assert q.resolve_ids(["2", "0003", "0001_seed-1"]) == ["0002", "0003", "0001"]
    with pytest.raises(QueueError, match="no job '9'"):
        q.resolve_ids(["9"])


def test_a_second_coordinator_is_refused_while_the_first_is_alive(tmp_path):
    q = new_queue(tmp_path / "out")
    q.begin_run()
    with pytest.raises(QueueError, match="another weft batch .* is working on this batch"):
        BatchQueue.open(tmp_path / "out").begin_run()


def test_a_new_batch_does_not_overwrite_an_old_one(tmp_path):
    new_queue(tmp_path / "out").close()
    with pytest.raises(QueueError, match="already holds a batch; continue it with weft batch --resume"):
        new_queue(tmp_path / "out")


def test_jobs_in_flight_when_the_coordinator_died_go_back_to_pending(tmp_path):
    folder = tmp_path / "out"
    new_queue(folder, 4).close()
    # A real coordinator process that claims two jobs, finishes one and dies.
    code = ("import os, sys; from app.batch.queue import BatchQueue;"
            f"q = BatchQueue.open({str(folder)!r}); r = q.begin_run();"
            "a = q.claim(r, 'w1'); b = q.claim(r, 'w2'); q.finish(a.id, r, 'done'); os._exit(9)")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False, timeout=60)
    q = BatchQueue.open(folder)
    assert q.statuses(["0001", "0002"]) == {"0001": "done", "0002": "running"}
    assert q.active_run() is None
    run = q.begin_run()
    assert q.recover(run) == ["0002"]
    job = q.job("0002")
    assert job.status == "pending" and job.attempts == 0  # not held against --retries
    assert [q.claim(run, "w1").id for _ in range(3)] == ["0002", "0003", "0004"]
    assert q.claim(run, "w1") is None


def test_cancel_and_retry_move_the_right_jobs(tmp_path):
    q = new_queue(tmp_path / "out", 4)
    run = q.begin_run()
    q.claim(run, "w1")
    q.finish("0001", run, "failed", error="boom")
    q.claim(run, "w1")
    q.finish("0002", run, "done")
    assert q.cancel(["0002", "0003"]) == ["0003"]          # done jobs stay done
    assert q.job("0003").error == "cancelled by the user"
    assert q.retry() == ["0001", "0003"]                    # failed and cancelled
    assert q.job("0001").attempts == 0
    assert q.rerender(["0002"]) == ["0002"]
    assert q.counts()["pending"] == 4


# -- the coordinator, with a stand-in pool ------------------------------------------------------
class FakeSlot:
    """Renders by sleeping; a job's behaviour comes from the test."""

    def __init__(self, name: str, behaviour: dict[str, list[str]], log: list[tuple[str, str]]):
        self.name = name
        self.behaviour = behaviour
        self.log = log
        self.cancelled: dict[str, asyncio.Event] = {}

    def describe(self):
        return {"worker": self.name, "kind": "fake"}

    async def run(self, spec, on_event):
        self.log.append((self.name, spec.job))
        what = self.behaviour.get(spec.job, ["ok"])
        kind = what.pop(0) if len(what) > 1 else what[0]
        on_event({"event": "node_started", "node": "t2v", "job": spec.engine_job})
        on_event({"event": "node_finished", "node": "t2v", "cached": False, "key": f"k{spec.job}",
                  "stats": {"seconds": 0.01, "peak_memory_bytes": 1000}, "job": spec.engine_job})
        if kind == "slow":
            event = self.cancelled.setdefault(spec.engine_job, asyncio.Event())
            try:
                await asyncio.wait_for(event.wait(), 10)
                return {"status": "cancelled", "failed": {"t2v": "cancelled"}, "outputs": []}
            except asyncio.TimeoutError:
                pass
        await asyncio.sleep(0.01)
        if kind == "fail":
            return {"status": "failed", "failed": {"t2v": "out of memory"}, "outputs": []}
        if kind == "crash":
            raise RuntimeError("the worker could not start")
        out = Path(spec.output_dir) / f"{spec.name_fields['job']}.mp4"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("video")
        return {"status": "ok", "failed": {}, "outputs": [str(out)], "seconds": 0.02}

    async def cancel(self, spec):
        self.cancelled.setdefault(spec.engine_job, asyncio.Event()).set()


class FakePool:
    def __init__(self, n: int, behaviour=None):
        self.log: list[tuple[str, str]] = []
        self.slots = [FakeSlot(f"w{i + 1}", behaviour or {}, self.log) for i in range(n)]

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        pass


class Recorder:
    def __init__(self):
        self.events: list[tuple] = []

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.events.append((name, args, kwargs))


def run(q: BatchQueue, pool: FakePool, cancel: asyncio.Event | None = None, during=None):
    async def go():
        stop = cancel or asyncio.Event()
        task = asyncio.create_task(run_batch(q, pool, Recorder(), stop))
        if during is not None:
            await during(stop)
        return await task
    return asyncio.run(go())


def test_a_pool_renders_every_job_once_and_writes_the_manifest(tmp_path):
    q = new_queue(tmp_path / "out", 5)
    pool = FakePool(2)
    result = run(q, pool)
    assert result.exit_code == 0 and result.counts["done"] == 5
    assert sorted(job for _, job in pool.log) == ["0001", "0002", "0003", "0004", "0005"]
    assert {worker for worker, _ in pool.log} == {"w1", "w2"}
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    job = manifest["jobs"][2]
    assert job["job"] == "0003" and job["status"] == "done" and job["params"] == {"t2v.seed": 3}
    assert job["outputs"] == ["0003_seed-3/0003.mp4"]
    assert job["nodes"]["t2v"] == {"cached": False, "key": "k0003", "seconds": 0.01, "peak_memory_bytes": 1000}
    assert job["peak_memory_bytes"] == 1000
    rows = (tmp_path / "out" / "manifest.csv").read_text().splitlines()
    assert rows[0].startswith("job,status,t2v.seed,outputs,seconds,peak_memory_mib")
    assert rows[3].startswith("0003,done,3,0003_seed-3/0003.mp4,")
    # A second run has nothing left to do and renders nothing.
    again = FakePool(2)
    assert run(q, again).exit_code == 0 and again.log == []


def test_failed_jobs_are_retried_then_marked_failed_and_the_rest_finish(tmp_path):
    q = new_queue(tmp_path / "out", 4, retries=1)
    pool = FakePool(1, {"0002": ["fail", "ok"], "0003": ["fail"], "0004": ["crash"]})
    result = run(q, pool)
    assert result.exit_code == 1
    assert [job for _, job in pool.log] == ["0001", "0002", "0002", "0003", "0003", "0004", "0004"]
    jobs = {j.id: j for j in q.jobs()}
    assert jobs["0002"].status == "done" and jobs["0002"].attempts == 2 and jobs["0002"].error is None
    assert jobs["0003"].status == "failed" and jobs["0003"].attempts == 2
    assert jobs["0003"].error == "node text_to_video (t2v): out of memory" or \
        jobs["0003"].error == "node Text to Video (t2v): out of memory"
    assert "the worker could not start" in jobs["0004"].error


def test_cancel_from_another_process_stops_a_running_job(tmp_path):
    folder = tmp_path / "out"
    q = new_queue(folder, 3)
    pool = FakePool(1, {"0001": ["slow"]})

    async def cancel_job_1(stop):
        while not pool.log:
            await asyncio.sleep(0.01)
        BatchQueue.open(folder).cancel(["0001"])  # as `weft queue cancel` would

    result = run(q, pool, during=cancel_job_1)
    assert result.exit_code == 0
    assert q.statuses(["0001", "0002", "0003"]) == {"0001": "cancelled", "0002": "done", "0003": "done"}


def test_ctrl_c_puts_the_job_in_flight_back_and_resume_finishes(tmp_path):
    folder = tmp_path / "out"
    q = new_queue(folder, 3)
    pool = FakePool(1, {"0002": ["slow", "ok"]})

    async def interrupt_during_job_2(stop):
        while ("w1", "0002") not in pool.log:
            await asyncio.sleep(0.01)
        stop.set()

    result = run(q, pool, during=interrupt_during_job_2)
    assert result.exit_code == 130
    assert q.statuses(["0001", "0002", "0003"]) == {"0001": "done", "0002": "pending", "0003": "pending"}
    assert q.job("0002").attempts == 0
    resumed = FakePool(1)
    assert run(q, resumed).exit_code == 0
    assert [job for _, job in resumed.log] == ["0002", "0003"]


# -- through the command line, with real engine workers (no models needed) ---------------------
def image_project(folder: Path) -> Path:
    from engines import media
    from nodes.values import Image
    folder.mkdir(parents=True, exist_ok=True)
    media.write_image(folder / "plate.png", Image(np.full((16, 16, 3), 200, np.uint8)))
    g = Graph()
    g.add_node("load_image", {"path": "plate.png"}, node_id="plate")
    g.add_node("save_image", {"filename": "still_{job}"}, node_id="save")
    g.connect("plate", "image", "save", "image")
    return project.save(project.Project(g), folder / "stills.weft")


def test_batch_of_real_workers_names_files_by_job_and_shares_the_cache(tmp_path, capsys):
    proj = image_project(tmp_path / "proj")
    out = tmp_path / "out"
    code = main(["batch", str(proj), "--sweep", "save.format=png,jpg,webp", "--output-dir", str(out), "--json"])
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[0]["event"] == "batch_started" and events[0]["jobs"] == 3
    assert events[-1]["event"] == "batch_finished" and events[-1]["exit_code"] == 0
    finished = [e for e in events if e["event"] == "job_finished"]
    assert [(e["job"], e["status"]) for e in finished] == [("0001", "done"), ("0002", "done"), ("0003", "done")]
    # Node events carry the batch's job id.
    plate = [e for e in events if e["event"] == "node_finished" and e["node"] == "plate"]
    assert [e["job"] for e in plate] == ["0001", "0002", "0003"]
    # One worker: the plate is loaded once and reused from the shared cache by the next jobs.
    assert [e["cached"] for e in plate] == [False, True, True]
    for job, fmt in (("0001", "png"), ("0002", "jpg"), ("0003", "webp")):
        assert (out / f"{job}_format-{fmt}" / f"still_{job}.{fmt}").is_file()
    listed = json.loads((out / "manifest.json").read_text())
    assert [j["outputs"] for j in listed["jobs"]][1] == ["0002_format-jpg/still_0002.jpg"]

    # A second batch on two workers, same cache folder: nothing upstream is computed again.
    assert main(["batch", str(proj), "--sweep", "save.format=png,jpg", "--output-dir", str(tmp_path / "out2"),
                 "--workers", "2", "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {e["worker"] for e in events if e["event"] == "job_started"} <= {"w1", "w2"}
    assert all(e["cached"] for e in events if e["event"] == "node_finished" and e["node"] == "plate")


def test_queue_list_retry_cancel_and_resume_after_fixing_the_input(tmp_path, capsys):
    proj = image_project(tmp_path / "proj")
    out = tmp_path / "out"
    code = main(["batch", str(proj), "--sweep", "plate.path=plate.png,missing.png,plate.png", "--output-dir", str(out)])
    assert code == 1
    err = capsys.readouterr().err
    assert "x 0002 path=missing.png: failed: node Load Image (plate): parameter 'path': no such file" in err
    assert f"weft queue retry {out}" in err

    assert main(["queue", "list", str(out), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [j["status"] for j in listed["jobs"]] == ["done", "failed", "done"]
    assert listed["running"] is None and "no such file" in listed["jobs"][1]["error"]

    assert main(["queue", "list", str(out)]) == 0
    table = capsys.readouterr().out
    assert "failed" in table and "missing.png" in table and "3 jobs: 2 done, 1 failed" in table

    assert main(["queue", "retry", str(out), "1", "2"]) == 0
    said = capsys.readouterr().out
    assert "queued again 1 job: 0002" in said and "0001 (done)" in said and f"weft batch --resume {out}" in said
    assert main(["queue", "cancel", str(out), "2"]) == 0
    assert "cancelled 1 job: 0002" in capsys.readouterr().out
    assert main(["queue", "retry", str(out)]) == 0
    assert "queued again 1 job: 0002" in capsys.readouterr().out

    # Fix the input, resume: only job 0002 renders.
    (proj.parent / "missing.png").write_bytes((proj.parent / "plate.png").read_bytes())
    done_before = (out / "0001_path-plate.png" / "still_0001.png").stat().st_mtime_ns
    assert main(["batch", "--resume", str(out), "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["job"] for e in events if e["event"] == "job_started"] == ["0002"]
    assert (out / "0001_path-plate.png" / "still_0001.png").stat().st_mtime_ns == done_before

    # Every batch started here is known, for `weft queue list` without a folder (and the GUI).
    assert out.resolve() in known_batches()
    assert main(["queue", "list"]) == 0
    assert f"{out.resolve()}  finished  3 jobs: 3 done" in capsys.readouterr().out


def test_queue_commands_need_a_batch(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["queue", "cancel"]) == 2
    assert "which batch?" in capsys.readouterr().err
    assert main(["queue", "retry", str(tmp_path)]) == 2
    assert "no batch here" in capsys.readouterr().err
    new_queue(tmp_path / "out", 2).close()
    assert main(["queue", "cancel", str(tmp_path / "out"), "7"]) == 2
    assert "no job '7' (jobs are 0001..0002)" in capsys.readouterr().err


def test_resume_keeps_the_batch_as_queued(tmp_path, capsys):
    new_queue(tmp_path / "out", 2).close()
    assert main(["batch", "--resume", str(tmp_path / "out"), "--sweep", "t2v.seed=3"]) == 2
    assert "--resume cannot change a batch's jobs" in capsys.readouterr().err
    assert main(["batch", "--resume", str(tmp_path / "out"), "--models", "default"]) == 2
    assert "was queued with --models tiny" in capsys.readouterr().err


def test_workers_get_one_gpu_each_or_a_share_of_the_cores(monkeypatch):
    from app.batch import local
    for var in (*local.THREAD_VARS, "OMP_WAIT_POLICY"):
        monkeypatch.delenv(var, raising=False)
    envs = [local.worker_env(i, 3, ["0", "1"]) for i in range(3)]
    assert [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["0", "1", "0"]
    monkeypatch.setattr(local, "cpu_count", lambda: 8)
    assert {local.worker_env(i, 4, [])["OMP_NUM_THREADS"] for i in range(4)} == {"2"}
    assert local.worker_env(0, 16, [])["MKL_NUM_THREADS"] == "1"
    # Several workers share the cores: each waits passively; one alone keeps the library default.
    assert local.worker_env(0, 4, [])["OMP_WAIT_POLICY"] == "PASSIVE"
    assert "OMP_WAIT_POLICY" not in local.worker_env(0, 1, []), "one worker must keep OpenMP's own wait policy"
    assert "OMP_NUM_THREADS" not in local.worker_env(0, 1, []), "one worker must keep the libraries' thread count"
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # set on purpose by the user: kept
    assert local.worker_env(0, 4, [])["OMP_NUM_THREADS"] == "3"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert local.visible_gpus() == ["2", "3"] and local.default_workers() == 2
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert local.visible_gpus() == [] and local.default_workers() == 1


# -- the Ray slot, with a stand-in actor (no Ray instance needed) ------------------------------
class _Method:
    def __init__(self, fn):
        self.fn = fn

    def options(self, **_):
        return self

    def remote(self, *args):
        return self.fn(*args)


class FakeActor:
    """Streams events like RenderActor.run; 'die' raises what Ray raises for a lost actor."""

    def __init__(self, script: str):
        import ray.exceptions
        self.script = script
        self.died = ray.exceptions.ActorDiedError

        async def describe():
            return {"host": "node-a", "shared_storage": script != "die"}

        async def nothing(*_):
            return None

        self.describe, self.cancel, self.close = _Method(describe), _Method(nothing), _Method(nothing)
        self.run = _Method(self._run)

    async def _run(self, spec):
        async def ref(value):
            return value
        yield ref({"event": "node_started", "node": "t2v"})
        if self.script == "die":
            raise self.died()
        yield ref({"event": "job_finished", "status": "ok", "outputs": [], "seconds": 1.0,
                   "files": [{"path": "shot_save.mp4", "data": b"video bytes"},
                             {"path": "../../escape.mp4", "data": b"never written"}]})


def test_a_ray_slot_copies_files_back_and_replaces_a_dead_actor(tmp_path):
    pytest.importorskip("ray")
    import ray

    from app.batch.local import RunSpec
    from app.batch.ray_runner import RaySlot

    class Pool:
        def __init__(self, scripts):
            self.ray, self.scripts, self.made = ray, list(scripts), 0

        def new_actor(self):
            self.made += 1
            return FakeActor(self.scripts.pop(0))

    spec = RunSpec("0001", "0001.1", {}, ["save"], str(tmp_path / "out" / "0001_seed-1"), str(tmp_path), "shot")
    seen: list[dict] = []

    async def go(scripts):
        pool = Pool(scripts)
        slot = RaySlot("r1", pool)
        await slot.start()
        first = await slot.run(spec, seen.append)
        return pool, slot, first

    # No shared storage: the actor sends the files, the driver writes them into the job's folder (only there).
    pool, slot, finished = asyncio.run(go(["ok"]))
    assert finished["status"] == "ok" and "files" not in finished
    written = tmp_path / "out" / "0001_seed-1" / "shot_save.mp4"
    assert finished["outputs"] == [str(written)] and written.read_bytes() == b"video bytes"
    assert not (tmp_path / "escape.mp4").exists()
    assert seen[0]["event"] == "node_started"

    # The actor dies mid-job: the job fails with a message naming it, and a new actor takes the slot.
    pool, slot, finished = asyncio.run(go(["die", "ok"]))
    assert finished["status"] == "failed"
    assert finished["failed"][""].startswith("the Ray actor r1 on node-a died: The actor died unexpectedly")
    assert pool.made == 2 and slot.info["shared_storage"] is True
