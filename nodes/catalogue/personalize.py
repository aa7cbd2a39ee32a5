"""Personalise: a video of your subjects, named in the prompt by anchors (Movie Weaver's idea on Wan VACE)."""

from __future__ import annotations

from typing import Any

from nodes import types as T
from nodes.anchors import MAX_REFERENCES, SOCKETS, anchor_problems, bind_prompt, reference_labels
from nodes.catalogue import _video as V
from nodes.catalogue.model_node import ModelNode
from nodes.definition import Input, NodeError, Output, Param, RunContext

HOW_ANCHORS_WORK = """\
How anchors become what the model sees:
1. Each anchor names one connected reference: [1]..[4] by socket number, [Mia] by the reference's label.
   An anchor that names nothing, or a connected reference that no anchor names, is an error that
   points at the word (its character span) or at the socket.
2. The references are ordered by where the prompt first names them; that order is the order of the
   reference frames the model sees (the first subject named is reference frame 1).
3. Each anchor is replaced by words: at its first mention "label (description)" (or whichever of the
   two is set; "the first subject" etc. when neither is), later mentions the label alone.
   "[Mia] hands [2] a cup" with reference 1 labelled Mia, described "a girl in a red coat", and
   reference 2 described "an old man" becomes "Mia (a girl in a red coat) hands an old man a cup".
4. Wan VACE gets the reference images (each letterboxed on white at the video's size) as extra
   frames before the video in latent space, in that order. VACE has no anchor tokens of its own: the
   binding is the order plus the words, so describe each subject the way it looks."""


def _label_param(n: int) -> Param:
    return Param.text("", label=f"Label {n}", help=(
        f"A name for reference {n} (\"Mia\") so the prompt can say [Mia] as well as [{n}]; it also "
        "replaces the anchor in the words the model reads. Not a number; each label used once."))


def _description_param(n: int) -> Param:
    return Param.text("", label=f"Description {n}", help=(
        f"What reference {n} looks like, in a few words (\"a girl in a red coat\"): added after the "
        "subject's first mention so the model can tell the subjects apart. Recommended with two or more."))


class Personalize(ModelNode):
    __doc__ = ("A video starring the subjects of up to four reference images, each bound to its words in "
               "the prompt by an anchor, on Wan 2.1 VACE (1.3B default, 14B option).\n\n" + HOW_ANCHORS_WORK)

    type_id = "personalize"
    title = "Personalise with References"
    description = ("A video of your subjects (people, faces, animals, objects) from up to four reference "
                   "images; the prompt names each by an anchor, [1] or [Mia], so two subjects do not blend. "
                   "Wan VACE.\n\n" + HOW_ANCHORS_WORK)
    tags = ("personalise", "personalize", "reference", "subject", "identity", "anchor", "movie weaver", "vace",
            "r2v")

    prompt = Input(T.TEXT, help=(
        "What happens, naming each reference by an anchor: \"[Mia] throws a ball to [2] in a park\". "
        "See the node's description for how anchors become what the model reads."))
    reference_1 = Input(T.IMAGE, help="A subject, ideally cut out on a plain (white) background.")
    reference_2 = Input(T.IMAGE, required=False, help="A second subject (optional).")
    reference_3 = Input(T.IMAGE, required=False, help="A third subject (optional).")
    reference_4 = Input(T.IMAGE, required=False, help="A fourth subject (optional).")
    video = Output(T.VIDEO, help="The clip with the subjects of the references.")
    model_prompt = Output(T.TEXT, label="Model prompt", help="The prompt as the model read it: anchors replaced.")

    model = V.model_param("wan2.1-vace-1.3b", "vace", help=(
        "Wan 2.1 VACE 1.3B: 480p, about 10 GB. VACE 14B: better likeness and motion, 40 GB or more."))
    label_1 = _label_param(1)
    description_1 = _description_param(1)
    label_2 = _label_param(2)
    description_2 = _description_param(2)
    label_3 = _label_param(3)
    description_3 = _description_param(3)
    label_4 = _label_param(4)
    description_4 = _description_param(4)
    reference_strength = Param.float(1.0, min=0.0, max=2.0, step=0.05, help=(
        "How strongly the references steer the video (VACE's conditioning scale). Lower lets the prompt "
        "change more of a subject's look; above 1 holds it tighter."))
    aspect = V.aspect_param("16:9")
    resolution = V.resolution_param()
    width = V.width_param()
    height = V.height_param()
    duration_unit = V.duration_unit_param("seconds")
    seconds = V.seconds_param(3.0)
    frames = V.frames_param()
    fps = V.fps_param()
    steps = V.steps_param()
    guidance = V.guidance_param()
    shift = V.shift_param()
    seed = V.seed_param()
    negative_prompt = V.negative_param()

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[tuple[str, str]]:
        problems = V.shape_problems(params)
        labels = reference_labels(params)
        problems += [(p.where, p.message) for p in anchor_problems("", labels) if p.kind == "label"]
        return problems

    @classmethod
    def check_links(cls, params: dict[str, Any], connected: frozenset[str],
                    known: dict[str, Any]) -> list[tuple[str, str]]:
        prompt = known.get("prompt")
        if not isinstance(prompt, str):
            return []  # the prompt comes from a node that runs: checked when it arrives
        labels = reference_labels(params, connected)
        return [(p.where, p.message) for p in anchor_problems(prompt, labels) if p.kind != "label"]

    def run(self, ctx: RunContext, *, prompt: str, model: str, seed: int, negative_prompt: str,
            reference_strength: float, **params: Any) -> dict[str, Any]:
        from nodes.video_rules import recommended, VACE
        from nodes.values import Video

        references = {s: params.pop(s) for s in SOCKETS}
        connected = {s: image for s, image in references.items() if image is not None}
        labels = reference_labels(params, connected)
        problems = [p for p in anchor_problems(prompt, labels) if p.kind != "label" or p.socket in connected]
        if problems:
            raise NodeError("; ".join(f"{_where(p.where)}: {p.message}" for p in problems))
        descriptions = {s: params.get(f"description_{s[-1]}", "") for s in connected}
        bound = bind_prompt(prompt, labels, descriptions)
        shape = V.resolve(model, params)
        steps, guidance, shift = recommended(model, params)
        images = ctx.video.reference_images([connected[s] for s in bound.order], shape.width, shape.height)
        pixels = ctx.video.render(ctx, model, VACE, shape=shape, prompt=bound.text, negative_prompt=negative_prompt,
                                  steps=steps, guidance=guidance, shift=shift, seed=seed,
                                  reference_frames=len(images), conditioning_scale=float(reference_strength),
                                  **vace_references(images))
        ctx.stats["reference_order"] = list(bound.order)
        return {"video": Video(pixels, shape.fps), "model_prompt": bound.text}


def vace_references(images_in_order: list[Any]) -> dict[str, Any]:
    """``reference_images`` for WanVACEPipeline so the model sees them in ``images_in_order``.

    diffusers' WanVACEPipeline.prepare_video_latents puts each reference in
    front of what it has so far (``cat([reference, latent])`` in a loop), so
    the list it is given ends up reversed in latent space. The original VACE
    code (and so the model's training) puts them in list order. Passing the
    list reversed gives latent frames [ref 1, ref 2, ..., video].
    (tests/engine/test_video_nodes.py checks this against the installed diffusers.)
    """
    if not images_in_order:
        return {}
    return {"reference_images": list(reversed(images_in_order))}


def _where(name: str) -> str:
    if name in SOCKETS or name == "prompt":
        return f"input {name!r}"
    return f"parameter {name!r}"


assert len(SOCKETS) == MAX_REFERENCES
