"""Anchor tokens in prompts: ``[1]``, ``[2]``, ``[Mia]``.

A personalising node takes reference images on inputs named ``reference_1``,
``reference_2``... and its prompt says which reference appears where by
writing an anchor: ``[1]`` by number, or ``[Mia]`` by the reference's label.
This module finds the anchors, works out which references a prompt can name,
and says what does not add up (an anchor that names nothing, a reference no
anchor names), in words an artist can act on. The Qt highlighter that colours
the anchors in the inspector is at the end.

A reference's label is, in order: a parameter of the node named
``reference_N_label`` or ``label_N`` when it is not empty, else the title the
artist gave the node that feeds the reference (a Load Image titled "Mia").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat

from app.ui.panels import palette

# ``[1]`` or ``[Mia]``: a number, or a short name that starts with a letter or
# digit. Brackets around longer phrases are ordinary prose, not anchors.
ANCHOR = re.compile(r"\[([^\W_][\w '\-.]{0,39})\]")
REFERENCE_INPUT = re.compile(r"^(?:reference|ref)_?(\d+)$")

Span = tuple[int, int]


@dataclass(frozen=True)
class Anchor:
    start: int
    end: int
    key: str  # what is between the brackets, stripped

    @property
    def number(self) -> int | None:
        return int(self.key) if self.key.isdigit() else None


def find_anchors(text: str) -> list[Anchor]:
    return [Anchor(m.start(), m.end(), m.group(1).strip()) for m in ANCHOR.finditer(text)]


def _as_table(reference_labels: Mapping[int, str | None] | Sequence[str | None]) -> dict[int, str]:
    if isinstance(reference_labels, Mapping):
        return {int(k): (v or "").strip() for k, v in reference_labels.items()}
    return {i + 1: (v or "").strip() for i, v in enumerate(reference_labels)}


def _describe(table: dict[int, str]) -> str:
    if not table:
        return "no reference is connected"
    parts = [f"[{n}] {label}" if label else f"[{n}]" for n, label in sorted(table.items())]
    return "the connected references are " + ", ".join(parts)


def resolve_anchor(anchor: Anchor, reference_labels: Mapping[int, str | None] | Sequence[str | None]) -> list[int]:
    """The reference numbers an anchor names (none, one, or several for a shared label)."""
    table = _as_table(reference_labels)
    if anchor.number is not None:
        return [anchor.number] if anchor.number in table else []
    key = anchor.key.casefold()
    return [n for n, label in sorted(table.items()) if label and label.casefold() == key]


def anchor_problems(text: str, reference_labels: Mapping[int, str | None] | Sequence[str | None]
                    ) -> list[tuple[Span | None, str]]:
    """What is wrong with the anchors of ``text`` given the connected references.

    ``reference_labels`` maps each connected reference's number to its label
    ("" when it has none); a plain list gives references 1, 2, 3... Each
    problem is ``(span, message)``: ``span`` is the anchor's ``(start, end)``
    in ``text``, or None for a reference that no anchor names.
    """
    table = _as_table(reference_labels)
    problems: list[tuple[Span | None, str]] = []
    named: set[int] = set()
    for anchor in find_anchors(text):
        token = text[anchor.start:anchor.end]
        hits = resolve_anchor(anchor, table)
        if len(hits) == 1:
            named.add(hits[0])
        elif len(hits) > 1:
            named.update(hits)
            choices = " or ".join(f"[{n}]" for n in hits)
            problems.append(((anchor.start, anchor.end),
                             f"{token}: {len(hits)} references are labelled {anchor.key}; write {choices}"))
        elif anchor.number is not None:
            problems.append(((anchor.start, anchor.end),
                             f"{token}: reference {anchor.number} is not connected ({_describe(table)})"))
        else:
            problems.append(((anchor.start, anchor.end),
                             f"{token}: no connected reference is labelled {anchor.key} ({_describe(table)})"))
    for number, label in sorted(table.items()):
        if number not in named:
            how = f"[{number}] or [{label}]" if label else f"[{number}]"
            who = f"reference {number} ({label})" if label else f"reference {number}"
            problems.append((None, f"{who} is connected but the prompt never names it; write {how} "
                                   "where it should appear"))
    return problems


# -- which references a prompt can name ------------------------------------------------------
def reference_inputs(node_type) -> dict[str, int]:
    """The inputs of a node type that take references, with their numbers."""
    out: dict[str, int] = {}
    for name in getattr(node_type, "inputs", {}):
        m = REFERENCE_INPUT.match(name)
        if m:
            out[name] = int(m.group(1))
    return out


def is_prompt_param(name: str) -> bool:
    """Negative prompts say what to avoid: they need not (and should not) name references."""
    return not name.startswith("negative")


def _own_references(graph, node_id: str) -> dict[int, str] | None:
    node = graph.nodes.get(node_id)
    if node is None:
        return None
    try:
        node_type = graph.node_type(node_id)
    except Exception:  # an unknown node type: nothing to check against
        return None
    inputs = reference_inputs(node_type)
    if not inputs:
        return None
    table: dict[int, str] = {}
    for input_name, number in inputs.items():
        link = graph.link_into(node_id, input_name)
        if link is None:
            continue
        label = ""
        for key in (f"{input_name}_label", f"label_{number}"):
            value = node.params.get(key)
            if isinstance(value, str) and value.strip():
                label = value.strip()
                break
        if not label:
            source = graph.nodes.get(link.source)
            label = source.title.strip() if source is not None and source.title else ""
        table[number] = label
    return table


def prompt_references(graph, node_id: str, param_name: str = "prompt") -> dict[int, str] | None:
    """The references the text parameter ``param_name`` of ``node_id`` can name.

    None when anchors mean nothing there (no node with reference inputs is
    involved), so brackets stay ordinary text. A node with reference inputs
    checks its own prompt; a Text node checks against the nodes its words feed
    as a prompt.
    """
    if not is_prompt_param(param_name):
        return None
    own = _own_references(graph, node_id)
    if own is not None:
        return own
    merged: dict[int, str] | None = None
    for link in graph.outgoing(node_id):
        if not is_prompt_param(link.target_socket):
            continue
        try:
            target_input = graph.node_type(link.target).inputs.get(link.target_socket)
        except Exception:
            continue
        if target_input is None or target_input.type.name != "Text":
            continue
        refs = _own_references(graph, link.target)
        if refs is None:
            continue
        merged = merged or {}
        for number, label in refs.items():
            merged.setdefault(number, label)
    return merged


# -- the highlighter ---------------------------------------------------------------------------
class AnchorHighlighter(QSyntaxHighlighter):
    """Colours the anchors of a prompt: blue when they name a connected
    reference, red and underlined when they name nothing."""

    def __init__(self, document):
        super().__init__(document)
        self._table: dict[int, str] | None = None
        self.ok_format = QTextCharFormat()
        self.ok_format.setForeground(QColor(palette.ANCHOR_COLOR))
        self.ok_format.setBackground(QColor(111, 177, 255, 40))
        self.ok_format.setFontWeight(QFont.Bold)
        self.bad_format = QTextCharFormat()
        self.bad_format.setForeground(QColor(palette.ERROR_COLOR))
        self.bad_format.setUnderlineStyle(QTextCharFormat.WaveUnderline)
        self.bad_format.setUnderlineColor(QColor(palette.ERROR_COLOR))
        self.bad_format.setFontWeight(QFont.Bold)

    @property
    def references(self) -> dict[int, str] | None:
        return self._table

    def set_references(self, reference_labels) -> None:
        table = None if reference_labels is None else _as_table(reference_labels)
        if table != self._table:
            self._table = table
            self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt's name)
        if self._table is None:
            return
        for anchor in find_anchors(text):
            good = bool(resolve_anchor(anchor, self._table))
            self.setFormat(anchor.start, anchor.end - anchor.start, self.ok_format if good else self.bad_format)

    def format_at(self, block_number: int, position: int) -> QTextCharFormat | None:
        """The format the highlighter gave the character at ``position`` of a block (for tests)."""
        block = self.document().findBlockByNumber(block_number)
        ranges = block.layout().formats()
        for fmt_range in ranges:
            if fmt_range.start <= position < fmt_range.start + fmt_range.length:
                return QTextCharFormat(fmt_range.format)  # a copy that outlives the layout's list
        return None


__all__ = [
    "Anchor", "AnchorHighlighter", "anchor_problems", "find_anchors", "is_prompt_param", "prompt_references",
    "reference_inputs", "resolve_anchor",
]
