"""The summary's charts drawn in a child process (console/summary_charts.py): the same pixels as drawn here, a child
that dies is replaced, a closed renderer refuses, and showing the summary window never loads matplotlib into the
window's process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC

import pytest

from console.summary import SummaryService
from console.summary_charts import ChartColors, ChartRenderer, RendererClosed, chart_request, render
from db.engine import Database
from tests.conftest import ROOT, run_main_env
from tests.test_summary import END, T0, build_floor

COLORS = ChartColors(text="#101010", mid="#808080", window="#f0f0f0", base="#ffffff")


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url)
    yield database
    database.dispose()


def test_the_child_draws_exactly_what_this_process_draws_and_says_where_each_bar_is(db: Database) -> None:
    build_floor(db)
    summary = SummaryService(db).build(T0, END)
    request = chart_request(summary, UTC, COLORS, (640, 480), 1.0)
    assert request.data.by_category == summary.by_category  # what the charts show, nothing more
    renderer = ChartRenderer()
    try:
        assert renderer.in_child
        child = renderer.render(request)
        assert renderer.child_pid is not None
    finally:
        renderer.close()
    here = render(request)
    assert (child.width, child.height) == (here.width, here.height) == (640, 480)
    assert len(child.pixels) == 640 * 480 * 4
    assert child.pixels == here.pixels
    assert child.bar_counts == here.bar_counts
    assert child.bar_counts["category"] == len(summary.by_category)
    assert child.tick_labels == here.tick_labels
    # Every bar's box is on the rendering; on the charts a click drills into, the point at a bar's centre finds that
    # bar again (the goodwill chart draws each associate's spent bar over their allowance bar).
    for bar in child.bars:
        assert 0 <= bar.left < bar.right <= 640
        assert 0 <= bar.top <= bar.bottom <= 480
        if bar.kind == "goodwill":
            continue
        found = child.bar_at((bar.left + bar.right) / 2, (bar.top + bar.bottom) / 2)
        assert found is not None
        assert (found.kind, found.index) == (bar.kind, bar.index)


def test_a_child_that_dies_is_replaced_and_a_closed_renderer_refuses(db: Database) -> None:
    build_floor(db)
    request = chart_request(SummaryService(db).build(T0, END), UTC, COLORS, (400, 300), 2.0)
    renderer = ChartRenderer()
    try:
        first = renderer.render(request)
        assert (first.width, first.height) == (800, 600)  # physical pixels at ratio 2
        pid = renderer.child_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        again = renderer.render(request)  # the dead child fails once; a new one answers
        assert again.pixels == first.pixels
        assert renderer.in_child
        assert renderer.child_pid not in (None, pid)
    finally:
        renderer.close()
    assert renderer.closed
    with pytest.raises(RendererClosed):
        renderer.render(request)


def test_showing_the_summary_window_never_loads_matplotlib_into_the_windows_process(
    db: Database, sqlite_url: str
) -> None:
    build_floor(db)
    code = (
        "import sys, time\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from main import build_main_window\n"
        f"window = build_main_window({sqlite_url!r}, 'sam')\n"
        "window.show()\n"
        "view = window.show_summary_view()\n"
        "deadline = time.monotonic() + 60\n"
        "while (view.charts is None or view.filling) and time.monotonic() < deadline:\n"
        "    QApplication.processEvents()\n"
        "    time.sleep(0.01)\n"
        "print(view.charts is not None, view.charts.bar_count('category') if view.charts else -1)\n"
        "print('matplotlib' in sys.modules)\n"
        "window.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=run_main_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shown, loaded = done.stdout.strip().splitlines()[-2:]
    assert shown.split()[0] == "True"  # the charts are on screen ...
    assert loaded == "False"  # ... drawn by the child


def test_the_chart_process_loads_matplotlib_but_not_the_database_layer() -> None:
    code = (
        "import sys\n"
        "import console.summary_charts as charts\n"
        "charts._load_matplotlib()  # what the child does first\n"
        "print('matplotlib' in sys.modules, 'sqlalchemy' in sys.modules, 'console.summary' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=run_main_env(),
        check=True,
    )
    assert done.stdout.split() == ["True", "False", "False"]
