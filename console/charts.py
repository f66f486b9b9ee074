"""The summary's four charts, drawn from plain data: the screen's (console/summary_charts.py, in a child process)
and the PDF's chart page (console/summary_export.py) are the same drawing. With the time-zone wording both share.

Nothing here imports the database layer: the child process that draws the screen's charts loads matplotlib and this
module, not SQLAlchemy and the services (a quarter less memory, a faster start). ``chart_data`` takes what the
charts show out of a ShiftSummary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from console.summary import ShiftSummary


class FlowPoint(NamedTuple):
    """One slice of the range: when it starts, arrivals and resolutions in it."""

    start: datetime
    arrivals: int
    resolutions: int


class GoodwillBar(NamedTuple):
    """One associate on the goodwill chart."""

    associate: str
    allowance: float
    period_spent: float
    spent_in_range: float


@dataclass(frozen=True)
class ChartData:
    """What the four charts show of a summary, as plain values (picklable without the services' modules)."""

    flow_bucket_seconds: int
    flow: tuple[FlowPoint, ...]
    by_category: dict[str, int]
    currency: str
    goodwill: tuple[GoodwillBar, ...]  # in the summary's order (most used first)
    csat_n: int
    csat_distribution: dict[int, int]


def chart_data(summary: ShiftSummary) -> ChartData:
    """The charts' data of a summary."""
    return ChartData(
        flow_bucket_seconds=summary.flow_bucket_seconds,
        flow=tuple(FlowPoint(b.start, b.arrivals, b.resolutions) for b in summary.flow),
        by_category=dict(summary.by_category),
        currency=summary.currency,
        goodwill=tuple(
            GoodwillBar(g.associate, float(g.allowance), float(g.period_spent), float(g.spent_in_range))
            for g in summary.goodwill_by_associate
        ),
        csat_n=summary.csat_n,
        csat_distribution=dict(summary.csat_distribution),
    )


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def zone_name(zone: tzinfo | None) -> str:
    """The name of a time zone as people read it (``Europe/London``); ``UTC`` for None."""
    if zone is None:
        return "UTC"
    return str(getattr(zone, "key", None) or zone.tzname(None) or zone)


def zone_time(at: datetime, zone: tzinfo | None, fmt: str = "%a %d %b %H:%M") -> str:
    """A moment as wall-clock time in ``zone`` (UTC for None): ``Tue 01 Dec 14:05``, as on screen."""
    return at.astimezone(zone or UTC).strftime(fmt)


def _no_data(ax: Axes, title: str) -> None:
    ax.set_title(title, fontsize=10, loc="left")
    ax.text(0.5, 0.5, "no data", ha="center", va="center", color="#777777", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _flow_chart(ax: Axes, data: ChartData, zone: tzinfo | None) -> None:
    unit = {3600: "hour", 86_400: "day"}.get(data.flow_bucket_seconds, "week")
    title = f"Arrivals vs resolutions per {unit}"
    if not data.flow or not any(b.arrivals or b.resolutions for b in data.flow):
        _no_data(ax, title)
        return
    positions = list(range(len(data.flow)))
    ax.bar([p - 0.2 for p in positions], [b.arrivals for b in data.flow], width=0.4, label="arrivals")
    ax.bar([p + 0.2 for p in positions], [b.resolutions for b in data.flow], width=0.4, label="resolutions")
    step = max(1, -(-len(positions) // 8))
    fmt = "%H:%M" if unit == "hour" else "%d %b"
    ax.set_xticks(positions[::step], [zone_time(data.flow[p].start, zone, fmt) for p in positions[::step]])
    ax.tick_params(labelsize=7)
    ax.set_xlabel(f"{unit} starting, {zone_name(zone)}", fontsize=7)
    ax.set_title(title, fontsize=10, loc="left")
    ax.legend(fontsize=7)


def _category_chart(ax: Axes, data: ChartData) -> None:
    title = "Received by category"
    if not data.by_category:
        _no_data(ax, title)
        return
    names = list(data.by_category)[::-1]
    ax.barh([n.replace("_", " ") for n in names], [data.by_category[n] for n in names], color="#4c72b0")
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=10, loc="left")


def _goodwill_chart(ax: Axes, data: ChartData) -> None:
    title = f"Goodwill per associate vs budget ({data.currency})"
    people = list(data.goodwill)[:12][::-1]
    if not people:
        _no_data(ax, title)
        return
    labels = [_short(g.associate, 18) for g in people]
    positions = list(range(len(people)))
    ax.barh(positions, [float(g.allowance) for g in people], color="#b8c4d6", label="allowance this period")
    ax.barh(positions, [float(g.period_spent) for g in people], height=0.5, color="#dd8452", label="spent this period")
    ax.scatter([float(g.spent_in_range) for g in people], positions, color="#222222", s=12, zorder=3, label="in range")
    ax.set_yticks(positions, labels, fontsize=7)
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=10, loc="left")
    ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=3, frameon=False)


def _csat_chart(ax: Axes, data: ChartData) -> None:
    title = f"CSAT answers ({data.csat_n})"
    if not data.csat_n:
        _no_data(ax, title)
        return
    scores = sorted(data.csat_distribution)
    colors = ["#c44e52", "#dd8452", "#cccc55", "#8fbc8f", "#55a868"]
    ax.bar([str(s) for s in scores], [data.csat_distribution[s] for s in scores], color=colors[: len(scores)])
    ax.tick_params(labelsize=7)
    ax.set_xlabel("score (4-5 count as satisfied)", fontsize=7)
    ax.set_title(title, fontsize=10, loc="left")


CHARTS: tuple[str, ...] = ("flow", "category", "goodwill", "csat")


def draw_chart(kind: str, ax: Axes, data: ChartData, zone: tzinfo | None = None) -> None:
    """Draw one of the four summary charts on ``ax`` (the PDF's chart page and the screen use the same drawing);
    times (the flow chart's hours) are in ``zone`` (the floor's time zone; UTC for None).

    Bars are added in data order: ``flow`` arrivals per bucket then resolutions per bucket; ``category`` the
    categories of ``by_category`` in reverse (largest at the top); ``goodwill`` allowances then spending per
    associate (reversed); ``csat`` scores 1..5.
    """
    if kind == "flow":
        _flow_chart(ax, data, zone)
        return
    {"category": _category_chart, "goodwill": _goodwill_chart, "csat": _csat_chart}[kind](ax, data)
