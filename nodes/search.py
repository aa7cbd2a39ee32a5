"""Finding node types (and nodes) by what an artist types: one search for the whole studio.

The Tab popup, the node library and Find node all rank with it. Forgiving the
way artists type: "t2v" finds Text to Video by its tag, "vid" by a word's
start, "ttv" by the title's initials, "txtvid" as letters in order. Every word
of the query has to match something. Pure Python: no Qt, so the command line
could search the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _subsequence_score(needle: str, haystack: str) -> float | None:
    """A score for ``needle``'s letters appearing in order in ``haystack`` (None if not)."""
    position, gaps, last = 0, 0, -1
    for char in needle:
        found = haystack.find(char, position)
        if found < 0:
            return None
        if last >= 0 and found != last + 1:
            gaps += 1
        last, position = found, found + 1
    return max(5.0, 30.0 - 4 * gaps)


def _term_score(term: str, fields: list[tuple[str, float]]) -> float | None:
    best: float | None = None
    for text, weight in fields:
        text = text.lower()
        if not text:
            continue
        words = _words(text)
        if term == text or term in words:
            score = 100.0
        elif any(w.startswith(term) for w in words):
            score = 80.0
        elif len(words) > 1 and "".join(w[0] for w in words).startswith(term):
            score = 70.0
        elif term in text:
            score = 60.0
        elif weight >= 0.8 and len(term) >= 2:
            sub = _subsequence_score(term, text)
            score = sub if sub is not None else 0.0
        else:
            score = 0.0
        if score:
            score *= weight
            best = score if best is None else max(best, score)
    return best


def fields_score(query: str, fields: Sequence[tuple[str, float]]) -> float | None:
    """How well ``query`` matches weighted text fields (higher is better); None when some
    word of it matches none of them. An empty query matches everything with 0."""
    terms = query.lower().split()
    total = 0.0
    for term in terms:
        score = _term_score(term, list(fields))
        if score is None:
            return None
        total += score
    return total


def match_score(query: str, node_type, *, descriptions: bool = False) -> float | None:
    """How well a node type matches a search (higher is better); None when it does not.

    Every word of the query has to match something: the title, the type id,
    a tag, the category, or, with ``descriptions``, the description. (The
    library looks in descriptions only when nothing else matched: "video"
    finding Load Audio because its description mentions videos confuses.)
    """
    terms = query.lower().split()
    if not terms:
        return 0.0
    fields = [
        (node_type.title, 1.0),
        (node_type.type_id.replace("_", " "), 0.9),
        (node_type.type_id, 0.9),
        *((tag, 0.95) for tag in node_type.tags),
        (node_type.category, 0.6),
    ]
    if descriptions:
        fields.append((node_type.description, 0.3))
    return fields_score(query, fields)



Preference = Callable[[Any], float]

# What a recently used type (the first one most) and a preferred one (a dropped link's
# exact type) add to a match, against ~100 a well-matched word.
_RECENT_BONUS, _PREFER_BONUS = 40.0, 30.0


def rank(node_types: Iterable[Any], query: str, recent: Sequence[str] = (),
         prefer: Preference | None = None) -> list[Any]:
    """Matching node types, best first; recently used ones are lifted, and so are
    those ``prefer`` scores higher (for a dropped link: the nodes that make or
    take exactly its type, ahead of those that convert). With no query, the order
    is recent, preferred, then by category and title."""
    recent_rank = {type_id: i for i, type_id in enumerate(recent)}
    scored = []
    for t in node_types:
        s = match_score(query, t)
        if s is None:
            continue
        if t.type_id in recent_rank:
            s += _RECENT_BONUS / (1 + recent_rank[t.type_id])
        if prefer is not None:
            s += prefer(t) * _PREFER_BONUS
        scored.append((-s, t.category, t.title, t))
    scored.sort(key=lambda x: x[:3])
    return [t for *_, t in scored]
