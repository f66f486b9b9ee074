"""Exports of an end-of-shift summary: JSON (the measures), CSV (one row per escalation), PDF (print-ready).

Every export is made from one ``ShiftSummary`` (and, for CSV, the ``EscalationRow`` list of the same range), so
the numbers agree with the screen and with each other. ``redact=True`` replaces customer names with
``customer #<id>`` everywhere (also inside story texts and case summaries where the name appears).
matplotlib is imported only when a PDF is made, with the Agg backend (no display needed, any thread).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from console.charts import CHARTS, chart_data, draw_chart, zone_name, zone_time
from console.money import money, money_display
from console.summary import EscalationRow, ShiftSummary, describe, redacted_name

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "ref",
    "received",
    "claimed",
    "resolved",
    "status",
    "channel",
    "category",
    "product",
    "severity",
    "customer_id",
    "customer",
    "claimed_by",
    "time_to_claim_s",
    "resolution_time_s",
    "claim_within_sla",
    "resolve_within_sla",
    "reopened",
    "csat",
    "nps",
)
PAPER_SIZES: dict[str, tuple[float, float]] = {"a4": (8.27, 11.69), "letter": (8.5, 11.0)}


def summary_json(summary: ShiftSummary, *, redact: bool = False) -> str:
    """The summary as JSON text: the issue's measure keys, then the lists (goodwill, themes, stories, handover)."""
    return json.dumps(summary.as_dict(redact=redact), indent=2, ensure_ascii=False)


def write_json(summary: ShiftSummary, path: str | Path, *, redact: bool = False) -> None:
    """Write ``summary_json`` to a file (UTF-8)."""
    Path(path).write_text(summary_json(summary, redact=redact) + "\n", encoding="utf-8")


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def csv_record(row: EscalationRow, *, redact: bool = False) -> dict[str, str]:
    """One CSV row: times ISO 8601 UTC, durations in seconds, SLA flags yes/no, empty for missing."""
    return {
        "id": str(row.id),
        "ref": _cell(row.ref),
        "received": _iso(row.escalated_at),
        "claimed": _iso(row.first_claimed_at),
        "resolved": _iso(row.resolved_at),
        "status": row.status,
        "channel": row.channel,
        "category": row.category,
        "product": _cell(row.product),
        "severity": row.severity,
        "customer_id": str(row.customer_id),
        "customer": redacted_name(row.customer_id) if redact else row.customer_name,
        "claimed_by": _cell(row.claimed_by),
        "time_to_claim_s": _cell(row.time_to_claim_s),
        "resolution_time_s": _cell(row.resolution_time_s),
        "claim_within_sla": _cell(row.claim_within_sla),
        "resolve_within_sla": _cell(row.resolve_within_sla),
        "reopened": str(row.reopen_count),
        "csat": _cell(row.csat),
        "nps": _cell(row.nps),
    }


def write_csv_to(rows: Sequence[EscalationRow], out: TextIO, *, redact: bool = False) -> None:
    """Write the rows as CSV with a header (``CSV_COLUMNS``)."""
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(csv_record(row, redact=redact))


def write_csv(rows: Sequence[EscalationRow], path: str | Path, *, redact: bool = False) -> None:
    """Write the CSV export to a file (UTF-8, opens in spreadsheets)."""
    with Path(path).open("w", encoding="utf-8", newline="") as out:
        write_csv_to(rows, out, redact=redact)


# -- PDF ------------------------------------------------------------------------------------------------------------
def _na(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else fmt.format(value)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    from datetime import timedelta

    from console.sla import format_duration

    return format_duration(timedelta(seconds=seconds))


def kpi_rows(summary: ShiftSummary) -> list[tuple[str, str]]:
    """The KPI table as label/value pairs, formatted as on screen ("n/a" where there is nothing to measure)."""
    return [
        ("Received", str(summary.received)),
        ("Claimed", str(summary.claimed)),
        ("Resolved", str(summary.resolved)),
        ("Reopened", str(summary.reopened)),
        ("Still open (carried over)", str(summary.open_carried_over)),
        ("Time to claim, median", _duration(summary.time_to_claim_median_s)),
        ("Time to claim, 90th percentile", _duration(summary.time_to_claim_p90_s)),
        ("Resolution time, median", _duration(summary.resolution_time_median_s)),
        ("Resolution time, mean", _duration(summary.resolution_time_mean_s)),
        ("SLA compliance, claim", _na(_pct(summary.sla_claim_compliance), "{:.1f} %")),
        ("SLA compliance, resolve", _na(_pct(summary.sla_resolve_compliance), "{:.1f} %")),
        ("First-contact resolution", _na(_pct(summary.fcr), "{:.1f} %")),
        ("CSAT (share of 4-5)", f"{_na(_pct(summary.csat), '{:.1f} %')} ({summary.csat_n} answers)"),
        ("NPS", f"{_na(summary.nps, '{:+.0f}')} ({summary.nps_n} answers)"),
        ("Goodwill spent", f"{money(summary.goodwill_spent)} {summary.currency}"),
        ("Approvals granted / declined", f"{summary.approvals_granted} / {summary.approvals_declined}"),
    ]


def _pct(value: float | None) -> float | None:
    return None if value is None else value * 100


def zone_span(start: datetime, end: datetime, zone: tzinfo | None) -> str:
    """``Tue 01 Dec 2026, 14:00 – 22:00`` (one day) or ``Tue 01 Dec 2026 22:00 – Wed 02 Dec 2026 06:00``."""
    lo, hi = start.astimezone(zone or UTC), end.astimezone(zone or UTC)
    if lo.date() == hi.date():
        return f"{lo:%a %d %b %Y}, {lo:%H:%M} – {hi:%H:%M}"
    return f"{lo:%a %d %b %Y %H:%M} – {hi:%a %d %b %Y %H:%M}"


# The PDF is laid out in inches from the bottom-left corner of the page (Figure.dpi_scale_trans): a flow of blocks
# down each page, long tables continued on the next page under their repeated header.
MARGIN = 0.6
TOP = 0.8  # where the content starts, below the running header
BOTTOM = 0.6
FONT = 7.5  # table text, points
LINE = FONT * 1.32 / 72  # one line of table text, inches
PAD = 0.045  # above and below the text of a row
CELL_PAD = 0.05  # left and right of the text in a cell
TITLE = 0.3  # a section title
INK, GREY, RULE, ZEBRA, HEAD = "#1a1a1a", "#5a5a5a", "#c9ced6", "#f2f4f7", "#e1e6ee"


@dataclass(frozen=True)
class _Col:
    title: str
    share: float  # of the table's width
    right: bool = False
    lines: int = 1  # at most this many lines; longer text ends with "…" at a word


class _Measure:
    """Text widths as the PDF draws them (matplotlib's own font metrics), for wrapping at word boundaries."""

    def __init__(self) -> None:
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import TextToPath

        self._path = TextToPath()
        self._fonts = {bold: FontProperties(size=FONT, weight="bold" if bold else "normal") for bold in (False, True)}
        self._cache: dict[tuple[str, float, bool], float] = {}

    def width(self, text: str, size: float = FONT, bold: bool = False) -> float:
        """The width of ``text`` in inches."""
        key = (text, size, bold)
        if key not in self._cache:
            font = self._fonts[bold].copy()
            font.set_size(size)
            width, _height, _descent = self._path.get_text_width_height_descent(text, font, ismath=False)
            self._cache[key] = width / 72
        return self._cache[key]

    def wrap(self, text: str, width: float, lines: int = 1, size: float = FONT, bold: bool = False) -> list[str]:
        """``text`` in at most ``lines`` lines of ``width`` inches; what does not fit ends in "…" at a word."""

        def fits(piece: str) -> bool:
            return self.width(piece, size, bold) <= width

        def cut(word: str, tail: str = "") -> str:  # the longest start of a word that fits (one word too long)
            n = len(word)
            while n > 1 and not fits(word[:n] + tail):
                n -= 1
            return word[:n] + tail

        out: list[str] = []
        for paragraph in text.split("\n"):  # a line break in the text is kept
            current = ""
            for word in paragraph.split():
                trial = f"{current} {word}" if current else word
                if fits(trial):
                    current = trial
                    continue
                if current:
                    out.append(current)
                rest = word
                while not fits(rest):  # a word longer than the column (a link): broken where the column ends
                    piece = cut(rest)
                    out.append(piece)
                    rest = rest[len(piece) :]
                current = rest
                if len(out) > lines:
                    break
            if current:
                out.append(current)
            if len(out) > lines:
                break
        if len(out) > lines:
            out = out[:lines]
            last = out[-1]
            while " " in last and not fits(last + " …"):
                last = last.rsplit(" ", 1)[0]
            out[-1] = last + " …" if fits(last + " …") else cut(last, "…")
        return out or [""]


class _Flow:
    """Pages of drawing operations: blocks go down the page; one that does not fit starts the next page."""

    def __init__(self, size: tuple[float, float]) -> None:
        self.width, self.height = size
        self.pages: list[list[Callable[[Figure], None]]] = []
        self.y = 0.0

    @property
    def inner(self) -> float:
        """The width between the margins."""
        return self.width - 2 * MARGIN

    def page(self) -> None:
        """Start a new page (unless the current one is still empty)."""
        if self.pages and not self.pages[-1]:
            return
        self.pages.append([])
        self.y = self.height - TOP

    def whole_page(self, op: Callable[[Figure], None]) -> None:
        """A page of its own (the charts)."""
        self.page()
        self.pages[-1].append(op)
        self.y = BOTTOM

    def room(self) -> float:
        """Height left on the current page."""
        return self.y - BOTTOM

    def need(self, height: float) -> None:
        """Go to the next page unless ``height`` fits on this one."""
        if not self.pages or (self.room() < height and self.pages[-1]):
            self.page()

    def draw(self, height: float, op: Callable[[Figure, float], None]) -> None:
        """Draw a block of ``height`` at the current place (its top at ``y``) and move down."""
        y = self.y
        self.pages[-1].append(lambda fig: op(fig, y))
        self.y -= height

    def gap(self, height: float) -> None:
        """Leave some space."""
        self.y -= height


def _text(
    fig: Figure,
    x: float,
    y: float,
    text: str,
    *,
    size: float = FONT,
    bold: bool = False,
    color: str = INK,
    ha: str = "left",
) -> None:
    fig.text(
        x,
        y,
        text,
        fontsize=size,
        weight="bold" if bold else "normal",
        color=color,
        ha=ha,
        va="top",
        transform=fig.dpi_scale_trans,
    )


def _rect(fig: Figure, x: float, y: float, width: float, height: float, color: str) -> None:
    from matplotlib.patches import Rectangle

    fig.add_artist(Rectangle((x, y), width, height, facecolor=color, edgecolor="none", transform=fig.dpi_scale_trans))


def _rule(fig: Figure, x: float, y: float, width: float, color: str = RULE, weight: float = 0.5) -> None:
    from matplotlib.lines import Line2D

    fig.add_artist(Line2D([x, x + width], [y, y], color=color, linewidth=weight, transform=fig.dpi_scale_trans))


@dataclass(frozen=True)
class _Rows:
    """A table's header and rows, wrapped to a width: what each takes and how to draw it at (x, y top)."""

    header: float
    draw_header: Callable[[Figure, float, float], None]
    rows: list[tuple[float, Callable[[Figure, float, float], None]]]

    @property
    def height(self) -> float:
        return self.header + sum(h for h, _draw in self.rows)


def _rows(m: _Measure, cols: Sequence[_Col], rows: Sequence[Sequence[str]], width: float) -> _Rows:
    lefts, x = [], 0.0
    for col in cols:
        lefts.append(x)
        x += col.share * width

    def cells(fig: Figure, x0: float, y: float, texts: Sequence[list[str]], bold: bool) -> None:
        for col, left, lines in zip(cols, lefts, texts, strict=True):
            for number, line in enumerate(lines):
                top = y - PAD - number * LINE
                if col.right:
                    _text(fig, x0 + left + col.share * width - CELL_PAD, top, line, bold=bold, ha="right")
                else:
                    _text(fig, x0 + left + CELL_PAD, top, line, bold=bold)

    head = [m.wrap(c.title, c.share * width - 2 * CELL_PAD, 2, bold=True) for c in cols]
    head_h = max(len(lines) for lines in head) * LINE + 2 * PAD

    def draw_header(fig: Figure, x0: float, y: float) -> None:
        _rect(fig, x0, y - head_h, width, head_h, HEAD)
        cells(fig, x0, y, head, True)
        _rule(fig, x0, y - head_h, width, "#8c96a5", 0.7)

    out: list[tuple[float, Callable[[Figure, float, float], None]]] = []
    for index, row in enumerate(rows):
        texts = [m.wrap(text, c.share * width - 2 * CELL_PAD, c.lines) for text, c in zip(row, cols, strict=True)]
        height = max(len(lines) for lines in texts) * LINE + 2 * PAD

        def draw_row(
            fig: Figure,
            x0: float,
            y: float,
            t: list[list[str]] = texts,
            h: float = height,
            zebra: bool = index % 2 == 1,
        ) -> None:
            if zebra:
                _rect(fig, x0, y - h, width, h, ZEBRA)
            cells(fig, x0, y, t, False)
            _rule(fig, x0, y - h, width)

        out.append((height, draw_row))
    return _Rows(head_h, draw_header, out)


def _title(text: str, size: float = 11) -> Callable[[Figure, float], None]:
    def op(fig: Figure, y: float) -> None:
        _text(fig, MARGIN, y, text, size=size, bold=True)

    return op


def _note(text: str, size: float = FONT, color: str = GREY) -> Callable[[Figure, float], None]:
    def op(fig: Figure, y: float) -> None:
        _text(fig, MARGIN, y, text, size=size, color=color)

    return op


def _at_margin(draw: Callable[[Figure, float, float], None]) -> Callable[[Figure, float], None]:
    def op(fig: Figure, y: float) -> None:
        draw(fig, MARGIN, y)

    return op


def _table(
    flow: _Flow, m: _Measure, title: str, cols: Sequence[_Col], rows: Sequence[Sequence[str]], *, empty: str = "none"
) -> None:
    """A full-width table under its title; long ones go on over pages, the title ("continued") and header
    repeated."""
    laid = _rows(m, cols, rows, flow.inner)
    first = laid.rows[0][0] if laid.rows else LINE + 2 * PAD
    flow.need(TITLE + laid.header + first)
    flow.draw(TITLE, _title(title))
    if not laid.rows:
        flow.draw(LINE + 2 * PAD, _note(empty))
        flow.gap(0.2)
        return
    flow.draw(laid.header, _at_margin(laid.draw_header))
    for height, draw_row in laid.rows:
        if flow.room() < height:
            flow.page()
            flow.draw(TITLE, _title(f"{title} (continued)"))
            flow.draw(laid.header, _at_margin(laid.draw_header))
        flow.draw(height, _at_margin(draw_row))
    flow.gap(0.24)


def _side_by_side(
    flow: _Flow, m: _Measure, tables: Sequence[tuple[str, Sequence[_Col], Sequence[Sequence[str]]]], *, gap: float = 0.3
) -> None:
    """Small tables next to each other, each under its title (kept together on one page)."""
    width = (flow.inner - gap * (len(tables) - 1)) / len(tables)
    laid = [(title, _rows(m, cols, rows, width)) for title, cols, rows in tables]
    height = TITLE + max(t.height if t.rows else LINE + 2 * PAD for _title_text, t in laid)

    def op(fig: Figure, y: float) -> None:
        for number, (title, table) in enumerate(laid):
            x = MARGIN + number * (width + gap)
            _text(fig, x, y, title, size=11, bold=True)
            top = y - TITLE
            if not table.rows:
                _text(fig, x, top - PAD, "none", color=GREY)
                continue
            table.draw_header(fig, x, top)
            top -= table.header
            for row_height, draw_row in table.rows:
                draw_row(fig, x, top)
                top -= row_height

    flow.need(height)
    flow.draw(height, op)
    flow.gap(0.24)


def _share(count: int, total: int) -> str:
    return f"{count / total * 100:.0f} %" if total else "n/a"


def _breakdown(counts: dict[str, int]) -> list[list[str]]:
    total = sum(counts.values())
    return [[name.replace("_", " "), str(n), _share(n, total)] for name, n in counts.items()]


def _plan(summary: ShiftSummary, size: tuple[float, float], zone: tzinfo | None, note: str | None) -> _Flow:
    """Lay the PDF out: page 1 (title, handover note, measures, breakdowns, goodwill; continued if long), the chart
    page, themes / stories / follow-ups due, then the handover from a new page."""
    m = _Measure()
    flow = _Flow(size)
    zone_label = zone_name(zone)
    who = f"{summary.supervisor}'s escalations" if summary.supervisor else "Whole floor"

    flow.page()
    flow.draw(0.42, lambda fig, y: _text(fig, MARGIN, y, "End-of-shift summary", size=20, bold=True))
    flow.draw(
        0.26, lambda fig, y: _text(fig, MARGIN, y, f"{zone_span(summary.start, summary.end, zone)}  ·  {who}", size=11)
    )
    made = f"Times in {zone_label} (the floor's time zone). Made {zone_time(summary.generated_at, zone)}."
    flow.draw(0.3, _note(made, size=8))
    if note:
        lines: list[str] = []
        for paragraph in note.splitlines() or [""]:
            lines += m.wrap(paragraph, flow.inner - 0.3, 12, size=9) if paragraph.strip() else [""]
        lines = lines[:14]
        height = 0.3 + len(lines) * 9 * 1.35 / 72 + 0.12

        def note_box(fig: Figure, y: float) -> None:
            _rect(fig, MARGIN, y - height, flow.inner, height, "#fbf6e3")
            _rect(fig, MARGIN, y - height, 0.05, height, "#d9a826")
            _text(fig, MARGIN + 0.15, y - 0.08, "Handover note", size=9.5, bold=True)
            for number, line in enumerate(lines):
                _text(fig, MARGIN + 0.15, y - 0.3 - number * 9 * 1.35 / 72, line, size=9)

        flow.need(height)
        flow.draw(height, note_box)
        flow.gap(0.24)

    kpis = kpi_rows(summary)
    volume = [kpis[i] for i in (0, 1, 2, 3, 4, 14, 15)]
    quality = kpis[5:14]
    measure_cols = (_Col("Measure", 0.6), _Col("Value", 0.4, right=True))
    _side_by_side(
        flow,
        m,
        (
            ("Volume and goodwill", measure_cols, [list(r) for r in volume]),
            ("Speed, SLA and satisfaction", measure_cols, [list(r) for r in quality]),
        ),
    )
    flow.gap(-0.14)
    flow.draw(0.26, _note("n/a: nothing to measure in the range (no claims, resolutions or answers), never 0."))
    count_cols = (_Col("", 0.56), _Col("Received", 0.24, right=True), _Col("Share", 0.2, right=True))
    _side_by_side(
        flow,
        m,
        (
            ("By category", (_Col("Category", 0.56), *count_cols[1:]), _breakdown(summary.by_category)),
            ("By channel", (_Col("Channel", 0.56), *count_cols[1:]), _breakdown(summary.by_channel)),
        ),
    )
    cur = summary.currency
    _table(
        flow,
        m,
        f"Goodwill: spent vs budget per associate ({cur})",
        (
            _Col("Associate", 0.28),
            _Col("Spent in the range", 0.15, right=True),
            _Col("Spent this period", 0.15, right=True),
            _Col("Budget", 0.17, right=True),
            _Col("Remaining", 0.13, right=True),
            _Col("Used", 0.12, right=True),
        ),
        [
            [
                g.associate,
                money_display(g.spent_in_range),
                money_display(g.period_spent),
                f"{money_display(g.allowance)} / {g.period}",
                money_display(g.remaining),
                _share_used(g.period_spent, g.allowance),
            ]
            for g in summary.goodwill_by_associate
        ],
        empty="No goodwill given and no budgets set.",
    )
    flow.gap(-0.14)
    approvals = (
        f"Approvals decided in the range: {summary.approvals_granted} granted, {summary.approvals_declined} declined."
        f"  Goodwill spent in the range: {money_display(summary.goodwill_spent, cur)}."
    )
    flow.need(0.3)
    flow.draw(0.3, _note(approvals, size=8.5, color=INK))

    flow.whole_page(lambda fig: _chart_page(fig, summary, zone))

    flow.page()
    _table(
        flow,
        m,
        "Recurring themes (rise against the previous range of the same length)",
        (
            _Col("Kind", 0.14),
            _Col("Name", 0.5),
            _Col("This range", 0.12, right=True),
            _Col("Before", 0.12, right=True),
            _Col("Rise", 0.12, right=True),
        ),
        [[t.kind, t.name.replace("_", " "), str(t.count), str(t.previous), f"+{t.rise}"] for t in summary.themes],
        empty="Nothing rose against the previous range.",
    )
    _table(
        flow,
        m,
        "Stories for the huddle",
        (
            _Col("", 0.08),
            _Col("Case", 0.07, right=True),
            _Col("Customer", 0.18),
            _Col("When", 0.14),
            _Col("Story", 0.53, lines=4),
        ),
        [
            [
                "★ win" if s.kind == "win" else "☹ woe",
                f"#{s.escalation_id}",
                s.customer_name,
                zone_time(s.at, zone),
                s.text,
            ]
            for s in summary.stories
        ],
        empty="No case was marked as a win or a woe.",
    )
    until = f" (until {zone_time(summary.next_shift_end, zone)})" if summary.next_shift_end else ""
    _table(
        flow,
        m,
        f"Follow-ups due in the next shift{until}: {len(summary.follow_ups_due)}",
        (
            _Col(f"Due ({zone_label})", 0.2),
            _Col("Case", 0.08, right=True),
            _Col("Customer", 0.32),
            _Col("Channel", 0.16),
            _Col("Holder", 0.24),
        ),
        [
            [
                zone_time(f.due_at, zone),
                f"#{f.escalation_id}",
                f.customer_name,
                (f.channel or "—").replace("_", " "),
                f.claimed_by or "unclaimed",
            ]
            for f in summary.follow_ups_due
        ],
        empty="No follow-up falls due in the next shift.",
    )

    flow.page()
    _table(
        flow,
        m,
        f"Handover: {len(summary.handover)} open at the end (times in {zone_label})",
        (
            _Col("Case", 0.075, right=True),
            _Col("Severity", 0.085),
            _Col("Customer", 0.14, lines=2),
            _Col("About", 0.185, lines=3),
            _Col("State", 0.12, lines=3),
            _Col("Step", 0.07, lines=2),
            _Col("Next action", 0.17, lines=3),
            _Col("Due", 0.155, lines=3),
        ),
        [
            [
                f"#{h.escalation_id}",
                h.severity,
                h.customer_name,
                h.summary,
                (f"{h.status} by {h.claimed_by}" if h.claimed_by else f"{h.status}, unclaimed")
                + ("\n(on hold)" if h.on_hold else ""),
                h.workflow_step.replace("_", " ") if h.workflow_step else "—",
                h.next_action,
                (f"{h.due_target}\n{zone_time(h.due_at, zone)}" if h.due_at else "—")
                + ("\n⚠ overdue" if h.overdue else ""),
            ]
            for h in summary.handover
        ],
        empty="Nothing open: the next shift starts with a clean queue.",
    )
    return flow


def _share_used(spent: Decimal, allowance: Decimal) -> str:
    if allowance <= 0:
        return "n/a"
    share = float(spent / allowance * 100)
    return f"{share:.0f} %" + (" ⚠" if share > 80 else "")


def _chart_page(fig: Figure, summary: ShiftSummary, zone: tzinfo | None) -> None:
    width, height = fig.get_size_inches()
    grid = fig.subplots(
        2,
        2,
        gridspec_kw={
            "left": 0.12,
            "right": 1 - MARGIN / width,
            "top": 1 - (TOP + 0.55) / height,
            "bottom": (BOTTOM + 0.7) / height,
            "hspace": 0.4,
            "wspace": 0.5,
        },
    )
    data = chart_data(summary)
    for kind, ax in zip(CHARTS, (grid[0][0], grid[0][1], grid[1][0], grid[1][1]), strict=True):
        draw_chart(kind, ax, data, zone)
    _text(fig, MARGIN, height - TOP + 0.05, "Charts", size=11, bold=True)


def _shown(summary: ShiftSummary, redact: bool) -> ShiftSummary:
    return ShiftSummary.from_dict(summary.as_dict(redact=True)) if redact else summary


def _redact_note(summary: ShiftSummary, note: str | None, redact: bool) -> str | None:
    """The handover note with the names of the summary's customers replaced by their ids, when redacting."""
    if not note or not redact:
        return note
    names: dict[str, int] = {h.customer_name: h.customer_id for h in summary.handover}
    names.update({s.customer_name: s.customer_id for s in summary.stories})
    names.update({f.customer_name: f.customer_id for f in summary.follow_ups_due})
    for name in sorted(names, key=len, reverse=True):
        if name:
            note = note.replace(name, redacted_name(names[name]))
    return note


def pdf_page_count(
    summary: ShiftSummary,
    *,
    paper: str = "a4",
    zone: tzinfo | None = None,
    note: str | None = None,
    redact: bool = False,
) -> int:
    """How many pages ``write_pdf`` makes with the same arguments."""
    return len(
        _plan(_shown(summary, redact), PAPER_SIZES[paper.lower()], zone, _redact_note(summary, note, redact)).pages
    )


def write_pdf(
    summary: ShiftSummary,
    path: str | Path,
    *,
    redact: bool = False,
    paper: str = "a4",
    zone: tzinfo | None = None,
    note: str | None = None,
) -> int:
    """A print-ready PDF (A4 or Letter, portrait), every time in ``zone`` (the floor's time zone; UTC for None).

    Page 1: the range, the handover ``note`` (if given), the measures, by category and channel, goodwill against
    budget per associate and the approvals; then the four charts; the rising themes, the stories and every
    follow-up due in the next shift; and the handover, every open escalation. Long tables go on over as many pages
    as they need, under their repeated header; long texts wrap, and end with "…" at a word only past their lines.
    Returns the number of pages written.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    size = PAPER_SIZES[paper.lower()]
    shown = _shown(summary, redact)
    flow = _plan(shown, size, zone, _redact_note(summary, note, redact))
    who = f"{shown.supervisor}'s escalations" if shown.supervisor else "Whole floor"
    period = f"{zone_span(shown.start, shown.end, zone)} ({zone_name(zone)})"
    total = len(flow.pages)
    with PdfPages(
        str(path), metadata={"Title": f"End-of-shift summary {period}", "Creator": "Supervisor Console"}
    ) as pdf:
        for number, ops in enumerate(flow.pages, start=1):
            fig = Figure(figsize=size)
            width, height = size
            _text(fig, MARGIN, height - 0.4, f"End-of-shift summary  ·  {who}", size=8, color=GREY)
            _text(fig, width - MARGIN, height - 0.4, period, size=8, color=GREY, ha="right")
            _rule(fig, MARGIN, height - 0.58, width - 2 * MARGIN, RULE, 0.6)
            for op in ops:
                op(fig)
            _text(fig, MARGIN, 0.42, f"Supervisor Console  ·  times in {zone_name(zone)}", size=7, color=GREY)
            _text(fig, width - MARGIN, 0.42, f"page {number} of {total}", size=7, color=GREY, ha="right")
            pdf.savefig(fig)
    return total


def summary_text(summary: ShiftSummary, *, redact: bool = False) -> str:
    """The readable text the CLI prints (customer names replaced when redacting)."""
    if not redact:
        return describe(summary)
    return describe(ShiftSummary.from_dict(summary.as_dict(redact=True)))


def as_export_dict(summary: ShiftSummary, *, redact: bool = False) -> dict[str, Any]:
    """The JSON export as a dict (what ``summary_json`` serialises)."""
    return summary.as_dict(redact=redact)
