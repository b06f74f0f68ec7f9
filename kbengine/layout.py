"""Where a KB keeps its files, and kbengine's code version: what a command needs before it
decides whether to compile (kept apart from the compiler so `kb search` does not load it)."""

from __future__ import annotations

from pathlib import Path

from kbengine import __version__ as _release

CONFIG_FILE = "kb.yaml"
CACHE_DIR = ".kb"


def _code_version() -> str:
    """The release plus the newest module time, so a changed kbengine never reads an old cache."""
    package = Path(__file__).parent
    newest = max(p.stat().st_mtime_ns for p in [*package.rglob("*.py"), *package.glob("schemas/*.json")])
    return f"{_release}-{newest}"


code_version = _code_version()


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding kb.yaml (or else articles/ or trees/)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    for folder in (start, *start.parents):
        if (folder / "articles").is_dir() or (folder / "trees").is_dir():
            return folder
    return None
