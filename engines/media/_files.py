"""What every reader and writer here shares: the error type, input checks, and
atomic output.

Outputs are written atomically because the engine's cache and the artists'
render folders are read by other processes (the viewer, a file browser, a batch
script) while a render is running: a half-written ``.mp4`` that looks complete
is worse than no file at all.
"""

from __future__ import annotations

import errno
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from nodes.values import MediaError  # noqa: F401 (the domain's error, raised here)

PathLike = str | os.PathLike


def existing_file(path: PathLike) -> Path:
    """``path`` as a ``Path``, or ``FileNotFoundError`` naming it.

    Checked up front rather than left to FFmpeg or OpenCV, whose own messages
    for a missing file are vague ("Invalid data", or a silent ``None``).
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(errno.ENOENT, "No such media file", str(p))
    if p.is_dir():
        raise MediaError(f"{p} is a folder, not a media file")
    return p


def output_extension(path: PathLike, supported: Iterable[str], what: str) -> str:
    """The lower-case extension of ``path`` if Weft writes it, else MediaError
    listing the ones it does."""
    ext = Path(path).suffix.lower()
    supported = tuple(supported)
    if ext not in supported:
        shown = f"'{ext}'" if ext else "no extension"
        raise MediaError(
            f"cannot write {what} to {path}: {shown} is not supported; use one of {', '.join(supported)}"
        )
    return ext


@contextmanager
def atomic_output(path: PathLike, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it into place.

    The temporary file lives in the same folder so that ``os.replace`` is a
    rename on one file system (atomic on POSIX and Windows), never a copy. Its
    name starts with a dot so file browsers hide it while it is being written,
    and keeps the real extension so tools that sniff by extension agree with
    what is inside. On any error, KeyboardInterrupt included, the temporary
    file is removed and ``path`` is left as it was.

    With ``overwrite=False`` a file that appeared at ``path`` meanwhile (another
    render into the same folder) is never replaced: the move is a hard link,
    which fails if the name is taken, and MediaError says so.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = final.with_name(f".{final.stem}.{uuid.uuid4().hex[:12]}.partial{final.suffix}")
    # Reserve the name (O_EXCL) with ordinary permissions; mkstemp would make
    # the finished file private (0600), surprising anyone who shares renders.
    os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield temp
        # Flush to disk before the rename so a power cut cannot leave a
        # complete-looking name pointing at missing data.
        with open(temp, "rb+") as f:
            os.fsync(f.fileno())
            if os.fstat(f.fileno()).st_size == 0:  # no Save may report a file that holds nothing
                raise MediaError(f"cannot write {final}: the encoder wrote nothing")
        if overwrite:
            os.replace(temp, final)
        else:
            _move_without_replacing(temp, final)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise


def _move_without_replacing(temp: Path, final: Path) -> None:
    try:
        os.link(temp, final)
    except FileExistsError:
        raise MediaError(f"{final} appeared while it was being rendered (another render into the same "
                         "folder?); it was not replaced") from None
    except OSError:
        # File systems without hard links (FAT, some network shares): check, then rename.
        if final.exists():
            raise MediaError(f"{final} appeared while it was being rendered; it was not replaced") from None
        os.replace(temp, final)
        return
    os.unlink(temp)
