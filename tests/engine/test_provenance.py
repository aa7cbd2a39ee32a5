"""Renders keep every take and carry the project that made them.

Model-free graphs (a loader into a Save node) run through the real executor
and write real files, which are then read back as the studio and
``weft render --from`` read them (engines/media/provenance.py). The tiny-model
renders through the command line are in tests/cli/test_render_versions.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from engines import media
from engines.cache import ResultCache
from engines.executor import Executor, Job
from engines.media import provenance
from engines.media._files import atomic_output
from nodes import project as project_io
from nodes.graph import Graph
from nodes.validation import validate
from nodes.values import Audio, Image, Video


@pytest.fixture
def inputs(tmp_path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    gradient = np.linspace(0, 255, 24 * 32 * 3).reshape(24, 32, 3).astype(np.uint8)
    media.write_image(folder / "still.png", Image(gradient))
    frames = np.stack([np.roll(gradient, 3 * i, axis=1) for i in range(6)])
    media.write_video(folder / "clip.mp4", Video(frames, 12.0))
    t = np.arange(4800, dtype=np.float32) / 48000
    media.write_audio(folder / "tone.wav", Audio(np.stack([np.sin(2 * np.pi * 440 * t)] * 2) * 0.5, 48000))
    return folder


def graph_for(save_type: str, fmt: str, **save_params) -> Graph:
    g = Graph()
    if save_type == "save_audio":
        g.add_node("load_audio", {"path": "tone.wav"}, node_id="source")
        socket, into = "audio", "audio"
    elif save_type == "save_image":
        g.add_node("load_image", {"path": "still.png"}, node_id="source")
        socket, into = "image", "image"
    else:
        g.add_node("load_video", {"path": "clip.mp4"}, node_id="source")
        socket, into = "video", "video"
    g.add_node(save_type, {"format": fmt, **save_params}, node_id="save", position=(300, 40))
    g.connect("source", socket, "save", into)
    return g


def render(executor: Executor, g: Graph, project_dir: Path, out: Path, *, name: str = "shot") -> dict:
    """One run, as the worker sets it up (engines/worker.py): the project as rendered goes with the job."""
    events: list[dict] = []
    executor.emit = events.append
    job = Job("j", g, output_dir=out, project_dir=project_dir, project_name=name,
              project=project_io.to_dict(g, {"quality": "final"}))
    result = executor.run(job)
    assert result["status"] == "ok", result
    return result


FORMATS = [("save_video", "mp4"), ("save_video", "mov"), ("save_video", "webm"), ("save_image", "png"),
           ("save_image", "jpg"), ("save_image", "webp"), ("save_audio", "wav"), ("save_audio", "flac")]


@pytest.mark.parametrize("save_type,fmt", FORMATS)
def test_every_format_carries_the_project_that_made_it(tmp_path, inputs, save_type, fmt):
    g = graph_for(save_type, fmt)
    executor = Executor(ResultCache(tmp_path / "cache"), models_profile="tiny")
    (written,) = render(executor, g, inputs, tmp_path / "out")["outputs"]
    assert Path(written).suffix == f".{fmt}"
    found = provenance.read_embedded(written)
    assert found is not None, f"{written} carries no project"
    assert found.project == project_io.to_dict(g, {"quality": "final"})
    assert found.render["node"] == "save" and found.models == "tiny" and found.project_name == "shot"
    assert found.project_dir == inputs
    # It opens through the one project loader, as the studio and --from open it.
    back = project_io.from_dict(found.project)
    assert project_io.to_dict(back.graph, back.settings) == project_io.to_dict(g, {"quality": "final"})
    # ...and the media itself still reads.
    if save_type == "save_audio":
        assert media.read_audio(written).num_samples == 4800
    elif save_type == "save_image":
        assert media.read_image(written).pixels.shape == (24, 32, 3)
    else:
        assert media.probe(written).frames == 6


def test_every_frame_of_an_image_sequence_carries_the_project(tmp_path, inputs):
    g = graph_for("save_image_sequence", "png")
    executor = Executor(ResultCache(tmp_path / "cache"))
    (folder,) = render(executor, g, inputs, tmp_path / "out")["outputs"]
    frames = sorted(Path(folder).iterdir())
    assert len(frames) == 6
    assert all(provenance.read_embedded(f).project["nodes"]["save"]["type"] == "save_image_sequence" for f in frames)


def test_files_without_a_project_say_so(tmp_path, inputs):
    # What Weft did not render (or wrote outside a Save node) carries nothing: dropping it makes a loader.
    for name in ("still.png", "clip.mp4", "tone.wav"):
        assert provenance.read_embedded(inputs / name) is None
    from PIL import Image as PILImage
    from PIL.PngImagePlugin import PngInfo
    info = PngInfo()
    info.add_text("comment", '{"not": "a weft render"}')
    PILImage.new("RGB", (4, 4)).save(tmp_path / "other.png", pnginfo=info)
    assert provenance.read_embedded(tmp_path / "other.png") is None
    (tmp_path / "notes.mp4").write_text("not a video")
    assert provenance.read_embedded(tmp_path / "notes.mp4") is None
    assert provenance.read_embedded(tmp_path / "missing.wav") is None


# -- versioned names -----------------------------------------------------------------------------
def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_three_renders_write_three_files_and_keep_the_first(tmp_path, inputs):
    out = tmp_path / "out"
    executor = Executor(ResultCache(tmp_path / "cache"))
    g = graph_for("save_image", "png", filename="{project}_{version}")
    first = render(executor, g, inputs, out)["outputs"][0]
    first_bytes = Path(first).read_bytes()
    # A new engine (another `weft render`) counts from what is in the folder.
    for _ in range(2):
        render(Executor(ResultCache(tmp_path / "cache")), g, inputs, out)
    assert names(out) == ["shot_0001.png", "shot_0002.png", "shot_0003.png"]
    assert (out / "shot_0001.png").read_bytes() == first_bytes
    # Numbers are never reused: a deleted take leaves a gap, not a replaced file.
    (out / "shot_0002.png").unlink()
    render(executor, g, inputs, out)
    assert names(out) == ["shot_0001.png", "shot_0003.png", "shot_0004.png"]


def test_a_name_without_version_is_used_as_written_then_numbered(tmp_path, inputs):
    out = tmp_path / "out"
    g = graph_for("save_audio", "wav", filename="takes/room tone")
    for _ in range(3):
        render(Executor(ResultCache(tmp_path / "cache")), g, inputs, out)
    assert names(out / "takes") == ["room tone.wav", "room tone_0002.wav", "room tone_0003.wav"]
    g = graph_for("save_video", "mp4")  # the default name: {project}_{node}
    for _ in range(2):
        render(Executor(ResultCache(tmp_path / "cache")), g, inputs, out)
    assert [n for n in names(out) if n.endswith(".mp4")] == ["shot_save.mp4", "shot_save_0002.mp4"]


@pytest.mark.parametrize("filename,expected", [("{project}_{version}", "shot_0001.png"), ("keep", "keep.png")])
def test_with_overwrite_on_every_render_replaces_one_file(tmp_path, inputs, filename, expected):
    out = tmp_path / "out"
    g = graph_for("save_image", "png", filename=filename, overwrite=True)
    for _ in range(3):
        render(Executor(ResultCache(tmp_path / "cache")), g, inputs, out)
    assert names(out) == [expected]
    assert provenance.read_embedded(out / expected) is not None


def test_two_save_nodes_with_one_name_in_one_render_write_two_files(tmp_path, inputs):
    g = graph_for("save_image", "png", filename="{project}_{version}")
    g.add_node("save_image", {"filename": "{project}_{version}"}, node_id="again")
    g.connect("source", "image", "again", "image")
    render(Executor(ResultCache(tmp_path / "cache")), g, inputs, tmp_path / "out")
    assert names(tmp_path / "out") == ["shot_0001.png", "shot_0002.png"]


@pytest.mark.parametrize("pattern,why", [
    ("../up", "climbs out of the output folder"),
    ("/tmp/x", "is an absolute path"),
    ("take_{version:03}", "{version} takes no format"),
    ("v{version}/clip", "{version} may only be in the file's name"),
    ("shot_{", "write {{ and }} for a literal brace"),
    ("a{}b", "has a field without a name"),
    ("shots/", "ends with a folder"),
    ("{version}_{version}", "use it once"),
])
def test_a_bad_name_is_refused_before_rendering_naming_node_and_parameter(pattern, why):
    g = graph_for("save_video", "mp4", filename=pattern)
    (problem,) = validate(g)
    assert problem.node_id == "save" and problem.where == "parameter 'filename'"
    assert str(problem).startswith(f"node Save Video (save): parameter 'filename': {pattern!r}")
    assert why in problem.message


def test_a_field_nothing_fills_fails_the_save_saying_which(tmp_path, inputs):
    g = graph_for("save_image", "png", filename="{take}")
    events: list[dict] = []
    executor = Executor(ResultCache(tmp_path / "cache"), emit=events.append)
    result = executor.run(Job("j", g, output_dir=tmp_path / "out", project_dir=inputs))
    assert result["status"] == "failed"
    assert result["failed"]["save"] == ("parameter 'filename': '{take}' uses {take}, which this render does not "
                                        "fill; known: {project}, {node}, {seed}, {version}")


def test_a_version_1_save_node_keeps_its_name_and_gets_overwrite_off():
    data = project_io.to_dict(graph_for("save_video", "mp4", filename="clip"))
    data["nodes"]["save"]["version"] = 1
    del data["nodes"]["save"]["params"]["overwrite"]
    loaded = project_io.from_dict(data)
    node = loaded.graph.nodes["save"]
    assert node.version == 2 and node.params["overwrite"] is False and node.params["filename"] == "clip"
    assert loaded.migration_notes == ["Save Video (save) upgraded from version 1 to 2"]


def test_a_file_that_appears_while_rendering_is_never_replaced(tmp_path):
    target = tmp_path / "shot_0001.png"
    with pytest.raises(media.MediaError, match="was not replaced"):
        with atomic_output(target, overwrite=False) as temp:
            temp.write_bytes(b"the new render")
            target.write_bytes(b"another render's file")  # another process took the name meanwhile
    assert target.read_bytes() == b"another render's file"
    assert names(tmp_path) == ["shot_0001.png"]  # and no hidden partial file is left
    with atomic_output(target) as temp:  # overwrite (the default for internal files) replaces
        temp.write_bytes(b"replaced")
    assert target.read_bytes() == b"replaced" and names(tmp_path) == ["shot_0001.png"]


def test_saved_renders_have_ordinary_permissions(tmp_path, inputs):
    g = graph_for("save_audio", "flac")
    (written,) = render(Executor(ResultCache(tmp_path / "cache")), g, inputs, tmp_path / "out")["outputs"]
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(written).st_mode & 0o777 == 0o666 & ~umask
