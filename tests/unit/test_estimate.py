"""Render-time estimates: the work counted, a measured rate over the guess, CPU defaults."""

from __future__ import annotations

from engines import estimate as E
from nodes.registry import default_registry

T2V = default_registry().get("text_to_video")
CUSTOM = {"aspect": "custom", "duration_unit": "frames"}


def test_work_counts_steps_guidance_and_latent_tokens():
    model, units = E.work(T2V, {**CUSTOM, "width": 320, "height": 192, "frames": 17, "steps": 10, "guidance": 5.0})
    # 17 frames -> 5 latent frames; 192x320 -> 12x20 patches; two calls a step with guidance.
    assert model == "wan2.1-t2v-1.3b" and units == 10 * 2 * 5 * 12 * 20
    _, one_call = E.work(T2V, {**CUSTOM, "width": 320, "height": 192, "frames": 17, "steps": 10, "guidance": 1.0})
    assert one_call == units / 2
    assert E.work(default_registry().get("text"), {}) is None


def test_a_measured_rate_replaces_the_guess(tmp_path):
    params = {**CUSTOM, "width": 320, "height": 192, "frames": 17, "steps": 10}
    timings = E.Timings(tmp_path / "timings.json")
    guess = E.estimate(T2V, params, profile="tiny", device="cpu", timings=timings)
    assert not guess.measured and "a guess" in guess.text()
    # It ran here in 12 s: the same settings are now estimated at 12 s, double the steps at 24 s.
    assert timings.record(T2V, params, 12.0, profile="tiny", device="cpu")
    again = E.Timings(tmp_path / "timings.json")  # read back from the file
    same = E.estimate(T2V, params, profile="tiny", device="cpu", timings=again)
    assert same.measured and abs(same.seconds - 12.0) < 1e-6 and "a guess" not in same.text()
    double = E.estimate(T2V, {**params, "steps": 20}, profile="tiny", device="cpu", timings=again)
    assert abs(double.seconds - 24.0) < 1e-6
    # Another device or profile keeps its own figures.
    assert not E.estimate(T2V, params, profile="default", device="cpu", timings=again).measured


def test_cpu_defaults_are_the_largest_settings_that_fit_a_minute(tmp_path):
    timings = E.Timings(tmp_path / "timings.json")
    chosen = E.cpu_defaults(T2V, {}, profile="default", timings=timings)
    assert E.estimate(T2V, chosen, profile="default", device="cpu", timings=timings).seconds < 60
    rung = (chosen["width"], chosen["height"], chosen["frames"], chosen["steps"])
    bigger = E.CPU_LADDER[E.CPU_LADDER.index(rung) - 1]
    over = dict(zip(("width", "height", "frames", "steps"), bigger), **CUSTOM)
    assert E.estimate(T2V, over, profile="default", device="cpu", timings=timings).seconds >= 60
    # A slow machine (measured) gets a smaller rung.
    timings.record(T2V, {**CUSTOM, **dict(zip(("width", "height", "frames", "steps"), rung))}, 300.0,
                   profile="default", device="cpu")
    smaller = E.cpu_defaults(T2V, {}, profile="default", timings=timings)
    assert smaller["width"] * smaller["frames"] < chosen["width"] * chosen["frames"]


def test_device_from_the_setting_and_model_size_from_the_name():
    assert E.detect_device("cpu") == "cpu" and E.detect_device("cuda") == "cuda"
    assert E.transformer_billions("wan2.1-t2v-1.3b") == 1.3
    assert E.transformer_billions("wan2.1-vace-14b") == 14.0
    assert E.duration_words(45) == "45 s" and E.duration_words(300) == "5 min"
