"""The import dialog driven with qtbot: preview, import off the GUI thread, Cancel between batches, re-run."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QLineEdit,
    QProgressBar,
    QTableWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from console.actor import Actor
from console.queue import QueueService
from db.engine import Database
from db.models import AuditEvent, Escalation, Interaction
from tests.conftest import CFPB_SAMPLE
from widgets.import_dialog import ImportDialog


def sample_rows(count: int, *, first_id: int = 70_000_000) -> tuple[list[str], list[list[str]]]:
    """The first ``count`` sample rows (cycled, with fresh complaint ids)."""
    with CFPB_SAMPLE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header, data = rows[0], rows[1:]
    id_col = header.index("Complaint ID")
    out = []
    for n in range(count):
        row = list(data[n % len(data)])
        row[id_col] = str(first_id + n)
        out.append(row)
    return header, out


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> list[int]:
    """Write the CSV; return the physical line each row starts on (the header is line 1)."""

    def render(row: list[str]) -> str:
        one = io.StringIO()
        csv.writer(one, lineterminator="\n").writerow(row)
        return one.getvalue()

    parts = [render(header)]
    starts = []
    line = 2
    for row in rows:
        starts.append(line)
        parts.append(render(row))
        line += parts[-1].count("\n")
    path.write_text("".join(parts), encoding="utf-8")
    return starts


def escalations(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(Escalation)) or 0)


def cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None
    return item.text()


def open_dialog(qtbot: QtBot, database: Database, actor: Actor | None, *, batch_size: int = 1000) -> ImportDialog:
    dialog = ImportDialog(database, actor, batch_size=batch_size)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_preview_then_import_shows_counts_and_fills_the_database(
    qtbot: QtBot, database: Database, supervisor: Actor, tmp_path: Path
) -> None:
    path = tmp_path / "complaints.csv"
    header, rows = sample_rows(40)
    response = header.index("Company response to consumer")
    rows[2][response] = "In progress"
    rows[9][header.index("Date received")] = "31/02/2019"
    bad_line = write_csv(path, header, rows)[9]
    assert bad_line > 11  # multi-line narratives come before it
    expected_open = sum(1 for i, r in enumerate(rows) if i != 9 and r[response] in ("", "In progress"))

    dialog = open_dialog(qtbot, database, supervisor)
    dialog.set_file(path)

    # The preview marks the bad row in words, not only in colour, and names its line.
    preview = dialog.preview_table
    assert preview.rowCount() == 20
    results = [cell(preview, r, 1) for r in range(preview.rowCount())]
    assert results.count("OK") == 19
    bad = next(r for r in range(preview.rowCount()) if results[r].startswith("REJECTED"))
    assert "31/02/2019" in results[bad]
    assert cell(preview, bad, 0) == str(bad_line)
    fields = [cell(dialog.mapping_table, r, 0) for r in range(dialog.mapping_table.rowCount())]
    assert {"external_ref", "channel", "category", "status"} <= set(fields)
    assert dialog.import_button.isEnabled()

    with qtbot.waitSignal(dialog.importFinished, timeout=30_000) as finished:
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    report = finished.args[0]
    assert (report.imported, report.rejected) == (39, 1)

    status = dialog.status_label.text()
    assert "Imported 39, updated 0, unchanged 0, rejected 1." in status
    rejects = tmp_path / "complaints-rejects.csv"
    assert f"saved to {rejects}" in status
    assert f"Line {bad_line}: bad date '31/02/2019'" in status
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum()
    assert not dialog.is_running
    assert dialog.close_button.isEnabled()

    assert escalations(database) == 39
    assert len(QueueService(database).open_items()) == expected_open
    with database.read() as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "import.batch")).all()
    assert [a.actor for a in audit] == [supervisor.username]
    with rejects.open(encoding="utf-8-sig", newline="") as f:
        assert [row[:2] for row in csv.reader(f)][1:] == [
            [str(bad_line), "bad date '31/02/2019' in column 'Date received' (tried YYYY-MM-DD and MM/DD/YYYY)"]
        ]


def test_cancel_keeps_whole_batches_and_importing_again_completes(
    qtbot: QtBot, database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "big.csv"
    total, batch = 5000, 200
    write_csv(path, *sample_rows(total))
    dialog = open_dialog(qtbot, database, None, batch_size=batch)
    dialog.set_file(path)

    progress: list[tuple[int, int]] = []

    def cancel_on_first(done: int, size: int) -> None:
        progress.append((done, size))
        if len(progress) == 1:
            qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)

    dialog.importProgressed.connect(cancel_on_first)
    with qtbot.waitSignal(dialog.importFinished, timeout=60_000) as finished:
        dialog.import_button.click()
        assert dialog.is_running
        assert not dialog.import_button.isEnabled()
        assert not dialog.close_button.isEnabled()
    first = finished.args[0]
    assert first.cancelled
    written = escalations(database)
    assert written == first.imported
    assert 0 < written < total
    assert written % batch == 0
    assert "Cancelled" in dialog.status_label.text()
    with database.read() as session:
        interactions = session.scalar(select(func.count()).select_from(Interaction))
    assert interactions == written

    dialog.importProgressed.disconnect(cancel_on_first)
    with qtbot.waitSignal(dialog.importFinished, timeout=60_000) as finished:
        dialog.import_button.click()
    second = finished.args[0]
    assert not second.cancelled
    assert (second.imported, second.unchanged, second.rejected) == (total - written, written, 0)
    assert escalations(database) == total
    assert f"Imported {total - written}, updated 0, unchanged {written}, rejected 0." in dialog.status_label.text()
    assert not (tmp_path / "big-rejects.csv").exists()  # nothing rejected, no file left behind


def test_every_control_is_named_and_explained_and_bad_mappings_are_shown(
    qtbot: QtBot, sqlite_url: str, tmp_path: Path
) -> None:
    database = Database(sqlite_url)
    dialog = open_dialog(qtbot, database, None)
    controls = [
        w
        for w in dialog.findChildren(QWidget)
        if isinstance(w, QAbstractButton | QLineEdit | QComboBox | QTableWidget | QProgressBar)
        and not w.objectName().startswith("qt_")  # Qt's own parts, such as a table's corner button
    ]
    assert len(controls) >= 12
    for control in controls:
        assert control.accessibleName(), control
        assert control.toolTip(), control.accessibleName()
    assert not dialog.import_button.isEnabled()  # nothing chosen yet

    path = tmp_path / "helpdesk.csv"
    path.write_text("Ticket,Customer,Subject,Created\nT-1,Ann,Charged twice,2019-02-03 10:00\n", encoding="utf-8")
    mapping = tmp_path / "helpdesk.json"
    mapping.write_text(json.dumps({"fields": {"external_ref": "Ticket", "titel": "Subject"}}), encoding="utf-8")
    dialog.set_file(path)
    assert dialog.notes_label.text().startswith("⚠ Cannot import:")  # not a CFPB export
    dialog.set_mapping_file(mapping)
    assert "unknown field 'titel'" in dialog.notes_label.text()
    assert not dialog.import_button.isEnabled()
    mapping.write_text(
        json.dumps(
            {
                "fields": {
                    "external_ref": "Ticket",
                    "customer_name": "Customer",
                    "summary": "Subject",
                    "escalated_at": "Created",
                }
            }
        ),
        encoding="utf-8",
    )
    dialog.refresh_preview()
    assert cell(dialog.preview_table, 0, 1) == "OK"
    assert dialog.import_button.isEnabled()

    # Keyboard: Ctrl+Enter imports from the field being typed in; Esc closes once it is done.
    with qtbot.waitSignal(dialog.importFinished, timeout=30_000):
        qtbot.keyClick(dialog.file_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "Imported 1," in dialog.status_label.text()
    with qtbot.waitSignal(dialog.rejected, timeout=5000):
        qtbot.keyClick(dialog.file_edit, Qt.Key.Key_Escape)
    database.dispose()
