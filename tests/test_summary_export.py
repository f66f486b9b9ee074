"""Exports agree with the service and with each other; redaction; the PDF renders with its charts; the CLI."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import statistics
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy
import pytest
from PIL import Image

from console.charts import zone_time
from console.domain import Role
from console.goodwill import GoodwillService
from console.summary import MEASURE_KEYS, FollowUpDue, ShiftSummary, SummaryService
from console.summary_export import pdf_page_count, summary_json, write_csv, write_csv_to, write_pdf
from db.engine import Database
from tests.conftest import MAIN, PYTHON, make_actor, run_main_env
from tests.test_summary import END, T0, build_floor


def in_range(text: str) -> bool:
    return bool(text) and T0 <= datetime.fromisoformat(text) < END


def test_json_and_csv_carry_the_same_numbers_as_the_service(database: Database) -> None:
    floor = build_floor(database)
    service = SummaryService(database)
    summary = service.build(T0, END)
    data = json.loads(summary_json(summary))
    assert set(MEASURE_KEYS) <= set(data)
    assert {k: data[k] for k in MEASURE_KEYS} == json.loads(json.dumps(summary.measures))

    out = io.StringIO()
    write_csv_to(service.rows(T0, END), out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len({r["id"] for r in rows}) == len(rows)
    received = [r for r in rows if in_range(r["received"])]
    claimed = [r for r in rows if in_range(r["claimed"])]
    resolved = [r for r in rows if in_range(r["resolved"])]
    assert len(received) == data["received"]
    assert len(claimed) == data["claimed"]
    assert len(resolved) == data["resolved"]
    claim_times = [float(r["time_to_claim_s"]) for r in claimed]
    assert statistics.median(claim_times) == pytest.approx(data["time_to_claim_median_s"])
    assert float(numpy.percentile(claim_times, 90)) == pytest.approx(data["time_to_claim_p90_s"])
    res_times = [float(r["resolution_time_s"]) for r in resolved]
    assert statistics.mean(res_times) == pytest.approx(data["resolution_time_mean_s"])
    assert sum(r["claim_within_sla"] == "yes" for r in claimed) / len(claimed) == pytest.approx(
        data["sla_claim_compliance"]
    )
    assert sum(r["resolve_within_sla"] == "yes" for r in resolved) / len(resolved) == pytest.approx(
        data["sla_resolve_compliance"]
    )
    assert sum(r["reopened"] == "0" for r in resolved) / len(resolved) == pytest.approx(data["fcr"])
    channels: dict[str, int] = {}
    for r in received:
        channels[r["channel"]] = channels.get(r["channel"], 0) + 1
    assert channels == data["by_channel"]
    # Every case with an answer in the range is a row; its latest answer is there.
    case_a = next(r for r in rows if r["id"] == str(floor.ids["A"]))
    assert (case_a["csat"], case_a["nps"], case_a["customer"]) == ("5", "10", floor.customers["A"])


def test_redaction_replaces_customer_names_with_ids_in_every_export(database: Database, tmp_path: Path) -> None:
    floor = build_floor(database)
    service = SummaryService(database)
    summary = service.build(T0, END)
    text = summary_json(summary, redact=True)
    write_csv(service.rows(T0, END), tmp_path / "s.csv", redact=True)
    write_pdf(summary, tmp_path / "s.pdf", redact=True)
    pdf_text = subprocess.run(["pdftotext", str(tmp_path / "s.pdf"), "-"], capture_output=True, text=True,
                              check=True).stdout  # fmt: skip
    csv_text = (tmp_path / "s.csv").read_text(encoding="utf-8")
    for name in floor.customers.values():
        assert name not in text
        assert name not in csv_text
        assert name not in pdf_text
    handover = json.loads(text)["handover"]
    assert {h["customer_name"] for h in handover} == {f"customer #{h['customer_id']}" for h in handover}
    assert "customer #" in csv_text
    assert "customer #" in pdf_text
    assert floor.customers["E"] in summary_json(summary)  # not redacted unless asked


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_the_pdf_renders_with_its_pages_and_charts(sqlite_url: str, tmp_path: Path, paper: str) -> None:
    database = Database(sqlite_url)
    try:
        build_floor(database)
        summary = SummaryService(database).build(T0, END)
    finally:
        database.dispose()
    path = tmp_path / "summary.pdf"
    pages = write_pdf(summary, path, paper=paper)
    assert pages == pdf_page_count(summary) == 4
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True, timeout=60)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages
    width_in = {"a4": 8.27, "letter": 8.5}[paper]
    for image_path in images:
        with Image.open(image_path) as image:
            assert abs(image.width / 40 - width_in) < 0.1
            grey = image.convert("L")
            dark = sum(1 for value in grey.tobytes() if value < 200)
            assert dark / (grey.width * grey.height) > 0.005, image_path.name  # not blank
    # The chart page is the busiest: four charts' worth of ink, in colour.
    with Image.open(images[1]) as charts:
        raw = charts.convert("RGB").tobytes()
    pixels = [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]
    coloured = [p for p in pixels if max(p) - min(p) > 60]
    assert len(coloured) / len(pixels) > 0.03
    assert len(set(coloured)) >= 5  # the bars' several colours
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for title in ("Arrivals vs resolutions per hour", "Received by category", "Goodwill per associate", "CSAT"):
        assert title in text
    assert "Handover: 3 open" in text


def test_an_empty_summary_still_makes_a_pdf_that_says_no_data(sqlite_url: str, tmp_path: Path) -> None:
    database = Database(sqlite_url)
    try:
        summary = SummaryService(database).build(T0, END)
    finally:
        database.dispose()
    assert write_pdf(summary, tmp_path / "empty.pdf") == 4
    text = subprocess.run(["pdftotext", str(tmp_path / "empty.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    assert "no data" in text
    assert "n/a" in text


def test_the_cli_prints_the_summary_and_writes_the_same_numbers(sqlite_url: str, tmp_path: Path) -> None:
    database = Database(sqlite_url)
    try:
        build_floor(database)
        wanted = SummaryService(database).build(T0, END).measures
    finally:
        database.dispose()
    out = tmp_path / "s.json"
    done = subprocess.run(
        [PYTHON, MAIN, "summary", "--from", T0.isoformat(), "--to", END.isoformat(), "--json", str(out),
         "--csv", str(tmp_path / "s.csv"), "--pdf", str(tmp_path / "s.pdf"), "--redact"],
        env=run_main_env(sqlite_url), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Received        6" in done.stdout
    assert "Customer E Smith" not in done.stdout
    written = json.loads(out.read_text(encoding="utf-8"))
    assert {k: written[k] for k in MEASURE_KEYS} == json.loads(json.dumps(wanted))
    assert (tmp_path / "s.pdf").stat().st_size > 10_000
    assert (tmp_path / "s.csv").read_text(encoding="utf-8").startswith("id,ref,received,")

    bad = subprocess.run([PYTHON, MAIN, "summary", "--from", "yesterday"], env=run_main_env(sqlite_url),
                         capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert bad.returncode == 2
    assert "ISO 8601" in bad.stderr
    unknown = subprocess.run([PYTHON, MAIN, "summary", "--supervisor", "ghost"], env=run_main_env(sqlite_url),
                             capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert unknown.returncode == 1
    assert "ghost" in unknown.stderr


def _crowded(summary: ShiftSummary, follow_ups: int, open_cases: int) -> ShiftSummary:
    """The summary with many follow-ups due and many open cases, some with long texts."""
    long_action = "Call the customer back about the replacement courier, confirm the address and the refund " * 3
    base = summary.handover[0]
    return dataclasses.replace(
        summary,
        follow_ups_due=tuple(
            FollowUpDue(9000 + i, 5000 + i, END + timedelta(minutes=7 * i), "phone", 1, f"Follower {i}", "sam")
            for i in range(follow_ups)
        ),
        handover=tuple(
            dataclasses.replace(base, escalation_id=7000 + i, next_action=long_action, due_at=END + timedelta(hours=i))
            for i in range(open_cases)
        ),
    )


def test_the_pdf_lists_every_follow_up_and_open_case_over_pages_in_the_floor_zone(
    database: Database, tmp_path: Path
) -> None:
    build_floor(database)
    summary = _crowded(SummaryService(database).build(T0, END), follow_ups=61, open_cases=45)
    zone = ZoneInfo("America/New_York")
    path = tmp_path / "crowded.pdf"
    pages = write_pdf(summary, path, zone=zone, note="Watch #7001; call Follower 3 first.")
    assert pages == pdf_page_count(summary, zone=zone, note="x") > 5
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for f in summary.follow_ups_due:  # every one, no "... and N more"
        assert f"#{f.escalation_id}" in text
        assert zone_time(f.due_at, zone) in text  # wall-clock time on the floor, not UTC
    for h in summary.handover:
        assert f"#{h.escalation_id}" in text
    assert "more" not in text.replace("more than", "")
    assert "(continued)" in text
    assert "times in America/New_York" in text
    assert "UTC" not in text
    assert "Handover note" in text
    assert "call Follower 3 first." in text
    for section in ("By category", "By channel", "Goodwill: spent vs budget per associate"):
        assert section in text
    # Long next actions end cleanly at a word, never cut inside one.
    cut = [line for line in text.splitlines() if "…" in line]
    assert cut
    assert all(line.rstrip().endswith(" …") for line in cut)
    assert zone_time(END, zone) == "Mon 02 Mar 11:00"  # 16:00 UTC is 11:00 in New York in March


def test_wrapping_keeps_words_whole_and_marks_what_is_left_out() -> None:
    from console.summary_export import _Measure

    m = _Measure()
    lines = m.wrap("the quick brown fox jumps over the lazy dog " * 5, 1.0, lines=2)
    assert len(lines) == 2
    assert lines[-1].endswith(" …")
    words = {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog"}
    assert all(word in words for line in lines for word in line.removesuffix(" …").split())
    assert m.wrap("claim\nTue 01 Dec 21:24", 3.0, lines=3) == ["claim", "Tue 01 Dec 21:24"]
    assert m.wrap("short", 1.0) == ["short"]


def test_the_cli_pdf_uses_the_floor_zone_and_the_paper(sqlite_url: str, tmp_path: Path) -> None:
    database = Database(sqlite_url)
    try:
        build_floor(database)
        manager = make_actor(database, "mona", Role.MANAGER)
        GoodwillService(database).set_floor_settings(manager, reason="floor in Berlin", timezone="Europe/Berlin")
    finally:
        database.dispose()
    pdf = tmp_path / "s.pdf"
    done = subprocess.run(
        [PYTHON, MAIN, "summary", "--from", T0.isoformat(), "--to", END.isoformat(), "--pdf", str(pdf),
         "--paper", "letter", "--csv", str(tmp_path / "s.csv")],
        env=run_main_env(sqlite_url), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Mon 02 Mar 2026, 09:00 – 17:00" in text  # 08:00-16:00 UTC
    assert "times in Europe/Berlin" in text
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "612 x 792" in info  # Letter
    rows = list(csv.DictReader((tmp_path / "s.csv").open(encoding="utf-8")))
    assert rows
    assert all(r["received"].endswith("+00:00") for r in rows)  # the CSV stays ISO 8601 UTC
