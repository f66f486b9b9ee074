"""The summary's baseline: the same aggregates as ``SummaryService.build``, hand-written SQL through sqlite3.

Every measure of the summary is here, computed the way the service defines it (README, "What each measure
counts"), with the rows the service fetches (claim and resolution durations for the percentiles, the handover's open
cases, stories, follow-ups due, the goodwill budgets' period figures); nothing is built into objects beyond tuples.
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

    def one(sql: str, params: dict[str, Any] | None = None) -> Any:
        return conn.execute(sql, params or p).fetchone()

    def grouped(column: str, where: str, params: dict[str, Any] | None = None) -> dict[str, int]:
        rows = conn.execute(
            f"SELECT {column}, count(*) FROM escalations e WHERE {where} GROUP BY {column}", params or p
        )
        return dict(sorted(((str(k), n) for k, n in rows if k is not None), key=lambda kv: (-kv[1], kv[0])))

    out["received"] = one(f"SELECT count(*) FROM escalations e WHERE {received_in}")[0]
    out["by_channel"] = grouped("e.channel", received_in)
    out["by_category"] = grouped("e.category", received_in)
    claimed_in = "e.first_claimed_at >= :s AND e.first_claimed_at < :e"
    claimed, claim_ok = one(
        f"SELECT count(*), coalesce(sum(CASE WHEN {ttc} <= {claim_target} + {TOLERANCE_S} THEN 1 ELSE 0 END), 0) "
        f"FROM escalations e WHERE {claimed_in}"
    )
    claim_times = [
        v for (v,) in conn.execute(f"SELECT {ttc} FROM escalations e WHERE {claimed_in}", p) if v is not None
    ]
    resolved_in = "e.resolved_at >= :s AND e.resolved_at < :e"
    resolved, resolve_ok, first_contact = one(
        f"SELECT count(*), "
        f"coalesce(sum(CASE WHEN {resolve_elapsed} <= {resolve_target} + {TOLERANCE_S} THEN 1 ELSE 0 END), 0), "
        f"coalesce(sum(CASE WHEN e.reopen_count = 0 THEN 1 ELSE 0 END), 0) FROM escalations e WHERE {resolved_in}"
    )
    resolution_times = [
        v
        for (v,) in conn.execute(
            f"SELECT {_seconds('e.resolved_at', 'e.escalated_at')} FROM escalations e WHERE {resolved_in}", p
        )
    ]
    open_now = one(f"SELECT count(*) FROM escalations e WHERE e.status IN {QUEUE} AND e.escalated_at < :e")[0]
    open_then = one(
        f"SELECT count(*) FROM escalations e WHERE e.resolved_at >= :e AND e.status NOT IN {QUEUE} "
        "AND e.escalated_at < :e"
    )[0]
    # "+f.status": SQLite's way to keep the (status, due_at) index out of it, so done_at's index serves the range
    # (what the product's query does with status || ''); without it every done follow-up in history is read.
    done_in = "+f.status = 'done' AND f.done_at >= :s AND f.done_at < :e"
    csat_n, csat_good, nps_n, promoters, detractors = one(
        "SELECT count(f.csat), coalesce(sum(CASE WHEN f.csat >= 4 THEN 1 ELSE 0 END), 0), count(f.nps), "
        "coalesce(sum(CASE WHEN f.nps >= 9 THEN 1 ELSE 0 END), 0), "
        f"coalesce(sum(CASE WHEN f.nps <= 6 THEN 1 ELSE 0 END), 0) FROM follow_ups f WHERE {done_in}"
    )
    distribution = dict.fromkeys(range(1, 6), 0) | dict(
        conn.execute(
            f"SELECT f.csat, count(*) FROM follow_ups f WHERE {done_in} AND f.csat IS NOT NULL GROUP BY f.csat", p
        ).fetchall()
    )
    reopened = one(f"SELECT count(*) FROM follow_ups f WHERE {done_in} AND f.solved = 0")[0]
    spent_by = dict(
        conn.execute(
            "SELECT associate_id, sum(amount) FROM goodwill_entries WHERE kind IN ('gesture', 'reversal') "
            "AND effective_at >= :s AND effective_at < :e GROUP BY associate_id",
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
    themes = {
        kind: (grouped(f"e.{kind}", received_in), grouped(f"e.{kind}", received_in, before))
        for kind in ("category", "product")
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
    handover = conn.execute(
        f"SELECT {handover_cols} {handover_from} WHERE e.status IN {QUEUE} AND e.escalated_at < :e", p
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
        "SELECT associate_id, kind = 'adjustment', sum(amount) FROM goodwill_entries "
        "WHERE effective_at >= :s AND effective_at < :e GROUP BY associate_id, kind = 'adjustment'",
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
        "open_carried_over": open_now + open_then,
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
