"""The end-of-shift summary window, End shift and the handover at sign-in, on a real SQLite database with qtbot."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QAbstractButton, QComboBox, QTableView
from pytestqt.qtbot import QtBot

from console.charts import zone_time
from console.domain import Role
from console.goodwill import GoodwillService
from console.shifts import ShiftService
from console.summary import SummaryService
from console.summary_export import kpi_rows
from db.engine import Database
from main import build_main_window
from tests.conftest import ROOT, make_actor
from tests.test_accessibility import INTERACTIVE, _walk
from tests.test_summary import END, T0, build_floor
from widgets.main_window import MainWindow
from widgets.shift_dialogs import EndShiftDialog, HandoverDialog
from widgets.summary_view import SummaryView


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url)
    yield database
    database.dispose()


@pytest.fixture
def open_window(qtbot: QtBot, sqlite_url: str) -> Iterator[Callable[[str], MainWindow]]:
    windows: list[MainWindow] = []

    def opener(username: str) -> MainWindow:
        window = build_main_window(sqlite_url, username)
        assert isinstance(window, MainWindow)
        windows.append(window)
        with qtbot.waitExposed(window):
            window.show()
        qtbot.waitUntil(lambda: window.queue.has_loaded and not window.runner.busy, timeout=5000)
        return window

    yield opener
    for window in windows:
        window.close()


def _texts(table: QTableView) -> list[list[str]]:
    model = table.model()
    return [[str(model.data(model.index(r, c))) for c in range(model.columnCount())] for r in range(model.rowCount())]


def _wait_shown(qtbot: QtBot, view: SummaryView, window: MainWindow) -> None:
    """Until the summary being built is shown in full (its pages are filled in a turn of the event loop each)."""
    qtbot.waitUntil(lambda: view.summary is not None and not view.filling and not window.runner.busy, timeout=20_000)


def _build(qtbot: QtBot, view: SummaryView, start: datetime, end: datetime, supervisor: str | None = None) -> None:
    view.set_range("custom", start, end)
    view.set_supervisor(supervisor)
    with qtbot.waitSignal(view.built, timeout=10_000):
        qtbot.mouseClick(view.build_button, Qt.MouseButton.LeftButton)


def test_the_view_shows_the_numbers_of_the_summary_and_of_the_json_export(
    qtbot: QtBot, db: Database, open_window: Callable[[str], MainWindow], tmp_path: Path
) -> None:
    build_floor(db)
    window = open_window("sam")
    view = window.show_summary_view()
    assert view.objectName() == "shiftSummaryView"
    _wait_shown(qtbot, view, window)  # the default range, built on opening
    progress: list[int] = []
    view.progress.valueChanged.connect(progress.append)
    _build(qtbot, view, T0, END)
    expected = SummaryService(db).build(T0, END)
    assert progress  # fed from the worker through the queued signal
    assert _texts(view.kpi_table) == [list(pair) for pair in kpi_rows(expected)]
    assert dict(_texts(view.category_table)) == {k.replace("_", " "): str(v) for k, v in expected.by_category.items()}
    assert dict(_texts(view.channel_table)) == {k.replace("_", " "): str(v) for k, v in expected.by_channel.items()}
    assert [r[0] for r in _texts(view.handover_table)] == [f"#{h.escalation_id}" for h in expected.handover]
    assert view.handover_model.rowCount() == expected.open_carried_over
    assert len(_texts(view.story_table)) == len(expected.stories)
    assert len(_texts(view.followup_table)) == len(expected.follow_ups_due)
    assert [r[0] for r in _texts(view.goodwill_table)] == [g.associate for g in expected.goodwill_by_associate]
    assert f"granted: {expected.approvals_granted}, declined: {expected.approvals_declined}" in view.approvals.text()

    out = tmp_path / "summary.json"
    with qtbot.waitSignal(view.exported, timeout=10_000):
        view.export("json", str(out))
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert exported["received"] == expected.received
    shown = dict(_texts(view.kpi_table))
    assert shown["Received"] == str(exported["received"])
    assert shown["Still open (carried over)"] == str(exported["open_carried_over"])
    assert shown["CSAT (share of 4-5)"] == f"{exported['csat'] * 100:.1f} % ({exported['csat_n']} answers)"
    assert shown["Goodwill spent"] == f"{exported['goodwill_spent']} {exported['currency']}"

    # CSV through the same button path, redacted.
    view.redact.setChecked(True)
    csv_path = tmp_path / "summary.csv"
    with qtbot.waitSignal(view.exported, timeout=10_000):
        view.export("csv", str(csv_path))
    text = csv_path.read_text(encoding="utf-8")
    assert "customer #" in text
    assert "Smith" not in text


def test_no_answers_show_na_never_zero(qtbot: QtBot, db: Database, open_window: Callable[[str], MainWindow]) -> None:
    build_floor(db)
    window = open_window("sam")
    view = window.show_summary_view()
    _wait_shown(qtbot, view, window)
    _build(qtbot, view, datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 1, 8, tzinfo=UTC))
    shown = dict(_texts(view.kpi_table))
    assert shown["CSAT (share of 4-5)"] == "n/a (0 answers)"
    assert shown["NPS"] == "n/a (0 answers)"
    assert shown["Time to claim, median"] == "n/a"
    assert shown["First-contact resolution"] == "n/a"
    assert shown["Received"] == "0"
    assert view.charts is not None
    assert view.charts.bar_count("csat") == 0  # "no data", not a bar of zeros


def test_clicking_a_bar_lists_the_escalations_behind_it(
    qtbot: QtBot, db: Database, open_window: Callable[[str], MainWindow]
) -> None:
    floor = build_floor(db)
    window = open_window("sam")
    view = window.show_summary_view()
    _wait_shown(qtbot, view, window)
    _build(qtbot, view, T0, END)
    charts = view.charts
    assert charts is not None
    summary = view.summary
    assert summary is not None
    names = list(summary.by_category)[::-1]
    index = names.index("long_wait")
    # A real click on the bar's centre (where the renderer says it is drawn).
    bar = charts.bar_box("category", index)
    centre = QPoint(round((bar.left + bar.right) / 2), round((bar.top + bar.bottom) / 2))
    with qtbot.waitSignal(view.drilled, timeout=10_000):
        qtbot.mouseClick(charts.canvas, Qt.MouseButton.LeftButton, pos=centre)
    # Long wait: B arrived before the range, H after it; only G was received in it.
    assert [view.drill_model.row_at(r).id for r in range(view.drill_model.rowCount())] == [floor.ids["G"]]
    assert view.drill_caption.text().startswith("Received, long wait: 1 escalation")

    # The CSAT bar of score 5: case A's latest answer in the range.
    with qtbot.waitSignal(view.drilled, timeout=10_000):
        view.show_bar("csat", sorted(summary.csat_distribution).index(5))
    assert [view.drill_model.row_at(r).id for r in range(view.drill_model.rowCount())] == [floor.ids["A"]]


def test_starting_the_app_does_not_import_matplotlib() -> None:
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "import main\n"
        "import widgets.app, widgets.main_window, widgets.summary_view, widgets.shift_dialogs\n"
        "print('matplotlib' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_end_shift_saves_the_note_and_the_next_supervisor_sees_the_handover_first(
    qtbot: QtBot, db: Database, open_window: Callable[[str], MainWindow]
) -> None:
    build_floor(db)
    make_actor(db, "tom")
    sam_window = open_window("sam")
    shifts = ShiftService(db)
    assert shifts.current_shift(sam_window.actor) is not None  # signing in started the shift
    dialog = sam_window.end_shift()
    assert isinstance(dialog, EndShiftDialog)
    assert not dialog.end_button.isEnabled()  # the note is required
    qtbot.keyClicks(dialog.note, "Call Customer G Smith back at 10:00")
    assert dialog.end_button.isEnabled()
    with qtbot.waitSignal(dialog.ended, timeout=10_000):
        qtbot.mouseClick(dialog.end_button, Qt.MouseButton.LeftButton)
    ended = shifts.last_ended_shift()
    assert ended is not None
    assert ended.handover_note == "Call Customer G Smith back at 10:00"
    view = sam_window.summary_view
    assert view is not None
    assert view.summary is not None
    assert "Call Customer G Smith back" in view.note.text()
    saved = ended.saved_summary()
    assert saved is not None
    assert view.summary.measures == saved.measures

    tom_window = open_window("tom")
    qtbot.waitUntil(lambda: tom_window.handover_dialog is not None, timeout=5000)
    handover = tom_window.handover_dialog
    assert isinstance(handover, HandoverDialog)
    assert handover.note.toPlainText() == "Call Customer G Smith back at 10:00"
    assert handover.model.rowCount() == len(saved.handover)
    assert "Sam" in handover.windowTitle()
    with qtbot.waitSignal(handover.acknowledged, timeout=5000):
        qtbot.mouseClick(handover.open_button, Qt.MouseButton.LeftButton)
    assert tom_window.summary_view is not None
    assert tom_window.summary_view.summary is not None
    assert tom_window.summary_view.summary.measures == saved.measures
    assert shifts.pending_handover_for(tom_window.actor) is None
    tom_window.close()

    again = open_window("tom")
    qtbot.wait(200)
    assert again.handover_dialog is None

    past = again.show_past_shifts()
    qtbot.waitUntil(lambda: past.model.rowCount() == 1, timeout=5000)
    past.open_selected()
    assert again.summary_view is not None
    assert again.summary_view.summary is not None
    assert again.summary_view.summary.measures == saved.measures


def test_every_control_of_the_summary_and_shift_dialogs_is_named_with_a_tooltip(
    qtbot: QtBot, db: Database, open_window: Callable[[str], MainWindow]
) -> None:
    build_floor(db)
    window = open_window("sam")
    view = window.show_summary_view()
    _wait_shown(qtbot, view, window)
    _build(qtbot, view, T0, END)
    dialog = window.end_shift()
    for root in (view, dialog):
        nodes = list(_walk(QAccessible.queryAccessibleInterface(root)))
        interactive = [n for n in nodes if n.role() in INTERACTIVE]
        assert len(interactive) >= 3
        unnamed = [n.object().objectName() for n in interactive if not n.text(QAccessible.Text.Name).strip()]
        assert unnamed == []
        controls = [*root.findChildren(QAbstractButton), *root.findChildren(QComboBox)]
        missing = [c.objectName() for c in controls if c.isVisibleTo(root) and not c.toolTip()]
        assert missing == []
    dialog.reject()
    names = {a.objectName(): a.toolTip() for a in window.actions()}
    assert "Ctrl+Shift+Y" in names["actionShiftSummary"]
    assert "Ctrl+Shift+E" in names["actionEndShift"]


def test_the_first_builds_charts_are_in_the_floor_zone_even_before_the_window_knows_it(
    qtbot: QtBot, db: Database, open_window: Callable[[str], MainWindow]
) -> None:
    build_floor(db)
    manager = make_actor(db, "mona", Role.MANAGER)
    GoodwillService(db).set_floor_settings(manager, reason="the floor is in Auckland", timezone="Pacific/Auckland")
    window = open_window("sam")
    view = SummaryView(db, window.runner, window)
    qtbot.addWidget(view)
    view.set_range("custom", T0, END)
    assert view.clock.zone is None
    with qtbot.waitSignal(view.built, timeout=20_000):
        view.build()  # at once: the window has not read the floor's zone yet
    qtbot.waitUntil(lambda: view.charts is not None, timeout=20_000)
    assert view.charts is not None
    assert "Pacific/Auckland" in view.charts.axis_label("flow")
    assert view.charts.tick_labels("flow")[0] == "21:00"  # 08:00 UTC on 2 March is 21:00 in Auckland


def test_the_window_charts_and_pdf_show_times_in_the_floor_zone(
    qtbot: QtBot, db: Database, open_window: Callable[[str], MainWindow], tmp_path: Path
) -> None:
    build_floor(db)
    manager = make_actor(db, "mona", Role.MANAGER)
    GoodwillService(db).set_floor_settings(manager, reason="the floor is in New York", timezone="America/New_York")
    zone = ZoneInfo("America/New_York")
    window = open_window("sam")
    view = window.show_summary_view()
    _wait_shown(qtbot, view, window)
    assert "America/New_York" in view.zone_label.text()
    _build(qtbot, view, T0, END)
    assert view.summary is not None
    assert (view.summary.start, view.summary.end) == (T0, END)  # the range editors read floor wall-clock time
    assert view.heading.text().startswith("Mon 02 Mar 03:00 – Mon 02 Mar 11:00")  # 08:00-16:00 UTC
    assert view.charts is not None
    labels = view.charts.tick_labels("flow")
    assert labels[0] == "03:00"
    assert "America/New_York" in view.charts.axis_label("flow")
    handover = view.summary.handover
    due = [r[6] for r in _texts(view.handover_table)]
    assert due == [
        f"{h.due_target} {zone_time(h.due_at, zone)}" + (" ⚠ overdue" if h.overdue else "") if h.due_at else "—"
        for h in handover
    ]
    pdf = tmp_path / "summary.pdf"
    with qtbot.waitSignal(view.exported, timeout=20_000):
        view.export("pdf", str(pdf))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Mon 02 Mar 2026, 03:00 – 11:00" in text
    assert "times in America/New_York" in text
