"""The studio's settings (QSettings, in an INI file) and the Settings dialog.

Everything lives under the user data folder (platformdirs), or under
``WEFT_DATA_DIR`` when that is set, so tests and portable installs never touch
the user's real settings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from app.ui.keys import PRESET_NAMES

DEVICES = {"auto": "Automatic (GPU if there is one)", "cuda": "NVIDIA GPU (CUDA)", "mps": "Apple GPU (Metal)",
           "cpu": "CPU only (slow)"}
# The models profiles, in an artist's words (Settings, the window's command summary).
MODEL_PROFILE_WORDS = {"default": "Real models where downloaded (the shipped sketch models are always there)",
                       "tiny": "Tiny test models (random weights: the output is noise)"}
MAX_RECENT_FILES = 10
MAX_RECENT_NODES = 12


def data_dir() -> Path:
    env = os.environ.get("WEFT_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs
    return Path(platformdirs.user_data_dir("weft", appauthor=False))


class Settings:
    """Typed access to the settings file."""

    DEFAULTS: dict[str, Any] = {
        "models_dir": "",
        "cache_size_gb": 50.0,
        "memory_budget_gb": 4.0,
        "device": "auto",
        "keymap": "vfx",
        "autosave_seconds": 60,
        "models": "",   # the models profile; "" leaves it to `weft --models` (default: "default")
    }

    def __init__(self, path: Path | None = None):
        self.path = path or data_dir() / "settings.ini"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.q = QSettings(str(self.path), QSettings.IniFormat)

    # -- plain values -----------------------------------------------------------------------
    def get(self, key: str) -> Any:
        default = self.DEFAULTS[key]
        value = self.q.value(key, default)
        try:
            if isinstance(default, bool):
                return str(value).lower() in ("1", "true", "yes")
            if isinstance(default, int):
                return int(value)
            if isinstance(default, float):
                return float(value)
        except (TypeError, ValueError):
            return default
        return str(value)

    def set(self, key: str, value: Any) -> None:
        self.q.setValue(key, value)

    def _get_list(self, key: str) -> list[str]:
        try:
            value = json.loads(str(self.q.value(key, "[]")))
        except ValueError:
            return []
        return [str(v) for v in value] if isinstance(value, list) else []

    def _set_list(self, key: str, values: list[str]) -> None:
        self.q.setValue(key, json.dumps(values))

    @property
    def keymap(self) -> str:
        return self.get("keymap")

    @property
    def autosave_seconds(self) -> int:
        return max(5, self.get("autosave_seconds"))

    # -- recent things ---------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        return [p for p in self._get_list("recent_files") if Path(p).exists()]

    def add_recent_file(self, path: str | Path) -> None:
        p = str(Path(path).resolve())
        files = [p] + [f for f in self._get_list("recent_files") if f != p]
        self._set_list("recent_files", files[:MAX_RECENT_FILES])

    def recent_nodes(self) -> list[str]:
        return self._get_list("recent_nodes")

    def remember_node(self, type_id: str) -> None:
        nodes = [type_id] + [t for t in self._get_list("recent_nodes") if t != type_id]
        self._set_list("recent_nodes", nodes[:MAX_RECENT_NODES])

    # -- what the engine gets --------------------------------------------------------------------------
    def engine_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``EngineClient`` from these settings."""
        kwargs: dict[str, Any] = {
            "memory_budget": int(self.get("memory_budget_gb") * (1 << 30)),
            "disk_budget": int(self.get("cache_size_gb") * (1 << 30)),
        }
        models_dir = self.get("models_dir").strip()
        if models_dir:
            kwargs["models_dir"] = Path(models_dir).expanduser()
        env = dict(os.environ)
        device = self.get("device")
        if device != "auto":
            env["WEFT_DEVICE"] = device
            if device == "cpu":
                env["CUDA_VISIBLE_DEVICES"] = ""
        kwargs["env"] = env
        return kwargs

    def sync(self) -> None:
        self.q.sync()


class SettingsDialog(QDialog):
    """Models folder, cache size, device, keymap preset, autosave interval."""

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Weft Settings")
        self.settings = settings
        form = QFormLayout()

        self.models_dir = QLineEdit(settings.get("models_dir"))
        self.models_dir.setPlaceholderText("Default: the Hugging Face cache")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.models_dir)
        row.addWidget(browse)
        form.addRow("Models folder", row)

        self.cache_size = QDoubleSpinBox()
        self.cache_size.setRange(1, 10000)
        self.cache_size.setSuffix(" GB")
        self.cache_size.setValue(settings.get("cache_size_gb"))
        self.cache_size.setToolTip("Results kept on disk so that unchanged nodes do not run again")
        form.addRow("Result cache size", self.cache_size)

        self.memory = QDoubleSpinBox()
        self.memory.setRange(0.5, 512)
        self.memory.setSuffix(" GB")
        self.memory.setValue(settings.get("memory_budget_gb"))
        self.memory.setToolTip("Results kept in the engine's memory between runs")
        form.addRow("Result memory", self.memory)

        self.device = QComboBox()
        for key, label in DEVICES.items():
            self.device.addItem(label, key)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.get("device"))))
        form.addRow("Device", self.device)

        from engines.models.sources import PROFILES
        self.models = QComboBox()
        for key in PROFILES:
            self.models.addItem(MODEL_PROFILE_WORDS.get(key, key), key)
        current = settings.get("models") or getattr(parent, "models", "") or "default"
        self.models.setCurrentIndex(max(0, self.models.findData(current)))
        self.models.setToolTip("Which weights the engine loads: the real models where they are downloaded "
                               "(weft models pull), or the tiny test twins (random weights: noise, for tests)")
        form.addRow("Models", self.models)

        self.keymap = QComboBox()
        for key, label in PRESET_NAMES.items():
            self.keymap.addItem(label, key)
        self.keymap.setCurrentIndex(max(0, self.keymap.findData(settings.get("keymap"))))
        form.addRow("Keys", self.keymap)

        self.autosave = QSpinBox()
        self.autosave.setRange(5, 3600)
        self.autosave.setSuffix(" s")
        self.autosave.setValue(settings.get("autosave_seconds"))
        form.addRow("Autosave every", self.autosave)

        note = QLabel("Engine settings apply from the next run (the engine restarts when idle).")
        note.setWordWrap(True)
        note.setStyleSheet("color: #9aa0a6;")
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Models folder", self.models_dir.text())
        if folder:
            self.models_dir.setText(folder)

    def apply(self) -> None:
        s = self.settings
        s.set("models_dir", self.models_dir.text().strip())
        s.set("cache_size_gb", self.cache_size.value())
        s.set("memory_budget_gb", self.memory.value())
        s.set("device", self.device.currentData())
        s.set("keymap", self.keymap.currentData())
        s.set("autosave_seconds", self.autosave.value())
        s.set("models", self.models.currentData())
        s.sync()
