"""What every command shares: finding the KB, compiling it with progress, printing JSON."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from kbengine.layout import find_root

if TYPE_CHECKING:  # `kb search` on an unchanged KB loads neither the compiler nor the model
    from kbengine.kb import KBOutline, KnowledgeBase
    from kbengine.services.errors import UnknownItem
    from kbengine.walk.store import SessionStore

F = TypeVar("F", bound=Callable[..., Any])


def root_option(function: F) -> F:
    return click.option(
        "--root", type=click.Path(file_okay=False, path_type=Path), default=None,
        help="The KB folder (holding kb.yaml). Default: found from the current folder upwards.",
    )(function)


def json_option(function: F) -> F:
    return click.option("--json", "as_json", is_flag=True,
                        help="Print machine-readable JSON instead of text.")(function)


def database_option(function: F) -> F:
    return click.option(
        "--database", metavar="URL", default=None,
        help="The session store: a folder, jsonl:///folder, sqlite:///file.db or postgresql://user@host/db. "
             "Default: $KB_DATABASE_URL, else $KB_SESSIONS, else `sessions:` in kb.yaml, else a folder "
             "in ~/.local/share/kbengine/sessions/.")(function)


def resolve_root(root: Path | None) -> Path:
    """The KB root, or a usage error (exit 2) that says how to point at one."""
    if root is not None:
        if not root.is_dir():
            raise click.UsageError(f"--root {root}: no such folder")
        return root.resolve()
    found = find_root(Path.cwd())
    if found is None:
        raise click.UsageError(
            "no KB here: run kb inside a folder with kb.yaml (or articles/ and trees/), "
            "or pass --root PATH")
    return found


def open_kb(root: Path | None, *, use_cache: bool = True) -> KnowledgeBase:
    """Compile the KB (from cache when unchanged), with a progress bar on a terminal only."""
    from kbengine.compiler import load_content

    return load_content(open_outline(root, use_cache=use_cache))


def open_outline(root: Path | None, *, use_cache: bool = True) -> KBOutline:
    """As open_kb, without reading the articles and graph of an unchanged KB."""
    from kbengine.compiler import compile_outline

    folder = resolve_root(root)
    if not sys.stderr.isatty():
        return compile_outline(folder, use_cache=use_cache)
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("Compiling the KB", total=None)
        return compile_outline(folder, use_cache=use_cache,
                               progress=lambda done, total: bar.update(task, completed=done, total=total))


def open_records(root: Path | None, database: str | None) -> SessionStore:
    """The session store for the records commands; a store named by --database or the environment
    works outside a KB too. SessionError when it cannot be opened."""
    from kbengine.walk.store import open_store, store_url

    named = database or os.environ.get("KB_DATABASE_URL") or os.environ.get("KB_SESSIONS")
    folder = (find_root(Path.cwd()) or Path.cwd()) if named and root is None else resolve_root(root)
    return open_store(store_url(folder, None, database))


def prepare_search(kb: KnowledgeBase) -> None:
    """Bring the search index up to date first, with a spinner on a terminal: the first search
    after a change re-indexes what changed (the whole KB the first time)."""
    if not sys.stderr.isatty():
        return
    from kbengine.search.store import index_is_current, update_index

    if not index_is_current(kb):
        from rich.console import Console

        with Console(stderr=True).status("Updating the search index…"):
            update_index(kb)


def close_ids(item_id: str, known: Iterable[str]) -> str:
    """' Did you mean: a, b?' for known ids that contain or resemble the one typed, else a
    pointer to search."""
    from kbengine.services.errors import similar_ids

    close = similar_ids(item_id, known)
    return f" Did you mean: {', '.join(close)}?" if close else " Try `kb search WORDS`."


def fail_unknown(command: str, unknown: UnknownItem) -> NoReturn:
    """Say that no article or tree has the id, with the likely ones, and exit 1."""
    hint = (f" Did you mean: {', '.join(unknown.suggestions)}?" if unknown.suggestions
            else " Try `kb search WORDS`.")
    click.echo(f"kb {command}: {unknown}.{hint}", err=True)
    raise SystemExit(1)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))
