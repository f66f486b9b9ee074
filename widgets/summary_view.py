"""The end-of-shift summary window: choose a range, build it off the GUI thread, read the numbers and charts, export.

The summary is one ``ShiftSummary`` from ``SummaryService.build``; the tables, the charts and every export are made
from that one value, so the screen and the files agree. The charts are drawn by matplotlib in a child process
(console/summary_charts.py) and only shown here: this process loads matplotlib only for a PDF. Clicking a bar lists
the escalations behind it, from ``SummaryService.rows`` over the same range (read once per summary, off the GUI
thread).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from PySide6.QtCore import QByteArray, QDateTime, QEvent, Qt, QTimer, QTimeZone, Signal, Slot
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.accounts import AccountService
from console.charts import zone_name
from console.errors import ConsoleError
from console.goodwill import GoodwillService
from console.money import money_display
from console.shifts import ShiftService
from console.summary import (
    DEFAULT_SHIFT_LENGTH,
    AssociateGoodwill,
    EscalationRow,
    FollowUpDue,
    HandoverItem,
    ShiftSummary,
    StoryItem,
    SummaryService,
    Theme,
)
from console.summary_charts import CHART_SIZE, BarBox, ChartColors, ChartRenderer, RenderedCharts, chart_request
from console.summary_export import kpi_rows
from db.engine import Database
from db.types import utcnow
from widgets.goodwill_panel import Column, RowsModel, _button, _table
from widgets.message_bar import MessageBar
from widgets.tasks import TaskRunner

RANGE_LAST_SHIFT = "shift"
RANGE_LAST_HOURS = "hours"
RANGE_CUSTOM = "custom"
READS_GRACE_MS = 250
"""The window's own reads (supervisors, zone) start this long after it is made if it has not been painted by then."""
CHART_TITLES = {
    "flow": "arrivals vs resolutions",
    "category": "received by category",
    "goodwill": "goodwill per associate",
    "csat": "CSAT answers",
}


# --- rows ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Numbered:
    """A label/value line of a small table (KPIs, breakdowns), keyed by its position."""

    index: int
    label: str
    value: str


def _numbered(pairs: list[tuple[str, str]]) -> list[Numbered]:
    return [Numbered(i, label, value) for i, (label, value) in enumerate(pairs)]


def _label(code: str) -> str:
    return code.replace("_", " ")


class FloorClock:
    """Times as the summary shows them: wall-clock time in the floor's one time zone (the goodwill settings' zone,
    the same as the PDF), or the computer's local time until that is known."""

    def __init__(self, zone: tzinfo | None = None) -> None:
        self.zone = zone

    @property
    def name(self) -> str:
        """The zone's name, ``Europe/London`` (``local time`` until known)."""
        return zone_name(self.zone) if self.zone is not None else "local time"

    def time(self, at: datetime) -> str:
        """``Tue 01 Dec 14:05`` in the floor's zone."""
        return at.astimezone(self.zone).strftime("%a %d %b %H:%M")

    def load(self, database: Database, runner: TaskRunner, then: Callable[[], None]) -> None:
        """Read the floor's zone off the GUI thread; ``then`` redraws what shows times."""

        def loaded(zone: tzinfo) -> None:
            self.zone = zone
            then()

        runner.read(lambda: GoodwillService(database).floor_settings().zone, loaded, lambda _error: None)


def refresh_cells(model: RowsModel[Any]) -> None:
    """Redraw every cell (the rows are the same; how their times read changed)."""
    if model.rowCount():
        model.dataChanged.emit(model.index(0, 0), model.index(model.rowCount() - 1, model.columnCount() - 1))


def _state(h: HandoverItem) -> str:
    return h.status + (" (on hold)" if h.on_hold else "")  # the reason is in the next action ("Waiting on: …")


def handover_columns(clock: FloorClock) -> list[Column[HandoverItem]]:
    """The handover's columns, times in the floor's zone."""

    def due(h: HandoverItem) -> str:
        if h.due_at is None:
            return "—"
        return f"{h.due_target} {clock.time(h.due_at)}" + (" ⚠ overdue" if h.overdue else "")

    return [
        Column("Case", lambda h: f"#{h.escalation_id}", align_right=True),
        Column("Severity", lambda h: h.severity),
        Column("Customer", lambda h: h.customer_name),
        Column("State", _state),
        Column("Holder", lambda h: h.claimed_by or "unclaimed"),
        Column("Step", lambda h: _label(h.workflow_step) if h.workflow_step else "—"),
        Column("Due", due),
        Column("Next action", lambda h: h.next_action),
        Column("Summary", lambda h: h.summary),
    ]


def handover_sentence(h: HandoverItem, clock: FloorClock | None = None) -> str:
    """One open case as the next shift inherits it, as a screen reader says it."""
    clock = clock or FloorClock()
    due = f"{h.due_target} {clock.time(h.due_at)}" + (" overdue" if h.overdue else "") if h.due_at else "—"
    return (
        f"Case {h.escalation_id}, {h.severity}, {h.customer_name}, {_state(h)}, "
        f"{h.claimed_by or 'unclaimed'}; next: {h.next_action}; due: {due}"
    )


class HandoverModel(RowsModel[HandoverItem]):
    """The handover's rows (thousands on a full floor): showing the very same rows again (the same summary, redrawn
    in the floor's zone) changes nothing, so they are not compared again one by one."""

    _shown: Sequence[HandoverItem] | None = None

    def set_rows(self, rows: Sequence[HandoverItem]) -> None:
        """Show these rows (see RowsModel.set_rows); nothing to do when they are the ones shown."""
        if rows is self._shown:
            return
        self._shown = rows
        super().set_rows(rows)


def handover_table(
    name: str = "handoverTable", clock: FloorClock | None = None
) -> tuple[QTableView, RowsModel[HandoverItem]]:
    """The handover table (every open escalation with state, step, next action and due), for any window."""
    clock = clock or FloorClock()
    model: RowsModel[HandoverItem] = HandoverModel(
        handover_columns(clock), lambda h: h.escalation_id, lambda h: handover_sentence(h, clock)
    )
    table = _table(
        name, "Handover: open escalations", "Every escalation open at the end, with what to do next and when", model
    )
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table, model


def drill_columns(clock: FloorClock) -> list[Column[EscalationRow]]:
    """The columns of the escalations behind a bar."""
    return [
        Column("Case", lambda r: f"#{r.id}", align_right=True),
        Column("Customer", lambda r: r.customer_name),
        Column("Channel", lambda r: _label(r.channel)),
        Column("Category", lambda r: _label(r.category)),
        Column("Severity", lambda r: r.severity),
        Column("Status", lambda r: r.status),
        Column("Received", lambda r: clock.time(r.escalated_at)),
        Column("Resolved", lambda r: clock.time(r.resolved_at) if r.resolved_at else "—"),
        Column("Holder", lambda r: r.claimed_by or "unclaimed"),
        Column("CSAT", lambda r: "n/a" if r.csat is None else str(r.csat), align_right=True),
    ]


def _drill_sentence(r: EscalationRow) -> str:
    return f"Case {r.id}, {r.customer_name}, {_label(r.category)} by {_label(r.channel)}, {r.status}"


# --- the charts (drawn by matplotlib in a child process, console/summary_charts.py; only shown here) -------------
def chart_colors(palette: QPalette) -> ChartColors:
    """The colours of a Qt palette, so the charts read in light and dark themes."""
    role = QPalette.ColorRole
    return ChartColors(
        palette.color(role.WindowText).name(),
        palette.color(role.Mid).name(),
        palette.color(role.Window).name(),
        palette.color(role.Base).name(),
    )


class ChartCanvas(QWidget):
    """Shows a rendering's pixels as they are (nothing is drawn here) and tells which bar a click was on."""

    clicked = Signal(str, int)  # chart kind, bar index in data order
    resized = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rendered: RenderedCharts | None = None
        self._image: QImage | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_rendered(self, rendered: RenderedCharts) -> None:
        """Show these pixels (copied to the screen at the next paint)."""
        image = QImage(
            rendered.pixels, rendered.width, rendered.height, rendered.width * 4, QImage.Format.Format_RGBA8888
        )
        image.setDevicePixelRatio(rendered.ratio)
        self.rendered, self._image = rendered, image  # the image reads the rendering's bytes: both are kept
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            background = self.rendered.background if self.rendered is not None else "#ffffff"
            painter.fillRect(event.rect(), QColor(background))
            if self._image is not None:
                painter.drawImage(0, 0, self._image)
        finally:
            painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        bar = None
        if self.rendered is not None and event.button() == Qt.MouseButton.LeftButton:
            point = event.position()
            bar = self.rendered.bar_at(point.x(), point.y())
        if bar is None:
            super().mousePressEvent(event)
            return
        event.accept()
        self.clicked.emit(bar.kind, bar.index)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()


class SummaryCharts(QWidget):
    """The four charts on one canvas, coloured from the palette; a click on a bar emits ``barClicked``.

    The charts come rendered (``ChartRenderer.render``, off the GUI thread and out of its process); this widget only
    shows them. When its size changes it emits ``wantsSize`` (once the resizing settles) for the owner to render them
    again at that size.
    """

    barClicked = Signal(str, int)  # chart kind, bar index in data order (see charts.draw_chart)
    wantsSize = Signal()  # the canvas' size differs from the rendering's: render again at ``size_wanted()``

    def __init__(self, rendered: RenderedCharts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summaryCharts")
        self.setAccessibleName("Summary charts")
        self.canvas = ChartCanvas(self)
        self.canvas.setObjectName("summaryChartsCanvas")
        self.canvas.setAccessibleName("Charts: arrivals vs resolutions, by category, goodwill, CSAT")
        self.canvas.setToolTip("Click a bar to list the escalations behind it (goodwill bars: see the Goodwill tab)")
        self.canvas.setMinimumHeight(420)
        self.canvas.clicked.connect(self.barClicked)
        self.rendered = rendered
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(150)
        self._settle.timeout.connect(self._check_size)
        self.canvas.resized.connect(self._settle.start)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.show_rendered(rendered)

    def show_rendered(self, rendered: RenderedCharts) -> None:
        """Show charts rendered elsewhere: the pixels are only copied to the screen."""
        self.rendered = rendered
        self.canvas.show_rendered(rendered)
        self._settle.start()

    def size_wanted(self) -> tuple[tuple[int, int], float]:
        """The canvas' size (logical pixels) and its device pixel ratio, to render at."""
        return (self.canvas.width(), self.canvas.height()), float(self.canvas.devicePixelRatioF() or 1.0)

    def _check_size(self) -> None:
        (width, height), ratio = self.size_wanted()
        shown = (self.rendered.width, self.rendered.height)
        if width > 0 and height > 0 and shown != (round(width * ratio), round(height * ratio)):
            self.wantsSize.emit()

    def bar_count(self, kind: str) -> int:
        """How many bars a chart has (0 when it says "no data")."""
        return self.rendered.bar_counts.get(kind, 0)

    def bar_box(self, kind: str, index: int) -> BarBox:
        """Where a bar is on the canvas (logical pixels)."""
        return next(b for b in self.rendered.bars if (b.kind, b.index) == (kind, index))

    def tick_labels(self, kind: str) -> tuple[str, ...]:
        """A chart's x axis tick labels, as drawn."""
        return self.rendered.tick_labels.get(kind, ())

    def axis_label(self, kind: str) -> str:
        """A chart's x axis label, as drawn."""
        return self.rendered.axis_labels.get(kind, "")


# --- the view -----------------------------------------------------------------------------------------------------
class SummaryView(QWidget):
    """The end-of-shift summary window (objectName ``shiftSummaryView``), a window of its own beside the console."""

    built = Signal(object)  # the ShiftSummary now shown
    drilled = Signal(str)  # the drill-down's caption, once its rows are shown
    exported = Signal(str)  # the path written
    _progressed = Signal(float, str)  # emitted from the worker thread; delivered queued on the GUI thread

    def __init__(self, database: Database, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("shiftSummaryView")
        self.setAccessibleName("Shift summary")
        self.setWindowTitle("Shift summary — Supervisor Console")
        self.service = SummaryService(database)
        self.renderer = ChartRenderer()
        self.destroyed.connect(self.renderer.close)  # the child process ends with the window
        self.shifts = ShiftService(database)
        self.accounts = AccountService(database)
        self.runner = runner
        self.summary: ShiftSummary | None = None
        self.charts: SummaryCharts | None = None
        self._charts_for: object = None  # the request whose charts are wanted; older renderings are dropped
        self._painted = False  # the window has been painted once
        self._after_paint: Callable[[], None] | None = None  # the build to start once it has
        self._builds = 0  # numbers the builds: only the latest one's result is shown
        self._renders = 0  # numbers the summaries shown: the pages are filled in for the latest one only
        self._filling = False
        self._rows: list[EscalationRow] | None = None
        self._rows_for: tuple[datetime, datetime, str | None] | None = None
        self._progressed.connect(self._on_progress)
        self.clock = FloorClock()
        self._shown: tuple[str | None, str | None] = (None, None)  # the title and note of the summary shown

        self.messages = MessageBar()
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_chooser())
        self.progress = QProgressBar()
        self.progress.setObjectName("summaryProgress")
        self.progress.setAccessibleName("Summary progress")
        self.progress.setToolTip("How far the summary has got")
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(True)
        self.progress.hide()
        layout.addWidget(self.progress)
        layout.addWidget(self.messages)
        self.heading = QLabel("Choose a range and build the summary.")
        self.heading.setObjectName("summaryHeading")
        self.heading.setAccessibleName("Summary range")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.heading.setFont(font)
        layout.addWidget(self.heading)
        self.zone_label = QLabel("Times in local time.")
        self.zone_label.setObjectName("summaryTimeZone")
        self.zone_label.setAccessibleName("Time zone of the times shown")
        self.zone_label.setToolTip("Every time in this window, the charts and the PDF is in the floor's time zone")
        layout.addWidget(self.zone_label)
        self.note = QLabel()
        self.note.setObjectName("summaryHandoverNote")
        self.note.setAccessibleName("Handover note")
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.hide()
        layout.addWidget(self.note)
        self.pages = QTabWidget()
        self.pages.setObjectName("summaryPages")
        self.pages.setAccessibleName("Summary pages")
        self.pages.tabBar().setAccessibleName("Summary pages")
        layout.addWidget(self.pages, 1)
        self._build_overview()
        # The other pages get their tabs now and their tables once the window has been painted, one page per turn of
        # the event loop (or at once when something needs them): opening the window stays a short wait.
        self._unbuilt_pages: list[tuple[Callable[[QWidget], None], QWidget]] = []
        for title, name, tip, fill in (
            ("&Breakdowns && goodwill", "summaryBreakdowns",
             "By category and channel, rising themes, goodwill against budget", self._build_breakdowns),
            ("&Stories && follow-ups", "summaryStoriesPage",
             "Wins and woes, and the follow-ups the next shift must make", self._build_stories),
            ("&Handover", "summaryHandoverPage",
             "Every escalation open at the end, with its state, step, next action and due time", self._build_handover),
        ):  # fmt: skip
            page = QWidget()
            page.setObjectName(name)
            self.pages.setTabToolTip(self.pages.addTab(page, title), tip)
            self._unbuilt_pages.append((fill, page))
        self.pages.currentChanged.connect(self._ensure_pages)
        layout.addLayout(self._build_exports())
        self._range_kind_changed()
        # The supervisors and the floor's zone are read once the window has been painted and its pages made (see
        # event()), or after a moment if it is never shown: reads on the worker would slow the opening down.
        self._database = database
        self._reads_started = False
        QTimer.singleShot(READS_GRACE_MS, self._start_reads)
        self.resize(1280, 860)

    # -- building ------------------------------------------------------------------------------------------------
    def _build_chooser(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.range_kind = QComboBox()
        self.range_kind.setObjectName("summaryRangeKind")
        self.range_kind.setAccessibleName("Range")
        self.range_kind.setToolTip("Which time range to summarise")
        self.range_kind.addItem("Last ended shift", RANGE_LAST_SHIFT)
        self.range_kind.addItem("Last 8 hours", RANGE_LAST_HOURS)
        self.range_kind.addItem("Custom range", RANGE_CUSTOM)
        self.range_kind.currentIndexChanged.connect(self._range_kind_changed)
        now = QDateTime.currentDateTime()
        self.range_from = self._date_edit("summaryFrom", "From", "Start of the custom range (floor time)", now)
        self.range_from.setDateTime(now.addSecs(-8 * 3600))
        self.range_to = self._date_edit("summaryTo", "To", "End of the custom range (floor time)", now)
        self.supervisor = QComboBox()
        self.supervisor.setObjectName("summarySupervisor")
        self.supervisor.setAccessibleName("Supervisor")
        self.supervisor.setToolTip("The whole floor, or only the escalations one supervisor holds")
        self.supervisor.addItem("Whole floor", None)
        self.build_button = _button("&Build summary", "summaryBuild", "Build summary", "Build the summary of the range")
        self.build_button.setDefault(True)
        self.build_button.clicked.connect(self.build)
        for text, widget in (
            ("&Range:", self.range_kind),
            ("From:", self.range_from),
            ("To:", self.range_to),
            ("Su&pervisor:", self.supervisor),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            row.addWidget(label)
            row.addWidget(widget)
        row.addWidget(self.build_button)
        row.addStretch(1)
        return row

    @staticmethod
    def _date_edit(name: str, accessible: str, tip: str, value: QDateTime) -> QDateTimeEdit:
        edit = QDateTimeEdit(value)
        edit.setObjectName(name)
        edit.setAccessibleName(accessible)
        edit.setToolTip(tip)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        return edit

    def _build_overview(self) -> None:
        page = QWidget()
        page.setObjectName("summaryOverview")
        layout = QHBoxLayout(page)
        self.kpi_model: RowsModel[Numbered] = RowsModel(
            [Column("Measure", lambda k: k.label), Column("Value", lambda k: k.value, align_right=True)],
            lambda k: k.index,
            lambda k: f"{k.label}: {k.value}",
        )
        self.kpi_table = _table("summaryKpis", "Measures", "The shift's counts and measures; n/a: nothing to measure",
                                self.kpi_model)  # fmt: skip
        self.kpi_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.kpi_table.horizontalHeader().setStretchLastSection(True)
        self.kpi_table.setMinimumWidth(380)
        self.kpi_table.setMaximumWidth(460)
        layout.addWidget(self.kpi_table)
        right = QSplitter(Qt.Orientation.Vertical)
        right.setObjectName("summaryChartsSplitter")
        self.charts_holder = QWidget()
        self.charts_holder.setObjectName("summaryChartsHolder")
        self.charts_layout = QVBoxLayout(self.charts_holder)
        self.charts_layout.setContentsMargins(0, 0, 0, 0)
        # Holds the charts' place (and size: they are rendered at it off the GUI thread) until they are drawn.
        self.charts_placeholder = QWidget()
        self.charts_placeholder.setObjectName("summaryChartsPlaceholder")
        self.charts_placeholder.setMinimumHeight(420)
        self.charts_layout.addWidget(self.charts_placeholder)
        drill = QWidget()
        drill_layout = QVBoxLayout(drill)
        drill_layout.setContentsMargins(0, 0, 0, 0)
        self.drill_caption = QLabel("Click a bar to list the escalations behind it.")
        self.drill_caption.setObjectName("summaryDrillCaption")
        self.drill_caption.setAccessibleName("Escalations behind the bar")
        self.drill_model: RowsModel[EscalationRow] = RowsModel(
            drill_columns(self.clock), lambda r: r.id, _drill_sentence
        )
        self.drill_table = _table(
            "summaryDrill", "Escalations behind the bar", "The escalations behind the bar clicked", self.drill_model
        )
        self.drill_table.horizontalHeader().setStretchLastSection(True)
        self.drill_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        drill_layout.addWidget(self.drill_caption)
        drill_layout.addWidget(self.drill_table, 1)
        right.addWidget(self.charts_holder)
        right.addWidget(drill)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)
        layout.addWidget(right, 1)
        self.pages.addTab(page, "&Overview")
        self.pages.setTabToolTip(0, "Measures, charts and the escalations behind a bar")

    def _small_table(self, name: str, accessible: str, tip: str, first: str, second: str) -> tuple[QTableView, Any]:
        model: RowsModel[Numbered] = RowsModel(
            [Column(first, lambda k: k.label), Column(second, lambda k: k.value, align_right=True)],
            lambda k: k.index,
            lambda k: f"{k.label}: {k.value}",
        )
        table = _table(name, accessible, tip, model)
        table.horizontalHeader().setStretchLastSection(True)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        return table, model

    @staticmethod
    def _titled(title: str, widget: QWidget) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel(f"<b>{title}</b>")
        label.setBuddy(widget)
        layout.addWidget(label)
        layout.addWidget(widget, 1)
        return box

    def _ensure_pages(self) -> None:
        """Fill in every page not filled in yet."""
        while self._unbuilt_pages:
            fill, page = self._unbuilt_pages.pop(0)
            fill(page)

    def _build_next_page(self) -> None:
        """One more page, in this turn of the event loop; once all are built, the build waiting for them."""
        if self._unbuilt_pages:
            fill, page = self._unbuilt_pages.pop(0)
            fill(page)
            QTimer.singleShot(0, self._build_next_page)
        else:
            self._start_after_paint()

    def _build_breakdowns(self, page: QWidget) -> None:
        grid = QGridLayout(page)
        self.category_table, self.category_model = self._small_table(
            "summaryByCategory", "Received by category", "Escalations received, by category", "Category", "Received"
        )
        self.channel_table, self.channel_model = self._small_table(
            "summaryByChannel", "Received by channel", "Escalations received, by channel", "Channel", "Received"
        )
        self.theme_model: RowsModel[Theme] = RowsModel(
            [
                Column("Kind", lambda t: t.kind),
                Column("Name", lambda t: _label(t.name)),
                Column("This range", lambda t: str(t.count), align_right=True),
                Column("Before", lambda t: str(t.previous), align_right=True),
                Column("Rise", lambda t: f"+{t.rise}", align_right=True),
            ],
            lambda t: hash((t.kind, t.name)),
            lambda t: f"{t.kind} {_label(t.name)} rose from {t.previous} to {t.count}",
        )
        self.theme_table = _table(
            "summaryThemes",
            "Recurring themes",
            "Categories and products that rose most against the previous range of the same length",
            self.theme_model,
        )
        self.theme_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.goodwill_model: RowsModel[AssociateGoodwill] = RowsModel(
            [
                Column("Associate", lambda g: g.associate),
                Column("Spent in range", lambda g: money_display(g.spent_in_range), align_right=True),
                Column("Spent this period", lambda g: money_display(g.period_spent), align_right=True),
                Column("Budget", lambda g: f"{money_display(g.allowance)} per {g.period}", align_right=True),
                Column("Remaining", lambda g: money_display(g.remaining), align_right=True),
            ],
            lambda g: g.associate_id,
            lambda g: (
                f"{g.associate} gave {money_display(g.spent_in_range)} in the range; "
                f"{money_display(g.period_spent)} of {money_display(g.allowance)} this {g.period}"
            ),
        )
        self.goodwill_table = _table(
            "summaryGoodwill", "Goodwill per associate", "Goodwill spent against each associate's budget",
            self.goodwill_model,
        )  # fmt: skip
        self.goodwill_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.goodwill_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.approvals = QLabel()
        self.approvals.setObjectName("summaryApprovals")
        self.approvals.setAccessibleName("Approvals granted and declined")
        grid.addWidget(self._titled("By category", self.category_table), 0, 0)
        grid.addWidget(self._titled("By channel", self.channel_table), 0, 1)
        grid.addWidget(self._titled("Recurring themes (rise against the previous range)", self.theme_table), 0, 2)
        goodwill = self._titled("Goodwill spent vs budget", self.goodwill_table)
        goodwill_layout = goodwill.layout()
        assert goodwill_layout is not None
        goodwill_layout.addWidget(self.approvals)
        grid.addWidget(goodwill, 1, 0, 1, 3)

    def _build_stories(self, page: QWidget) -> None:
        layout = QVBoxLayout(page)
        self.story_model: RowsModel[StoryItem] = RowsModel(
            [
                Column("", lambda s: "★ win" if s.kind == "win" else "☹ woe"),
                Column("Case", lambda s: f"#{s.escalation_id}", align_right=True),
                Column("Customer", lambda s: s.customer_name),
                Column("When", lambda s: self.clock.time(s.at)),
                Column("By", lambda s: s.author or "—"),
                Column("Story", lambda s: s.text),
            ],
            lambda s: s.escalation_id,
            lambda s: f"{s.kind} on case {s.escalation_id}: {s.text}",
        )
        self.story_table = _table("summaryStories", "Stories", "Cases marked as a win or a woe", self.story_model)
        self.story_table.horizontalHeader().setStretchLastSection(True)
        self.story_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.followup_model: RowsModel[FollowUpDue] = RowsModel(
            [
                Column("Due", lambda f: self.clock.time(f.due_at)),
                Column("Case", lambda f: f"#{f.escalation_id}", align_right=True),
                Column("Customer", lambda f: f.customer_name),
                Column("Channel", lambda f: f.channel or "—"),
                Column("Holder", lambda f: f.claimed_by or "unclaimed"),
            ],
            lambda f: f.follow_up_id,
            lambda f: f"Follow up case {f.escalation_id} with {f.customer_name} by {self.clock.time(f.due_at)}",
        )
        self.followup_table = _table(
            "summaryFollowUpsDue", "Follow-ups due in the next shift", "Follow-ups falling due in the next shift",
            self.followup_model,
        )  # fmt: skip
        self.followup_table.horizontalHeader().setStretchLastSection(True)
        self.followup_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self._titled("Stories for the huddle", self.story_table), 1)
        layout.addWidget(self._titled("Follow-ups due in the next shift", self.followup_table), 1)

    def _build_handover(self, page: QWidget) -> None:
        self.handover_table, self.handover_model = handover_table(clock=self.clock)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.handover_table)

    def _build_exports(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.redact = QCheckBox("Redact &customer names")
        self.redact.setObjectName("summaryRedact")
        self.redact.setAccessibleName("Redact customer names")
        self.redact.setToolTip("Replace customer names with their ids in every export")
        row.addWidget(self.redact)
        row.addStretch(1)
        self.export_buttons: dict[str, QPushButton] = {}
        for kind, text, tip in (
            ("pdf", "P&DF…", "Save a print-ready PDF with the charts and tables"),
            ("csv", "CS&V…", "Save one row per escalation in the range"),
            ("json", "&JSON…", "Save the measures as JSON"),
        ):
            button = _button(text, f"summaryExport{kind.title()}", f"Export {kind.upper()}", tip)
            button.setEnabled(False)
            button.clicked.connect(lambda _checked=False, k=kind: self._choose_export(k))
            self.export_buttons[kind] = button
            row.addWidget(button)
        return row

    # -- the range -----------------------------------------------------------------------------------------------
    def _range_kind_changed(self) -> None:
        custom = self.range_kind.currentData() == RANGE_CUSTOM
        self.range_from.setEnabled(custom)
        self.range_to.setEnabled(custom)

    def _start_reads(self) -> None:
        """Read the supervisors (the chooser) and the floor's zone (every time shown), once."""
        if self._reads_started:
            return
        self._reads_started = True
        self._load_supervisors()
        self.clock.load(self._database, self.runner, self._zone_loaded)

    def _load_supervisors(self) -> None:
        def show(users: list[Any]) -> None:
            for user in users:
                self.supervisor.addItem(f"{user.display_name} ({user.username})", user.username)

        self.runner.read(self.accounts.list_users, show, self._failed)

    def set_range(self, kind: str, start: datetime | None = None, end: datetime | None = None) -> None:
        """Choose the range (``shift``, ``hours`` or ``custom`` with aware ``start``/``end``)."""
        self.range_kind.setCurrentIndex(self.range_kind.findData(kind))
        if start is not None:
            self.range_from.setDateTime(QDateTime.fromSecsSinceEpoch(int(start.timestamp()), self._qzone()))
        if end is not None:
            self.range_to.setDateTime(QDateTime.fromSecsSinceEpoch(int(end.timestamp()), self._qzone()))

    def set_supervisor(self, username: str | None) -> None:
        """Summarise one supervisor (username), or the whole floor (None)."""
        index = self.supervisor.findData(username)
        if index < 0 and username is not None:
            self.supervisor.addItem(username, username)
            index = self.supervisor.count() - 1
        self.supervisor.setCurrentIndex(max(0, index))

    def _custom_range(self) -> tuple[datetime, datetime]:
        # The editors show wall-clock time in the floor's zone (QDateTimeEdit.setTimeZone); the service takes UTC.
        start = datetime.fromtimestamp(self.range_from.dateTime().toSecsSinceEpoch(), UTC)
        end = datetime.fromtimestamp(self.range_to.dateTime().toSecsSinceEpoch(), UTC)
        return start, end

    def _qzone(self) -> QTimeZone:
        if self.clock.zone is None:
            return QTimeZone.systemTimeZone()
        zone = QTimeZone(QByteArray(self.clock.name.encode()))
        return zone if zone.isValid() else QTimeZone.systemTimeZone()

    def _zone_loaded(self) -> None:
        """The floor's zone is known: the range editors, the times and the charts use it."""
        self.zone_label.setText(f"Times in {self.clock.name} (the floor's time zone), as in the PDF.")
        zone = self._qzone()
        for edit in (self.range_from, self.range_to):
            moment = edit.dateTime().toSecsSinceEpoch()
            edit.setTimeZone(zone)
            edit.setDateTime(QDateTime.fromSecsSinceEpoch(moment, zone))
        if self.summary is not None:
            title, note = self._shown
            self._render(self.summary, title, note)  # the same summary in the floor's times: not a new one
        for name in ("story_model", "followup_model", "handover_model", "drill_model"):
            model = getattr(self, name, None)  # the pages not filled in yet read the zone when they are
            if model is not None:
                refresh_cells(model)

    # -- building the summary --------------------------------------------------------------------------------------
    def build(self) -> None:
        """Build the summary of the chosen range off the GUI thread, with progress."""
        kind = self.range_kind.currentData()
        supervisor = self.supervisor.currentData()
        custom = self._custom_range() if kind == RANGE_CUSTOM else None
        service, shifts, report, renderer = self.service, self.shifts, self._progressed.emit, self.renderer
        database, known_zone = self._database, self.clock.zone

        def job() -> tuple[ShiftSummary, RenderedCharts]:
            renderer.start()
            # The charts' times in the floor's zone, read here if the window has not learnt it yet.
            zone = known_zone if known_zone is not None else GoodwillService(database).floor_settings().zone
            if custom is not None:
                start, end = custom
            else:
                last = shifts.last_ended_shift() if kind == RANGE_LAST_SHIFT else None
                if last is not None and last.ended_at is not None:
                    start, end = last.started_at, last.ended_at
                else:  # no shift has ended yet: the last 8 hours, as the CLI's default
                    end = utcnow()
                    start = end - DEFAULT_SHIFT_LENGTH
            summary = service.build(start, end, supervisor=supervisor, progress=report)
            # The charts are drawn in the renderer's child process (started first: it loads matplotlib meanwhile).
            return summary, renderer.render(chart_request(summary, zone, colors, size, ratio))

        colors = chart_colors(self.palette())
        size, ratio = self._chart_size()
        self._charts_for = None
        self.build_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.setFormat("Starting…")
        self.progress.show()

        self._builds += 1
        number = self._builds

        def start() -> None:
            # A build overtaken by a newer one (the default range, still running when another is asked for) is
            # dropped when it ends, so the screen never shows an older range than the one chosen last.
            self.runner.read(
                job,
                lambda result: self._built(result) if number == self._builds else None,
                lambda error: self._build_failed(error) if number == self._builds else None,
            )

        if self.isVisible() and not self._painted:
            # Just opened: let the window paint first. Painting calls back into Python many times, and each call
            # would wait for the interpreter lock behind the busy worker.
            self._after_paint = start
            QTimer.singleShot(250, self._start_after_paint)  # in case no paint comes
        else:
            self._after_paint = None  # this build replaces one still waiting for the paint
            self._start_reads()
            start()

    def event(self, event: QEvent) -> bool:
        """Notes the window's first paint (see build and the pages in __init__)."""
        handled = super().event(event)
        if event.type() == QEvent.Type.UpdateRequest and not self._painted:
            self._painted = True
            # The other pages first, a turn each, then the reads and the build: making widgets and laying them out
            # calls back into Python all the time, and each call would wait for the interpreter lock behind a busy
            # worker.
            QTimer.singleShot(0, self._build_next_page)
        return handled

    def _start_after_paint(self) -> None:
        start, self._after_paint = self._after_paint, None
        self._painted = True
        self._start_reads()
        if start is not None:
            start()

    @Slot(float, str)
    def _on_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(round(fraction * 100))
        self.progress.setFormat(f"{text} — %p%")

    def _built(self, result: tuple[ShiftSummary, RenderedCharts]) -> None:
        self.build_button.setEnabled(True)
        self.progress.hide()
        summary, charts = result
        self._show(summary, None, None, charts)

    def _build_failed(self, error: BaseException) -> None:
        self.build_button.setEnabled(True)
        self.progress.hide()
        self._failed(error)

    def _failed(self, error: BaseException) -> None:
        if not isinstance(error, ConsoleError):
            raise error
        self.messages.show_message(str(error), "error")

    def show_summary(self, summary: ShiftSummary, *, title: str | None = None, note: str | None = None) -> None:
        """Show a summary (built just now, or a shift's saved one); ``note`` is the shift's handover note.

        The charts follow a moment later: they are drawn off the GUI thread."""
        self._show(summary, title, note, None)

    def _show(self, summary: ShiftSummary, title: str | None, note: str | None, charts: RenderedCharts | None) -> None:
        self._render(summary, title, note, charts, then=lambda: self.built.emit(summary))

    def _render(
        self,
        summary: ShiftSummary,
        title: str | None,
        note: str | None,
        charts: RenderedCharts | None = None,
        then: Callable[[], None] | None = None,
    ) -> None:
        """Show ``summary``: the heading, measures and charts now, the other pages' tables in the next turns of the
        event loop (a page a turn, so that the window keeps answering), then ``then()``. A newer summary shown
        meanwhile stops the rest."""
        self._renders += 1
        number = self._renders
        stages = [self._render_breakdowns, self._render_stories, self._render_handover]

        def next_stage() -> None:
            if number != self._renders:
                return  # overtaken: the newer one fills the pages
            if stages:
                stages.pop(0)(summary)
                QTimer.singleShot(0, next_stage)
                return
            self._filling = False
            if then is not None:
                then()

        self._filling = True
        self._render_overview(summary, title, note, charts)
        QTimer.singleShot(0, next_stage)

    @property
    def filling(self) -> bool:
        """Whether the pages of the summary shown are still being filled in (``built`` is emitted once they are)."""
        return self._filling

    def _render_overview(
        self, summary: ShiftSummary, title: str | None, note: str | None, charts: RenderedCharts | None
    ) -> None:
        self.summary = summary
        self._rows = None
        who = f"{summary.supervisor}'s escalations" if summary.supervisor else "Whole floor"
        self._shown = (title, note)
        if self.range_kind.currentData() != RANGE_CUSTOM:
            # The boxes show the range on screen; a range being chosen by hand is never overwritten by a result
            # (or a redraw in the floor's zone) arriving meanwhile.
            for edit, moment in ((self.range_from, summary.start), (self.range_to, summary.end)):
                edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(moment.timestamp()), self._qzone()))
        span = f"{self.clock.time(summary.start)} – {self.clock.time(summary.end)}"
        self.heading.setText(f"{title + ': ' if title else ''}{span}, {who}")
        self.note.setText(f"<b>Handover note:</b> {_escape(note)}" if note else "")
        self.note.setVisible(bool(note))
        self.kpi_model.set_rows(_numbered(kpi_rows(summary)))
        self.drill_model.set_rows([])
        self.drill_caption.setText("Click a bar to list the escalations behind it.")
        if charts is not None:
            self._charts_for = None
            self._show_charts(charts)
        else:
            self._redraw_charts()
        for button in self.export_buttons.values():
            button.setEnabled(True)

    def _render_breakdowns(self, summary: ShiftSummary) -> None:
        self._ensure_pages()
        self.category_model.set_rows(_numbered([(_label(k), str(v)) for k, v in summary.by_category.items()]))
        self.channel_model.set_rows(_numbered([(_label(k), str(v)) for k, v in summary.by_channel.items()]))
        self.theme_model.set_rows(summary.themes)
        self.goodwill_model.set_rows(summary.goodwill_by_associate)
        self.approvals.setText(
            f"Approvals granted: {summary.approvals_granted}, declined: {summary.approvals_declined}. "
            f"Goodwill spent in the range: {money_display(summary.goodwill_spent, summary.currency)}."
        )

    def _render_stories(self, summary: ShiftSummary) -> None:
        self._ensure_pages()
        self.story_model.set_rows(summary.stories)
        self.followup_model.set_rows(summary.follow_ups_due)

    def _render_handover(self, summary: ShiftSummary) -> None:
        self._ensure_pages()
        self.handover_model.set_rows(summary.handover)
        self.pages.setTabText(3, f"&Handover ({len(summary.handover)} open)")

    # -- the charts: drawn off the GUI thread, shown on it ---------------------------------------------------------
    def _chart_size(self) -> tuple[tuple[int, int], float]:
        if self.charts is not None:
            return self.charts.size_wanted()
        place, ratio = self.charts_placeholder, float(self.devicePixelRatioF() or 1.0)
        if place.width() > 100 and place.height() > 100:
            return (place.width(), place.height()), ratio
        return CHART_SIZE, ratio

    def _redraw_charts(self) -> None:
        """Draw the charts of the summary shown again (another size, zone or summary), off the GUI thread."""
        summary = self.summary
        if summary is None:
            return
        zone, colors = self.clock.zone, chart_colors(self.palette())
        size, ratio = self._chart_size()
        request = self._charts_for = object()
        renderer = self.renderer

        def done(rendered: RenderedCharts) -> None:
            if request is self._charts_for and self.summary is summary:
                self._show_charts(rendered)

        self.runner.read(lambda: renderer.render(chart_request(summary, zone, colors, size, ratio)), done, self._failed)

    def _show_charts(self, rendered: RenderedCharts) -> None:
        if self.charts is None:
            self.charts = SummaryCharts(rendered, self.charts_holder)
            self.charts.barClicked.connect(self.show_bar)
            self.charts.wantsSize.connect(self._redraw_charts)
            self.charts_layout.replaceWidget(self.charts_placeholder, self.charts)
            self.charts_placeholder.hide()
        else:
            self.charts.show_rendered(rendered)

    # -- the escalations behind a bar ----------------------------------------------------------------------------------
    def show_bar(self, kind: str, index: int) -> None:
        """List the escalations behind bar ``index`` of chart ``kind`` (the order of charts.draw_chart)."""
        summary = self.summary
        if summary is None:
            return
        found = _bar_filter(summary, kind, index, self.clock)
        if found is None:
            self.drill_model.set_rows([])
            self.drill_caption.setText(
                "Goodwill is per associate, not per escalation: see the associate's ledger in the Goodwill tab."
            )
            self.drilled.emit(self.drill_caption.text())
            return
        caption, keep = found
        wanted = (summary.start, summary.end, summary.supervisor)

        def show(rows: list[EscalationRow]) -> None:
            self._rows, self._rows_for = rows, wanted
            if self.summary is not summary:
                return
            chosen = [r for r in rows if keep(r)]
            self.drill_model.set_rows(chosen)
            self.drill_caption.setText(f"{caption}: {len(chosen)} escalation{'s' if len(chosen) != 1 else ''}")
            self.drilled.emit(self.drill_caption.text())

        if self._rows is not None and self._rows_for == wanted:
            show(self._rows)
            return
        self.drill_caption.setText(f"{caption}: reading…")
        service = self.service
        self.runner.read(lambda: service.rows(wanted[0], wanted[1], supervisor=wanted[2]), show, self._failed)

    # -- exports -------------------------------------------------------------------------------------------------
    def _choose_export(self, kind: str) -> None:
        if self.summary is None:
            return
        stamp = f"{self.summary.start.astimezone():%Y-%m-%d_%H%M}"
        filters = {"pdf": "PDF (*.pdf)", "csv": "CSV (*.csv)", "json": "JSON (*.json)"}
        path, _filter = QFileDialog.getSaveFileName(
            self, f"Export the summary as {kind.upper()}", f"shift-summary-{stamp}.{kind}", filters[kind]
        )
        if path:
            self.export(kind, path)

    def export(self, kind: str, path: str) -> None:
        """Write the summary shown to ``path`` as ``pdf``, ``csv`` or ``json``, off the GUI thread."""
        summary = self.summary
        if summary is None:
            return
        redact = self.redact.isChecked()
        service, zone, note = self.service, self.clock.zone or UTC, self._shown[1]

        def job() -> str:
            from console import summary_export

            if kind == "pdf":
                summary_export.write_pdf(summary, path, redact=redact, zone=zone, note=note)
            elif kind == "csv":
                rows = service.rows(summary.start, summary.end, supervisor=summary.supervisor)
                summary_export.write_csv(rows, path, redact=redact)
            else:
                summary_export.write_json(summary, path, redact=redact)
            return path

        def done(written: str) -> None:
            for button in self.export_buttons.values():
                button.setEnabled(True)
            self.messages.show_message(f"Saved {written}.", "success")
            self.exported.emit(written)

        def failed(error: BaseException) -> None:
            for button in self.export_buttons.values():
                button.setEnabled(True)
            if isinstance(error, OSError):
                self.messages.show_message(f"Could not save {path}: {error.strerror or error}", "error")
                return
            self._failed(error)

        for button in self.export_buttons.values():
            button.setEnabled(False)
        self.runner.read(job, done, failed)


def _escape(text: str | None) -> str:
    from html import escape

    return escape(text or "").replace("\n", "<br>")


def _bar_filter(
    summary: ShiftSummary, kind: str, index: int, clock: FloorClock
) -> tuple[str, Callable[[EscalationRow], bool]] | None:
    """What a bar stands for: its caption and which of the range's rows are behind it (None: not escalations)."""

    def received(r: EscalationRow) -> bool:
        return summary.start <= r.escalated_at < summary.end

    if kind == "flow":
        count = len(summary.flow)
        bucket = summary.flow[index % count]
        lo, hi = bucket.start, min(summary.end, bucket.start + timedelta(seconds=summary.flow_bucket_seconds))
        if index < count:
            return f"Arrived {clock.time(lo)} – {clock.time(hi)}", lambda r: lo <= r.escalated_at < hi
        return (
            f"Resolved {clock.time(lo)} – {clock.time(hi)}",
            lambda r: r.resolved_at is not None and lo <= r.resolved_at < hi,
        )
    if kind == "category":
        name = list(summary.by_category)[::-1][index]
        return f"Received, {_label(name)}", lambda r: received(r) and r.category == name
    if kind == "csat":
        score = sorted(summary.csat_distribution)[index]
        return f"Latest CSAT answer {score}", lambda r: r.csat == score
    return None
