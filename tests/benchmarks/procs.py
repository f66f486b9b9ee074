"""Running the console (and its baselines) as separate processes, and reading what they report."""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.conftest import ROOT, python_env
from tests.benchmarks.floorgen import BENCH_PASSWORD, BENCH_USERNAME

MAIN = str(ROOT / "main.py")
START_TIMEOUT_S = 120.0


def console_env(mark: Path, **extra: str) -> dict[str, str]:
    """main.py signed in as the test account, writing the first-paint mark to ``mark``."""
    return python_env(
        SUPERVISOR_CONSOLE_AUTOLOGIN=f"{BENCH_USERNAME}:{BENCH_PASSWORD}",
        SUPERVISOR_CONSOLE_BENCH_MARK=str(mark),
        **extra,
    )


def timed_start(
    argv: list[str], env: dict[str, str], mark: Path, *, timeout: float = START_TIMEOUT_S
) -> dict[str, Any]:
    """Start a process, wait for its mark file, stop it; the mark plus ``seconds`` from launch to the mark."""
    mark.unlink(missing_ok=True)
    launched = time.time()
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not mark.exists():
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"{argv[1:]} exited with {proc.returncode} before painting: {err.strip()[-2000:]}")
            if time.time() - launched > timeout:
                raise TimeoutError(f"{argv[1:]} did not paint within {timeout:.0f} s")
            time.sleep(0.005)
        data: dict[str, Any] = json.loads(mark.read_text(encoding="utf-8"))
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr:
            proc.stderr.close()
    data["seconds"] = data["painted_at"] - launched
    return data


def run_to_mark(
    argv: list[str], env: dict[str, str], mark: Path, *, timeout: float = START_TIMEOUT_S
) -> dict[str, Any]:
    """Run a process that writes its mark and exits by itself; return the mark."""
    mark.unlink(missing_ok=True)
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    if not mark.exists():
        raise RuntimeError(f"{argv[1:]} exited with {done.returncode} without a result: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(mark.read_text(encoding="utf-8"))
    return result


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)
