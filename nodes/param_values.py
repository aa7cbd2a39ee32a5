"""A parameter's value checked and converted by pydantic, with messages an artist can act on.

Every way a value arrives (a project file, ``--set``, a sweep's CSV cell, the
inspector) goes through ``coerce``. pydantic does the type and range checks in
strict mode; the conversions Weft allows on top of strict are written once in
the ``_before`` validators: numbers as text in the one number parser
(nodes/numbers.py: "1e3", "1_000", a typographic minus), a whole float for an
int, "true"/"yes"/"on" for a bool. Beyond those it never guesses: True is not
1, 2.5 is not 2, and a list is not text.

pydantic's own messages speak of types ("Input should be a valid integer");
``_message`` turns each error kind into the words the inspector and the command
line show ("expected a whole number, got 'ten'"; "0 is below the minimum 1").
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, Strict, TypeAdapter, ValidationError

from nodes import types as T
from nodes.numbers import NotANumber, parse_number, short
from nodes.types import DataType

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


class ValueProblem(ValueError):
    """What is wrong with a value, as the artist reads it."""


def _whole(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueProblem(f"expected a whole number, got {value!r}")
    if isinstance(value, str):
        try:
            value = parse_number(value)
        except NotANumber:
            raise ValueProblem(f"expected a whole number, got {value!r}") from None
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueProblem(f"expected a whole number, got {value!r}")
        return int(value)
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueProblem(f"expected a number, got {value!r}")
    if isinstance(value, str):
        try:
            return parse_number(value)
        except NotANumber:
            raise ValueProblem(f"expected a number, got {value!r}") from None
    return float(value) if isinstance(value, int) else value


def _truth(value: Any) -> Any:
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ValueProblem(f"expected true or false, got {value!r}")
    return value


@lru_cache(maxsize=None)
def _adapter(kind: DataType, low: float | None, high: float | None) -> TypeAdapter:
    if kind in (T.INT, T.SEED):
        return TypeAdapter(Annotated[int, Strict(), Field(ge=low, le=high), BeforeValidator(_whole)])
    if kind == T.FLOAT:
        return TypeAdapter(Annotated[float, Strict(), Field(ge=low, le=high, allow_inf_nan=False),
                                     BeforeValidator(_number)])
    if kind == T.BOOL:
        return TypeAdapter(Annotated[bool, Strict(), BeforeValidator(_truth)])
    if kind in (T.TEXT, T.PATH, T.CHOICE):
        return TypeAdapter(Annotated[str, Strict()])
    raise ValueProblem(f"parameters of type {kind} are not supported")


def _one_of(options: tuple[str, ...]):
    def check(value: str) -> str:
        if value not in options:
            raise ValueProblem(f"expected one of {', '.join(options)}; got {value!r}")
        return value
    return check


_EXPECTED = {T.INT: "a whole number", T.SEED: "a whole number", T.FLOAT: "a number", T.BOOL: "true or false",
             T.TEXT: "text", T.PATH: "text", T.CHOICE: "text"}


def _message(kind: DataType, error: dict[str, Any], low: float | None, high: float | None) -> str:
    given = error.get("input")
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    if error["type"] in ("greater_than_equal",):
        return f"{short(given) if isinstance(given, float) else given} is below the minimum {short(low)}"
    if error["type"] in ("less_than_equal",):
        return f"{short(given) if isinstance(given, float) else given} is above the maximum {short(high)}"
    if error["type"] == "finite_number":
        return f"expected a finite number, got {given!r}"
    return f"expected {_EXPECTED[kind]}, got {type(given).__name__} {given!r}"


def coerce(kind: DataType, value: Any, *, low: float | None = None, high: float | None = None,
           options: tuple[str, ...] = ()) -> Any:
    """The value a parameter of this kind holds for ``value``; ValueProblem says what was expected."""
    try:
        checked = _adapter(kind, low, high).validate_python(value)
    except ValidationError as exc:
        raise ValueProblem(_message(kind, exc.errors()[0], low, high)) from None
    return _one_of(options)(checked) if kind == T.CHOICE else checked

