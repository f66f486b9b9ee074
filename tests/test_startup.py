"""What a start leaves out, and that leaving it out changes nothing: the quick schema check, the command line's
plain values, and collections held back while the window comes up."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command

from console import cli, startup
from console.cli import goodwill as cli_goodwill
from console.cli import importing as cli_importing
from console.goodwill import REASON_CODES, GestureType, Period
from console.importer import DEFAULT_BATCH_SIZE, PRESETS
from db.engine import Database
from db.migrate import HEAD_REVISION, alembic_config, head_revision, is_at_head, stamped_revisions, upgrade_database
from tests.conftest import PYTHON, ROOT, run_main_env


def test_the_head_revision_constant_is_the_migration_scripts_head() -> None:
    assert head_revision() == HEAD_REVISION


def test_the_quick_check_knows_an_empty_a_current_and_an_older_database(tmp_path: Path, sqlite_url: str) -> None:
    empty = Database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    older = Database(f"sqlite:///{tmp_path / 'older.sqlite3'}")
    current = Database(sqlite_url)
    try:
        assert stamped_revisions(empty) is None
        assert not is_at_head(empty)
        assert upgrade_database(empty) is True  # the full path still runs when the quick check says no
        assert is_at_head(empty)

        assert stamped_revisions(current) == [HEAD_REVISION]
        assert upgrade_database(current) is False

        cfg = alembic_config()
        with older.transaction() as session:
            cfg.attributes["connection"] = session.connection()
            command.upgrade(cfg, "0004")
        assert stamped_revisions(older) == ["0004"]
        assert not is_at_head(older)
        assert upgrade_database(older) is True  # 0004 -> head for real
        assert stamped_revisions(older) == [HEAD_REVISION]
    finally:
        for database in (empty, older, current):
            database.dispose()


def _modules_after(code: str, url: str) -> set[str]:
    out = subprocess.run(
        [PYTHON, "-c", code + "\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
        env=run_main_env(url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_opening_a_current_database_loads_neither_alembic_nor_the_services(sqlite_url: str) -> None:
    loaded = _modules_after("from console import cli; cli.open_database(cli.parse([]))", sqlite_url)
    assert "sqlalchemy" in loaded  # it did open the database
    assert not {m for m in loaded if m == "alembic" or m.startswith(("alembic.", "mako"))}
    for service in ("console.goodwill", "console.importer", "console.summary", "console.intake"):
        assert service not in loaded


def test_parsing_the_command_line_loads_no_database_library(sqlite_url: str) -> None:
    loaded = _modules_after("from console import cli; cli.parse(['budget', 'show'])", sqlite_url)
    assert "sqlalchemy" not in loaded
    assert "console.goodwill" not in loaded


@pytest.mark.parametrize(
    "argv",
    [[], ["--db", "sqlite:////srv/floor.sqlite3"], ["--demo", "--seed", "3", "--login"], ["--user", "sam", "--db=x"]],
)
def test_the_windows_options_are_read_without_the_commands(argv: list[str], sqlite_url: str) -> None:
    loaded = _modules_after(f"from console import cli; cli.parse({argv!r})", sqlite_url)
    assert not {m for m in loaded if m.startswith("console.cli.")}  # no command module, no command parser
    quick = vars(cli.parse(argv))
    full = vars(cli.build_parser().parse_args(argv))
    for name, default in (("db", None), ("demo", False), ("seed", None)):
        full.setdefault(name, default)
    assert quick == full


@pytest.mark.parametrize("argv", [["--db"], ["--bogus"], ["--help"], ["-h"]])
def test_anything_else_gets_the_whole_parsers_help_and_errors(argv: list[str]) -> None:
    out = subprocess.run([PYTHON, "main.py", *argv], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert "COMMAND" in out.stdout + out.stderr  # the whole parser's usage line names the commands
    assert out.returncode == (0 if argv[0] in ("-h", "--help") else 2)


def test_the_command_lines_plain_values_match_the_services() -> None:
    assert tuple(PRESETS) == cli_importing.PRESET_NAMES
    assert cli_importing.DEFAULT_BATCH_SIZE == DEFAULT_BATCH_SIZE
    assert tuple(g.value for g in GestureType) == cli_goodwill.GESTURE_TYPE_VALUES
    assert tuple(p.value for p in Period) == cli_goodwill.PERIOD_VALUES
    assert tuple(cli_goodwill.REASON_CODES) == tuple(REASON_CODES)


def test_collections_are_held_back_until_resumed_and_a_dialog_collects_meanwhile() -> None:
    assert gc.isenabled()
    try:
        startup.pause()
        assert startup.paused()
        assert not gc.isenabled()
        with startup.collecting():
            assert gc.isenabled()  # a dialog waiting for someone to type collects as usual
        assert not gc.isenabled()
        startup.resume()
        assert gc.isenabled()
        assert not startup.paused()
        startup.resume()  # idempotent
        assert gc.isenabled()
    finally:
        startup.resume()
        gc.enable()
    # Not paused: collecting() leaves the collector as it is.
    with startup.collecting():
        assert gc.isenabled()


def test_no_collections_inside_and_as_they_were_after() -> None:
    assert gc.isenabled()
    with startup.no_collections():
        assert not gc.isenabled()
        with startup.no_collections():  # nested: the outer one turns them back on
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_once_the_queue_is_on_screen_a_busy_worker_yields_to_the_gui_thread_within_a_millisecond() -> None:
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)  # Python's default, which the start keeps
    try:
        startup.settle()
        assert sys.getswitchinterval() == pytest.approx(startup.GUI_SWITCH_INTERVAL_S)
    finally:
        sys.setswitchinterval(before)
