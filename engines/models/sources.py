"""Where each model's weights come from in a profile, and whether they are here.

One loading path serves every model and both profiles; only the source differs:

* profile "tiny": `<tiny_dir>/<model id>`, a random-weight twin built offline
  on first use (engines/models/tiny.py). Renders are noise.
* profile "default": `<models_dir>/<model id>` when `weft models pull` put the
  model there, otherwise the Hugging Face repo id, read from the Hub cache.
  The artist's own weights (`weft models add`) come from their folder, or from
  their single files over the base model's folder.
* a model that ships with Weft (the sketch models, `ModelSpec.shipped`): its
  folder in the package, `engines/sketch/weights/<model id>`, in every profile,
  once its files match `engines/sketch/weights/manifest.json`.

These answers are kept apart from loading because the GUI and the command line
ask them (is it installed? where is it?) in processes that never import torch.
"""

from __future__ import annotations

from pathlib import Path

from nodes.model_catalogue import ModelSpec, get_spec
from engines.models.folders import cached_snapshot, is_complete_pipeline

PROFILES = ("default", "tiny")
TINY_NOTICE = "tiny twin with random weights: the output is noise"


class ModelNotAvailableError(RuntimeError):
    """The weights of a model are neither on disk nor reachable.

    The message is written for the artist: which model, where it comes from,
    and the command that fetches it.
    """


def display_title(spec: ModelSpec, profile: str) -> str:
    """The model's title as a user should see it in `profile`."""
    return f"{spec.title} ({TINY_NOTICE})" if profile == "tiny" and not spec.shipped else spec.title


def shipped_folder(model_id: str) -> Path:
    from engines.sketch.manifest import folder

    return folder(model_id)


def shipped_source(spec: ModelSpec) -> Path:
    """The package folder of a shipped model, once its files match the manifest."""
    from engines.sketch.manifest import ManifestError, verify

    try:
        return verify(spec.id)
    except ManifestError as exc:
        raise ModelNotAvailableError(f"{spec.title} ({spec.id}): {exc}") from None


def local_folder(spec: ModelSpec, profile: str, models_dir: Path, tiny_dir: Path) -> Path:
    """The folder `profile` loads `spec` from when it is on disk."""
    if spec.shipped:
        return shipped_folder(spec.id)
    root = tiny_dir if profile == "tiny" else models_dir
    return root / spec.id


def source_folder(spec: ModelSpec, profile: str, models_dir: Path, tiny_dir: Path) -> Path | None:
    """The diffusers folder `spec` loads from in `profile`, or None when it is not on disk."""
    if spec.shipped:
        return shipped_folder(spec.id)
    if profile == "tiny":
        return tiny_dir / spec.id
    if spec.user_folder:
        return Path(spec.user_folder) if is_complete_pipeline(Path(spec.user_folder)) else None
    if spec.registered:
        return source_folder(get_spec(spec.base), profile, models_dir, tiny_dir)
    if is_complete_pipeline(models_dir / spec.id):
        return models_dir / spec.id
    return cached_snapshot(spec.repo_id)


def is_installed(spec: ModelSpec, profile: str, models_dir: Path, tiny_dir: Path) -> bool:
    """Whether `spec` can load in `profile` without downloading anything.

    Tiny: the twin has been built. Default: a complete copy is in the
    models folder or in the Hugging Face cache. Imports no torch.
    """
    if spec.shipped:
        from engines.sketch.manifest import is_present

        return is_present(spec.id)
    if profile == "tiny":
        from engines.models.tiny import is_current

        return is_current(tiny_dir / spec.id, spec.family)
    if spec.registered:
        return (source_folder(spec, profile, models_dir, tiny_dir) is not None
                and all(Path(p).is_file() for _, p in spec.user_files))
    if is_complete_pipeline(models_dir / spec.id):
        return True
    snapshot = cached_snapshot(spec.repo_id)
    return snapshot is not None and is_complete_pipeline(snapshot)
