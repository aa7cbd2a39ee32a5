"""Fetching weights from the Hugging Face Hub, and saying what to do when that fails.

`weft models pull` downloads a model's diffusers files into the models folder;
a default-profile load may read them from the Hub cache instead. Both can fail
for reasons an artist can fix (offline, a gated licence not accepted, an
interrupted download), so every failure becomes a `ModelNotAvailableError`
whose message names the model, its repo and the command that fetches it.

HF_HUB_OFFLINE is read as set now, not as huggingface_hub saw it at import:
offline means no network, ever.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nodes.model_catalogue import CATALOGUE, ModelSpec
from engines.models.sources import ModelNotAvailableError

ProgressCallback = Callable[[int, int], None]


def hub_offline() -> bool:
    """HF_HUB_OFFLINE as set now (huggingface_hub reads it once, at import)."""
    value = os.environ.get("HF_HUB_OFFLINE", "")
    if value.strip().upper() in {"1", "ON", "YES", "TRUE"}:
        return True
    try:
        from huggingface_hub import constants
    except ImportError:
        return False
    return bool(constants.HF_HUB_OFFLINE)


def download(spec: ModelSpec, target: Path, progress: ProgressCallback | None = None) -> Path:
    """Download `spec`'s diffusers files into `target`, resuming what an earlier try left."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError

    target.mkdir(parents=True, exist_ok=True)
    try:
        snapshot_download(
            spec.repo_id,
            local_dir=target,
            allow_patterns=list(spec.download_patterns),
            # huggingface_hub reads HF_HUB_OFFLINE only at import; honour
            # it as set now, so offline means no network, ever.
            local_files_only=hub_offline(),
            tqdm_class=_progress_tqdm(progress) if progress is not None else None,
        )
    except (OSError, HfHubHTTPError) as exc:
        with contextlib.suppress(OSError):
            target.rmdir()  # only if nothing arrived: keep partial files to resume
        raise ModelNotAvailableError(not_available_message(spec, target, exc, pulling=True)) from exc
    return target


def not_available_message(spec: ModelSpec, target: Path, exc: BaseException | None = None, *,
                          pulling: bool = False) -> str:
    """What to tell the artist when `spec` cannot be loaded (or pulled into `target`)."""
    if pulling:
        lines = [
            f"Could not download {spec.title} ({spec.id}) from the Hugging Face repo "
            f"{spec.repo_id} (about {spec.download_gb:g} GB) into {target}.",
            "Run the same command again once connected: the download resumes where it stopped.",
            f"  or: huggingface-cli download {spec.repo_id} --local-dir {target}",
        ]
    else:
        lines = [
            f"{spec.title} ({spec.id}) is not installed and cannot be downloaded now.",
            f"It comes from the Hugging Face repo {spec.repo_id} (about {spec.download_gb:g} GB).",
            f"Fetch it with: weft models pull {spec.id}",
            f"  or: huggingface-cli download {spec.repo_id} --local-dir {target}",
        ]
    toys = [other for other in CATALOGUE.values() if other.shipped and other.task == spec.task]
    if toys and not pulling:
        names = " or ".join(f"{toy.title} ({toy.id})" for toy in toys)
        lines.append(f"Meanwhile {names} ships with Weft: a toy model of a toy world that knows only its own "
                     "few words, enough to try the graph offline, not a substitute for this model.")
    if spec.gated:
        lines.append(
            f"This model is gated: accept its licence on https://huggingface.co/{spec.repo_id} "
            "and log in first (huggingface-cli login)."
        )
    if hub_offline():
        lines.append("Hugging Face downloads are switched off here (HF_HUB_OFFLINE is set).")
    if exc is not None:
        lines.append(f"Details: {_first_line(exc)}")
    return "\n".join(lines)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _progress_tqdm(progress: ProgressCallback) -> type:
    """A silent tqdm class that forwards download progress to `progress`.

    huggingface_hub (1.x and later) passes the class to its byte counters;
    older versions only to the per-file counter. Bytes win when both exist.
    """
    from tqdm.auto import tqdm

    lock = threading.Lock()
    bars: list[Any] = []

    class ForwardingTqdm(tqdm):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.pop("name", None)
            kwargs["disable"] = True  # no terminal output; counted below
            super().__init__(*args, **kwargs)
            self.unit = kwargs.get("unit", "it")
            self.done = int(kwargs.get("initial", 0) or 0)
            with lock:
                bars.append(self)

        def update(self, n: float | None = 1) -> bool | None:
            with lock:
                self.done += int(n or 0)
                counted = [bar for bar in bars if bar.unit == "B"] or bars
                done = max(bar.done for bar in counted)
                total = max(int(bar.total or 0) for bar in counted)
            progress(done, max(total, done))
            return None

    return ForwardingTqdm
