"""Validation before a run: every problem names the node and the parameter or input."""

from nodes import project
from nodes.graph import Graph, Link, Node
from nodes.validation import validate


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
