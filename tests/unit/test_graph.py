"""The graph model: edits, refusals with reasons, and change notifications."""

import pytest

from nodes.graph import Graph, GraphError, Link


@pytest.fixture
def graph():
    return Graph()


def test_add_node_fills_defaults_and_readable_ids(graph):
    a = graph.add_node("text_to_video")
    b = graph.add_node("text_to_video")
    assert (a.id, b.id) == ("text_to_video", "text_to_video_2")
    assert a.params["steps"] == 30 and a.params["width"] == 832


def test_unknown_type_is_refused_with_a_suggestion(graph):
    with pytest.raises(GraphError, match="unknown node type 'text_to_vdeo'.*'text_to_video'"):
        graph.add_node("text_to_vdeo")


def test_connect_checks_types_and_says_why(graph):
    text = graph.add_node("text")
    t2v = graph.add_node("text_to_video")
    save = graph.add_node("save_audio")
    graph.connect(text.id, "out", t2v.id, "prompt")
    problem = graph.connection_problem(t2v.id, "video", save.id, "audio")
    assert "Video" in problem and "Audio" in problem
    with pytest.raises(GraphError, match="takes Audio"):
        graph.connect(t2v.id, "video", save.id, "audio")


def test_an_input_holds_one_link_and_the_old_one_is_returned(graph):
    a, b = graph.add_node("text"), graph.add_node("text")
    t2v = graph.add_node("text_to_video")
    graph.connect(a.id, "out", t2v.id, "prompt")
    link, replaced = graph.connect(b.id, "out", t2v.id, "prompt")
    assert replaced == Link(a.id, "out", t2v.id, "prompt")
    assert graph.incoming(t2v.id) == [link]


def test_loops_and_self_links_are_refused(graph):
    v1 = graph.add_node("add_audio_to_video")
    v2 = graph.add_node("add_audio_to_video")
    graph.connect(v1.id, "out", v2.id, "video")
    assert graph.connection_problem(v2.id, "out", v1.id, "video") == "this link would make a loop"
    assert graph.connection_problem(v1.id, "out", v1.id, "video") == "a node cannot feed itself"


def test_set_param_checks_type_and_range_naming_node_and_parameter(graph):
    t2v = graph.add_node("text_to_video")
    assert graph.set_param(t2v.id, "steps", "12") == 30
    assert t2v.params["steps"] == 12
    with pytest.raises(GraphError, match=r"Text to Video \(text_to_video\): parameter 'steps': 0 is below the minimum 1"):
        graph.set_param(t2v.id, "steps", 0)
    with pytest.raises(GraphError, match="parameter 'guidance': expected a number"):
        graph.set_param(t2v.id, "guidance", "lots")
    with pytest.raises(GraphError, match="no parameter 'stepz'"):
        graph.set_param(t2v.id, "stepz", 3)
    assert t2v.params["steps"] == 12  # a refused edit changes nothing


def test_signals_let_a_view_mirror_the_model(graph):
    seen = []
    graph.node_added.connect(lambda n: seen.append(("added", n.id)))
    graph.link_added.connect(lambda l: seen.append(("link", str(l))))
    graph.param_changed.connect(lambda n, p, v: seen.append(("param", n, p, v)))
    graph.link_removed.connect(lambda l: seen.append(("unlink", str(l))))
    graph.node_removed.connect(lambda n: seen.append(("removed", n.id)))
    text = graph.add_node("text")
    t2v = graph.add_node("text_to_video")
    graph.connect(text.id, "out", t2v.id, "prompt")
    graph.set_param(t2v.id, "seed", 7)
    node, links, _ = graph.remove_node(text.id)
    assert seen == [("added", "text"), ("added", "text_to_video"), ("link", "text.out -> text_to_video.prompt"),
                    ("param", "text_to_video", "seed", 7), ("unlink", "text.out -> text_to_video.prompt"),
                    ("removed", "text")]
    assert node.id == "text" and len(links) == 1


def test_find_by_id_or_unique_title(graph):
    t = graph.add_node("text", title="Prompt")
    assert graph.find("Prompt") is t
    assert graph.find("text") is t
    graph.add_node("text", title="Prompt")
    with pytest.raises(GraphError, match="2 nodes are titled 'Prompt'"):
        graph.find("Prompt")
