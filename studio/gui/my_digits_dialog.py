"""The "My digits" dialog: browse the user's own drawings as thumbnails, see counts per digit, delete.

It shows what ``studio.core.my_digits.MyDigits`` holds on disk, re-read on every ``refresh()`` (the
files are the state). Each drawing is a 32x32 thumbnail, scaled up without smoothing so that its pixels
stay visible, labelled with its digit and file name; a digit filter narrows the list. Deleting asks for
confirmation (``confirm_deletes``) and then emits ``my_digits_changed`` so that the window can refresh
whatever trains on or counts the drawings.

Left out: adding drawings (``add_to_my_digits.ask_and_add``, called from the paint pad), editing them.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QAction, QIcon, QImage, QKeySequence, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QLabel,
                               QListView, QListWidget, QListWidgetItem, QMessageBox, QPushButton, QVBoxLayout,
                               QWidget)

from studio.core.data import DataError, Split
from studio.core.my_digits import MyDigits, empty_split

THUMBNAIL = 64
_NAME_ROLE = Qt.ItemDataRole.UserRole


def digit_pixmap(image: np.ndarray, size: int = THUMBNAIL) -> QPixmap:
    """A digit ``(1024,)`` or ``(32, 32)`` of 0/1 -> a ``size`` x ``size`` pixmap, ink black on white,
    each pixel a crisp square (no smoothing)."""
    grey = np.where(np.asarray(image).reshape(32, 32) > 0, 0, 255).astype(np.uint8)
    grey = np.ascontiguousarray(grey)
    # copy(): the QImage must own its pixels, not borrow the NumPy buffer that dies with this call
    picture = QImage(grey.data, 32, 32, 32, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(picture).scaled(size, size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                             Qt.TransformationMode.FastTransformation)


class MyDigitsDialog(QDialog):
    """Browse and delete the drawings of ``my_digits``. Signal: ``my_digits_changed()`` after a delete."""

    my_digits_changed = Signal()

    def __init__(self, my_digits: MyDigits, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("My digits")
        self._my_digits = my_digits
        self._split: Split = empty_split()
        #: Ask before deleting (tests and scripted use switch it off).
        self.confirm_deletes = True

        self.counts_label = QLabel()
        self.counts_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.setVisible(False)
        self.filter_combo = QComboBox()
        self.filter_combo.addItem("All digits", None)
        for digit in range(10):
            self.filter_combo.addItem(f"Only {digit}s", digit)
        self.filter_combo.currentIndexChanged.connect(self._on_filter_combo_current_index_changed)

        self.list_widget = QListWidget()
        self.list_widget.setViewMode(QListView.ViewMode.IconMode)
        self.list_widget.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.list_widget.setGridSize(QSize(THUMBNAIL + 36, THUMBNAIL + 34))
        self.list_widget.setResizeMode(QListView.ResizeMode.Adjust)
        self.list_widget.setMovement(QListView.Movement.Static)
        self.list_widget.setUniformItemSizes(True)
        self.list_widget.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list_widget.itemSelectionChanged.connect(self._on_list_widget_item_selection_changed)
        self.empty_label = QLabel("No drawings yet. Draw a digit on the pad and choose \"Add to my digits\".")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.delete_button = QPushButton("Delete")
        self.delete_button.setEnabled(False)
        self.delete_button.clicked.connect(self._on_delete_button_clicked)
        self.delete_action = QAction("Delete the selected drawings", self)
        self.delete_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.Delete),
                                         QKeySequence(Qt.Key.Key_Backspace)])
        self.delete_action.triggered.connect(self._on_delete_button_clicked)
        self.addAction(self.delete_action)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(self.counts_label, 1)
        top.addWidget(self.filter_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.error_label)
        layout.addWidget(self.list_widget, 1)
        layout.addWidget(self.empty_label)
        layout.addWidget(buttons)
        self.resize(560, 420)
        self.refresh()

    # -- public ---------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the drawings from disk and rebuild the view (keeps the digit filter)."""
        self.error_label.setVisible(False)
        try:
            self._split = self._my_digits.split()
        except (DataError, OSError) as error:
            self._split = empty_split()
            self._show_error(f"Some drawings cannot be read: {error}")
        counts = self._split.class_counts()
        self.counts_label.setText(f"{len(self._split)} drawings    "
                                  + "  ".join(f"{digit}: {count}" for digit, count in enumerate(counts)))
        self._fill_list()

    def names(self) -> list[str]:
        """The file names shown, in order."""
        return [self.list_widget.item(row).data(_NAME_ROLE) for row in range(self.list_widget.count())]

    def selected_names(self) -> list[str]:
        return [item.data(_NAME_ROLE) for item in self.list_widget.selectedItems()]

    def select_names(self, names: list[str]) -> None:
        wanted = set(names)
        for row in range(self.list_widget.count()):
            item = self.list_widget.item(row)
            item.setSelected(item.data(_NAME_ROLE) in wanted)

    def delete_selected(self) -> list[str]:
        """Delete the selected drawings without asking; return the names deleted. Emits
        ``my_digits_changed`` if any was."""
        deleted: list[str] = []
        problems: list[str] = []
        for name in self.selected_names():
            try:
                self._my_digits.delete(name)
            except (DataError, OSError, ValueError) as error:
                problems.append(f"Could not delete {name}: {error}")
                continue
            deleted.append(name)
        self.refresh()
        if problems:   # after refresh(), which clears the error line
            self._show_error("\n".join(problems))
        if deleted:
            self.my_digits_changed.emit()
        return deleted

    # -- internals ------------------------------------------------------------------------------------

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(True)

    def _fill_list(self) -> None:
        digit = self.filter_combo.currentData()
        self.list_widget.clear()
        for image, label, name in zip(self._split.images, self._split.labels.tolist(), self._split.names):
            if digit is not None and label != digit:
                continue
            item = QListWidgetItem(QIcon(digit_pixmap(image)), f"{label}\n{name}")
            item.setData(_NAME_ROLE, name)
            item.setToolTip(f"digit {label}, file {name}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.list_widget.addItem(item)
        empty = self.list_widget.count() == 0
        self.empty_label.setVisible(empty)
        self.empty_label.setText("No drawings yet. Draw a digit on the pad and choose \"Add to my digits\"."
                                 if len(self._split) == 0 else "No drawings of this digit.")
        self.delete_button.setEnabled(False)

    @Slot(int)
    def _on_filter_combo_current_index_changed(self, _index: int) -> None:
        self._fill_list()

    @Slot()
    def _on_list_widget_item_selection_changed(self) -> None:
        self.delete_button.setEnabled(bool(self.list_widget.selectedItems()))

    @Slot()
    def _on_delete_button_clicked(self) -> None:
        names = self.selected_names()
        if not names:
            return
        if self.confirm_deletes:
            what = names[0] if len(names) == 1 else f"these {len(names)} drawings"
            answer = QMessageBox.question(self, "Delete drawings", f"Delete {what}? This cannot be undone.")
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.delete_selected()
