"""The registry: every node type Weft knows, by type id."""

from __future__ import annotations

import difflib
import importlib
from typing import Iterable

from nodes.definition import NodeType

# The modules of the built-in catalogue. Importing them is cheap: node
# modules never import torch at import time.
BUILTIN_MODULES = (
    "nodes.catalogue.basic",
    "nodes.catalogue.generate",
    "nodes.catalogue.audio",
    "nodes.catalogue.audio_generate",
    "nodes.catalogue.audio_tools",
    "nodes.catalogue.edit_cut",
    "nodes.catalogue.joint",
    "nodes.catalogue.image_to_video",
    "nodes.catalogue.personalize",
    "nodes.catalogue.edit_video",
    "nodes.catalogue.populate",
    "nodes.catalogue.save",
)


class UnknownNodeType(KeyError):
    def __init__(self, type_id: str, suggestion: str | None = None):
        self.type_id = type_id
        self.suggestion = suggestion
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        super().__init__(f"unknown node type {type_id!r}{hint}")

    def __str__(self) -> str:
        return self.args[0]


class Registry:
    def __init__(self, node_types: Iterable[type[NodeType]] = ()):
        self._types: dict[str, type[NodeType]] = {}
        for node_type in node_types:
            self.register(node_type)

    def register(self, node_type: type[NodeType]) -> type[NodeType]:
        if not node_type.type_id:
            raise TypeError(f"{node_type.__name__} has no type_id")
        existing = self._types.get(node_type.type_id)
        if existing is not None and existing is not node_type:
            raise TypeError(f"node type id {node_type.type_id!r} is used by {existing.__name__} "
                            f"and {node_type.__name__}")
        self._types[node_type.type_id] = node_type
        return node_type

    def get(self, type_id: str) -> type[NodeType]:
        try:
            return self._types[type_id]
        except KeyError:
            close = difflib.get_close_matches(type_id, list(self._types), n=1)
            raise UnknownNodeType(type_id, close[0] if close else None) from None

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._types

    def __iter__(self):
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    def categories(self) -> dict[str, list[type[NodeType]]]:
        out: dict[str, list[type[NodeType]]] = {}
        for t in self._types.values():
            out.setdefault(t.category, []).append(t)
        return out


def node_types_in(module_name: str) -> list[type[NodeType]]:
    module = importlib.import_module(module_name)
    return [obj for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, NodeType) and obj.type_id
            and obj.__module__ == module.__name__]


_default: Registry | None = None


def default_registry() -> Registry:
    """The registry with every built-in node type (built once per process)."""
    global _default
    if _default is None:
        registry = Registry()
        for module_name in BUILTIN_MODULES:
            for node_type in node_types_in(module_name):
                registry.register(node_type)
        _default = registry
    return _default
