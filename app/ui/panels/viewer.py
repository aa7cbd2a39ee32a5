"""The viewer: plays a node's video with its sound, shows images and masks,
draws and plays sound, and shows live previews while a node renders.

It reads the engine's cached ``.npy`` files by path (memory-mapped; see
``media.py``) and never imports torch. Keys while it has focus: Space plays
or pauses, Left/Right step a frame, Home/End jump to the ends, L loops.
"""

from __future__ import annotations

import html
import time
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QShortcut
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSlider, QStackedWidget, QStyle, QToolButton, QVBoxLayout,
    QWidget,
)

from app.ui.keys import Keymap
from app.ui.panels import palette
from app.ui.panels.media import FrameSource, SoundOutput, as_channels, envelope, load_array
from nodes import types as T

# Outputs are listed pictures first, in the order nodes/types.py makes the media types; numbers and text last.
KIND_ORDER = {t.name: i for i, t in enumerate(T.MEDIA_TYPES)}
AUDIO_STEP_SECONDS = 0.1


def timecode(seconds: float) -> str:
    seconds = max(0.0, seconds)
    minutes, rest = divmod(seconds, 60.0)
    return f"{int(minutes)}:{rest:05.2f}"


class PictureView(QWidget):
    """Draws one picture, fitted to the widget, with optional text in the corners."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.image: QImage | None = None
        self.badge = ""
        self.caption = ""
        self.setMinimumSize(160, 90)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def set_image(self, image: QImage | None, *, badge: str | None = None, caption: str | None = None) -> None:
        self.image = image
        if badge is not None:
            self.badge = badge
        if caption is not None:
            self.caption = caption
        self.update()

    def image_rect(self) -> QRectF:
        if self.image is None or self.image.isNull():
            return QRectF()
        size = QSize(self.image.width(), self.image.height()).scaled(self.size(), Qt.KeepAspectRatio)
        x = (self.width() - size.width()) / 2
        y = (self.height() - size.height()) / 2
        return QRectF(x, y, size.width(), size.height())

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#111214"))
        if self.image is not None and not self.image.isNull():
            target = self.image_rect()
            # Small results (tiny test models) are enlarged with visible pixels,
            # which is what an artist checking them wants; large ones smoothly.
            enlarge = target.width() > 2 * self.image.width()
            painter.setRenderHint(QPainter.SmoothPixmapTransform, not enlarge)
            painter.drawImage(target, self.image)
        for text, corner in ((self.badge, Qt.AlignTop | Qt.AlignLeft), (self.caption, Qt.AlignBottom | Qt.AlignRight)):
            if not text:
                continue
            metrics = painter.fontMetrics()
            box = metrics.boundingRect(text).adjusted(-6, -3, 6, 3)
            if corner & Qt.AlignTop:
                box.moveTopLeft(self.rect().topLeft() + QPointF(6, 6).toPoint())
            else:
                box.moveBottomRight(self.rect().bottomRight() - QPointF(6, 6).toPoint())
            painter.setPen(Qt.NoPen)
            painter.setBrush(QColor(0, 0, 0, 170))
            painter.drawRoundedRect(box, 3, 3)
            painter.setPen(QColor("#e8e8e8"))
            painter.drawText(box, Qt.AlignCenter, text)
        painter.end()


class WaveformView(QWidget):
    """A sound's envelope, one lane per channel, with a playhead; click or drag to seek."""

    seeked = Signal(float)  # seconds

    def __init__(self, parent: QWidget | None = None, *, compact: bool = False):
        super().__init__(parent)
        self.mins: np.ndarray | None = None
        self.maxs: np.ndarray | None = None
        self.seconds = 0.0
        self.position = 0.0
        self.color = QColor(palette.type_color("Audio"))
        self.setMinimumHeight(40 if compact else 80)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed if compact else QSizePolicy.Expanding)
        if compact:
            self.setFixedHeight(56)
        self.setCursor(Qt.PointingHandCursor)

    def set_samples(self, samples: np.ndarray | None, rate: int = 1) -> None:
        if samples is None:
            self.mins = self.maxs = None
            self.seconds = 0.0
        else:
            samples = as_channels(samples)
            self.mins, self.maxs = envelope(samples)
            self.seconds = samples.shape[1] / float(rate)
        self.position = 0.0
        self.update()

    @property
    def has_samples(self) -> bool:
        return self.mins is not None

    def set_position(self, seconds: float) -> None:
        self.position = seconds
        self.update()

    def _seek(self, x: float) -> None:
        if self.seconds > 0 and self.width() > 0:
            self.seeked.emit(max(0.0, min(1.0, x / self.width())) * self.seconds)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._seek(event.position().x())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if event.buttons() & Qt.LeftButton:
            self._seek(event.position().x())

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#15171a"))
        if self.mins is None:
            painter.setPen(QColor(palette.DIM_COLOR))
            painter.drawText(self.rect(), Qt.AlignCenter, "No sound")
            painter.end()
            return
        channels, buckets = self.mins.shape
        width, height = max(1, self.width()), self.height()
        lane = height / channels
        # One column per pixel: the extremes of the buckets that fall in it.
        edges = np.linspace(0, buckets, width + 1).astype(int)
        edges[1:] = np.maximum(edges[1:], edges[:-1] + 1)
        edges = np.minimum(edges, buckets)
        valid = edges[:-1] < buckets
        starts = edges[:-1][valid]
        painter.setRenderHint(QPainter.Antialiasing, False)
        for c in range(channels):
            lo = np.minimum.reduceat(self.mins[c], starts)
            hi = np.maximum.reduceat(self.maxs[c], starts)
            mid = lane * c + lane / 2
            amp = lane / 2 - 2
            painter.setPen(QColor(255, 255, 255, 25))
            painter.drawLine(0, int(mid), width, int(mid))
            path = QPainterPath()
            for x in range(len(starts)):
                path.moveTo(x + 0.5, mid - hi[x] * amp)
                path.lineTo(x + 0.5, mid - lo[x] * amp + 1)
            painter.setPen(QPen(self.color, 1))
            painter.drawPath(path)
            if c:
                painter.setPen(QColor(255, 255, 255, 40))
                painter.drawLine(0, int(lane * c), width, int(lane * c))
        if self.seconds > 0:
            x = int(self.position / self.seconds * width)
            painter.setPen(QPen(QColor("#f0c674"), 1))
            painter.drawLine(x, 0, x, height)
        painter.end()

    def column_extent(self, x: int) -> float:
        """The loudest value drawn around a pixel column (for tests)."""
        if self.mins is None:
            return 0.0
        buckets = self.mins.shape[1]
        b = min(buckets - 1, int(x / max(1, self.width()) * buckets))
        return float(np.max(np.abs(np.concatenate([self.mins[:, b], self.maxs[:, b]]))))


class CompareView(QWidget):
    """Two results, A and B, over each other with a wipe (drag it) or side by side."""

    wipe_moved = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.image_a: QImage | None = None
        self.image_b: QImage | None = None
        self.title_a, self.title_b = "A", "B"
        self.mode = "wipe"   # or "side"
        self.wipe = 0.5      # where the wipe is, 0..1 of the picture's width
        self.setMinimumSize(160, 90)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setCursor(Qt.SplitHCursor)

    def set_images(self, a: QImage | None, b: QImage | None) -> None:
        self.image_a, self.image_b = a, b
        self.update()

    def set_mode(self, mode: str) -> None:
        if mode not in ("wipe", "side"):
            raise ValueError(f"compare mode is 'wipe' or 'side', not {mode!r}")
        self.mode = mode
        self.setCursor(Qt.SplitHCursor if mode == "wipe" else Qt.ArrowCursor)
        self.update()

    def _fit(self, image: QImage | None, area: QRectF) -> QRectF:
        if image is None or image.isNull():
            return QRectF()
        size = QSize(image.width(), image.height()).scaled(area.size().toSize(), Qt.KeepAspectRatio)
        return QRectF(area.x() + (area.width() - size.width()) / 2, area.y() + (area.height() - size.height()) / 2,
                      size.width(), size.height())

    def picture_rect(self) -> QRectF:
        return self._fit(self.image_a or self.image_b, QRectF(self.rect()))

    def set_wipe(self, fraction: float) -> None:
        self.wipe = max(0.0, min(1.0, float(fraction)))
        self.wipe_moved.emit(self.wipe)
        self.update()

    def _wipe_from(self, x: float) -> None:
        rect = self.picture_rect()
        if self.mode == "wipe" and rect.width() > 0:
            self.set_wipe((x - rect.x()) / rect.width())

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._wipe_from(event.position().x())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if event.buttons() & Qt.LeftButton:
            self._wipe_from(event.position().x())

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#111214"))
        labels = []
        if self.mode == "side":
            half = self.width() / 2
            for image, area, title in ((self.image_a, QRectF(0, 0, half - 2, self.height()), self.title_a),
                                       (self.image_b, QRectF(half + 2, 0, half - 2, self.height()), self.title_b)):
                target = self._fit(image, area)
                if not target.isNull():
                    painter.drawImage(target, image)
                labels.append((title, area.topLeft() + QPointF(6, 6)))
        else:
            rect = self.picture_rect()
            if self.image_a is not None and not self.image_a.isNull():
                painter.drawImage(rect, self.image_a)
            split = rect.x() + rect.width() * self.wipe
            if self.image_b is not None and not self.image_b.isNull():
                painter.save()
                painter.setClipRect(QRectF(split, rect.y(), rect.right() - split, rect.height()))
                painter.drawImage(rect, self.image_b)
                painter.restore()
            painter.setPen(QPen(QColor("#f0c674"), 2))
            painter.drawLine(QPointF(split, rect.top()), QPointF(split, rect.bottom()))
            labels.append((self.title_a, rect.topLeft() + QPointF(6, 6)))
            labels.append((self.title_b, QPointF(rect.right() - 6, rect.top() + 6)))
        metrics = painter.fontMetrics()
        for i, (text, at) in enumerate(labels):
            box = metrics.boundingRect(text).adjusted(-6, -3, 6, 3)
            if self.mode == "wipe" and i == 1:
                box.moveTopRight(at.toPoint())
            else:
                box.moveTopLeft(at.toPoint())
            painter.setPen(Qt.NoPen)
            painter.setBrush(QColor(0, 0, 0, 170))
            painter.drawRoundedRect(box, 3, 3)
            painter.setPen(QColor("#e8e8e8"))
            painter.drawText(box, Qt.AlignCenter, text)
        painter.end()


def _icon_button(icon: QStyle.StandardPixmap, tip: str, parent: QWidget) -> QToolButton:
    button = QToolButton(parent)
    button.setIcon(parent.style().standardIcon(icon))
    button.setToolTip(tip)
    button.setAutoRaise(True)
    return button


class ViewerPanel(QWidget):
    """Shows results: ``show_result(node_id, results)``, ``show_preview(node_id, jpeg)``, ``clear()``."""

    output_changed = Signal(str)  # the output socket shown

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.node_id: str | None = None
        self.results: dict[str, dict[str, Any]] = {}
        self.output: str | None = None
        self.kind: str | None = None  # "Video", "Image", "Mask", "Audio", "scalar", "preview", "compare"
        self.frames: FrameSource | None = None
        self.frames_b: FrameSource | None = None  # B, while comparing (A is ``frames``)
        # Pinned: the viewer stays on what it shows while the selection moves;
        # ``pinned_node`` is the node it follows (None when pinned to a history entry).
        self.pinned = False
        self.pinned_node: str | None = None
        self.pin_label = ""
        self.samples: np.ndarray | None = None
        self.rate = 0
        self.fps = 0.0
        self.frame = 0
        self.position = 0.0  # seconds
        self.duration = 0.0
        self.loop = True
        self.sound = SoundOutput()
        # Playback follows the clock, not the timer's ticks, so a busy GUI drops
        # frames instead of slowing down (tests replace ``now``).
        self.now = time.monotonic
        self._clock_t0 = 0.0
        self._clock_start = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._build()
        self._shortcuts()
        self.clear()

    # -- layout ---------------------------------------------------------------------------------------
    def _build(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.top_bar = QWidget()
        top = QHBoxLayout(self.top_bar)
        top.setContentsMargins(8, 5, 8, 5)
        top.setSpacing(8)
        self.title_label = QLabel()
        font = self.title_label.font()
        font.setBold(True)
        self.title_label.setFont(font)
        top.addWidget(self.title_label)
        self.output_combo = QComboBox()
        self.output_combo.setToolTip("Which output of the node to show")
        self.output_combo.currentIndexChanged.connect(self._output_picked)
        top.addWidget(self.output_combo)
        top.addStretch(1)
        self.compare_mode = QComboBox()
        self.compare_mode.addItem("Wipe", "wipe")
        self.compare_mode.addItem("Side by side", "side")
        self.compare_mode.setToolTip("How A and B are shown: a wipe to drag across, or side by side")
        self.compare_mode.currentIndexChanged.connect(
            lambda i: self.set_compare_mode(self.compare_mode.itemData(i)))
        top.addWidget(self.compare_mode)
        self.info_label = QLabel()
        self.info_label.setStyleSheet(f"color: {palette.DIM_COLOR}")
        self.info_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        top.addWidget(self.info_label)
        self.pin_button = QToolButton()
        self.pin_button.setText("Pin")
        self.pin_button.setCheckable(True)
        self.pin_button.setAutoRaise(True)
        self.pin_button.setToolTip("Pin the viewer to what it shows: clicking other nodes no longer changes it")
        self.pin_button.toggled.connect(lambda on: self.set_pinned(on))
        top.addWidget(self.pin_button)
        column.addWidget(self.top_bar)

        self.stack = QStackedWidget()
        self.empty_label = QLabel()
        self.empty_label.setAlignment(Qt.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet(f"color: {palette.DIM_COLOR}; background: #111214; padding: 20px")
        self.stack.addWidget(self.empty_label)
        picture_page = QWidget()
        picture_column = QVBoxLayout(picture_page)
        picture_column.setContentsMargins(0, 0, 0, 0)
        picture_column.setSpacing(0)
        self.picture = PictureView()
        picture_column.addWidget(self.picture, 1)
        self.track = WaveformView(compact=True)
        self.track.seeked.connect(self.seek_seconds)
        picture_column.addWidget(self.track)
        self.stack.addWidget(picture_page)
        self.picture_page = picture_page
        self.waveform = WaveformView()
        self.waveform.seeked.connect(self.seek_seconds)
        self.stack.addWidget(self.waveform)
        self.text_view = QLabel()
        self.text_view.setWordWrap(True)
        self.text_view.setAlignment(Qt.AlignCenter)
        self.text_view.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.text_view.setStyleSheet("background: #111214; padding: 20px; font-size: 14pt")
        self.stack.addWidget(self.text_view)
        self.compare_view = CompareView()
        self.stack.addWidget(self.compare_view)
        column.addWidget(self.stack, 1)

        self.transport = QWidget()
        bar = QHBoxLayout(self.transport)
        bar.setContentsMargins(6, 3, 8, 3)
        bar.setSpacing(2)
        self.start_button = _icon_button(QStyle.SP_MediaSkipBackward, "To the start (Home)", self)
        self.start_button.clicked.connect(lambda: self.seek_frame(0))
        self.back_button = _icon_button(QStyle.SP_MediaSeekBackward, "Back one frame (Left)", self)
        self.back_button.clicked.connect(lambda: self.step(-1))
        self.play_button = _icon_button(QStyle.SP_MediaPlay, "Play (Space)", self)
        self.play_button.clicked.connect(self.toggle_play)
        self.forward_button = _icon_button(QStyle.SP_MediaSeekForward, "Forward one frame (Right)", self)
        self.forward_button.clicked.connect(lambda: self.step(1))
        self.loop_button = QToolButton(self)
        self.loop_button.setText("Loop")
        self.loop_button.setCheckable(True)
        self.loop_button.setChecked(self.loop)
        self.loop_button.setAutoRaise(True)
        self.loop_button.setToolTip("Play again from the start at the end (L)")
        self.loop_button.toggled.connect(self.set_loop)
        for button in (self.start_button, self.back_button, self.play_button, self.forward_button):
            bar.addWidget(button)
        self.scrubber = QSlider(Qt.Horizontal)
        self.scrubber.setToolTip("Drag to scrub")
        self.scrubber.valueChanged.connect(self._scrubbed)
        bar.addWidget(self.scrubber, 1)
        bar.addWidget(self.loop_button)
        self.time_label = QLabel()
        self.time_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("0000 / 0000  0:00.00 / 0:00.00"))
        self.time_label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        bar.addWidget(self.time_label)
        column.addWidget(self.transport)
        self.sound_note = QLabel()
        self.sound_note.setWordWrap(True)
        self.sound_note.setStyleSheet(f"color: {palette.DIM_COLOR}; padding: 0 8px 4px 8px")
        column.addWidget(self.sound_note)
        self.setFocusPolicy(Qt.StrongFocus)

    def _shortcuts(self) -> None:
        """The player's keys (app/ui/keys.py), acting while the viewer or a child has focus."""
        actions = {"play": self.toggle_play, "previous_frame": lambda: self.step(-1),
                   "next_frame": lambda: self.step(1), "first_frame": lambda: self.seek_frame(0),
                   "last_frame": lambda: self.seek_frame(self.frame_count - 1),
                   "loop": lambda: self.loop_button.toggle()}
        keymap = Keymap()  # the viewer's keys are the same in every preset
        for action_id, slot in actions.items():
            for seq in keymap.sequences(action_id):
                shortcut = QShortcut(seq, self)
                shortcut.setContext(Qt.WidgetWithChildrenShortcut)
                shortcut.activated.connect(slot)

    # -- public API ----------------------------------------------------------------------------------------
    def set_pinned(self, on: bool, label: str = "") -> None:
        """Pins the viewer to what it shows now (a node, or a history entry when ``label`` says so)."""
        on = bool(on)
        self.pinned = on
        self.pinned_node = (self.node_id if not label else None) if on else None
        self.pin_label = (label or (f"node {self.title_label.text() or self.node_id}" if self.node_id else "")) \
            if on else ""
        if self.pin_button.isChecked() != on:
            self.pin_button.blockSignals(True)
            self.pin_button.setChecked(on)
            self.pin_button.blockSignals(False)
        self.pin_button.setText("Pinned" if on else "Pin")
        self.pin_button.setToolTip(f"Pinned to {self.pin_label}: click to follow the selection again" if on else
                                   "Pin the viewer to what it shows: clicking other nodes no longer changes it")

    def pinned_result(self, node_id: str, results: dict[str, dict[str, Any]]) -> None:
        """A new result while pinned: shown only when it is the pinned node's."""
        if self.pinned and self.pinned_node == node_id:
            self.show_result(node_id, results, title=self.title_label.text())

    def end_preview(self, word: str = "Cancelled") -> None:
        """The render behind a live preview stopped without a result: the picture stays, marked."""
        if self.kind != "preview":
            return
        self.info_label.setText(word.lower())
        self.picture.set_image(self.picture.image, badge=f"{word}: no result", caption="")

    def compare(self, results_a: dict[str, dict[str, Any]], results_b: dict[str, dict[str, Any]], *,
                title_a: str = "A", title_b: str = "B") -> None:
        """A/B: two results' pictures, over each other with a wipe or side by side; videos play in step."""
        self.pause()
        self._release()
        entry_a, entry_b = _picture_entry(results_a), _picture_entry(results_b)
        if entry_a is None or entry_b is None:
            self._message("Compare shows two pictures or videos; one of these has neither.")
            return
        try:
            self.frames = _frame_source(entry_a)
            self.frames_b = _frame_source(entry_b)
        except (OSError, ValueError, KeyError, IndexError) as exc:
            self._release()
            self._message(f"Cannot compare: a result's files are gone ({exc}). Run it again.")
            return
        self.node_id, self.results, self.output, self.kind = None, {}, None, "compare"
        self.fps = float(entry_a.get("fps") or entry_b.get("fps") or 24.0)
        count = max(self.frames.count, self.frames_b.count)
        self.duration = count / self.fps if count > 1 else 0.0
        self.top_bar.show()
        self.output_combo.hide()
        self.title_label.setText("A/B")
        self.compare_view.title_a, self.compare_view.title_b = f"A: {title_a}", f"B: {title_b}"
        self.info_label.setText(f"A {self.frames.width}\u00d7{self.frames.height} \u00b7 "
                                f"B {self.frames_b.width}\u00d7{self.frames_b.height}")
        self.compare_mode.show()
        self.stack.setCurrentWidget(self.compare_view)
        self._show_transport(count > 1)
        self.set_pinned(True, f"A/B {title_a} | {title_b}")
        self._seek(0.0, frame=0)

    def set_compare_mode(self, mode: str) -> None:
        self.compare_view.set_mode(mode)
        index = self.compare_mode.findData(mode)
        if index >= 0 and self.compare_mode.currentIndex() != index:
            self.compare_mode.blockSignals(True)
            self.compare_mode.setCurrentIndex(index)
            self.compare_mode.blockSignals(False)

    def clear(self) -> None:
        """Shows nothing (and lets go of the files)."""
        self.pause()
        self.node_id, self.results, self.output, self.kind = None, {}, None, None
        self._release()
        self.title_label.clear()
        self.top_bar.hide()  # the dock's title says "Viewer"; nothing else to say yet
        self.info_label.clear()
        self.output_combo.blockSignals(True)
        self.output_combo.clear()
        self.output_combo.blockSignals(False)
        self.output_combo.hide()
        self.empty_label.setText("Nothing to show yet.\nRun a node (Ctrl+Enter) and its result plays here.")
        self.stack.setCurrentWidget(self.empty_label)
        self.transport.hide()
        self.sound_note.hide()
        self.compare_mode.hide()
        self.set_pinned(False)

    def show_result(self, node_id: str, results: dict[str, dict[str, Any]], *, title: str = "",
                    output: str | None = None) -> None:
        """Shows what a node made (the ``results`` of its ``node_finished`` event)."""
        self.pause()
        self.compare_mode.hide()
        self.node_id = node_id
        self.top_bar.show()
        self.title_label.setText(title or node_id)
        self.results = {name: dict(r) for name, r in (results or {}).items() if isinstance(r, dict)}
        names = sorted(self.results, key=lambda n: (KIND_ORDER.get(self.results[n].get("kind"), len(KIND_ORDER)),
                                                    list(self.results).index(n)))
        self.output_combo.blockSignals(True)
        self.output_combo.clear()
        for name in names:
            self.output_combo.addItem(f"{name} ({self.results[name].get('kind', '?')})", name)
        self.output_combo.blockSignals(False)
        self.output_combo.setVisible(len(names) > 1)
        if not names:
            self._release()
            self.kind = None
            self._message(f"{title or node_id} finished without an output to show.")
            return
        self.select_output(output if output in self.results else names[0])

    def show_preview(self, node_id: str, jpeg_bytes: bytes, *, step: int | None = None,
                     total: int | None = None, title: str = "") -> None:
        """Shows a live preview frame of a node that is rendering."""
        image = QImage.fromData(bytes(jpeg_bytes))
        if image.isNull():
            return
        if self.kind != "preview" or node_id != self.node_id:
            self.pause()
            self._release()
            self.compare_mode.hide()
            self.node_id, self.results, self.output, self.kind = node_id, {}, None, "preview"
            self.output_combo.hide()
            self.transport.hide()
            self.sound_note.hide()
            self.top_bar.show()
            self.title_label.setText(title or node_id)
            self.stack.setCurrentWidget(self.picture_page)
            self.track.hide()
        progress = f" \u00b7 step {step}/{total}" if step is not None and total else ""
        self.info_label.setText(f"rendering{progress}")
        self.picture.set_image(image, badge=f"Live preview{progress}", caption="")

    def select_output(self, name: str) -> None:
        """Shows another output of the same node."""
        if name not in self.results:
            raise KeyError(f"no output {name!r}; outputs: {', '.join(self.results)}")
        self.pause()
        self._release()
        self.output = name
        index = self.output_combo.findData(name)
        if index >= 0 and self.output_combo.currentIndex() != index:
            self.output_combo.blockSignals(True)
            self.output_combo.setCurrentIndex(index)
            self.output_combo.blockSignals(False)
        entry = self.results[name]
        self.kind = entry.get("kind")
        try:
            self._load(entry)
        except (OSError, ValueError, KeyError, IndexError) as exc:
            self._release()
            self._message(f"Cannot show {name}: its files are gone or damaged ({exc}).\n"
                          "The cache may have been cleared: run the node again.")
            return
        self.output_changed.emit(name)

    @property
    def frame_count(self) -> int:
        if self.kind == "compare" and self.frames is not None and self.frames_b is not None:
            return max(self.frames.count, self.frames_b.count)
        return self.frames.count if self.frames is not None else 0

    @property
    def is_playing(self) -> bool:
        return self._timer.isActive()

    @property
    def sound_available(self) -> bool:
        return self.sound.available

    def current_image(self) -> QImage | None:
        return self.picture.image

    def play(self) -> None:
        if self.duration <= 0 or self.kind not in ("Video", "Audio", "Mask", "compare"):
            return
        if self.position >= self.duration - 1e-9 or (self.frames and self.frame >= self.frame_count - 1
                                                      and self.kind != "Audio"):
            self._seek(0.0)
        self._restart_clock()
        interval = 1000.0 / self.fps if self.fps else 33.0
        self._timer.start(max(5, int(interval / 2)))
        self.play_button.setIcon(self.style().standardIcon(QStyle.SP_MediaPause))
        self.play_button.setToolTip("Pause (Space)")
        self._start_sound()

    def pause(self) -> None:
        self._timer.stop()
        self.sound.stop()
        self.play_button.setIcon(self.style().standardIcon(QStyle.SP_MediaPlay))
        self.play_button.setToolTip("Play (Space)")

    def toggle_play(self) -> None:
        if self.is_playing:
            self.pause()
        else:
            self.play()

    def set_loop(self, on: bool) -> None:
        self.loop = bool(on)
        if self.loop_button.isChecked() != self.loop:
            self.loop_button.setChecked(self.loop)

    def step(self, frames: int = 1) -> None:
        """Steps ``frames`` frames (a tenth of a second each for sound), paused."""
        self.pause()
        if self.kind == "Audio":
            self._seek(self.position + frames * AUDIO_STEP_SECONDS)
        elif self.frames is not None:
            self.seek_frame(self.frame + frames)

    def seek_frame(self, index: int) -> None:
        if self.kind == "Audio":
            self.seek_seconds(0.0 if index <= 0 else self.duration)
            return
        if self.frames is None:
            return
        index = max(0, min(int(index), self.frame_count - 1))
        self._seek(index / self.fps if self.fps else 0.0, frame=index)

    def seek_seconds(self, seconds: float) -> None:
        playing = self.is_playing
        self._seek(seconds)
        if playing:
            self._restart_clock()
            self._start_sound()

    # -- loading ----------------------------------------------------------------------------------------
    def _release(self) -> None:
        self.sound.stop()
        self.frames = None
        self.frames_b = None
        self.samples = None
        self.rate = 0
        self.fps = 0.0
        self.frame = 0
        self.position = 0.0
        self.duration = 0.0
        self.picture.set_image(None, badge="", caption="")
        self.track.set_samples(None)
        self.waveform.set_samples(None)
        self.compare_view.set_images(None, None)

    def _message(self, text: str) -> None:
        self.empty_label.setText(text)
        self.stack.setCurrentWidget(self.empty_label)
        self.transport.hide()
        self.sound_note.hide()
        self.info_label.clear()

    def _load(self, entry: dict[str, Any]) -> None:
        kind = entry.get("kind")
        files = entry.get("files", {})
        self.sound_note.hide()
        if kind == "Video":
            self.frames = FrameSource(load_array(files["frames"]))
            self.fps = float(entry.get("fps") or 24.0)
            self.duration = self.frame_count / self.fps
            if "audio" in files:
                self.samples = as_channels(load_array(files["audio"]))
                self.rate = int(entry.get("rate") or 44100)
            self._show_frames(with_sound=self.samples is not None)
            sound = ""
            if self.samples is not None:
                sound = f" \u00b7 sound {self.rate / 1000:g} kHz {_channels(self.samples.shape[0])}"
            self.info_label.setText(f"{self.frames.width}\u00d7{self.frames.height} \u00b7 {self.frame_count} frames "
                                    f"at {self.fps:g} fps \u00b7 {self.duration:.2f} s{sound}")
        elif kind == "Image":
            self.frames = FrameSource(load_array(files["pixels"]))
            self._show_frames(with_sound=False, transport=False)
            self.info_label.setText(f"{self.frames.width}\u00d7{self.frames.height} image")
        elif kind == "Mask":
            self.frames = FrameSource(load_array(files["values"]), mask=True)
            moving = not self.frames.still
            self.fps = float(entry.get("fps") or 16.0) if moving else 0.0
            self.duration = self.frame_count / self.fps if moving else 0.0
            self._show_frames(with_sound=False, transport=moving)
            what = f"mask, {self.frame_count} frames" if moving else "mask (white: inside)"
            self.info_label.setText(f"{self.frames.width}\u00d7{self.frames.height} {what}")
        elif kind == "Audio":
            self.samples = as_channels(load_array(files["samples"]))
            self.rate = int(entry.get("rate") or 44100)
            self.duration = self.samples.shape[1] / self.rate
            self.waveform.set_samples(self.samples, self.rate)
            self.stack.setCurrentWidget(self.waveform)
            self._show_transport(True)
            self.info_label.setText(f"{self.duration:.2f} s \u00b7 {self.rate / 1000:g} kHz "
                                    f"{_channels(self.samples.shape[0])}")
            self._note_sound()
        elif kind == "scalar":
            value = entry.get("value")
            self.text_view.setText(html.escape("(nothing)" if value is None else str(value)))
            self.stack.setCurrentWidget(self.text_view)
            self.transport.hide()
            self.info_label.setText(type(value).__name__ if value is not None else "")
        else:
            raise ValueError(f"unknown kind {kind!r}")
        self._seek(0.0, frame=0)

    def _show_frames(self, *, with_sound: bool, transport: bool = True) -> None:
        self.stack.setCurrentWidget(self.picture_page)
        self.track.setVisible(with_sound)
        if with_sound:
            self.track.set_samples(self.samples, self.rate)
            self._note_sound()
        self._show_transport(transport and self.frame_count > 1)

    def _show_transport(self, on: bool) -> None:
        self.transport.setVisible(on)
        if not on:
            return
        audio = self.kind == "Audio"
        self.scrubber.blockSignals(True)
        self.scrubber.setRange(0, int(self.duration * 1000) if audio else max(0, self.frame_count - 1))
        self.scrubber.setPageStep(1000 if audio else max(1, int(self.fps or 1)))
        self.scrubber.blockSignals(False)
        self.back_button.setToolTip("Back a tenth of a second (Left)" if audio else "Back one frame (Left)")
        self.forward_button.setToolTip("Forward a tenth of a second (Right)" if audio else "Forward one frame (Right)")

    def _note_sound(self) -> None:
        if not self.sound.available:
            self.sound_note.setText(self.sound.reason)
            self.sound_note.show()

    def _output_picked(self, index: int) -> None:
        name = self.output_combo.itemData(index)
        if name and name != self.output:
            self.select_output(name)

    # -- time ------------------------------------------------------------------------------------------------
    def _seek(self, seconds: float, frame: int | None = None) -> None:
        self.position = max(0.0, min(float(seconds), self.duration)) if self.duration else 0.0
        if self.frames is not None:
            if frame is None:
                frame = int(self.position * self.fps + 1e-6) if self.fps else 0
            if self.kind == "compare" and self.frames_b is not None:
                # Both play in step: frame n of A beside frame n of B (a shorter one holds its last).
                self.frame = max(0, min(frame, max(self.frames.count, self.frames_b.count) - 1))
                self.compare_view.set_images(self.frames.image(min(self.frame, self.frames.count - 1)),
                                             self.frames_b.image(min(self.frame, self.frames_b.count - 1)))
            else:
                self.frame = max(0, min(frame, self.frame_count - 1))
                self.picture.set_image(self.frames.image(self.frame), badge="", caption="")
        self.track.set_position(self.position)
        self.waveform.set_position(self.position)
        self.scrubber.blockSignals(True)
        self.scrubber.setValue(int(self.position * 1000) if self.kind == "Audio" else self.frame)
        self.scrubber.blockSignals(False)
        if self.kind == "Audio":
            self.time_label.setText(f"{timecode(self.position)} / {timecode(self.duration)}")
        elif self.frames is not None and self.frame_count > 1:
            self.time_label.setText(f"{self.frame + 1} / {self.frame_count}   "
                                    f"{timecode(self.frame / self.fps if self.fps else 0)} / {timecode(self.duration)}")

    def _scrubbed(self, value: int) -> None:
        if self.kind == "Audio":
            self.seek_seconds(value / 1000.0)
        else:
            playing = self.is_playing
            self.seek_frame(value)
            if playing:
                self._restart_clock()
                self._start_sound()

    def _tick(self) -> None:
        position = self._clock_start + (self.now() - self._clock_t0)
        if position >= self.duration:
            if self.loop:
                self._seek(0.0)
                self._restart_clock()
                self._start_sound()
                return
            self._seek(self.duration)
            if self.frames is not None:
                self.seek_frame(self.frame_count - 1)
            self.pause()
            return
        self._seek(position)

    def _restart_clock(self) -> None:
        self._clock_start = self.position
        self._clock_t0 = self.now()

    def _start_sound(self) -> None:
        if self.samples is not None and self.sound.available:
            self.sound.play(self.samples, self.rate, self.position)


def _picture_entry(results: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    for kind in ("Video", "Image", "Mask"):
        for entry in (results or {}).values():
            if isinstance(entry, dict) and entry.get("kind") == kind:
                return entry
    return None


def _frame_source(entry: dict[str, Any]) -> FrameSource:
    files = entry.get("files", {})
    if entry["kind"] == "Video":
        return FrameSource(load_array(files["frames"]))
    if entry["kind"] == "Image":
        return FrameSource(load_array(files["pixels"]))
    return FrameSource(load_array(files["values"]), mask=True)


def _channels(n: int) -> str:
    return {1: "mono", 2: "stereo"}.get(int(n), f"{n} channels")


__all__ = ["CompareView", "PictureView", "ViewerPanel", "WaveformView", "timecode"]
