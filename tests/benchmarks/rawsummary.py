"""The summary's baseline: the same aggregates as ``SummaryService.build``, hand-written SQL through sqlite3.

Every measure of the summary is here, computed the way the service defines it (README, "What each measure
counts"), with the rows the service fetches (claim and resolution durations for the percentiles, the handover's open
cases, stories, follow-ups due, the goodwill budgets' period figures); nothing is built into objects beyond tuples.
It reads the floor the way the product does (the same passes over each range, the same indexes), so the ratio
between the two is what the product's layers cost, not a difference of query plans.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

QUEUE = "('open', 'claimed', 'reopened')"
TOLERANCE_S = 0.0005


def _t(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _seconds(later: str, earlier: str) -> str:
    return f"round((julianday({later}) - julianday({earlier})) * 86400.0, 3)"


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def raw_summary(conn: sqlite3.Connection, start: datetime, end: datetime) -> dict[str, Any]:
    """The summary of ``[start, end)`` for the whole floor, as plain values."""
    s, e = _t(start), _t(end)
    targets = {
        sev: (claim * 60.0, resolve * 60.0)
        for sev, claim, resolve in conn.execute("SELECT severity, claim_minutes, resolve_minutes FROM sla_policies")
    }
    claim_target = (
        "CASE e.severity " + " ".join(f"WHEN '{k}' THEN {v[0]}" for k, v in targets.items()) + " ELSE 0.0 END"
    )
    resolve_target = (
        "CASE e.severity " + " ".join(f"WHEN '{k}' THEN {v[1]}" for k, v in targets.items()) + " ELSE 0.0 END"
    )
    held_before_claim = (
        "(SELECT coalesce(sum("
        + _seconds(
            "CASE WHEN h.ended_at IS NULL OR h.ended_at > e.first_claimed_at THEN e.first_claimed_at "
            "ELSE h.ended_at END",
            "h.started_at",
        )
        + "), 0.0) FROM hold_periods h WHERE h.escalation_id = e.id AND h.started_at < e.first_claimed_at)"
    )
    ttc = f"({_seconds('e.first_claimed_at', 'e.escalated_at')} - {held_before_claim})"
    resolve_elapsed = f"({_seconds('e.resolved_at', 'e.queued_at')} - e.held_seconds)"
    received_in = "e.escalated_at >= :s AND e.escalated_at < :e"
    p = {"s": s, "e": e}
    out: dict[str, Any] = {}

    def counted(pairs: list[tuple[Any, int]]) -> dict[str, int]:
        totals: dict[str, int] = {}
        for k, n in pairs:
            if k is not None:
                totals[str(k)] = totals.get(str(k), 0) + n
        return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))

    # One pass over the range's arrivals for the count, the breakdowns and the themes' current counts (and one over
    # the previous range): what the product does.
    now_rows = conn.execute(
        f"SELECT e.channel, e.category, e.product, count(*) FROM escalations e WHERE {received_in} "
        "GROUP BY e.channel, e.category, e.product",
        p,
    ).fetchall()
    out["received"] = sum(r[3] for r in now_rows)
    out["by_channel"] = counted([(r[0], r[3]) for r in now_rows])
    out["by_category"] = counted([(r[1], r[3]) for r in now_rows])
    claimed_in = "e.first_claimed_at >= :s AND e.first_claimed_at < :e"
    claims = conn.execute(
        f"SELECT {ttc}, CASE WHEN {ttc} <= {claim_target} + {TOLERANCE_S} THEN 1 ELSE 0 END "
        f"FROM escalations e WHERE {claimed_in}",
        p,
    ).fetchall()
    claimed, claim_ok = len(claims), sum(r[1] for r in claims)
    claim_times = [r[0] for r in claims if r[0] is not None]
    resolved_in = "e.resolved_at >= :s AND e.resolved_at < :e"
    resolutions = conn.execute(
        f"SELECT {_seconds('e.resolved_at', 'e.escalated_at')}, "
        f"CASE WHEN {resolve_elapsed} <= {resolve_target} + {TOLERANCE_S} THEN 1 ELSE 0 END, "
        f"CASE WHEN e.reopen_count = 0 THEN 1 ELSE 0 END FROM escalations e WHERE {resolved_in}",
        p,
    ).fetchall()
    resolved, resolve_ok, first_contact = (
        len(resolutions),
        sum(r[1] for r in resolutions),
        sum(r[2] for r in resolutions),
    )
    resolution_times = [r[0] for r in resolutions]
    # "+f.status": SQLite's way to keep the (status, due_at) index out of it, so done_at's index serves the range
    # (what the product's query does with status || ''); without it every done follow-up in history is read.
    done_in = "+f.status = 'done' AND f.done_at >= :s AND f.done_at < :e"
    # The answers of the range's done follow-ups, per CSAT score (the distribution, and the sums of the rest).
    answers = conn.execute(
        "SELECT f.csat, count(*), count(f.nps), coalesce(sum(CASE WHEN f.nps >= 9 THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN f.nps <= 6 THEN 1 ELSE 0 END), 0), "
        f"coalesce(sum(CASE WHEN f.solved = 0 THEN 1 ELSE 0 END), 0) FROM follow_ups f WHERE {done_in} GROUP BY f.csat",
        p,
    ).fetchall()
    csat_n = sum(r[1] for r in answers if r[0] is not None)
    csat_good = sum(r[1] for r in answers if r[0] is not None and r[0] >= 4)
    nps_n, promoters, detractors = (sum(r[i] for r in answers) for i in (2, 3, 4))
    distribution = dict.fromkeys(range(1, 6), 0) | {r[0]: r[1] for r in answers if r[0] is not None}
    reopened = sum(r[5] for r in answers)
    # Each associate's entries through the (associate_id, effective_at) index, as the product reads them (a range on
    # effective_at alone reads the whole ledger's index).
    per_associate = "associate_id IN (SELECT id FROM associates)"
    spent_by = dict(
        conn.execute(
            f"SELECT associate_id, sum(amount) FROM goodwill_entries WHERE {per_associate} "
            "AND kind IN ('gesture', 'reversal') AND effective_at >= :s AND effective_at < :e GROUP BY associate_id",
            p,
        ).fetchall()
    )
    approvals = dict(
        conn.execute(
            "SELECT status, count(*) FROM goodwill_requests WHERE decided_at >= :s AND decided_at < :e GROUP BY status",
            p,
        ).fetchall()
    )
    before = {"s": _t(start - (end - start)), "e": s}
    then_rows = conn.execute(
        f"SELECT e.category, e.product, count(*) FROM escalations e WHERE {received_in} GROUP BY e.category, e.product",
        before,
    ).fetchall()
    themes = {
        "category": (out["by_category"], counted([(r[0], r[2]) for r in then_rows])),
        "product": (counted([(r[2], r[3]) for r in now_rows]), counted([(r[1], r[2]) for r in then_rows])),
    }
    stories = conn.execute(
        "SELECT st.escalation_id, st.kind, st.text, st.created_at, u.username, c.id, c.name FROM stories st "
        "JOIN escalations e ON e.id = st.escalation_id JOIN customers c ON c.id = e.customer_id "
        "LEFT JOIN users u ON u.id = st.author_id WHERE st.created_at >= :s AND st.created_at < :e "
        "ORDER BY st.created_at, st.id",
        p,
    ).fetchall()
    due = conn.execute(
        "SELECT f.id, f.escalation_id, f.due_at, f.channel, c.id, c.name, u.username FROM follow_ups f "
        "JOIN escalations e ON e.id = f.escalation_id JOIN customers c ON c.id = e.customer_id "
        "LEFT JOIN users u ON u.id = e.claimed_by_id WHERE f.status = 'scheduled' AND f.due_at >= :e AND f.due_at < :n "
        "ORDER BY f.due_at, f.id",
        {"e": e, "n": _t(end + timedelta(hours=8))},
    ).fetchall()
    # The handover: every case open at the end, with the SLA due time worked out in SQL.
    due_at = (
        "CASE WHEN e.claimed_at IS NULL THEN "
        f"julianday(e.queued_at) + (e.held_seconds + {claim_target}) / 86400.0 "
        f"ELSE julianday(e.queued_at) + (e.held_seconds + {resolve_target}) / 86400.0 END"
    )
    handover_cols = (
        "e.id, e.external_ref, e.customer_id, c.name, e.severity, e.status, e.summary, u.username, e.held_since, "
        f"e.hold_reason, e.workflow_step, {due_at}"
    )
    handover_from = (
        "FROM escalations e JOIN customers c ON c.id = e.customer_id LEFT JOIN users u ON u.id = e.claimed_by_id"
    )
    # The queue's ids from the (status, escalated_at) index, then their rows in id order (as the product reads them).
    handover = conn.execute(
        f"SELECT {handover_cols} {handover_from} "
        f"WHERE e.id IN (SELECT id FROM escalations WHERE status IN {QUEUE} AND escalated_at < :e)",
        p,
    ).fetchall()
    handover += conn.execute(
        f"SELECT {handover_cols} {handover_from} WHERE e.resolved_at >= :e AND e.status NOT IN {QUEUE} "
        "AND e.escalated_at < :e",
        p,
    ).fetchall()
    handover.sort(key=lambda r: (r[11] is None, r[11] or 0.0, r[4], r[0]))
    size = 3_600
    flow: dict[str, list[tuple[int, int]]] = {}
    for column in ("escalated_at", "resolved_at"):
        flow[column] = conn.execute(
            f"SELECT CAST({_seconds(f'e.{column}', ':s')} / {size} AS INTEGER) AS bucket, count(*) FROM escalations e "
            f"WHERE e.{column} >= :s AND e.{column} < :e GROUP BY bucket",
            p,
        ).fetchall()
    # Goodwill budgets in the period holding the end (a week from Monday 00:00 UTC, the floor's default).
    monday = (end.astimezone(UTC) - timedelta(days=end.astimezone(UTC).weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    period = {"s": _t(monday), "e": _t(monday + timedelta(days=7))}
    period_spent = conn.execute(
        f"SELECT associate_id, kind = 'adjustment', sum(amount) FROM goodwill_entries WHERE {per_associate} "
        "AND effective_at >= :s AND effective_at < :e GROUP BY associate_id, kind = 'adjustment'",
        period,
    ).fetchall()
    pending = conn.execute(
        "SELECT associate_id, sum(amount) FROM goodwill_requests WHERE status = 'pending' GROUP BY associate_id"
    ).fetchall()
    associates = conn.execute(
        "SELECT a.id, a.name, a.team_id, b.allowance, b.cap FROM associates a "
        "LEFT JOIN goodwill_budgets b ON b.scope_key IN ('associate:' || a.id, 'team:' || a.team_id, 'floor') "
        "WHERE a.active"
    ).fetchall()
    out |= {
        "claimed": claimed,
        "claim_ok": claim_ok,
        "time_to_claim_median_s": _percentile(claim_times, 0.5),
        "time_to_claim_p90_s": _percentile(claim_times, 0.9),
        "resolved": resolved,
        "resolve_ok": resolve_ok,
        "fcr_n": first_contact,
        "resolution_time_median_s": _percentile(resolution_times, 0.5),
        "open_carried_over": len(handover),  # every case open at the end, as the product counts it
        "csat_n": csat_n,
        "csat_good": csat_good,
        "nps_n": nps_n,
        "nps": 100.0 * (promoters - detractors) / nps_n if nps_n else None,
        "csat_distribution": distribution,
        "reopened": reopened,
        "goodwill_spent": round(sum(spent_by.values()), 2),
        "approvals": approvals,
        "themes": themes,
        "stories": len(stories),
        "follow_ups_due": len(due),
        "handover": len(handover),
        "flow": flow,
        "budgets": (len(period_spent), len(pending), len(associates)),
    }
    return out
