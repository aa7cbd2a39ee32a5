"""The studio window: the canvas in the middle, docks around it, menus and a toolbar.

Docks: node library (left), viewer and inspector (right), queue, log and undo
history (bottom). The panels are constructed here from ``app.ui.panels``; a
panel that cannot be imported is replaced by a note saying why, so the canvas
keeps working while a panel is being written.
"""

from __future__ import annotations

import sys
import traceback
import uuid
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QByteArray, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QIcon
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QStyle,
                               QToolBar, QSpinBox, QUndoView, QWidget)

from app.ui.autosave import Autosaver, Recovery, find_recoveries
from app.ui.canvas.view import GraphView
from app.ui.document import Document
from app.ui.keys import CANVAS_ACTIONS, PRESET_NAMES, VIEWER_ACTIONS, WINDOW_ACTIONS
from app.ui.panels import models_info
from app.ui.runner import Runner
from app.ui.settings import Settings, SettingsDialog
from app.history import History
from engines import estimate as estimates
from nodes import project as project_io
from nodes.types import MEDIA_TYPES

ROOT = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[2]))
EXAMPLES_DIR = ROOT / "assets" / "examples"
ICON = ROOT / "assets" / "icons" / "weft.svg"
TINY_NOTE = "Tiny test models: random weights, the output is noise"
# The models profiles (weft --models): what each means to an artist.
MODEL_PROFILES = {"default": "real models where downloaded; the shipped sketch models always",
                  "tiny": "tiny test models (random weights: the output is noise)"}
# Quit while a render runs: how long the engine has to stop before it is killed.
QUIT_ENGINE_SECONDS = 0.8


class _Missing:
    """Stands in for a panel that could not be built: every call is a no-op."""

    def __init__(self, name: str, error: str):
        self.name, self.error = name, error

    def __getattr__(self, attr: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


MEDIA_KINDS = tuple(t.name for t in MEDIA_TYPES)  # what the viewer shows as pictures or sound


class MainWindow(QMainWindow):
    def __init__(self, *, models: str = "default", settings: Settings | None = None, registry=None,
                 client_factory: Callable[..., Any] | None = None, autosave: bool = True,
                 interactive: bool = True):
        super().__init__()
        self.models = models
        # False for screenshots and scripted use: problems are printed, never asked about in a dialog.
        self.interactive = interactive
        self.settings = settings or Settings()
        self.document = Document(registry, self)
        self.view = GraphView(self.document, keymap=self.settings.keymap, recent_nodes=self.settings.recent_nodes,
                              remember_node=self.settings.remember_node)
        self.setCentralWidget(self.view)
        self.setDockNestingEnabled(True)
        self.setWindowIcon(QIcon(str(ICON)))
        self.panel_errors: dict[str, str] = {}
        # Every run's result, kept across restarts and crashes (app.history; SQLite in the data folder).
        self.history_store = History()
        self.runner = Runner(self.document, models=models, engine_kwargs=self.settings.engine_kwargs(),
                             history=self.history_store,
                             client_factory=client_factory, parent=self)
        self._setup_estimates()
        self._build_panels()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._connect()
        self.autosaver = Autosaver(self.document, self.settings.autosave_seconds, parent=self) if autosave else None
        self.statusBar().showMessage("Tab or double-click on the canvas to add a node", 8000)
        if models == "tiny":
            note = QLabel(f"  {TINY_NOTE}  ")
            note.setStyleSheet("color: #1b1b1b; background: #e0a24f; border-radius: 3px;")
            self.statusBar().addPermanentWidget(note)
        # The models profile is always on screen (and in Settings), not only a --models flag.
        self.models_label = QLabel(f"  models: {models}  ")
        self.models_label.setToolTip(self.models_words())
        self.models_label.setStyleSheet("color: #9aa0a6;")
        self.statusBar().addPermanentWidget(self.models_label)
        self.engine_label = QLabel("engine: not started")
        self.engine_label.setStyleSheet("color: #9aa0a6;")
        self.statusBar().addPermanentWidget(self.engine_label)
        self.resize(1600, 1000)
        if interactive:
            self._restore_geometry()
        self._update_title()

    # -- how long renders take here ---------------------------------------------------------------
    def _setup_estimates(self) -> None:
        """Estimates (engines.estimate) from this machine's device and its own measured timings;
        a new Text to Video on a CPU starts at a size that finishes within a minute."""
        from app.ui.settings import data_dir
        from engines.quality import effective_params

        self.device = estimates.detect_device(self.settings.get("device"))
        self.timings = estimates.Timings(data_dir() / "timings.json")
        self.runner.timings, self.runner.device = self.timings, self.device

        def estimator(node_type, params, quality):
            values = effective_params(node_type, {**node_type.default_params(), **params}, quality)
            return estimates.estimate(node_type, values, profile=self.models, device=self.device,
                                      timings=self.timings)

        def machine_defaults(type_id):
            if self.device != "cpu" or type_id != "text_to_video":
                return {}
            return estimates.cpu_defaults(self.document.registry.get(type_id), {}, profile=self.models,
                                          timings=self.timings)

        self.document.estimator = estimator
        self.document.machine_defaults = machine_defaults
        # Without the real default model, a new model node starts on the shipped sketch model.
        self.document.starting_params = lambda type_id: models_info.starting_params(
            self.document.registry.get(type_id), self.models)

    def run_estimate(self, targets: list[str] | None = None):
        """How long Run would take now (the model nodes it would render), or None."""
        from engines.planner import make_plan
        doc = self.document
        try:
            targets = targets if targets is not None else self.runner.default_targets()
            order = make_plan(doc.graph, targets).order if targets else []
        except Exception:
            return None
        return estimates.total(doc.estimate_for(n) for n in order if not doc.graph.nodes[n].bypassed)

    def _update_run_estimate(self, *_: Any) -> None:
        tip = "Run the selected nodes, or every output node (Ctrl+Enter)"
        guess = self.run_estimate()
        if guess is not None:
            tip += f"\nEstimated: {guess.text()}"
            if guess.long:
                tip += "\nThat is long: Draft (toolbar) or fewer steps, frames or pixels make it quicker."
        tip += f"\nModels: {self.models_words()}; quality: {self.document.quality.capitalize()}"
        self.run_action.setToolTip(tip)
        self.run_action.setStatusTip(tip.splitlines()[0])

    def set_models(self, models: str) -> None:
        """Another models profile: the engine restarts with it (now if idle, else after the run)."""
        self.models = models
        self.runner.models = models
        self.runner.set_engine_kwargs(dict(self.runner.engine_kwargs))
        inspector = self._api(self.inspector)
        if hasattr(inspector, "set_models_profile"):
            inspector.set_models_profile(models)
        self.models_label.setText(f"  models: {models}  ")
        self.models_label.setToolTip(self.models_words())
        self._update_title()
        self._refresh_estimates()
        self.log(f"Models: {self.models_words()} (from the next run)", "info")

    def models_words(self) -> str:
        return MODEL_PROFILES.get(self.models, self.models)

    def _refresh_estimates(self) -> None:
        for item in self.view.gscene.nodes.values():
            item.refresh()
        self._update_run_estimate()

    # -- panels -------------------------------------------------------------------------------
    def _panel(self, name: str, factory: Callable[[], QWidget]) -> Any:
        try:
            return factory()
        except Exception as exc:  # a panel still being written must not take the studio down
            error = f"{type(exc).__name__}: {exc}"
            self.panel_errors[name] = error
            print(f"weft: the {name} panel is not available: {error}", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            label = QLabel(f"The {name} panel is not available:\n{error}")
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignCenter)
            label.setStyleSheet("color: #e0a24f; padding: 12px;")
            label.weft_missing = _Missing(name, error)
            return label

    @staticmethod
    def _api(panel: Any) -> Any:
        return getattr(panel, "weft_missing", panel)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable
                         | QDockWidget.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _build_panels(self) -> None:
        registry = self.document.registry

        def library():
            from app.ui.panels.library import NodeLibraryPanel
            return NodeLibraryPanel(registry)

        def inspector():
            from app.ui.panels.inspector import InspectorPanel
            try:
                return InspectorPanel(self.document, models_profile=self.models)
            except TypeError:
                return InspectorPanel(self.document)

        def viewer():
            from app.ui.panels.viewer import ViewerPanel
            return ViewerPanel()

        def queue():
            from app.ui.panels.queue import QueuePanel
            return QueuePanel()

        def log():
            from app.ui.panels.log import LogPanel
            return LogPanel()

        self.library = self._panel("library", library)
        self.inspector = self._panel("inspector", inspector)
        self.viewer = self._panel("viewer", viewer)
        self.queue = self._panel("queue", queue)
        self.log_panel = self._panel("log", log)
        def results():
            from app.ui.panels.history import HistoryPanel
            return HistoryPanel(self.history_store, titles=self.document.node_title)

        self.results_panel = self._panel("history", results)
        self.history = QUndoView(self.document.undo_stack)
        self.history.setEmptyLabel("Opened")
        self.history.setObjectName("undoHistory")

        self.library_dock = self._dock("Nodes", "library", self.library, Qt.LeftDockWidgetArea)
        self.viewer_dock = self._dock("Viewer", "viewer", self.viewer, Qt.RightDockWidgetArea)
        self.inspector_dock = self._dock("Inspector", "inspector", self.inspector, Qt.RightDockWidgetArea)
        self.splitDockWidget(self.viewer_dock, self.inspector_dock, Qt.Vertical)
        self.queue_dock = self._dock("Queue", "queue", self.queue, Qt.BottomDockWidgetArea)
        self.log_dock = self._dock("Log", "log", self.log_panel, Qt.BottomDockWidgetArea)
        self.results_dock = self._dock("History", "results", self.results_panel, Qt.BottomDockWidgetArea)
        self.history_dock = self._dock("Undo", "history", self.history, Qt.BottomDockWidgetArea)
        self.tabifyDockWidget(self.queue_dock, self.log_dock)
        self.tabifyDockWidget(self.log_dock, self.history_dock)
        self.tabifyDockWidget(self.queue_dock, self.results_dock)
        self.queue_dock.raise_()
        self.resizeDocks([self.library_dock], [210], Qt.Horizontal)
        self.resizeDocks([self.viewer_dock], [400], Qt.Horizontal)
        self.resizeDocks([self.viewer_dock, self.inspector_dock], [380, 520], Qt.Vertical)
        self.resizeDocks([self.queue_dock], [170], Qt.Vertical)

    # -- actions, menus, toolbar ---------------------------------------------------------------------
    def _action(self, action_id: str, slot: Callable[[], Any], icon: Any = None, tip: str = "") -> QAction:
        """A menu action with its text and keys from the one key table (app/ui/keys.py)."""
        action = QAction(WINDOW_ACTIONS[action_id], self)
        self._bind(action, action_id)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon) if isinstance(icon, QStyle.StandardPixmap) else icon)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(lambda checked=False: slot())
        self.addAction(action)
        return action

    def _bind(self, action: QAction, action_id: str) -> None:
        action.setShortcuts(self.view.keymap.sequences(action_id))

    def _build_actions(self) -> None:
        S = QStyle.StandardPixmap
        self.new_action = self._action("new", self.new_project, S.SP_FileIcon, "Start a new project")
        self.open_action = self._action("open", self.open_dialog, S.SP_DialogOpenButton, "Open a .weft project")
        self.save_action = self._action("save", self.save, S.SP_DialogSaveButton, "Save the project")
        self.save_as_action = self._action("save_as", self.save_as)
        self.settings_action = self._action("settings", self.open_settings)
        self.quit_action = self._action("quit", self.close)
        stack = self.document.undo_stack
        self.undo_action = stack.createUndoAction(self, WINDOW_ACTIONS["undo"])
        self._bind(self.undo_action, "undo")
        self.undo_action.setIconText("Undo")  # the menu names the step; the toolbar stays short
        self.undo_action.setIcon(self.style().standardIcon(S.SP_ArrowBack))
        self.redo_action = stack.createRedoAction(self, WINDOW_ACTIONS["redo"])
        self._bind(self.redo_action, "redo")
        self.redo_action.setIconText("Redo")
        self.redo_action.setIcon(self.style().standardIcon(S.SP_ArrowForward))
        self.addAction(self.undo_action)
        self.addAction(self.redo_action)
        self.run_action = self._action("run", self.run, S.SP_MediaPlay,
                                       "Run the selected nodes, or every output node (Ctrl+Enter)")
        self.run_all_action = self._action("run_all", lambda: self.run(all_outputs=True))
        self.cancel_action = self._action("cancel", self.cancel_run, S.SP_MediaStop, "Stop the current run (Esc)")
        self.cancel_action.setEnabled(False)
        self.kill_action = QAction("&Restart Engine", self)  # no key: killing the engine is never a slip
        self.kill_action.setToolTip("Kill the engine process now; the next run starts a new one")
        self.kill_action.setStatusTip(self.kill_action.toolTip())
        self.kill_action.triggered.connect(lambda checked=False: self.restart_engine())
        self.addAction(self.kill_action)
        self.keys_action = self._action("keys_help", self.show_keys)
        self.draft_action = QAction("Draft", self)
        self.draft_action.setCheckable(True)
        self.draft_action.setToolTip("Draft: every model node runs fast (fewer steps, half the size, caches) "
                                     "for trying ideas; off: Final, as set. Saved with the project.")
        self.draft_action.toggled.connect(
            lambda on: self.document.set_quality("draft" if on else "final"))

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        file.addAction(self.new_action)
        file.addAction(self.open_action)
        self.recent_menu = file.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.examples_menu = file.addMenu("&Examples")
        self.examples_menu.aboutToShow.connect(self._fill_examples)
        file.addSeparator()
        file.addAction(self.save_action)
        file.addAction(self.save_as_action)
        file.addSeparator()
        file.addAction(self.settings_action)
        file.addSeparator()
        file.addAction(self.quit_action)

        edit = bar.addMenu("&Edit")
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)
        edit.addSeparator()
        va = self.view.actions_by_id
        for action_id in ("cut", "copy", "paste", "paste_with_links", "duplicate", "delete"):
            edit.addAction(va[action_id])
        edit.addSeparator()
        for action_id in ("find", "select_all", "select_none", "rename", "bypass", "disconnect", "backdrop"):
            edit.addAction(va[action_id])

        nodes = bar.addMenu("&Nodes")
        nodes.addAction(va["add_node"])
        for category, types in self.document.registry.categories().items():
            sub = nodes.addMenu(category)
            for t in types:
                sub.addAction(t.title, lambda t=t: self.view.add_node_at(t.type_id, self.view.cursor_scene_pos()))

        view = bar.addMenu("&View")
        view.addAction(va["frame_selected"])
        view.addAction(va["frame_all"])
        view.addAction(va["minimap"])
        view.addSeparator()
        for dock in (self.library_dock, self.viewer_dock, self.inspector_dock, self.queue_dock, self.log_dock,
                     self.results_dock, self.history_dock):
            view.addAction(dock.toggleViewAction())

        run = bar.addMenu("&Run")
        run.addAction(self.run_action)
        run.addAction(self.run_all_action)
        run.addAction(self.cancel_action)
        run.addSeparator()
        run.addAction(self.kill_action)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.keys_action)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main", self)
        bar.setObjectName("mainToolbar")
        bar.setIconSize(QSize(18, 18))
        bar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        bar.setMovable(False)
        for action in (self.new_action, self.open_action, self.save_action):
            bar.addAction(action)
        bar.addSeparator()
        bar.addAction(self.undo_action)
        bar.addAction(self.redo_action)
        bar.addSeparator()
        bar.addAction(self.run_action)
        bar.addAction(self.cancel_action)
        self.runs_spin = QSpinBox()
        self.runs_spin.setRange(1, 64)
        self.runs_spin.setPrefix("\u00d7 ")
        self.runs_spin.setToolTip("How many runs one Run queues: each is a variation (seeds set to +1 or "
                                  "random move on after each) and its own entry in the History")
        self.runs_spin.setObjectName("runCount")
        bar.addWidget(self.runs_spin)
        bar.addSeparator()
        bar.addAction(self.draft_action)
        self.addToolBar(Qt.TopToolBarArea, bar)
        self.toolbar = bar

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        if not files:
            self.recent_menu.addAction("(none)").setEnabled(False)
        for path in files:
            self.recent_menu.addAction(Path(path).name, lambda p=path: self.open_path(p)).setToolTip(path)

    def example_files(self) -> list[Path]:
        return sorted(EXAMPLES_DIR.glob("*.weft")) if EXAMPLES_DIR.is_dir() else []

    def _fill_examples(self) -> None:
        self.examples_menu.clear()
        examples = self.example_files()
        if not examples:
            self.examples_menu.addAction("(none)").setEnabled(False)
        for path in examples:
            self.examples_menu.addAction(path.stem.replace("_", " ").capitalize(), lambda p=path: self.open_path(p))

    # -- wiring ------------------------------------------------------------------------------------------
    def _connect(self) -> None:
        doc, runner = self.document, self.runner
        doc.dirty_changed.connect(lambda dirty: self._update_title())
        doc.path_changed.connect(self._update_title)
        doc.selection_changed.connect(self._on_selection)
        doc.quality_changed.connect(self._on_quality)
        doc.project_replaced.connect(lambda: self._on_quality(doc.quality))
        doc.selection_changed.connect(self._update_run_estimate)
        doc.undo_stack.indexChanged.connect(self._update_run_estimate)
        runner.job_finished.connect(lambda job_id: self._refresh_estimates())
        self.view.status_message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.view.node_activated.connect(self._on_node_activated)
        self.view.run_node_requested.connect(lambda node_id: self.run([node_id]))
        self.view.project_dropped.connect(self.open_path)
        library = self._api(self.library)
        if hasattr(library, "node_requested") and not isinstance(library, _Missing):
            library.node_requested.connect(
                lambda type_id: self.view.add_node_at(type_id, self.view.mapToScene(
                    self.view.viewport().rect().center())))
        queue = self._api(self.queue)
        runner.job_added.connect(lambda job_id, title: queue.add_job(job_id, title))
        runner.job_updated.connect(lambda job_id, status, detail: queue.update_job(job_id, status, detail))
        runner.log.connect(self.log)
        runner.result.connect(self._on_result)
        runner.preview.connect(self._on_preview)
        runner.job_updated.connect(self._on_job_updated)
        runner.busy_changed.connect(self._on_busy)
        runner.worker_died.connect(self._on_worker_died)
        results = self._api(self.results_panel)
        if not isinstance(results, _Missing):
            results.play_requested.connect(self.play_entry)
            results.restore_requested.connect(self.restore_entry)
            results.compare_requested.connect(self.compare_entries)
            runner.job_finished.connect(lambda job_id: results.reload())
            runner.job_added.connect(lambda job_id, title: results.reload())
        if hasattr(queue, "cancel_requested") and not isinstance(queue, _Missing):
            try:
                queue.cancel_requested.connect(lambda job_id: runner.cancel(job_id))
            except (AttributeError, TypeError):
                pass

    def log(self, text: str, level: str = "info") -> None:
        self._api(self.log_panel).append(text, level)

    def _on_selection(self, ids: list) -> None:
        # Show the selected node's last result (a Save node shows what feeds it), unless the
        # viewer is pinned, or shows the live preview of the render in progress.
        if len(ids) != 1:
            return
        viewer = self._api(self.viewer)
        if getattr(viewer, "pinned", False) or (getattr(viewer, "kind", None) == "preview" and self.runner.busy):
            return
        node_id = ids[0]
        results = self.runner.results.get(node_id)
        if results is None:
            link = next((l for l in self.document.graph.incoming(node_id)), None)
            if link is not None and link.source in self.runner.results:
                node_id, results = link.source, self.runner.results[link.source]
        if results:
            self._api(self.viewer).show_result(node_id, results)

    def _on_result(self, node_id: str, results: dict) -> None:
        selected = self.document.selected_nodes()
        feeds_selected = any(l.source == node_id and l.target in selected for l in self.document.graph.links)
        media = any(r.get("kind") in MEDIA_KINDS for r in results.values()
                    if isinstance(r, dict))
        viewer = self._api(self.viewer)
        if getattr(viewer, "pinned", False):
            viewer.pinned_result(node_id, results)  # a pinned node still shows its new result
            return
        if node_id in selected or feeds_selected or (media and not selected) or \
                (getattr(viewer, "kind", None) == "preview" and getattr(viewer, "node_id", None) == node_id):
            viewer.show_result(node_id, results)

    def _on_preview(self, node_id: str, data: bytes) -> None:
        viewer = self._api(self.viewer)
        if getattr(viewer, "pinned", False) and getattr(viewer, "pinned_node", None) != node_id:
            return
        status = self.document.node_status(node_id)
        viewer.show_preview(node_id, data, step=status.step or None, total=status.total or None,
                            title=self.document.node_title(node_id))

    def _on_job_updated(self, job_id: str, status: str, detail: str) -> None:
        # A live preview left on screen by a run that ended without a result says how it ended.
        if status in ("cancelled", "failed"):
            viewer = self._api(self.viewer)
            if getattr(viewer, "kind", None) == "preview":
                viewer.end_preview("Cancelled" if status == "cancelled" else "Failed")

    def _on_quality(self, quality: str) -> None:
        if self.draft_action.isChecked() != (quality == "draft"):
            self.draft_action.blockSignals(True)
            self.draft_action.setChecked(quality == "draft")
            self.draft_action.blockSignals(False)
        self._update_run_estimate()

    def _on_node_activated(self, node_id: str) -> None:
        self.inspector_dock.show()
        self.inspector_dock.raise_()

    def _on_busy(self, busy: bool) -> None:
        self.cancel_action.setEnabled(busy)
        alive = self.runner.worker_alive
        self.engine_label.setText("engine: running" if busy else ("engine: idle" if alive else "engine: stopped"))

    def _on_worker_died(self, message: str) -> None:
        self.statusBar().showMessage(message, 15000)
        self.log_dock.show()
        self.log_dock.raise_()

    def _update_title(self) -> None:
        doc = self.document
        name = doc.path.name if doc.path else (f"{doc.name} (untitled copy)" if doc.origin else "untitled")
        tiny = f" — {TINY_NOTE}" if self.models == "tiny" else ""
        self.setWindowTitle(f"{name}[*] — Weft{tiny}")
        self.setWindowModified(doc.dirty)

    def keys_text(self) -> str:
        """Every key of the current preset (window, canvas, viewer) and the mouse gestures, as HTML."""
        keymap = self.view.keymap

        def table(actions: dict[str, str]) -> str:
            rows = "".join(f"<tr><td>{text.replace('&', '')}</td><td><b>{keymap.text(a)}</b></td></tr>"
                           for a, text in actions.items() if keymap.keys(a))
            return f"<table cellspacing=4>{rows}</table>"
        mouse = [
            ("Link", "drag from a socket to a socket (valid ones light up)"),
            ("Move or remove a link", "drag its input end elsewhere, or onto empty canvas"),
            ("Add and link a node", "drop a link on empty canvas"),
            ("Cut links", "Ctrl + right-drag across them"),
            ("Reroute dot", "Alt + click a link"),
            ("Insert a node into a link", "drag it onto the link (Alt + drag: just move)"),
            ("Select", "click, drag a box; Shift or Ctrl adds"),
            ("Pan", "middle-drag, or Space + drag"),
            ("Zoom", "wheel, at the cursor"),
            ("Add a node", "double-click empty canvas"),
            ("Rename", "double-click a title"),
            ("Run / cancel", "Ctrl+Enter / Esc"),
        ]
        rows_mouse = "".join(f"<tr><td>{a}</td><td>{b}</td></tr>" for a, b in mouse)
        return (f"<h3>Canvas keys: {PRESET_NAMES.get(keymap.preset, keymap.preset)}</h3>{table(CANVAS_ACTIONS)}"
                "<p>Canvas keys act while the canvas has focus; viewer keys while the viewer has.</p>"
                f"<h3>Viewer keys</h3>{table(VIEWER_ACTIONS)}<h3>Everywhere</h3>{table(WINDOW_ACTIONS)}"
                f"<h3>Mouse</h3><table cellspacing=4>{rows_mouse}</table>"
                "<p>With the VFX keys, a node added while one node is selected is fed from it, as in Nuke.</p>"
                "<p>Switch between the VFX and Blender keys in File ▸ Settings.</p>")

    def show_keys(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("Keys and Mouse")
        box.setTextFormat(Qt.RichText)
        box.setText(self.keys_text())
        box.open()  # not modal: it can stay open while working

    # -- running ----------------------------------------------------------------------------------------------
    def run(self, targets: list[str] | None = None, *, all_outputs: bool = False) -> str | None:
        if all_outputs:
            from engines.planner import output_nodes
            targets = output_nodes(self.document.graph)
        count = self.runs_spin.value()
        group = uuid.uuid4().hex[:12] if count > 1 else ""
        guess = self.run_estimate(targets)
        warning = ""
        if guess is not None and guess.seconds * count >= estimates.LONG_SECONDS:
            what = f"{count} runs of " if count > 1 else ""
            warning = (f"A long render: {what}{guess.text()}"
                       + (f" each, {estimates.duration_words(guess.seconds * count)} in all" if count > 1 else "")
                       + ". Draft (toolbar) or fewer steps, frames or pixels make it quicker; Esc cancels.")
        job_id = None
        doc = self.document
        moving = any(doc.seed_control(n, p) != "fixed" for n, p in doc.seed_params())
        if moving:  # the seeds' moves are one undo step, whatever the count
            doc.undo_stack.beginMacro(f"Seeds after {count} run{'s' if count > 1 else ''}")
        try:
            for i in range(count):
                queued = self.runner.run(targets, variation=i + 1 if count > 1 else 0,
                                         variations=count if count > 1 else 0, group_id=group)
                if queued is None:
                    break
                job_id = job_id or queued
                # Seeds set to +1 or random move on after each queued run (the run took a copy).
                doc.advance_seeds()
        finally:
            if moving:
                doc.undo_stack.endMacro()
        if job_id is None:
            self.statusBar().showMessage("Not run: see the log and the marked nodes", 8000)
            self.log_dock.show()
            self.log_dock.raise_()
        else:
            summary = (f"Queued {count} run{'s' if count > 1 else ''}: models {self.models} "
                       f"({self.models_words()}), {doc.quality.capitalize()}"
                       + (f", {guess.text()}" + (" each" if count > 1 else "") if guess is not None else ""))
            self.log(summary, "info")
            if warning:
                # Said as it starts, before any step ran: the artist can stop it or make it a Draft.
                self.log(warning, "warning")
            self.statusBar().showMessage(warning or summary, 12000 if warning else 4000)
            self.queue_dock.raise_()
        return job_id

    # -- the history of results ------------------------------------------------------------------------------
    def play_entry(self, entry) -> None:
        """Shows a history entry's result in the viewer, pinned to it (selection no longer moves it)."""
        viewer = self._api(self.viewer)
        results = self._entry_results(entry)
        if not results:
            where = f": {entry.outputs[0]}" if entry.outputs else ""
            self.statusBar().showMessage(f"{entry.title} has no result to play in the viewer{where}", 8000)
            return
        viewer.show_result(entry.main_node, results, title=entry.title)
        viewer.set_pinned(True, f"history: {entry.title}")
        self.viewer_dock.show()
        self.viewer_dock.raise_()
        viewer.play()

    def restore_entry(self, entry) -> None:
        """Puts a history entry's graph on the canvas (one undoable step)."""
        try:
            self.document.restore_graph(entry.project, text=f"Restore graph of {entry.title}")
        except (project_io.ProjectError, ValueError) as exc:
            self.log(f"Cannot restore {entry.title}: {exc}", "error")
            return
        self.statusBar().showMessage(f"Restored the graph of {entry.title} (Ctrl+Z puts yours back)", 8000)
        QTimer.singleShot(0, self.view.frame_all)

    def _entry_results(self, entry) -> dict:
        """What the viewer shows of a history entry: its main node's results, or (a weft batch
        job, which leaves only files) its first playable file, decoded once."""
        if entry.main_node:
            return entry.main_results
        if entry.played_file is None:
            return {}
        from app.history import file_results
        from engines.media import MediaError
        try:
            return file_results(entry.played_file)
        except (MediaError, OSError, ValueError) as exc:
            self.log(f"Cannot play {entry.played_file}: {exc}", "error")
            return {}

    def compare_entries(self, a, b) -> None:
        viewer = self._api(self.viewer)
        viewer.compare(self._entry_results(a), self._entry_results(b), title_a=a.title, title_b=b.title)
        self.viewer_dock.show()
        self.viewer_dock.raise_()

    def cancel_run(self) -> None:
        if not self.runner.cancel():
            self.statusBar().showMessage("Nothing is running", 3000)

    def restart_engine(self) -> None:
        self.runner.kill_worker()
        self.statusBar().showMessage("Engine stopped; the next run starts a new one", 6000)

    # -- files -----------------------------------------------------------------------------------------------------
    def ask_unsaved(self) -> str:
        """"save", "discard" or "cancel" (tests replace this)."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Warning)
        box.setWindowTitle("Unsaved changes")
        box.setText(f"Save the changes to {self.document.path.name if self.document.path else 'this project'}?")
        box.setInformativeText("Your changes are lost if you don't save them.")
        box.setStandardButtons(QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel)
        box.setDefaultButton(QMessageBox.Save)
        answer = box.exec()
        return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer, "cancel")

    def maybe_save(self) -> bool:
        """True when it is fine to throw the current project away."""
        if not self.document.dirty:
            return True
        answer = self.ask_unsaved()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_project(self) -> None:
        if self.maybe_save():
            self.document.new()
            self.runner.results.clear()
            self._api(self.viewer).clear()

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        start = str(self.document.path.parent) if self.document.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open project", start, "Weft projects (*.weft);;All files (*)")
        if path:
            self.open_path(path, ask=False)

    def open_path(self, path: str | Path, *, ask: bool = True) -> bool:
        """Opens a project file, or the project a render carries (as an untitled
        project); an example opens as an untitled copy, so nothing writes into
        the install folder."""
        if ask and not self.maybe_save():
            return False
        example = self.is_example(Path(path))
        try:
            opened = self.document.open_file(path, as_copy=example)
            if not opened:
                raise project_io.ProjectError(f"{path} carries no Weft project (only files Weft rendered do)")
        except project_io.ProjectError as exc:
            self.log(f"Cannot open {path}: {exc}", "error")
            if self.interactive:
                QMessageBox.critical(self, "Cannot open project", str(exc))
            else:
                print(f"weft: cannot open {path}: {exc}", file=sys.stderr)
            return False
        self.runner.results.clear()
        self._api(self.viewer).clear()
        for note in self.document.migration_notes:
            self.log(note, "info")
        if self.document.path is not None:
            self.settings.add_recent_file(path)
        if self.document.origin is not None:
            self.log(f"Opened {path} as an untitled copy: Save asks where to keep it, and renders go to "
                     "the studio's own folder", "info")
        else:
            self.log(f"Opened {path}", "info")
        QTimer.singleShot(0, self.view.frame_all)
        return True

    def is_example(self, path: Path | None) -> bool:
        if path is None:
            return False
        try:
            return Path(path).resolve().parent == EXAMPLES_DIR.resolve()
        except OSError:
            return False

    def save(self) -> bool:
        if self.document.path is None or self.is_example(self.document.path):
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        doc = self.document
        start = str(doc.path.parent / doc.path.name) if doc.path else str(Path.home() / f"{doc.name}.weft")
        if self.is_example(doc.path):
            start = str(Path.home() / doc.path.name)
        path, _ = QFileDialog.getSaveFileName(self, "Save project", start, "Weft projects (*.weft)")
        if not path:
            return False
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        if self.is_example(path):
            QMessageBox.critical(self, "Cannot save", f"{path} is one of the examples Weft ships; save your "
                                 "project somewhere else")
            return False
        try:
            saved = self.document.save(path)
        except (OSError, project_io.ProjectError) as exc:
            QMessageBox.critical(self, "Cannot save", f"{path}: {exc}")
            return False
        self.settings.add_recent_file(saved)
        self.statusBar().showMessage(f"Saved {saved}", 4000)
        return True

    # -- recovery --------------------------------------------------------------------------------------------------------
    def ask_recover(self, recovery: Recovery) -> str:
        """"recover", "discard" or "later" (tests replace this)."""
        import time
        when = time.strftime("%H:%M on %d %b", time.localtime(recovery.saved_at))
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Question)
        box.setWindowTitle("Recover unsaved work?")
        box.setText(f"Weft closed without saving {recovery.name}.")
        box.setInformativeText(f"An autosaved copy from {when} can be recovered.")
        recover = box.addButton("Recover", QMessageBox.AcceptRole)
        discard = box.addButton("Discard", QMessageBox.DestructiveRole)
        box.addButton("Later", QMessageBox.RejectRole)
        box.exec()
        clicked = box.clickedButton()
        return "recover" if clicked is recover else ("discard" if clicked is discard else "later")

    def offer_recovery(self) -> bool:
        """At start: offers the newest autosave left by a session that crashed."""
        recoveries = find_recoveries()
        if not recoveries:
            return False
        newest = recoveries[0]
        answer = self.ask_recover(newest)
        if answer == "recover":
            return self.recover(newest)
        if answer == "discard":
            newest.discard()
        return False

    def recover(self, recovery: Recovery) -> bool:
        try:
            data = recovery.read()
            self.document.load_dict(data, recovery.original, dirty=True)
        except (OSError, ValueError, project_io.ProjectError) as exc:
            self.log(f"Could not recover {recovery.project_file}: {exc}", "error")
            return False
        recovery.discard()
        if self.autosaver is not None:
            self.autosaver.save_now()  # the recovered work is this session's now
        self.log(f"Recovered {recovery.name} from the autosave", "info")
        QTimer.singleShot(0, self.view.frame_all)
        return True

    # -- settings and closing ---------------------------------------------------------------------------------------------
    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            dialog.apply()
            self.apply_settings()

    def apply_settings(self) -> None:
        self.view.set_keymap(self.settings.keymap)
        models = self.settings.get("models")
        if models and models != self.models:
            self.set_models(models)
        if self.autosaver is not None:
            self.autosaver.set_interval(self.settings.autosave_seconds)
        kwargs = self.settings.engine_kwargs()
        if kwargs != self.runner.engine_kwargs:
            self.runner.set_engine_kwargs(kwargs)

    def _restore_geometry(self) -> None:
        geometry = self.settings.q.value("window/geometry")
        state = self.settings.q.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        if self.interactive:
            self.settings.q.setValue("window/geometry", self.saveGeometry())
            self.settings.q.setValue("window/state", self.saveState())
            self.settings.sync()
        self.quit_message = ""
        if self.runner.busy:
            # Quit while rendering: say what is happening, cancel, and give the engine a
            # second to stop on its own before it is killed (the window never hangs).
            job = self.runner.current_job()
            self.quit_message = (f"Quitting: cancelling {job.title} and stopping the engine…" if job is not None
                                 else "Quitting: stopping the engine…")
            self.statusBar().showMessage(self.quit_message)
            self.engine_label.setText("engine: stopping")
            self.log(self.quit_message, "warning")
            QApplication.processEvents()
            self.runner.cancel_all()
            self.runner.shutdown(timeout=QUIT_ENGINE_SECONDS)
        else:
            self.runner.shutdown()
        if self.autosaver is not None:
            self.autosaver.stop()
            self.autosaver.discard()
        self.view.gscene.detach()
        event.accept()

    def close_without_asking(self) -> None:
        """Closes even with unsaved changes (screenshots, tests)."""
        self.ask_unsaved = lambda: "discard"
        self.close()
