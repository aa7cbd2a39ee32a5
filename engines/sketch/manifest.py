"""The shipped sketch models' manifest: what every file of their weights must be.

The sketch models (see engines/sketch/world.py and sounds.py) ship inside Weft
as package data, one diffusers folder each under ``engines/sketch/weights/``.
``weights/manifest.json`` records the sha256 and size of every file of each
folder; the model manager checks it before loading, so a file changed, cut
short or lost by a broken install is named, not loaded as garbage.

    python -m engines.sketch.manifest            # write the manifest from the folders as they are
    python -m engines.sketch.manifest --check    # check them against it (exit 1 and say what differs)

Pure Python (hashlib, json): the studio reads sizes from here without torch.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

WEIGHTS = Path(__file__).resolve().parent / "weights"
MANIFEST_NAME = "manifest.json"
# The catalogue ids of the models that ship with Weft, each a folder of WEIGHTS.
SHIPPED = ("sketch-video", "sketch-sound")
FORMAT = 1


class ManifestError(RuntimeError):
    """A shipped model's files are not the ones Weft was released with; the message names them."""


def folder(model_id: str, root: Path | None = None) -> Path:
    """Where the shipped model ``model_id`` lives."""
    return (root or WEIGHTS) / model_id


def _files(model_folder: Path) -> list[Path]:
    # Hidden files (an editor's swap file, .DS_Store) and caches are no part of a model.
    return sorted(p for p in model_folder.rglob("*")
                  if p.is_file() and not any(part.startswith(".") or part == "__pycache__"
                                             for part in p.relative_to(model_folder).parts))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe(model_folder: Path) -> dict[str, dict[str, object]]:
    """{relative path: {"sha256", "bytes"}} for every file of a model folder."""
    return {p.relative_to(model_folder).as_posix(): {"sha256": _sha256(p), "bytes": p.stat().st_size}
            for p in _files(model_folder)}


def write(root: Path | None = None) -> Path:
    """Record every shipped model folder found under ``root`` (default: the package's) in its manifest."""
    root = root or WEIGHTS
    models = {}
    for model_id in SHIPPED:
        if folder(model_id, root).is_dir():
            files = describe(folder(model_id, root))
            models[model_id] = {"bytes": sum(int(f["bytes"]) for f in files.values()), "files": files}
    text = json.dumps({"format": FORMAT, "models": models}, indent=1, sort_keys=True) + "\n"
    target = root / MANIFEST_NAME
    handle, temporary = tempfile.mkstemp(prefix=".manifest.", dir=root)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)
    return target


def read(root: Path | None = None) -> dict[str, dict]:
    """The manifest's models, {model id: {"bytes", "files"}}; {} when there is no readable manifest."""
    try:
        data = json.loads(((root or WEIGHTS) / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    models = data.get("models") if isinstance(data, dict) else None
    return models if isinstance(models, dict) else {}


def entry(model_id: str, root: Path | None = None) -> dict | None:
    found = read(root).get(model_id)
    return found if isinstance(found, dict) and isinstance(found.get("files"), dict) else None


def size_bytes(model_id: str, root: Path | None = None) -> int:
    """The bytes the shipped model takes on disk (and in the download of Weft): its files as they are."""
    model_folder = folder(model_id, root)
    return sum(p.stat().st_size for p in _files(model_folder)) if model_folder.is_dir() else 0


def is_present(model_id: str, root: Path | None = None) -> bool:
    """Every file the manifest lists is there with its recorded size (no hashing: cheap enough to ask often)."""
    found = entry(model_id, root)
    if not found:
        return False
    model_folder = folder(model_id, root)
    for name, info in found["files"].items():
        try:
            if (model_folder / name).stat().st_size != info.get("bytes"):
                return False
        except OSError:
            return False
    return True


def problems(model_id: str, root: Path | None = None) -> list[str]:
    """What differs between the model's folder and its manifest entry, one line per file; [] when it matches."""
    root = root or WEIGHTS
    found = entry(model_id, root)
    model_folder = folder(model_id, root)
    if found is None and not model_folder.is_dir():
        return [f"its folder {model_folder} is missing"]
    if found is None:
        where = root / MANIFEST_NAME
        return [f"{where} has no entry for it" if where.is_file() else f"{where} is missing"]
    lines = []
    for name, info in sorted(found["files"].items()):
        path = model_folder / name
        if not path.is_file():
            lines.append(f"{name} is missing")
        elif path.stat().st_size != info.get("bytes"):
            lines.append(f"{name} has {path.stat().st_size} bytes, not {info.get('bytes')}")
        elif _sha256(path) != info.get("sha256"):
            lines.append(f"{name} has changed (its sha256 is not the one Weft shipped)")
    if model_folder.is_dir():
        for path in _files(model_folder):
            name = path.relative_to(model_folder).as_posix()
            if name not in found["files"]:
                lines.append(f"{name} is not one of its files")
    return lines


def verify(model_id: str, root: Path | None = None) -> Path:
    """The model's folder, once every file matches the manifest; ManifestError naming the files otherwise."""
    found = problems(model_id, root)
    if found:
        model_folder = folder(model_id, root)
        raise ManifestError(
            f"The shipped model {model_id} in {model_folder} is damaged or missing: " + "; ".join(found) + ". "
            "Reinstall Weft (packaging/install.sh, or pip install --force-reinstall weft) to restore it. "
            "(Changed the weights on purpose, in a checkout? python -m engines.sketch.manifest records them.)")
    return folder(model_id, root)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engines.sketch.manifest",
                                     description="Write (or --check) the manifest of the shipped sketch models.")
    parser.add_argument("--check", action="store_true", help="check the folders against the manifest instead")
    parser.add_argument("--root", type=Path, default=None, help="the weights folder (default: the package's)")
    args = parser.parse_args(argv)
    if args.check:
        bad = 0
        for model_id in SHIPPED:
            if not folder(model_id, args.root).is_dir() and entry(model_id, args.root) is None:
                print(f"{model_id}: not shipped here (no folder, no entry)")
                continue
            try:
                verify(model_id, args.root)
                print(f"{model_id}: ok")
            except ManifestError as exc:
                bad += 1
                print(exc, file=sys.stderr)
        return 1 if bad else 0
    target = write(args.root)
    for model_id, info in read(args.root).items():
        print(f"{model_id}: {len(info['files'])} files, {info['bytes']} bytes")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
