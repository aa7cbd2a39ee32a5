"""Anchored prompts: a prompt names reference images by ``[1]``, ``[2]`` or ``[Mia]``.

Movie Weaver's idea: when a video has several subjects, say in the prompt
which words belong to which reference image, so that two people do not blend
into one. Weft's Personalise node takes up to four references on the sockets
``reference_1`` .. ``reference_4``, each with an optional label; the prompt
names a reference by its number or its label, in square brackets.

This module only reads prompts: it finds anchors and says what is wrong with
them, with character spans so an editor can underline the very word. It is
pure Python (no Qt, no torch) for the inspector, validation and the engine.

    >>> [a.key for a in find_anchors("[Mia] throws a ball to [2]")]
    ['Mia', '2']

Rules:

- An anchor is ``[`` + a letter or digit + up to 39 more letters, digits,
  spaces, ``'``, ``-``, ``.`` or ``_`` + ``]``; brackets around anything else
  are prose. ``[1]`` .. ``[4]`` name a socket by number; anything else names
  it by its label, compared without regard to case or surrounding spaces.
- ``\\[`` writes a literal bracket that is not an anchor.
- Every anchor must name a connected reference, and every connected reference
  must be named by at least one anchor; a label may not be a bare number and
  two references may not share a label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Collection, Mapping, Sequence

MAX_REFERENCES = 4
SOCKETS = tuple(f"reference_{i}" for i in range(1, MAX_REFERENCES + 1))

# An anchor: "[", a short name that starts with a letter or digit, "]" --
# unless the "[" is escaped with a backslash. The inspector's highlighter
# (app/ui/panels/anchors.py) calls find_anchors too, so what is underlined is
# what is checked and rendered.
_ANCHOR = re.compile(r"(?<!\\)\[([^\W_][\w '\-.]{0,39})\]")


@dataclass(frozen=True)
class Anchor:
    """One ``[...]`` in a prompt."""

    text: str  # as written, brackets included: "[Mia]"
    start: int  # offset of "[" in the prompt
    end: int  # offset just after "]" (prompt[start:end] == text)
    key: str  # what is inside, stripped: "Mia", "2"

    @property
    def number(self) -> int | None:
        """The reference number for ``[1]``..``[9]``-style anchors, else None."""
        return int(self.key) if self.key.isdigit() else None


@dataclass(frozen=True)
class AnchorProblem:
    """Something to fix, and where: a span of the prompt, or a reference socket."""

    message: str
    start: int | None = None  # character span in the prompt, when the problem is a word there
    end: int | None = None
    anchor: str = ""  # the anchor's text, when there is one
    socket: str = ""  # "reference_2" when the problem is a socket (or its label)
    kind: str = "anchor"  # "anchor": a word of the prompt; "unnamed": a reference no anchor names; "label"

    def __iter__(self):
        """Unpacks as ``(span, message)``: ``span`` is ``(start, end)`` or None (a socket problem)."""
        span = (self.start, self.end) if self.start is not None else None
        return iter((span, self.message))

    @property
    def where(self) -> str:
        """The parameter or input the problem belongs to: "prompt", "reference_2" or "label_2"."""
        if self.kind == "label":
            return f"label_{self.socket.rsplit('_', 1)[1]}"
        if self.kind == "unnamed":
            return self.socket
        return "prompt"


def find_anchors(prompt: str) -> list[Anchor]:
    """Every anchor in ``prompt``, in the order written."""
    return [Anchor(m.group(0), m.start(), m.end(), m.group(1).strip()) for m in _ANCHOR.finditer(prompt or "")]


def as_sockets(labels: Mapping[str | int, str | None] | Sequence[str | None]) -> dict[str, str]:
    """Labels of connected references keyed by socket name.

    Accepts ``{"reference_1": "Mia"}``, ``{1: "Mia"}`` or a list (references
    1, 2, 3... in order), as the inspector builds them.
    """
    if isinstance(labels, Mapping):
        items = labels.items()
    else:
        items = enumerate(labels, start=1)
    out: dict[str, str] = {}
    for key, label in items:
        socket = f"reference_{key}" if isinstance(key, int) or str(key).isdigit() else str(key)
        out[socket] = (label or "").strip()
    return out


def label_param(socket: str) -> str:
    """The parameter that holds a reference's label: ``"reference_2"`` -> ``"label_2"``."""
    return f"label_{socket.rsplit('_', 1)[1]}"


def reference_labels(params: Mapping[str, Any], connected: Collection[str] = SOCKETS) -> dict[str, str]:
    """The labels of the ``connected`` reference sockets, as the render reads them.

    A label is the node's own ``label_N`` parameter ("" when unset) and
    nothing else: not the title of the node that feeds the reference. The
    Personalise node and the inspector both call this, so the inspector
    underlines what the render will refuse.
    """
    return {s: params.get(label_param(s), "") for s in SOCKETS if s in connected}


def _norm(label: str) -> str:
    return " ".join(label.split()).casefold()


def socket_for(anchor: Anchor, labels_by_socket: Mapping[str, str | None]) -> str | None:
    """The connected socket ``anchor`` names, or None."""
    labels_by_socket = as_sockets(labels_by_socket)
    number = anchor.number
    if number is not None:
        socket = f"reference_{number}"
        return socket if socket in labels_by_socket else None
    wanted = _norm(anchor.key)
    for socket, label in labels_by_socket.items():
        if label and _norm(label) == wanted:
            return socket
    return None


def anchor_problems(prompt: str, labels_by_socket: Mapping[str, str | None]) -> list[AnchorProblem]:
    """What is wrong with the anchors of ``prompt``.

    ``labels_by_socket`` has one entry per *connected* reference socket
    (``"reference_1"`` .. ``"reference_4"``), its label or "" / None. An empty
    list means every anchor names a connected reference and every connected
    reference is named.
    """
    problems: list[AnchorProblem] = []
    labels_by_socket = as_sockets(labels_by_socket)
    connected = {s: labels_by_socket[s] for s in SOCKETS if s in labels_by_socket}

    seen_labels: dict[str, str] = {}
    for socket, label in connected.items():
        if not label:
            continue
        if label.isdigit():
            problems.append(AnchorProblem(
                f"{_socket_words(socket)}'s label {label!r} is a number; numbers name references by "
                f"position ([1]..[{MAX_REFERENCES}]), so give it a name", socket=socket, kind="label"))
        elif "[" in label or "]" in label:
            problems.append(AnchorProblem(f"{_socket_words(socket)}'s label {label!r} may not contain brackets",
                                          socket=socket, kind="label"))
        elif _norm(label) in seen_labels:
            problems.append(AnchorProblem(
                f"{_socket_words(socket)} and {_socket_words(seen_labels[_norm(label)])} are both labelled "
                f"{label!r}; give each reference its own label", socket=socket, kind="label"))
        else:
            seen_labels[_norm(label)] = socket

    named: set[str] = set()
    for anchor in find_anchors(prompt):
        socket = socket_for(anchor, connected)
        if socket is not None:
            named.add(socket)
            continue
        # Worded by the anchor itself, as the artist wrote it: "[Zoe] has no reference".
        number = anchor.number
        if number is not None and 1 <= number <= MAX_REFERENCES:
            message = (f"{anchor.text} has no reference: nothing is connected to "
                       f"{_socket_words(f'reference_{number}')}")
        elif number is not None:
            message = f"{anchor.text} has no reference: there are only {MAX_REFERENCES} reference inputs"
        else:
            known = _known(connected)
            message = (f"{anchor.text} has no reference ({known}); label a reference {anchor.key!r} or "
                       f"write its number, like [1]")
        problems.append(AnchorProblem(message, anchor.start, anchor.end, anchor.text))

    for socket, label in connected.items():
        if socket not in named:
            number = socket.rsplit("_", 1)[1]
            how = f"[{number}]" + (f" or [{label}]" if label and not label.isdigit() else "")
            problems.append(AnchorProblem(
                f"{_socket_words(socket)}{f' ({label})' if label else ''} is connected but the prompt never names "
                f"it; write {how} where that subject appears, or disconnect it", socket=socket, kind="unnamed"))
    return problems


def reference_order(prompt: str, labels_by_socket: Mapping[str, str | None]) -> list[str]:
    """Connected sockets in the order the prompt first names them (anchors that name nothing are skipped)."""
    order: list[str] = []
    labels_by_socket = as_sockets(labels_by_socket)
    for anchor in find_anchors(prompt):
        socket = socket_for(anchor, labels_by_socket)
        if socket is not None and socket not in order:
            order.append(socket)
    return order


_ORDINALS = ("first", "second", "third", "fourth")


@dataclass(frozen=True)
class BoundPrompt:
    """What the model gets from an anchored prompt."""

    text: str  # the prompt with every anchor replaced by words
    order: tuple[str, ...]  # connected sockets, in the order the prompt first names them


def bind_prompt(prompt: str, labels_by_socket: Mapping[str, str | None],
                descriptions: Mapping[str, str | None] | None = None) -> BoundPrompt:
    """Replace anchors by words and order the references by first mention.

    The n-th reference to be named becomes "subject n" for the model: its
    image is the n-th reference frame, and its anchors become words:

    - the first mention: ``label (description)``, or the label alone, or the
      description alone, or "the first subject" when it has neither;
    - later mentions: the label, else the description, else "the first subject".

    ``\\[`` becomes a plain ``[``. Call after ``anchor_problems`` found
    nothing: anchors that name no connected socket are left as written.
    """
    descriptions = as_sockets(descriptions or {})
    labels_by_socket = as_sockets(labels_by_socket)
    order = reference_order(prompt, labels_by_socket)
    mentioned: set[str] = set()
    parts: list[str] = []
    last = 0
    for anchor in find_anchors(prompt):
        socket = socket_for(anchor, labels_by_socket)
        if socket is None:
            continue
        label = (labels_by_socket.get(socket) or "").strip()
        description = (descriptions.get(socket) or "").strip()
        generic = f"the {_ORDINALS[order.index(socket)]} subject"
        if socket not in mentioned:
            words = f"{label} ({description})" if label and description else (label or description or generic)
            mentioned.add(socket)
        else:
            words = label or description or generic
        parts.append(prompt[last:anchor.start])
        parts.append(words)
        last = anchor.end
    parts.append(prompt[last:])
    return BoundPrompt("".join(parts).replace("\\[", "["), tuple(order))


def _socket_words(socket: str) -> str:
    return "reference " + socket.rsplit("_", 1)[1]


def _known(connected: Mapping[str, str]) -> str:
    labels = [f"{label} is reference {s.rsplit('_', 1)[1]}" for s, label in connected.items() if label]
    if labels:
        return "; ".join(labels)
    return "no reference has a label" if connected else "no reference is connected"


__all__ = ["Anchor", "AnchorProblem", "BoundPrompt", "as_sockets", "bind_prompt", "MAX_REFERENCES", "SOCKETS", "anchor_problems", "find_anchors",
           "label_param", "reference_labels", "reference_order", "socket_for"]
