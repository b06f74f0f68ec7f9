"""Build state (as Lektor keeps it): what each page of the built site read while it was rendered,
so that the next `kb build` re-renders only the pages whose inputs changed.

Rendering a page records *keys* (`SitePlan.touched`): the articles it shows or links to, the
troubleshooters, the lists it shows (a tag's items, a category's, the A-Z), the files it
includes or links. Each key has a *stamp*, a short text that changes whenever what the key
stands for changes (an article's stamp is its file's content hash, a tag list's stamp is its
items). A page is up to date when its planned form and the stamps of all its keys are what
they were when it was written. What every page reads (kbengine's code, the templates and
assets, kb.yaml, the site's languages) is one *setting* stamp: when it changes, every page is
rendered again.

The state is a pickle in the KB's cache folder (.kb/), one per output folder, removed when a
build starts and written when it is done: a build that stops half-way leaves no state, so the
next build renders everything.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kbengine.kb import CACHE_DIR
from kbengine.model import Diagnostic
from kbengine.site.pages import Page, SitePlan

_FORMAT = 1


def digest(*parts: Any) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()


@dataclass(frozen=True)
class PageRecord:
    """One written page: its planned form, what it read (and the stamps then), what it found."""

    identity: str
    keys: tuple[str, ...]
    stamp: str
    files: frozenset[str] = frozenset()  # KB files (images) it uses, copied into the site
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass
class BuildState:
    inputs: str = ""  # the KB's fingerprint, kbengine, templates and options: equal means no work
    setting: str = ""  # what every page reads: when it differs, every page is rendered again
    pages: dict[str, PageRecord] = field(default_factory=dict)  # by path in the site folder
    copied: dict[str, tuple[int, int]] = field(default_factory=dict)  # KB file -> (mtime, size)
    searched: bool = False  # the site has a Pagefind index of these pages
    outside: dict[str, str] = field(default_factory=dict)  # stamps of included and linked files
    languages: list[str] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    site: tuple[int, int] | None = None  # which site folder: its marker file's inode and time


def site_id(marker: Path) -> tuple[int, int] | None:
    """The marker of a site folder is written once, when the folder is made: another site put in
    its place (built from another KB, or copied back) has another one."""
    try:
        info = marker.stat()
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns


def page_identity(page: Page) -> str:
    """The page as planned: a new title, address or language version renders it again."""
    subject = page.subject
    about = getattr(subject, "id", subject) if subject is not None else None
    return digest(page.url, page.template, page.lang, page.kind, page.title, about,
                  page.node.id if page.node else None, page.extra, sorted(page.alternates.items()),
                  page.listed)


def folder_stamp(folders: Iterable[Path]) -> str:
    """Every file of the template folders (templates and assets), by name and content."""
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file():
                found.append((str(folder), path.relative_to(folder).as_posix(),
                              hashlib.blake2b(path.read_bytes(), digest_size=12).hexdigest()))
    return digest(found)


class Stamps:
    """The current stamp of each key a page can read, worked out once per build, on demand."""

    def __init__(self, root: Path, plan: SitePlan | None = None) -> None:
        self.root = root
        self.plan = plan  # None: only files' stamps (include:, file:) can be asked
        self._known: dict[str, str] = {}

    def of(self, key: str) -> str:
        if key not in self._known:
            self._known[key] = self._work_out(key)
        return self._known[key]

    def combined(self, keys: Iterable[str]) -> str:
        return digest([(key, self.of(key)) for key in keys])

    def _work_out(self, key: str) -> str:
        kind, _, rest = key.partition(":")
        if kind in ("file", "include"):
            # a stat, not a resolve: this runs for every linked file on every build. A link out
            # of the KB is an error (KB107), so no site is built while one is there.
            try:
                info = os.stat(self.root / rest) if ".." not in rest.split("/") else None
            except OSError:
                info = None
            if info is None or not stat.S_ISREG(info.st_mode):
                return "-"
            # a page that links a file only needs it to exist; an include shows its content
            return "file" if kind == "file" else digest(info.st_mtime_ns, info.st_size)
        plan = self.plan
        assert plan is not None, key
        if kind == "article":
            article = plan.articles.get(rest)
            return digest(article.id, article.path, article.content_hash) if article else "-"
        if kind == "trees":  # steps link across trees (gotos, facts), so trees count as one
            return digest(sorted((t.id, t.path, t.content_hash) for t in plan.trees.values()))
        if kind == "related":
            return digest(plan.kb.graph.related(rest))
        if kind == "used-in":
            return digest(plan.kb.graph.used_in_trees(rest))
        if kind == "translations":
            return digest(sorted(plan.translations(rest).items()))
        if kind == "path":
            return digest(plan.article_at(rest))
        if kind == "list":  # list:<lang>:<name>, e.g. list:en:tag:printers
            lang, _, name = rest.partition(":")
            return digest([(type(item).__name__, item.id, item.content_hash)
                           for item in plan.listing(lang, name)])
        raise ValueError(f"unknown build-state key {key!r}")


def state_file(root: Path, out: Path) -> Path:
    """Where the state of the site built into `out` is kept: in the KB's cache folder, never in
    the site (which is published, and would show paths and ids of internal content)."""
    return root / CACHE_DIR / f"site-{digest(str(out.absolute()))}.pickle"


def read_state(path: Path) -> BuildState | None:
    try:
        with path.open("rb") as handle:
            stored = pickle.load(handle)
    except Exception:  # missing or damaged: the next build renders everything
        return None
    if not isinstance(stored, dict) or stored.get("format") != _FORMAT:
        return None
    state = stored.get("state")
    return state if isinstance(state, BuildState) else None


def forget_state(path: Path) -> None:
    """Before a site is changed in place: until the new state is written, it has none."""
    path.unlink(missing_ok=True)


def write_state(path: Path, state: BuildState) -> None:
    try:
        path.parent.mkdir(exist_ok=True)
        aside = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with aside.open("wb") as handle:
            pickle.dump({"format": _FORMAT, "state": state}, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(aside, path)
    except OSError:
        pass  # a read-only KB still builds; its next build renders everything
