"""The Goodwill tab: every associate's budget as a bar, their ledger, approvals waiting, and what goodwill returns.

Everything is read off the GUI thread in one snapshot; the feed's "goodwill" changes (ours and other consoles')
trigger a reload, and rows are updated in place so the selection stays where the supervisor left it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QPainter, QPalette, QPen, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.actor import Actor
from console.domain import Category
from console.errors import ConsoleError, ValidationError
from console.goodwill import (
    WARN_SHARE,
    ApprovalRequest,
    BudgetStatus,
    FloorGoodwill,
    GestureType,
    GoodwillReturns,
    GoodwillService,
    GrantOutcome,
    LedgerLine,
    Period,
    ReturnRow,
)
from console.money import money, money_display
from widgets.goodwill_dialogs import AdjustDialog, BudgetDialog, FormDialog, GestureDialog, ReasonDialog
from widgets.message_bar import MessageBar
from widgets.tasks import TaskRunner

ModelIndex = QModelIndex | QPersistentModelIndex
Row = TypeVar("Row")
KeyRole = Qt.ItemDataRole.UserRole
PERIOD_WORDS = {Period.SHIFT: "this shift", Period.WEEK: "this week", Period.MONTH: "this month"}


# --- words --------------------------------------------------------------------------------------------------------
def percent(share: Decimal | float) -> str:
    """``85 %``."""
    return f"{round(float(share) * 100)} %"


def local_time(at: datetime) -> str:
    """A timestamp in the supervisor's local time, as on every screen of the console."""
    return at.astimezone().strftime("%a %d %b %H:%M")


def used_text(status: BudgetStatus) -> str:
    """The share used, with a text marker past 80 % so colour is never the only signal."""
    if status.remaining < 0:
        return f"⛔ {percent(status.share_used)} used (over)"
    if status.near_limit:
        return f"⚠ {percent(status.share_used)} used"
    return f"{percent(status.share_used)} used"


def budget_sentence(status: BudgetStatus) -> str:
    """One associate's budget as a screen reader should say it."""
    c = status.currency
    left = (
        f"{money(status.remaining)} left" if status.remaining >= 0 else f"{money(-status.remaining)} over the allowance"
    )
    text = (
        f"{status.associate}: {money(status.spent)} of {money(status.available)} {c} spent "
        f"{PERIOD_WORDS[status.period]} ({percent(status.share_used)}), {money(status.pending)} pending, {left}"
    )
    if status.near_limit:
        text += f"; past {percent(WARN_SHARE)} of the allowance"
    return text


def gesture_label(kind: GestureType | None) -> str:
    """``Free item``; an adjustment has no gesture type."""
    return kind.label if kind is not None else "—"


def reason_label(code: str) -> str:
    """A reason code as a supervisor says it."""
    try:
        return Category(code).label
    except ValueError:
        return code.replace("_", " ").capitalize()


# --- a table of plain rows ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column(Generic[Row]):
    """A column: its title and the cell's text for a row."""

    title: str
    text: Callable[[Row], str]
    align_right: bool = False


class RowsModel(QAbstractTableModel, Generic[Row]):
    """Plain dataclass rows keyed by an id; a reload with the same rows in the same order updates them in place."""

    def __init__(
        self,
        columns: Sequence[Column[Row]],
        key: Callable[[Row], int],
        sentence: Callable[[Row], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._key = key
        self._sentence = sentence
        self._rows: list[Row] = []

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Show these rows: changed cells in place when the order is the same, otherwise a reset."""
        new = list(rows)
        if [self._key(r) for r in new] == [self._key(r) for r in self._rows]:
            old, self._rows = self._rows, new
            for row, (before, after) in enumerate(zip(old, new, strict=True)):
                if before != after:
                    self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))
            return
        self.beginResetModel()
        self._rows = new
        self.endResetModel()

    def rows(self) -> list[Row]:
        """Every row, in order."""
        return list(self._rows)

    def row_at(self, row: int) -> Row:
        """The row shown at a position."""
        return self._rows[row]

    def row_of(self, key: int) -> int | None:
        """The position of the row with this key."""
        return next((i for i, r in enumerate(self._rows) if self._key(r) == key), None)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        """Rows (none under a valid parent: a flat table)."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        """Columns."""
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Column titles."""
        horizontal = orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
        if horizontal and 0 <= section < len(self.columns):
            return self.columns[section].title
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text; the accessible text and the tooltip say the cell and then the whole row as a sentence."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows) or not 0 <= index.column() < len(self.columns):
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role in (Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.ToolTipRole):
            return f"{column.title}: {column.text(row)}. {self._sentence(row)}."
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == KeyRole:
            return self._key(row)
        return None


# --- budgets and their bars ---------------------------------------------------------------------------------------
BAR_COLUMN = 8


def _allowance_text(s: BudgetStatus) -> str:
    if s.adjustments:
        sign = "+" if s.adjustments > 0 else "−"
        return f"{money_display(s.available)} ({money_display(s.allowance)} {sign} {money_display(abs(s.adjustments))})"
    return money_display(s.available)


def _period_text(s: BudgetStatus) -> str:
    start = s.period_start.astimezone()
    if s.period is Period.SHIFT:
        return f"Shift from {start.strftime('%a %H:%M')}"
    if s.period is Period.MONTH:
        return f"Month of {start.strftime('%b %Y')}"
    return f"Week of {start.strftime('%a %d %b')}"


def _remaining_text(s: BudgetStatus) -> str:
    return money_display(s.remaining) if s.remaining >= 0 else f"⛔ {money_display(-s.remaining)} over"


def _pending_text(s: BudgetStatus) -> str:
    return f"{money_display(s.pending)} ({s.pending_count} waiting)" if s.pending_count else money_display(s.pending)


BUDGET_COLUMNS: list[Column[BudgetStatus]] = [
    Column("Associate", lambda s: s.associate),
    Column("Team", lambda s: s.team or "—"),
    Column("Period", _period_text),
    Column("Allowance", _allowance_text, True),
    Column("Spent", lambda s: money_display(s.spent), True),
    Column("Pending", _pending_text, True),
    Column("Remaining", _remaining_text, True),
    Column("% used", used_text, True),
    Column("Budget", budget_sentence),
]


class BudgetModel(RowsModel[BudgetStatus]):
    """Every associate's budget, most used first (the service's order)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(BUDGET_COLUMNS, lambda s: s.associate_id, budget_sentence, parent)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """The bar column's text is the sentence itself (the delegate paints it as a bar)."""
        sentence = role in (Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.ToolTipRole)
        if sentence and index.isValid() and index.column() == BAR_COLUMN and 0 <= index.row() < self.rowCount():
            return budget_sentence(self.row_at(index.row()))
        return super().data(index, role)


@dataclass(frozen=True)
class BarGeometry:
    """Where the bar's parts go in a cell: spent (solid), pending (hatched), the allowance outlined, the 80 % mark."""

    outline: QRectF
    spent: QRectF
    pending: QRectF
    marker_x: float


def bar_geometry(cell: QRectF, status: BudgetStatus) -> BarGeometry:
    """The bar for one budget: the cell's width stands for the allowance, or for more when spent + pending exceed it."""
    bar = QRectF(cell.left() + 8, cell.center().y() - 7, max(cell.width() - 16, 1), 14)
    available = max(status.available, Decimal(0))
    total = max(available, status.spent + status.pending, Decimal("0.01"))
    scale = bar.width() / float(total)
    spent_w = float(max(status.spent, Decimal(0))) * scale
    pending_w = float(status.pending) * scale
    outline = QRectF(bar.left(), bar.top(), float(available) * scale, bar.height())
    spent = QRectF(bar.left(), bar.top(), spent_w, bar.height())
    pending = QRectF(spent.right(), bar.top(), pending_w, bar.height())
    return BarGeometry(outline, spent, pending, bar.left() + float(available * WARN_SHARE) * scale)


# Mid-tone fills that hold at least 3:1 against both the light and the dark base.
SPENT_COLOURS = {"ok": "#2f8f5b", "near": "#b87400", "over": "#d64545"}


def bar_colour(status: BudgetStatus) -> QColor:
    """Green, amber past 80 %, red past the allowance (the % used column says the same in words)."""
    state = "over" if status.remaining < 0 else "near" if status.near_limit else "ok"
    return QColor(SPENT_COLOURS[state])


class BudgetBarDelegate(QStyledItemDelegate):
    """Paints the Budget column as a bar; other columns are drawn as text."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        """The row's selection background, then the bar."""
        model = index.model()
        if index.column() != BAR_COLUMN or not isinstance(model, BudgetModel):
            super().paint(painter, option, index)
            return
        status = model.row_at(index.row())
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette: QPalette = option.palette
        ink = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        geometry = bar_geometry(QRectF(option.rect), status)
        fill = bar_colour(status)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame = QColor(ink)
        frame.setAlpha(150)
        painter.setPen(QPen(frame, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(geometry.outline.adjusted(0.5, 0.5, -0.5, -0.5), 2, 2)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRect(geometry.spent)
        if geometry.pending.width() > 0:
            light = QColor(fill)
            light.setAlpha(70)
            painter.setBrush(light)
            painter.drawRect(geometry.pending)
            painter.setBrush(QBrush(fill, Qt.BrushStyle.BDiagPattern))
            painter.drawRect(geometry.pending)
        painter.setPen(QPen(ink, 2))
        top, bottom = geometry.outline.top() - 3, geometry.outline.bottom() + 3
        painter.drawLine(QPointF(geometry.marker_x, top), QPointF(geometry.marker_x, bottom))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        """Room for a readable bar."""
        hint = super().sizeHint(option, index)
        if index.column() == BAR_COLUMN:
            return QSize(220, max(hint.height(), 26))
        return hint


# --- the other tables -----------------------------------------------------------------------------------------------
def _entry_kind(e: LedgerLine) -> str:
    if e.kind == "gesture":
        return f"Gesture: {gesture_label(e.gesture_type)}"
    if e.kind == "reversal":
        return f"Reversal: {gesture_label(e.gesture_type)}"
    return "Adjustment"


def _entry_status(e: LedgerLine) -> str:
    if e.reversed_by_id is not None:
        return f"↩ reversed (entry #{e.reversed_by_id})"
    if e.reverses_id is not None:
        return f"↩ reverses #{e.reverses_id}"
    if e.request_id is not None:
        return f"approved (request #{e.request_id})"
    return ""


def _entry_reason(e: LedgerLine) -> str:
    code = "" if e.kind == "adjustment" else reason_label(e.reason_code)
    return " — ".join(part for part in (code, e.reason_text or "") if part)


def _signed(amount: Decimal) -> str:
    return money_display(amount) if amount >= 0 else f"−{money_display(-amount)}"


def ledger_sentence(e: LedgerLine) -> str:
    """A ledger line as a sentence."""
    who = f" to {e.customer}" if e.customer else ""
    text = f"Entry {e.id}, {_entry_kind(e).lower()}{who}, {_signed(e.amount)} {e.currency}, by {e.recorded_by}"
    text += f", {local_time(e.effective_at)}"
    status = _entry_status(e)
    return f"{text}, {status}" if status else text


LEDGER_COLUMNS: list[Column[LedgerLine]] = [
    Column("Entry", lambda e: f"#{e.id}"),
    Column("Type", _entry_kind),
    Column("Amount", lambda e: _signed(e.amount), True),
    Column("Customer", lambda e: e.customer or "—"),
    Column("Case", lambda e: f"#{e.escalation_id}" if e.escalation_id else "—"),
    Column("Reason", _entry_reason),
    Column("By", lambda e: e.recorded_by),
    Column("When", lambda e: local_time(e.effective_at)),
    Column("Status", _entry_status),
]


def request_sentence(r: ApprovalRequest) -> str:
    """A pending request as a sentence."""
    return (
        f"Request {r.id}: {money_display(r.amount, r.currency)} {r.gesture_type.label.lower()} from "
        f"{r.associate}'s budget to {r.customer}, needs approval because {r.because}; asked by {r.requested_by} "
        f"{local_time(r.requested_at)}"
    )


REQUEST_COLUMNS: list[Column[ApprovalRequest]] = [
    Column("Request", lambda r: f"#{r.id}"),
    Column("Associate", lambda r: r.associate),
    Column("Amount", lambda r: money_display(r.amount), True),
    Column("Type", lambda r: r.gesture_type.label),
    Column("Why approval", lambda r: r.because),
    Column("Customer", lambda r: r.customer + (f" (#{r.escalation_id})" if r.escalation_id else "")),
    Column("Asked by", lambda r: r.requested_by),
    Column("When", lambda r: local_time(r.requested_at)),
]


def csat_text(r: ReturnRow) -> str:
    """Share of 4-5 answers with how many answered, or n/a."""
    return "n/a" if r.csat_share is None else f"{percent(r.csat_share)} (n={r.csat_n})"


def retained_text(r: ReturnRow) -> str:
    """Share of the customers who stayed."""
    return "n/a" if r.retained_share is None else percent(r.retained_share)


def _return_columns(first: str, key: Callable[[ReturnRow], str]) -> list[Column[ReturnRow]]:
    return [
        Column(first, key),
        Column("Gestures", lambda r: str(r.gestures), True),
        Column("Amount", lambda r: money_display(r.amount), True),
        Column("Customers", lambda r: str(r.customers), True),
        Column("CSAT 4-5", csat_text, True),
        Column("Retained", retained_text, True),
    ]


def _type_label(key: str) -> str:
    try:
        return GestureType(key).label
    except ValueError:
        return key


def return_sentence(label: Callable[[ReturnRow], str]) -> Callable[[ReturnRow], str]:
    """A return row as a sentence."""

    def say(r: ReturnRow) -> str:
        csat = "no satisfaction answers yet" if r.csat_share is None else f"{csat_text(r)} satisfied (4 or 5)"
        return (
            f"{label(r)}: {r.gestures} gestures worth {money_display(r.amount, r.currency)} to {r.customers} "
            f"customers, {csat}, {retained_text(r)} retained"
        )

    return say


# --- the panel ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GoodwillSnapshot:
    """Everything the panel shows, read in one background job."""

    budgets: list[BudgetStatus]
    requests: list[ApprovalRequest]
    returns: GoodwillReturns
    approval_limit: Decimal
    floor: FloorGoodwill
    ledger: tuple[int, list[LedgerLine]] | None


def _bind(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], Any]:
    """A job for the worker with its arguments read now, on the GUI thread (workers never touch a widget)."""
    return lambda: call(*args, **kwargs)


def _button(text: str, name: str, accessible: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setAccessibleName(accessible)
    mnemonic = text.find("&")
    keys = f" (Alt+{text[mnemonic + 1].upper()})" if mnemonic >= 0 else ""
    button.setToolTip(f"{tip}{keys}")
    return button


def _table(name: str, accessible: str, tip: str, model: QAbstractTableModel) -> QTableView:
    table = QTableView()
    table.setObjectName(name)
    table.setAccessibleName(accessible)
    table.setToolTip(tip)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    table.horizontalHeader().setHighlightSections(False)
    return table


def _group(title: str, name: str, *widgets: QWidget | QHBoxLayout) -> QGroupBox:
    box = QGroupBox(title)
    box.setObjectName(name)
    box.setAccessibleName(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 6, 6, 6)
    for item in widgets:
        if isinstance(item, QHBoxLayout):
            layout.addLayout(item)
        else:
            layout.addWidget(item, 1 if isinstance(item, QTableView) else 0)
    return box


class GoodwillPanel(QWidget):
    """Budgets, the selected associate's ledger, pending approvals and the return on goodwill."""

    pendingChanged = Signal(int)  # how many requests wait for a decision (the tab's badge)
    loaded = Signal()

    def __init__(self, service: GoodwillService, runner: TaskRunner, actor: Actor, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("goodwillPanel")
        self.setAccessibleName("Goodwill")
        self._service = service
        self._runner = runner
        self._actor = actor
        self._loading = False
        self._again = False
        self._ledger_for: int | None = None
        self.has_loaded = False
        self.pending = 0
        self.approval_limit = Decimal(0)
        self.floor = FloorGoodwill()
        self._dialog: FormDialog | None = None

        self.messages = MessageBar()
        self.messages.setObjectName("goodwillMessages")
        self.messages.setAccessibleName("Goodwill messages")

        # Budgets.
        self.budget_model = BudgetModel(self)
        self.budgets = _table(
            "goodwillBudgets",
            "Goodwill budgets",
            "Every associate's budget this period, most used first; select one to see their ledger",
            self.budget_model,
        )
        self.budgets.setItemDelegate(BudgetBarDelegate(self.budgets))
        header = self.budgets.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(BAR_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(60)
        self.budgets.verticalHeader().setDefaultSectionSize(28)
        self.summary = QLabel("Loading budgets…")
        self.summary.setObjectName("goodwillSummary")
        self.summary.setAccessibleName("Goodwill summary")
        self.legend = QLabel(
            "Bar: ■ spent · ▨ pending approval · □ left · │ 80 % mark. ⚠ past 80 %, ⛔ over the allowance."
        )
        self.legend.setObjectName("goodwillLegend")
        self.legend.setAccessibleName("Bar legend")
        self.record_button = _button(
            "Recor&d gesture…", "goodwillRecord", "Record gesture", "Record a gesture from an associate's budget"
        )
        self.budget_button = _button(
            "Edit &budget…", "goodwillEditBudget", "Edit budget", "Change the selected associate's budget"
        )
        self.adjust_button = _button(
            "Ad&just…", "goodwillAdjust", "Adjust budget", "Add to or take from the selected associate's budget"
        )
        for button in (self.budget_button, self.adjust_button):
            button.setVisible(actor.is_manager)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.record_button)
        top.addWidget(self.budget_button)
        top.addWidget(self.adjust_button)
        legend_row = QHBoxLayout()
        legend_row.addWidget(self.legend, 1)
        budgets_box = _group("Budgets this period", "goodwillBudgetsBox", top, self.budgets, legend_row)

        # Drill-down: the selected associate's ledger this period.
        self.ledger_model: RowsModel[LedgerLine] = RowsModel(LEDGER_COLUMNS, lambda e: e.id, ledger_sentence, self)
        self.ledger = _table(
            "goodwillLedger",
            "Ledger of the selected associate",
            "Gestures, reversals and adjustments this period",
            self.ledger_model,
        )
        self.ledger.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.ledger.horizontalHeader().setStretchLastSection(True)
        self.reverse_button = _button(
            "Reverse gest&ure…", "goodwillReverse", "Reverse gesture", "Correct the selected gesture with a reversal"
        )
        self.ledger_title = QLabel("Select an associate to see their ledger.")
        self.ledger_title.setObjectName("goodwillLedgerTitle")
        self.ledger_title.setAccessibleName("Ledger of")
        ledger_row = QHBoxLayout()
        ledger_row.addWidget(self.ledger_title, 1)
        ledger_row.addWidget(self.reverse_button)
        self.ledger_box = _group("Ledger", "goodwillLedgerBox", ledger_row, self.ledger)

        # Approvals.
        self.request_model: RowsModel[ApprovalRequest] = RowsModel(
            REQUEST_COLUMNS, lambda r: r.id, request_sentence, self
        )
        self.requests = _table(
            "goodwillRequests",
            "Waiting for approval",
            "Gestures over a cap or beyond a budget, oldest first",
            self.request_model,
        )
        self.requests.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.requests.horizontalHeader().setStretchLastSection(True)
        self.approve_button = _button("Approv&e", "goodwillApprove", "Approve", "Approve the selected request")
        self.decline_button = _button(
            "Decl&ine…", "goodwillDecline", "Decline", "Decline the selected request, with a reason"
        )
        self.approve_hint = QLabel()
        self.approve_hint.setObjectName("goodwillApproveHint")
        self.approve_hint.setAccessibleName("Why approve is unavailable")
        self.approve_hint.setWordWrap(True)
        approvals_row = QHBoxLayout()
        approvals_row.addWidget(self.approve_hint, 1)
        approvals_row.addWidget(self.approve_button)
        approvals_row.addWidget(self.decline_button)
        self.requests_box = _group("Waiting for approval", "goodwillRequestsBox", approvals_row, self.requests)

        # Return on goodwill.
        self.by_associate_model: RowsModel[ReturnRow] = RowsModel(
            _return_columns("Associate", lambda r: r.key), lambda r: hash(r.key), return_sentence(lambda r: r.key), self
        )
        self.by_type_model: RowsModel[ReturnRow] = RowsModel(
            _return_columns("Gesture type", lambda r: _type_label(r.key)),
            lambda r: hash(r.key),
            return_sentence(lambda r: _type_label(r.key)),
            self,
        )
        self.by_associate = _table(
            "goodwillReturnsByAssociate",
            "Return on goodwill by associate",
            "Gestures not reversed, and how their customers felt and stayed since",
            self.by_associate_model,
        )
        self.by_type = _table(
            "goodwillReturnsByType",
            "Return on goodwill by gesture type",
            "Gestures not reversed, and how their customers felt and stayed since",
            self.by_type_model,
        )
        for table in (self.by_associate, self.by_type):
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        returns_row = QHBoxLayout()
        returns_row.addWidget(self.by_associate, 3)
        returns_row.addWidget(self.by_type, 2)
        returns_note = QLabel(
            "CSAT 4-5: share of follow-up answers of 4 or 5 after the first gesture (n answers). "
            "Retained: customers with no churn since."
        )
        returns_note.setObjectName("goodwillReturnsNote")
        returns_note.setAccessibleName("About return on goodwill")
        returns_note.setWordWrap(True)
        self.returns_box = _group("Return on goodwill", "goodwillReturnsBox", returns_row, returns_note)

        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.setObjectName("goodwillLowerSplitter")
        lower.addWidget(self.ledger_box)
        lower.addWidget(self.requests_box)
        lower.setChildrenCollapsible(False)
        lower.setSizes([1000, 1000])  # half each, whatever the tables' own size hints
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("goodwillSplitter")
        self.splitter.addWidget(budgets_box)
        self.splitter.addWidget(lower)
        self.splitter.addWidget(self.returns_box)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setStretchFactor(2, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.messages)
        layout.addWidget(self.splitter, 1)

        self.budgets.selectionModel().selectionChanged.connect(self._budget_selected)
        self.ledger.selectionModel().selectionChanged.connect(self._update_buttons)
        self.requests.selectionModel().selectionChanged.connect(self._update_buttons)
        self.budget_model.modelReset.connect(self._update_buttons)
        self.ledger_model.modelReset.connect(self._update_buttons)
        self.request_model.modelReset.connect(self._update_buttons)
        self.record_button.clicked.connect(self.record_gesture)
        self.reverse_button.clicked.connect(self.reverse_selected)
        self.approve_button.clicked.connect(self.approve_selected)
        self.decline_button.clicked.connect(self.decline_selected)
        self.budget_button.clicked.connect(self.edit_budget)
        self.adjust_button.clicked.connect(self.adjust_budget)
        self.requests.activated.connect(lambda _index: self.approve_selected())
        self._update_buttons()

    # -- loading -------------------------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        """Coming into view reloads what may have changed while hidden."""
        super().showEvent(event)
        self.reload()

    def on_changes(self, goodwill_changed: bool) -> None:
        """The feed said goodwill changed (or everything must reload): reload if shown, else refresh the badge."""
        if not goodwill_changed:
            return
        if self.isVisible():
            self.reload()
        else:
            self.refresh_badge()

    def refresh_badge(self) -> None:
        """Count pending requests (cheap), for the tab's badge while the panel is hidden."""
        self._runner.read(self._service.pending_count, self._set_pending, lambda _e: None)

    def reload(self) -> None:
        """Read everything again off the GUI thread; a reload asked for while one runs follows it."""
        if self._loading:
            self._again = True
            return
        self._loading = True
        service, actor, wanted = self._service, self._actor, self.selected_associate_id()

        def job() -> GoodwillSnapshot:
            budgets = service.budgets()
            ledger = None
            status = next((b for b in budgets if b.associate_id == wanted), None)
            if status is not None:
                lines = service.ledger(associate=status.associate_id, start=status.period_start, end=status.period_end)
                ledger = (status.associate_id, lines)
            return GoodwillSnapshot(
                budgets,
                service.requests(),
                service.returns(),
                service.approval_limit(actor),
                service.floor_settings(),
                ledger,
            )

        self._runner.read(job, self._loaded, self._load_failed)

    def _loaded(self, snapshot: GoodwillSnapshot) -> None:
        self._loading = False
        self.approval_limit = snapshot.approval_limit
        self.floor = snapshot.floor
        self._keep_selection(self.budgets, self.budget_model, lambda: self.budget_model.set_rows(snapshot.budgets))
        self._keep_selection(self.requests, self.request_model, lambda: self.request_model.set_rows(snapshot.requests))
        self.by_associate_model.set_rows(snapshot.returns.by_associate)
        self.by_type_model.set_rows(snapshot.returns.by_type)
        if snapshot.ledger is not None and snapshot.ledger[0] == self.selected_associate_id():
            self._show_ledger(*snapshot.ledger)
        elif self.selected_associate_id() is None:
            self._show_ledger(None, [])
        self._update_summary(snapshot)
        self._set_pending(len(snapshot.requests))
        self._update_buttons()
        self.has_loaded = True
        self.loaded.emit()
        if self._again:
            self._again = False
            self.reload()

    def _load_failed(self, error: BaseException) -> None:
        self._loading = False
        self.messages.show_message(f"Could not load goodwill budgets: {error}", "error", timeout_ms=0)
        if self._again:
            self._again = False
            self.reload()

    def _set_pending(self, count: int) -> None:
        if count != self.pending or not self.has_loaded:
            self.pending = count
            self.pendingChanged.emit(count)

    def badge(self) -> str:
        """The tab's title: how many requests wait for a decision."""
        return f"Goodwill ({self.pending})" if self.pending else "Goodwill"

    def _update_summary(self, snapshot: GoodwillSnapshot) -> None:
        near = sum(1 for b in snapshot.budgets if b.near_limit)
        spent = sum((b.spent for b in snapshot.budgets), Decimal(0))
        text = (
            f"{len(snapshot.budgets)} associates · {money_display(spent, snapshot.floor.currency)} given this period"
            f" · ⚠ {near} past 80 % · {len(snapshot.requests)} waiting for approval"
            f" · you may approve up to {money_display(snapshot.approval_limit, snapshot.floor.currency)}"
        )
        self.summary.setText(text)
        self.summary.setAccessibleDescription(text)
        self.requests_box.setTitle(f"Waiting for approval ({len(snapshot.requests)})")

    @staticmethod
    def _keep_selection(table: QTableView, model: RowsModel[Any], update: Callable[[], None]) -> None:
        """Run ``update``; if it reset the model, select the same row (by key) again."""
        selected = table.selectionModel().selectedRows()
        key = selected[0].data(KeyRole) if selected else None
        update()
        if key is not None and not table.selectionModel().hasSelection():
            row = model.row_of(int(key))
            if row is not None:
                GoodwillPanel._select_row(table, row)

    @staticmethod
    def _select_row(table: QTableView, row: int) -> None:
        index = table.model().index(row, 0)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        table.selectionModel().setCurrentIndex(index, flags)
        table.scrollTo(index)

    # -- selection -----------------------------------------------------------------------------------------------
    def selected_associate_id(self) -> int | None:
        """The associate whose ledger is shown."""
        status = self.selected_budget()
        return status.associate_id if status is not None else None

    def selected_budget(self) -> BudgetStatus | None:
        """The selected budget row."""
        rows = self.budgets.selectionModel().selectedRows()
        return self.budget_model.row_at(rows[0].row()) if rows else None

    def selected_entry(self) -> LedgerLine | None:
        """The selected ledger line."""
        rows = self.ledger.selectionModel().selectedRows()
        return self.ledger_model.row_at(rows[0].row()) if rows else None

    def selected_request(self) -> ApprovalRequest | None:
        """The selected pending request."""
        rows = self.requests.selectionModel().selectedRows()
        return self.request_model.row_at(rows[0].row()) if rows else None

    def select_associate(self, associate_id: int) -> bool:
        """Select an associate's budget row (and so show their ledger)."""
        row = self.budget_model.row_of(associate_id)
        if row is None:
            return False
        self._select_row(self.budgets, row)
        return True

    def select_request(self, request_id: int) -> bool:
        """Select a pending request."""
        row = self.request_model.row_of(request_id)
        if row is None:
            return False
        self._select_row(self.requests, row)
        return True

    def _budget_selected(self) -> None:
        status = self.selected_budget()
        self._update_buttons()
        if status is None:
            self._show_ledger(None, [])
            return
        if status.associate_id == self._ledger_for:
            return
        self.ledger_title.setText(f"Loading {status.associate}'s ledger…")
        service = self._service
        self._runner.read(
            lambda: service.ledger(associate=status.associate_id, start=status.period_start, end=status.period_end),
            lambda lines: (
                self._show_ledger(status.associate_id, lines)
                if self.selected_associate_id() == status.associate_id
                else None
            ),
            self._report,
        )

    def _show_ledger(self, associate_id: int | None, lines: list[LedgerLine]) -> None:
        status = self.selected_budget()
        keep = associate_id == self._ledger_for
        self._ledger_for = associate_id
        if keep:
            self._keep_selection(self.ledger, self.ledger_model, lambda: self.ledger_model.set_rows(lines))
        else:
            self.ledger_model.set_rows(lines)
        if status is None or associate_id is None:
            self.ledger_box.setTitle("Ledger")
            self.ledger_title.setText("Select an associate to see their ledger.")
        else:
            self.ledger_box.setTitle(f"Ledger of {status.associate}, {PERIOD_WORDS[status.period]}")
            count = len(lines)
            self.ledger_title.setText(
                f"{count} entries since {local_time(status.period_start)}" if count else "No entries this period yet."
            )
        self._update_buttons()

    def _update_buttons(self) -> None:
        budget = self.selected_budget()
        for button in (self.budget_button, self.adjust_button):
            button.setEnabled(budget is not None)
        entry = self.selected_entry()
        self.reverse_button.setEnabled(entry is not None and entry.reversible)
        request = self.selected_request()
        self.decline_button.setEnabled(request is not None)
        why = self.approve_refusal(request)
        self.approve_button.setEnabled(request is not None and why is None)
        base = "Approve the selected request (Alt+E)"
        self.approve_button.setToolTip(f"{base}. Not available: {why}" if why else base)
        self.approve_hint.setText(f"ℹ {why}" if why else "")
        self.approve_hint.setVisible(bool(why))

    def approve_refusal(self, request: ApprovalRequest | None) -> str | None:
        """Why this supervisor may not approve the request (the service enforces the same), or None."""
        if request is None:
            return None
        if request.requested_by_id == self._actor.user_id:
            return "you asked for this one yourself; another supervisor or a manager must approve it."
        if request.amount > self.approval_limit:
            return (
                f"{money(request.amount)} is above your approval limit of {money(self.approval_limit)}; "
                "a manager must approve it."
            )
        return None

    # -- doing ---------------------------------------------------------------------------------------------------
    def _report(self, error: BaseException) -> None:
        if not isinstance(error, ConsoleError):
            self.messages.show_message(f"Something went wrong: {error}", "error")
        else:
            kind = "warning" if isinstance(error, ValidationError) else "error"
            self.messages.show_message(str(error), kind)
        self.reload()

    def _run_dialog(
        self, dialog: FormDialog, make_job: Callable[[], Callable[[], Any]], done: Callable[[Any], None]
    ) -> FormDialog:
        """Open ``dialog``; on submit read its fields (here, on the GUI thread) into a job and run it as a write;
        a refusal stays in the dialog beside its field, with everything typed kept."""

        def submitted() -> None:
            job = make_job()

            def failed(error: BaseException) -> None:
                dialog.set_busy(False)
                if isinstance(error, ConsoleError):
                    dialog.show_problem(getattr(error, "field", None), str(error))
                else:
                    dialog.show_problem(None, f"Something went wrong: {error}")

            def succeeded(result: Any) -> None:
                dialog.set_busy(False)
                dialog.accept()
                done(result)
                self.reload()

            self._runner.write(job, succeeded, failed)

        dialog.submitted.connect(submitted)
        dialog.finished.connect(lambda _r: setattr(self, "_dialog", None))
        self._dialog = dialog
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.open()
        return dialog

    def open_dialog(self) -> FormDialog | None:
        """The dialog open now, if any (tests drive it)."""
        return self._dialog

    def record_gesture(self) -> GestureDialog:
        """Open the Record gesture dialog for the selected associate."""
        associates = sorted(
            ((b.associate_id, b.associate) for b in self.budget_model.rows()), key=lambda a: a[1].lower()
        )
        dialog = GestureDialog(associates, self.floor.ceiling, self.floor.currency, self.selected_associate_id(), self)
        service, actor = self._service, self._actor

        def make_job() -> Callable[[], GrantOutcome]:
            v = dialog.values()
            return lambda: service.grant(
                actor,
                associate=v.associate_id,
                amount=v.amount,
                gesture_type=v.gesture_type,
                reason_code=v.reason_code,
                reason_text=v.reason_text,
                escalation_id=v.escalation_id,
                customer_ref=v.customer_ref,
            )

        def done(outcome: GrantOutcome) -> None:
            kind = dialog.values().gesture_type.label.lower()
            if outcome.granted:
                self.messages.show_message(f"Granted: {money(outcome.amount)} {kind} (entry #{outcome.id})", "success")
            else:
                self.messages.show_message(f"Sent for approval (request #{outcome.id}): {outcome.because}", "info")

        self._run_dialog(dialog, make_job, done)
        return dialog

    def reverse_selected(self) -> ReasonDialog | None:
        """Ask why, then reverse the selected gesture."""
        entry = self.selected_entry()
        if entry is None or not entry.reversible:
            return None
        dialog = ReasonDialog(
            "reverseDialog",
            f"Reverse gesture #{entry.id}",
            f"{_signed(entry.amount)} {entry.currency} {gesture_label(entry.gesture_type).lower()} to "
            f"{entry.customer or 'no customer'}; the original stays in the ledger and a reversal is added.",
            "&Reverse",
            self,
        )
        service, actor = self._service, self._actor
        self._run_dialog(
            dialog,
            lambda: _bind(service.reverse, actor, entry.id, dialog.text()),
            lambda rid: self.messages.show_message(f"Reversed gesture #{entry.id} (entry #{rid}).", "success"),
        )
        return dialog

    def approve_selected(self) -> None:
        """Approve the selected request; a refusal is shown in the message line."""
        request = self.selected_request()
        if request is None:
            return
        why = self.approve_refusal(request)
        if why is not None:
            self.messages.show_message(f"Request #{request.id}: {why}", "warning")
            return
        service, actor = self._service, self._actor

        def approved(entry_id: int) -> None:
            self.messages.show_message(
                f"Approved request #{request.id}: {money_display(request.amount, request.currency)} "
                f"{request.gesture_type.label.lower()} for {request.customer} (entry #{entry_id}).",
                "success",
            )
            self.reload()

        self.approve_button.setEnabled(False)
        self._runner.write(lambda: service.approve(actor, request.id), approved, self._report)

    def decline_selected(self) -> ReasonDialog | None:
        """Ask why, then decline the selected request."""
        request = self.selected_request()
        if request is None:
            return None
        dialog = ReasonDialog(
            "declineDialog",
            f"Decline request #{request.id}",
            f"{money_display(request.amount, request.currency)} {request.gesture_type.label.lower()} from "
            f"{request.associate}'s budget to {request.customer}. The associate sees your reason.",
            "&Decline",
            self,
        )
        service, actor = self._service, self._actor
        self._run_dialog(
            dialog,
            lambda: _bind(service.decline, actor, request.id, dialog.text()),
            lambda _none: self.messages.show_message(f"Declined request #{request.id}.", "success"),
        )
        return dialog

    def edit_budget(self) -> BudgetDialog | None:
        """A manager edits the selected associate's budget."""
        status = self.selected_budget()
        if status is None or not self._actor.is_manager:
            return None
        dialog = BudgetDialog(status, self)
        service, actor = self._service, self._actor
        self._run_dialog(
            dialog,
            lambda: _bind(
                service.set_budget,
                actor,
                reason=dialog.reason.text(),
                **dialog.scope_arguments(),
                allowance=dialog.allowance.text(),
                cap=dialog.cap.text(),
                period=str(dialog.period.currentData()),
            ),
            lambda rule: self.messages.show_message(
                f"{dialog.scope.currentText()}: {money(rule.allowance)} {status.currency} per "
                f"{rule.period.label.lower()}, up to {money(rule.cap)} per gesture.",
                "success",
            ),
        )
        return dialog

    def adjust_budget(self) -> AdjustDialog | None:
        """A manager adds to or takes from the selected associate's budget this period."""
        status = self.selected_budget()
        if status is None or not self._actor.is_manager:
            return None
        dialog = AdjustDialog(status, self)
        service, actor = self._service, self._actor
        self._run_dialog(
            dialog,
            lambda: _bind(service.adjust, actor, status.associate_id, dialog.amount.text(), dialog.reason.text()),
            lambda eid: self.messages.show_message(
                f"Adjusted {status.associate}'s budget by {dialog.amount.text().strip()} (entry #{eid}).", "success"
            ),
        )
        return dialog

    def focus_budgets(self) -> None:
        """Put the keyboard in the budgets table."""
        self.budgets.setFocus()
        if not self.budgets.selectionModel().hasSelection() and self.budget_model.rowCount():
            self._select_row(self.budgets, 0)
