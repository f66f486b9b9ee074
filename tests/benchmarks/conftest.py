"""Benchmark fixtures: the floor (generated once, cached), working copies of it, the Qt application, PostgreSQL,
and the session-wide results collector that prints the table and writes ``bench.json`` whatever happens."""

from __future__ import annotations

import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.benchmarks import floorgen
from tests.benchmarks.floorgen import FloorStats

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = Path(os.environ.get("SUPERVISOR_CONSOLE_BENCH_CACHE") or ROOT / ".bench-cache")
RESULTS_PATH = ROOT / "bench.json"
BENCH_TIMEOUT_S = 1_200  # per test, generation included (pyproject's 300 s is for unit tests)


# -- results ---------------------------------------------------------------------------------------------------------
@dataclass
class Figure:
    """One measured figure beside its baseline."""

    figure: str  # "2.1", "2.4a", ...
    name: str
    unit: str
    value: float | None
    baseline: float | None
    target: str  # in words: "≤ 1.5 s and ≤ 2.0x"
    passed: bool | None  # None: not measured (skipped)
    max_value: float | None = None
    max_ratio: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """value / baseline."""
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    def as_dict(self) -> dict[str, Any]:
        """bench.json's record: figure, value, baseline, ratio, target, pass, and the rest."""
        data = asdict(self)
        passed = data.pop("passed")
        return {
            "figure": self.figure,
            "name": self.name,
            "unit": self.unit,
            "value": _round(self.value),
            "baseline": _round(self.baseline),
            "ratio": _round(self.ratio),
            "target": self.target,
            "pass": passed,
            "max_value": self.max_value,
            "max_ratio": self.max_ratio,
            "details": data["details"],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


class Results:
    """Everything measured in this run; written to bench.json and printed at the end of the session."""

    def __init__(self) -> None:
        self.figures: list[Figure] = []
        self.started = time.time()
        self.load_before = _loadavg()
        self.floor: dict[str, Any] = {}

    def record(
        self,
        figure: str,
        name: str,
        *,
        unit: str,
        value: float | None,
        baseline: float | None,
        max_value: float | None = None,
        max_ratio: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> Figure:
        """Record a figure; pass = value within ``max_value`` and ratio within ``max_ratio`` (those given)."""
        targets = []
        if max_value is not None:
            targets.append(f"≤ {max_value:g} {unit}")
        if max_ratio is not None:
            targets.append(f"≤ {max_ratio:g}x")
        fig = Figure(figure, name, unit, value, baseline, " and ".join(targets), None, max_value, max_ratio)
        fig.details = details or {}
        if value is not None:
            ok = max_value is None or value <= max_value
            ratio = fig.ratio
            if max_ratio is not None:
                ok = ok and ratio is not None and ratio <= max_ratio
            fig.passed = ok
        self.figures = [f for f in self.figures if f.figure != figure] + [fig]
        return fig

    def as_dict(self) -> dict[str, Any]:
        """The whole of bench.json."""
        return {
            "machine": machine(),
            "load_average": {"start": self.load_before, "end": _loadavg()},
            "floor": self.floor,
            "total_seconds": round(time.time() - self.started, 1),
            "figures": [f.as_dict() for f in sorted(self.figures, key=lambda f: f.figure)],
        }


def check(fig: Figure) -> None:
    """Fail the test, with the numbers, when the figure misses its target (it stays in the table either way)."""
    if fig.passed is False:
        ratio = f", {fig.ratio:.2f}x its baseline {fig.baseline:.4g} {fig.unit}" if fig.ratio is not None else ""
        pytest.fail(f"figure {fig.figure} ({fig.name}): {fig.value:.4g} {fig.unit}{ratio}; target {fig.target}")


def _loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    try:
        import PySide6
        import sqlalchemy
        from PySide6.QtCore import qVersion

        info |= {"qt": qVersion(), "pyside6": PySide6.__version__, "sqlalchemy": sqlalchemy.__version__}
    except ImportError:  # pragma: no cover - the app's own dependencies
        pass
    mem = _meminfo_total_mb()
    if mem:
        info["memory_mb"] = mem
    return info


def _meminfo_total_mb() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def format_table(results: Results) -> str:
    """The table printed at the end of the run."""
    data = results.as_dict()
    m = data["machine"]
    lines = [
        f"Supervisor Console benchmarks — {m['cpus']} × {m['cpu']}, Python {m['python']}, Qt {m.get('qt', '?')} "
        f"(PySide6 {m.get('pyside6', '?')}), SQLite {m['sqlite']}, SQLAlchemy {m.get('sqlalchemy', '?')}",
        f"load average at start {data['load_average']['start']}, at end {data['load_average']['end']}; "
        f"run took {data['total_seconds']:.0f} s",
    ]
    floor = data["floor"]
    if floor:
        how = "generated in this run" if floor.get("generated_now") else "from the cache"
        lines.append(
            f"floor: {floor.get('escalations', '?'):,} escalations ({floor.get('open', '?'):,} open), "
            f"{floor.get('size_mb', 0):,.0f} MB, {how}; generation took {floor.get('generation_seconds', 0):.0f} s"
        )
    header = ("figure", "what", "value", "baseline", "ratio", "target", "pass")
    rows = [header]
    for f in data["figures"]:
        unit = f["unit"]
        value = "—" if f["value"] is None else f"{f['value']:.4g} {unit}"
        base = "—" if f["baseline"] is None else f"{f['baseline']:.4g} {unit}"
        ratio = "—" if f["ratio"] is None else f"{f['ratio']:.2f}x"
        ok = {True: "yes", False: "NO", None: "skipped"}[f["pass"]]
        rows.append((f["figure"], f["name"], value, base, ratio, f["target"], ok))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    for n, row in enumerate(rows):
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append(f"written to {RESULTS_PATH}")
    return "\n".join(lines)


RESULTS = Results()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Benchmarks take longer than unit tests (the first one generates the floor)."""
    for item in items:
        item.add_marker(pytest.mark.timeout(BENCH_TIMEOUT_S))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write bench.json, whatever happened to the tests."""
    RESULTS_PATH.write_text(json.dumps(RESULTS.as_dict(), indent=2) + "\n", encoding="utf-8")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the table at the end of the run."""
    terminalreporter.section("benchmark figures")
    for line in format_table(RESULTS).splitlines():
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def results() -> Results:
    """The session's results collector."""
    return RESULTS


@pytest.fixture(scope="session", autouse=True)
def bytecode() -> None:
    """The project's modules compiled to bytecode first, as installing a copy does (pip compiles on install).

    Python writes the cache itself on a first import, but not where PYTHONDONTWRITEBYTECODE is set (as on some
    build machines): every process the benchmarks start would then compile each of the console's modules from
    source, a tenth of a second of each start that no installed console pays. compileall writes it regardless.
    """
    targets = [str(ROOT / name) for name in ("main.py", "console", "widgets", "db", "tests")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *targets], check=True, stdout=subprocess.DEVNULL)


# -- the floor -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Floor:
    """The cached floor file and what is in it."""

    path: Path
    stats: FloorStats

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


@pytest.fixture(scope="session")
def floor() -> Floor:
    """The 1M-escalation floor, generated on the first run (and its generation time recorded)."""
    began = time.perf_counter()
    path, stats, generated = floorgen.ensure_sqlite_floor(CACHE_DIR)
    RESULTS.floor = {
        "escalations": stats.rows.get("escalations", 0),
        "open": floorgen.FULL_FLOOR.open,
        "rows": stats.rows,
        "size_mb": round(path.stat().st_size / 2**20, 1),
        "generated_now": generated,
        "generation_seconds": round(stats.seconds, 1),
        "fixture_seconds": round(time.perf_counter() - began, 1),
        "generated_at": stats.generated_at,
        "last_shift": [stats.last_shift_start, stats.last_shift_end],
        "generator_version": floorgen.GENERATOR_VERSION,
    }
    print(f"\nfloor {'generated' if generated else 'cached'}: {path} ({stats.seconds:.0f} s to generate)")
    return Floor(path, stats)


def _copy_floor(floor: Floor, name: str) -> Iterator[Floor]:
    run = CACHE_DIR / "run"
    run.mkdir(parents=True, exist_ok=True)
    target = run / name
    _remove_sqlite(target)
    shutil.copyfile(floor.path, target)
    target.chmod(0o600)
    try:
        yield Floor(target, floor.stats)
    finally:
        _remove_sqlite(target)


def _remove_sqlite(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        p.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def working_floor(floor: Floor) -> Iterator[Floor]:
    """A copy of the floor for this run's reads (signing in writes a shift and a login time; the cache stays put)."""
    yield from _copy_floor(floor, "working.sqlite3")


@pytest.fixture(scope="session")
def scratch_floor(floor: Floor) -> Iterator[Floor]:
    """A second copy for the figures that add escalations (live arrivals, the import under the window)."""
    yield from _copy_floor(floor, "scratch.sqlite3")


@pytest.fixture(scope="session")
def cfpb_csv() -> Path:
    """100,000 synthetic rows in the CFPB export's format (cached)."""
    from tests.benchmarks.cfpbgen import ensure_cfpb_csv

    return ensure_cfpb_csv(CACHE_DIR)


# -- Qt and PostgreSQL -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def qt_app() -> Any:
    """The application as the console creates it (names, Fusion style, theme)."""
    from widgets.app import application

    return application()


@dataclass(frozen=True)
class PgFloor:
    """A PostgreSQL floor: the queue at full size and a month of history."""

    url: str
    stats: FloorStats
    server_version: str


@pytest.fixture(scope="module")
def pg_floor() -> Iterator[PgFloor | None]:
    """A throwaway PostgreSQL server with a floor loaded by COPY; None without PostgreSQL's binaries. Stopped
    after the module that uses it (the live-arrival figure), so that its background work (autovacuum after the
    load) does not run beside the figures measured next."""
    from sqlalchemy import create_engine, text

    from tests.pgserver import PostgresServer, find_pg_bindir

    bindir = find_pg_bindir()
    if bindir is None:
        yield None
        return
    server = PostgresServer.start(bindir)
    try:
        engine = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("CREATE DATABASE bench"))
            version = str(conn.execute(text("SHOW server_version")).scalar())
        engine.dispose()
        url = server.url("bench")
        stats = floorgen.generate_postgres(url)
        print(f"\nPostgreSQL {version} floor: {stats.rows.get('escalations')} escalations in {stats.seconds:.0f} s")
        yield PgFloor(url, stats, version)
    finally:
        server.stop()


def python_env(**extra: str) -> dict[str, str]:
    """Environment for a subprocess: offscreen Qt, the repository importable, this test's isolated home."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = str(ROOT)
    env.pop("SUPERVISOR_CONSOLE_DB", None)
    env.update(extra)
    return env


PYTHON = sys.executable
