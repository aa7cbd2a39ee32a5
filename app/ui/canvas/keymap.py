"""Canvas keys, with presets for the habits artists bring.

"vfx" (the default) follows Nuke and Houdini: Tab adds a node, F frames, D
bypasses. "blender" follows Blender's node editor: Shift+A adds, M mutes
(bypass), Shift+D duplicates, Home / numpad-period frame. Canvas keys only act
while the canvas has focus, so typing a D into the inspector never bypasses a
node. Keys are compared on the key code the keyboard layout gives for the
physical key together with its modifiers.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QKeySequence

# action id -> (menu text, description)
ACTIONS: dict[str, str] = {
    "add_node": "Add Node…",
    "find": "Find Node…",
    "frame_selected": "Frame Selected",
    "frame_all": "Frame All",
    "bypass": "Bypass",
    "duplicate": "Duplicate",
    "delete": "Delete",
    "rename": "Rename",
    "backdrop": "Backdrop Around Selection",
    "disconnect": "Disconnect Selected",
    "minimap": "Minimap",
    "select_all": "Select All",
    "select_none": "Select None",
    "copy": "Copy",
    "cut": "Cut",
    "paste": "Paste",
    "paste_with_links": "Paste With Input Links",
}
# Undo and Redo are not canvas keys: the Edit menu's actions (app/ui/main_window.py) own
# Ctrl+Z and Ctrl+Shift+Z / Ctrl+Y for the whole window, so each key has one binding.

_COMMON = {
    "delete": ["Delete", "Backspace"],
    "rename": ["F2"],
    "find": ["Ctrl+F"],
    "backdrop": ["Ctrl+J"],
    "minimap": ["Alt+M"],
    "select_all": ["Ctrl+A"],
    "copy": ["Ctrl+C"],
    "cut": ["Ctrl+X"],
    "paste": ["Ctrl+V"],
    "paste_with_links": ["Ctrl+Shift+V"],
}

PRESETS: dict[str, dict[str, list[str]]] = {
    "vfx": {
        **_COMMON,
        "add_node": ["Tab", "Shift+A"],
        "frame_selected": ["F", "."],
        "frame_all": ["Home", "H"],
        "bypass": ["D"],
        "duplicate": ["Ctrl+D", "Alt+C"],
        "disconnect": ["Ctrl+Shift+D"],
        "backdrop": ["Ctrl+J", "Shift+O"],
        "select_none": ["Ctrl+Shift+A"],
    },
    "blender": {
        **_COMMON,
        "add_node": ["Shift+A", "Tab"],
        "frame_selected": ["."],
        "frame_all": ["Home"],
        "bypass": ["M"],
        "duplicate": ["Shift+D"],
        "disconnect": ["Alt+D"],
        "delete": ["Delete", "Backspace", "X"],
        "select_none": ["Alt+A"],
    },
}

PRESET_NAMES = {"vfx": "VFX (Nuke, Houdini)", "blender": "Blender"}


class Keymap:
    def __init__(self, preset: str = "vfx"):
        self.preset = preset if preset in PRESETS else "vfx"
        self._table: dict[tuple[int, int], str] = {}
        for action, keys in PRESETS[self.preset].items():
            for key in keys:
                combo = QKeySequence(key)[0]
                self._table[(int(combo.key()), int(combo.keyboardModifiers().value))] = action

    def keys(self, action: str) -> list[str]:
        return list(PRESETS[self.preset].get(action, []))

    def text(self, action: str) -> str:
        """The keys as a menu shows them ("D", "Ctrl+D, Alt+C")."""
        return ", ".join(QKeySequence(k).toString(QKeySequence.NativeText) for k in self.keys(action))

    def match(self, event: QKeyEvent) -> str | None:
        key = event.key()
        mods = event.modifiers() & ~Qt.KeypadModifier
        # Shift+Tab arrives as Backtab on most platforms.
        if key == Qt.Key_Backtab:
            key = Qt.Key_Tab
        return self._table.get((int(key), int(mods.value)))
