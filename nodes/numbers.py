"""Numbers as artists type them and as Weft shows them: one parser, one short form.

Parameters given as text (``--set``, a CSV cell, a sweep), the inspector's
fields and sweep ranges all read numbers here, so "1e3", " 12 ", "−3" (a
typographic minus) and "1_000" mean the same everywhere. A decimal comma
("2,5") is read only where a comma cannot mean anything else (a field in the
inspector); on a command line and in a sweep the comma separates values.
"""

from __future__ import annotations

import math


class NotANumber(ValueError):
    """Text that is not a finite number; the message quotes it."""


def parse_number(text: str, *, decimal_comma: bool = False) -> float:
    """The finite number ``text`` stands for. Raises NotANumber saying why."""
    raw = str(text).strip().replace("\u2212", "-")
    if decimal_comma and "," in raw and "." not in raw:
        raw = raw.replace(",", ".")
    raw = raw.replace(" ", "").replace("_", "")
    try:
        value = float(raw)
    except ValueError:
        raise NotANumber(f"\u201c{str(text).strip()}\u201d is not a number") from None
    if not math.isfinite(value):
        raise NotANumber(f"\u201c{str(text).strip()}\u201d is not a finite number")
    return value


def short(value: float) -> str:
    """A number as a message shows it: 16, not 16.0; 0.5 as 0.5."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:g}"
