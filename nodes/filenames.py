"""The file names Save nodes write: the pattern an artist types, its fields, and
the version number that keeps every render.

A pattern is a name inside the output folder, with ``{field}`` parts filled in
at render time: ``{project}``, ``{node}``, ``{seed}``, ``{version}`` (and, in
a batch, the batch's own fields such as ``{job}``). The rules, which the Save
nodes' help repeats:

- ``{version}`` is the render's number, four digits: one more than the highest
  number already in the output folder under the same pattern, so the first
  render is ``_0001`` and nothing earlier is ever replaced.
- A pattern without ``{version}`` is used as written the first time; when that
  file exists, ``_0002``, ``_0003``... goes before the extension.
- With the node's ``overwrite`` on, the name is used as written and replaced
  each render (with ``{version}``: the highest number there, or 0001).

Numbers are never reused, even when an earlier file was deleted, so sorting by
number is sorting by time. Pure functions: the engine lists the folder and
asks here which name to take.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

VERSION = "version"
DIGITS = 4
# The fields the engine fills for every render (a batch adds its own).
ENGINE_FIELDS = ("project", "node", "seed", VERSION)
DEFAULT_PATTERN = "{project}_{node}"

# Stands for the version number while the rest of the pattern is filled in; no
# file name can contain it.
_MARK = "\x00"
_BAD_CHARS = re.compile(r"[\x00-\x1f]")


class FileNameError(ValueError):
    """A pattern that cannot name a file; the message says why in an artist's words."""


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot name a file in the output folder, or None.

    Only what is wrong whatever the render fills in: a field this render does
    not fill is found when the name is filled (a batch fills more fields).
    """
    if not pattern:
        return None
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        return f"{pattern!r} is not a valid pattern ({exc}); write {{{{ and }}}} for a literal brace"
    literal = "".join(text for text, _, _, _ in parsed)
    if _BAD_CHARS.search(literal):
        return f"{pattern!r} contains a control character (a tab or a line break); file names cannot"
    versions = 0
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name == "" or name.isdigit():
            return f"{pattern!r} has a field without a name ({{{name}}}); use one of " + _known()
        if not name.isidentifier():
            return f"{pattern!r}: the field {{{name}}} must be a plain name such as {{project}}"
        if name == VERSION:
            versions += 1
            if spec or conversion:
                return f"{pattern!r}: {{version}} takes no format; it is always {DIGITS} digits (0001)"
    if versions > 1:
        return f"{pattern!r} uses {{version}} {versions} times; use it once"
    skeleton = "".join(text + ("" if name is None else (_MARK if name == VERSION else "x"))
                       for text, name, _, _ in parsed)
    if skeleton.startswith(("/", "\\", "~")) or re.match(r"^[A-Za-z]:", skeleton):
        return f"{pattern!r} is an absolute path; give a name inside the output folder (--output-dir sets the folder)"
    parts = re.split(r"[\\/]", skeleton)
    if any(p == ".." for p in parts):
        return f"{pattern!r} climbs out of the output folder ('..'); give a name inside it"
    if parts[-1] in ("", "."):
        return f"{pattern!r} ends with a folder; add the file's name after the last '/'"
    if any(_MARK in p for p in parts[:-1]):
        return f"{pattern!r}: {{version}} may only be in the file's name, not in a folder"
    return None


# The longest file or folder name, in bytes, that ext4, APFS, NTFS and the others take.
NAME_MAX = 255
# What {seed} may be at most, to measure a name before the render picks the seed.
WIDEST_SEED = "18446744073709551615"


def name_problem(pattern: str, fields: Mapping[str, str], *, ext: str = "",
                 filled_by: str = "this render") -> str | None:
    """Why ``pattern``, filled with the fields this render fills, cannot name a file, or None.

    ``fields`` holds every field the render fills (their values where known; a
    field's value decides the name's length). Catches what pattern_problem
    cannot: a field nothing fills, and a name or folder longer than NAME_MAX
    bytes with the widest version number.
    """
    try:
        name = fill(pattern or DEFAULT_PATTERN, fields, ext=ext, filled_by=filled_by)
    except FileNameError as exc:
        return str(exc)
    widest = name.with_number(10 ** DIGITS - 1)
    for part in [*(name.folder.split("/") if name.folder else []), widest]:
        size = len(part.encode("utf-8"))
        if size > NAME_MAX:
            shown = part if len(part) <= 40 else part[:37] + "..."
            written = pattern if len(pattern) <= 40 else pattern[:37] + "..."
            return (f"{written!r} makes the name {shown!r}, {size} bytes long; a file or folder name may be at "
                    f"most {NAME_MAX} bytes")
    return None


def _known(extra: Iterable[str] = ()) -> str:
    return ", ".join("{" + k + "}" for k in dict.fromkeys((*ENGINE_FIELDS, *extra)))


@dataclass(frozen=True)
class FileName:
    """A pattern with every field but ``{version}`` filled in."""

    folder: str       # the folders inside the output folder ("" for none), with '/'
    stem: str         # the file's name before the extension; holds _MARK where the version goes
    ext: str          # ".mp4", or "" (an image sequence's folder)

    @property
    def versioned(self) -> bool:
        return _MARK in self.stem

    def with_number(self, number: int) -> str:
        """The file's name (no folder) with version ``number``."""
        if self.versioned:
            return self.stem.replace(_MARK, f"{number:0{DIGITS}d}") + self.ext
        return f"{self.stem}_{number:0{DIGITS}d}{self.ext}" if number > 1 else self.stem + self.ext

    def number_of(self, name: str) -> int | None:
        """The version ``name`` (a file in the folder) has under this pattern, or None if another pattern made it."""
        if self.versioned:
            head, tail = self.stem.split(_MARK)
            found = re.fullmatch(re.escape(head) + r"(\d{%d,})" % DIGITS + re.escape(tail + self.ext), name)
            return int(found.group(1)) if found else None
        if name == self.stem + self.ext:
            return 1
        found = re.fullmatch(re.escape(self.stem) + r"_(\d{%d,})" % DIGITS + re.escape(self.ext), name)
        return int(found.group(1)) if found else None

    def choose(self, existing: Iterable[str], *, overwrite: bool = False) -> str:
        """The file name to write, given the names already in the folder."""
        numbers = [n for n in map(self.number_of, existing) if n is not None]
        if overwrite:
            return self.with_number(max(numbers, default=1) if self.versioned else 1)
        return self.with_number(max(numbers, default=0) + 1)


def fill(pattern: str, fields: Mapping[str, str], *, ext: str = "", filled_by: str = "this render") -> FileName:
    """``pattern`` (with ``ext`` after it) with its fields filled in, the version left open.

    Raises FileNameError, naming the field and the fields this render knows,
    for a field nothing fills.
    """
    problem = pattern_problem(pattern)
    if problem:
        raise FileNameError(problem)
    values = {k: str(v) for k, v in fields.items() if k != VERSION}
    try:
        filled = pattern.format(**values, **{VERSION: _MARK})
    except KeyError as exc:
        raise FileNameError(f"{pattern!r} uses {{{exc.args[0]}}}, which {filled_by} does not fill; known: "
                            f"{_known(values)}") from None
    except (IndexError, ValueError, AttributeError) as exc:
        raise FileNameError(f"{pattern!r}: {exc}") from None
    if _BAD_CHARS.sub("", filled.replace(_MARK, "")) != filled.replace(_MARK, ""):
        raise FileNameError(f"{pattern!r} filled in is {filled!r}, which has a control character")
    parts = re.split(r"[\\/]", filled)
    if any(p == ".." for p in parts) or os.path.isabs(filled):
        raise FileNameError(f"{pattern!r} filled in is {filled!r}, which points outside the output folder")
    return FileName("/".join(p for p in parts[:-1] if p not in ("", ".")), parts[-1], ext)


__all__ = ["DEFAULT_PATTERN", "DIGITS", "ENGINE_FIELDS", "NAME_MAX", "FileName", "FileNameError", "VERSION",
           "WIDEST_SEED", "fill", "name_problem", "pattern_problem"]
