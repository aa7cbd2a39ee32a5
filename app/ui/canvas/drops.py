"""Drops on the canvas: a node type from the library, media files or a project from the file manager.

A node type becomes a node where it is dropped; each image, video or sound
file becomes a loader node with its path set; a .weft, or a render that
carries its project, is handed to the window to open.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QPointF

from app.ui.canvas.geometry import WIDTH
from nodes.graph import GraphError

if TYPE_CHECKING:
    from app.ui.canvas.view import GraphView

NODE_TYPE_MIME = "application/x-weft-node-type"  # what the node library drags (panels.library)

# What a file dropped from the file manager becomes.
LOADERS = {
    "load_image": {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".exr"},
    "load_video": {".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v", ".gif"},
    "load_audio": {".wav", ".flac", ".mp3", ".ogg", ".m4a", ".aac", ".opus"},
}


def loader_for(path: str | Path) -> str | None:
    suffix = Path(path).suffix.lower()
    for type_id, suffixes in LOADERS.items():
        if suffix in suffixes:
            return type_id
    return None


def accepts(mime: QMimeData) -> bool:
    """Whether the canvas takes this drag: a node type, or a local file it can load or open."""
    if mime.hasFormat(NODE_TYPE_MIME):
        return True
    return mime.hasUrls() and any(u.isLocalFile() and (loader_for(u.toLocalFile()) or
                                                       u.toLocalFile().lower().endswith(".weft"))
                                  for u in mime.urls())


def drop(view: "GraphView", mime: QMimeData, scene_pos: QPointF) -> bool:
    """Acts on a drop at ``scene_pos``; False when the drop carries nothing the canvas takes."""
    if mime.hasFormat(NODE_TYPE_MIME):
        type_id = bytes(mime.data(NODE_TYPE_MIME)).decode("utf-8").strip()
        try:
            view.add_node_at(type_id, scene_pos)
            view.remember_node(type_id)
        except GraphError as exc:
            view.show_status(str(exc))
        return True
    if mime.hasUrls():
        drop_files(view, [u.toLocalFile() for u in mime.urls() if u.isLocalFile()], scene_pos)
        return True
    return False


def drop_files(view: "GraphView", paths: list[str], scene_pos: QPointF) -> list[str]:
    """Each image, video or sound file becomes a loader node with its path set, one under
    the other; a .weft, or a render that carries its project, is opened instead
    (``project_dropped``; the other files of that drop are left alone)."""
    document = view.document
    carrier = next((p for p in paths if document.holds_project(p)), None)
    if carrier is not None:
        if len(paths) > 1:
            view.show_status(f"Opening the project in {Path(carrier).name}; the other dropped files were "
                             "left out")
        view.project_dropped.emit(str(carrier))
        return []
    usable = [(p, loader_for(p)) for p in paths if loader_for(p)]
    if not usable:
        return []
    ids = []
    stack = document.undo_stack
    stack.beginMacro(f"Add {len(usable)} file{'s' if len(usable) > 1 else ''}")
    try:
        for i, (path, type_id) in enumerate(usable):
            pos = (scene_pos.x() - WIDTH / 2, scene_pos.y() - 12 + i * 110)
            ids.append(document.add_node(type_id, pos, {"path": str(Path(path))}))
    finally:
        stack.endMacro()
    document.select(ids)
    skipped = len(paths) - len(usable)
    if skipped:
        view.show_status(f"{skipped} file(s) skipped: not an image, video or sound Weft can load")
    return ids
