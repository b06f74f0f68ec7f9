"""Where a KB keeps its files, and the key of the code that wrote a cache: what a command needs
before it decides whether to compile (kept apart from the compiler and the model, so that
`kb search` on an unchanged KB loads neither)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from kbengine import __version__ as release

CONFIG_FILE = "kb.yaml"
CACHE_DIR = ".kb"  # the build cache; always safe to delete


@cache
def cache_key() -> str:
    """The release plus the newest module time, so a changed kbengine never reads an old cache."""
    package = Path(__file__).parent
    newest = max(p.stat().st_mtime_ns for p in [*package.rglob("*.py"), *package.glob("schemas/*.json")])
    return f"{release}-{newest}"


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
