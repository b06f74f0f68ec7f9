"""The house standards as checks: ruff clean, and type hints that mypy accepts."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def test_ruff_finds_nothing_in_the_code_tests_and_benchmarks() -> None:
    result = run("ruff", "check", "kbengine", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout


def test_mypy_accepts_the_type_hints_of_kbengine() -> None:
    result = run("mypy", "kbengine", "--ignore-missing-imports", "--cache-dir", "/tmp/kb-mypy-cache")
    assert result.returncode == 0, result.stdout
