"""The picture shapes an artist picks from, as width:height: the one table.

Generation nodes (Text to Video's aspect), Resize's aspect and the engine's
size arithmetic all read it, so a shape offered in one place is offered, and
means the same, in every other.
"""

from __future__ import annotations

ASPECTS: dict[str, tuple[int, int]] = {
    "16:9": (16, 9),
    "9:16": (9, 16),
    "1:1": (1, 1),
    "4:3": (4, 3),
    "3:4": (3, 4),
    "21:9": (21, 9),
    "4:5": (4, 5),
}
ASPECT_CHOICES: tuple[str, ...] = tuple(ASPECTS)
