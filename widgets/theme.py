"""Shared presentation of SLA states: text markers, small drawn icons, and tints readable in light and dark palettes.

Colour is never the only signal: every state also has a text marker and an icon of its own shape.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QIcon, QPainter, QPalette, QPen, QPixmap

from console.sla import ClockState

# Text markers, so that a state reads the same in a screenshot, to a screen reader and to a colour-blind eye.
WARNING_MARKER = "⚠"
BREACHED_MARKER = "⛔"
PAUSED_MARKER = "‖"
HIGH_VALUE_MARKER = "★"
CHURN_RISK_MARKER = "⚠"

# (light palette, dark palette) foreground and translucent background per state.
_FOREGROUND: dict[ClockState, tuple[str, str]] = {
    ClockState.WARNING: ("#7a4700", "#ffd58a"),
    ClockState.BREACHED: ("#a3000f", "#ffa3a3"),
}
_BACKGROUND: dict[ClockState, tuple[tuple[int, int, int, int], tuple[int, int, int, int]]] = {
    ClockState.WARNING: ((255, 183, 0, 60), (255, 183, 0, 42)),
    ClockState.BREACHED: ((229, 57, 53, 48), (239, 83, 80, 60)),
}


def palette_is_dark(palette: QPalette | None = None) -> bool:
    """Whether the palette draws light text on a dark base (so tints must be lighter, not darker)."""
    pal = palette if palette is not None else QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.Base).lightness() < 128


def state_foreground(state: ClockState, dark: bool) -> QBrush | None:
    """Text colour for a clock state, or None to keep the palette's own."""
    pair = _FOREGROUND.get(state)
    return QBrush(QColor(pair[1] if dark else pair[0])) if pair else None


def state_background(state: ClockState, dark: bool) -> QBrush | None:
    """A translucent tint for a clock state (blends with the base and the alternate row colour), or None."""
    pair = _BACKGROUND.get(state)
    return QBrush(QColor(*(pair[1] if dark else pair[0]))) if pair else None


CLOCK_STEPS = 12  # the clock icon fills in twelfths, like the hours on a dial


def clock_icon(state: ClockState, twelfths: int) -> QIcon:
    """A small dial filled as far as the target has run; its colour and shape follow the state.

    The dial adds what the text cannot show at a glance (how far through its target a case is); the state
    itself is also in the text (⚠ Due soon, ⛔ Overdue, ‖ Paused), so colour is never the only signal.
    """
    size = 16
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    dial = QRectF(1.5, 1.5, 13, 13)
    if state is ClockState.PAUSED:
        painter.setPen(QPen(QColor("#7d8590"), 1.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(dial)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#7d8590"))
        painter.drawRect(QRectF(5, 4.5, 2, 7))
        painter.drawRect(QRectF(9, 4.5, 2, 7))
    elif state is ClockState.BREACHED:  # the dial has run out: full, and red
        painter.setPen(QPen(QColor("#8e0000"), 1.2))
        painter.setBrush(QColor("#d32f2f"))
        painter.drawEllipse(dial)
    else:
        edge, fill = ("#8a5a00", "#f5a300") if state is ClockState.WARNING else ("#5f6b7a", "#7f9cc9")
        painter.setPen(QPen(QColor(edge), 1.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(dial)
        steps = max(0, min(twelfths, CLOCK_STEPS))
        if steps:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(fill))
            # Qt angles: 1/16 degree, counter-clockwise from three o'clock; a dial fills clockwise from twelve.
            painter.drawPie(dial.adjusted(1.5, 1.5, -1.5, -1.5), 90 * 16, -steps * 30 * 16)
    painter.end()
    return QIcon(pixmap)
