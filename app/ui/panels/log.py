"""The log: what the studio and the engine said, newest at the bottom.

Levels are coloured (info, warning, error); the text is selectable and
"Copy all" puts what is shown on the clipboard, for a bug report. Only the
last ``max_entries`` messages are kept, so a long session cannot fill memory.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.ui.panels import palette

LEVELS = ("debug", "info", "warning", "error")
_RANK = {level: i for i, level in enumerate(LEVELS)}
_TAG = {"debug": "debug", "info": "", "warning": "warning", "error": "error"}


@dataclass(frozen=True)
class Entry:
    when: float
    level: str
    text: str

    def line(self) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.when))
        tag = _TAG.get(self.level, self.level)
        return f"{stamp}  {tag + ': ' if tag else ''}{self.text}"


class LogPanel(QWidget):
    FILTERS = (("Everything", "info"), ("Warnings and errors", "warning"), ("Errors only", "error"))

    def __init__(self, parent: QWidget | None = None, *, max_entries: int = 5000):
        super().__init__(parent)
        self.max_entries = max_entries
        self._entries: deque[Entry] = deque(maxlen=max_entries)
        self._min_level = "info"
        self._counts = {level: 0 for level in LEVELS}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        bar = QHBoxLayout()
        self.filter_combo = QComboBox()
        for label, level in self.FILTERS:
            self.filter_combo.addItem(label, level)
        self.filter_combo.currentIndexChanged.connect(self._filter_picked)
        bar.addWidget(self.filter_combo)
        self.counts_label = QLabel()
        bar.addWidget(self.counts_label, 1)
        self.copy_button = QPushButton("Copy all")
        self.copy_button.setToolTip("Copy the messages shown to the clipboard (or select some and Ctrl+C)")
        self.copy_button.clicked.connect(self.copy_all)
        bar.addWidget(self.copy_button)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        bar.addWidget(self.clear_button)
        layout.addLayout(bar)
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard)
        self.view.setLineWrapMode(QPlainTextEdit.WidgetWidth)
        self.view.setMaximumBlockCount(max_entries)
        self.view.setPlaceholderText("Messages from the studio and the engine appear here.")
        mono = QFontDatabase.systemFont(QFontDatabase.FixedFont)
        mono.setPointSizeF(max(7.5, self.font().pointSizeF() * 0.95))
        self.view.setFont(mono)
        layout.addWidget(self.view, 1)
        self._formats = {}
        for level in LEVELS:
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(palette.LEVEL_COLORS[level]))
            if level == "error":
                fmt.setFontWeight(QFont.Bold)
            self._formats[level] = fmt
        self._update_counts()

    # -- API ----------------------------------------------------------------------------------------
    def append(self, text: str, level: str = "info") -> None:
        level = level if level in _RANK else "info"
        entry = Entry(time.time(), level, str(text).rstrip("\n"))
        if len(self._entries) == self.max_entries:
            self._counts[self._entries[0].level] -= 1
        self._entries.append(entry)
        self._counts[level] += 1
        if _RANK[level] >= _RANK[self._min_level]:
            self._write(entry)
        self._update_counts()

    def entries(self) -> list[Entry]:
        return list(self._entries)

    def text(self) -> str:
        """What the log shows now, as plain text."""
        return self.view.toPlainText()

    def copy_all(self) -> None:
        QGuiApplication.clipboard().setText(self.text())

    def clear(self) -> None:
        self._entries.clear()
        self._counts = {level: 0 for level in LEVELS}
        self.view.clear()
        self._update_counts()

    def set_min_level(self, level: str) -> None:
        if level not in _RANK:
            return
        self._min_level = level
        index = self.filter_combo.findData(level)
        if index >= 0 and self.filter_combo.currentIndex() != index:
            self.filter_combo.blockSignals(True)
            self.filter_combo.setCurrentIndex(index)
            self.filter_combo.blockSignals(False)
        self.view.clear()
        for entry in self._entries:
            if _RANK[entry.level] >= _RANK[level]:
                self._write(entry)

    def _filter_picked(self, index: int) -> None:
        self.set_min_level(self.filter_combo.itemData(index))

    # -- drawing --------------------------------------------------------------------------------------
    def _write(self, entry: Entry) -> None:
        bar = self.view.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 2
        cursor = QTextCursor(self.view.document())
        cursor.movePosition(QTextCursor.End)
        if not self.view.document().isEmpty():
            cursor.insertBlock()
        cursor.insertText(entry.line(), self._formats[entry.level])
        if at_bottom:
            bar.setValue(bar.maximum())

    def _update_counts(self) -> None:
        warnings, errors = self._counts["warning"], self._counts["error"]
        parts = []
        if errors:
            parts.append(f"<span style='color:{palette.LEVEL_COLORS['error']}'>{errors} "
                         f"error{'s' if errors != 1 else ''}</span>")
        if warnings:
            parts.append(f"<span style='color:{palette.LEVEL_COLORS['warning']}'>{warnings} "
                         f"warning{'s' if warnings != 1 else ''}</span>")
        self.counts_label.setText(" \u00b7 ".join(parts))


__all__ = ["Entry", "LEVELS", "LogPanel"]
