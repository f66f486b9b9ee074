"""A non-modal message strip above the queue: results and refusals, never stealing the keyboard."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

MARKERS = {"info": "ℹ", "success": "✔", "warning": "⚠", "error": "⛔"}


class MessageBar(QFrame):
    """Shows one message with a text marker (ℹ, ✔, ⚠) so colour is never the only signal."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.setAccessibleName("Messages")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel()
        self.label.setObjectName("messageText")
        self.label.setAccessibleName("Message")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAccessibleName("Dismiss message")
        close.setToolTip("Dismiss this message")
        close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.kind = "info"
        self.hide()

    def show_message(self, text: str, kind: str = "info", *, timeout_ms: int = 12_000) -> None:
        """Show ``text`` (kind: info, success, warning, error); it hides itself after ``timeout_ms``."""
        self.kind = kind
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        marker = MARKERS.get(kind, "")
        self.label.setText(f"{marker} {text}".strip())
        self.label.setAccessibleDescription(text)
        self.show()
        if timeout_ms:
            self._timer.start(timeout_ms)
        else:
            self._timer.stop()

    def text(self) -> str:
        """The message shown now ('' when hidden)."""
        return self.label.text() if self.isVisible() else ""
