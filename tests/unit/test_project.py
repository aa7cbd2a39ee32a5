"""The .weft project file: round trips, migration, and loading bad files safely."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nodes import migrations, project
from nodes.definition import NodeType, Output, Param
from nodes.graph import Backdrop, Graph
from nodes.registry import Registry, default_registry
from nodes import types as T


def sample_graph():
    g = Graph()
    g.add_node("text", {"text": "a red fox in the snow"}, node_id="prompt", title="Prompt", position=(10, 20))
    g.add_node("text_to_video", {"steps": 12, "seed": 42}, node_id="t2v", position=(300, 20))
    g.add_node("save_video", node_id="save", position=(600, 20))
    g.connect("prompt", "out", "t2v", "prompt")
    g.connect("t2v", "video", "save", "video")
    g.set_bypassed("save", True)
    g.set_backdrops([Backdrop("Shot 1", (0, 0, 800, 300), "#334455")])
    return g


def test_round_trip_keeps_everything():
    g = sample_graph()
    text = project.dumps(g, {"quality": "draft"})
    loaded = project.loads(text)
    assert project.dumps(loaded.graph, loaded.settings) == text
    assert loaded.graph.nodes["t2v"].params["seed"] == 42
    assert loaded.graph.nodes["prompt"].title == "Prompt"
    assert loaded.graph.nodes["save"].bypassed
    assert loaded.graph.positions["t2v"] == (300, 20)
    assert loaded.settings == {"quality": "draft"}


def test_file_layout_is_diffable():
    data = json.loads(project.dumps(sample_graph()))
    assert data["weft"] == {"schema": project.SCHEMA_VERSION}
    assert data["nodes"]["t2v"]["params"]["steps"] == 12  # by name, not position
    assert data["links"] == [{"from": "prompt.out", "to": "t2v.prompt"}, {"from": "t2v.video", "to": "save.video"}]
    assert data["layout"]["nodes"]["t2v"] == [300, 20]
    assert not {"x", "y", "pos", "position"} & set(data["nodes"]["t2v"])  # layout lives apart


def test_save_is_atomic_and_load_reads_it(tmp_path):
    p = project.Project(sample_graph())
    path = project.save(p, tmp_path / "shot.weft")
    assert [f.name for f in tmp_path.iterdir()] == ["shot.weft"]
    assert project.load(path).graph.nodes.keys() == p.graph.nodes.keys()


def test_missing_parameters_take_defaults_and_unknown_types_are_kept():
    data = json.loads(project.dumps(sample_graph()))
    del data["nodes"]["t2v"]["params"]["guidance"]
    data["nodes"]["future"] = {"type": "hologram", "params": {"x": 1}}
    loaded = project.from_dict(data)
    assert loaded.graph.nodes["t2v"].params["guidance"] == 5.0
    assert loaded.graph.nodes["future"].params == {"x": 1}
    # and it saves back unchanged: opening never loses the artist's data
    assert json.loads(project.dumps(loaded.graph))["nodes"]["future"]["type"] == "hologram"


@pytest.mark.parametrize("text, expected", [
    ("{", "not valid JSON"),
    ("[]", "not a Weft project"),
    ('{"weft": {"schema": 99}}', "saved by a newer Weft (schema 99"),
    ('{"weft": {"schema": "1"}}', "weft.schema: expected a whole number"),
    ('{"weft": {"schema": 1}, "nodes": {"a": {"type": "text", "params": []}}}', "nodes.a.params"),
    ('{"weft": {"schema": 1}, "links": [{"from": "a", "to": "b.c"}]}', "is not of the form node.socket"),
    ('{"weft": {"schema": 1}, "nodes": {"a b": {"type": "text"}}}', "node id 'a b'"),
])
def test_bad_files_get_one_clear_message(text, expected):
    with pytest.raises(project.ProjectError, match=expected.replace("(", r"\(").replace(".", r"\.")):
        project.loads(text, source="shot.weft")


def test_newer_node_version_is_refused():
    data = json.loads(project.dumps(sample_graph()))
    data["nodes"]["t2v"]["version"] = 7
    with pytest.raises(project.ProjectError, match=r"node Text to Video \(t2v\) was saved by a newer Weft"):
        project.from_dict(data)


def test_the_newest_node_version_opens_and_the_next_one_is_refused():
    newest = default_registry().get("text_to_video").version
    data = json.loads(project.dumps(sample_graph()))
    data["nodes"]["t2v"]["version"] = newest
    assert project.from_dict(data).graph.nodes["t2v"].type_id == "text_to_video"
    data["nodes"]["t2v"]["version"] = newest + 1
    with pytest.raises(project.ProjectError, match=rf"version {newest + 1}|newer Weft"):
        project.from_dict(data)


@pytest.mark.parametrize("change, expected", [
    (lambda node: node.update(colour="red"), "nodes.t2v.colour"),  # an unknown key is not skipped silently
    (lambda node: node.update(version="2"), "nodes.t2v.version"),  # strings are not numbers here
    (lambda node: node.update(bypassed=1), "nodes.t2v.bypassed"),
    (lambda node: node.update(title=["a"]), "nodes.t2v.title"),
])
def test_unknown_keys_and_wrong_types_in_a_node_are_refused_by_name(change, expected):
    data = json.loads(project.dumps(sample_graph()))
    change(data["nodes"]["t2v"])
    with pytest.raises(project.ProjectError, match=expected.replace(".", r"\.")):
        project.loads(json.dumps(data), source="shot.weft")


# -- migrations ---------------------------------------------------------------------
class Blur(NodeType):
    """A node type whose version 1 had 'radius_px'; version 2 calls it 'radius'."""
    type_id = "blur"
    title = "Blur"
    version = 2
    radius = Param.float(2.0, min=0, max=100)
    out = Output(T.IMAGE)

    @classmethod
    def migrate(cls, params, from_version):
        if from_version == 1:
            params = dict(params)
            params["radius"] = float(params.pop("radius_px", 2.0))
            return params
        return super().migrate(params, from_version)


def test_node_type_migration_upgrades_old_parameters():
    registry = Registry([Blur])
    old = {"weft": {"schema": project.SCHEMA_VERSION},
           "nodes": {"b": {"type": "blur", "version": 1, "params": {"radius_px": 5}}}}
    loaded = project.from_dict(old, registry)
    assert loaded.graph.nodes["b"].params == {"radius": 5.0}
    assert loaded.graph.nodes["b"].version == 2
    assert loaded.migration_notes == ["Blur (b) upgraded from version 1 to 2"]


def test_schema_steps_run_in_order_and_leave_the_input_alone():
    def zero_to_one(data, notes):
        # schema 0 kept links as [src, socket, dst, socket] lists
        data["links"] = [{"from": f"{a}.{b}", "to": f"{c}.{d}"} for a, b, c, d in data["links"]]
        return data

    old = {"weft": {"schema": 0}, "nodes": {}, "links": [["a", "out", "b", "in"]]}
    notes = []
    new = migrations.upgrade(old, notes, steps={0: zero_to_one}, current=1)
    assert new["links"] == [{"from": "a.out", "to": "b.in"}] and new["weft"]["schema"] == 1
    assert old["links"] == [["a", "out", "b", "in"]]
    assert notes == ["project file upgraded to schema 1"]
    with pytest.raises(migrations.MigrationError, match="schema 0 files cannot be upgraded"):
        migrations.upgrade(old, steps={}, current=1)


# -- fuzzing the loader ----------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=25,
)


def mutated_projects():
    base = json.loads(project.dumps(sample_graph()))

    def mutate(path_and_value):
        data = json.loads(json.dumps(base))
        keys, value = path_and_value
        target = data
        for key in keys[:-1]:
            if isinstance(target, dict) and target:
                target = target[sorted(target)[key % len(target)]]
            elif isinstance(target, list) and target:
                target = target[key % len(target)]
        if isinstance(target, dict) and target:
            target[sorted(target)[keys[-1] % len(target)]] = value
        elif isinstance(target, list) and target:
            target[keys[-1] % len(target)] = value
        return data

    return st.tuples(st.lists(st.integers(0, 50), min_size=1, max_size=5), json_values).map(mutate)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, mutated_projects()))
def test_no_malformed_project_escapes_as_an_unhandled_exception(data):
    registry = default_registry()
    try:
        loaded = project.from_dict(data, registry)
    except project.ProjectError:
        return
    # Whatever loads must validate and save without crashing.
    from nodes.validation import validate
    validate(loaded.graph)
    project.dumps(loaded.graph, loaded.settings)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_random_bytes_are_refused_cleanly(blob):
    try:
        project.loads(blob)
    except project.ProjectError:
        pass
