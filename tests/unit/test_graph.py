"""The graph model: edits, refusals with reasons, and change notifications."""

import pytest

from nodes.graph import Backdrop, Graph, GraphError, Link, reroute_key


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


def test_the_graph_hands_out_read_only_views(graph):
    text = graph.add_node("text", position=(1, 2))
    t2v = graph.add_node("text_to_video")
    graph.connect(text.id, "out", t2v.id, "prompt")
    graph.set_reroutes(reroute_key(graph.links[0]), [(5, 6)])
    with pytest.raises(TypeError):
        graph.nodes["other"] = text
    with pytest.raises(TypeError):
        del graph.nodes[text.id]
    with pytest.raises(AttributeError):
        graph.links.append(Link(t2v.id, "video", text.id, "in"))
    with pytest.raises(TypeError):
        graph.positions[t2v.id] = (0.0, 0.0)
    with pytest.raises(TypeError):
        graph.reroutes[reroute_key(graph.links[0])] = []
    with pytest.raises(AttributeError):
        graph.backdrops.append(Backdrop("b", (0, 0, 10, 10)))
    with pytest.raises(AttributeError):
        graph.nodes = {}
    # Nothing got in or out behind the graph's back.
    assert list(graph.nodes) == [text.id, t2v.id] and len(graph.links) == 1
    assert dict(graph.positions) == {text.id: (1.0, 2.0)} and graph.backdrops == ()
    assert dict(graph.reroutes) == {reroute_key(graph.links[0]): [(5.0, 6.0)]}


def test_a_node_or_link_goes_back_at_its_index(graph):
    seen = []
    graph.node_added.connect(lambda n: seen.append(n.id))
    graph.link_added.connect(lambda l: seen.append(str(l)))
    a, b, c = (graph.add_node("text", node_id=name, position=(i, 0)) for i, name in enumerate("abc"))
    graph.add_node("text_to_video", node_id="t2v", position=(9, 9))
    graph.add_node("text_to_audio", node_id="sfx")
    graph.connect("b", "out", "sfx", "prompt")
    graph.connect("a", "out", "t2v", "prompt")
    assert [str(l) for l in graph.links] == ["b.out -> sfx.prompt", "a.out -> t2v.prompt"]
    node, links, position = graph.remove_node("b")
    seen.clear()
    graph.insert_node(node, position, index=1, position_index=1)
    assert list(graph.nodes) == ["a", "b", "c", "t2v", "sfx"]
    assert list(graph.positions) == ["a", "b", "c", "t2v"]
    (link,) = links
    graph.add_link(link, index=0)
    assert [str(l) for l in graph.links] == ["b.out -> sfx.prompt", "a.out -> t2v.prompt"]
    assert seen == ["b", "b.out -> sfx.prompt"]  # put back is signalled like any addition
    graph.add_link(link, index=1)  # already there: nothing moves
    assert graph.link_index(link) == 0
    # Without an index, last, as before; an index past the end is last too.
    graph.remove_node("a")
    graph.insert_node(a, (0, 0))
    graph.remove_node("c")
    graph.insert_node(c, (2, 0), index=99, position_index=0)
    assert list(graph.nodes) == ["b", "t2v", "sfx", "a", "c"]
    assert list(graph.positions) == ["c", "b", "t2v", "a"]


def test_a_new_node_is_enabled(graph):
    seen = []
    graph.node_changed.connect(lambda n, what: seen.append((n, what)))
    t2v = graph.add_node("text_to_video")
    assert t2v.bypassed is False  # a node just added runs; it does not pass its input through
    graph.set_bypassed(t2v.id, True)
    assert t2v.bypassed is True and seen == [(t2v.id, "bypassed")]


def test_an_unknown_parameter_is_refused_with_the_ones_the_node_has(graph):
    text = graph.add_node("text")
    with pytest.raises(GraphError) as refused:
        graph.set_param(text.id, "txt", "a fox")
    assert str(refused.value) == "Text (text): no parameter 'txt' (its parameters: text)"
    join = graph.add_node("concatenate_videos")
    with pytest.raises(GraphError) as refused:
        graph.set_param(join.id, "speed", 2)
    assert str(refused.value) == ("Concatenate Videos (concatenate_videos): no parameter 'speed' "
                                  "(its parameters: none)")
