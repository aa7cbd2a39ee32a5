"""Schema steps of the project file, each with a file of the old version.

Schema 1 -> 2: reroute dots move from ``settings.reroutes`` (which go to the
engine with every run) to the layout section.
"""

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nodes import migrations, project
from nodes.graph import Graph, Link, reroute_key

# A project as Weft saved it with schema 1: the bends of the prompt link are in
# the settings, next to a real render setting.
SCHEMA_1 = """{
  "weft": {"schema": 1},
  "nodes": {
    "prompt": {"type": "text", "version": 1, "title": "Prompt", "params": {"text": "a red fox"}},
    "t2v": {"type": "text_to_video", "version": 1, "params": {"steps": 12}},
    "save": {"type": "save_video", "version": 1, "params": {}}
  },
  "links": [
    {"from": "prompt.out", "to": "t2v.prompt"},
    {"from": "t2v.video", "to": "save.video"}
  ],
  "layout": {"nodes": {"prompt": [0, 0], "t2v": [300, 0], "save": [600, 0]}, "backdrops": []},
  "settings": {
    "quality": "draft",
    "reroutes": {"prompt.out>t2v.prompt": [[150, 80], [200.5, 120]]}
  }
}
"""

PROMPT_LINK = Link("prompt", "out", "t2v", "prompt")


def schema_notes(loaded):
    """The notes of the schema steps (SCHEMA_1's Save Video, version 1, adds one of its own)."""
    return [n for n in loaded.migration_notes if "upgraded from version" not in n]
VIDEO_LINK = Link("t2v", "video", "save", "video")


def schema_1(reroutes):
    data = json.loads(SCHEMA_1)
    data["settings"]["reroutes"] = reroutes
    return data


def test_the_current_schema_is_2_and_every_older_one_has_a_step():
    assert migrations.CURRENT_SCHEMA == project.SCHEMA_VERSION == 2
    assert set(migrations.STEPS) == {1}


def test_a_schema_1_file_opens_with_its_bends_in_the_layout_and_saves_as_schema_2(tmp_path):
    old = tmp_path / "shot.weft"
    old.write_text(SCHEMA_1)
    loaded = project.load(old)
    assert loaded.graph.reroutes == {"prompt.out>t2v.prompt": [(150.0, 80.0), (200.5, 120.0)]}
    assert loaded.settings == {"quality": "draft"}  # what goes to the engine is render settings only
    # (its Save Video is version 1: it now keeps every render, nodes.catalogue.save)
    assert loaded.migration_notes == ["project file upgraded to schema 2",
                                      "Save Video (save) upgraded from version 1 to 2"]

    saved = json.loads(project.dumps(loaded.graph, loaded.settings))
    assert saved["weft"] == {"schema": 2}
    assert saved["layout"]["reroutes"] == {"prompt.out>t2v.prompt": [[150, 80], [200.5, 120]]}
    assert saved["settings"] == {"quality": "draft"}

    # Saving and reopening keeps the bends, with nothing left to upgrade.
    project.save(loaded, tmp_path / "again.weft")
    reopened = project.load(tmp_path / "again.weft")
    assert reopened.graph.reroutes == loaded.graph.reroutes
    assert reopened.migration_notes == []


def test_a_schema_1_file_without_reroutes_changes_only_its_schema():
    data = json.loads(SCHEMA_1)
    del data["settings"]["reroutes"]
    new = migrations.upgrade(data, [])
    assert new == {**data, "weft": {"schema": 2}}
    assert "reroutes" not in new["layout"]


def test_the_step_is_pure():
    data = schema_1({"prompt.out>t2v.prompt": [[1, 2]], "t2v.video>save.video": "bad"})
    before = copy.deepcopy(data)
    notes = []
    first = migrations.reroutes_to_layout(data, notes)
    assert data == before  # the input is untouched, however deep
    assert first["layout"]["reroutes"] == {"prompt.out>t2v.prompt": [[1.0, 2.0]]}
    assert "reroutes" not in first["settings"]
    # the same input gives the same output
    assert migrations.reroutes_to_layout(data, []) == first
    # and changing the output does not reach back into the input
    first["settings"]["quality"] = "final"
    first["layout"]["nodes"]["prompt"][0] = 99
    assert data == before


@pytest.mark.parametrize("reroutes, dropped", [
    ("oops", "not a table"),
    ([[1, 2]], "not a table"),
    (None, "not a table"),
    ({"prompt.out>t2v.prompt": [[1, 2, 3]]}, "1 link"),
    ({"prompt.out>t2v.prompt": [["x", 1]]}, "1 link"),
    ({"prompt.out>t2v.prompt": [[True, 1]]}, "1 link"),
    ({"prompt.out>t2v.prompt": [[float("nan"), 1]]}, "1 link"),
    ({"prompt.out>t2v.prompt": {"x": 1}}, "1 link"),
    ({"prompt.out": [[1, 2]], "no key at all": [[1, 2]]}, "2 links"),
])
def test_malformed_schema_1_reroutes_are_dropped_with_a_note(reroutes, dropped):
    loaded = project.from_dict(schema_1(reroutes))
    assert loaded.graph.reroutes == {}
    assert loaded.settings == {"quality": "draft"}
    notes = schema_notes(loaded)
    assert len(notes) == 2
    assert "reroute dots" in notes[0] and dropped in notes[0]
    assert notes[1] == "project file upgraded to schema 2"
    # the rest of the project is all there
    assert set(loaded.graph.nodes) == {"prompt", "t2v", "save"} and len(loaded.graph.links) == 2


def test_good_bends_survive_next_to_malformed_ones():
    loaded = project.from_dict(schema_1({"prompt.out>t2v.prompt": [[10, 20]], "t2v.video>save.video": [[1]]}))
    assert loaded.graph.reroutes == {"prompt.out>t2v.prompt": [(10.0, 20.0)]}
    assert loaded.migration_notes[0].startswith("the reroute dots of 1 link could not be read")


def test_bends_of_links_the_file_does_not_have_are_dropped_on_load():
    data = schema_1({"prompt.out>t2v.prompt": [[1, 2]], "gone.out>t2v.prompt": [[5, 6]]})
    loaded = project.from_dict(data)
    assert loaded.graph.reroutes == {"prompt.out>t2v.prompt": [(1.0, 2.0)]}


points = st.lists(st.integers(-1000, 1000) | st.floats(allow_nan=True) | st.booleans() | st.text(max_size=3),
                  max_size=3)
reroute_tables = st.none() | st.text(max_size=5) | st.lists(points, max_size=3) | st.dictionaries(
    st.sampled_from(["prompt.out>t2v.prompt", "t2v.video>save.video", "x>y", ""]) | st.text(max_size=8),
    st.lists(points, max_size=3) | points | st.integers() | st.none(), max_size=4)


@settings(max_examples=300, deadline=None)
@given(reroute_tables)
def test_any_schema_1_reroute_table_opens_and_saves(table):
    loaded = project.from_dict(schema_1(table))
    assert loaded.settings == {"quality": "draft"}
    assert schema_notes(loaded)[-1] == "project file upgraded to schema 2"
    reopened = project.loads(project.dumps(loaded.graph, loaded.settings))
    assert reopened.graph.reroutes == loaded.graph.reroutes and not reopened.migration_notes


# -- schema 2: reroutes in the layout ---------------------------------------------------
def graph_with_bends():
    g = Graph()
    g.add_node("text", {"text": "a fox"}, node_id="prompt", position=(0, 0))
    g.add_node("text_to_video", node_id="t2v", position=(300, 0))
    g.add_node("save_video", node_id="save", position=(600, 0))
    g.connect("prompt", "out", "t2v", "prompt")
    g.connect("t2v", "video", "save", "video")
    g.set_reroutes(reroute_key(PROMPT_LINK), [(150, 80), (200.25, 120)])
    return g


def test_reroutes_round_trip_through_the_layout_section():
    g = graph_with_bends()
    text = project.dumps(g, {"quality": "final"})
    data = json.loads(text)
    assert data["layout"]["reroutes"] == {"prompt.out>t2v.prompt": [[150, 80], [200.25, 120]]}
    assert data["settings"] == {"quality": "final"}
    loaded = project.loads(text)
    assert loaded.graph.reroutes == g.reroutes
    assert loaded.migration_notes == []
    assert project.dumps(loaded.graph, loaded.settings) == text


def test_a_file_without_bends_has_no_reroutes_entry():
    g = graph_with_bends()
    g.set_reroutes(reroute_key(PROMPT_LINK), [])
    assert g.reroutes == {}
    assert "reroutes" not in json.loads(project.dumps(g))["layout"]


def test_bends_of_a_removed_link_are_not_saved_but_come_back_with_it():
    g = graph_with_bends()
    g.remove_link(PROMPT_LINK)
    assert "reroutes" not in json.loads(project.dumps(g))["layout"]
    taken = g.take_reroutes([PROMPT_LINK, VIDEO_LINK])
    assert taken == {"prompt.out>t2v.prompt": [(150.0, 80.0), (200.25, 120.0)]} and g.reroutes == {}
    g.add_link(PROMPT_LINK)
    g.put_reroutes(taken)
    assert json.loads(project.dumps(g))["layout"]["reroutes"] == {"prompt.out>t2v.prompt": [[150, 80], [200.25, 120]]}


def test_reroute_changes_are_signalled():
    g = graph_with_bends()
    seen = []
    g.reroutes_changed.connect(lambda: seen.append(dict(g.reroutes)))
    old = g.set_reroutes(reroute_key(VIDEO_LINK), [(1, 2)])
    assert old == [] and seen[-1][reroute_key(VIDEO_LINK)] == [(1.0, 2.0)]
    g.take_reroutes([VIDEO_LINK])
    assert reroute_key(VIDEO_LINK) not in seen[-1]
    assert len(seen) == 2
    g.take_reroutes([VIDEO_LINK])  # nothing to take: no signal
    assert len(seen) == 2


def test_malformed_layout_reroutes_in_a_schema_2_file_are_refused_clearly():
    data = json.loads(project.dumps(graph_with_bends()))
    data["layout"]["reroutes"]["prompt.out>t2v.prompt"] = [[1, 2, 3]]
    with pytest.raises(project.ProjectError, match=r"layout\.reroutes"):
        project.from_dict(data)


def test_reroute_key_names_both_ends():
    assert reroute_key(PROMPT_LINK) == "prompt.out>t2v.prompt"
