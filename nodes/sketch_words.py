"""The words of the two sketch worlds, and what a sketch model says about other words.

The sketch models (engines/sketch/) know only the words of their world; a prompt
with any other word is refused before a run, naming the words (a real model takes
any words). The word tables are the contract of those worlds: the renderers in
engines/sketch/world.py and sounds.py draw from them, the judges check against
them, validation reads them here without the runtime.
"""

from __future__ import annotations

# ---- the video world: flat shapes on plain backgrounds -------------------------

# The RGB values the renderer draws; the judge classifies pixels to the nearest.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (40, 80, 220),
    "yellow": (240, 210, 40),
    "white": (240, 240, 240),
    "orange": (245, 140, 30),
    "purple": (150, 60, 200),
    "black": (15, 15, 15),
    "grey": (128, 128, 128),
}
SHAPES = ("circle", "square", "triangle")
DIRECTIONS = ("left", "right", "up", "down")
MOTIONS = DIRECTIONS + ("grows", "shrinks", "still")
SIZES = ("small", "", "big")
SPEEDS = ("slowly", "", "quickly")

# Every word a sketch caption can use; anything else is unknown to the models.
VIDEO_WORDS: frozenset[str] = frozenset(
    {"a", "an", "and", "on", "background", "moves", "move", "grows", "shrinks", "stays", "still"}
    | set(COLOURS) | {"gray"} | set(SHAPES) | set(DIRECTIONS) | {"small", "big", "slowly", "quickly"}
)

# ---- the sound world: beeps, whistles, hums, noise, clicks ----------------------

KINDS = ("beeps", "whistle", "hum", "noise", "clicks")
PITCHES = ("low", "high")
SWEEPS = ("rising", "falling")
RATES = ("fast", "slow")
LOUDNESSES = ("loud", "quiet")
COUNT_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4}
NOUNS = {"beep": "beeps", "beeps": "beeps", "whistle": "whistle", "hum": "hum", "noise": "noise",
         "click": "clicks", "clicks": "clicks"}
# The lengths the sound model was trained on, in seconds.
SOUND_SECONDS = (1.0, 4.0)

SOUND_WORDS: frozenset[str] = frozenset(
    set(COUNT_WORDS) | set(NOUNS) | set(PITCHES) | set(SWEEPS) | set(RATES) | {"loud", "quiet", "soft"}
)

# ---- what a sketch model knows ---------------------------------------------------

_VOCABULARIES = {"sketch-video": VIDEO_WORDS, "sketch-sound": SOUND_WORDS}
# What each model knows, in the artist's words, and a prompt that works.
_KNOWS = {
    "sketch-video": ("it knows shapes, colours, motions: circle, square, triangle; red, green, blue, yellow, "
                     "white, orange, purple, black, grey; moves left, right, up or down (slowly, quickly), "
                     "grows, shrinks, stays still; small, big; one or two shapes joined by 'and', then 'on a "
                     "COLOUR background'. For example: 'a red circle moves right and a yellow square moves down "
                     "on a blue background'"),
    "sketch-sound": ("it knows simple sounds: a, one, two, three, four beeps; a whistle rising or falling; a hum; "
                     "noise; fast or slow clicks; low, high; loud, quiet, soft. For example: 'three high beeps', "
                     "'a rising whistle', 'soft noise'"),
}


def words(text: str) -> list[str]:
    """The words of ``text`` as the sketch models read them: lower case, punctuation gone."""
    cleaned = "".join(c if c.isalnum() else " " for c in text.lower())
    return cleaned.split()


def knows_words(model_id: str) -> bool:
    """Whether ``model_id`` is a sketch model with a closed vocabulary."""
    return model_id in _VOCABULARIES


def unknown_words(model_id: str, text: str) -> list[str]:
    """The words of ``text`` the sketch model ``model_id`` was never taught, in order, once each
    ([] for any other model)."""
    vocabulary = _VOCABULARIES.get(model_id)
    if vocabulary is None:
        return []
    return list(dict.fromkeys(w for w in words(text or "") if w not in vocabulary))


def prompt_problem(model_id: str, text: str) -> str | None:
    """Why ``text`` is not a prompt ``model_id`` understands, or None (always None for a real model)."""
    unknown = unknown_words(model_id, text)
    if not unknown:
        return None
    return f"{model_id} does not know the words: {', '.join(unknown)} \u2014 {_KNOWS[model_id]}"


def negative_problem(model_id: str, text: str) -> str | None:
    """The same for a negative prompt, which a sketch model reads with the same few words."""
    problem = prompt_problem(model_id, text)
    return None if problem is None else problem + ". Leave the negative prompt empty for a sketch model"
