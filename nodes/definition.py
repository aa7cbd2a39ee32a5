"""The node-definition API: one class per node type.

A node type declares, as class attributes, its inputs (sockets that links
feed), its outputs, and its parameters (values set in the inspector or with
``--set``), each with help text. The ``run`` method turns input values and
parameter values into output values. Declaring them as attributes keeps the
order the author wrote them in, which is the order an artist sees.

The work itself happens below, in engines/: ``run`` reaches it only through the
services on its run context (``ctx.edits``, ``ctx.video``..., nodes/services.py),
never by importing engines, so the domain loads, lists and validates every node
without the runtime (and without torch).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Protocol

from nodes import types as T
from nodes import param_values
from nodes.types import DataType

if TYPE_CHECKING:
    from nodes.services import AudioOps, Edits, MediaFiles, SoundModels, Streams, VideoModels


class ParamError(ValueError):
    """A parameter value is of the wrong type or out of range."""


class Cancelled(Exception):
    """Raised inside a node run when the artist cancelled the job."""


class NodeError(RuntimeError):
    """A node failed in a way the artist can act on; the message says how."""


@dataclass(frozen=True)
class Param:
    """A value set on a node: a number, a choice, a file, a prompt..."""

    type: DataType
    default: Any
    help: str = ""
    label: str = ""
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None
    multiline: bool = False
    file_kind: str = ""  # "image", "video", "audio", "mask": what a file picker offers
    advanced: bool = False
    name: str = ""  # set from the attribute name

    # -- constructors, so node classes read like a form ---------------------
    @staticmethod
    def int(default: int, *, min: int | None = None, max: int | None = None, step: int | None = None,
            help: str = "", label: str = "", advanced: bool = False) -> "Param":
        return Param(T.INT, default, help, label, min, max, step, advanced=advanced)

    @staticmethod
    def float(default: float, *, min: float | None = None, max: float | None = None,
              step: float | None = None, help: str = "", label: str = "", advanced: bool = False) -> "Param":
        return Param(T.FLOAT, default, help, label, min, max, step, advanced=advanced)

    @staticmethod
    def bool(default: bool, *, help: str = "", label: str = "", advanced: bool = False) -> "Param":
        return Param(T.BOOL, default, help, label, advanced=advanced)

    @staticmethod
    def choice(default: str, choices: Iterable[str] | Callable[[], tuple[str, ...]], *, help: str = "",
               label: str = "", advanced: bool = False) -> "Param":
        resolved = choices if callable(choices) else tuple(choices)
        return Param(T.CHOICE, default, help, label, choices=resolved, advanced=advanced)

    @staticmethod
    def seed(default: int = 0, *, help: str = "", label: str = "") -> "Param":
        return Param(T.SEED, default, help or "The same seed with the same settings gives the same result.",
                     label, 0, 2**32 - 1)

    @staticmethod
    def text(default: str = "", *, multiline: bool = False, help: str = "", label: str = "") -> "Param":
        return Param(T.TEXT, default, help, label, multiline=multiline)

    @staticmethod
    def file(kind: str, *, default: str = "", help: str = "", label: str = "") -> "Param":
        return Param(T.PATH, default, help, label, file_kind=kind)

    # -- behaviour -----------------------------------------------------------
    @property
    def display_name(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def options(self) -> tuple[str, ...]:
        if self.choices is None:
            return ()
        return tuple(self.choices() if callable(self.choices) else self.choices)

    def coerce(self, value: Any) -> Any:
        """The value this parameter holds for ``value``, or ParamError saying what was expected.

        Accepts the obvious spellings a command line or a JSON file gives
        (``"12"`` for an int, ``"true"`` for a bool) but never guesses beyond
        that; pydantic checks it (nodes/param_values.py).
        """
        try:
            return param_values.coerce(self.type, value, low=self.min, high=self.max,
                                       options=self.options() if self.type == T.CHOICE else ())
        except param_values.ValueProblem as exc:
            raise ParamError(str(exc)) from None

    def __set_name__(self, owner: type, name: str) -> None:
        object.__setattr__(self, "name", name)


@dataclass(frozen=True)
class Input:
    """A socket a link can feed."""

    type: DataType
    help: str = ""
    label: str = ""
    required: bool = True
    name: str = ""

    @property
    def display_name(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def __set_name__(self, owner: type, name: str) -> None:
        object.__setattr__(self, "name", name)


@dataclass(frozen=True)
class Output:
    """A socket links leave from."""

    type: DataType
    help: str = ""
    label: str = ""
    name: str = ""

    @property
    def display_name(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def __set_name__(self, owner: type, name: str) -> None:
        object.__setattr__(self, "name", name)


class RunContext(Protocol):
    """What the engine gives a running node: where it is, progress and cancel, and the
    runtime's services (nodes/services.py), the only way a node body reaches engines/."""

    node_id: str
    output_dir: Path
    models_profile: str
    stats: dict[str, Any]
    media: MediaFiles
    streams: Streams
    edits: Edits
    audio: AudioOps
    video: VideoModels
    sound: SoundModels

    def progress(self, step: int, total: int, preview: Any = None) -> None:
        """Report a step; raises Cancelled if the job was cancelled."""

    def check_cancelled(self) -> None:
        """Raise Cancelled if the job was cancelled."""

    def pipeline(self, model_id: str) -> Any:
        """The resident diffusers pipeline for a model of the catalogue."""

    def output_path(self, name: str, ext: str = "") -> Path:
        """Where a Save node's file goes: the pattern ``name`` (``nodes.filenames``)
        filled in and versioned, with ``ext`` after it, inside the output folder."""

    def provenance(self) -> str | None:
        """The text to embed in a saved file: the project as rendered
        (``engines.media.provenance``), or None."""

    def resolve_path(self, path: str) -> Path:
        """An input file's path: relative paths are relative to the project file."""


_TYPE_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class NodeType:
    """Base class of every node type. Subclasses declare sockets and parameters."""

    type_id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    category: ClassVar[str] = "Misc"
    version: ClassVar[int] = 1
    description: ClassVar[str] = ""
    tags: ClassVar[tuple[str, ...]] = ()
    # An output node writes files; `weft render` runs every output node.
    is_output: ClassVar[bool] = False
    # False for nodes whose result depends on the world (they must always run).
    cacheable: ClassVar[bool] = True
    # True for nodes that run a generative model: their cache key includes the
    # model profile, and their stats report transformer evaluations.
    uses_model: ClassVar[bool] = False

    inputs: ClassVar[dict[str, Input]]
    outputs: ClassVar[dict[str, Output]]
    params: ClassVar[dict[str, Param]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        inputs: dict[str, Input] = {}
        outputs: dict[str, Output] = {}
        params: dict[str, Param] = {}
        # Walk the class bodies from the most basic up so that a subclass can
        # extend a parent's sockets; dict order is declaration order.
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, Input):
                    inputs[name] = value
                elif isinstance(value, Output):
                    outputs[name] = value
                elif isinstance(value, Param):
                    params[name] = value
        clash = (set(inputs) & set(params)) | (set(outputs) & set(params)) | (set(inputs) & set(outputs))
        if clash:
            raise TypeError(f"{cls.__name__}: names used twice: {sorted(clash)}")
        cls.inputs, cls.outputs, cls.params = inputs, outputs, params
        if cls.type_id and not _TYPE_ID.match(cls.type_id):
            raise TypeError(f"{cls.__name__}: type_id {cls.type_id!r} must be lower_snake_case")

    # -- hooks a node type may override ------------------------------------
    @classmethod
    def default_params(cls) -> dict[str, Any]:
        return {name: p.default for name, p in cls.params.items()}

    @classmethod
    def migrate(cls, params: dict[str, Any], from_version: int) -> dict[str, Any]:
        """Bring parameters saved by an older version of this node type up to date.

        The default knows no older versions: a node type that changes its
        parameters bumps ``version`` and overrides this with a tested function.
        """
        raise ParamError(
            f"{cls.title} version {from_version} cannot be upgraded to version {cls.version}"
        )

    @classmethod
    def cache_salt(cls, params: dict[str, Any], resolve_path: Callable[[str], Path]) -> str:
        """Extra text for the cache key: what the result depends on beyond parameters
        and inputs (for instance a loaded file's size and modification time)."""
        return ""

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[tuple[str, str]]:
        """Cross-parameter checks before a run: (parameter name, message) pairs."""
        return []

    @classmethod
    def input_files(cls, params: dict[str, Any]) -> list[tuple[str, str, str]]:
        """The files this node will read: (parameter, path as typed, kind) with kind one of
        "image", "video", "audio", "image sequence". Validation resolves each against the
        project's folder and asks the media probe whether it can be read as that kind."""
        return []

    @classmethod
    def output_name(cls, params: dict[str, Any]) -> tuple[str, str] | None:
        """The file this node writes: (file-name pattern, extension) (nodes.filenames), or None.
        Validation fills the pattern with the fields the render knows and checks the name's
        length and the output folder (writable, room for the estimated size)."""
        return None

    @classmethod
    def check_links(cls, params: dict[str, Any], connected: frozenset[str],
                    known: dict[str, Any]) -> list[tuple[str, str]]:
        """Checks that depend on the links: which inputs are ``connected`` and, where the
        graph knows them before running, their values (``known``: the text typed into a Text
        node that feeds a prompt). (input or parameter name, message) pairs."""
        return []

    @classmethod
    def inactive_params(cls, params: dict[str, Any]) -> dict[str, str]:
        """Parameters that the other values make irrelevant, each with the reason.

        The studio greys them out and leaves them off the node's face, so the
        face never shows a width the aspect preset overrides. They are still
        saved, and count again as soon as the value that silenced them changes.
        """
        return {}

    @classmethod
    def summary(cls, params: dict[str, Any]) -> list[tuple[str, str]]:
        """What the parameters come to, as (label, text) rows for the node's face:
        for instance the size and length an aspect preset gives on the chosen model."""
        return []

    @classmethod
    def static_output(cls, params: dict[str, Any], socket: str) -> Any:
        """An output's value when parameters alone decide it (a Text node's text), else None.
        Lets validation check what flows into a node without running anything."""
        return None

    def run(self, ctx: RunContext, **values: Any) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__}.run")

    # -- description for `weft nodes --json` and the GUI --------------------
    @classmethod
    def describe(cls) -> dict[str, Any]:
        def param_info(p: Param) -> dict[str, Any]:
            info: dict[str, Any] = {"name": p.name, "label": p.display_name, "type": p.type.name,
                                    "default": p.default, "help": p.help}
            for key in ("min", "max", "step"):
                if getattr(p, key) is not None:
                    info[key] = getattr(p, key)
            if p.type == T.CHOICE:
                info["choices"] = list(p.options())
            if p.multiline:
                info["multiline"] = True
            if p.file_kind:
                info["file_kind"] = p.file_kind
            if p.advanced:
                info["advanced"] = True
            return info

        return {
            "type": cls.type_id,
            "title": cls.title,
            "category": cls.category,
            "version": cls.version,
            "description": cls.description,
            "tags": list(cls.tags),
            "is_output": cls.is_output,
            "uses_model": cls.uses_model,
            "inputs": [{"name": i.name, "label": i.display_name, "type": i.type.name,
                        "required": i.required, "help": i.help} for i in cls.inputs.values()],
            "outputs": [{"name": o.name, "label": o.display_name, "type": o.type.name,
                         "help": o.help} for o in cls.outputs.values()],
            "params": [param_info(p) for p in cls.params.values()],
        }




def with_default(param: Param, default: Any) -> Param:
    """A copy of ``param`` with another default (for node types that share a parameter)."""
    return replace(param, default=default)


__all__ = [
    "Cancelled", "Input", "NodeError", "NodeType", "Output", "Param", "ParamError", "RunContext",
    "with_default",
]
