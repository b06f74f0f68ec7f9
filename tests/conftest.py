"""Shared fixtures: small KBs written inline, and a copy of the bundled KB."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kbengine.compiler import compile_kb
from kbengine.kb import KnowledgeBase

# The `kb` that `pip install -e .` put beside this Python, whatever the shell's PATH holds
# (pyenv shims only learn of new scripts after a rehash).
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "officedocs-support"
# A few hundred articles of that corpus, shipped with the repository (CC BY 4.0, see its ATTRIBUTION.txt),
# so that the real-content tests run on every clone.
CORPUS_SLICE = REPO / "tests" / "fixtures" / "corpus-slice"


def require_corpus() -> Path:
    """The whole shared corpus, or a skip: it sits beside a developer's clone, never in it.
    CI sets KB_REQUIRE_CORPUS=1, which turns the skip into a failure."""
    if not CORPUS.is_dir():
        message = f"the shared corpus is not on this machine: {CORPUS}"
        if os.environ.get("KB_REQUIRE_CORPUS") == "1":
            pytest.fail(message + " (KB_REQUIRE_CORPUS=1)")
        pytest.skip(message)
    return CORPUS

MINIMAL_CONFIG = """\
title: Test help
languages: [en, nl]
support: {email: desk@example.org, phone: "+31 20 555 0100", hours: "Mon-Fri 8-18"}
categories:
  accounts: {title: Accounts}
  printing: {title: Printing}
"""

WriteKB = Callable[..., Path]


@pytest.fixture
def write_kb(tmp_path: Path) -> WriteKB:
    """Write a KB from {relative path: text}; text is dedented; bytes are written as they are."""

    def write(files: dict[str, str | bytes], config: str | None = MINIMAL_CONFIG) -> Path:
        root = tmp_path / "kb"
        root.mkdir(exist_ok=True)
        if config is not None:
            (root / "kb.yaml").write_text(config, "utf-8")
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content).lstrip("\n"), "utf-8")
        return root

    return write


def copy_bundled(target: Path) -> Path:
    """A private copy of the bundled KB (kb.yaml, articles/, trees/) in `target`."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "kb.yaml", target / "kb.yaml")
    for folder in ("articles", "trees"):
        shutil.copytree(REPO / folder, target / folder)
    return target


@pytest.fixture(scope="session")
def bundled_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_bundled(tmp_path_factory.mktemp("bundled"))


@pytest.fixture(scope="session")
def bundled_kb(bundled_root: Path) -> KnowledgeBase:
    return compile_kb(bundled_root)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server for this test run (see tests/postgres.py); skips when there is none."""
    from postgres import server_url

    yield from server_url()


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A new, empty PostgreSQL database of its own for one test."""
    from postgres import new_database

    return new_database(postgres_server)
