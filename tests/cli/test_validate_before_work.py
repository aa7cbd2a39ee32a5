"""`weft validate` (and so every render's pre-run check) finds what would fail after the model ran.

Each case is a real project file and real files on disk, checked through the
real command line: exit 2, the node, the parameter and the reason, and nothing
rendered.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from app.cli import main
from engines import media
from nodes import project
from nodes.graph import Graph
from nodes.values import Audio, Image


def image_to_video_project(folder: Path, image_path: str, filename: str = "") -> Path:
    g = Graph()
    g.add_node("load_image", {"path": image_path}, node_id="still")
    g.add_node("text", {"text": "a red circle moves right on a blue background"}, node_id="prompt")
    g.add_node("image_to_video", {"frames": 9, "steps": 2}, node_id="i2v")
    g.add_node("save_video", {"filename": filename}, node_id="save")
    g.connect("still", "image", "i2v", "first_frame")
    g.connect("prompt", "out", "i2v", "prompt")
    g.connect("i2v", "video", "save", "video")
    path = folder / "shot.weft"
    project.save(project.Project(g), path)
    return path


def load_video_project(folder: Path, video_path: str) -> Path:
    g = Graph()
    g.add_node("load_video", {"path": video_path}, node_id="clip")
    g.add_node("save_video", node_id="save")
    g.connect("clip", "video", "save", "video")
    path = folder / "copy.weft"
    project.save(project.Project(g), path)
    return path


def validate(capsys, path: Path, *args: str) -> tuple[int, str]:
    code = main(["validate", str(path), *args])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


@pytest.fixture
def picture(tmp_path) -> Path:
    path = tmp_path / "inputs" / "first.png"
    path.parent.mkdir()
    media.write_image(path, Image(pixels=np.full((64, 64, 3), 200, np.uint8)))
    return path


def test_a_project_whose_files_are_all_there_is_ok(tmp_path, capsys, picture):
    path = image_to_video_project(tmp_path, "inputs/first.png")  # relative to the project file
    assert validate(capsys, path, "--output-dir", str(tmp_path / "out")) == (0, f"{path}: ok\n")


def test_a_missing_input_file_names_the_node_and_the_path(tmp_path, capsys):
    path = image_to_video_project(tmp_path, "inputs/gone.png")
    code, out = validate(capsys, path)
    assert code == 2
    assert f"node Load Image (still): parameter 'path': no such file: {tmp_path / 'inputs' / 'gone.png'}" in out


def test_an_undecodable_input_file_is_refused(tmp_path, capsys):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n but then nothing an image would have")
    code, out = validate(capsys, image_to_video_project(tmp_path, "broken.png"))
    assert code == 2 and "node Load Image (still): parameter 'path':" in out and "could not be decoded" in out


def mp3_with_cover_art(path: Path) -> Path:
    """A song as players keep it: MP3 sound plus a still picture stream marked as cover art."""
    with av.open(str(path), "w") as out:
        sound = out.add_stream("mp3", rate=44100)
        sound.layout = "mono"
        cover = out.add_stream("png")
        cover.width = cover.height = 32
        cover.pix_fmt = "rgb24"
        cover.disposition = av.stream.Disposition.attached_pic
        for packet in cover.encode(av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")):
            out.mux(packet)
        for packet in cover.encode():
            out.mux(packet)
        tone = (0.3 * np.sin(np.arange(44100) / 10)).astype(np.float32)[None]
        frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
        frame.sample_rate = 44100
        for packet in [*sound.encode(frame), *sound.encode()]:
            out.mux(packet)
    return path


def test_a_song_with_cover_art_is_not_a_video(tmp_path, capsys):
    song = mp3_with_cover_art(tmp_path / "song.mp3")
    code, out = validate(capsys, load_video_project(tmp_path, str(song)))
    assert code == 2
    assert "node Load Video (clip): parameter 'path':" in out and "its only picture is a still (cover art)" in out
    # ...and the reader agrees (a render never gets one frame at 90000 fps), while its sound loads.
    with pytest.raises(media.MediaError, match="cover art"):
        media.read_video(song)
    assert media.read_audio(song).seconds == pytest.approx(1.0, abs=0.1)


def test_a_sound_file_is_not_a_video(tmp_path, capsys):
    wav = tmp_path / "tone.wav"
    media.write_audio(wav, Audio(samples=np.zeros((1, 16000), np.float32), rate=16000))
    code, out = validate(capsys, load_video_project(tmp_path, str(wav)))
    assert code == 2 and "has no video stream" in out


@pytest.mark.parametrize("filename, reason", [
    ("{take}_{seed}", "'{take}_{seed}' uses {take}, which this render does not fill; known: {project}, {node}, "
                      "{seed}"),
    ("shot_{seed", "is not a valid pattern"),
    ("../elsewhere/{project}", "climbs out of the output folder"),
    ("x" * 252, "bytes long; a file or folder name may be at most 255 bytes"),
    ("{project}_" + "é" * 125, "bytes long"),  # 139 letters, but "shot_" + 250 + "_9999.mp4" = 264 bytes
])
def test_a_save_name_that_cannot_be_written_is_refused_before_the_model_runs(tmp_path, capsys, picture, filename,
                                                                              reason):
    path = image_to_video_project(tmp_path, "inputs/first.png", filename=filename)
    code, out = validate(capsys, path)
    assert code == 2 and "node Save Video (save): parameter 'filename':" in out and reason in out, out
    assert out.count("parameter 'filename':") == 1, out  # said once, not by the node and the render check both


def test_a_long_name_that_fits_is_accepted(tmp_path, capsys, picture):
    # 245 + "_9999.mp4" = 254 bytes: the longest version number still fits.
    path = image_to_video_project(tmp_path, "inputs/first.png", filename="x" * 241)
    assert validate(capsys, path, "--output-dir", str(tmp_path / "out"))[0] == 0


def test_an_output_folder_under_a_file_is_refused(tmp_path, capsys, picture):
    (tmp_path / "renders.txt").write_text("not a folder")
    path = image_to_video_project(tmp_path, "inputs/first.png", filename="takes/{project}")
    code, out = validate(capsys, path, "--output-dir", str(tmp_path / "renders.txt" / "today"))
    assert code == 2
    assert (f"node Save Video (save): cannot write into {tmp_path / 'renders.txt' / 'today' / 'takes'}: "
            f"{tmp_path / 'renders.txt'} is a file, not a folder") in out


def test_a_full_disk_is_found_before_the_render(tmp_path, capsys, picture, monkeypatch):
    # A full disk cannot be made for real in a test; the size the check reads is what is
    # replaced (shutil.disk_usage), the estimate and the message are the real ones.
    import shutil

    import nodes.validation as validation

    real = shutil.disk_usage
    monkeypatch.setattr(validation.shutil, "disk_usage",
                        lambda p: real(p)._replace(free=5 * 2 ** 20))
    path = image_to_video_project(tmp_path, "inputs/first.png")
    code, out = validate(capsys, path, "--output-dir", str(tmp_path / "out"))
    assert code == 2 and f"the output folder {tmp_path} has 5 MB free; this file needs about" in out


def test_render_refuses_before_starting_the_model(tmp_path, capsys):
    path = image_to_video_project(tmp_path, "inputs/gone.png")
    out_dir = tmp_path / "out"
    assert main(["render", str(path), "--models", "tiny", "--output-dir", str(out_dir)]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not out_dir.exists()
