"""The studio's window (PySide6 + pyqtgraph). It drives and displays ``studio.core``; it computes nothing."""
