"""scripts/test without Chromium: the rest runs and the note says which tests need it; in CI
that is a failure. Run on a copy of the scripts whose setup, ruff and python are stand-ins,
so that nothing is installed and no second suite starts."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INSTALL = "apt-get install chromium"


@pytest.fixture
def checkout(tmp_path):
    """scripts/test and scripts/find-chromium as they are; everything they call recorded."""
    (tmp_path / "scripts").mkdir()
    for name in ("test", "find-chromium"):
        shutil.copy2(ROOT / "scripts" / name, tmp_path / "scripts" / name)
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    calls = tmp_path / "calls"
    stand_ins = {
        "scripts/setup": "exit 0",
        ".venv/bin/ruff": "exit 0",
        # pytest's exit status when some tests fail, to see that it is passed on.
        ".venv/bin/python": f'echo "$*" >> {calls}; exit "${{PYTEST_STATUS:-0}}"',
    }
    for path, body in stand_ins.items():
        file = tmp_path / path
        file.write_text(f"#!/usr/bin/env bash\n{body}\n")
        file.chmod(0o755)
    return tmp_path


def run(checkout, *args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"CI", "CHROMIUM_PATH"}}
    return subprocess.run(
        [checkout / "scripts" / "test", *args], env={**clean, **env},
        capture_output=True, text=True, timeout=60, check=False,
    )


def calls(checkout) -> list[str]:
    file = checkout / "calls"
    return file.read_text().splitlines() if file.exists() else []


def test_without_chromium_the_other_tests_run_and_the_note_names_the_browser_tests(checkout):
    result = run(checkout, "tests/accounts", "-x", CHROMIUM_PATH="/nowhere/chromium")
    assert result.returncode == 0, result.stderr
    assert calls(checkout) == ["-m pytest -m not browser tests/accounts -x"]
    note = [line for line in result.stderr.splitlines() if "tests/browser/" in line]
    # Before the run and again after it, where the person looks last.
    assert len(note) == 2 and "did not run" in note[0] and INSTALL in note[0]


def test_without_chromium_a_failure_of_the_other_tests_still_fails(checkout):
    result = run(checkout, CHROMIUM_PATH="/nowhere/chromium", PYTEST_STATUS="1")
    assert result.returncode == 1


def test_in_ci_a_missing_chromium_fails_instead_of_leaving_the_browser_tests_out(checkout):
    result = run(checkout, CI="true", CHROMIUM_PATH="/nowhere/chromium")
    assert result.returncode != 0
    assert INSTALL in result.stderr
    assert calls(checkout) == []


def test_with_chromium_everything_runs(checkout, tmp_path):
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    result = run(checkout, "-q", CI="true", CHROMIUM_PATH=str(chromium))
    assert result.returncode == 0, result.stderr
    assert calls(checkout) == ["-m pytest -q"]
