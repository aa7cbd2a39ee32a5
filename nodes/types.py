"""Data types: what a socket carries or a parameter holds, with its colour.

One table for the whole product, so the canvas, the inspector and the docs
show the same colour for the same type. Making a ``DataType`` registers it
(``ALL_TYPES``, in the order made): the canvas's link checks and colours, the
inspector and the viewer's output order all read that one table. A media type
also gets a value class in nodes/values.py that names it (``data_type``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataType:
    name: str
    color: str
    description: str

    def __post_init__(self) -> None:
        if self.name in ALL_TYPES:
            raise ValueError(f"a data type named {self.name!r} exists already")
        ALL_TYPES[self.name] = self

    def __str__(self) -> str:  # used in messages: "expected Video"
        return self.name


ALL_TYPES: dict[str, DataType] = {}  # name -> type, filled as the types below are made


VIDEO = DataType("Video", "#e0803a", "Frames at a frame rate, with an optional sound track")
IMAGE = DataType("Image", "#c9b03c", "A still RGB picture")
MASK = DataType("Mask", "#9a9a9a", "A region: white is inside, black outside; still or per frame")
AUDIO = DataType("Audio", "#4cb27a", "Sound samples at a sample rate")
TEXT = DataType("Text", "#8f7ee0", "Words: a prompt, a label")
INT = DataType("Int", "#4f8fd8", "A whole number")
FLOAT = DataType("Float", "#5fb8d8", "A number")
BOOL = DataType("Bool", "#d85f8f", "On or off")
CHOICE = DataType("Choice", "#b07cc6", "One of a list of options")
SEED = DataType("Seed", "#7aa35f", "The random seed that makes a result repeatable")
PATH = DataType("File", "#a0896b", "A file on disk")

# The types whose values are pictures or sound (a viewer shows them; nodes/values.py holds them).
MEDIA_TYPES = (VIDEO, IMAGE, MASK, AUDIO)

# Links that are allowed between different types because the conversion is
# lossless and obvious to an artist. Everything else must match exactly.
_IMPLICIT = {
    (INT, FLOAT),
    (INT, SEED),
    (SEED, INT),
    (CHOICE, TEXT),
}


def can_connect(source: DataType, target: DataType) -> bool:
    return source == target or (source, target) in _IMPLICIT


def connection_refusal(source: DataType, target: DataType) -> str | None:
    """Why a link from ``source`` to ``target`` is refused, or None if it is fine."""
    if can_connect(source, target):
        return None
    return f"a {source} output cannot feed a {target} input"
