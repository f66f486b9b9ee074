"""Exports of an end-of-shift summary: JSON (the measures), CSV (one row per escalation), PDF (print-ready).

Every export is made from one ``ShiftSummary`` (and, for CSV, the ``EscalationRow`` list of the same range), so
the numbers agree with the screen and with each other. ``redact=True`` replaces customer names with
``customer #<id>`` everywhere (also inside story texts and case summaries where the name appears).
matplotlib is imported only when a PDF is made, with the Agg backend (no display needed, any thread).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from console.money import money
from console.summary import EscalationRow, ShiftSummary, describe, redacted_name

if TYPE_CHECKING:
    from matplotlib.axes import Axes
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
HANDOVER_ROWS_PER_PAGE = 28


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


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _no_data(ax: Axes, title: str) -> None:
    ax.set_title(title, fontsize=10, loc="left")
    ax.text(0.5, 0.5, "no data", ha="center", va="center", color="#777777", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _flow_chart(ax: Axes, summary: ShiftSummary) -> None:
    unit = {3600: "hour", 86_400: "day"}.get(summary.flow_bucket_seconds, "week")
    title = f"Arrivals vs resolutions per {unit}"
    if not summary.flow or not any(b.arrivals or b.resolutions for b in summary.flow):
        _no_data(ax, title)
        return
    positions = list(range(len(summary.flow)))
    ax.bar([p - 0.2 for p in positions], [b.arrivals for b in summary.flow], width=0.4, label="arrivals")
    ax.bar([p + 0.2 for p in positions], [b.resolutions for b in summary.flow], width=0.4, label="resolutions")
    step = max(1, len(positions) // 8)
    fmt = "%H:%M" if unit == "hour" else "%m-%d"
    ax.set_xticks(positions[::step], [summary.flow[p].start.strftime(fmt) for p in positions[::step]], fontsize=7)
    ax.set_title(title + " (UTC)", fontsize=10, loc="left")
    ax.legend(fontsize=7)


def _category_chart(ax: Axes, summary: ShiftSummary) -> None:
    title = "Received by category"
    if not summary.by_category:
        _no_data(ax, title)
        return
    names = list(summary.by_category)[::-1]
    ax.barh([n.replace("_", " ") for n in names], [summary.by_category[n] for n in names], color="#4c72b0")
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=10, loc="left")


def _goodwill_chart(ax: Axes, summary: ShiftSummary) -> None:
    title = f"Goodwill per associate vs budget ({summary.currency})"
    people = list(summary.goodwill_by_associate)[:12][::-1]
    if not people:
        _no_data(ax, title)
        return
    labels = [_short(g.associate, 18) for g in people]
    positions = list(range(len(people)))
    ax.barh(positions, [float(g.allowance) for g in people], color="#dddddd", label="allowance this period")
    ax.barh(positions, [float(g.period_spent) for g in people], height=0.5, color="#dd8452", label="spent this period")
    ax.scatter([float(g.spent_in_range) for g in people], positions, color="#222222", s=12, zorder=3, label="in range")
    ax.set_yticks(positions, labels, fontsize=7)
    ax.set_title(title, fontsize=10, loc="left")
    ax.legend(fontsize=6, loc="lower right")


def _csat_chart(ax: Axes, summary: ShiftSummary) -> None:
    title = f"CSAT answers ({summary.csat_n})"
    if not summary.csat_n:
        _no_data(ax, title)
        return
    scores = sorted(summary.csat_distribution)
    colors = ["#c44e52", "#dd8452", "#cccc55", "#8fbc8f", "#55a868"]
    ax.bar([str(s) for s in scores], [summary.csat_distribution[s] for s in scores], color=colors[: len(scores)])
    ax.set_xlabel("score (4-5 count as satisfied)", fontsize=7)
    ax.set_title(title, fontsize=10, loc="left")


CHARTS: tuple[str, ...] = ("flow", "category", "goodwill", "csat")


def draw_chart(kind: str, ax: Axes, summary: ShiftSummary) -> None:
    """Draw one of the four summary charts on ``ax`` (the PDF's page 2 and the screen use the same drawing).

    Bars are added in data order: ``flow`` arrivals per bucket then resolutions per bucket; ``category`` the
    categories of ``by_category`` in reverse (largest at the top); ``goodwill`` allowances then spending per
    associate (reversed); ``csat`` scores 1..5.
    """
    {"flow": _flow_chart, "category": _category_chart, "goodwill": _goodwill_chart, "csat": _csat_chart}[kind](
        ax, summary
    )


def _text_table(
    ax: Axes,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    right: Sequence[int] = (),
) -> None:
    """A table of text: left-aligned columns, except those in ``right`` (numbers)."""
    ax.axis("off")
    if not rows:
        ax.text(0, 1, "none", va="top", fontsize=8, color="#777777", transform=ax.transAxes)
        return
    table = ax.table(
        cellText=[list(r) for r in rows],
        colLabels=list(header),
        colWidths=list(widths),
        loc="upper left",
        cellLoc="left",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.scale(1, 1.3)
    for (row, col), cell in table.get_celld().items():
        cell.set_edgecolor("#bbbbbb")
        if col in right:
            cell.get_text().set_horizontalalignment("right")
        if row == 0:
            cell.set_facecolor("#eeeeee")
            cell.set_text_props(weight="bold")


def pdf_page_count(summary: ShiftSummary) -> int:
    """How many pages ``write_pdf`` makes: title and KPIs, charts, themes/stories/follow-ups, handover pages."""
    return 3 + max(1, -(-len(summary.handover) // HANDOVER_ROWS_PER_PAGE))


def write_pdf(summary: ShiftSummary, path: str | Path, *, redact: bool = False, paper: str = "a4") -> int:
    """A print-ready PDF (A4 or Letter, portrait): KPIs, the four charts, themes and stories, the handover.

    Returns the number of pages written.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    size = PAPER_SIZES[paper.lower()]
    data = summary.as_dict(redact=redact)
    who = f"Supervisor: {summary.supervisor}" if summary.supervisor else "Whole floor"
    period = f"{summary.start:%Y-%m-%d %H:%M} – {summary.end:%Y-%m-%d %H:%M} UTC"
    pages = 0

    def page() -> Figure:
        fig = Figure(figsize=size)
        fig.text(0.06, 0.975, "End-of-shift summary", fontsize=9, color="#555555", va="top")
        fig.text(0.94, 0.975, period, fontsize=8, color="#555555", va="top", ha="right")
        return fig

    def emit(pdf: PdfPages, fig: Figure) -> None:
        nonlocal pages
        pages += 1
        fig.text(0.94, 0.02, f"page {pages}", fontsize=7, color="#777777", ha="right")
        pdf.savefig(fig)  # type: ignore[no-untyped-call]

    with PdfPages(
        str(path), metadata={"Title": f"End-of-shift summary {period}", "Creator": "Supervisor Console"}
    ) as pdf:
        # 1. Title and the KPI table.
        fig = page()
        fig.text(0.06, 0.93, "End-of-shift summary", fontsize=20, weight="bold", va="top")
        fig.text(0.06, 0.895, f"{period}    {who}", fontsize=10, va="top")
        ax = fig.add_axes((0.06, 0.25, 0.88, 0.62))
        _text_table(ax, ("Measure", "Value"), kpi_rows(summary), (0.55, 0.45), right=(1,))
        breakdown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.by_channel.items()) or "none"
        fig.text(0.06, 0.2, _short(f"By channel: {breakdown}", 110), fontsize=8, va="top")
        fig.text(
            0.06,
            0.17,
            "n/a: nothing to measure in the range (no claims, resolutions or answers).",
            fontsize=7,
            color="#555555",
            va="top",
        )
        emit(pdf, fig)

        # 2. The charts.
        fig = page()
        grid = fig.subplots(
            2, 2, gridspec_kw={"left": 0.1, "right": 0.95, "top": 0.92, "bottom": 0.08, "hspace": 0.35, "wspace": 0.45}
        )
        _flow_chart(grid[0][0], summary)
        _category_chart(grid[0][1], summary)
        _goodwill_chart(grid[1][0], summary)
        _csat_chart(grid[1][1], summary)
        emit(pdf, fig)

        # 3. Themes, stories and the follow-ups due in the next shift.
        fig = page()
        sections = (
            (
                "Recurring themes (rise against the previous range of the same length)",
                ("kind", "name", "now", "before", "rise"),
                [
                    (t["kind"], _short(str(t["name"]), 48), str(t["count"]), str(t["previous"]), f"+{t['rise']}")
                    for t in data["themes"]
                ],
                (0.12, 0.52, 0.12, 0.12, 0.12),
            ),
            (
                "Stories for the huddle",
                ("", "case", "customer", "story"),
                [
                    (
                        "win" if s["kind"] == "win" else "woe",
                        f"#{s['escalation_id']}",
                        _short(s["customer_name"], 22),
                        _short(s["text"], 70),
                    )
                    for s in data["stories"]
                ],
                (0.07, 0.08, 0.2, 0.65),
            ),
            (
                "Follow-ups due in the next shift",
                ("due (UTC)", "case", "customer", "channel", "holder"),
                [
                    (
                        f["due_at"][:16].replace("T", " "),
                        f"#{f['escalation_id']}",
                        _short(f["customer_name"], 26),
                        f["channel"] or "",
                        f["claimed_by"] or "",
                    )
                    for f in data["follow_ups_due"]
                ],
                (0.2, 0.1, 0.35, 0.15, 0.2),
            ),
        )
        top = 0.93
        for title, header, rows, widths in sections:
            shown = rows[:12]
            height = 0.03 + 0.022 * (len(shown) + 1)
            fig.text(0.06, top, title, fontsize=11, weight="bold", va="top")
            ax = fig.add_axes((0.06, top - 0.02 - height, 0.88, height))
            _text_table(ax, header, shown, widths)
            if len(rows) > len(shown):
                fig.text(0.06, top - 0.025 - height, f"… and {len(rows) - len(shown)} more", fontsize=7, va="top")
            top -= height + 0.08
        emit(pdf, fig)

        # 4. The handover, paginated.
        handover = data["handover"]
        chunks = [handover[i : i + HANDOVER_ROWS_PER_PAGE] for i in range(0, len(handover), HANDOVER_ROWS_PER_PAGE)]
        for number, chunk in enumerate(chunks or [[]], start=1):
            fig = page()
            label = f" ({number}/{len(chunks)})" if len(chunks) > 1 else ""
            fig.text(
                0.06, 0.93, f"Handover: {len(handover)} open at the end{label}", fontsize=13, weight="bold", va="top"
            )
            handover_rows = [
                (
                    f"#{h['escalation_id']}",
                    h["severity"],
                    _short(h["customer_name"], 20),
                    h["status"] + (" (hold)" if h["on_hold"] else ""),
                    h["claimed_by"] or "—",
                    h["workflow_step"] or "—",
                    _short(h["next_action"], 38),
                    (f"{h['due_target']} {h['due_at'][5:16].replace('T', ' ')}" if h["due_at"] else "")
                    + (" ⚠" if h["overdue"] else ""),
                )
                for h in chunk
            ]
            height = min(0.86, 0.03 + 0.027 * (len(handover_rows) + 1))
            ax = fig.add_axes((0.04, 0.9 - height, 0.92, height))
            _text_table(
                ax,
                ("case", "severity", "customer", "state", "holder", "step", "next action", "due (UTC)"),
                handover_rows,
                (0.06, 0.08, 0.15, 0.12, 0.08, 0.08, 0.27, 0.16),
            )
            emit(pdf, fig)
    return pages


def summary_text(summary: ShiftSummary, *, redact: bool = False) -> str:
    """The readable text the CLI prints (customer names replaced when redacting)."""
    if not redact:
        return describe(summary)
    return describe(ShiftSummary.from_dict(summary.as_dict(redact=True)))


def as_export_dict(summary: ShiftSummary, *, redact: bool = False) -> dict[str, Any]:
    """The JSON export as a dict (what ``summary_json`` serialises)."""
    return summary.as_dict(redact=redact)
