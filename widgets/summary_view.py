"""The end-of-shift summary window: choose a range, build it off the GUI thread, read the numbers and charts, export.

The summary is one ``ShiftSummary`` from ``SummaryService.build``; the tables, the charts and every export are made
from that one value, so the screen and the files agree. matplotlib is imported only when the first charts are drawn
(opening the console never loads it). Clicking a bar lists the escalations behind it, from
``SummaryService.rows`` over the same range (read once per summary, off the GUI thread).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QDateTime, QEvent, Qt, QTimer, QTimeZone, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPalette, QResizeEvent
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
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.accounts import AccountService
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
from console.summary_export import kpi_rows, zone_name
from db.engine import Database
from db.types import utcnow
from widgets.goodwill_panel import Column, RowsModel, _button, _table
from widgets.message_bar import MessageBar
from widgets.tasks import TaskRunner

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import PickEvent
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
    from matplotlib.figure import Figure

RANGE_LAST_SHIFT = "shift"
RANGE_LAST_HOURS = "hours"
RANGE_CUSTOM = "custom"
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


def handover_table(
    name: str = "handoverTable", clock: FloorClock | None = None
) -> tuple[QTableView, RowsModel[HandoverItem]]:
    """The handover table (every open escalation with state, step, next action and due), for any window."""
    clock = clock or FloorClock()
    model: RowsModel[HandoverItem] = RowsModel(
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


# --- the charts (matplotlib only in here, imported on first use, off the GUI thread) -------------------------
@dataclass(frozen=True)
class ChartColors:
    """The palette colours the charts are drawn in (read on the GUI thread, used by the worker that draws)."""

    text: str
    mid: str
    window: str
    base: str

    @classmethod
    def of(cls, palette: QPalette) -> ChartColors:
        """The colours of a Qt palette, so the charts read in light and dark themes."""
        role = QPalette.ColorRole
        return cls(
            palette.color(role.WindowText).name(),
            palette.color(role.Mid).name(),
            palette.color(role.Window).name(),
            palette.color(role.Base).name(),
        )


@dataclass(frozen=True)
class RenderedCharts:
    """The four charts drawn and rendered (Agg) off the GUI thread, ready to be shown by a SummaryCharts."""

    figure: Figure
    renderer: Any  # matplotlib's RendererAgg holding the pixels
    key: tuple[int, int, float]  # FigureCanvasAgg's (width, height, dpi) of that renderer
    axes: dict[str, Axes]
    bars: dict[int, tuple[str, int]]  # id(patch) -> (kind, index)
    background: str  # the window colour, around the figure while a new size is being rendered


BASE_DPI = 100.0  # matplotlib's default: a figure inch per 100 logical pixels
CHART_SIZE = (800, 560)  # logical pixels, until the canvas has a size of its own


def render_charts(
    summary: ShiftSummary, zone: tzinfo | None, colors: ChartColors, size: tuple[int, int], ratio: float = 1.0
) -> RenderedCharts:
    """Draw and render the summary's four charts at ``size`` (logical pixels, ``ratio`` physical per logical).

    Pure matplotlib with the Agg renderer, no widget: meant for a worker thread, so that neither importing
    matplotlib (seconds, the first time) nor laying out and rasterising the charts stalls the GUI thread. It also
    imports the Qt canvas' module, for SummaryCharts to wrap the result without importing anything itself.
    """
    with _collection_paused():
        _load_matplotlib()
        return _render(summary, zone, colors, size, ratio)


def _render(
    summary: ShiftSummary, zone: tzinfo | None, colors: ChartColors, size: tuple[int, int], ratio: float
) -> RenderedCharts:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from console.summary_export import CHARTS, draw_chart

    width, height = max(size[0], 50), max(size[1], 50)
    figure = Figure(figsize=(width / BASE_DPI, height / BASE_DPI), dpi=BASE_DPI, layout="constrained")
    grid = figure.subplots(2, 2)
    axes: dict[str, Axes] = {}
    bars: dict[int, tuple[str, int]] = {}
    for kind, ax in zip(CHARTS, (grid[0][0], grid[0][1], grid[1][0], grid[1][1]), strict=True):
        draw_chart(kind, ax, summary, zone)
        axes[kind] = ax
        for index, patch in enumerate(ax.patches):
            patch.set_picker(True)
            bars[id(patch)] = (kind, index)
    paint_charts(figure, colors)
    agg = FigureCanvasAgg(figure)  # before the dpi change: the figure keeps the base dpi as its own
    if ratio != 1.0:
        figure.set_dpi(BASE_DPI * ratio)  # physical pixels, as the Qt canvas scales a figure on a HiDPI screen
    agg.draw()  # type: ignore[no-untyped-call]
    key = (int(figure.bbox.width), int(figure.bbox.height), float(figure.dpi))
    return RenderedCharts(figure, agg.get_renderer(), key, axes, bars, colors.window)  # type: ignore[no-untyped-call]


_LOADED = False


def _load_matplotlib() -> None:
    """Import matplotlib and the Qt canvas' module (off the GUI thread), then freeze the heap once.

    Everything alive once matplotlib is loaded (modules, classes, the console's long-lived objects) stays alive
    until the app quits, and a full garbage collection would otherwise walk it all again, every time: a few hundred
    milliseconds holding the interpreter lock, which stalls the GUI thread whichever thread collects. Frozen objects
    are left out of collections (gc.freeze); only what is made afterwards is collected as usual."""
    global _LOADED  # noqa: PLW0603 (once per process)
    if _LOADED:
        return
    import matplotlib.backends.backend_agg
    import matplotlib.backends.backend_qtagg
    import matplotlib.figure  # noqa: F401 (loaded here, for render_charts and SummaryCharts)

    gc.freeze()
    _LOADED = True


@contextmanager
def _collection_paused() -> Iterator[None]:
    """No automatic garbage collection while the charts are made (tens of thousands of objects, all kept)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def paint_charts(figure: Figure, colors: ChartColors) -> None:
    """Figure, axes and text colours from the palette's colours."""
    fg, mid, base = colors.text, colors.mid, colors.base
    figure.set_facecolor(colors.window)
    for ax in figure.axes:
        ax.set_facecolor(base)
        for loc in ("left", "center", "right"):  # the charts' titles are on the left
            ax.set_title(ax.get_title(loc=loc), loc=loc, color=fg, fontsize=10)
        ax.xaxis.label.set_color(fg)
        ax.yaxis.label.set_color(fg)
        ax.tick_params(colors=fg, which="both")
        for spine in ax.spines.values():
            spine.set_edgecolor(mid)
        for collection in ax.collections:  # the goodwill chart's "in range" dots
            collection.set_color(fg)
        legend = ax.get_legend()
        if legend is not None:
            legend.get_frame().set_facecolor(base)
            legend.get_frame().set_edgecolor(mid)
            for text in legend.get_texts():
                text.set_color(fg)
            for handle in legend.legend_handles:
                if handle is not None and handle.__class__.__name__ == "PathCollection":
                    handle.set_color(fg)  # type: ignore[attr-defined]


def _canvas_class() -> type[FigureCanvasQTAgg]:
    """The charts' Qt canvas: shows a figure rendered elsewhere, and never draws on the GUI thread by itself."""
    global _CANVAS  # noqa: PLW0603 (the class needs matplotlib, so it is made on first use)
    if _CANVAS is not None:
        return _CANVAS
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg

    class ChartCanvas(FigureCanvasQTAgg):
        """FigureCanvasQTAgg that paints the last rendering as it is and, when resized, asks ``on_resize`` for a
        new one (rendered off the GUI thread) instead of redrawing the figure in the resize, as matplotlib does."""

        on_resize: Callable[[], None] | None = None
        background = "#ffffff"

        def resizeEvent(self, event: QResizeEvent) -> None:
            QWidget.resizeEvent(self, event)
            if self.on_resize is not None:
                self.on_resize()

        def paintEvent(self, event: QPaintEvent) -> None:
            painter = QPainter(self)
            try:
                painter.fillRect(event.rect(), QColor(self.background))
                renderer = getattr(self, "renderer", None)
                if renderer is None:
                    return
                pixels = memoryview(renderer.buffer_rgba())
                height, width = pixels.shape[0], pixels.shape[1]  # type: ignore[index]
                image = QImage(pixels, width, height, QImage.Format.Format_RGBA8888)
                image.setDevicePixelRatio(self.device_pixel_ratio)
                painter.drawImage(0, 0, image)
            finally:
                painter.end()

    _CANVAS = ChartCanvas
    return ChartCanvas


_CANVAS: type[FigureCanvasQTAgg] | None = None


class SummaryCharts(QWidget):
    """The four charts on one canvas, coloured from the palette; a click on a bar emits ``barClicked``.

    The charts come rendered (``render_charts``, off the GUI thread); this widget only shows them. When its size
    changes it emits ``wantsSize`` (once the resizing settles) for the owner to render them again at that size.
    """

    barClicked = Signal(str, int)  # chart kind, bar index in data order (see summary_export.draw_chart)
    wantsSize = Signal()  # the canvas' size differs from the rendering's: render again at ``size_wanted()``

    def __init__(self, rendered: RenderedCharts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summaryCharts")
        self.setAccessibleName("Summary charts")
        self.figure: Figure = rendered.figure
        self.canvas: FigureCanvasQTAgg = _canvas_class()(rendered.figure)
        self.canvas.setObjectName("summaryChartsCanvas")
        self.canvas.setAccessibleName("Charts: arrivals vs resolutions, by category, goodwill, CSAT")
        self.canvas.setToolTip("Click a bar to list the escalations behind it (goodwill bars: see the Goodwill tab)")
        self.canvas.setMinimumHeight(420)
        self.axes: dict[str, Axes] = {}
        self._bars: dict[int, tuple[str, int]] = {}
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(150)
        self._settle.timeout.connect(self._check_size)
        self.canvas.on_resize = self._settle.start
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.show_rendered(rendered)

    def show_rendered(self, rendered: RenderedCharts) -> None:
        """Show charts rendered off the GUI thread: nothing is drawn here, the pixels are only copied to the screen."""
        canvas: Any = self.canvas
        rendered.figure.set_canvas(canvas)
        canvas.figure = rendered.figure
        canvas.renderer = rendered.renderer  # FigureCanvasAgg's own: get_renderer() reuses it for this key
        canvas._lastKey = rendered.key
        canvas.background = rendered.background
        self.figure = rendered.figure
        self.axes = dict(rendered.axes)
        self._bars = dict(rendered.bars)
        self.canvas.mpl_connect("pick_event", self._picked)  # the callbacks belong to the figure
        self.canvas.update()
        self._settle.start()

    def size_wanted(self) -> tuple[tuple[int, int], float]:
        """The canvas' size (logical pixels) and its device pixel ratio, to render at."""
        return (self.canvas.width(), self.canvas.height()), float(self.canvas.devicePixelRatioF() or 1.0)

    def _check_size(self) -> None:
        (width, height), ratio = self.size_wanted()
        shown = (int(self.figure.bbox.width), int(self.figure.bbox.height))
        if width > 0 and height > 0 and shown != (round(width * ratio), round(height * ratio)):
            self.wantsSize.emit()

    def bar_count(self, kind: str) -> int:
        """How many bars a chart has (0 when it says "no data")."""
        ax = self.axes.get(kind)
        return 0 if ax is None else len(ax.patches)

    def _picked(self, event: PickEvent) -> None:
        found = self._bars.get(id(event.artist))
        if found is not None:
            self.barClicked.emit(*found)


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
        self.shifts = ShiftService(database)
        self.accounts = AccountService(database)
        self.runner = runner
        self.summary: ShiftSummary | None = None
        self.charts: SummaryCharts | None = None
        self._charts_for: object = None  # the request whose charts are wanted; older renderings are dropped
        self._painted = False  # the window has been painted once
        self._after_paint: Callable[[], None] | None = None  # the build to start once it has
        self._builds = 0  # numbers the builds: only the latest one's result is shown
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
        self._build_breakdowns()
        self._build_stories()
        self._build_handover()
        layout.addLayout(self._build_exports())
        self._range_kind_changed()
        self._load_supervisors()
        self.clock.load(database, runner, self._zone_loaded)
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

    def _build_breakdowns(self) -> None:
        page = QWidget()
        page.setObjectName("summaryBreakdowns")
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
        self.pages.addTab(page, "&Breakdowns && goodwill")
        self.pages.setTabToolTip(1, "By category and channel, rising themes, goodwill against budget")

    def _build_stories(self) -> None:
        page = QWidget()
        page.setObjectName("summaryStoriesPage")
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
        self.pages.addTab(page, "&Stories && follow-ups")
        self.pages.setTabToolTip(2, "Wins and woes, and the follow-ups the next shift must make")

    def _build_handover(self) -> None:
        self.handover_table, self.handover_model = handover_table(clock=self.clock)
        self.pages.addTab(self.handover_table, "&Handover")
        self.pages.setTabToolTip(3, "Every escalation open at the end, with its state, step, next action and due time")

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
        for model in (self.story_model, self.followup_model, self.handover_model, self.drill_model):
            refresh_cells(model)

    # -- building the summary --------------------------------------------------------------------------------------
    def build(self) -> None:
        """Build the summary of the chosen range off the GUI thread, with progress."""
        kind = self.range_kind.currentData()
        supervisor = self.supervisor.currentData()
        custom = self._custom_range() if kind == RANGE_CUSTOM else None
        service, shifts, report = self.service, self.shifts, self._progressed.emit

        def job() -> tuple[ShiftSummary, RenderedCharts]:
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
            # matplotlib's import and the charts' drawing are done here too, not on the GUI thread.
            return summary, render_charts(summary, zone, colors, size, ratio)

        zone, colors = self.clock.zone, ChartColors.of(self.palette())
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
            start()

    def event(self, event: QEvent) -> bool:
        """Notes the window's first paint (see build)."""
        handled = super().event(event)
        if event.type() == QEvent.Type.UpdateRequest and not self._painted:
            self._painted = True
            QTimer.singleShot(0, self._start_after_paint)
        return handled

    def _start_after_paint(self) -> None:
        start, self._after_paint = self._after_paint, None
        self._painted = True
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
        self._render(summary, title, note, charts)
        self.built.emit(summary)

    def _render(
        self, summary: ShiftSummary, title: str | None, note: str | None, charts: RenderedCharts | None = None
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
        self.category_model.set_rows(_numbered([(_label(k), str(v)) for k, v in summary.by_category.items()]))
        self.channel_model.set_rows(_numbered([(_label(k), str(v)) for k, v in summary.by_channel.items()]))
        self.theme_model.set_rows(summary.themes)
        self.goodwill_model.set_rows(summary.goodwill_by_associate)
        self.approvals.setText(
            f"Approvals granted: {summary.approvals_granted}, declined: {summary.approvals_declined}. "
            f"Goodwill spent in the range: {money_display(summary.goodwill_spent, summary.currency)}."
        )
        self.story_model.set_rows(summary.stories)
        self.followup_model.set_rows(summary.follow_ups_due)
        self.handover_model.set_rows(summary.handover)
        self.pages.setTabText(3, f"&Handover ({len(summary.handover)} open)")
        self.drill_model.set_rows([])
        self.drill_caption.setText("Click a bar to list the escalations behind it.")
        if charts is not None:
            self._charts_for = None
            self._show_charts(charts)
        else:
            self._redraw_charts()
        for button in self.export_buttons.values():
            button.setEnabled(True)

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
        zone, colors = self.clock.zone, ChartColors.of(self.palette())
        size, ratio = self._chart_size()
        request = self._charts_for = object()

        def done(rendered: RenderedCharts) -> None:
            if request is self._charts_for and self.summary is summary:
                self._show_charts(rendered)

        self.runner.read(lambda: render_charts(summary, zone, colors, size, ratio), done, self._failed)

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
        """List the escalations behind bar ``index`` of chart ``kind`` (the order of summary_export.draw_chart)."""
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
