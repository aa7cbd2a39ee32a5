"""Write the example projects of the video-generation nodes (assets/examples/*.weft).

    python assets/make_video_examples.py

The projects are authored here, with the graph API, so they always hold every
parameter of the current node versions and links that validate. They are
sized to preview on the tiny models in seconds (`weft render EXAMPLE --models
tiny`) and to give a quick first look with the real models: "preview"
resolution (about 480x272), 1-1.5 seconds, 10-16 steps: drafts. Raise the
resolution to 480p, the length, and the steps to 30 or more for a final render.

Inputs come from assets/make_example_inputs.py (assets/inputs/).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EXAMPLES = ROOT / "assets" / "examples"
INPUTS = "../inputs"


_EXPLICIT: dict[str, set[str]] = {}


def _save(graph, name: str) -> None:
    """Save with the parameters the example is about: everything a video node declares itself, and
    what was set on the others. The rest (speed switches every model node shares, a save node's
    quality) take today's defaults when the project loads, so the files stay short and current."""
    import json

    from nodes.catalogue.model_node import ModelNode
    from nodes.project import to_dict
    from nodes.validation import validate

    problems = validate(graph)
    if problems:
        raise SystemExit(f"{name}: " + "; ".join(map(str, problems)))
    data = to_dict(graph)
    for node_id, entry in data["nodes"].items():
        node_type = graph.registry.get(entry["type"])
        keep = set(_EXPLICIT.get(node_id, ()))
        if issubclass(node_type, ModelNode):
            keep |= set(node_type.params) - set(ModelNode.params)
        entry["params"] = {k: v for k, v in entry["params"].items() if k in keep}
    (EXAMPLES / f"{name}.weft").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _EXPLICIT.clear()
    print(f"wrote assets/examples/{name}.weft")


def _graph():
    from nodes.graph import Graph
    return Graph()


def _prompt(g, node_id: str, text: str, title: str, at: tuple[float, float]) -> None:
    _EXPLICIT[node_id] = {"text"}
    g.add_node("text", {"text": text}, node_id=node_id, title=title)
    g.positions[node_id] = at


def _node(g, type_id: str, node_id: str, params: dict, at: tuple[float, float], title: str = "") -> None:
    _EXPLICIT[node_id] = set(params)
    g.add_node(type_id, params, node_id=node_id, title=title)
    g.positions[node_id] = at


def _save_video(g, source: str, socket: str, at: tuple[float, float]) -> None:
    _node(g, "save_video", "save", {"filename": "{project}", "format": "mp4"}, at)
    g.connect(source, socket, "save", "video")


def text_to_video() -> None:
    g = _graph()
    _prompt(g, "prompt", "A red fox trots through fresh snow at golden hour, low camera, shallow depth of field, "
                         "cinematic", "Prompt", (0, 0))
    _node(g, "text_to_video", "t2v", {"model": "wan2.1-t2v-1.3b", "aspect": "16:9", "resolution": "preview",
                                      "duration_unit": "seconds", "seconds": 1.5, "fps": 16.0, "steps": 16,
                                      "guidance": 5.0, "seed": 0}, (320, 0))
    g.connect("prompt", "out", "t2v", "prompt")
    _save_video(g, "t2v", "video", (640, 0))
    _save(g, "text_to_video")


def image_to_video() -> None:
    g = _graph()
    _node(g, "load_image", "first", {"path": f"{INPUTS}/subject_mia.png"}, (0, 0), "First frame: Mia")
    _prompt(g, "prompt", "The girl in the red coat smiles and waves at the camera, her hair moving in a light "
                         "breeze, the camera slowly pushes in", "Prompt", (0, 160))
    _node(g, "image_to_video", "i2v", {"model": "wan2.2-ti2v-5b", "aspect": "from input", "resolution": "preview",
                                       "duration_unit": "seconds", "seconds": 1.0, "fps": 24.0, "steps": 12,
                                       "guidance": 5.0, "seed": 0}, (320, 60))
    g.connect("first", "image", "i2v", "first_frame")
    g.connect("prompt", "out", "i2v", "prompt")
    _save_video(g, "i2v", "video", (640, 60))
    _save(g, "image_to_video")


def personalize_two_subjects() -> None:
    g = _graph()
    _node(g, "load_image", "mia", {"path": f"{INPUTS}/subject_mia.png"}, (0, 0), "Mia")
    _node(g, "load_image", "leo", {"path": f"{INPUTS}/subject_leo.png"}, (0, 140), "Leo")
    _prompt(g, "prompt", "[Mia] throws a red ball across a sunny park and [Leo] runs after it, then [Mia] laughs",
            "Anchored prompt", (0, 280))
    _node(g, "personalize", "cast", {
        "model": "wan2.1-vace-1.3b",
        "label_1": "Mia", "description_1": "a girl with a dark bob in a red coat",
        "label_2": "Leo", "description_2": "a brown dog with a blue collar",
        "aspect": "16:9", "resolution": "preview", "duration_unit": "seconds", "seconds": 1.0, "fps": 16.0,
        "steps": 10, "guidance": 5.0, "seed": 0}, (320, 100))
    g.connect("mia", "image", "cast", "reference_1")
    g.connect("leo", "image", "cast", "reference_2")
    g.connect("prompt", "out", "cast", "prompt")
    _save_video(g, "cast", "video", (660, 100))
    _save(g, "personalize_two_subjects")


def edit_restyle() -> None:
    g = _graph()
    _node(g, "load_video", "clip", {"path": f"{INPUTS}/clip_street.mp4"}, (0, 0), "Street clip")
    _prompt(g, "prompt", "A watercolour painting of a quiet street, a bakery with a green sign, a red car "
                         "driving past, soft paper texture", "Prompt", (0, 160))
    _node(g, "restyle_video", "restyle", {"strength": 0.6, "resolution": "preview", "steps": 16, "guidance": 5.0,
                                          "seed": 0}, (320, 60))
    g.connect("clip", "video", "restyle", "video")
    g.connect("prompt", "out", "restyle", "prompt")
    _save_video(g, "restyle", "out", (640, 60))
    _save(g, "edit_restyle")


def edit_masked() -> None:
    g = _graph()
    _node(g, "load_video", "clip", {"path": f"{INPUTS}/clip_street.mp4"}, (0, 0), "Street clip")
    _node(g, "load_image", "mask_image", {"path": f"{INPUTS}/mask_sign.png"}, (0, 140), "Sign mask (white)")
    _node(g, "image_to_mask", "mask", {"threshold": 0.5}, (240, 140))
    _prompt(g, "prompt", "A street with a shop whose sign reads CAFE in glowing pink neon letters, a red car "
                         "driving past", "Prompt", (0, 280))
    _node(g, "masked_edit_video", "edit", {"grow": 8, "feather": 4.0, "resolution": "preview", "steps": 10,
                                           "guidance": 5.0, "seed": 0}, (480, 60))
    g.connect("mask_image", "image", "mask", "image")
    g.connect("clip", "video", "edit", "video")
    g.connect("mask", "mask", "edit", "mask")
    g.connect("prompt", "out", "edit", "prompt")
    _save_video(g, "edit", "out", (800, 60))
    _save(g, "edit_masked")


def populate_scene() -> None:
    g = _graph()
    _node(g, "load_image", "scene", {"path": f"{INPUTS}/scene_park.png"}, (0, 0), "Empty park")
    _node(g, "load_image", "region_image", {"path": f"{INPUTS}/region_bench.png"}, (0, 140), "Region (white)")
    _node(g, "image_to_mask", "region", {"threshold": 0.5}, (240, 140))
    _prompt(g, "prompt", "A man in a blue jacket walks in along the path and sits down on the bench", "Prompt",
            (0, 280))
    _node(g, "populate_scene", "populate", {"model": "wan2.1-vace-1.3b", "aspect": "from input",
                                            "resolution": "preview", "duration_unit": "seconds", "seconds": 1.0,
                                            "fps": 16.0, "steps": 10, "guidance": 5.0, "seed": 0}, (480, 60))
    g.connect("region_image", "image", "region", "image")
    g.connect("scene", "image", "populate", "scene")
    g.connect("region", "mask", "populate", "region")
    g.connect("prompt", "out", "populate", "prompt")
    _save_video(g, "populate", "video", (800, 60))
    _save(g, "populate_scene")


ALL = (text_to_video, image_to_video, personalize_two_subjects, edit_restyle, edit_masked, populate_scene)


def main() -> int:
    for make in ALL:
        make()
    return 0


if __name__ == "__main__":
    sys.exit(main())
