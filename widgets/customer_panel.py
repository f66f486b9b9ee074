"""The customer panel beside the workflow: who the customer is and everything that happened with them, on any channel.

The panel asks :class:`console.customers.CustomerService` for a profile and a timeline off the GUI thread (through
the :class:`TaskRunner`'s read lane) and shows what comes back; it never touches the database. Dates are shown in
the computer's local time. Every state is told in text (markers such as ⚠, ✔, ● this case), never by colour alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.customers import (
    CHURN_MARKER,
    CustomerProfile,
    CustomerService,
    EntryKind,
    TimelineEntry,
    format_day,
    format_moment,
    format_money,
)
from console.errors import ConsoleError
from console.sla import ClockState
from widgets.tasks import TaskRunner
from widgets.theme import HIGH_VALUE_MARKER, palette_is_dark, state_foreground

ModelIndex = QModelIndex | QPersistentModelIndex

THIS_CASE_MARKER = "● this case"
FIRST_CONTACT = "No earlier contacts: this is the customer's first"
NO_MATCHES = "No entries match this filter."
NO_CUSTOMER = "No customer selected"
LOADING = "Loading the customer's history…"

EntryKindRole = int(Qt.ItemDataRole.UserRole) + 1
"""The entry's kind (an ``EntryKind`` value)."""
EscalationIdRole = int(Qt.ItemDataRole.UserRole) + 2
"""The escalation the entry belongs to, or None."""
HighlightRole = int(Qt.ItemDataRole.UserRole) + 3
"""True when the entry belongs to the escalation being worked on."""
MetaRole = int(Qt.ItemDataRole.UserRole) + 4
"""The entry's first line: local date and time, channel, and the "this case" marker."""
TitleRole = int(Qt.ItemDataRole.UserRole) + 5
"""The marker and the one-line title."""
DetailRole = int(Qt.ItemDataRole.UserRole) + 6
"""The longer text under the title."""

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)


@dataclass(frozen=True)
class KindFilter:
    """One choice of the kind filter: a label and the kinds it shows (None: everything)."""

    label: str
    kinds: frozenset[EntryKind] | None
    tip: str


KIND_FILTERS: tuple[KindFilter, ...] = (
    KindFilter("All", None, "Everything in the customer's history"),
    KindFilter("Contacts", frozenset({EntryKind.CONTACT}), "Calls, chats, emails and visits on every channel"),
    KindFilter(
        "Escalations",
        frozenset({EntryKind.ESCALATED, EntryKind.REOPENED, EntryKind.RESOLVED, EntryKind.CLOSED}),
        "Each escalation's life: escalated, reopened, resolved, closed",
    ),
    KindFilter(
        "Outcomes",
        frozenset(
            {
                EntryKind.RESOLVED,
                EntryKind.CLOSED,
                EntryKind.REMEDY,
                EntryKind.GOODWILL,
                EntryKind.FOLLOW_UP,
                EntryKind.STORY,
            }
        ),
        "How it ended: resolutions, remedies and goodwill given, follow-ups with the customer's scores, stories",
    ),
)


_SPOKEN_PREFIX = {EntryKind.REMEDY: "Remedy given: ", EntryKind.GOODWILL: "Goodwill given: "}


def _full_stop(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


class TimelineModel(QAbstractListModel):
    """The customer's timeline, newest first, one row per entry; entries of the highlighted case are marked."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: list[TimelineEntry] = []
        self._highlight: int | None = None

    # -- feeding -------------------------------------------------------------------------------------------------
    def set_entries(self, entries: Sequence[TimelineEntry], highlight: int | None = None) -> None:
        """Show a fresh timeline (a customer's history is short: a reset is cheaper than a diff)."""
        self.beginResetModel()
        self._entries = list(entries)
        self._highlight = highlight
        self.endResetModel()

    def set_highlight(self, escalation_id: int | None) -> None:
        """Mark the entries of another escalation as "this case"."""
        if escalation_id == self._highlight:
            return
        self._highlight = escalation_id
        if self._entries:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._entries) - 1, 0))

    def entry(self, row: int) -> TimelineEntry:
        """The entry on a row."""
        return self._entries[row]

    def entries(self) -> list[TimelineEntry]:
        """Every entry, newest first."""
        return list(self._entries)

    def highlight(self) -> int | None:
        """The escalation whose entries are marked."""
        return self._highlight

    def is_highlighted(self, entry: TimelineEntry) -> bool:
        """Whether an entry belongs to the escalation being worked on."""
        return self._highlight is not None and entry.escalation_id == self._highlight

    # -- Qt model ------------------------------------------------------------------------------------------------
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        """Entries (a flat list: no children)."""
        return 0 if parent.isValid() else len(self._entries)

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        """Rows can be selected (to read their tooltip, to copy), never edited."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: ModelIndex, role: int = _DISPLAY) -> Any:
        """The row's text, its parts for the delegate, a tooltip and a sentence for screen readers."""
        if not index.isValid() or index.row() >= len(self._entries) or index.column() != 0:
            return None
        entry = self._entries[index.row()]
        if role == _DISPLAY:
            line = f"{self.meta(entry, marked=False)} · {entry.marker} {entry.title}"
            if self.is_highlighted(entry):
                line += f" · {THIS_CASE_MARKER}"
            return f"{line}\n{entry.detail}" if entry.detail else line
        if role == MetaRole:
            return self.meta(entry, marked=True)
        if role == TitleRole:
            return f"{entry.marker} {entry.title}"
        if role == DetailRole:
            return entry.detail
        if role == _TOOLTIP:
            return self._tooltip(entry)
        if role == _ACCESSIBLE:
            return self._sentence(entry)
        if role == EntryKindRole:
            return entry.kind.value
        if role == EscalationIdRole:
            return entry.escalation_id
        if role == HighlightRole:
            return self.is_highlighted(entry)
        return None

    # -- text ----------------------------------------------------------------------------------------------------
    def meta(self, entry: TimelineEntry, *, marked: bool) -> str:
        """``12 May 2025 14:02 · Phone``, with ``● this case`` when ``marked`` and the entry is the current case's."""
        parts = [format_moment(entry.at)]
        if entry.channel is not None:
            parts.append(entry.channel.label)
        if marked and self.is_highlighted(entry):
            parts.append(THIS_CASE_MARKER)
        return " · ".join(parts)

    def _tooltip(self, entry: TimelineEntry) -> str:
        lines = [f"{entry.marker} {entry.title}", self.meta(entry, marked=True)]
        if entry.detail:
            lines.append(entry.detail)
        return "\n".join(lines)

    def _sentence(self, entry: TimelineEntry) -> str:
        """What a screen reader says: when, where, what, the details, and whether it is part of this case."""
        where = f", {entry.channel.label}" if entry.channel is not None else ""
        parts = [f"{format_moment(entry.at)}{where}: {_SPOKEN_PREFIX.get(entry.kind, '')}{entry.title}"]
        parts.extend(line for line in entry.detail.split("\n") if line.strip())
        if self.is_highlighted(entry):
            parts.append("Part of this case")
        return " ".join(_full_stop(part.replace(" · ", ", ")) for part in parts)


_HAS_FILTER_CHANGE: bool = hasattr(QSortFilterProxyModel, "beginFilterChange")  # Qt 6.9+


class TimelineFilter(QSortFilterProxyModel):
    """Shows the entries of some kinds (or all) that contain the search words."""

    def __init__(self, source: TimelineModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timeline = source
        self._kinds: frozenset[EntryKind] | None = None
        self._words: list[str] = []
        self.setSourceModel(source)

    def set_kinds(self, kinds: frozenset[EntryKind] | None) -> None:
        """Show only these kinds (None: all)."""
        self._change(lambda: setattr(self, "_kinds", kinds))

    def set_search(self, text: str) -> None:
        """Show only entries containing every word of ``text`` (case-insensitive), in any of their text."""
        self._change(lambda: setattr(self, "_words", text.casefold().split()))

    def _change(self, update: Callable[[], None]) -> None:
        if _HAS_FILTER_CHANGE:
            self.beginFilterChange()
            update()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # Qt before 6.9
            update()
            self.invalidateRowsFilter()

    def has_filters(self) -> bool:
        """Whether anything is hidden by choice."""
        return self._kinds is not None or bool(self._words)

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:
        """Kind first (cheap), then the words."""
        entry = self._timeline.entry(source_row)
        if self._kinds is not None and entry.kind not in self._kinds:
            return False
        if not self._words:
            return True
        haystack = " ".join(
            (
                self._timeline.meta(entry, marked=True),
                entry.title,
                entry.detail,
                entry.by or "",
                entry.kind.label,
                f"#{entry.escalation_id}" if entry.escalation_id is not None else "",
            )
        ).casefold()
        return all(word in haystack for word in self._words)


# -- drawing -------------------------------------------------------------------------------------------------------
TITLE_LINES = 2
DETAIL_LINES = 3
H_PAD = 10
V_PAD = 6
LINE_GAP = 2
HIGHLIGHT_BAR = 4


def wrap_text(text: str, metrics: QFontMetrics, width: int, max_lines: int) -> list[str]:
    """``text`` broken into lines at most ``width`` pixels wide, at most ``max_lines`` of them; "…" where cut."""
    width = max(width, 20)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if not line or metrics.horizontalAdvance(candidate) <= width:
                line = candidate
            else:
                lines.append(line)
                line = word
            if len(lines) > max_lines:
                break
        if line:
            lines.append(line)
        if len(lines) > max_lines:
            break
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], f"{lines[max_lines - 1]} {lines[max_lines]}"]
        last = metrics.elidedText(lines[-1], Qt.TextElideMode.ElideRight, width)
        if last == lines[-1]:  # it fitted only because the rest was cut: say so
            last = metrics.elidedText(lines[-1] + " …", Qt.TextElideMode.ElideRight, width)
        lines[-1] = last
    return [metrics.elidedText(line, Qt.TextElideMode.ElideRight, width) for line in lines]


class TimelineDelegate(QStyledItemDelegate):
    """Draws an entry as three parts: a small date/channel line, the title, and the detail in a quieter colour."""

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont, QFont]:
        base = QFont(option.font)
        small = QFont(base)
        small.setPointSizeF(base.pointSizeF() * 0.9)
        title = QFont(base)
        title.setWeight(QFont.Weight.DemiBold)
        return small, title, small

    @staticmethod
    def _text_width(option: QStyleOptionViewItem) -> int:
        width = option.rect.width()
        view = option.widget
        if width <= 0 and isinstance(view, QAbstractItemView):
            width = view.viewport().width()
        return width - 2 * H_PAD - HIGHLIGHT_BAR

    def _layout(self, option: QStyleOptionViewItem, index: ModelIndex) -> list[tuple[QFont, list[str], bool]]:
        meta_font, title_font, detail_font = self._fonts(option)
        width = self._text_width(option)
        meta_lines = wrap_text(str(index.data(MetaRole) or ""), QFontMetrics(meta_font), width, 1)
        title_lines = wrap_text(str(index.data(TitleRole) or ""), QFontMetrics(title_font), width, TITLE_LINES)
        detail = str(index.data(DetailRole) or "")
        detail_lines = wrap_text(detail, QFontMetrics(detail_font), width, DETAIL_LINES) if detail else []
        return [(meta_font, meta_lines, True), (title_font, title_lines, False), (detail_font, detail_lines, True)]

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        """Tall enough for the wrapped lines at the view's current width."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        height = 2 * V_PAD
        for font, lines, _muted in self._layout(opt, index):
            if lines:
                height += len(lines) * QFontMetrics(font).lineSpacing() + LINE_GAP
        width = opt.rect.width() if opt.rect.width() > 0 else 200
        return QSize(width, height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        """The row's background (selection, alternate rows), the "this case" band, then the three parts."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""  # the parts are drawn below, not as one string
        widget = opt.widget
        style = widget.style() if widget is not None else None
        painter.save()
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect: QRect = opt.rect
        palette: QPalette = opt.palette
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        if index.data(HighlightRole):
            accent = palette.color(QPalette.ColorRole.Highlight)
            tint = QColor(accent)
            tint.setAlpha(34)
            if not selected:
                painter.fillRect(rect, tint)
            painter.fillRect(QRect(rect.left(), rect.top(), HIGHLIGHT_BAR, rect.height()), accent)
        text_colour = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        muted = QColor(text_colour) if selected else palette.color(QPalette.ColorRole.PlaceholderText)
        if not selected and muted.alpha() < 255:  # a translucent placeholder colour reads faint on a list
            muted.setAlpha(255)
        x = rect.left() + H_PAD + HIGHLIGHT_BAR
        y = rect.top() + V_PAD
        width = self._text_width(opt)
        for font, lines, quiet in self._layout(opt, index):
            if not lines:
                continue
            painter.setFont(font)
            painter.setPen(muted if quiet else text_colour)
            spacing = QFontMetrics(font).lineSpacing()
            for line in lines:
                painter.drawText(
                    QRect(x, y, width, spacing),
                    int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                    line,
                )
                y += spacing
            y += LINE_GAP
        painter.restore()


# -- the panel -----------------------------------------------------------------------------------------------------
def _name(widget: QWidget, object_name: str, accessible: str, tip: str) -> None:
    widget.setObjectName(object_name)
    widget.setAccessibleName(accessible)
    widget.setToolTip(tip)


class _ListView(QListView):
    """A list that lays its rows out again when its width changes (their height follows the wrapped text)."""

    def resizeEvent(self, event: Any) -> None:
        """Re-measure rows for the new width."""
        super().resizeEvent(event)
        self.scheduleDelayedItemsLayout()


class CustomerPanel(QWidget):
    """The customer's profile and whole history in one timeline, beside the workflow."""

    loaded = Signal(int)  # customer id: the profile and timeline on screen are that customer's, fresh
    loadFailed = Signal(str)  # a message fit to show

    def __init__(self, service: CustomerService, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("customerPanel")
        self.setAccessibleName("Customer panel")
        self._service = service
        self._runner = runner
        self._customer_id: int | None = None
        self._profile: CustomerProfile | None = None
        self._highlight: int | None = None
        self._request = itertools.count(1)
        self._current_request = 0
        self._loading = False
        self._error: str | None = None

        self._model = TimelineModel(self)
        self._proxy = TimelineFilter(self._model, self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self._build_header())
        self.first_note = QLabel(FIRST_CONTACT)
        _name(
            self.first_note,
            "customerFirstContact",
            FIRST_CONTACT,
            "Everything below belongs to the case in hand; nothing earlier is on record",
        )
        self.first_note.setWordWrap(True)
        self.first_note.hide()
        layout.addWidget(self.first_note)
        layout.addWidget(self._build_filter_bar())
        layout.addWidget(self._build_list(), 1)
        # Watched only once every part exists: the filter looks at several of them.
        self.search.installEventFilter(self)
        self.timeline.viewport().installEventFilter(self)
        QWidget.setTabOrder(self.kind_filter, self.search)
        QWidget.setTabOrder(self.search, self.timeline)

        for signal in (self._proxy.rowsInserted, self._proxy.rowsRemoved, self._proxy.modelReset):
            signal.connect(self._show_state)
        self._proxy.layoutChanged.connect(self._show_state)
        self._show_profile(None)
        self._show_state()

    # -- building ------------------------------------------------------------------------------------------------
    def _build_header(self) -> QWidget:
        header = QFrame()
        header.setObjectName("customerHeader")
        header.setAccessibleName("Customer profile")
        header.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(header)
        grid.setContentsMargins(10, 8, 10, 8)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(3)

        self.name_label = self._label("customerName", "The customer's name and reference")
        bigger = QFont(self.font())
        bigger.setPointSizeF(bigger.pointSizeF() * 1.25)
        bigger.setBold(True)
        self.name_label.setFont(bigger)
        self.tier_label = self._label("customerTier", "Customer tier")
        self.value_label = self._label(
            "customerLifetimeValue", f"What the customer has spent with us; {HIGH_VALUE_MARKER} marks a high value"
        )
        self.churn_label = self._label(
            "customerChurnRisk",
            f"How likely the customer is to leave, 0 to 1; {CHURN_MARKER} marks a customer flagged as at risk, "
            "where a larger concession can be right",
        )
        self.consent_label = self._label("customerConsent", "Whether the customer agreed to be contacted by us")
        self.since_label = self._label("customerSince", "When the customer first bought from us")
        self.contact_label = self._label("customerContact", "Email and phone on record")
        self.cases_label = self._label("customerEscalations", "The customer's escalations and their latest contact")
        self.churned_label = self._label("customerChurned", "The customer has left us")

        grid.addWidget(self.name_label, 0, 0, 1, 2)
        grid.addWidget(self.tier_label, 1, 0)
        grid.addWidget(self.value_label, 1, 1)
        grid.addWidget(self.churn_label, 2, 0)
        grid.addWidget(self.consent_label, 2, 1)
        grid.addWidget(self.since_label, 3, 0, 1, 2)
        grid.addWidget(self.contact_label, 4, 0, 1, 2)
        grid.addWidget(self.cases_label, 5, 0, 1, 2)
        grid.addWidget(self.churned_label, 6, 0, 1, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        self.header = header
        return header

    def _label(self, object_name: str, tip: str) -> QLabel:
        label = QLabel()
        _name(label, object_name, tip, tip)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)  # names and notes are data, never markup
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        return label

    def _build_filter_bar(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("customerFilterBar")
        bar.setAccessibleName("Timeline filters")
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        self.kind_filter = QComboBox()
        _name(
            self.kind_filter,
            "customerKindFilter",
            "Show in the timeline",
            "Show all of the history, only contacts, only escalations, or only outcomes",
        )
        for choice in KIND_FILTERS:
            self.kind_filter.addItem(choice.label, choice.kinds)
            self.kind_filter.setItemData(self.kind_filter.count() - 1, choice.tip, Qt.ItemDataRole.ToolTipRole)
        self.kind_filter.currentIndexChanged.connect(self._kind_chosen)
        row.addWidget(self.kind_filter)

        self.search = QLineEdit()
        _name(
            self.search,
            "customerSearch",
            "Search the customer's history",
            "Search the timeline: words in a contact, a remedy, a name, a channel or #case (Esc clears)",
        )
        self.search.setPlaceholderText("Search history")
        self.search.setClearButtonEnabled(True)
        for button in self.search.findChildren(QToolButton):  # the line edit's own clear button
            button.setAccessibleName("Clear search")
            button.setToolTip("Clear the search (Esc)")
        self.search.textChanged.connect(self._proxy.set_search)
        row.addWidget(self.search, 1)

        self.count_label = QLabel()
        _name(self.count_label, "customerShown", "Entries shown", "How many entries the filter and search show")
        row.addWidget(self.count_label)
        return bar

    def _build_list(self) -> QWidget:
        view = _ListView()
        self.timeline = view
        _name(
            view,
            "customerTimeline",
            "Customer history",
            "The customer's contacts and escalations on every channel, newest first; "
            f"“{THIS_CASE_MARKER}” marks the case in hand",
        )
        view.setAccessibleDescription("Newest first. Each row: date and time, channel, what happened, and details.")
        view.setModel(self._proxy)
        view.setItemDelegate(TimelineDelegate(view))
        view.setUniformItemSizes(False)
        view.setResizeMode(QListView.ResizeMode.Adjust)
        view.setWordWrap(True)
        view.setAlternatingRowColors(True)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        view.setTextElideMode(Qt.TextElideMode.ElideRight)

        self.empty_label = QLabel(view.viewport())
        self.empty_label.setObjectName("customerEmptyState")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.empty_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.empty_label.hide()
        return view

    # -- the lead's entry points ---------------------------------------------------------------------------------
    def show_customer(self, customer_id: int, highlight_escalation: int | None = None) -> None:
        """Load and show a customer's profile and timeline, marking the entries of ``highlight_escalation``."""
        same = customer_id == self._customer_id and self._profile is not None
        self._customer_id = customer_id
        self._highlight = highlight_escalation
        if same:
            # The same customer (another of their cases, or a refresh): keep what is on screen while it reloads.
            self._model.set_highlight(highlight_escalation)
        else:
            self._profile = None
            self._model.set_entries([], highlight_escalation)
            self._show_profile(None, loading=True)
        self._load(customer_id)

    def refresh(self) -> None:
        """Reload the current customer (the live feed says their escalations changed); filters are kept."""
        if self._customer_id is not None:
            self._load(self._customer_id)

    def clear(self) -> None:
        """Show no customer (nothing is being worked on); a load still running is ignored when it ends."""
        self._current_request = next(self._request)
        self._customer_id = None
        self._highlight = None
        self._profile = None
        self._loading = False
        self._error = None
        self._model.set_entries([], None)
        self._show_profile(None)
        self._show_state()

    # -- accessors -----------------------------------------------------------------------------------------------
    def customer_id(self) -> int | None:
        """The customer shown (or being loaded)."""
        return self._customer_id

    def profile(self) -> CustomerProfile | None:
        """The profile on screen, once loaded."""
        return self._profile

    def model(self) -> TimelineModel:
        """Every timeline entry of the customer."""
        return self._model

    def proxy(self) -> TimelineFilter:
        """The entries the filters let through, as the list shows them."""
        return self._proxy

    def is_loading(self) -> bool:
        """Whether a load is running."""
        return self._loading

    # -- loading -------------------------------------------------------------------------------------------------
    def _load(self, customer_id: int) -> None:
        request = self._current_request = next(self._request)
        self._loading = True
        self._error = None
        self._show_state()
        service = self._service

        def job() -> tuple[CustomerProfile, list[TimelineEntry]]:
            return service.profile(customer_id), service.timeline(customer_id)

        self._runner.read(
            job,
            lambda result: self._loaded(request, customer_id, result),
            lambda error: self._failed(request, error),
        )

    def _loaded(self, request: int, customer_id: int, result: tuple[CustomerProfile, list[TimelineEntry]]) -> None:
        if request != self._current_request:
            return  # an older load, overtaken by another customer or a refresh
        profile, entries = result
        self._loading = False
        keep = self._selected_key()
        scroll = self.timeline.verticalScrollBar().value() if self._profile is not None else 0
        self._profile = profile
        self._model.set_entries(entries, self._highlight)
        self._show_profile(profile)
        self.first_note.setVisible(
            bool(entries)
            and self._highlight is not None
            and all(entry.escalation_id == self._highlight for entry in entries)
        )
        if keep is not None:
            self._select_key(keep)
        self.timeline.verticalScrollBar().setValue(scroll)
        self._show_state()
        self.loaded.emit(customer_id)

    def _failed(self, request: int, error: BaseException) -> None:
        if request != self._current_request:
            return
        self._loading = False
        if isinstance(error, ConsoleError):
            message = f"Could not load the customer: {error}"
        else:  # a bug: the runner has logged the traceback
            message = "Could not load the customer (an unexpected error; it has been logged)."
        self._error = message
        if self._profile is None:
            self._show_profile(None)
        self._show_state()
        self.loadFailed.emit(message)

    def _selected_key(self) -> tuple[object, ...] | None:
        rows = self.timeline.selectionModel().selectedRows() if self.timeline.selectionModel() else []
        if not rows:
            return None
        entry = self._model.entry(self._proxy.mapToSource(rows[0]).row())
        return (entry.at, entry.kind, entry.escalation_id, entry.title)

    def _select_key(self, key: tuple[object, ...]) -> None:
        for row, entry in enumerate(self._model.entries()):
            if (entry.at, entry.kind, entry.escalation_id, entry.title) == key:
                index = self._proxy.mapFromSource(self._model.index(row, 0))
                if index.isValid():
                    self.timeline.setCurrentIndex(index)
                return

    # -- showing -------------------------------------------------------------------------------------------------
    def _show_profile(self, profile: CustomerProfile | None, *, loading: bool = False) -> None:
        details = (
            self.tier_label,
            self.value_label,
            self.churn_label,
            self.consent_label,
            self.since_label,
            self.contact_label,
            self.cases_label,
            self.churned_label,
        )
        if profile is None:
            self._set_text(self.name_label, "Loading customer…" if loading else NO_CUSTOMER)
            for label in details:
                self._set_text(label, "")
                label.hide()
            self.first_note.hide()
            return
        ref = f" · {profile.ref}" if profile.ref else ""
        self._set_text(self.name_label, f"{profile.name}{ref}")
        self._set_text(self.tier_label, f"{profile.tier.label} tier")
        value = f"Lifetime value: {format_money(profile.lifetime_value)}"
        self._set_text(self.value_label, f"{HIGH_VALUE_MARKER} {value}" if profile.high_value else value)
        churn = f"Churn risk: {profile.churn_level} ({profile.churn_risk:.2f})"
        self._set_text(self.churn_label, f"{CHURN_MARKER} {churn}" if profile.churn_flagged else churn)
        self._tint(self.churn_label, profile.churn_flagged)
        self._set_text(self.consent_label, f"May contact: {'yes' if profile.contact_consent else 'no'}")
        self._tint(self.consent_label, not profile.contact_consent)
        self._set_text(self.since_label, f"Customer since {format_day(profile.customer_since)}")
        contact = " · ".join(part for part in (profile.email, profile.phone) if part) or "No email or phone on record"
        self._set_text(self.contact_label, contact)
        cases = f"Escalations: {profile.open_escalations} open, {profile.total_escalations} in all"
        if profile.last_contact is not None:
            cases += f" · last contact {format_moment(profile.last_contact)}"
        self._set_text(self.cases_label, cases)
        churned = f"{CHURN_MARKER} Left us on {format_moment(profile.churned_at)}" if profile.churned_at else ""
        self._set_text(self.churned_label, churned)
        for label in details:
            label.setVisible(bool(label.text()))

    @staticmethod
    def _set_text(label: QLabel, text: str) -> None:
        if label.text() != text:
            label.setText(text)
        # The name a screen reader says is the text itself; the tooltip keeps the explanation.
        label.setAccessibleName(text or label.toolTip())

    def _tint(self, label: QLabel, alarm: bool) -> None:
        palette = label.palette()
        brush = state_foreground(ClockState.WARNING, palette_is_dark(self.palette())) if alarm else None
        wanted = brush.color() if brush is not None else self.palette().color(QPalette.ColorRole.WindowText)
        if palette.color(QPalette.ColorRole.WindowText) != wanted:
            palette.setColor(QPalette.ColorRole.WindowText, wanted)
            label.setPalette(palette)

    def _show_state(self, *_args: object) -> None:
        shown, total = self._proxy.rowCount(), self._model.rowCount()
        count = f"{shown} of {total}" if shown != total else f"{total} {'entry' if total == 1 else 'entries'}"
        self._set_text(self.count_label, count if self._customer_id is not None else "")
        if shown:
            self.empty_label.hide()
            return
        if self._error is not None:
            text = self._error
        elif self._customer_id is None:
            text = "Open an escalation to see its customer's history here."
        elif self._loading and self._profile is None:
            text = LOADING
        elif total:
            text = f"{NO_MATCHES}\nChoose “All” and clear the search to see all {total}."
        else:
            text = FIRST_CONTACT
        self.empty_label.setText(text)
        self.empty_label.setAccessibleName(text)
        self.empty_label.setGeometry(self.timeline.viewport().rect().adjusted(12, 12, -12, -12))
        self.empty_label.show()

    def empty_text(self) -> str | None:
        """The empty-state line shown over the timeline, or None when rows are shown."""
        return self.empty_label.text() if not self.empty_label.isHidden() else None

    # -- reactions -----------------------------------------------------------------------------------------------
    def _kind_chosen(self, _index: int) -> None:
        self._proxy.set_kinds(self.kind_filter.currentData())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Esc clears the search; the empty-state line follows the list's size."""
        kind = event.type()
        if watched is self.timeline.viewport() and kind == QEvent.Type.Resize:
            self.empty_label.setGeometry(self.timeline.viewport().rect().adjusted(12, 12, -12, -12))
        elif watched is self.search and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape:
            if kind == QEvent.Type.ShortcutOverride and self.search.text():
                event.accept()  # Esc is ours while there is a search to clear
                return True
            if kind == QEvent.Type.KeyPress and self.search.text():
                self.search.clear()
                return True
        return super().eventFilter(watched, event)
