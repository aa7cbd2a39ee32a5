"""The studio's side panels: inspector, node library, viewer, queue and log.

Each panel is a plain QWidget; the main window puts them into docks.
"""

from app.ui.panels.inspector import InspectorPanel
from app.ui.panels.library import NodeLibraryPanel
from app.ui.panels.log import LogPanel
from app.ui.panels.queue import QueueModel, QueuePanel
from app.ui.panels.viewer import ViewerPanel

__all__ = ["InspectorPanel", "LogPanel", "NodeLibraryPanel", "QueueModel", "QueuePanel", "ViewerPanel"]
