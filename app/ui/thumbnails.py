"""Small pictures of results: a video's or an image's first frame, a sound's waveform.

Made in the studio from the engine's cached ``.npy`` files (memory-mapped, so
only the first frame or an envelope is read), for the history dock and the
node faces. A thumbnail is written to a PNG beside the history, so it stays
after the engine's cache is cleared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from app.ui import theme
from app.ui.panels.media import FrameSource, as_channels, envelope, load_array

SIZE = QSize(160, 90)
MEDIA_KINDS = ("Video", "Image", "Mask", "Audio")


def main_result(results: dict[str, Any]) -> dict[str, Any] | None:
    """The output of a node's results a thumbnail shows: a picture before a sound."""
    entries = [r for r in (results or {}).values() if isinstance(r, dict) and r.get("kind") in MEDIA_KINDS]
    entries.sort(key=lambda r: MEDIA_KINDS.index(r["kind"]))
    return entries[0] if entries else None


def has_media(results: dict[str, Any]) -> bool:
    return main_result(results) is not None


def thumbnail(results: dict[str, Any], size: QSize = SIZE) -> QImage | None:
    """A thumbnail of a node's results, or None when there is nothing to draw (or the files are gone)."""
    entry = main_result(results)
    if entry is None:
        return None
    files = entry.get("files", {})
    try:
        if entry["kind"] == "Video":
            image = FrameSource(load_array(files["frames"])).image(0)
        elif entry["kind"] == "Image":
            image = FrameSource(load_array(files["pixels"])).image(0)
        elif entry["kind"] == "Mask":
            image = FrameSource(load_array(files["values"]), mask=True).image(0)
        else:
            return waveform_image(load_array(files["samples"]), size)
    except (OSError, ValueError, KeyError, IndexError):
        return None
    return image.scaled(size, Qt.KeepAspectRatio, Qt.SmoothTransformation)


def waveform_image(samples: np.ndarray, size: QSize = SIZE) -> QImage:
    """A sound's envelope drawn as a small picture (all channels mixed)."""
    channels = as_channels(samples)
    lo, hi = envelope(channels, buckets=max(1, size.width()))
    lo, hi = lo.min(axis=0), hi.max(axis=0)
    image = QImage(size, QImage.Format_RGB32)
    image.fill(QColor("#15171a"))
    painter = QPainter(image)
    painter.setPen(QPen(QColor(theme.type_color("Audio")), 1))
    mid, amp = size.height() / 2, size.height() / 2 - 2
    n = len(lo)
    for x in range(size.width()):
        b = min(n - 1, int(x / size.width() * n))
        painter.drawLine(QPointF(x + 0.5, mid - float(hi[b]) * amp), QPointF(x + 0.5, mid - float(lo[b]) * amp + 1))
    painter.end()
    return image


def save_thumbnail(results: dict[str, Any], path: Path, size: QSize = SIZE) -> Path | None:
    image = thumbnail(results, size)
    if image is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    return path if image.save(str(path), "PNG") else None


def placeholder(text: str, size: QSize = SIZE) -> QImage:
    image = QImage(size, QImage.Format_RGB32)
    image.fill(QColor("#1d1f23"))
    painter = QPainter(image)
    painter.setPen(QColor("#777b82"))
    painter.drawText(QRectF(0, 0, size.width(), size.height()), Qt.AlignCenter | Qt.TextWordWrap, text)
    painter.end()
    return image


__all__ = ["MEDIA_KINDS", "SIZE", "has_media", "main_result", "placeholder", "save_thumbnail", "thumbnail",
           "waveform_image"]
