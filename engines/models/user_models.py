"""The artist's own weights: `weft models add PATH [--as ID] [--like ID]`.

An artist arrives with weights Weft did not download: a diffusers folder (a
fine-tune saved with `save_pretrained`), a single-file checkpoint (ComfyUI's
`models/diffusion_models/*.safetensors`), or a whole ComfyUI models folder.
Registering one writes a line to `registered.json` beside the pulled models
(`engines/models/folders.py`); nothing is copied. Each registered entry
becomes an ordinary catalogue model (its own id in every model picker, in
`weft models list`, in project files) built on a *base*: the catalogue model
whose family, task, configs and remaining components it uses. A single-file
transformer loads through diffusers' `from_single_file` with the base's
transformer config. A ComfyUI models folder's Wan 2.1 VAE (`vae/`) and UMT5
text encoder (`text_encoders/`, or the older `clip/`) are paired with its
transformers when they fit the base (same latent channels and block layout;
same text width, blocks and vocabulary), and a single VAE or text encoder file
can be given to a registered model (`--into ID`); the rest (tokenizer,
scheduler, configs, and any component with no file of its own) comes from the
base's own folder. Loading them is engines/models/loading.py.

Everything here runs before torch is imported (the CLI and the studio read
it); checkpoints are recognised from their safetensors headers
(`engines/models/checkpoints.py`).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engines.models.checkpoints import Checkpoint, CheckpointError, identify
from engines.models.folders import registry_path

REGISTRY_VERSION = 1

# The Wan transformers of the catalogue, told apart by what their single files show:
# (variant, width, blocks, input channels). Used when the base model is not on this
# machine yet, so its own config cannot be read.
KNOWN_WAN = {
    "wan2.1-t2v-1.3b": ("t2v", 1536, 30, 16),
    "wan2.2-ti2v-5b": ("t2v", 3072, 30, 48),
    "wan2.1-vace-1.3b": ("vace", 1536, 30, 16),
    "wan2.1-vace-14b": ("vace", 5120, 40, 16),
    "wan2.1-i2v-14b-480p": ("i2v", 5120, 40, 36),
    "wan2.1-flf2v-14b-720p": ("flf2v", 5120, 40, 36),
}

# ComfyUI's folders that hold diffusion models (the newer name first).
COMFY_MODEL_FOLDERS = ("diffusion_models", "unet", "checkpoints")
# ... and the other components Weft can take from one: {component: folders}.
COMFY_COMPONENT_FOLDERS = {"vae": ("vae",), "text_encoder": ("text_encoders", "clip")}

# What the catalogue's Wan models' own VAE and text encoder are, as their single files show
# them (checkpoints.identify's family and dims). Used when the base is not on this machine.
_WAN21_VAE = ("wan_vae", {"latent channels": 16, "width": 96, "levels": 4, "residual blocks": 2})
_UMT5_XXL = ("umt5", {"width": 4096, "blocks": 24, "vocabulary": 256384})
KNOWN_COMPONENTS = {
    **{model_id: {"vae": _WAN21_VAE, "text_encoder": _UMT5_XXL} for model_id in KNOWN_WAN},
    "wan2.2-ti2v-5b": {"vae": ("wan22_vae", {"latent channels": 48, "width": 160, "levels": 4,
                                              "residual blocks": 2}), "text_encoder": _UMT5_XXL},
}
COMPONENT_WORDS = {"transformer": "transformer", "vae": "VAE", "text_encoder": "text encoder"}
# The components a single file can stand in for besides the transformer.
SINGLE_COMPONENTS = ("vae", "text_encoder")


class RegistrationError(ValueError):
    """Weights that cannot be registered; the message says which file and what to do."""


@dataclass
class AddReport:
    """What `add` did: models registered (id, description) and files passed over (path, why)."""

    added: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # {model id: [(component in words, its file, or "" for the base folder's own)]}
    uses: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


# ---- the registry file ---------------------------------------------------------------


def read_registry() -> list[dict[str, Any]]:
    """The registered entries; a damaged file is reported once and read as empty
    (it must never stop the studio or a render that does not use it)."""
    path = registry_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        print(f"weft: ignoring {path}: {exc}", file=sys.stderr)
        return []
    entries = data.get("models", []) if isinstance(data, dict) else []
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str) and isinstance(e.get("base"), str)]


def _write_registry(entries: list[dict[str, Any]]) -> None:
    path = registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"version": REGISTRY_VERSION, "models": entries}, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def reload_registered() -> None:
    """Hand the catalogue this machine's facts: the registry's models, the shipped weights' sizes."""
    from engines.sketch.manifest import size_bytes
    from nodes.model_catalogue import BUILTIN, install

    install(registered_specs(BUILTIN),
            shipped_bytes={spec.id: size_bytes(spec.id) for spec in BUILTIN.values() if spec.shipped})


def registered_specs(builtins: Mapping[str, Any]) -> list[Any]:
    """A `ModelSpec` for every registered entry whose base is a built-in model."""
    from dataclasses import replace

    specs = []
    for entry in read_registry():
        base = builtins.get(entry["base"])
        if base is None or base.shipped or entry["id"] in builtins:
            continue
        files = tuple(sorted((str(k), str(v)) for k, v in (entry.get("files") or {}).items()))
        folder = str(entry.get("folder") or "")
        where = folder or ", ".join(path for _, path in files)
        size = sum(_size(Path(p)) for _, p in files) if files else _folder_size(Path(folder))
        specs.append(replace(
            base, id=entry["id"], title=entry.get("title") or entry["id"], repo_id=base.repo_id,
            download_gb=size / 1e9, gated=False, base=base.id, user_folder=folder, user_files=files,
            notes=(f"Your weights ({where}), run as {base.title}"
                   + ("" if folder else f" with its {borrowed_from_base(dict(files))} and configs") + ". "
                   + f"Licence: your files' own; its base model's is {base.licence}."),
        ))
    return specs


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _folder_size(folder: Path) -> int:
    return sum(_size(p) for p in folder.rglob("*.safetensors")) if folder.is_dir() else 0


# ---- adding ------------------------------------------------------------------------


def slug(name: str) -> str:
    """A model id from a file name: lower case, letters, digits, '.', '-', '_'."""
    text = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-.")
    return text or "my-model"


def add(path: Path, *, as_id: str | None = None, like: str | None = None, into: str | None = None) -> AddReport:
    """Register ``path`` (a diffusers folder, a single file, or a ComfyUI models folder); with
    ``into``, give the VAE or text encoder file ``path`` to the registered model ``into``."""
    from nodes.model_catalogue import BUILTIN

    path = Path(path).expanduser().resolve()
    if like is not None and like not in BUILTIN:
        raise RegistrationError(f"--like {like}: not one of Weft's models (see weft models list).")
    if as_id is not None:
        _check_new_id(as_id, BUILTIN)
    report = AddReport()
    entries = read_registry()
    if not path.exists():
        raise RegistrationError(f"{path}: no such file or folder.")
    if into is not None:
        if as_id is not None or like is not None:
            raise RegistrationError("--into ID gives a file to a model you registered; it takes no --as or --like.")
        return _add_into(path, into, entries, BUILTIN, report)
    if path.is_dir() and (path / "model_index.json").exists():
        entry = _folder_entry(path, as_id, like, BUILTIN)
        new = [entry]
    elif path.is_dir():
        new = _comfy_entries(path, like, BUILTIN, report)
        if as_id is not None and len(new) == 1:
            new[0]["id"] = as_id
        elif as_id is not None and new:
            raise RegistrationError(f"--as {as_id}: {path} holds {len(new)} models; --as names one file's model.")
        if not new:
            raise RegistrationError(
                f"{path}: found no model Weft can use"
                + (" (" + "; ".join(f"{Path(p).name}: {why}" for p, why in report.skipped) + ")" if report.skipped
                   else f" (looked in {', '.join(COMFY_MODEL_FOLDERS)} for .safetensors files)") + ".")
    else:
        check = _transformer_file(path)
        entry = _file_entry(check, as_id, like, BUILTIN)
        new = [entry]
    by_id = {e["id"]: e for e in entries}
    for entry in new:
        _check_new_id(entry["id"], BUILTIN)
        verb = "updated" if entry["id"] in by_id else "added"
        by_id[entry["id"]] = entry
        report.added.append((entry["id"], f"{verb}: {entry.pop('_describe')}"))
        _report_uses(entry, report, BUILTIN)
    _write_registry(list(by_id.values()))
    reload_registered()
    return report


def _report_uses(entry: dict, report: AddReport, builtins: Mapping[str, Any]) -> None:
    """Which file each component of ``entry`` comes from, and a note when its base is not here."""
    files = entry.get("files")
    if files:
        report.uses[entry["id"]] = [(COMPONENT_WORDS[c], files.get(c, "")) for c in ("transformer", "vae",
                                                                                      "text_encoder")]
    missing = _base_missing(entry)
    if missing:
        report.notes.append(missing)


def _add_into(path: Path, into: str, entries: list[dict], builtins: Mapping[str, Any], report: AddReport) -> AddReport:
    """`weft models add FILE --into ID`: the VAE or text encoder ``path`` for the registered model ``into``."""
    target = next((e for e in entries if e["id"] == into), None)
    if target is None or target["base"] not in builtins:
        raise RegistrationError(f"--into {into}: not one of the models you registered (weft models list shows "
                                "them; register the transformer first).")
    if target.get("folder") or not target.get("files"):
        raise RegistrationError(f"--into {into}: it is a diffusers folder ({target.get('folder')}), which has its "
                                "own VAE and text encoder; --into gives a file to a model registered from a "
                                "single transformer file.")
    check = _identified(path)
    if check.component not in SINGLE_COMPONENTS:
        raise RegistrationError(
            f"{path.name} is a {check.kind}; --into takes a VAE or text encoder file (register a transformer "
            "on its own: weft models add FILE).")
    _check_component(check, target["base"], builtins)
    target["files"][check.component] = str(check.path)
    report.added.append((into, f"updated: its {COMPONENT_WORDS[check.component]} is now {check.path.name}, a "
                               f"{check.describe()}"))
    _report_uses(target, report, builtins)
    _write_registry(entries)
    reload_registered()
    return report


def borrowed_from_base(files: Mapping[str, str]) -> str:
    """In words, the parts a registered model with these single ``files`` takes from its base
    model's folder besides the configs: "text encoder, VAE, tokenizer" for a transformer alone."""
    return ", ".join([COMPONENT_WORDS[c] for c in ("text_encoder", "vae") if c not in files] + ["tokenizer"])


def _identified(path: Path) -> Checkpoint:
    try:
        return identify(path)
    except CheckpointError as exc:
        raise RegistrationError(str(exc)) from None


def _expected(base: str, component: str) -> tuple[str, dict[str, int]] | None:
    """(family, dims) of ``base``'s own VAE or text encoder: from its configs when it is on this
    machine, else what the catalogue's model is known to have; None for a model Weft does not know."""
    folder = _base_folder(base)
    if folder is not None:
        try:
            config = json.loads((folder / component / "config.json").read_text(encoding="utf-8"))
            if component == "vae":
                family = "wan22_vae" if config.get("is_residual") else "wan_vae"
                return family, {"latent channels": int(config["z_dim"]), "width": int(config["base_dim"]),
                                "levels": len(config["dim_mult"]), "residual blocks": int(config["num_res_blocks"])}
            return "umt5", {"width": int(config["d_model"]), "blocks": int(config["num_layers"]),
                            "vocabulary": int(config["vocab_size"])}
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return KNOWN_COMPONENTS.get(base, {}).get(component)


def _check_component(check: Checkpoint, base: str, builtins: Mapping[str, Any]) -> None:
    """`RegistrationError` unless ``check`` (a VAE or text encoder file) can stand in for ``base``'s own."""
    name, title = check.path.name, builtins[base].title
    if check.family == "t5":
        raise RegistrationError(f"{name} is a T5 text encoder (the kind Flux and SD3 read), not the UMT5 encoder "
                                f"that {title} reads.")
    expected = _expected(base, check.component)
    if expected is None:
        raise RegistrationError(f"{name} is a {check.describe()}; {title} takes no {check.kind} from a single file.")
    family, dims = expected
    if family != check.family or any(check.dims.get(k) != v for k, v in dims.items()):
        shown = ", ".join(f"{k} {v}" for k, v in dims.items())
        raise RegistrationError(f"{name} is a {check.describe()}, which does not fit {title} ({base}): its "
                                f"{COMPONENT_WORDS[check.component]} is a {_FAMILY_WORDS.get(family, family)} "
                                f"({shown}).")


_FAMILY_WORDS = {"wan_vae": "Wan 2.1 VAE", "wan22_vae": "Wan 2.2 VAE", "umt5": "UMT5 text encoder"}


def remove(model_id: str) -> bool:
    """Forget a registered model (its files stay where they are)."""

    entries = read_registry()
    kept = [e for e in entries if e["id"] != model_id]
    if len(kept) == len(entries):
        return False
    _write_registry(kept)
    reload_registered()
    return True


def _check_new_id(model_id: str, builtins: Mapping[str, Any]) -> None:
    if model_id in builtins:
        raise RegistrationError(
            f"--as {model_id}: that is one of Weft's own models; give your weights a name of their own "
            f"(they can run as it: --like {model_id}).")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", model_id):
        raise RegistrationError(f"--as {model_id!r}: a model id is letters, digits, '.', '-' and '_'.")


def _transformer_file(path: Path) -> Checkpoint:
    check = _identified(path)
    if check.component in SINGLE_COMPONENTS:
        raise RegistrationError(
            f"{path.name} is a {check.kind}, not a diffusion model: register the transformer file "
            "(ComfyUI's diffusion_models folder) or the whole ComfyUI models folder, or give this file to a "
            "model you registered: weft models add FILE --into ID.")
    if check.component != "transformer":
        raise RegistrationError(
            f"{path.name} is a {check.kind}, not a diffusion model: register the transformer file "
            f"(ComfyUI's diffusion_models folder). Weft takes the {check.component.replace('_', ' ')} from the "
            "base model's own folder.")
    return check


def _file_entry(check: Checkpoint, as_id: str | None, like: str | None, builtins: Mapping[str, Any]) -> dict:
    base = _base_for(check, like, builtins)
    return {"id": as_id or slug(check.path.stem), "base": base, "title": as_id or check.path.stem,
            "files": {"transformer": str(check.path)},
            "_describe": f"{check.path.name}, a {check.describe()}, runs as {builtins[base].title}"}


def _files_in(folder: Path, subs: tuple[str, ...]) -> list[Path]:
    return [file for sub in subs for file in (sorted((folder / sub).glob("*")) if (folder / sub).is_dir() else [])
            if file.is_file() and not file.name.startswith(".")]


def _comfy_entries(folder: Path, like: str | None, builtins: Mapping[str, Any], report: AddReport) -> list[dict]:
    entries = []
    for file in _files_in(folder, COMFY_MODEL_FOLDERS):
        try:
            entries.append(_file_entry(_transformer_file(file), None, like, builtins))
        except RegistrationError as exc:
            report.skipped.append((str(file), str(exc)))
    if entries:
        _pair_components(folder, entries, builtins, report)
    return entries


def _pair_components(folder: Path, entries: list[dict], builtins: Mapping[str, Any], report: AddReport) -> None:
    """Give each transformer entry the first VAE and text encoder in the folder that fit its base
    (in name order); a file that fits none is reported as passed over, with why."""
    for component, subs in COMFY_COMPONENT_FOLDERS.items():
        files = []
        for file in _files_in(folder, subs):
            try:
                check = _identified(file)
            except RegistrationError as exc:
                report.skipped.append((str(file), str(exc)))
                continue
            if check.component != component:
                report.skipped.append((str(file), f"{file.name} is a {check.kind}, not a "
                                                  f"{COMPONENT_WORDS[component]}."))
                continue
            files.append(check)
        why: dict[Path, str] = {}
        used: set[Path] = set()
        for entry in entries:
            for check in files:
                try:
                    _check_component(check, entry["base"], builtins)
                except RegistrationError as exc:
                    why.setdefault(check.path, str(exc))
                    continue
                entry["files"][component] = str(check.path)
                used.add(check.path)
                break
        for check in files:
            if check.path not in used:
                first = ", ".join(sorted(p.name for p in used))
                report.skipped.append((str(check.path), why.get(check.path, (
                    f"another {COMPONENT_WORDS[component]} in the folder fitted first ({first}); to use this one: "
                    "weft models add FILE --into ID."))))


def _base_for(check: Checkpoint, like: str | None, builtins: Mapping[str, Any]) -> str:
    """The catalogue model a Wan transformer file runs as: the one whose transformer it fits."""
    facts = (check.variant, check.dims["width"], check.dims["blocks"], check.dims["input channels"])
    candidates = [like] if like else [i for i in KNOWN_WAN if i in builtins]
    fits, wrong = [], []
    for model_id in candidates:
        expected = _installed_wan_facts(model_id) or KNOWN_WAN.get(model_id)
        if expected is None:
            wrong.append(f"{model_id} is not a Wan model")
        elif expected == facts:
            fits.append(model_id)
        else:
            wrong.append(f"{model_id} has a {_facts_text(expected)}")
    if len(fits) == 1 or (fits and like):
        return fits[0]
    what = f"{check.path.name} is a {_facts_text(facts)}"
    if like:
        raise RegistrationError(f"{what}; it does not fit --like {like}: {wrong[0]}.")
    raise RegistrationError(f"{what}, which matches none of Weft's Wan models ({'; '.join(wrong)}). "
                            "If it is one of them in another size, name it with --like ID.")


def _facts_text(facts: tuple) -> str:
    variant, width, blocks, channels = facts
    return f"Wan {variant} transformer of width {width}, {blocks} blocks, {channels} input channels"


def _installed_wan_facts(model_id: str) -> tuple | None:
    """(variant, width, blocks, input channels) from the base model's own transformer config, when on disk."""
    folder = _base_folder(model_id)
    if folder is None:
        return None
    try:
        config = json.loads((folder / "transformer" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    variant = KNOWN_WAN.get(model_id, ("t2v",))[0]
    return (variant, int(config["num_attention_heads"]) * int(config["attention_head_dim"]), int(config["num_layers"]),
            int(config["in_channels"]))


def _base_folder(model_id: str) -> Path | None:
    from engines.models.manager import ModelManager

    return ModelManager(profile="default").source_folder(model_id)


def _folder_entry(folder: Path, as_id: str | None, like: str | None, builtins: Mapping[str, Any]) -> dict:
    from engines.models.folders import is_complete_pipeline

    if not is_complete_pipeline(folder):
        raise RegistrationError(f"{folder}: a diffusers folder with a component missing or half-written "
                                "(every folder model_index.json names needs its weights).")
    index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    cls = index.get("_class_name", "")
    same = [s.id for s in builtins.values() if s.pipeline_class == cls and not s.shipped]
    if like:
        if builtins[like].pipeline_class != cls:
            raise RegistrationError(f"{folder.name} is a {cls} folder; --like {like} is a "
                                    f"{builtins[like].pipeline_class}.")
        base = like
    elif len(same) == 1:
        base = same[0]
    elif not same:
        raise RegistrationError(f"{folder.name} is a {cls or 'diffusers'} folder; Weft runs none of that kind "
                                f"(it runs: {', '.join(sorted({s.pipeline_class for s in builtins.values()}))}).")
    else:
        base = _folder_base_by_dims(folder, same)
        if base is None:
            raise RegistrationError(f"{folder.name} is a {cls} folder, like {', '.join(same)}: say which with "
                                    "--like ID.")
    model_id = as_id or slug(folder.name)
    return {"id": model_id, "base": base, "title": as_id or folder.name, "folder": str(folder),
            "_describe": f"the diffusers folder {folder}, runs as {builtins[base].title}"}


def _folder_base_by_dims(folder: Path, candidates: list[str]) -> str | None:
    try:
        config = json.loads((folder / "transformer" / "config.json").read_text(encoding="utf-8"))
        width = int(config["num_attention_heads"]) * int(config["attention_head_dim"])
        facts = (width, int(config["num_layers"]), int(config["in_channels"]))
    except (OSError, ValueError, KeyError):
        return None
    fits = [i for i in candidates if i in KNOWN_WAN and KNOWN_WAN[i][1:] == facts]
    return fits[0] if len(fits) == 1 else None


def _base_missing(entry: dict) -> str:
    """A note when a single file's base model is not on this machine (its configs, tokenizer and
    the components with no file of their own are needed)."""
    if entry.get("folder"):
        return ""
    if _base_folder(entry["base"]) is not None:
        return ""
    borrowed = borrowed_from_base(entry.get("files", {}))
    return (f"{entry['id']} renders with the {borrowed} and configs of {entry['base']}, "
            f"which is not on this machine yet: weft models pull {entry['base']}")
