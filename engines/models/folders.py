"""Where Weft keeps model weights on this machine (no torch, no Qt: the catalogue reads it at import)."""

from __future__ import annotations

import os
from pathlib import Path


def default_models_dir() -> Path:
    """Where `pull` puts real weights: $WEFT_MODELS_DIR, else the user data dir."""
    if os.environ.get("WEFT_MODELS_DIR"):
        return Path(os.environ["WEFT_MODELS_DIR"]).expanduser()
    from platformdirs import user_data_path

    return user_data_path("weft", appauthor=False) / "models"


def default_tiny_dir() -> Path:
    """Where tiny twins are built: $WEFT_TINY_DIR, else the user cache dir.

    A cache: every twin can be rebuilt from code at any time.
    """
    if os.environ.get("WEFT_TINY_DIR"):
        return Path(os.environ["WEFT_TINY_DIR"]).expanduser()
    from platformdirs import user_cache_path

    return user_cache_path("weft", appauthor=False) / "tiny-models"


def registry_path() -> Path:
    """The list of the artist's own weights (`weft models add`), beside the pulled models."""
    return default_models_dir() / "registered.json"
