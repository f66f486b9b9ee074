"""What a screen reader gets: Qt's accessibility tree (exported over AT-SPI on Linux) for the real window."""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtGui import QAccessible, QAccessibleInterface
from pytestqt.qtbot import QtBot

from db.engine import Database
from db.migrate import upgrade_database
from db.seed import DEMO_SUPERVISOR_USERNAME, ensure_demo_floor
from main import build_main_window
from widgets.main_window import MainWindow

INTERACTIVE = {
    QAccessible.Role.Button,
    QAccessible.Role.PushButton,
    QAccessible.Role.CheckBox,
    QAccessible.Role.ComboBox,
    QAccessible.Role.EditableText,
    QAccessible.Role.Table,
    QAccessible.Role.PageTab,
    QAccessible.Role.MenuItem,
}


def _walk(node: QAccessibleInterface | None, depth: int = 0) -> Iterator[QAccessibleInterface]:
    if node is None or not node.isValid() or depth > 20:
        return
    yield node
    if node.role() == QAccessible.Role.Table:
        return  # cells are checked separately; a full queue has thousands
    for index in range(node.childCount()):
        yield from _walk(node.child(index), depth + 1)


def _open_demo_window(qtbot: QtBot, url: str) -> MainWindow:
    database = Database(url)
    upgrade_database(database)
    ensure_demo_floor(database, seed=7)
    database.dispose()
    window = build_main_window(url, DEMO_SUPERVISOR_USERNAME)
    assert isinstance(window, MainWindow)
    qtbot.addWidget(window)
    with qtbot.waitExposed(window):
        window.show()
    qtbot.waitUntil(lambda: window.queue_view.model().rowCount() > 0, timeout=5000)
    return window


def test_every_interactive_node_has_a_name(qtbot: QtBot, sqlite_url: str) -> None:
    window = _open_demo_window(qtbot, sqlite_url)
    nodes = list(_walk(QAccessible.queryAccessibleInterface(window)))
    interactive = [n for n in nodes if n.role() in INTERACTIVE]
    assert len(interactive) > 20
    unnamed = [
        (str(n.role()), n.object().objectName() if n.object() else "")
        for n in interactive
        if not n.text(QAccessible.Text.Name).strip()
    ]
    assert unnamed == []


def test_queue_cells_read_as_sentences(qtbot: QtBot, sqlite_url: str) -> None:
    window = _open_demo_window(qtbot, sqlite_url)
    tables = [n for n in _walk(QAccessible.queryAccessibleInterface(window)) if n.role() == QAccessible.Role.Table]
    queue = next(t for t in tables if t.text(QAccessible.Text.Name) == "Escalation queue")
    children = [queue.child(i) for i in range(queue.childCount())]
    headers = [c.text(QAccessible.Text.Name) for c in children if c.role() == QAccessible.Role.ColumnHeader]
    assert headers[:3] == ["Waiting", "SLA", "Severity"]
    cells = [c.text(QAccessible.Text.Name) for c in children if c.role() == QAccessible.Role.Cell]
    sla_cells = [text for text in cells if text.startswith("SLA:")]
    assert sla_cells
    # Time left or overdue is said in words, and which target it is: never only a colour.
    assert all(("left" in t or "overdue" in t or "paused" in t.lower()) for t in sla_cells)
    assert any(t.startswith("Customer ") and "tier" in t for t in cells)
    assert any(t.startswith("Case ") for t in cells)
