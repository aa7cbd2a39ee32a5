"""What the model picker says about each model: installed or not, size, licence.

The catalogue is domain data (nodes/model_catalogue.py). The model manager is
pure Python too (no torch at import), but it is imported lazily and its failures
degrade to "cannot tell", so a broken models folder never stops the inspector
from showing a node. ``is_installed`` looks at the disk; answers are kept for a few seconds
so that clicking through nodes does not rescan the Hugging Face cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from nodes.model_catalogue import CATALOGUE, SKETCH_NOTICE, size_text

_TTL_SECONDS = 10.0
_installed_cache: dict[tuple[str, str], tuple[float, bool | None]] = {}


@dataclass(frozen=True)
class ModelInfo:
    id: str
    title: str
    installed: bool | None  # None: could not tell
    download_gb: float | None = None
    vram_gb: float | None = None
    licence: str = ""
    non_commercial: bool = False
    gated: bool = False
    warning: str = ""  # what an artist must know before commercial use
    known: bool = True  # False: not in the catalogue (a typo, or a newer project)
    tiny: bool = False  # the tiny test profile: "installed" means the random-weight twin is built
    shipped: bool = False  # a sketch model: a toy model of a toy world, shipped with Weft, always here

    def short_warning(self) -> str:
        """The licence warning in a few words (the whole of it goes in a tooltip)."""
        if not self.warning:
            return ""
        if self.non_commercial:
            return "Non-commercial licence: its output may not be used commercially"
        return "The licence limits commercial use (hover for the terms)"

    def size_text(self) -> str:
        return f"{_gb(self.download_gb)}" if self.download_gb is not None else ""

    def list_text(self) -> str:
        """The entry in the drop-down: its title and whether it is here."""
        if not self.known:
            return f"{self.id}  (not in this version's catalogue)"
        if self.shipped:
            return f"{self.title}  \u2014 " + (f"installed, {SKETCH_NOTICE}" if self.installed is not False
                                                else "damaged or missing: reinstall Weft")
        if self.installed is True:
            return f"{self.title}  \u2014 installed"
        if self.installed is False:
            size = f", {self.size_text()} download" if self.download_gb is not None else ""
            return f"{self.title}  \u2014 not installed{size}"
        return self.title

    def details(self) -> str:
        """One line under the picker."""
        if not self.known:
            return f"{self.id} is not a model this version of Weft knows."
        parts = []
        if self.shipped:
            # Its real weights in every profile: no twin, no download.
            parts.append(f"Installed: a toy model of a toy world, shipped with Weft ({self.size_text()}); it knows "
                         "only the words of its world" if self.installed is not False
                         else "Shipped with Weft but damaged or missing here: reinstall Weft")
        elif self.tiny:
            # The sizes below are the real model's; say so, or "Installed (29 GB)"
            # would describe a twin of a few megabytes.
            parts.append("Tiny twin built (random weights)" if self.installed
                         else "Tiny twin: built offline on first run")
            if self.download_gb is not None:
                parts.append(f"the real model: {self.size_text()} download")
        elif self.installed is True:
            parts.append("Installed" + (f" ({self.size_text()})" if self.download_gb is not None else ""))
        elif self.installed is False:
            parts.append("Not installed" + (f": {self.size_text()} download on first run"
                                            if self.download_gb is not None else ""))
        if self.vram_gb is not None:
            parts.append(f"needs about {_gb(self.vram_gb)} of GPU memory")
        if self.licence:
            parts.append(f"licence {self.licence}")
        if self.gated and (self.installed is not True or self.tiny):
            parts.append("the download needs a Hugging Face login")
        return " \u00b7 ".join(parts)


def _gb(value: float) -> str:
    return size_text(value)


def _is_installed(model_id: str, profile: str) -> bool | None:
    """Asks the model manager; None when it cannot tell (tests replace this)."""
    try:
        from engines.models.manager import ModelManager
        return bool(ModelManager(profile=profile).is_installed(model_id))
    except Exception:
        return None


def installed(model_id: str, profile: str = "default") -> bool | None:
    now = time.monotonic()
    hit = _installed_cache.get((profile, model_id))
    if hit is not None and now - hit[0] < _TTL_SECONDS:
        return hit[1]
    answer = _is_installed(model_id, profile)
    _installed_cache[(profile, model_id)] = (now, answer)
    return answer


def forget() -> None:
    """Forget what is installed (after a download, or when the models folder changed)."""
    _installed_cache.clear()


def model_info(model_id: str, profile: str = "default") -> ModelInfo:
    spec = CATALOGUE.get(model_id)
    if spec is None:
        return ModelInfo(model_id, model_id, None, known=False)
    title = spec.title
    shipped = spec.shipped
    if profile == "tiny" and not shipped:
        title += " (tiny test twin: random weights, output is noise)"
    return ModelInfo(
        id=spec.id, title=title, installed=installed(spec.id, profile),
        download_gb=spec.download_gb, vram_gb=spec.vram_gb, licence=spec.licence,
        non_commercial=spec.non_commercial, gated=spec.gated, warning=spec.licence_warning(),
        tiny=profile == "tiny" and not shipped,
        shipped=shipped,
    )


def model_infos(model_ids, profile: str = "default") -> list[ModelInfo]:
    return [model_info(m, profile) for m in model_ids]


def starting_params(node_type, profile: str = "default") -> dict:
    """The model a new node starts with on this machine, with the settings it needs.

    A node's own default model (Wan 2.1, Stable Audio Open) when it is installed; when it is
    not, the sketch model of the same task, which ships with Weft, so that a new node on a
    fresh install renders something (its picker says it is a toy model). {} to keep the node's
    defaults: the default model is here, the tiny profile builds its twins, or nothing fits.
    The choice is written into the node, never made again behind the artist's back.
    """
    param = getattr(node_type, "params", {}).get("model")
    if param is None or profile != "default":
        return {}
    try:
        default = CATALOGUE.get(param.default)
        if default is None or installed(default.id, profile) is not False:
            return {}
        options = set(param.options())
        toy = next((spec.id for spec in CATALOGUE.values()
                    if spec.shipped and spec.task == default.task and spec.id in options), None)
        if toy is None or installed(toy, profile) is not True:
            return {}
        return {"model": toy, **node_type.settings_for(toy, {})}
    except Exception:
        return {}
