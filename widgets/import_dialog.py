"""Import complaints from a file: choose it and its mapping, preview how rows map, import off the GUI thread.

The import itself is ``console.importer.run_import``, run by a child process (``console.import_process``: the
window keeps its interpreter to itself, so a big file does not make it stutter) that a worker thread here waits on;
an in-memory database, which no other process can open, is imported on the worker thread itself. The worker
reports back only through queued Qt signals, and Cancel asks the import to stop between batches (what was committed
stays; importing the same file again completes it without duplicates).
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QCloseEvent, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.actor import Actor
from console.errors import ConsoleError
from console.import_process import can_run_in_process, run_import_in_process
from console.importer import (
    DEFAULT_BATCH_SIZE,
    PREVIEW_FIELDS,
    ImportMapping,
    ImportPlan,
    ImportReport,
    describe_failure,
    load_mapping,
    preset,
    read_import,
    run_import,
)
from db.engine import Database

PROGRESS_STEPS = 1000
REASONS_SHOWN = 5
REJECT_BACKGROUND = QColor(255, 228, 225)  # a hint only: the "REJECTED" text is the marker
FIELD_LABELS = {
    "external_ref": "Ref",
    "customer_name": "Customer",
    "channel": "Channel",
    "category": "Category",
    "severity": "Severity",
    "status": "Status",
    "escalated_at": "Received",
    "product": "Product",
    "summary": "Summary",
    "outcome": "Outcome",
}


class _WorkerSignals(QObject):
    """The worker's only way back to the GUI thread: signals, delivered queued to the dialog."""

    progressed = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)


class ImportDialog(QDialog):
    """Choose an export and its mapping, preview it, import it with progress and Cancel, see the counts."""

    importProgressed = Signal(int, int)  # bytes read, file size
    importFinished = Signal(object)  # ImportReport
    importFailed = Signal(str)  # why nothing (more) was imported

    def __init__(
        self,
        database: Database,
        actor: Actor | None,
        parent: QWidget | None = None,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle("Import complaints")
        self.setAccessibleName("Import complaints")
        self._database = database
        self._actor = actor
        self._batch_size = batch_size
        self._cancel = threading.Event()
        self._worker: threading.Thread | None = None
        self._plan: ImportPlan | None = None
        self.last_report: ImportReport | None = None
        self._signals = _WorkerSignals(self)
        self._signals.progressed.connect(self._on_progress)
        self._signals.finished.connect(self._on_finished)
        self._signals.failed.connect(self._on_failed)

        # -- what to import ----------------------------------------------------------------------------------
        self.file_edit = QLineEdit()
        self.file_edit.setObjectName("importFile")
        self.file_edit.setAccessibleName("Export file")
        self.file_edit.setToolTip("The CSV or JSON Lines export to import; press Enter to preview it (Alt+F)")
        self.file_edit.setPlaceholderText("complaints.csv, complaints.jsonl …")
        self.file_edit.editingFinished.connect(self.refresh_preview)
        self.browse_button = QPushButton("&Browse…")
        self.browse_button.setAccessibleName("Browse for the export file")
        self.browse_button.setToolTip("Choose the export file (Alt+B)")
        self.browse_button.clicked.connect(self._browse_file)

        self.mapping_combo = QComboBox()
        self.mapping_combo.setObjectName("importMappingKind")
        self.mapping_combo.setAccessibleName("Mapping")
        self.mapping_combo.setToolTip("How the file's columns become escalation fields (Alt+M)")
        self.mapping_combo.addItem("CFPB complaint export (built-in preset)", "cfpb")
        self.mapping_combo.addItem("Mapping file (JSON)…", "file")
        self.mapping_combo.currentIndexChanged.connect(self._mapping_kind_changed)
        self.mapping_edit = QLineEdit()
        self.mapping_edit.setObjectName("importMappingFile")
        self.mapping_edit.setAccessibleName("Mapping file")
        self.mapping_edit.setToolTip("The mapping file for this export; press Enter to preview (Alt+G)")
        self.mapping_edit.editingFinished.connect(self.refresh_preview)
        self.mapping_browse = QPushButton("Choose mappin&g…")
        self.mapping_browse.setAccessibleName("Browse for the mapping file")
        self.mapping_browse.setToolTip("Choose the mapping file (Alt+G)")
        self.mapping_browse.clicked.connect(self._browse_mapping)

        self.dry_run_check = QCheckBox("Check only, write nothing (&dry run)")
        self.dry_run_check.setAccessibleName("Dry run")
        self.dry_run_check.setToolTip("Read and check every row and report the counts without importing (Alt+D)")
        self.rejects_check = QCheckBox("Save rejected rows &to")
        self.rejects_check.setChecked(True)
        self.rejects_check.setAccessibleName("Save rejected rows")
        self.rejects_check.setToolTip("Write every rejected row with its line and reason to a CSV file (Alt+T)")
        self.rejects_edit = QLineEdit()
        self.rejects_edit.setObjectName("importRejectsFile")
        self.rejects_edit.setAccessibleName("Rejected rows file")
        self.rejects_edit.setToolTip("Where the rejected rows go; next to the export by default (Alt+T)")
        self.rejects_check.toggled.connect(self.rejects_edit.setEnabled)

        form = QFormLayout()
        file_row = QHBoxLayout()
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(self.browse_button)
        file_label = QLabel("&File")
        file_label.setBuddy(self.file_edit)
        form.addRow(file_label, file_row)
        mapping_row = QHBoxLayout()
        mapping_row.addWidget(self.mapping_combo)
        mapping_row.addWidget(self.mapping_edit, 1)
        mapping_row.addWidget(self.mapping_browse)
        mapping_label = QLabel("&Mapping")
        mapping_label.setBuddy(self.mapping_combo)
        form.addRow(mapping_label, mapping_row)
        rejects_row = QHBoxLayout()
        rejects_row.addWidget(self.rejects_check)
        rejects_row.addWidget(self.rejects_edit, 1)
        form.addRow("", rejects_row)
        form.addRow("", self.dry_run_check)

        # -- the preview -------------------------------------------------------------------------------------
        self.mapping_table = QTableWidget(0, 3)
        self.mapping_table.setObjectName("importMappingTable")
        self.mapping_table.setAccessibleName("Column mapping")
        self.mapping_table.setToolTip("Which column of the file feeds each escalation field, and by what rule")
        self.mapping_table.setHorizontalHeaderLabels(["Field", "From column(s)", "Rule"])
        self.preview_table = QTableWidget(0, 2 + len(PREVIEW_FIELDS))
        self.preview_table.setObjectName("importPreviewTable")
        self.preview_table.setAccessibleName("Preview of the first rows as they would be imported")
        self.preview_table.setToolTip("The first rows as they would be imported; rejected rows say why")
        self.preview_table.setHorizontalHeaderLabels(
            ["Line", "Result", *(FIELD_LABELS.get(f, f) for f in PREVIEW_FIELDS)]
        )
        for table in (self.mapping_table, self.preview_table):
            table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            table.verticalHeader().hide()
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
            table.horizontalHeader().setStretchLastSection(True)
            table.setTabKeyNavigation(False)  # Tab moves on to the next control, arrows move in the table
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.mapping_table)
        splitter.addWidget(self.preview_table)
        splitter.setStretchFactor(1, 2)

        self.notes_label = QLabel("Choose an export file to see how its rows would be imported.")
        self.notes_label.setObjectName("importNotes")
        self.notes_label.setAccessibleName("File check")
        self.notes_label.setWordWrap(True)
        self.notes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # -- running it --------------------------------------------------------------------------------------
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("importProgress")
        self.progress_bar.setAccessibleName("Import progress")
        self.progress_bar.setToolTip("How much of the file has been read and written")
        self.progress_bar.setRange(0, PROGRESS_STEPS)
        self.progress_bar.setValue(0)
        self.status_label = QLabel("")
        self.status_label.setObjectName("importStatus")
        self.status_label.setAccessibleName("Import result")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.import_button = QPushButton("&Import")
        self.import_button.setObjectName("importStart")
        self.import_button.setAccessibleName("Import")
        self.import_button.setToolTip("Import the file now (Alt+I or Ctrl+Enter)")
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.start_import)
        self.cancel_button = QPushButton("&Cancel import")
        self.cancel_button.setObjectName("importCancel")
        self.cancel_button.setAccessibleName("Cancel import")
        self.cancel_button.setToolTip("Stop after the batch being written; what was written stays (Alt+C or Esc)")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_import)
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("importClose")
        self.close_button.setAccessibleName("Close")
        self.close_button.setToolTip("Close this dialog (Esc)")
        self.close_button.clicked.connect(self.reject)

        buttons = QHBoxLayout()
        buttons.addWidget(self.progress_bar, 1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.notes_label)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        self._mapping_kind_changed()
        self.resize(980, 640)
        self.file_edit.setFocus()

    # -- programmatic choices (also what the browse buttons end in) -------------------------------------------
    def set_file(self, path: Path | str) -> None:
        """Choose the export file and preview it."""
        path = Path(path)
        self.file_edit.setText(str(path))
        self.rejects_edit.setText(str(path.with_name(f"{path.stem}-rejects.csv")))
        self.refresh_preview()

    def use_preset(self, name: str) -> None:
        """Use a built-in mapping (``cfpb``)."""
        index = self.mapping_combo.findData(name)
        if index < 0:
            raise ValueError(f"no preset {name!r}")
        self.mapping_combo.setCurrentIndex(index)

    def set_mapping_file(self, path: Path | str) -> None:
        """Use a mapping file and preview with it."""
        self.mapping_edit.setText(str(path))
        self.mapping_combo.setCurrentIndex(self.mapping_combo.findData("file"))
        self.refresh_preview()

    @property
    def is_running(self) -> bool:
        """Whether an import is under way."""
        return self._worker is not None

    # -- preview ---------------------------------------------------------------------------------------------
    def _mapping(self) -> ImportMapping:
        if self.mapping_combo.currentData() == "file":
            text = self.mapping_edit.text().strip()
            if not text:
                raise ConsoleError("Choose the mapping file for this export.")
            return load_mapping(text)
        return preset(str(self.mapping_combo.currentData()))

    @Slot()
    def refresh_preview(self) -> None:
        """Read the first rows and show how they map (a few kilobytes; errors are shown, not raised)."""
        if self.is_running:
            return
        self._plan = None
        self.mapping_table.setRowCount(0)
        self.preview_table.setRowCount(0)
        path = self.file_edit.text().strip()
        if not path:
            self.notes_label.setText("Choose an export file to see how its rows would be imported.")
            self._update_buttons()
            return
        try:
            plan = read_import(path, self._mapping())
        except ConsoleError as exc:
            self.notes_label.setText(f"⚠ Cannot import: {exc}")
            self._update_buttons()
            return
        self._plan = plan
        self._show_plan(plan)
        self._update_buttons()

    def _show_plan(self, plan: ImportPlan) -> None:
        self.mapping_table.setRowCount(len(plan.bindings))
        for row, binding in enumerate(plan.bindings):
            for col, text in enumerate((binding.field, ", ".join(binding.columns) or "—", binding.rule)):
                self.mapping_table.setItem(row, col, QTableWidgetItem(text))
        self.preview_table.setRowCount(len(plan.preview))
        for row, preview in enumerate(plan.preview):
            result = f"REJECTED: {preview.reject}" if preview.reject else "OK"
            cells = [str(preview.line), result, *(preview.values.get(f, "") for f in PREVIEW_FIELDS)]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if preview.reject:
                    item.setBackground(QBrush(REJECT_BACKGROUND))
                    item.setToolTip(preview.reject)
                self.preview_table.setItem(row, col, item)
        self.mapping_table.resizeColumnsToContents()
        self.preview_table.resizeColumnsToContents()
        rejected = sum(1 for p in plan.preview if p.reject)
        kind = "JSON Lines" if plan.format == "jsonl" else "CSV"
        note = (
            f"{Path(plan.path).name}: {kind}, {len(plan.columns)} columns, mapping “{plan.mapping_name}”. "
            f"Of the first {len(plan.preview)} rows, {rejected} would be rejected."
        )
        if plan.warnings:
            note += "\n" + "\n".join(f"⚠ {w}" for w in plan.warnings)
        self.notes_label.setText(note)

    def _update_buttons(self) -> None:
        running = self.is_running
        for widget in (
            self.file_edit,
            self.browse_button,
            self.mapping_combo,
            self.dry_run_check,
            self.rejects_check,
            self.close_button,
        ):
            widget.setEnabled(not running)
        is_file = self.mapping_combo.currentData() == "file"
        self.mapping_edit.setEnabled(not running and is_file)
        self.mapping_browse.setEnabled(not running and is_file)
        self.rejects_edit.setEnabled(not running and self.rejects_check.isChecked())
        self.import_button.setEnabled(not running and self._plan is not None)
        self.cancel_button.setEnabled(running and not self._cancel.is_set())

    @Slot()
    def _mapping_kind_changed(self) -> None:
        self._update_buttons()
        if self.file_edit.text().strip():
            self.refresh_preview()

    @Slot()
    def _browse_file(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Choose the export to import", "", "Exports (*.csv *.jsonl *.ndjson *.txt);;All files (*)"
        )
        if chosen:
            self.set_file(chosen)

    @Slot()
    def _browse_mapping(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Choose the mapping file", "", "Mapping files (*.json)")
        if chosen:
            self.set_mapping_file(chosen)

    # -- running ---------------------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Ctrl+Enter imports from any field (as QDialog handles Enter and Esc: the key reaches the dialog)."""
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            if self.import_button.isEnabled():
                self.start_import()
            event.accept()
            return
        super().keyPressEvent(event)

    @Slot()
    def start_import(self) -> None:
        """Start importing the chosen file on a worker thread."""
        if self.is_running:
            return
        try:
            mapping = self._mapping()
        except ConsoleError as exc:
            self.status_label.setText(f"⚠ {exc}")
            return
        path = Path(self.file_edit.text().strip())
        rejects = self.rejects_edit.text().strip() if self.rejects_check.isChecked() else ""
        rejects_path = Path(rejects) if rejects else None
        dry_run = self.dry_run_check.isChecked()
        self._cancel = threading.Event()
        self.progress_bar.setValue(0)
        self.status_label.setText("Dry run: checking…" if dry_run else "Importing…")
        signals = self._signals
        database, actor, batch_size, cancel = self._database, self._actor, self._batch_size, self._cancel
        importer = run_import_in_process if can_run_in_process(database) else run_import

        def work() -> None:
            # Runs on the worker thread: no widget is touched here, results go back by signal only.
            try:
                report = importer(
                    database,
                    actor,
                    path,
                    mapping,
                    dry_run=dry_run,
                    rejects_path=rejects_path,
                    progress=signals.progressed.emit,
                    cancel=cancel,
                    batch_size=batch_size,
                )
                if rejects_path is not None and report.rejected == 0:
                    rejects_path.unlink(missing_ok=True)  # no clutter next to the export when nothing was rejected
                    report.rejects_path = None
            except Exception as exc:  # reported in the dialog; the worker must not die silently
                signals.failed.emit(describe_failure(exc))
            else:
                signals.finished.emit(report)

        self._worker = threading.Thread(target=work, name="complaint-import", daemon=True)
        self._update_buttons()
        self._worker.start()

    @Slot()
    def cancel_import(self) -> None:
        """Ask the running import to stop after the batch it is writing."""
        if self.is_running and not self._cancel.is_set():
            self._cancel.set()
            self.status_label.setText("Cancelling after the current batch…")
            self._update_buttons()

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        self.progress_bar.setValue(PROGRESS_STEPS * done // total if total else PROGRESS_STEPS)
        self.importProgressed.emit(done, total)

    def _worker_done(self) -> None:
        if self._worker is not None:
            self._worker.join(timeout=5)
            self._worker = None
        self._update_buttons()

    @Slot(object)
    def _on_finished(self, report: ImportReport) -> None:
        self._worker_done()
        self.last_report = report
        if not report.cancelled:
            self.progress_bar.setValue(PROGRESS_STEPS)
        self.status_label.setText(self._result_text(report))
        self.importFinished.emit(report)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._worker_done()
        self.status_label.setText(f"⚠ Nothing more was imported: {message}")
        self.importFailed.emit(message)

    @staticmethod
    def _result_text(report: ImportReport) -> str:
        counts = report.summary_line()
        lines = [counts[0].upper() + counts[1:] + "."]
        if report.dry_run:
            lines.insert(0, "Dry run — nothing was written.")
        if report.cancelled:
            lines.insert(0, "Cancelled: the batches already written stay. Import the file again to finish it.")
        if report.rejects:
            where = (
                f"All rejected rows were saved to {report.rejects_path}."
                if report.rejects_path
                else "Rejected rows were not saved (tick “Save rejected rows to”)."
            )
            lines.append(where)
            lines.extend(f"Line {r.line}: {r.reason}" for r in report.rejects[:REASONS_SHOWN])
            if report.rejected > REASONS_SHOWN:
                lines.append(f"… and {report.rejected - REASONS_SHOWN} more.")
        lines.extend(f"⚠ {w}" for w in report.warnings)
        return "\n".join(lines)

    # -- closing ---------------------------------------------------------------------------------------------
    def reject(self) -> None:
        """Esc or Close: while importing, cancel instead of closing."""
        if self.is_running:
            self.cancel_import()
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the window while importing cancels and waits for the current batch."""
        if self._worker is not None:
            self._cancel.set()
            self._worker.join()
            self._worker = None
        super().closeEvent(event)
