"""The base of every node that runs a generative model."""

from __future__ import annotations

from typing import ClassVar

from nodes.definition import NodeType


class ModelNode(NodeType):
    """A node that runs a diffusers pipeline through ``engines.diffusion.run_denoiser``.

    Shared behaviour of model nodes (their cache key includes the model
    profile; their stats count transformer evaluations; switches that apply
    to every model, such as acceleration) belongs here, so that every model
    node gets it at once.
    """

    category = "Generate"
    uses_model = True
    # Whether the model uses classifier-free guidance (two evaluations a step).
    guided: ClassVar[bool] = True
