"""Sharing loaded components between pipelines, so one set of weights is loaded once.

Two ways a new pipeline can reuse what is resident:

* the same weights: pipelines of one family loaded from one source (Wan's
  text-to-video and video-to-video from one repo, say) are built with
  `from_pipe` over the resident one, so two nodes cost one model;
* the same bytes: a component whose files are byte-identical to a resident
  pipeline's (the same UMT5 text encoder and VAE in Wan's T2V and VACE repos)
  is passed in to `from_pretrained` rather than loaded twice.

Identity is decided from the files without reading the large ones where the
Hub already hashed them; a component that cannot be identified cheaply is
never shared, since sharing the wrong weights would silently change renders.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from nodes.model_catalogue import ModelSpec, get_spec
from engines.models.residents import Residents

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth", ".ckpt")
_HASH_LIMIT = 256 << 20  # weight files above this are identified by the Hub's hashes only


def share_key(spec: ModelSpec, profile: str) -> tuple[str, str]:
    """Pipelines with one share key hold the same weights."""
    # Tiny twins of one family are built identically; real ones share
    # weights when they come from the same repo; a shipped model is its own.
    if spec.shipped:
        return (profile, "shipped:" + spec.id)
    if spec.registered and profile != "tiny":
        return (profile, "registered:" + spec.id)
    return (profile, spec.family if profile == "tiny" else spec.repo_id)


def share_source(residents: Residents, spec: ModelSpec, profile: str) -> Any:
    """A resident pipeline with the same weights as `spec`, to build it from; None when there is none."""
    wanted = share_key(spec, profile)
    for (model_id, _profile), pipe in reversed(residents.pipelines.items()):
        if share_key(get_spec(model_id), profile) == wanted:
            return pipe
    return None


def shared_components(residents: Residents, identities: dict[str, str]) -> dict[str, Any]:
    """Resident components with the same identity as the ones about to load, by name."""
    import torch

    found: dict[str, Any] = {}
    for key, pipe in residents.pipelines.items():
        if residents.placement.get(key) not in ("gpu", "cpu"):
            continue  # an offloaded pipeline moves its modules around
        theirs = getattr(pipe, "_weft_components", {})
        for name, identity in identities.items():
            module = getattr(pipe, name, None)
            # Weights only: a scheduler or tokenizer costs nothing to load
            # and a scheduler carries per-run state.
            if (name not in found and isinstance(module, torch.nn.Module)
                    and theirs.get(name) == identity):
                found[name] = module
    return found


def component_identities(folder: Path) -> dict[str, str]:
    """{component name: identity} for the components of a pipeline folder.

    Two components with one identity hold the same bytes. Weight files are
    identified without reading them where the Hub already hashed them: a Hub
    cache snapshot links each file to a blob named by its sha256; a `--local-dir`
    download keeps the etag (the sha256 of LFS files) in its .cache metadata.
    Small files are hashed. A component with a large file of unknown hash has
    no identity and is never shared.
    """
    try:
        index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    identities: dict[str, str] = {}
    for name, value in index.items():
        part = folder / name
        if name.startswith("_") or not isinstance(value, list) or not part.is_dir():
            continue
        digest = hashlib.sha256(json.dumps(value).encode())
        for file in sorted(p for p in part.rglob("*") if p.is_file()):
            identity = _file_identity(folder, file)
            if identity is None:
                break
            digest.update(f"{file.relative_to(part)}={identity};".encode())
        else:
            identities[name] = digest.hexdigest()
    return identities


def _file_identity(root: Path, file: Path) -> str | None:
    if file.is_symlink() and "blobs" in Path(os.readlink(file)).parts:
        return Path(os.readlink(file)).name
    metadata = root / ".cache" / "huggingface" / "download" / (str(file.relative_to(root)) + ".metadata")
    if file.suffix in _WEIGHT_SUFFIXES and metadata.is_file():
        lines = metadata.read_text(encoding="utf-8").splitlines()
        if len(lines) >= 2 and len(lines[1].strip()) == 64:
            return lines[1].strip()
    if file.stat().st_size > _HASH_LIMIT:
        return None
    return hashlib.sha256(file.read_bytes()).hexdigest()
