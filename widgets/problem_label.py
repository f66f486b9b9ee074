"""The reason a field was refused, shown beside it: one look for every form of the console."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy


class ProblemLabel(QLabel):
    """The reason a field was refused, shown beside it in text (⚠), readable by a screen reader."""

    def __init__(self, object_name: str, what: str) -> None:
        super().__init__()
        self.setObjectName(object_name)
        self.setAccessibleName(f"{what}: problem")
        self.setWordWrap(True)
        self.setMaximumWidth(260)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        palette = self.palette()
        dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
        palette.setColor(QPalette.ColorRole.WindowText, Qt.GlobalColor.red if dark else Qt.GlobalColor.darkRed)
        self.setPalette(palette)
        self.hide()

    def show_problem(self, reason: str) -> None:
        """Show ``reason`` beside the field."""
        self.setText(f"⚠ {reason}")
        self.setAccessibleDescription(reason)
        self.setToolTip(reason)
        self.show()

    def clear_problem(self) -> None:
        """The field is fine (again)."""
        self.setText("")
        self.setAccessibleDescription("")
        self.setToolTip("")
        self.hide()

    def problem(self) -> str:
        """The reason shown now, '' when none."""
        return self.text().removeprefix("⚠ ")
