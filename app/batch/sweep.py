"""The text a user types to describe variations: ``--sweep`` and ``--from-csv``.

Only syntax lives here; whether a node or a value exists is checked against
the project in ``plan.py``. Every message says where the bad text came from
(the ``--sweep`` it was in, or the CSV file, row and column), because a batch
of hundreds of jobs is typically written in a hurry and run overnight: the
mistake must be found before anything renders, and be easy to fix.

Sweep syntax::

    NODE.PARAM=V1,V2,...          a list of values
    NODE.PARAM=1..16              a range of whole numbers, both ends included
    NODE.PARAM=3..7..0.5          a range with a step (3, 3.5, ... 7)
    NODE.PARAM=1..4,10,20         lists and ranges mix
    NODE.PARAM="a fox, running","a cat"   quotes keep commas inside a value

Ranges only mean something for number parameters; for a text parameter
``1..3`` is the text "1..3".
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from nodes.numbers import NotANumber, parse_number, short

# More jobs than this is almost certainly a typo (seed=1..1000000) and would
# take a long time just to validate; a real batch this big should be split.
MAX_JOBS = 100_000


class BatchInputError(ValueError):
    """Bad sweep or CSV text; the message names where (the --sweep, or file, row and column)."""


@dataclass(frozen=True)
class NumberRange:
    start: float
    stop: float
    step: float | None  # None: 1 or -1, towards stop
    text: str

    def values(self, whole_numbers: bool, where: str) -> list[int | float]:
        step = self.step
        if step is None:
            step = 1.0 if self.stop >= self.start else -1.0
        if step == 0:
            raise BatchInputError(f"{where}: range {self.text!r} has a step of 0")
        if (self.stop - self.start) * step < 0:
            raise BatchInputError(f"{where}: range {self.text!r} never reaches {short(self.stop)} "
                                  f"with a step of {short(step)}")
        if whole_numbers:
            for value, what in ((self.start, "start"), (self.stop, "end"), (step, "step")):
                if not float(value).is_integer():
                    raise BatchInputError(f"{where}: range {self.text!r}: the parameter takes whole numbers, "
                                          f"but the {what} is {short(value)}")
        # A small tolerance so that 3..7..0.1 ends at 7, not at 6.9 because of rounding.
        count = math.floor((self.stop - self.start) / step + 1e-9) + 1
        if count > MAX_JOBS:
            raise BatchInputError(f"{where}: range {self.text!r} has {count} values; at most {MAX_JOBS} "
                                  "jobs fit in one batch")
        if whole_numbers:
            return [int(self.start) + i * int(step) for i in range(count)]
        # 12 significant digits hide binary rounding (0.1 * 3 = 0.30000000000000004).
        return [float(f"{self.start + i * step:.12g}") for i in range(count)]


@dataclass(frozen=True)
class Sweep:
    """One ``--sweep``: a parameter and the values it takes, as typed."""

    text: str      # what the user typed, for messages
    node: str      # a node id or title
    param: str
    items: tuple[str, ...]  # each a value or, for numbers, maybe a range

    @property
    def target(self) -> str:
        return f"{self.node}.{self.param}"

    def values(self, kind: str) -> list[str | int | float]:
        """The values, with ranges expanded for ``kind`` "int" or "float" parameters."""
        out: list[str | int | float] = []
        for item in self.items:
            rng = parse_range(item, f"--sweep {self.text}") if kind in ("int", "float") else None
            if rng is None:
                out.append(item)
            else:
                out.extend(rng.values(kind == "int", f"--sweep {self.text}"))
        if len(out) > MAX_JOBS:
            raise BatchInputError(f"--sweep {self.text}: {len(out)} values; at most {MAX_JOBS} jobs fit in one batch")
        return out


def parse_sweep(text: str) -> Sweep:
    """``NODE.PARAM=V1,V2,...`` as a Sweep, or BatchInputError saying what is wrong."""
    target, eq, rest = text.partition("=")
    node, dot, param = target.strip().rpartition(".")
    if not eq or not dot or not node or not param:
        raise BatchInputError(f"--sweep {text!r}: expected NODE.PARAM=V1,V2,... "
                              "e.g. --sweep t2v.seed=1..8 or --sweep t2v.guidance=3,5,7")
    if not rest.strip():
        raise BatchInputError(f"--sweep {text}: no values after '='")
    try:
        # csv understands quotes, so "a fox, running" stays one value.
        rows = list(csv.reader(io.StringIO(rest), skipinitialspace=True, strict=True))
    except csv.Error as exc:
        raise BatchInputError(f"--sweep {text}: cannot read the values: {exc} "
                              "(quote a value that contains a comma: \"a, b\")") from None
    if len(rows) != 1:
        raise BatchInputError(f"--sweep {text}: the values must be on one line")
    items = rows[0]
    for position, item in enumerate(items, 1):
        if item == "":
            raise BatchInputError(f"--sweep {text}: value {position} is empty "
                                  "(two commas in a row, or a trailing comma?)")
    return Sweep(text, node.strip(), param.strip(), tuple(items))


def parse_range(item: str, where: str) -> NumberRange | None:
    """``START..STOP`` or ``START..STOP..STEP``; None when ``item`` is not a range at all."""
    if ".." not in item:
        return None
    parts = item.strip().split("..")
    if len(parts) not in (2, 3) or any(not p.strip() for p in parts):
        raise BatchInputError(f"{where}: {item!r} is not a range; write START..STOP or START..STOP..STEP, "
                              "e.g. 1..16 or 3..7..0.5")
    numbers = []
    for part in parts:
        try:
            value = parse_number(part)
        except NotANumber:
            finite = "" if part.strip().lower().lstrip("+-") not in ("inf", "infinity", "nan") else "finite "
            raise BatchInputError(f"{where}: range {item!r}: {part.strip()!r} is not a {finite}number") from None
        numbers.append(value)
    return NumberRange(numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else None, item.strip())


# -- CSV ---------------------------------------------------------------------------
NAME_COLUMN = "name"  # optional: a label for the job, used in its folder name


@dataclass
class CsvRow:
    row: int                     # as a spreadsheet numbers it: the header is row 1
    values: dict[str, str]       # column (NODE.PARAM) -> cell; empty cells are left out
    name: str = ""

    def where(self, source: str, column: str | None = None) -> str:
        return f"{source}, row {self.row}" + (f", column {column}" if column else "")


@dataclass
class CsvTable:
    path: Path
    columns: list[str]           # the NODE.PARAM columns, in file order
    rows: list[CsvRow] = field(default_factory=list)


def read_csv(path: str | Path) -> CsvTable:
    """One job per row; columns named NODE.PARAM. Raises BatchInputError naming the row and column.

    A column named ``name`` labels the job; columns whose header starts with
    ``#`` are notes and ignored. An empty cell keeps the project's value.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: spreadsheets often write a BOM
    except FileNotFoundError:
        raise BatchInputError(f"--from-csv {path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise BatchInputError(f"--from-csv {path}: not UTF-8 text ({exc.reason} at byte {exc.start}); "
                              "save it as CSV UTF-8") from None
    except OSError as exc:
        raise BatchInputError(f"--from-csv {path}: cannot be read: {exc.strerror or exc}") from None
    source = str(path)
    first_line = text.split("\n", 1)[0]
    # Spreadsheets in many locales write ';' (or tabs) because ',' is their decimal mark.
    delimiter = ","
    if "," not in first_line:
        delimiter = ";" if ";" in first_line else ("\t" if "\t" in first_line else ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise BatchInputError(f"{source}, row {reader.line_num}: cannot read the CSV: {exc} "
                              "(an unclosed quote?)") from None
    records = [(number, cells) for number, cells in enumerate(records, 1) if any(c.strip() for c in cells)]
    if not records:
        raise BatchInputError(f"{source}: the file is empty; the first row must name the columns (NODE.PARAM)")
    header_row, header = records[0]
    header = [h.strip() for h in header]
    columns: list[str] = []
    name_index: int | None = None
    keep: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for index, column in enumerate(header):
        letter = _column_letter(index)
        if not column:
            raise BatchInputError(f"{source}, row {header_row}, column {letter}: the column has no name; "
                                  "name it NODE.PARAM, or '#...' for a note")
        if column.startswith("#"):
            continue
        if column in seen:
            raise BatchInputError(f"{source}, row {header_row}: column {column} appears twice "
                                  f"(columns {_column_letter(seen[column])} and {letter})")
        seen[column] = index
        if column.lower() == NAME_COLUMN:
            name_index = index
            continue
        node, dot, param = column.rpartition(".")
        if not dot or not node or not param:
            raise BatchInputError(f"{source}, row {header_row}, column {letter}: {column!r} is not NODE.PARAM "
                                  f"(e.g. t2v.seed); name it '#{column}' to keep it as a note")
        columns.append(column)
        keep.append((index, column))
    if not columns:
        raise BatchInputError(f"{source}: no NODE.PARAM columns in the first row ({', '.join(header)})")
    table = CsvTable(path, columns)
    for number, cells in records[1:]:
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
            raise BatchInputError(f"{source}, row {number}: {len(cells)} cells but the first row names "
                                  f"{len(header)} columns (an unquoted comma in a value? quote it: \"a, b\")")
        values = {column: cells[index] for index, column in keep if index < len(cells) and cells[index] != ""}
        name = cells[name_index].strip() if name_index is not None and name_index < len(cells) else ""
        table.rows.append(CsvRow(number, values, name))
    if not table.rows:
        raise BatchInputError(f"{source}: no rows after the header; add one row per job")
    if len(table.rows) > MAX_JOBS:
        raise BatchInputError(f"{source}: {len(table.rows)} rows; at most {MAX_JOBS} jobs fit in one batch")
    return table


def _column_letter(index: int) -> str:
    """A, B, ... Z, AA: how a spreadsheet names the column, so the user can find it."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


