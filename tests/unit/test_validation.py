"""Validation before a run: every problem names the node and the parameter or input."""

from nodes import project
from nodes.graph import Graph, Link, Node
from nodes.validation import RenderPlace, validate


def messages(graph, targets=None):
    return [str(p) for p in validate(graph, targets)]


def simple_graph():
    g = Graph()
    g.add_node("text", {"text": "a fox"}, node_id="prompt")
    g.add_node("text_to_video", node_id="t2v")
    g.add_node("save_video", node_id="save")
    g.connect("prompt", "out", "t2v", "prompt")
    g.connect("t2v", "video", "save", "video")
    return g


def test_a_good_graph_has_no_problems():
    assert messages(simple_graph()) == []


def test_missing_required_input():
    g = simple_graph()
    g.remove_link(g.link_into("t2v", "prompt"))
    assert messages(g) == ["node Text to Video (t2v): input 'prompt': needs a Text connected"]


def test_unknown_node_type_is_kept_and_reported():
    g = simple_graph()
    g.insert_node(Node("old", "text_to_vidoe", {}))
    problems = validate(g)
    assert [p.code for p in problems] == ["unknown_type"]
    assert "text_to_vidoe" in str(problems[0]) and "did you mean 'text_to_video'" in str(problems[0])


def test_type_mismatch_on_a_link_names_both_ends():
    g = simple_graph()
    g.add_node("save_audio", node_id="wav")
    g.add_link(Link("t2v", "video", "wav", "audio"))  # as a hand-edited file could hold
    (problem,) = validate(g)
    assert problem.code == "type_mismatch"
    assert str(problem) == ("node Save Audio (wav): input 'audio': expects Audio but is linked from "
                            "Text to Video (t2v) output 'video', which gives Video")


def test_cycle_is_reported_with_its_nodes():
    g = Graph()
    g.add_node("add_audio_to_video", node_id="a")
    g.add_node("add_audio_to_video", node_id="b")
    g.add_link(Link("a", "out", "b", "video"))
    g.add_link(Link("b", "out", "a", "video"))
    cycle = [p for p in validate(g) if p.code == "cycle"]
    assert len(cycle) == 1 and "is part of a loop" in str(cycle[0])
    assert "(a)" in str(cycle[0]) and "(b)" in str(cycle[0])


def test_values_out_of_range_or_of_the_wrong_type():
    g = simple_graph()
    g.nodes["t2v"].params["steps"] = 0
    g.nodes["t2v"].params["guidance"] = "strong"
    g.nodes["t2v"].params["width"] = 500
    assert messages(g) == [
        "node Text to Video (t2v): parameter 'steps': 0 is below the minimum 1",
        "node Text to Video (t2v): parameter 'guidance': expected a number, got 'strong'",
    ]
    g.nodes["t2v"].params.update(steps=10, guidance=5.0)
    assert messages(g) == ["node Text to Video (t2v): parameter 'width': 500 is not a multiple of 16; use 496 or 512"]


def test_frames_must_fit_the_model():
    g = simple_graph()
    g.set_param("t2v", "frames", 20)
    assert messages(g) == ["node Text to Video (t2v): parameter 'frames': 20 is not of the form 4k+1; use 17 or 21"]


def test_only_what_the_targets_need_is_checked():
    g = simple_graph()
    g.add_node("save_audio", node_id="lonely")  # missing its input, but not asked for
    assert messages(g, ["save"]) == []
    assert len(messages(g)) == 1


def test_validation_survives_a_round_trip_through_the_file():
    g = simple_graph()
    g.nodes["t2v"].params["steps"] = -3
    loaded = project.loads(project.dumps(g)).graph
    assert messages(loaded) == messages(g)


def test_a_loader_without_a_file_asks_for_one():
    g = Graph()
    g.add_node("load_image", node_id="photo")
    g.add_node("save_image", node_id="still")
    g.connect("photo", "image", "still", "image")
    g.add_node("load_video", node_id="clip")
    g.add_node("save_video", node_id="copy")
    g.connect("clip", "video", "copy", "video")
    assert messages(g) == ["node Load Image (photo): parameter 'path': choose an image file",
                           "node Load Video (clip): parameter 'path': choose a video file"]


def test_an_input_that_is_not_allowed_with_this_model_is_named_as_an_input():
    g = Graph()
    g.add_node("load_image", {"path": "first.png"}, node_id="first")
    g.add_node("load_image", {"path": "last.png"}, node_id="last")
    g.add_node("text", {"text": "a fox"}, node_id="prompt")
    g.add_node("image_to_video", node_id="i2v")  # Wan 2.2 5B by default: it cannot pin a last frame
    g.add_node("save_video", node_id="save")
    g.connect("first", "image", "i2v", "first_frame")
    g.connect("last", "image", "i2v", "last_frame")
    g.connect("prompt", "out", "i2v", "prompt")
    g.connect("i2v", "video", "save", "video")
    assert messages(g) == [
        "node Image to Video (i2v): input 'last_frame': Wan 2.2 Text/Image to Video 5B cannot end on a given "
        "frame; disconnect it or pick a model that can (ltx-video-0.9.5, wan2.1-flf2v-14b-720p)"]
    g.set_param("i2v", "model", "wan2.1-flf2v-14b-720p")
    assert messages(g) == []


def test_a_link_from_a_node_that_is_gone_names_the_input_and_the_missing_node():
    # As a hand-edited (or half-merged) file could hold: the link stays, its source does not.
    g = Graph()
    g.add_node("save_video", node_id="save")
    g.add_link(Link("ghost", "video", "save", "video"))
    assert messages(g) == ["node Save Video (save): input 'video': is linked from a node 'ghost' that is not in "
                           "the project"]
    assert messages(g, ["save"]) == ["node 'ghost': is missing from the project",
                                     "node Save Video (save): input 'video': is linked from a node 'ghost' that "
                                     "is not in the project"]


# -- where the render runs (RenderPlace): the files read, the folder written ----------------------

def test_input_files_are_looked_for_next_to_the_project_and_read_with_the_probe(tmp_path):
    (tmp_path / "shots").mkdir()
    (tmp_path / "shots" / "still.png").write_bytes(b"not really a picture")
    g = Graph()
    g.add_node("load_image", {"path": "shots/gone.png"}, node_id="photo")
    g.add_node("save_image", node_id="still")
    g.connect("photo", "image", "still", "image")

    def probe(path, kind):
        return f"{path.name} could not be decoded as an {kind}"

    place = RenderPlace(project_dir=tmp_path, probe=probe)
    assert [str(p) for p in validate(g, place=place)] == [
        f"node Load Image (photo): parameter 'path': no such file: {tmp_path / 'shots' / 'gone.png'}"]
    g.set_param("photo", "path", "shots")
    assert [str(p) for p in validate(g, place=place)] == [
        f"node Load Image (photo): parameter 'path': {tmp_path / 'shots'} is a folder, not image file"]
    g.set_param("photo", "path", "shots/still.png")
    (problem,) = validate(g, place=place)
    assert (problem.code, str(problem)) == (
        "bad_file", "node Load Image (photo): parameter 'path': still.png could not be decoded as an image")
    assert validate(g, place=RenderPlace(project_dir=tmp_path)) == []  # no probe: existing is enough


def free_space(monkeypatch, megabytes):
    """A disk with this much room: a full disk cannot be made for real in a test, so the size the
    check reads (shutil.disk_usage) is what is replaced; the estimate and the message are real."""
    import shutil

    import nodes.validation as validation

    real = shutil.disk_usage
    monkeypatch.setattr(validation.shutil, "disk_usage", lambda p: real(p)._replace(free=int(megabytes * 2 ** 20)))


def output_problems(graph, tmp_path):
    place = RenderPlace(project_dir=tmp_path, output_dir=tmp_path / "out")
    return [str(p) for p in validate(graph, place=place) if p.code == "output_folder"]


def test_every_save_keeps_16_mb_spare_beyond_its_file(tmp_path, monkeypatch):
    (tmp_path / "in.png").write_bytes(b"a picture")
    g = Graph()
    g.add_node("load_image", {"path": "in.png"}, node_id="photo")  # says no size: the estimate is 0
    g.add_node("save_image", node_id="still")
    g.connect("photo", "image", "still", "image")
    free_space(monkeypatch, 15)
    assert output_problems(g, tmp_path) == [
        f"node Save Image (still): the output folder {tmp_path} has 15 MB free; this file needs about 16 MB"]
    free_space(monkeypatch, 17)
    assert output_problems(g, tmp_path) == []


def test_the_room_a_video_needs_comes_from_the_size_and_length_upstream(tmp_path, monkeypatch):
    g = simple_graph()  # 832x480, 81 frames: ~9 MB of H.264, plus the 16 MB spare
    g.add_node("reverse_video", node_id="back")  # in between, saying no size of its own
    g.connect("t2v", "video", "back", "video")
    g.connect("back", "out", "save", "video")
    free_space(monkeypatch, 20)
    needs = f"node Save Video (save): the output folder {tmp_path} has 20 MB free; this file needs about"
    assert output_problems(g, tmp_path) == [f"{needs} 25 MB"]
    g.set_param("t2v", "width", 1280)
    g.set_param("t2v", "height", 720)
    assert output_problems(g, tmp_path) == [f"{needs} 37 MB"]
    g.set_param("t2v", "duration_unit", "seconds")  # 10 s at 16 fps: 160 frames
    g.set_param("t2v", "seconds", 10.0)
    assert output_problems(g, tmp_path) == [f"{needs} 58 MB"]
    free_space(monkeypatch, 60)
    assert output_problems(g, tmp_path) == []


def test_a_reframe_on_the_way_sets_the_size_and_keeps_the_length_upstream(tmp_path, monkeypatch):
    g = simple_graph()  # 832x480, 81 frames
    g.add_node("reframe_video", node_id="frame")  # width and height 0: keep the clip's size
    g.connect("t2v", "video", "frame", "video")
    g.connect("frame", "out", "save", "video")
    free_space(monkeypatch, 20)
    needs = f"node Save Video (save): the output folder {tmp_path} has 20 MB free; this file needs about"
    assert output_problems(g, tmp_path) == [f"{needs} 25 MB"]  # as if the Reframe were not there
    g.set_param("frame", "width", 1280)  # a bigger picture, the same 81 frames
    g.set_param("frame", "height", 720)
    assert output_problems(g, tmp_path) == [f"{needs} 37 MB"]


def test_the_room_a_sound_file_needs_comes_from_its_length(tmp_path, monkeypatch):
    g = Graph()
    g.add_node("text", {"text": "rain on a tin roof"}, node_id="prompt")
    g.add_node("text_to_audio", {"seconds": 30.0}, node_id="sound")  # 30 s of 48 kHz 16-bit stereo: 5.5 MB, plus the spare
    g.add_node("save_audio", node_id="wav")
    g.connect("prompt", "out", "sound", "prompt")
    g.connect("sound", "audio", "wav", "audio")
    free_space(monkeypatch, 10)
    assert output_problems(g, tmp_path) == [
        f"node Save Audio (wav): the output folder {tmp_path} has 10 MB free; this file needs about 21 MB"]
