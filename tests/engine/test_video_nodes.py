"""The video-generation nodes: what an artist notices, on the tiny models.

Fast tests (no model) cover the rules: anchors and their messages, size and
length snapping per model, validation that points at the parameter, the
input or the word. Tests marked slow run the nodes in this process on the
tiny twins (random weights: the pictures are noise; sizes, lengths, frame
rates, kept pixels, reference order and progress are real).
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest

from engines import media
from engines.models.manager import ModelManager
from nodes.anchors import anchor_problems, bind_prompt, find_anchors
from nodes.graph import Graph
from nodes.validation import validate
from nodes.values import Audio, Image, Mask, Video
from video_harness import run_graph, solid

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny(tiny_models_dir) -> ModelManager:
    return ModelManager(profile="tiny", tiny_dir=tiny_models_dir, device="cpu")


def messages(graph: Graph) -> list[str]:
    return [str(p) for p in validate(graph)]


# ---- anchors -------------------------------------------------------------------------


def test_anchors_are_found_with_their_spans():
    prompt = "[Mia] throws a ball to [2]; \\[not one] [in a 1920s style!]"
    anchors = find_anchors(prompt)
    assert [(a.text, a.key, a.start, a.end) for a in anchors] == [("[Mia]", "Mia", 0, 5), ("[2]", "2", 23, 26)]
    assert all(prompt[a.start:a.end] == a.text for a in anchors)


def test_an_anchor_that_names_nothing_points_at_the_word():
    prompt = "[Mia] hugs [Max] and [3]"
    problems = anchor_problems(prompt, {"reference_1": "Mia", "reference_2": "Leo"})
    by_anchor = {p.anchor: p for p in problems if p.anchor}
    assert (by_anchor["[Max]"].start, by_anchor["[Max]"].end) == (11, 16)
    assert by_anchor["[Max]"].message.startswith("[Max] has no reference (")
    assert "Mia is reference 1; Leo is reference 2" in by_anchor["[Max]"].message
    assert by_anchor["[3]"].message == "[3] has no reference: nothing is connected to reference 3"
    # Reference 2 is connected but never named: a problem of the socket, not of a word.
    unnamed = [p for p in problems if p.kind == "unnamed"]
    assert [(p.socket, p.where, p.start) for p in unnamed] == [("reference_2", "reference_2", None)]
    assert "write [2] or [Leo]" in unnamed[0].message
    # They unpack as (span, message), as the inspector reads them.
    assert [span for span, _ in problems] == [(11, 16), (21, 24), None]


def test_labels_must_be_names_and_unique():
    problems = anchor_problems("[1] [2] [3]", {"reference_1": "7", "reference_2": "Mia", "reference_3": "mia "})
    labels = {p.where: p.message for p in problems if p.kind == "label"}
    assert "is a number" in labels["label_1"]
    assert "both labelled" in labels["label_3"]


def test_anchors_become_words_and_references_follow_the_first_mention():
    labels = {"reference_1": "Mia", "reference_2": ""}
    descriptions = {"reference_1": "a girl in a red coat", "reference_2": "a brown dog"}
    bound = bind_prompt("[2] chases [Mia], then [mia] stops and [2] sits", labels, descriptions)
    assert bound.order == ("reference_2", "reference_1")
    assert bound.text == "a brown dog chases Mia (a girl in a red coat), then Mia stops and a brown dog sits"
    assert bind_prompt("[1] waves", {"reference_1": ""}).text == "the first subject waves"


def test_vace_sees_the_references_in_anchor_order(tiny):
    """diffusers' WanVACEPipeline puts each reference before the latents in turn; Weft passes them
    reversed so latent frame 0 is the first-named reference, as in the original VACE code."""
    import torch

    from nodes.catalogue.personalize import vace_references

    pipe = tiny.pipeline("wan2.1-vace-1.3b")
    first = torch.full((3, 32, 32), -0.8)  # what the node passes after preprocessing: (C, H, W) in [-1, 1]
    second = torch.full((3, 32, 32), 0.8)
    video = torch.zeros(1, 3, 5, 32, 32)
    mask = torch.ones(1, 3, 5, 32, 32)
    ordered = vace_references([first, second])["reference_images"]
    latents = pipe.prepare_video_latents(video, mask, [ordered], generator=torch.Generator().manual_seed(0),
                                         device="cpu")

    def encoded(image):
        return pipe.prepare_video_latents(video, mask, [[image]], device="cpu")[0, :, 0]

    assert torch.allclose(latents[0, :, 0], encoded(first), atol=1e-5)
    assert torch.allclose(latents[0, :, 1], encoded(second), atol=1e-5)


def personalize_graph(tmp_path: Path, prompt: str, *, labels=("Mia", ""), connect=(1, 2), **params) -> Graph:
    g = Graph()
    g.add_node("text", {"text": prompt}, node_id="prompt")
    subjects = {1: solid(48, 64, (200, 30, 40)), 2: solid(64, 40, (150, 100, 50))}
    for n in connect:
        path = tmp_path / f"subject{n}.png"
        media.write_image(path, Image(subjects[n]))
        g.add_node("load_image", {"path": str(path)}, node_id=f"subject{n}")
    settings = {"label_1": labels[0], "label_2": labels[1], "description_2": "a brown dog", "aspect": "custom",
                "width": 64, "height": 48, "duration_unit": "frames", "frames": 9, "steps": 2, **params}
    g.add_node("personalize", settings, node_id="cast")
    g.connect("prompt", "out", "cast", "prompt")
    for n in connect:
        g.connect(f"subject{n}", "image", "cast", f"reference_{n}")
    return g


def test_validation_names_the_anchor_and_the_unnamed_reference(tmp_path):
    g = personalize_graph(tmp_path, "[Mia] meets [Max]")
    assert messages(g) == [
        "node Personalise with References (cast): input 'prompt': [Max] has no reference "
        "(Mia is reference 1); label a reference 'Max' or write its number, like [1]",
        "node Personalise with References (cast): input 'reference_2': reference 2 is connected but the "
        "prompt never names it; write [2] where that subject appears, or disconnect it",
    ]
    assert messages(personalize_graph(tmp_path, "[Mia] meets [2]")) == []


def test_a_missing_reference_and_a_wrong_media_link_are_refused(tmp_path):
    g = personalize_graph(tmp_path, "[2] runs", connect=(2,))
    assert "node Personalise with References (cast): input 'reference_1': needs a Image connected" in messages(g)
    g = Graph()
    g.add_node("load_video", {"path": "clip.mp4"}, node_id="clip")
    g.add_node("text", {"text": "neon sign"}, node_id="prompt")
    g.add_node("masked_edit_video", node_id="edit")
    g.connect("prompt", "out", "edit", "prompt")
    g.connect("clip", "video", "edit", "video")
    from nodes.graph import Link
    g.add_link(Link("clip", "video", "edit", "mask"))  # as a hand-edited file may hold it
    assert any("input 'mask': expects Mask but is linked from" in m and "which gives Video" in m
               for m in messages(g))


# ---- sizes and lengths -------------------------------------------------------------


@pytest.mark.parametrize("model, multiple, step", [("wan2.1-t2v-1.3b", 16, 4), ("wan2.2-ti2v-5b", 32, 4),
                                                   ("ltx-video-0.9.5", 32, 8), ("cogvideox-2b", 16, 8)])
def test_presets_snap_to_what_each_model_accepts(model, multiple, step):
    from nodes.video_rules import resolve_shape

    for aspect in ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9"):
        for resolution in ("preview", "480p", "720p"):
            shape = resolve_shape(model, {"aspect": aspect, "resolution": resolution, "duration_unit": "seconds",
                                          "seconds": 2.0, "fps": 24.0})
            assert shape.width % multiple == 0 and shape.height % multiple == 0
            assert (shape.width > shape.height) == (aspect in ("16:9", "4:3", "21:9"))
            assert (shape.frames - 1) % step == 0 and abs(shape.frames - 48) <= step // 2 + 1


def test_bad_sizes_and_lengths_name_the_parameter_and_the_nearest_valid_value():
    g = Graph()
    g.add_node("text", {"text": "a fox"}, node_id="prompt")
    g.add_node("text_to_video", {"model": "ltx-video-0.9.5", "width": 500, "height": 480, "frames": 30},
               node_id="t2v")
    g.connect("prompt", "out", "t2v", "prompt")
    assert messages(g) == [
        "node Text to Video (t2v): parameter 'width': 500 is not a multiple of 32; use 480 or 512",
        "node Text to Video (t2v): parameter 'frames': 30 is not of the form 8k+1; use 25 or 33",
    ]
    g.set_param("t2v", "model", "wan2.1-t2v-1.3b")
    assert messages(g) == [
        "node Text to Video (t2v): parameter 'width': 500 is not a multiple of 16; use 496 or 512",
        "node Text to Video (t2v): parameter 'frames': 30 is not of the form 4k+1; use 29 or 33",
    ]
    g.set_param("t2v", "duration_unit", "seconds")  # seconds snap instead of failing
    g.set_param("t2v", "aspect", "16:9")
    assert messages(g) == []
    g.set_param("t2v", "seconds", 12.0)  # ... unless they ask for more than the model makes at once
    assert messages(g) == ["node Text to Video (t2v): parameter 'seconds': 12 s at 16 fps is more than Wan 2.1 "
                           "Text to Video 1.3B makes at once (161 frames); use 10.06 s or less"]


def test_a_last_frame_on_a_model_that_cannot_is_refused_before_running(tmp_path):
    path = tmp_path / "still.png"
    media.write_image(path, Image(solid(64, 64, (0, 0, 255))))
    g = Graph()
    g.add_node("text", {"text": "a wave"}, node_id="prompt")
    g.add_node("load_image", {"path": str(path)}, node_id="a")
    g.add_node("image_to_video", node_id="i2v")
    g.connect("prompt", "out", "i2v", "prompt")
    g.connect("a", "image", "i2v", "first_frame")
    g.connect("a", "image", "i2v", "last_frame")
    problems = messages(g)
    assert len(problems) == 1 and "input 'last_frame': Wan 2.2 Text/Image to Video 5B cannot end on" in problems[0]
    assert "ltx-video-0.9.5" in problems[0]
    g.set_param("i2v", "model", "ltx-video-0.9.5")
    assert messages(g) == []


# ---- previews ------------------------------------------------------------------------


def test_previews_project_each_latent_space():
    import torch

    from engines.previews import LatentLayout, latents_5d, make_preview, projection

    for space, channels in (("wan22", 48), ("ltxv", 128), ("cogvideox", 16)):
        assert projection(space, "tiny", channels) is not None
    assert projection("wan22", "tiny", 16) is None  # another latent width: not this space's factors
    # VACE: two reference frames lead; LTX: packed tokens after extra keyframe tokens.
    wan = torch.randn(1, 16, 5, 6, 8)
    assert latents_5d(wan, LatentLayout("bcfhw", skip_frames=2)).shape == (16, 3, 6, 8)
    assert latents_5d(torch.randn(1, 3, 16, 6, 8), LatentLayout("bfchw")).shape == (16, 3, 6, 8)  # CogVideoX
    packed = torch.randn(1, 7 + 3 * 2 * 4, 128)
    x = latents_5d(packed, LatentLayout("packed", frames=3, height=2, width=4))
    assert x.shape == (128, 3, 2, 4)
    assert np.allclose(x[:, 0, 0, 0], packed[0, 7].numpy())
    # The fitted projection (tiny profile) and the fallback (no factors fitted) both give RGB.
    wan22 = torch.randn(1, 48, 5, 6, 8)
    fitted = make_preview("wan22", "tiny")(wan22)
    fallback = make_preview("wan22", "no-such-profile")(wan22)
    assert fitted.dtype == np.uint8 and fitted.shape[2] == 3 and max(fitted.shape[:2]) >= 128
    assert fallback.shape == fitted.shape and fallback.std() > 0


def test_the_sketch_models_step_preview_shows_the_clips_colours_in_every_profile():
    """The preview of sketch latents (as the denoiser holds them) has the scene's background and
    shape colours where the clip has them: the factors are fitted on the shipped weights."""
    import torch
    from diffusers import AutoencoderKLWan

    from engines.previews import LatentLayout, make_preview
    from engines.sketch import manifest, world

    vae = AutoencoderKLWan.from_pretrained(manifest.folder("sketch-video") / "vae")
    scene = world.parse("a big red square stays still on a blue background")
    clip = world.render(scene, 3).frames
    x = torch.from_numpy(clip).permute(3, 0, 1, 2)[None].float() / 127.5 - 1
    with torch.no_grad():
        z = vae.encode(x).latent_dist.mode()
    mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1)
    std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1)
    latents = (z - mean) / std  # what WanPipeline denoises
    for profile in ("default", "tiny"):
        preview = make_preview("sketch", profile, LatentLayout("bcfhw"))(latents)
        middle = world.render(scene, 3).frames[8]
        corner = preview[: preview.shape[0] // 10, : preview.shape[1] // 10].reshape(-1, 3).mean(0)
        centre_at = tuple(int(v) for v in np.argwhere((middle == world.COLOURS["red"]).all(-1)).mean(0))
        h, w = preview.shape[:2]
        centre = preview[centre_at[0] * h // 64, centre_at[1] * w // 64]
        assert np.abs(corner - np.array(world.COLOURS["blue"])).max() < 40, (profile, corner)
        assert np.abs(centre.astype(int) - np.array(world.COLOURS["red"])).max() < 40, (profile, centre)


# ---- the nodes on the tiny models (slow) --------------------------------------------


def t2v_graph(model: str, **params) -> Graph:
    g = Graph()
    g.add_node("text", {"text": "a lighthouse in a storm"}, node_id="prompt")
    settings = {"model": model, "aspect": "custom", "width": 128, "height": 64, "duration_unit": "frames",
                "frames": 9, "steps": 2, **params}
    g.add_node("text_to_video", settings, node_id="t2v")
    g.connect("prompt", "out", "t2v", "prompt")
    return g


@pytest.mark.slow
@pytest.mark.parametrize("model, fps", [("wan2.1-t2v-1.3b", 16.0), ("wan2.2-ti2v-5b", 24.0),
                                        ("ltx-video-0.9.5", 24.0), ("cogvideox-2b", 8.0)])
def test_text_to_video_renders_the_size_length_and_rate_asked_for(tiny, tmp_path, model, fps):
    run = run_graph(t2v_graph(model, fps=fps, duration_unit="seconds", seconds=0.7), tiny, tmp_path)
    assert run.status == "ok", run.failed()
    video = run.value("t2v", "video")
    # 0.7 s x 24 fps = 16.8 frames -> 17 (4k+1 and 8k+1); x 16 fps = 11.2 -> 13 (4k+1; 9 is further);
    # x 8 fps = 5.6 -> 9 (CogVideoX makes 8k+1 frames, at least 9).
    frames = {8.0: 9, 16.0: 13, 24.0: 17}[fps]
    assert (video.num_frames, video.width, video.height, video.fps) == (frames, 128, 64, fps)
    # One progress event per step, each with a preview picture.
    steps = run.progress("t2v")
    assert [(e["step"], e["total"]) for e in steps] == [(1, 2), (2, 2)]
    jpeg = base64.b64decode(steps[-1]["preview"])
    assert jpeg[:2] == b"\xff\xd8"
    assert run.finished("t2v")["stats"]["nfe"] == 4


@pytest.mark.slow
def test_image_to_video_starts_on_the_image_and_ltx_ends_on_the_last(tiny, tmp_path, monkeypatch):
    import engines.diffusion as diffusion

    calls = []
    real = diffusion.run_denoiser

    def spy(ctx, pipe, **call):
        calls.append((type(pipe).__name__, call))
        return real(ctx, pipe, **call)

    monkeypatch.setattr(diffusion, "run_denoiser", spy)
    first, last = tmp_path / "first.png", tmp_path / "last.png"
    media.write_image(first, Image(solid(100, 50, (255, 0, 0))))
    media.write_image(last, Image(solid(100, 50, (0, 0, 255))))
    g = Graph()
    g.add_node("text", {"text": "a red square turns blue"}, node_id="prompt")
    g.add_node("load_image", {"path": str(first)}, node_id="first")
    g.add_node("load_image", {"path": str(last)}, node_id="last")
    for node_id, model, with_last in (("wan", "wan2.2-ti2v-5b", False), ("ltx", "ltx-video-0.9.5", True)):
        g.add_node("image_to_video", {"model": model, "aspect": "from input", "resolution": "preview",
                                      "duration_unit": "frames", "frames": 9, "steps": 2}, node_id=node_id)
        g.connect("prompt", "out", node_id, "prompt")
        g.connect("first", "image", node_id, "first_frame")
        if with_last:
            g.connect("last", "image", node_id, "last_frame")
    run = run_graph(g, tiny, tmp_path)
    assert run.status == "ok", run.failed()
    for node_id in ("wan", "ltx"):
        video = run.value(node_id, "video")
        # The image's 2:1 at the preview class's area (512x288), snapped to multiples of 32.
        assert (video.num_frames, video.width, video.height, video.fps) == (9, 544, 256, 24.0)
    (wan_class, wan_call), (ltx_class, ltx_call) = calls
    assert wan_class == "WanImageToVideoPipeline" and "last_image" not in wan_call
    assert np.asarray(wan_call["image"]).reshape(-1, 3).mean(axis=0).round().tolist() == [255, 0, 0]
    assert ltx_class == "LTXConditionPipeline"
    assert [c.frame_index for c in ltx_call["conditions"]] == [0, 8]
    assert np.asarray(ltx_call["conditions"][1].image)[0, 0].tolist() == [0, 0, 255]


@pytest.mark.slow
def test_personalise_binds_each_anchor_to_its_reference(tiny, tmp_path, monkeypatch):
    import engines.diffusion as diffusion

    calls = []
    real = diffusion.run_denoiser
    monkeypatch.setattr(diffusion, "run_denoiser",
                        lambda ctx, pipe, **call: calls.append(call) or real(ctx, pipe, **call))
    # Reference 2 (the dog) is named first, so it is the model's first reference frame.
    g = personalize_graph(tmp_path, "[2] chases [Mia] around a tree")
    run = run_graph(g, tiny, tmp_path)
    assert run.status == "ok", run.failed()
    video = run.value("cast", "video")
    assert (video.num_frames, video.width, video.height, video.fps) == (9, 64, 48, 16.0)
    assert run.value("cast", "model_prompt") == "a brown dog chases Mia around a tree"
    assert run.finished("cast")["stats"]["reference_order"] == ["reference_2", "reference_1"]
    (call,) = calls
    assert call["prompt"] == "a brown dog chases Mia around a tree"
    # Passed reversed (see test_vace_sees_the_references_in_anchor_order): Mia, then the dog.
    colours = [np.asarray(image).reshape(-1, 3).mean(axis=0).round().tolist() for image in call["reference_images"]]
    assert colours == [[200, 30, 40], [150, 100, 50]]
    # An anchor that names nothing fails the run, pointing at the word.
    bad = personalize_graph(tmp_path, "[2] chases [Max]")
    failed = run_graph(bad, tiny, tmp_path / "bad").failed()["cast"]
    assert "input 'prompt': [Max] has no reference" in failed


def write_clip(path: Path, frames: int = 30, size=(96, 64), fps: float = 12.0, sound: bool = False) -> Video:
    w, h = size
    rng = np.random.default_rng(0)
    base = np.zeros((frames, h, w, 3), np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(frames):  # smooth gradients that drift: compress well, so decode error is small
        base[i, ..., 0] = (xx * 255 // w + i * 3) % 256
        base[i, ..., 1] = yy * 255 // h
        base[i, ..., 2] = 120
    audio = Audio(rng.uniform(-0.1, 0.1, (2, int(frames / fps * 48000))).astype(np.float32), 48000) if sound else None
    clip = Video(base, fps, audio)
    media.write_video(path, clip)
    return media.read_video(path)


def edit_graph(clip: Path, prompt: str = "a neon sign") -> Graph:
    g = Graph()
    g.add_node("text", {"text": prompt}, node_id="prompt")
    g.add_node("load_video", {"path": str(clip)}, node_id="clip")
    return g


@pytest.mark.slow
def test_masked_edit_keeps_every_pixel_outside_the_mask_after_the_mp4_round_trip(tiny, tmp_path):
    clip_path = tmp_path / "clip.mp4"
    original = write_clip(clip_path)
    region = np.zeros((64, 96), np.float32)
    region[16:48, 24:72] = 1.0
    media.write_mask(tmp_path / "mask.png", Mask(region))
    g = edit_graph(clip_path)
    g.add_node("load_image", {"path": str(tmp_path / "mask.png")}, node_id="mask_image")
    g.add_node("image_to_mask", node_id="mask")
    g.add_node("masked_edit_video", {"steps": 2, "feather": 3.0}, node_id="edit")
    g.add_node("save_video", {"filename": "edited"}, node_id="save")
    g.connect("mask_image", "image", "mask", "image")
    g.connect("prompt", "out", "edit", "prompt")
    g.connect("clip", "video", "edit", "video")
    g.connect("mask", "mask", "edit", "mask")
    g.connect("edit", "out", "save", "video")
    run = run_graph(g, tiny, tmp_path)
    assert run.status == "ok", run.failed()
    edited = run.value("edit", "out")
    outside = region < 0.5
    # Before encoding: exactly the clip outside the mask; something new inside.
    assert np.array_equal(edited.frames[:, outside], original.frames[:, outside])
    assert np.abs(edited.frames[:, ~outside].astype(int) - original.frames[:, ~outside]).mean() > 10
    # After the MP4 round trip: within codec tolerance away from the mask's edge.
    decoded = media.read_video(tmp_path / "out" / "edited.mp4")
    assert (decoded.num_frames, decoded.width, decoded.height, decoded.fps) == (30, 96, 64, 12.0)
    import cv2
    far = cv2.erode(outside.astype(np.uint8), np.ones((17, 17), np.uint8)).astype(bool)  # 8 px from the edge
    error = np.abs(decoded.frames[:, far].astype(int) - original.frames[:, far])
    assert error.mean() < 2.0 and np.percentile(error, 99.9) < 16


@pytest.mark.slow
def test_restyle_and_extend_keep_the_clip_length_rate_and_sound(tiny, tmp_path):
    clip_path = tmp_path / "clip.mp4"
    original = write_clip(clip_path, frames=30, sound=True)
    g = edit_graph(clip_path, "a watercolour painting")
    g.add_node("restyle_video", {"strength": 0.5, "steps": 4}, node_id="restyle")
    g.add_node("extend_video", {"duration_unit": "frames", "frames": 6, "context_frames": 5, "steps": 2},
               node_id="extend")
    for node_id in ("restyle", "extend"):
        g.connect("prompt", "out", node_id, "prompt")
        g.connect("clip", "video", node_id, "video")
    run = run_graph(g, tiny, tmp_path)
    assert run.status == "ok", run.failed()
    restyled = run.value("restyle", "out")
    # 30 frames (not 4k+1) run as 33 and cut back; the size and the sound are the clip's.
    assert (restyled.num_frames, restyled.width, restyled.height, restyled.fps) == (30, 96, 64, 12.0)
    assert restyled.audio is not None and restyled.audio.num_samples == original.audio.num_samples
    # Strength 0.5 of 4 steps runs 2, and progress ends at 100 %.
    assert [(e["step"], e["total"]) for e in run.progress("restyle")] == [(1, 2), (2, 2)]
    extended = run.value("extend", "out")
    assert (extended.num_frames, extended.width, extended.height, extended.fps) == (36, 96, 64, 12.0)
    assert np.array_equal(extended.frames[:30], original.frames)
    assert extended.audio.num_samples == 36 / 12.0 * extended.audio.rate


@pytest.mark.slow
def test_populate_keeps_the_scene_outside_the_region(tiny, tmp_path):
    scene = np.zeros((72, 128, 3), np.uint8)
    scene[:36] = (120, 160, 220)
    scene[36:] = (60, 140, 60)
    media.write_image(tmp_path / "scene.png", Image(scene))
    region = np.zeros((72, 128), np.float32)
    region[20:, 40:100] = 1.0
    media.write_mask(tmp_path / "region.png", Mask(region))
    g = Graph()
    g.add_node("text", {"text": "a man walks in and sits down"}, node_id="prompt")
    g.add_node("load_image", {"path": str(tmp_path / "scene.png")}, node_id="scene")
    g.add_node("load_image", {"path": str(tmp_path / "region.png")}, node_id="region_image")
    g.add_node("image_to_mask", node_id="region")
    g.add_node("populate_scene", {"aspect": "custom", "width": 128, "height": 72 - 72 % 16, "duration_unit":
                                  "frames", "frames": 9, "steps": 2, "feather": 0.0}, node_id="populate")
    g.connect("region_image", "image", "region", "image")
    g.connect("prompt", "out", "populate", "prompt")
    g.connect("scene", "image", "populate", "scene")
    g.connect("region", "mask", "populate", "region")
    run = run_graph(g, tiny, tmp_path)
    assert run.status == "ok", run.failed()
    video = run.value("populate", "video")
    assert (video.num_frames, video.width, video.height) == (9, 128, 64)
    # The scene is covered to 128x64 (centre crop of 4 rows top and bottom) and kept outside the region.
    plate, kept = scene[4:68], region[4:68] < 0.5
    assert np.array_equal(video.frames[:, kept], np.broadcast_to(plate[kept], video.frames[:, kept].shape))


@pytest.mark.slow
@pytest.mark.parametrize("model, last", [("wan2.1-i2v-14b-480p", False), ("wan2.1-flf2v-14b-720p", True)])
def test_the_big_gpu_image_models_load_from_disk_and_run(tiny, tmp_path, model, last):
    """Their twins (CLIP image encoder, FLF2V's learned positions) load through from_pretrained."""
    path = tmp_path / "still.png"
    media.write_image(path, Image(solid(64, 48, (10, 200, 10))))
    g = Graph()
    g.add_node("text", {"text": "leaves sway"}, node_id="prompt")
    g.add_node("load_image", {"path": str(path)}, node_id="still")
    g.add_node("image_to_video", {"model": model, "aspect": "custom", "width": 64, "height": 48,
                                  "duration_unit": "frames", "frames": 5, "steps": 1, "fps": 16.0}, node_id="i2v")
    g.connect("prompt", "out", "i2v", "prompt")
    g.connect("still", "image", "i2v", "first_frame")
    if last:
        g.connect("still", "image", "i2v", "last_frame")
    assert messages(g) == []
    run = run_graph(g, tiny, tmp_path)
    assert run.status == "ok", run.failed()
    video = run.value("i2v", "video")
    assert (video.num_frames, video.width, video.height, video.fps) == (5, 64, 48, 16.0)
    assert tiny.local_folder(model).joinpath("image_encoder", "config.json").is_file()
