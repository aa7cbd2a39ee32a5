"""Where Weft keeps model weights on this machine, and whether a folder there is whole.

Importing engines.models reads the registry here, and the GUI asks whether a
model is installed, so nothing here imports torch or Qt: a folder is judged by its
files alone.
"""

from __future__ import annotations

import json
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


def cached_snapshot(repo_id: str) -> Path | None:
    """The Hub cache's snapshot folder for `repo_id`, if it holds one."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    found = try_to_load_from_cache(repo_id, "model_index.json")
    return Path(found).parent if isinstance(found, str) else None


def is_complete_pipeline(folder: Path) -> bool:
    """Whether `folder` holds a whole diffusers pipeline, not a broken download.

    Checks that every component model_index.json names has its folder, that
    every model component has its weights (every shard its index lists), and
    that no download is still half-written. It does not hash files: that is
    the Hub client's job.
    """
    index = folder / "model_index.json"
    try:
        components = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    for name, value in components.items():
        if name.startswith("_") or not isinstance(value, list) or None in value:
            continue
        part = folder / name
        if not part.is_dir() or not any(part.iterdir()):
            return False
        shard_indexes = list(part.glob("*.index.json"))
        for shard_index in shard_indexes:
            try:
                shards = set(json.loads(shard_index.read_text(encoding="utf-8"))["weight_map"].values())
            except (OSError, ValueError, KeyError, TypeError):
                return False
            if not all((part / shard).is_file() for shard in shards):
                return False
        # A model component (config.json, unlike a scheduler's or tokenizer's
        # files) needs its weights; a download cut short may have only the config.
        if (part / "config.json").is_file() and not shard_indexes:
            if not any(part.glob("*.safetensors")) and not any(part.glob("*.bin")):
                return False
    # huggingface_hub keeps partial files of a --local-dir download here.
    partial = folder / ".cache" / "huggingface" / "download"
    return not (partial.is_dir() and any(partial.rglob("*.incomplete")))
