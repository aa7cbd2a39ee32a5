"""`weft render` keeps every take, and `weft render --from FILE` makes it again.

Real command lines, real files, the tiny models: as an artist or a script
would use them.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engines import media
from engines.media import provenance
from nodes import project as project_io
from nodes.graph import Graph
from nodes.values import Audio, Image

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def weft(*args, env, cwd):
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=cwd, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=600)


def boat(path: Path, **save_params) -> Path:
    g = Graph()
    g.add_node("text", {"text": "a paper boat on a river"}, node_id="prompt")
    g.add_node("text_to_video", {"width": 64, "height": 48, "frames": 9, "steps": 2, "seed": 11}, node_id="t2v")
    g.add_node("save_video", save_params, node_id="save")
    g.connect("prompt", "out", "t2v", "prompt")
    g.connect("t2v", "video", "save", "video")
    project_io.save(project_io.Project(g), path)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_three_renders_three_files_and_with_overwrite_one(engine_env, tmp_path):
    p = boat(tmp_path / "boat.weft")
    out = tmp_path / "renders"
    first = None
    for run in range(3):
        done = weft("render", str(p), "--models", "tiny", "--output-dir", str(out), env=engine_env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        if first is None:
            first = os.stat(out / "boat_save.mp4")
    assert names(out) == ["boat_save.mp4", "boat_save_0002.mp4", "boat_save_0003.mp4"]
    again = os.stat(out / "boat_save.mp4")  # the first take was never rewritten
    assert (again.st_ino, again.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)

    numbered = tmp_path / "numbered"
    for run in range(3):
        done = weft("render", str(p), "--models", "tiny", "--output-dir", str(numbered),
                    "--set", "save.filename={project}_{version}", env=engine_env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert names(numbered) == ["boat_0001.mp4", "boat_0002.mp4", "boat_0003.mp4"]

    single = tmp_path / "single"
    for run in range(3):
        done = weft("render", str(p), "--models", "tiny", "--output-dir", str(single), "--set", "save.overwrite=true",
                    env=engine_env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert names(single) == ["boat_save.mp4"]


def test_render_from_a_render_makes_the_same_file(engine_env, tmp_path):
    p = boat(tmp_path / "boat.weft")
    out = tmp_path / "renders"
    done = weft("render", str(p), "--models", "tiny", "--output-dir", str(out), env=engine_env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    original = out / "boat_save.mp4"
    embedded = provenance.read_embedded(original)
    assert embedded.project == project_io.to_dict(project_io.load(p).graph, {})
    assert embedded.project["nodes"]["t2v"]["params"]["seed"] == 11
    assert embedded.project["nodes"]["t2v"]["params"]["model"]  # the model id rides along

    # Elsewhere, later: the project file is gone, the cache is empty; only the render is left.
    p.unlink()
    env = {**engine_env, "WEFT_CACHE_DIR": str(tmp_path / "fresh-cache")}
    again = weft("render", "--from", str(original), "--output-dir", str(tmp_path / "again"), env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "output is noise" in again.stderr  # it used the tiny models the render was made with
    assert "Text to Video (t2v): from cache" not in again.stderr
    (remade,) = (tmp_path / "again").iterdir()
    assert remade.name == "boat_save.mp4"
    assert digest(remade) == digest(original)
    assert np.array_equal(media.read_video(remade).frames, media.read_video(original).frames)


def stills_and_sounds(folder: Path) -> Path:
    """A model-free project: a picture and a sound, each saved in the formats that carry the project."""
    gradient = np.linspace(0, 255, 24 * 32 * 3).reshape(24, 32, 3).astype(np.uint8)
    media.write_image(folder / "still.png", Image(gradient))
    t = np.arange(8000, dtype=np.float32) / 16000
    media.write_audio(folder / "tone.wav", Audio(np.sin(2 * np.pi * 330 * t)[None] * 0.4, 16000))
    g = Graph()
    g.add_node("load_image", {"path": "still.png"}, node_id="picture")
    g.add_node("load_audio", {"path": "tone.wav"}, node_id="sound")
    g.add_node("save_image", {"format": "png", "filename": "{project}_{node}_{version}"}, node_id="png")
    g.add_node("save_audio", {"format": "wav", "filename": "{project}_{node}_{version}"}, node_id="wav")
    g.add_node("save_audio", {"format": "flac", "filename": "{project}_{node}_{version}"}, node_id="flac")
    g.connect("picture", "image", "png", "image")
    g.connect("sound", "audio", "wav", "audio")
    g.connect("sound", "audio", "flac", "audio")
    path = folder / "stills.weft"
    project_io.save(project_io.Project(g), path)
    return path


def test_png_wav_and_flac_renders_carry_their_project_and_render_again(engine_env, tmp_path):
    source = tmp_path / "project"
    source.mkdir()
    p = stills_and_sounds(source)
    out = tmp_path / "renders"
    done = weft("render", str(p), "--output-dir", str(out), env=engine_env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert names(out) == ["stills_flac_0001.flac", "stills_png_0001.png", "stills_wav_0001.wav"]
    saved = project_io.to_dict(project_io.load(p).graph, {})
    for name in names(out):
        embedded = provenance.read_embedded(out / name)
        assert embedded is not None and embedded.project == saved, name
        assert embedded.project_dir == source and embedded.models == "default"
    # Each renders again from its file alone, into the same folder: only its own Save node, as a new take.
    for name in names(out):
        again = weft("render", "--from", str(out / name), "--output-dir", str(out), env=engine_env, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
    assert names(out) == ["stills_flac_0001.flac", "stills_flac_0002.flac", "stills_png_0001.png",
                          "stills_png_0002.png", "stills_wav_0001.wav", "stills_wav_0002.wav"]
    for kind in ("flac", "png", "wav"):
        ext = kind
        assert digest(out / f"stills_{kind}_0002.{ext}") == digest(out / f"stills_{kind}_0001.{ext}")


def test_render_from_a_file_without_a_project_says_so(engine_env, tmp_path):
    plain = tmp_path / "plain.wav"
    media.write_audio(plain, Audio(np.zeros((1, 800), np.float32), 8000))
    done = weft("render", "--from", str(plain), env=engine_env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"weft: --from {plain}: the file carries no Weft project (only files that "
                                   "Weft's Save nodes wrote do); open its project file instead")
    assert not (tmp_path / "renders").exists()
    project = stills_and_sounds(tmp_path)  # a project file given to --from renders as itself
    done = weft("render", "--from", str(project), env=engine_env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert names(tmp_path / "renders") == ["stills_flac_0001.flac", "stills_png_0001.png", "stills_wav_0001.wav"]


def test_a_bad_file_name_is_refused_before_rendering(engine_env, tmp_path):
    p = boat(tmp_path / "boat.weft", filename="../{project}")
    done = weft("render", str(p), "--models", "tiny", env=engine_env, cwd=tmp_path)
    assert done.returncode == 2
    assert (f"weft: {p}: node Save Video (save): parameter 'filename': '../{{project}}' climbs out of the "
            "output folder ('..'); give a name inside it") in done.stderr
    assert not (tmp_path / "renders").exists()


def test_a_batch_jobs_file_renders_again_under_its_own_name(engine_env, tmp_path):
    """A batch job fills fields of its own ({job}, the swept values): they ride along in the file."""
    from engines.cache import ResultCache
    from engines.executor import Executor, Job

    source = tmp_path / "project"
    source.mkdir()
    p = stills_and_sounds(source)
    loaded = project_io.load(p)
    loaded.graph.set_param("png", "filename", "shot_{job}_{take}")
    job = Job("j", loaded.graph, targets=["png"], output_dir=tmp_path / "batch" / "0002", project_dir=source,
              project_name="stills", name_fields={"job": "0002", "take": "b"},
              project=project_io.to_dict(loaded.graph, loaded.settings))  # as the batch's worker runs it
    result = Executor(ResultCache(tmp_path / "cache")).run(job)
    assert result["status"] == "ok", result
    made = tmp_path / "batch" / "0002" / "shot_0002_b.png"
    assert made.is_file()
    again = weft("render", "--from", str(made), "--output-dir", str(tmp_path / "again"), env=engine_env,
                 cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert names(tmp_path / "again") == ["shot_0002_b.png"]
    assert digest(tmp_path / "again" / "shot_0002_b.png") == digest(made)
