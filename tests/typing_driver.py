"""Run by tests/test_crash_recovery.py in a child process: open the real window and type steadily until killed.

Prints ``typed <monotonic seconds> <characters typed>`` after every keystroke, so the parent knows what was on
screen at any moment before it kills this process with SIGKILL.
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from main import build_main_window

TEXT = (
    "The customer says she was charged twice for the May bill, once on the third and again on the fifth, "
    "and the bank added an overdraft fee because of it; she has called three times already and nobody "
    "called her back as promised, so she wants the money back today and an apology in writing. "
) * 3
KEY_INTERVAL_MS = 40


def main() -> None:
    url, username, case_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    app = QApplication(sys.argv[:1])
    window = build_main_window(url, username)
    window.show()
    panel = window.workflow_panel  # type: ignore[attr-defined]
    typed = 0

    def type_one() -> None:
        nonlocal typed
        if panel.current_case() != case_id:
            return  # still resuming the case in progress
        field = panel.pages[panel.shown_step()].first_field()
        if typed == 0:
            field.setFocus()
            print("ready", flush=True)
        if typed < len(TEXT):
            QTest.keyClicks(field, TEXT[typed])
            typed += 1
            print(f"typed {time.monotonic():.3f} {typed}", flush=True)

    timer = QTimer()
    timer.timeout.connect(type_one)
    timer.start(KEY_INTERVAL_MS)
    app.exec()


if __name__ == "__main__":
    main()
