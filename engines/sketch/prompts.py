"""What the sketch models understand of a prompt, said before anything runs.

A sketch model knows only the words of its world (engines/sketch/world.py for
sketch-video, engines/sketch/sounds.py for sketch-sound); its tokenizer turns
every other word into one "unknown" token, so a prompt with "cinematic fox"
would quietly render something else. Nodes call ``prompt_problem`` in their
checks (validation, before any model runs) and again when they run (for a
prompt that only exists then), and tell the artist which words are unknown.

Pure Python and numpy: the studio's validation imports this, never torch.
"""

from __future__ import annotations

from importlib import import_module

# Model id -> the module whose VOCABULARY / unknown_words(text) are its words.
_WORLDS = {
    "sketch-video": "engines.sketch.world",
    "sketch-sound": "engines.sketch.sounds",
}
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


def knows_words(model_id: str) -> bool:
    """Whether ``model_id`` is a sketch model with a closed vocabulary."""
    return model_id in _WORLDS


def unknown_words(model_id: str, text: str) -> list[str]:
    """The words of ``text`` the sketch model ``model_id`` was never taught ([] for any other model)."""
    if model_id not in _WORLDS:
        return []
    return list(import_module(_WORLDS[model_id]).unknown_words(text or ""))


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
