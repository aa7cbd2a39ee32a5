"""The inspector's editors, one per kind of parameter.

Each field shows a value and says when the artist changed it (``edited``);
it never writes to the graph itself. ``set_value`` shows a value that came
from the model (an undo, another view) without emitting ``edited``, which is
what keeps the inspector and the model from echoing each other. ``feedback``
carries what the field wants said under it ("5000 is above the maximum
1920: set to 1920").
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImageReader, QKeyEvent, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QSizePolicy, QSlider,
    QStyledItemDelegate, QToolButton, QVBoxLayout, QWidget,
)

from app.ui.panels import palette
from app.ui.panels.anchors import AnchorHighlighter
from nodes import types as T
from nodes.definition import Param
from nodes.numbers import parse_number, short

# Slider resolution when a parameter's range has more steps than a slider can show.
_SLIDER_TICKS = 1000
_MAX_STEP_TICKS = 2000


def format_number(value: Any, is_int: bool) -> str:
    if value is None:
        return ""
    if is_int:
        return str(int(value))
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return f"{value:.1f}"
    return f"{value:.6f}".rstrip("0").rstrip(".")


def read_number(text: str, param: Param) -> tuple[float | int, str]:
    """The value a typed ``text`` stands for, and what to tell the artist about it.

    Out-of-range values are clamped (and said so), a fraction typed into a
    whole-number field is rounded (and said so). Raises ValueError with the
    message when the text is not a number at all.
    """
    is_int = param.type in (T.INT, T.SEED)
    value = parse_number(text, decimal_comma=True)  # NotANumber is a ValueError with the message
    notes = []
    if is_int and not value.is_integer():
        rounded = int(round(value))
        notes.append(f"{short(value)} is not a whole number: rounded to {rounded}")
        value = rounded
    if param.min is not None and value < param.min:
        notes.append(f"{short(value)} is below the minimum {short(param.min)}: set to {short(param.min)}")
        value = param.min
    if param.max is not None and value > param.max:
        notes.append(f"{short(value)} is above the maximum {short(param.max)}: set to {short(param.max)}")
        value = param.max
    return (int(value) if is_int else float(value)), "; ".join(notes)


class Field(QWidget):
    """Base of every editor."""

    edited = Signal(object)          # the value the artist chose
    feedback = Signal(str, str)      # message, level ("", "warning", "error"); "" clears it

    def __init__(self, param: Param, parent: QWidget | None = None):
        super().__init__(parent)
        self.param = param
        self.setToolTip(param.help)

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def value(self) -> Any:
        raise NotImplementedError


# -- numbers ---------------------------------------------------------------------------------------
class _NumberEdit(QLineEdit):
    """A line edit for exact entry that also steps with Up/Down and the wheel."""

    stepped = Signal(int)  # +1 / -1, times 10 with Shift

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key_Up, Qt.Key_Down):
            sign = 1 if event.key() == Qt.Key_Up else -1
            self.stepped.emit(sign * (10 if event.modifiers() & Qt.ShiftModifier else 1))
            return
        if event.key() == Qt.Key_Escape:
            self.undo_typing()
        super().keyPressEvent(event)

    def undo_typing(self) -> None:
        self.setText(self.property("shown") or "")

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        # Only when focused: scrolling the inspector must not change values by accident.
        if self.hasFocus() and event.angleDelta().y():
            self.stepped.emit(1 if event.angleDelta().y() > 0 else -1)
            event.accept()
        else:
            event.ignore()


class _Slider(QSlider):
    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()  # let the inspector scroll


class NumberField(Field):
    """Int or Float: a slider for quick changes and a box for the exact number."""

    def __init__(self, param: Param, parent: QWidget | None = None, *, slider: bool = True):
        super().__init__(param, parent)
        self.is_int = param.type in (T.INT, T.SEED)
        self._value: Any = param.default
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.slider: QSlider | None = None
        if slider and param.min is not None and param.max is not None and param.max > param.min:
            self.slider = _Slider(Qt.Horizontal)
            self.slider.setFocusPolicy(Qt.StrongFocus)
            self.slider.setMinimumWidth(60)
            self._ticks = self._tick_count()
            self.slider.setRange(0, self._ticks)
            self.slider.setPageStep(max(1, self._ticks // 10))
            self.slider.setToolTip(param.help)
            self.slider.valueChanged.connect(self._slider_moved)
            layout.addWidget(self.slider, 1)
        self.entry = _NumberEdit()
        self.entry.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.entry.setToolTip(self._range_text())
        self.entry.setMinimumWidth(70)
        self.entry.setMaximumWidth(110 if self.slider is not None else 16777215)
        self.entry.editingFinished.connect(self.commit_text)
        self.entry.stepped.connect(self.step_by)
        layout.addWidget(self.entry, 0 if self.slider is not None else 1)
        self.set_value(param.default)

    # -- ranges -------------------------------------------------------------------------------
    def _step(self) -> float:
        if self.param.step:
            return float(self.param.step)
        return 1.0 if self.is_int else 0.1

    def _tick_count(self) -> int:
        span = float(self.param.max) - float(self.param.min)
        if self.param.step:
            n = int(round(span / float(self.param.step)))
            if 0 < n <= _MAX_STEP_TICKS:
                return n
        if self.is_int and 0 < span <= _MAX_STEP_TICKS:
            return int(span)
        return _SLIDER_TICKS

    def _tick_to_value(self, tick: int) -> float | int:
        lo, hi = float(self.param.min), float(self.param.max)
        value = lo + (hi - lo) * tick / self._ticks
        if self.param.step:
            value = lo + round((value - lo) / float(self.param.step)) * float(self.param.step)
        value = min(max(value, lo), hi)
        return int(round(value)) if self.is_int else round(value, 6)

    def _value_to_tick(self, value: float) -> int:
        lo, hi = float(self.param.min), float(self.param.max)
        return int(round((min(max(float(value), lo), hi) - lo) / (hi - lo) * self._ticks))

    def _range_text(self) -> str:
        p = self.param
        parts = []
        if p.min is not None and p.max is not None:
            parts.append(f"From {short(p.min)} to {short(p.max)}")
        elif p.min is not None:
            parts.append(f"At least {short(p.min)}")
        elif p.max is not None:
            parts.append(f"At most {short(p.max)}")
        if p.step:
            parts.append(f"in steps of {short(p.step)}")
        hint = "Up/Down (Shift: x10) to step"
        return (" ".join(parts) + ". " if parts else "") + hint

    # -- showing ------------------------------------------------------------------------------
    def set_value(self, value: Any) -> None:
        self._value = value
        text = format_number(value, self.is_int)
        self.entry.setProperty("shown", text)
        if self.entry.text() != text:
            self.entry.setText(text)
            self.entry.setCursorPosition(0)
        if self.slider is not None and isinstance(value, (int, float)):
            self.slider.blockSignals(True)
            self.slider.setValue(self._value_to_tick(value))
            self.slider.blockSignals(False)

    def value(self) -> Any:
        return self._value

    # -- editing ------------------------------------------------------------------------------
    def commit_text(self) -> None:
        text = self.entry.text()
        if text == self.entry.property("shown"):
            return
        try:
            value, note = read_number(text, self.param)
        except ValueError as exc:
            self.feedback.emit(f"{exc}; it stays {format_number(self._value, self.is_int)}", "error")
            self.set_value(self._value)
            return
        self.feedback.emit(note, "warning" if note else "")
        self._emit(value)

    def step_by(self, steps: int) -> None:
        if self.entry.isReadOnly():
            return
        current = self._value if isinstance(self._value, (int, float)) else 0
        value = current + steps * self._step()
        if self.param.min is not None:
            value = max(value, self.param.min)
        if self.param.max is not None:
            value = min(value, self.param.max)
        value = int(round(value)) if self.is_int else round(float(value), 6)
        self.feedback.emit("", "")
        self._emit(value)

    def _slider_moved(self, tick: int) -> None:
        value = self._tick_to_value(tick)
        self.feedback.emit("", "")
        self._emit(value, from_slider=True)

    def _emit(self, value: Any, from_slider: bool = False) -> None:
        if value == self._value and type(value) is type(self._value):
            self.set_value(value)  # redraw the text the artist typed in its tidy form
            return
        self._value = value
        text = format_number(value, self.is_int)
        self.entry.setProperty("shown", text)
        self.entry.setText(text)
        if self.slider is not None and not from_slider:
            self.slider.blockSignals(True)
            self.slider.setValue(self._value_to_tick(value))
            self.slider.blockSignals(False)
        self.edited.emit(value)


class SeedField(NumberField):
    """A seed: the exact number, a button for a new random one, and a lock."""

    lock_changed = Signal(bool)
    after_run_changed = Signal(str)  # "fixed", "increment", "randomise"

    def __init__(self, param: Param, parent: QWidget | None = None):
        super().__init__(param, parent, slider=False)
        from app.ui.document import SEED_MODES
        layout = self.layout()
        self.after_run = QComboBox()
        for mode, text in SEED_MODES.items():
            self.after_run.addItem(text, mode)
        self.after_run.setToolTip("What this seed does after each run: stays (the same result again), "
                                  "+1, or a random one (a new variation each run)")
        self.after_run.currentIndexChanged.connect(
            lambda i: self.after_run_changed.emit(self.after_run.itemData(i)))
        layout.addWidget(self.after_run)
        self.randomise_button = QToolButton()
        self.randomise_button.setText("\u2684 Random")
        self.randomise_button.setToolTip("A new random seed: the same settings, a different result")
        self.randomise_button.clicked.connect(self.randomise)
        layout.addWidget(self.randomise_button)
        self.lock_button = QToolButton()
        self.lock_button.setCheckable(True)
        self.lock_button.toggled.connect(self._lock_toggled)
        layout.addWidget(self.lock_button)
        self._show_lock(False)

    @property
    def locked(self) -> bool:
        return self.lock_button.isChecked()

    def set_after_run(self, mode: str) -> None:
        index = self.after_run.findData(mode)
        if index >= 0 and index != self.after_run.currentIndex():
            self.after_run.blockSignals(True)
            self.after_run.setCurrentIndex(index)
            self.after_run.blockSignals(False)

    def set_locked(self, locked: bool) -> None:
        self.lock_button.setChecked(bool(locked))

    def _lock_toggled(self, locked: bool) -> None:
        self._show_lock(locked)
        self.lock_changed.emit(locked)

    def _show_lock(self, locked: bool) -> None:
        self.lock_button.setText("Locked" if locked else "Lock")
        self.lock_button.setToolTip(
            "Locked: this seed stays as it is, so the result is repeatable. Click to unlock."
            if locked else "Lock this seed so that it cannot be changed by accident")
        self.randomise_button.setEnabled(not locked)
        self.entry.setReadOnly(locked)
        if self.slider is not None:
            self.slider.setEnabled(not locked)

    def randomise(self) -> bool:
        """A new random seed, unless the seed is locked; True when it changed."""
        if self.locked:
            self.feedback.emit("The seed is locked: unlock it to change it", "warning")
            return False
        lo = int(self.param.min if self.param.min is not None else 0)
        hi = int(self.param.max if self.param.max is not None else 2**32 - 1)
        value = random.randint(lo, hi)
        while value == self._value and hi > lo:
            value = random.randint(lo, hi)
        self.feedback.emit("", "")
        self._emit(value)
        return True

    def commit_text(self) -> None:
        if self.locked:
            self.set_value(self._value)
            return
        super().commit_text()


# -- choices, switches, words -----------------------------------------------------------------------
class ChoiceField(Field):
    def __init__(self, param: Param, parent: QWidget | None = None):
        super().__init__(param, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.combo = QComboBox()
        self.combo.setToolTip(param.help)
        self.combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(8)
        self.combo.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        layout.addWidget(self.combo)
        self._value: Any = None
        self.reload()
        self.combo.currentIndexChanged.connect(self._picked)
        self.set_value(param.default)

    def options(self) -> list[str]:
        try:
            return list(self.param.options())
        except Exception:  # a choices() callback that failed (a missing catalogue)
            return []

    def reload(self) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        for option in self.options():
            self.combo.addItem(self.option_text(option), option)
        self.combo.blockSignals(False)

    def option_text(self, option: str) -> str:
        return option.replace("_", " ")

    def set_value(self, value: Any) -> None:
        self._value = value
        self.combo.blockSignals(True)
        index = self.combo.findData(value)
        if index < 0 and value is not None:
            # A value this version does not offer (an old project): show it, marked.
            for i in range(self.combo.count() - 1, -1, -1):
                if self.combo.itemData(i, Qt.UserRole + 1):
                    self.combo.removeItem(i)
            self.combo.addItem(f"{value} (not available)", value)
            index = self.combo.count() - 1
            self.combo.setItemData(index, True, Qt.UserRole + 1)
            self.combo.setItemData(index, QColor(palette.ERROR_COLOR), Qt.ForegroundRole)
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)

    def value(self) -> Any:
        return self._value

    def _picked(self, index: int) -> None:
        value = self.combo.itemData(index)
        if value is not None and value != self._value:
            self._value = value
            self.edited.emit(value)


class _ListTextDelegate(QStyledItemDelegate):
    """Draws an entry of an open drop-down with its long text (the closed combo
    shows the short one, so it fits a narrow dock)."""

    def initStyleOption(self, option, index) -> None:  # noqa: N802
        super().initStyleOption(option, index)
        long_text = index.data(LIST_TEXT_ROLE)
        if long_text:
            option.text = long_text


LIST_TEXT_ROLE = Qt.UserRole + 2


class ModelField(ChoiceField):
    """The model picker: each model says whether it is installed, its size and licence."""

    def __init__(self, param: Param, parent: QWidget | None = None, *, profile: str = "default"):
        self.profile = profile
        self.infos: dict[str, Any] = {}
        super().__init__(param, parent)
        self.combo.setItemDelegate(_ListTextDelegate(self.combo))
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.layout().addWidget(self.details)
        self._show_details()

    def reload(self) -> None:
        from app.ui.panels.models_info import model_infos

        options = self.options()
        self.infos = {info.id: info for info in model_infos(options, self.profile)}
        self.combo.blockSignals(True)
        self.combo.clear()
        for option in options:
            info = self.infos[option]
            self.combo.addItem(info.title if info.known else option, option)
            index = self.combo.count() - 1
            self.combo.setItemData(index, info.list_text(), LIST_TEXT_ROLE)
            if info.installed is True:
                icon = palette.swatch_icon(palette.OK_COLOR)
            elif info.installed is False:
                icon = palette.swatch_icon("#55595e")
            else:
                icon = palette.swatch_icon("#3a3d41")
            self.combo.setItemIcon(index, icon)
            tip = info.details()
            if info.warning:
                tip += "\n" + info.warning
            if info.installed is False and not info.shipped:
                tip += f"\nDownload it now with: weft models pull {info.id}"
            self.combo.setItemData(index, tip, Qt.ToolTipRole)
        self.combo.blockSignals(False)
        # The open list is as wide as its longest entry, even in a narrow dock.
        metrics = self.combo.fontMetrics()
        widest = max((metrics.horizontalAdvance(self.list_text(i)) for i in range(self.combo.count())), default=0)
        self.combo.view().setMinimumWidth(widest + self.combo.iconSize().width() + 40)

    def option_text(self, option: str) -> str:
        return option

    def list_text(self, index: int) -> str:
        """What the open drop-down says for an entry."""
        return self.combo.itemData(index, LIST_TEXT_ROLE) or self.combo.itemText(index)

    def info(self, model_id: str | None = None):
        return self.infos.get(model_id or self._value)

    def set_value(self, value: Any) -> None:
        super().set_value(value)
        if hasattr(self, "details"):
            self._show_details()

    def _picked(self, index: int) -> None:
        super()._picked(index)
        self._show_details()

    def _show_details(self) -> None:
        info = self.info()
        if info is None:
            self.details.setText("")
            return
        colour = palette.OK_COLOR if info.installed else palette.DIM_COLOR
        html = f"<span style='color:{colour}'>{_escape(info.details())}</span>"
        tip = info.details()
        if info.warning:
            html += f"<br><span style='color:{palette.WARN_COLOR}'>\u26a0 {_escape(info.short_warning())}</span>"
            tip += "\n\n" + info.warning
        if info.installed is False and not info.shipped:
            tip += f"\n\nDownload it now with: weft models pull {info.id}"
        self.details.setText(html)
        self.details.setToolTip(tip)


class BoolField(Field):
    def __init__(self, param: Param, parent: QWidget | None = None):
        super().__init__(param, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.check = QCheckBox()
        self.check.setToolTip(param.help)
        self.check.toggled.connect(self._toggled)
        layout.addWidget(self.check)
        layout.addStretch(1)
        self.set_value(param.default)

    def set_value(self, value: Any) -> None:
        self.check.blockSignals(True)
        self.check.setChecked(bool(value))
        self.check.blockSignals(False)

    def value(self) -> bool:
        return self.check.isChecked()

    def _toggled(self, on: bool) -> None:
        self.edited.emit(bool(on))


class TextLineField(Field):
    def __init__(self, param: Param, parent: QWidget | None = None):
        super().__init__(param, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.entry = QLineEdit()
        self.entry.setToolTip(param.help)
        self.entry.editingFinished.connect(self.commit)
        layout.addWidget(self.entry)
        self._value = ""
        self.set_value(param.default)

    def set_value(self, value: Any) -> None:
        self._value = "" if value is None else str(value)
        if self.entry.text() != self._value:
            self.entry.setText(self._value)

    def value(self) -> str:
        return self._value

    def commit(self) -> None:
        text = self.entry.text()
        if text != self._value:
            self._value = text
            self.edited.emit(text)


class _PromptEdit(QPlainTextEdit):
    focus_lost = Signal()

    def focusOutEvent(self, event) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self.focus_lost.emit()


class PromptField(Field):
    """Several lines of words, with anchors (``[1]``, ``[Mia]``) highlighted.

    Typing is committed after a short pause and when the field loses focus,
    so the graph (and the undo history, which merges the steps) sees words,
    not every keystroke.
    """

    COMMIT_DELAY_MS = 500

    def __init__(self, param: Param, parent: QWidget | None = None):
        super().__init__(param, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.editor = _PromptEdit()
        self.editor.setTabChangesFocus(True)
        self.editor.setToolTip(param.help)
        self.editor.setPlaceholderText(param.help or "Type here")
        metrics = self.editor.fontMetrics()
        self.editor.setFixedHeight(metrics.lineSpacing() * 5 + 14)
        self.editor.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        layout.addWidget(self.editor)
        self.highlighter = AnchorHighlighter(self.editor.document())
        self._value = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.COMMIT_DELAY_MS)
        self._timer.timeout.connect(self.commit)
        self.editor.textChanged.connect(self._typed)
        self.editor.focus_lost.connect(self.commit)
        self._showing = False
        self.set_value(param.default)

    def set_references(self, references) -> None:
        """``{socket: label}`` of the connected references (``anchors.prompt_references``), or None."""
        self.highlighter.set_references(references)

    def set_value(self, value: Any) -> None:
        self._value = "" if value is None else str(value)
        if self.editor.toPlainText() != self._value:
            self._showing = True
            cursor = self.editor.textCursor()
            position = cursor.position()
            self.editor.setPlainText(self._value)
            cursor = self.editor.textCursor()
            cursor.setPosition(min(position, len(self._value)))
            self.editor.setTextCursor(cursor)
            self._showing = False

    def value(self) -> str:
        return self._value

    def text(self) -> str:
        """What the field shows now (committed or not)."""
        return self.editor.toPlainText()

    def _typed(self) -> None:
        if not self._showing:
            self._timer.start()

    def commit(self) -> None:
        self._timer.stop()
        text = self.editor.toPlainText()
        if text != self._value:
            self._value = text
            self.edited.emit(text)


# -- files --------------------------------------------------------------------------------------------
FILE_FILTERS = {
    "image": "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)",
    "mask": "Masks (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)",
    "video": "Videos (*.mp4 *.mov *.mkv *.webm *.avi *.gif)",
    "audio": "Sounds (*.wav *.flac *.mp3 *.ogg *.m4a *.aac *.opus)",
}
THUMB_SIZE = QSize(96, 64)


class _PathEdit(QLineEdit):
    """A path box that takes a file dropped from the file manager."""

    dropped = Signal(str)

    def __init__(self):
        super().__init__()
        self.setAcceptDrops(True)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.dropped.emit(urls[0].toLocalFile())
            event.acceptProposedAction()
        else:
            super().dropEvent(event)


def _size_text(nbytes: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.0f} {unit}" if unit == "bytes" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return ""


class FileField(Field):
    """A file: its path, a Browse button, and a thumbnail for pictures."""

    def __init__(self, param: Param, parent: QWidget | None = None, *,
                 base_dir: Callable[[], Path | None] | None = None):
        super().__init__(param, parent)
        self.kind = param.file_kind or "file"
        self.base_dir = base_dir or (lambda: None)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.entry = _PathEdit()
        self.entry.setPlaceholderText(f"Choose or drop a {self.kind} file")
        self.entry.setToolTip(param.help)
        self.entry.editingFinished.connect(self.commit)
        self.entry.dropped.connect(self.choose)
        row.addWidget(self.entry, 1)
        self.browse_button = QToolButton()
        self.browse_button.setText("Browse\u2026")
        self.browse_button.setToolTip(f"Pick a {self.kind} file")
        self.browse_button.clicked.connect(self.browse)
        row.addWidget(self.browse_button)
        column.addLayout(row)
        preview = QHBoxLayout()
        preview.setSpacing(8)
        self.thumbnail = QLabel()
        self.thumbnail.setFixedSize(THUMB_SIZE)
        self.thumbnail.setAlignment(Qt.AlignCenter)
        self.thumbnail.setStyleSheet("QLabel { background: #17191b; border: 1px solid #3a3d41; }")
        self.thumbnail.setVisible(self.kind in ("image", "mask"))
        preview.addWidget(self.thumbnail)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setStyleSheet(f"color: {palette.DIM_COLOR}")
        preview.addWidget(self.info, 1)
        column.addLayout(preview)
        self._value = ""
        self.set_value(param.default)

    def resolved(self, path: str | None = None) -> Path | None:
        path = self._value if path is None else path
        if not path:
            return None
        p = Path(os.path.expanduser(path))
        if not p.is_absolute():
            base = self.base_dir()
            if base is not None:
                p = Path(base) / p
        return p

    def set_value(self, value: Any) -> None:
        self._value = "" if value is None else str(value)
        if self.entry.text() != self._value:
            self.entry.setText(self._value)
        self._show_file()

    def value(self) -> str:
        return self._value

    def choose(self, path: str) -> None:
        self.entry.setText(path)
        self.commit()

    def commit(self) -> None:
        text = self.entry.text().strip()
        if text != self._value:
            self._value = text
            self._show_file()
            self.edited.emit(text)

    def browse(self) -> None:
        current = self.resolved()
        start = str(current.parent if current is not None else (self.base_dir() or Path.home()))
        file_filter = FILE_FILTERS.get(self.kind, "")
        filters = ";;".join(f for f in (file_filter, "All files (*)") if f)
        path, _ = QFileDialog.getOpenFileName(self, f"Choose a {self.kind} file", start, filters)
        if path:
            self.choose(path)

    def _show_file(self) -> None:
        path = self.resolved()
        self.thumbnail.clear()
        if path is None:
            self._info("No file chosen")
            self.thumbnail.setText("none")
            self.feedback.emit("", "")
            return
        if not path.is_file():
            self._info("")
            self.thumbnail.setText("missing")
            self.feedback.emit(f"No such file: {path}", "warning")
            return
        self.feedback.emit("", "")
        size = _size_text(path.stat().st_size)
        if self.kind in ("image", "mask"):
            reader = QImageReader(str(path))
            full = reader.size()
            if full.isValid():
                reader.setScaledSize(full.scaled(THUMB_SIZE, Qt.KeepAspectRatio))
            image = reader.read()
            if image.isNull():
                self.thumbnail.setText("?")
                self._info(f"Cannot read this picture: {reader.errorString()}")
                return
            self.thumbnail.setPixmap(QPixmap.fromImage(image))
            self._info(f"{path.name}\n{full.width()} \u00d7 {full.height()} \u00b7 {size}")
        else:
            self._info(f"{path.name} \u00b7 {size}")

    def _info(self, text: str) -> None:
        self.info.setText(text)
        self.info.setVisible(bool(text))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def field_for(param: Param, *, base_dir: Callable[[], Path | None] | None = None,
              models_profile: str = "default") -> Field:
    """The editor an artist expects for ``param``."""
    t = param.type
    if t == T.SEED:
        return SeedField(param)
    if t in (T.INT, T.FLOAT):
        return NumberField(param)
    if t == T.CHOICE:
        if param.name == "model":
            return ModelField(param, profile=models_profile)
        return ChoiceField(param)
    if t == T.BOOL:
        return BoolField(param)
    if t == T.PATH or param.file_kind:
        return FileField(param, base_dir=base_dir)
    if t == T.TEXT and param.multiline:
        return PromptField(param)
    return TextLineField(param)


__all__ = [
    "BoolField", "ChoiceField", "Field", "FileField", "ModelField", "NumberField", "PromptField", "SeedField",
    "TextLineField", "field_for", "format_number", "read_number",
]
