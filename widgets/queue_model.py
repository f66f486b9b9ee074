"""The live queue as a Qt table model, and the proxy that sorts it by urgency and filters it.

The model is fed plain ``QueueItem`` values (initial load, then incremental changes from the change feed) and keeps
them live on its own: once a second ``tick()`` refreshes the two clock columns of the rows on screen and reports SLA
transitions (pre-breach warning, breach) for every row. To make that cheap for thousands of rows, every item's due
times are worked out once, when it arrives, as integer microseconds; a tick is then a few integer comparisons for
the rows whose next threshold has passed (a heap keeps them in order), plus ``dataChanged`` for the visible rows.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QIcon

from console.domain import Category, Channel, Severity, Status, Tier
from console.queue import QueueItem
from console.sla import ClockState, SlaPolicy, format_duration
from db.types import utcnow
from widgets.theme import (
    BREACHED_MARKER,
    CHURN_RISK_MARKER,
    CLOCK_STEPS,
    HIGH_VALUE_MARKER,
    PAUSED_MARKER,
    WARNING_MARKER,
    clock_icon,
    palette_is_dark,
    state_background,
    state_foreground,
)

ModelIndex = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    """The queue's columns, in order. The two clock columns come first so one tick covers one block of cells."""

    WAITING = 0
    SLA = 1
    SEVERITY = 2
    CUSTOMER = 3
    CHANNEL = 4
    CATEGORY = 5
    ESCALATED_BY = 6
    CLAIMED_BY = 7
    SUMMARY = 8


CLOCK_COLUMNS = (Column.WAITING, Column.SLA)
_COLUMNS = len(Column)

SortKeyRole = int(Qt.ItemDataRole.UserRole) + 1
"""A string per cell that sorts correctly as plain text (so the proxy compares in C++). The SLA column's key is the
urgency order; elsewhere ties break on arrival (longest waiting first), which never changes while a case waits."""
ItemIdRole = int(Qt.ItemDataRole.UserRole) + 2
"""The escalation id of the row."""
ClockStateRole = int(Qt.ItemDataRole.UserRole) + 3
"""The row's SLA clock state (``ClockState`` value) as of the last tick."""

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FONT = int(Qt.ItemDataRole.FontRole)

# What a tick can change in a clock cell. Never the sort key: due times are fixed timestamps, so the order cannot
# change between ticks, and the sort role is left out so that the proxy need not re-sort.
TICK_ROLES = [_DISPLAY, _TOOLTIP, _ACCESSIBLE, _DECORATION, _FOREGROUND, _BACKGROUND, _FONT]

HEADERS: dict[Column, tuple[str, str]] = {
    Column.WAITING: ("Waiting", "How long the customer has waited since the case entered the queue"),
    Column.SLA: (
        "SLA",
        "Time left to the next target (claim, then resolve); sorting by it puts the most urgent first",
    ),
    Column.SEVERITY: ("Severity", "How bad it is; sets the SLA targets"),
    Column.CUSTOMER: ("Customer", "Customer, tier, ★ high lifetime value, ⚠ churn risk"),
    Column.CHANNEL: ("Channel", "Where the customer reached us"),
    Column.CATEGORY: ("Category", "The failure type"),
    Column.ESCALATED_BY: ("Escalated by", "The associate who escalated it"),
    Column.CLAIMED_BY: ("Claimed by", "The supervisor who has it (— when nobody has claimed it yet)"),
    Column.SUMMARY: ("Summary", "Case number and what went wrong"),
}

NOBODY = "—"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_KEY_OFFSET = 10**18  # keeps negative microsecond values sortable as fixed-width digits
_LEVEL_OK, _LEVEL_WARNING, _LEVEL_BREACHED = 0, 1, 2
_RANK: dict[Severity, int] = {severity: rank for rank, severity in enumerate(Severity)}  # Severity.rank, cheaply
_STATE_AT_LEVEL = (ClockState.OK, ClockState.WARNING, ClockState.BREACHED)  # looked up once, not per row
_PAUSED = ClockState.PAUSED
_IN_QUEUE = frozenset(status for status in Status if status.in_queue)  # Status.in_queue without a call per item
_FEW_MOVES = 8  # more urgency changes than this in one batch: one re-sort (a layout change) instead of row moves
FEW_INSERTS = 64  # more arrivals than this in one batch: appended, then one re-sort


def _us(moment: datetime) -> int:
    """Microseconds since the epoch, exactly (integers compare without float rounding at a threshold)."""
    return (moment - _EPOCH) // _ONE_US


def _td(microseconds: int) -> timedelta:
    return timedelta(microseconds=microseconds)


def spoken_duration(delta: timedelta) -> str:
    """A duration in words for screen readers, as precise as ``format_duration``: ``3 minutes 10 seconds``."""
    total = int(abs(delta).total_seconds())
    days, rem = divmod(total, 86_400)
    hours, rem = divmod(rem, 3_600)
    minutes, seconds = divmod(rem, 60)

    def unit(count: int, word: str) -> str:
        return f"{count} {word}" if count == 1 else f"{count} {word}s"

    if days:
        pair = [unit(days, "day"), unit(hours, "hour") if hours else ""]
    elif hours:
        pair = [unit(hours, "hour"), unit(minutes, "minute") if minutes else ""]
    elif minutes:
        pair = [unit(minutes, "minute"), unit(seconds, "second") if seconds else ""]
    else:
        pair = [unit(seconds, "second"), ""]
    return " ".join(p for p in pair if p)


def local_time(moment: datetime, now: datetime) -> str:
    """A moment in the supervisor's local time: ``14:05``, with the date when it is not today."""
    here = moment.astimezone()
    if here.date() == now.astimezone().date():
        return here.strftime("%H:%M")
    return here.strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class QueueCounters:
    """The numbers a supervisor watches above the queue."""

    waiting_unclaimed: int
    breached: int
    longest_wait: timedelta  # the longest-waiting unclaimed case; zero when none waits


@dataclass(frozen=True)
class SlaTransition:
    """An escalation entering the pre-breach warning or breaching its target."""

    escalation_id: int
    state: str  # "warning" or "breached"
    text: str


@dataclass(slots=True, eq=False)
class _Entry:
    """One row: the item plus what the clocks and the screen need, worked out once when the item arrives."""

    item: QueueItem
    generation: int  # tells a live heap event from one left behind by a replaced item
    target: str  # "claim" or "resolve"
    span: timedelta  # the target's length
    held: bool
    queued_us: int
    due_us: int  # running clock: when the target falls due
    warn_us: int  # running clock: when the pre-breach warning falls due
    held_remaining_us: int  # paused clock: time left (negative when overdue), frozen while on hold
    held_breached: bool
    state: ClockState  # as of the model's last look
    alerted: int  # the highest alert level already given for this target (0 none, 1 warning, 2 breached)
    urgency: tuple[int, int, int, int]  # (held, due or time left, severity rank, id): the default order
    # Worked out on first use (a paint, a header sort, a search), not for every row of a load:
    texts: tuple[str, ...] | None = None  # display text of every column that does not move with the clock
    sort_keys: tuple[str, ...] | None = None
    haystack: str | None = None  # what the search box looks through, case-folded

    def level_at(self, now_us: int) -> int:
        """0, 1 or 2 for a running clock at ``now_us`` (a paused clock never moves)."""
        if now_us > self.due_us:
            return _LEVEL_BREACHED
        return _LEVEL_WARNING if now_us >= self.warn_us else _LEVEL_OK

    def clock_at(self, now_us: int) -> tuple[ClockState, int]:
        """The state and the microseconds left (negative when overdue) at ``now_us``."""
        if self.held:
            return ClockState.PAUSED, self.held_remaining_us
        remaining = self.due_us - now_us
        if remaining < 0:
            return ClockState.BREACHED, remaining
        return (ClockState.WARNING if now_us >= self.warn_us else ClockState.OK), remaining

    @property
    def breached(self) -> bool:
        """Overdue, whether or not paused now."""
        return self.held_breached if self.held else self.state is ClockState.BREACHED

    def next_event(self) -> int | None:
        """When this row can next cross a threshold, if it can."""
        if self.held or self.alerted >= _LEVEL_BREACHED:
            return None
        return self.warn_us if self.alerted == _LEVEL_OK else self.due_us + 1


def _customer_text(item: QueueItem) -> str:
    parts = [item.customer_name]
    if item.customer_tier is not Tier.STANDARD:
        parts.append(item.customer_tier.label)
    if item.high_value:
        parts.append(f"{HIGH_VALUE_MARKER} high value")
    if item.churn_risk:
        parts.append(f"{CHURN_RISK_MARKER} churn risk")
    return " · ".join(parts)


def _one_line(text: str) -> str:
    return " ".join(text.split())


class QueueModel(QAbstractTableModel):
    """Open escalations as rows; live clocks; incremental updates; SLA transitions as signals."""

    slaAlert = Signal(int, str, str)  # escalation id, "warning" | "breached", text for the status bar
    countersChanged = Signal()

    def __init__(
        self,
        policy: SlaPolicy | None = None,
        parent: QObject | None = None,
        *,
        now_fn: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(parent)
        self._policy = policy or SlaPolicy()
        self._now_fn = now_fn
        self._rows: list[_Entry] = []
        # Escalation id -> row: every id in the queue is in it, but its rows are read through _row() or
        # _fresh_index(). Inserts and removals shift every row after them; rather than renumber those for each run of
        # rows, they note the lowest row that may have moved, and the next lookup renumbers from there, once.
        self._index: dict[int, int] = {}
        self._stale_from: int | None = None
        self._events: list[tuple[int, int, int]] = []  # (when, escalation id, generation), a min-heap
        self._generation = 0
        self._now = now_fn()
        self._now_us = _us(self._now)
        self._dark = palette_is_dark()
        self._bold = QFont()
        self._icons: dict[tuple[ClockState, int], QIcon] = {}  # dies with the model, never after the application
        self._bold.setBold(True)
        self._unclaimed = 0
        self._breached = 0
        self._oldest_unclaimed_us: int | None = None
        self._oldest_stale = False
        self._span_cache: dict[Severity, tuple[timedelta, timedelta, int, int, int, int]] = {}
        # Whether the rows are kept in urgency order through every change (the proxy asks for it while it shows that
        # order, so that it need not sort: a sort there calls back into Python for every comparison).
        self._ordered = False

    # -- feeding -------------------------------------------------------------------------------------------------
    def set_items(self, items: Iterable[QueueItem]) -> None:
        """Replace everything (the initial load, or a full reload after a lost connection)."""
        self._look_at_the_clock()
        previous = {entry.item.id: entry for entry in self._rows}
        unique = {item.id: item for item in items if item.status in _IN_QUEUE}
        self.beginResetModel()
        entry_of, before = self._entry, previous.get
        rows = [entry_of(item, before(item.id)) for item in unique.values()]
        # Rows are kept in urgency order: the proxy shows them in that order without sorting.
        rows.sort(key=_urgency)
        self._rows = rows
        self._index = {entry.item.id: row for row, entry in enumerate(self._rows)}
        self._recount()
        self._rebuild_events()
        self.endResetModel()
        self.countersChanged.emit()

    def apply(self, changed: Iterable[QueueItem], removed_ids: Iterable[int]) -> None:
        """Apply what the change feed reported: new rows appended, changed cells updated, gone rows removed.

        An item no longer in the queue (resolved, closed) counts as removed. An item older than the one shown
        (a lower version, from a read that started before a later write) is ignored, so a slow background read
        cannot undo a claim that has already been shown.
        """
        self._look_at_the_clock()
        removed = set(removed_ids)
        latest: dict[int, QueueItem] = {}
        for item in changed:
            if item.status.in_queue:
                latest[item.id] = item
            else:
                removed.add(item.id)
        for escalation_id in removed:
            latest.pop(escalation_id, None)

        touched = False
        appended: list[QueueItem] = []
        moved: list[int] = []  # ids whose place in the urgency order changed
        for item in latest.values():
            if item.id not in self._index:  # the index always has every id, even while its rows are stale
                appended.append(item)
                continue
            row = self._fresh_index()[item.id]
            if self._replace(row, item):
                touched = True
                if self._ordered and not self._in_place(row):
                    moved.append(item.id)
        if len(moved) > _FEW_MOVES:
            self._resort()
        else:
            for escalation_id in moved:
                self._move_into_place(self._fresh_index()[escalation_id])

        present = [i for i in removed if i in self._index]
        index = self._fresh_index() if present else self._index
        doomed = sorted((index[i] for i in present), reverse=True)
        for first, last in _runs_descending(doomed):  # highest first: the rows of the runs below stay put
            self.beginRemoveRows(QModelIndex(), first, last)
            for entry in self._rows[first : last + 1]:
                self._count_out(entry)
                del self._index[entry.item.id]
            del self._rows[first : last + 1]
            self._shifted_from(first)
            self.endRemoveRows()
            touched = True

        if appended and self._ordered and len(appended) <= FEW_INSERTS:
            self._insert_in_place([self._entry(item, None) for item in appended])
            touched = True
        elif appended:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(appended) - 1)
            for item in appended:
                entry = self._entry(item, None)
                self._index[item.id] = len(self._rows)
                self._rows.append(entry)
                self._count_in(entry)
                self._schedule(entry)
            self.endInsertRows()
            if self._ordered:
                self._resort()
            touched = True
        if touched:
            self.countersChanged.emit()

    def set_policy(self, policy: SlaPolicy) -> None:
        """Change the SLA targets: every due time moves, so every row is worked out again and shown again."""
        self._policy = policy
        self._span_cache.clear()
        self._look_at_the_clock()
        self._rows = [self._entry(entry.item, entry) for entry in self._rows]
        self._recount()
        self._rebuild_events()
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, _COLUMNS - 1))
        if self._ordered:
            self._resort()
        self.countersChanged.emit()

    def policy(self) -> SlaPolicy:
        """The SLA policy the clocks run by."""
        return self._policy

    # -- the order -------------------------------------------------------------------------------------------------
    def keep_urgency_order(self, on: bool) -> None:
        """Keep the rows in urgency order through every change (sorting them now if they are not)."""
        self._ordered = on
        if on and any(_urgency(a) > _urgency(b) for a, b in zip(self._rows, self._rows[1:], strict=False)):
            self._resort()

    def keeps_urgency_order(self) -> bool:
        """Whether the rows are kept in urgency order."""
        return self._ordered

    def _row(self, escalation_id: int) -> int | None:
        """The row of an escalation now, or None when it is not in the queue."""
        return self._fresh_index().get(escalation_id)

    def _fresh_index(self) -> dict[int, int]:
        """The id -> row index, renumbered first from the lowest row an insert or removal has shifted."""
        start = self._stale_from
        if start is not None:
            self._stale_from = None
            rows = self._rows
            self._index.update(zip([entry.item.id for entry in rows[start:]], range(start, len(rows)), strict=True))
        return self._index

    def _shifted_from(self, row: int) -> None:
        """Rows from ``row`` on may have moved: the index is renumbered from there when next read."""
        if self._stale_from is None or row < self._stale_from:
            self._stale_from = row

    def _in_place(self, row: int) -> bool:
        rows, key = self._rows, self._rows[row].urgency
        return (row == 0 or rows[row - 1].urgency <= key) and (row == len(rows) - 1 or key <= rows[row + 1].urgency)

    def _move_into_place(self, row: int) -> None:
        """Move one row whose urgency changed to its place (a move, so the selection and the view follow it)."""
        rows = self._rows
        entry = rows.pop(row)
        place = bisect_right(rows, entry.urgency, key=_urgency)
        rows.insert(row, entry)
        if place == row:
            return
        destination = place if place < row else place + 1  # counted before the move, as Qt wants it
        self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), destination)
        del rows[row]
        rows.insert(place, entry)
        index = self._fresh_index()
        for moved in range(min(row, place), max(row, place) + 1):
            index[rows[moved].item.id] = moved
        self.endMoveRows()

    def _insert_in_place(self, entries: list[_Entry]) -> None:
        """Insert new rows where the urgency order puts them, one rowsInserted per run of neighbours.

        Each run shifts the rows after it; the index is renumbered once, from the lowest run, when it is next read
        (a slot connected to rowsInserted that looks a row up gets it right, the rows it finds are the model's).
        """
        entries.sort(key=_urgency)
        rows = self._rows
        places = [bisect_right(rows, entry.urgency, key=_urgency) for entry in entries]
        groups: list[tuple[int, list[_Entry]]] = []
        for place, entry in zip(places, entries, strict=True):
            if groups and groups[-1][0] == place:
                groups[-1][1].append(entry)
            else:
                groups.append((place, [entry]))
        for place, group in reversed(groups):  # last first: the places of those before stay right
            self.beginInsertRows(QModelIndex(), place, place + len(group) - 1)
            rows[place:place] = group
            self._index.update(zip([entry.item.id for entry in group], range(place, place + len(group)), strict=True))
            self._shifted_from(place + len(group))
            for entry in group:
                self._count_in(entry)
                self._schedule(entry)
            self.endInsertRows()

    def _resort(self) -> None:
        """Put every row in urgency order at once: one layout change, persistent indexes (the selection) kept."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [self._rows[index.row()].item.id for index in persistent]
        self._rows.sort(key=_urgency)
        self._index = {entry.item.id: row for row, entry in enumerate(self._rows)}
        self._stale_from = None
        moved = [self.index(self._index[i], index.column()) for i, index in zip(ids, persistent, strict=True)]
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    # -- the clock -----------------------------------------------------------------------------------------------
    def tick(self, visible_rows: Iterable[int]) -> list[SlaTransition]:
        """Move the clocks to now: refresh the clock cells of ``visible_rows`` only, and report every transition.

        Transitions are found for every row (the heap holds each row's next threshold, so this touches only the
        rows that crossed one); each is reported once, by ``slaAlert`` and in the returned list.
        """
        self._look_at_the_clock()
        transitions = self._transitions()
        count = len(self._rows)
        rows = sorted({row for row in visible_rows if 0 <= row < count})
        for first, last in _runs_ascending(rows):
            self.dataChanged.emit(self.index(first, Column.WAITING), self.index(last, Column.SLA), TICK_ROLES)
        self.countersChanged.emit()
        return transitions

    def _transitions(self) -> list[SlaTransition]:
        now_us = self._now_us
        events = self._events
        found: list[SlaTransition] = []
        while events and events[0][0] <= now_us:
            _when, escalation_id, generation = heapq.heappop(events)
            row = self._row(escalation_id)
            if row is None:
                continue
            entry = self._rows[row]
            if entry.generation != generation:
                continue  # the item was replaced since; its own event is in the heap
            level = entry.level_at(now_us)
            state = (ClockState.OK, ClockState.WARNING, ClockState.BREACHED)[level]
            if state is not entry.state:
                self._breached -= entry.breached
                entry.state = state
                self._breached += entry.breached
            if level > entry.alerted:
                entry.alerted = level
                transition = SlaTransition(escalation_id, state.value, self._alert_text(entry, now_us))
                found.append(transition)
            self._schedule(entry)
        for transition in found:
            self.slaAlert.emit(transition.escalation_id, transition.state, transition.text)
        return found

    def now(self) -> datetime:
        """The moment the clock cells show (the last tick, load or change)."""
        return self._now

    # -- reading ---------------------------------------------------------------------------------------------------
    def counters(self) -> QueueCounters:
        """Unclaimed cases, breached cases and the longest wait of an unclaimed case, as of the last tick."""
        if self._oldest_stale:
            waiting = [e.queued_us for e in self._rows if e.item.claimed_by_id is None]
            self._oldest_unclaimed_us = min(waiting) if waiting else None
            self._oldest_stale = False
        oldest = self._oldest_unclaimed_us
        longest = _td(max(self._now_us - oldest, 0)) if oldest is not None else timedelta(0)
        return QueueCounters(self._unclaimed, self._breached, longest)

    def item(self, row: int) -> QueueItem:
        """The item shown in ``row`` (a source row)."""
        return self._rows[row].item

    def item_by_id(self, escalation_id: int) -> QueueItem | None:
        """The item for an escalation, or None when it is not in the queue."""
        row = self._row(escalation_id)
        return None if row is None else self._rows[row].item

    def row_of(self, escalation_id: int) -> int:
        """The source row of an escalation; KeyError when it is not in the queue."""
        return self._fresh_index()[escalation_id]

    def items(self) -> list[QueueItem]:
        """Every item, in source order."""
        return [entry.item for entry in self._rows]

    def search_text(self, row: int) -> str:
        """What the search box matches in ``row``, case-folded."""
        return self._haystack(self._rows[row])

    def clock_state(self, row: int) -> ClockState:
        """The SLA state of ``row`` as of the last tick."""
        return self._rows[row].clock_at(self._now_us)[0]

    # -- Qt model interface --------------------------------------------------------------------------------------
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        """Number of open escalations (a table: no children)."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        """Number of columns."""
        return 0 if parent.isValid() else _COLUMNS

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        """Rows can be selected, never edited."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        """Column titles and their explanations."""
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < _COLUMNS:
            return None
        title, tip = HEADERS[Column(section)]
        if role == _DISPLAY:
            return title
        if role == _TOOLTIP:
            return f"{tip}. Click to sort by {title.lower()}."
        if role == _ACCESSIBLE:
            return title
        return None

    def data(self, index: ModelIndex, role: int = _DISPLAY) -> Any:
        """The cell's text, explanations, markers, tints and sort key."""
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if row >= len(self._rows) or column >= _COLUMNS:
            return None
        entry = self._rows[row]
        if role == _DISPLAY:
            if column == Column.WAITING:
                return format_duration(_td(max(self._now_us - entry.queued_us, 0)))
            if column == Column.SLA:
                return self._sla_text(entry)
            return self._texts(entry)[column]
        if role == SortKeyRole:
            return self._sort_keys(entry)[column]
        if role == ItemIdRole:
            return entry.item.id
        if column == Column.SLA:
            state, remaining = entry.clock_at(self._now_us)
            if role == _DECORATION:
                run = 1 - remaining / max(entry.span // _ONE_US, 1)
                key = (state, max(0, min(int(run * CLOCK_STEPS), CLOCK_STEPS)))
                icon = self._icons.get(key)
                if icon is None:
                    icon = self._icons[key] = clock_icon(*key)
                return icon
            if role == _FOREGROUND:
                return state_foreground(state, self._dark)
            if role == _BACKGROUND:
                return state_background(state, self._dark)
            if role == _FONT:
                return self._bold if state is ClockState.BREACHED else None
        elif column == Column.SEVERITY and role == _FONT:
            return self._bold if entry.item.severity is Severity.CRITICAL else None
        if role == _TOOLTIP:
            return self._tooltip(entry, column)
        if role == _ACCESSIBLE:
            return self._accessible(entry, column)
        if role == ClockStateRole:
            return entry.clock_at(self._now_us)[0].value
        return None

    # -- text ------------------------------------------------------------------------------------------------------
    def _sla_text(self, entry: _Entry) -> str:
        state, remaining = entry.clock_at(self._now_us)
        left = format_duration(_td(remaining))
        if state is ClockState.OK:
            return f"{left} left to {entry.target}"
        if state is ClockState.WARNING:
            return f"{WARNING_MARKER} Due soon: {left} left to {entry.target}"
        if state is ClockState.BREACHED:
            return f"{BREACHED_MARKER} Overdue {left} ({entry.target})"
        if entry.held_breached:
            return f"{PAUSED_MARKER} Paused (on hold) · {BREACHED_MARKER} overdue {left}"
        return f"{PAUSED_MARKER} Paused (on hold) · {left} left"

    def _sla_sentence(self, entry: _Entry) -> str:
        state, remaining = entry.clock_at(self._now_us)
        spoken = spoken_duration(_td(remaining))
        if state is ClockState.OK:
            return f"SLA: {spoken} left to {entry.target}"
        if state is ClockState.WARNING:
            return f"SLA: due soon, {spoken} left to {entry.target}"
        if state is ClockState.BREACHED:
            return f"SLA: overdue by {spoken}, {entry.target} target breached"
        if entry.held_breached:
            return f"SLA: paused while on hold, overdue by {spoken}, {entry.target} target breached"
        return f"SLA: paused while on hold, {spoken} left to {entry.target}"

    def _sla_tooltip(self, entry: _Entry) -> str:
        state, remaining = entry.clock_at(self._now_us)
        item, now = entry.item, self._now
        amount = format_duration(_td(remaining))
        target = entry.target.capitalize()
        if state is ClockState.PAUSED:
            since = local_time(item.held_since, now) if item.held_since else "?"
            reason = f" — {item.hold_reason}" if item.hold_reason else ""
            if entry.held_breached:
                return f"On hold since {since}{reason}. {target} target already overdue by {amount}; clock paused."
            return f"On hold since {since}{reason}. The {entry.target} clock is paused with {amount} left."
        due = local_time(_EPOCH + _td(entry.due_us), now)
        limit = format_duration(entry.span)
        warn_at = round(self._policy.warn_ratio * 100)
        if state is ClockState.BREACHED:
            return f"{target} target ({limit}) breached at {due}, {amount} ago."
        return f"{target} target ({limit}) due at {due}: {amount} left. Warning at {warn_at} % of the target."

    def _tooltip(self, entry: _Entry, column: int) -> str:
        item, now = entry.item, self._now
        if column == Column.WAITING:
            waited = format_duration(_td(max(self._now_us - entry.queued_us, 0)))
            return f"In the queue since {local_time(item.queued_at, now)} ({waited})"
        if column == Column.SLA:
            return self._sla_tooltip(entry)
        if column == Column.CUSTOMER:
            parts = [item.customer_name + (f" ({item.customer_ref})" if item.customer_ref else "")]
            parts.append(f"{item.customer_tier.label} tier")
            parts.append(f"lifetime value {item.customer_ltv:,.2f}" + (" (high value)" if item.high_value else ""))
            parts.append(f"churn risk {item.customer_churn_risk:.0%}" + (" (at risk)" if item.churn_risk else ""))
            return " · ".join(parts)
        if column == Column.CLAIMED_BY:
            if item.claimed_by_name is None:
                return "Nobody has claimed it yet"
            since = f" since {local_time(item.claimed_at, now)}" if item.claimed_at else ""
            return f"Claimed by {item.claimed_by_name}{since}"
        if column == Column.SUMMARY:
            head = f"#{item.id}" + (f" (ref {item.ref})" if item.ref else "")
            product = f"\nProduct: {item.product}" if item.product else ""
            return f"{head}{product}\n{item.summary}"
        return self._accessible(entry, column)

    def _accessible(self, entry: _Entry, column: int) -> str:
        item = entry.item
        if column == Column.WAITING:
            return f"Waiting {spoken_duration(_td(max(self._now_us - entry.queued_us, 0)))}"
        if column == Column.SLA:
            return self._sla_sentence(entry)
        if column == Column.SEVERITY:
            return f"Severity: {item.severity.label}"
        if column == Column.CUSTOMER:
            words = [f"Customer {item.customer_name}", f"{item.customer_tier.label} tier"]
            if item.high_value:
                words.append("high value")
            if item.churn_risk:
                words.append("churn risk")
            return ", ".join(words)
        if column == Column.CHANNEL:
            return f"Channel: {item.channel.label}"
        if column == Column.CATEGORY:
            return f"Category: {item.category.label}"
        if column == Column.ESCALATED_BY:
            return f"Escalated by {item.associate_name}" if item.associate_name else "Escalating associate unknown"
        if column == Column.CLAIMED_BY:
            return f"Claimed by {item.claimed_by_name}" if item.claimed_by_name else "Not claimed yet"
        return f"Case {item.id}: {_one_line(item.summary)}"

    def _alert_text(self, entry: _Entry, now_us: int) -> str:
        item = entry.item
        state, remaining = entry.clock_at(now_us)
        who = f"#{item.id} {item.customer_name} ({item.severity.label})"
        if state is ClockState.BREACHED:
            return f"{BREACHED_MARKER} Overdue: {who} — {entry.target} target breached"
        return f"{WARNING_MARKER} Due soon: {who} — {format_duration(_td(remaining))} left to {entry.target}"

    # -- bookkeeping -----------------------------------------------------------------------------------------------
    def _look_at_the_clock(self) -> None:
        self._now = self._now_fn()
        self._now_us = _us(self._now)
        self._dark = palette_is_dark()

    def _spans(self, severity: Severity) -> tuple[timedelta, timedelta, int, int, int, int]:
        """The claim and resolve targets of a severity, and in microseconds each and its warning point."""
        spans = self._span_cache.get(severity)
        if spans is None:
            targets = self._policy.for_severity(severity)
            ratio = self._policy.warn_ratio
            spans = self._span_cache[severity] = (
                targets.claim,
                targets.resolve,
                targets.claim // _ONE_US,
                targets.resolve // _ONE_US,
                (targets.claim * ratio) // _ONE_US,
                (targets.resolve * ratio) // _ONE_US,
            )
        return spans

    def _entry(self, item: QueueItem, previous: _Entry | None) -> _Entry:
        """Work out once what every tick of this item needs (what a paint needs comes on first use).

        Run for every row of a load (10,000 on a full floor), so written for speed: the spans looked up once per
        severity, the entry built positionally (in _Entry's field order), the level worked out inline.
        """
        now_us = self._now_us
        severity = item.severity
        spans = self._span_cache.get(severity) or self._spans(severity)
        # The SLA clock (console.sla.clock) in integer microseconds: claim while unclaimed, then resolve; holds push
        # the due time back, so a paused clock's time left stays put.
        if item.claimed_at is None:
            target, span, span_us, warn_span_us = "claim", spans[0], spans[2], spans[4]
        else:
            target, span, span_us, warn_span_us = "resolve", spans[1], spans[3], spans[5]
        held_before_us = item.held_seconds * 1_000_000
        held_since = item.held_since
        queued_us = (item.queued_at - _EPOCH) // _ONE_US
        if held_since is None:
            held = False
            due_us = queued_us + span_us + held_before_us
            remaining_us = due_us - now_us
            warn_us = queued_us + held_before_us + warn_span_us
            # _Entry.level_at, inline
            current = _LEVEL_BREACHED if now_us > due_us else _LEVEL_WARNING if now_us >= warn_us else _LEVEL_OK
            state = _STATE_AT_LEVEL[current]
            urgency = (0, due_us, _RANK[severity], item.id)
        else:
            held = True
            paused_us = held_before_us + max(now_us - (held_since - _EPOCH) // _ONE_US, 0)
            due_us = queued_us + span_us + paused_us
            remaining_us = due_us - now_us
            warn_us = queued_us + held_before_us + warn_span_us
            current = _LEVEL_OK
            state = _PAUSED
            urgency = (1, remaining_us, _RANK[severity], item.id)
        self._generation += 1
        if previous is not None and previous.target == target:
            # Same target: remember what was already announced, so an item refreshed by the feed between two
            # ticks neither repeats its alert nor swallows one that fell due in between (the next tick gives
            # it). A hold keeps the memory for when the clock runs again; a longer target lets alerts come again.
            alerted = previous.alerted if held else min(previous.alerted, current)
        else:
            alerted = current  # a new item or a new target: no alert for what it already is on arrival
        return _Entry(
            item,
            self._generation,
            target,
            span,
            held,
            queued_us,
            due_us,
            warn_us,
            remaining_us,  # held_remaining_us
            held and remaining_us < 0,  # held_breached
            state,
            alerted,
            urgency,
        )

    @staticmethod
    def _texts(entry: _Entry) -> tuple[str, ...]:
        """The display text of every column that does not move with the clock (worked out once, on first use)."""
        texts = entry.texts
        if texts is None:
            item = entry.item
            texts = entry.texts = (
                "",
                "",
                item.severity.label,
                _customer_text(item),
                item.channel.label,
                item.category.label,
                item.associate_name or NOBODY,
                item.claimed_by_name or NOBODY,
                f"#{item.id} · {_one_line(item.summary)}",
            )
        return texts

    @staticmethod
    def _sort_keys(entry: _Entry) -> tuple[str, ...]:
        """Per column, a string that sorts correctly as plain text (worked out once, when a sort first asks)."""
        keys = entry.sort_keys
        if keys is None:
            item = entry.item
            held, urgent_us, rank, _id = entry.urgency
            queued_us = entry.queued_us
            # Ties break on arrival (longest waiting first), which never changes while the item is in the queue, so
            # a change to one column never changes another column's sort key.
            tie = f"{queued_us + _KEY_OFFSET:020d}:{item.id:012d}"
            keys = entry.sort_keys = (
                f"{_KEY_OFFSET - queued_us:020d}:{item.id:012d}",
                f"{held}:{urgent_us + _KEY_OFFSET:020d}:{rank}:{item.id:012d}",  # the same order as entry.urgency
                f"{rank}\t{tie}",
                f"{item.customer_name.casefold()}\t{tie}",
                f"{item.channel.label.casefold()}\t{tie}",
                f"{item.category.label.casefold()}\t{tie}",
                f"{(item.associate_name or '').casefold()}\t{tie}",
                f"{(item.claimed_by_name or '').casefold()}\t{tie}",
                f"{_one_line(item.summary).casefold()}\t{tie}",
            )
        return keys

    @staticmethod
    def _haystack(entry: _Entry) -> str:
        """What the search box looks through, case-folded (worked out once, at the first search)."""
        haystack = entry.haystack
        if haystack is None:
            item = entry.item
            haystack = entry.haystack = "\n".join(
                [
                    f"#{item.id}",
                    item.customer_name,
                    item.customer_ref or "",
                    item.ref or "",
                    _one_line(item.summary),
                    item.product or "",
                    item.associate_name or "",
                    item.claimed_by_name or "",
                    item.category.label,
                    item.channel.label,
                    _customer_text(item),
                ]
            ).casefold()
        return haystack

    def _signature(self, entry: _Entry, column: int) -> tuple[Any, ...]:
        """What a view can show of one cell: if this differs, the cell changed."""
        if column == Column.SLA:
            shown: object = (self._sla_text(entry), entry.clock_at(self._now_us)[0])
        elif column == Column.WAITING:
            shown = entry.queued_us
        else:
            shown = self._texts(entry)[column]
        return (shown, self._sort_keys(entry)[column], self._tooltip(entry, column), self._accessible(entry, column))

    def _replace(self, row: int, item: QueueItem) -> bool:
        old = self._rows[row]
        if item.version < old.item.version:
            return False
        new = self._entry(item, old)
        changed = [c for c in range(_COLUMNS) if self._signature(old, c) != self._signature(new, c)]
        self._count_out(old)
        self._rows[row] = new
        self._count_in(new)
        self._schedule(new)
        for first, last in _runs_ascending(changed):
            self.dataChanged.emit(self.index(row, first), self.index(row, last))
        return bool(changed) or old.item != new.item

    def _schedule(self, entry: _Entry) -> None:
        when = entry.next_event()
        if when is not None:
            heapq.heappush(self._events, (when, entry.item.id, entry.generation))
        if len(self._events) > 4 * len(self._rows) + 64:
            self._rebuild_events()  # drop events left behind by replaced and removed items

    def _rebuild_events(self) -> None:
        self._events = []
        for entry in self._rows:
            when = entry.next_event()
            if when is not None:
                self._events.append((when, entry.item.id, entry.generation))
        heapq.heapify(self._events)

    def _recount(self) -> None:
        # _count_in for every row, inline (a full load counts 10,000 rows).
        breached = unclaimed = 0
        oldest: int | None = None
        for entry in self._rows:
            if entry.held_breached if entry.held else entry.state is ClockState.BREACHED:  # _Entry.breached
                breached += 1
            if entry.item.claimed_by_id is None:
                unclaimed += 1
                if oldest is None or entry.queued_us < oldest:
                    oldest = entry.queued_us
        self._breached, self._unclaimed = breached, unclaimed
        self._oldest_unclaimed_us = oldest
        self._oldest_stale = False

    def _count_in(self, entry: _Entry) -> None:
        self._breached += entry.breached
        if entry.item.claimed_by_id is None:
            self._unclaimed += 1
            if not self._oldest_stale and (
                self._oldest_unclaimed_us is None or entry.queued_us < self._oldest_unclaimed_us
            ):
                self._oldest_unclaimed_us = entry.queued_us

    def _count_out(self, entry: _Entry) -> None:
        self._breached -= entry.breached
        if entry.item.claimed_by_id is None:
            self._unclaimed -= 1
            if entry.queued_us == self._oldest_unclaimed_us:
                self._oldest_stale = True  # worked out again when next asked


def _urgency(entry: _Entry) -> tuple[int, int, int, int]:
    return entry.urgency


def _runs_ascending(values: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive runs in sorted values: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for value in values:
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _runs_descending(values: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive runs in values sorted high to low, highest run first: [9, 8, 3] -> [(8, 9), (3, 3)]."""
    return [(first, last) for first, last in reversed(_runs_ascending(sorted(values)))]


# -- the proxy ---------------------------------------------------------------------------------------------------
_HAS_FILTER_CHANGE: bool = hasattr(QSortFilterProxyModel, "beginFilterChange")  # Qt 6.9+


class QueueFilterProxy(QSortFilterProxyModel):
    """Sorts the queue (most urgent first unless a column is chosen) and filters it by the filter bar."""

    filtersChanged = Signal()

    def __init__(self, model: QueueModel, current_user_id: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._current_user_id = current_user_id
        self._channels: frozenset[Channel] | None = None
        self._categories: frozenset[Category] | None = None
        self._severities: frozenset[Severity] | None = None
        self._unclaimed_only = False
        self._mine_only = False
        self._terms: tuple[str, ...] = ()
        self._urgency = False
        self.setSourceModel(model)
        self.setSortRole(SortKeyRole)
        # filterAcceptsRow reads the items themselves; pointing the filter role at the id keeps a tick (which
        # never changes an id) from re-running the filter.
        self.setFilterRole(ItemIdRole)
        self.setDynamicSortFilter(True)
        self.sort_by_urgency()

    def source(self) -> QueueModel:
        """The queue model underneath."""
        return self._model

    # -- sorting ---------------------------------------------------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column. The default order (SLA ascending, most urgent first) is the model's own: the model
        keeps its rows in it and the proxy shows them as they are, without a sort that would call back into Python
        for every comparison (tens of thousands on a full floor); any other column is sorted here by its key."""
        urgency = column == Column.SLA and order == Qt.SortOrder.AscendingOrder
        self._urgency = urgency
        if urgency:
            super().sort(-1, order)  # the source's order, which the model keeps urgent-first from now on
            self._model.keep_urgency_order(True)
        else:
            self._model.keep_urgency_order(False)
            super().sort(column, order)

    def sortColumn(self) -> int:
        """The column the rows are sorted by (SLA while they show the default urgency order)."""
        return int(Column.SLA) if self._urgency else super().sortColumn()

    def sort_by_urgency(self) -> None:
        """Most urgent first: overdue, then nearest due, severity breaking ties; cases on hold last."""
        self.sort(Column.SLA, Qt.SortOrder.AscendingOrder)

    def is_urgency_order(self) -> bool:
        """Whether the rows are in urgency order."""
        return self._urgency

    # -- filters ---------------------------------------------------------------------------------------------------
    def set_channels(self, channels: Iterable[Channel] | None) -> None:
        """Show only these channels (None: all)."""
        value = None if channels is None else frozenset(channels)
        self._change(lambda: setattr(self, "_channels", value))

    def set_categories(self, categories: Iterable[Category] | None) -> None:
        """Show only these categories (None: all)."""
        value = None if categories is None else frozenset(categories)
        self._change(lambda: setattr(self, "_categories", value))

    def set_severities(self, severities: Iterable[Severity] | None) -> None:
        """Show only these severities (None: all)."""
        value = None if severities is None else frozenset(severities)
        self._change(lambda: setattr(self, "_severities", value))

    def set_unclaimed_only(self, on: bool) -> None:
        """Show only cases nobody has claimed."""
        self._change(lambda: setattr(self, "_unclaimed_only", on))

    def set_mine_only(self, on: bool) -> None:
        """Show only the signed-in supervisor's cases."""
        self._change(lambda: setattr(self, "_mine_only", on))

    def set_current_user(self, user_id: int) -> None:
        """Whose cases "mine only" shows."""
        self._change(lambda: setattr(self, "_current_user_id", user_id))

    def set_search(self, text: str) -> None:
        """Show rows containing every word of ``text`` (case-insensitive; ``#123`` finds case 123)."""
        terms = tuple(text.casefold().split())
        if terms != self._terms:
            self._change(lambda: setattr(self, "_terms", terms))

    def clear_filters(self) -> None:
        """Show every open escalation."""

        def clear() -> None:
            self._channels = self._categories = None
            self._severities = None
            self._unclaimed_only = self._mine_only = False
            self._terms = ()

        self._change(clear)

    def has_filters(self) -> bool:
        """Whether any filter or search narrows the queue."""
        return bool(
            self._channels is not None
            or self._categories is not None
            or self._severities is not None
            or self._unclaimed_only
            or self._mine_only
            or self._terms
        )

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:
        """Whether a source row passes every filter."""
        item = self._model.item(source_row)
        if self._channels is not None and item.channel not in self._channels:
            return False
        if self._categories is not None and item.category not in self._categories:
            return False
        if self._severities is not None and item.severity not in self._severities:
            return False
        if self._unclaimed_only and item.claimed_by_id is not None:
            return False
        if self._mine_only and item.claimed_by_id != self._current_user_id:
            return False
        if self._terms:
            haystack = self._model.search_text(source_row)
            return all(term in haystack for term in self._terms)
        return True

    def _change(self, update: Callable[[], None]) -> None:
        if _HAS_FILTER_CHANGE:
            self.beginFilterChange()
            update()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            update()
            self.invalidateRowsFilter()
        self.filtersChanged.emit()
