"""A fingerprint of the weights in a model folder, for result cache keys.

Two folders with the same fingerprint hold the same files: the same names,
sizes and modification times, and the same safetensors headers (tensor names,
shapes, dtypes and offsets, read from the first bytes of each file). Nothing
is hashed in full, so a 30 GB repo costs one ``stat`` per file and, when a file
changed, a few kilobytes of header each. The answer is remembered per folder
against those stats: an unchanged folder is never read twice in a process.

A Hub cache snapshot links each file to a blob named by its content hash; the
link target goes in too (a re-downloaded, different blob under the same name
changes it even with an equal size).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from engines.models.checkpoints import CheckpointError, header_bytes

# The fingerprint of a folder that is not there or holds no files: a result
# made with weights never matches it.
ABSENT = "absent"

_memo: dict[str, tuple[tuple, str]] = {}
_lock = threading.Lock()


def _stats(folder: Path) -> tuple:
    rows = []
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d != ".cache")  # the Hub's download bookkeeping, not weights
        for name in sorted(files):
            path = Path(root) / name
            try:
                st = path.stat()
            except OSError:
                continue
            target = os.readlink(path) if path.is_symlink() else ""
            rows.append((str(path.relative_to(folder)), st.st_size, st.st_mtime_ns, target))
    return tuple(rows)


def _safetensors_header(path: Path) -> bytes:
    """The file's header bytes; none for a file with no whole header (a download in progress
    still changes its size and time, which the stats hold)."""
    try:
        return header_bytes(path)[0]
    except CheckpointError:
        return b""


def folder_fingerprint(folder: Path | None) -> str:
    """The fingerprint of the weights under ``folder`` (``ABSENT`` when there are none)."""
    if folder is None or not Path(folder).is_dir():
        return ABSENT
    folder = Path(folder).resolve()
    stats = _stats(folder)
    if not stats:
        return ABSENT
    key = str(folder)
    with _lock:
        known = _memo.get(key)
        if known is not None and known[0] == stats:
            return known[1]
    digest = hashlib.sha256(json.dumps(stats).encode())
    for rel, *_ in stats:
        if rel.endswith(".safetensors"):
            digest.update(rel.encode() + b"\0" + _safetensors_header(folder / rel))
    value = digest.hexdigest()[:24]
    with _lock:
        _memo[key] = (stats, value)
    return value


def file_fingerprint(path: Path) -> str:
    """The fingerprint of one weights file (a registered single-file checkpoint): its
    size, modification time and safetensors header; ``ABSENT`` when it is not there."""
    try:
        st = Path(path).stat()
    except OSError:
        return ABSENT
    digest = hashlib.sha256(json.dumps([str(Path(path).resolve()), st.st_size, st.st_mtime_ns]).encode())
    digest.update(_safetensors_header(Path(path)))
    return digest.hexdigest()[:24]
