"""Which files an image sequence names: a folder, a printf pattern or a glob, in natural order.

Domain rules, pure Python: validation and a node's cache key read them without the
runtime; engines/streams.py reads the files they name.
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

SEQUENCE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")


def sequence_files(pattern: str | os.PathLike) -> list[Path]:
    """The image files a sequence names, in natural order.

    ``pattern`` is a folder (every PNG/JPEG/WebP in it), a glob
    (``frames/shot_*.png``) or a printf-style pattern (``frames/shot_%04d.png``,
    matched as any run of digits there).
    """
    text = str(pattern)
    p = Path(text)
    if p.is_dir():
        files = [f for f in p.iterdir() if f.suffix.lower() in SEQUENCE_EXTENSIONS and not f.name.startswith(".")]
    else:
        printf = re.search(r"%0?\d*d", text)
        if printf:
            head, tail = text[: printf.start()], text[printf.end():]
            rx = re.compile(re.escape(os.path.basename(head)) + r"(\d+)" + re.escape(tail) + r"$")
            folder = Path(os.path.dirname(head) or ".")
            files = [f for f in folder.iterdir() if rx.match(f.name)] if folder.is_dir() else []
        elif any(ch in text for ch in "*?["):
            files = [Path(f) for f in glob.glob(text)]
        else:
            raise FileNotFoundError(f"no such folder: {text} (give a folder, a pattern like shot_%04d.png, "
                                    f"or a glob like shot_*.png)")
        files = [f for f in files if f.suffix.lower() in SEQUENCE_EXTENSIONS and f.is_file()]
    return sorted(files, key=lambda f: _natural_key(f.name))

def _natural_key(name: str) -> list:
    """'shot_2.png' before 'shot_10.png': digits compare as numbers."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]
