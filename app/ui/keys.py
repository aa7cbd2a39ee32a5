"""Every key the studio binds, in one table, and the presets for the habits artists bring.

Each action lives in one of three places, and a key acts only there:

- ``window``: the menu actions (New, Save, Undo, Run...), from anywhere in the window;
- ``canvas``: the node editor's keys, only while the canvas has focus, so typing
  a D into the inspector never bypasses a node;
- ``viewer``: the player's keys, only while the viewer has focus (Space plays
  there and pans on the canvas).

Presets change the canvas keys: "vfx" (the default) follows Nuke and Houdini
(Tab adds a node, F frames, D bypasses); "blender" follows Blender's node editor
(Shift+A adds, M mutes, Shift+D duplicates, Home / numpad-period frame). The
window's and the viewer's keys are the same in both.

Window keys reach every widget, so a canvas or viewer key equal to one of them
would be bound twice; Qt then calls the shortcut ambiguous and fires neither.
``conflicts`` finds such pairs (a test keeps every preset free of them). Keys
are compared on the key code the keyboard layout gives for the physical key
together with its modifiers.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QKeySequence

# A key as written here: a portable string ("Ctrl+D"), or one of the platform's
# standard keys (Save is Ctrl+S on Linux and Cmd+S on macOS).
Key = str | QKeySequence.StandardKey
SK = QKeySequence.StandardKey

# action id -> menu text
WINDOW_ACTIONS: dict[str, str] = {
    "new": "&New",
    "open": "&Open…",
    "save": "&Save",
    "save_as": "Save &As…",
    "settings": "Se&ttings…",
    "quit": "&Quit",
    "undo": "&Undo",
    "redo": "&Redo",
    "run": "&Run",
    "run_all": "Run All &Outputs",
    "cancel": "&Cancel Run",
    "keys_help": "&Keys and Mouse",
}
CANVAS_ACTIONS: dict[str, str] = {
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
VIEWER_ACTIONS: dict[str, str] = {
    "play": "Play / Pause",
    "previous_frame": "Previous Frame",
    "next_frame": "Next Frame",
    "first_frame": "First Frame",
    "last_frame": "Last Frame",
    "loop": "Loop On / Off",
}
SCOPES: dict[str, dict[str, str]] = {"window": WINDOW_ACTIONS, "canvas": CANVAS_ACTIONS, "viewer": VIEWER_ACTIONS}

WINDOW_KEYS: dict[str, list[Key]] = {
    "new": [SK.New],
    "open": [SK.Open],
    "save": [SK.Save],
    "save_as": [SK.SaveAs],
    "settings": [SK.Preferences],
    "quit": [SK.Quit],
    "undo": [SK.Undo],
    # The platform's Redo plus the two that artists' other tools use.
    "redo": [SK.Redo, "Ctrl+Shift+Z", "Ctrl+Y"],
    "run": ["Ctrl+Return", "Ctrl+Enter"],
    "run_all": ["Ctrl+Shift+Return", "Ctrl+Shift+Enter"],
    "cancel": ["Esc"],
    "keys_help": [SK.HelpContents],
}
VIEWER_KEYS: dict[str, list[Key]] = {
    "play": ["Space"],
    "previous_frame": ["Left"],
    "next_frame": ["Right"],
    "first_frame": ["Home"],
    "last_frame": ["End"],
    "loop": ["L"],
}

_CANVAS_COMMON: dict[str, list[Key]] = {
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
CANVAS_PRESETS: dict[str, dict[str, list[Key]]] = {
    "vfx": {
        **_CANVAS_COMMON,
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
        **_CANVAS_COMMON,
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


def sequences(key: Key) -> list[QKeySequence]:
    """What Qt binds for one key as written here (a standard key may be several, or none)."""
    if isinstance(key, QKeySequence.StandardKey):
        return list(QKeySequence.keyBindings(key))
    return [QKeySequence(key)]


def _combo(seq: QKeySequence) -> tuple[int, int]:
    combo = seq[0]
    return int(combo.key()), int(combo.keyboardModifiers().value)


class Keymap:
    """The keys of one preset, for every action in every place."""

    def __init__(self, preset: str = "vfx"):
        self.preset = preset if preset in CANVAS_PRESETS else "vfx"
        self._keys: dict[str, list[Key]] = {**WINDOW_KEYS, **VIEWER_KEYS, **CANVAS_PRESETS[self.preset]}
        self._canvas: dict[tuple[int, int], str] = {}
        for action in CANVAS_ACTIONS:
            for seq in self.sequences(action):
                self._canvas[_combo(seq)] = action

    @staticmethod
    def scope(action: str) -> str:
        for scope, actions in SCOPES.items():
            if action in actions:
                return scope
        raise KeyError(f"no action {action!r} in the key table")

    def sequences(self, action: str) -> list[QKeySequence]:
        """The key sequences bound to an action, each once (the same key twice on one
        action is an ambiguous shortcut too)."""
        found: list[QKeySequence] = []
        for key in self._keys.get(action, []):
            for seq in sequences(key):
                if not seq.isEmpty() and seq not in found:
                    found.append(seq)
        return found

    def keys(self, action: str) -> list[str]:
        """The keys as a person reads them, one per binding ("Ctrl+D", "Alt+C")."""
        return [seq.toString(QKeySequence.NativeText) for seq in self.sequences(action)]

    def text(self, action: str) -> str:
        """The keys as a menu or the help shows them ("Ctrl+D, Alt+C")."""
        return ", ".join(self.keys(action))

    def match(self, event: QKeyEvent) -> str | None:
        """The canvas action a key press on the canvas asks for, if any."""
        key = event.key()
        mods = event.modifiers() & ~Qt.KeypadModifier
        # Shift+Tab arrives as Backtab on most platforms.
        if key == Qt.Key_Backtab:
            key = Qt.Key_Tab
        return self._canvas.get((int(key), int(mods.value)))

    def conflicts(self) -> list[tuple[str, str, str]]:
        """(key, action, action) for each key bound twice where both could fire: within one
        place, or a window key again on the canvas or in the viewer."""
        owner: dict[tuple[str, tuple[int, int]], str] = {}
        found = []
        for scope, actions in SCOPES.items():
            for action in actions:
                for seq in self.sequences(action):
                    combo = _combo(seq)
                    for where in {scope, "window"}:
                        other = owner.get((where, combo))
                        if other is not None and other != action:
                            found.append((seq.toString(), other, action))
                    owner.setdefault((scope, combo), action)
        return found
