"""MobileFAN Live GUI (PySide6 + pyqtgraph). Only presentation lives here; all work is in core/."""
