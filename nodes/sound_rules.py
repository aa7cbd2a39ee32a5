"""How long a sound each model makes in one call: domain rules, checked before a run."""

from __future__ import annotations

from nodes.model_catalogue import UnknownModelError, get_spec
from nodes.sketch_words import SOUND_SECONDS

# The longest sound one call of each pipeline makes. Stable Audio Open's DiT
# window is 1024 latents of 2048 samples at 44.1 kHz; LongCat's pipeline
# caps at 30 s; ACE-Step 1.5 makes songs of up to 10 minutes.
MAX_SECONDS = {
    "StableAudioPipeline": 47.0,
    "LongCatAudioDiTPipeline": 30.0,
    "AceStepPipeline": 600.0,
}


def seconds_range(model_id: str) -> tuple[float, float]:
    """The shortest and longest sound one call of ``model_id`` makes."""
    if model_id == "sketch-sound":  # trained on 1-4 s clips of the sketch sound world
        return SOUND_SECONDS
    return 0.0, MAX_SECONDS.get(get_spec(model_id).pipeline_class, 47.0)


def max_seconds(model_id: str) -> float:
    return seconds_range(model_id)[1]


def check_length(model_id: str, seconds: float, what: str = "asked for") -> str | None:
    """Why ``seconds`` is too long (or, for a model trained on a range, too short) for ``model_id``, or None."""
    try:
        title = get_spec(model_id).title
    except UnknownModelError:
        return None
    shortest, limit = seconds_range(model_id)
    if seconds > limit + 1e-9:
        lead = f"{title} was trained on {shortest:g}-{limit:g} s sounds" if shortest else \
            f"{title} makes at most {limit:g} s in one go"
        return f"{lead}; {what} {seconds:.2f} s"
    if seconds < shortest - 1e-9:
        return f"{title} was trained on {shortest:g}-{limit:g} s sounds; {what} {seconds:.2f} s"
    return None
