"""Anchors in the inspector: which references a prompt can name, and the
highlighter that colours ``[1]`` / ``[Mia]`` as the artist types.

Everything about anchors themselves -- what counts as one (``\\[1]`` does
not), which connected reference it names, what is wrong and in which words --
is ``nodes.anchors``, the code the render runs. This module only adds what
needs the graph or Qt: which reference sockets of a node are connected, their
labels (``nodes.anchors.reference_labels``: the node's ``label_N``
parameters, the way the render reads them; the title of the node feeding a
reference is not a label), and the highlighter. So the inspector underlines
exactly what the render would refuse, with the render's own messages.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat

from app.ui.panels import palette
from nodes.anchors import (
    SOCKETS, AnchorProblem, anchor_problems, as_sockets, find_anchors, reference_labels, socket_for,
)

LabelsBySocket = dict[str, str]  # {"reference_1": "Mia", "reference_2": ""}: connected sockets only


# -- which references a prompt can name ------------------------------------------------------
def reference_inputs(node_type) -> tuple[str, ...]:
    """The reference sockets (``nodes.anchors.SOCKETS``) a node type has."""
    inputs = getattr(node_type, "inputs", {})
    return tuple(s for s in SOCKETS if s in inputs)


def is_prompt_param(name: str) -> bool:
    """Negative prompts say what to avoid: they need not (and should not) name references."""
    return not name.startswith("negative")


def _own_references(graph, node_id: str) -> LabelsBySocket | None:
    node = graph.nodes.get(node_id)
    if node is None:
        return None
    try:
        node_type = graph.node_type(node_id)
    except Exception:  # an unknown node type: nothing to check against
        return None
    sockets = reference_inputs(node_type)
    if not sockets:
        return None
    connected = {s for s in sockets if graph.link_into(node_id, s) is not None}
    return reference_labels({**node_type.default_params(), **node.params}, connected)


def prompt_references(graph, node_id: str, param_name: str = "prompt") -> LabelsBySocket | None:
    """The references the text parameter ``param_name`` of ``node_id`` can name.

    ``{socket: label}`` for each connected reference socket, as
    ``nodes.anchors.anchor_problems`` takes it; None when anchors mean nothing
    there (no node with reference inputs is involved), so brackets stay
    ordinary text. A node with reference inputs checks its own prompt; a Text
    node checks against the nodes its words feed as a prompt.
    """
    if not is_prompt_param(param_name):
        return None
    own = _own_references(graph, node_id)
    if own is not None:
        return own
    merged: LabelsBySocket | None = None
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
        for socket, label in refs.items():
            merged.setdefault(socket, label)
    return merged


def prompt_problems(text: str, references: LabelsBySocket) -> list[AnchorProblem]:
    """The render's anchor problems for a prompt, as shown under its field.

    Problems with a label itself (a number, a label used twice) are left to
    the node type's ``check``, which shows them under the label's own field,
    as ``Personalize.check_links`` leaves them out of the prompt's.
    """
    return [p for p in anchor_problems(text, references) if p.kind != "label"]


# -- the highlighter ---------------------------------------------------------------------------
class AnchorHighlighter(QSyntaxHighlighter):
    """Colours the anchors of a prompt: blue when they name a connected
    reference, red and underlined when they name nothing."""

    def __init__(self, document):
        super().__init__(document)
        self._table: LabelsBySocket | None = None
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
    def references(self) -> LabelsBySocket | None:
        return self._table

    def set_references(self, references) -> None:
        """``{socket: label}`` of the connected references, or None where anchors mean nothing."""
        table = None if references is None else as_sockets(references)
        if table != self._table:
            self._table = table
            self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt's name)
        if self._table is None:
            return
        for anchor in find_anchors(text):
            good = socket_for(anchor, self._table) is not None
            self.setFormat(anchor.start, anchor.end - anchor.start, self.ok_format if good else self.bad_format)

    def format_at(self, block_number: int, position: int) -> QTextCharFormat | None:
        """The format the highlighter gave the character at ``position`` of a block (for tests)."""
        block = self.document().findBlockByNumber(block_number)
        ranges = block.layout().formats()
        for fmt_range in ranges:
            if fmt_range.start <= position < fmt_range.start + fmt_range.length:
                return QTextCharFormat(fmt_range.format)  # a copy that outlives the layout's list
        return None


__all__ = ["AnchorHighlighter", "is_prompt_param", "prompt_problems", "prompt_references", "reference_inputs"]
