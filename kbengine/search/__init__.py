"""Searching the KB: the one code path behind `kb search`, the walk's first question and any other
front end (no click here).

    from kbengine.search import search
    results = search(kb, "printer says offline", lang="en", audience="public")
    results.as_dict()  # the JSON shape `kb search --json` prints

Snippets are plain text with each matched word marked as [[word]]; `SearchHit.snippet_parts()`
splits them for a renderer. The query syntax and the ranking are described in docs/search.md.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kbengine.kb import KnowledgeBase
    from kbengine.search.usage import Usage

from kbengine.search.results import (
    AUDIENCES,
    KINDS,
    MARK_END,
    MARK_START,
    QueryError,
    SearchHit,
    SearchResults,
)

__all__ = ["AUDIENCES", "KINDS", "MARK_END", "MARK_START", "QueryError", "SearchHit", "SearchResults",
           "learned_usage", "record_sources", "search", "search_folder", "search_unchanged", "source_stamp"]


def search(kb: KnowledgeBase, query: str, *, kind: str | None = None, lang: str | None = None,
           tags: Iterable[str] = (), audience: str | None = None, limit: int = 10,
           drafts: bool = False, usage: Usage | None = None) -> SearchResults:
    """Rank the KB's articles and trees for `query`; raises QueryError for a malformed query.

    audience: None = everything published (what agents see), "public" = public and published
    only, "internal" = internal content only. Drafts only with drafts=True; archived never.
    usage: what answered similar queries before (see learned_usage), lifted a little.
    """
    if kind not in (None, *KINDS):
        raise ValueError(f"kind must be None, 'article' or 'tree', not {kind!r}")
    if audience not in (None, *AUDIENCES):
        raise ValueError(f"audience must be None, 'public' or 'internal', not {audience!r}")
    _load_whoosh()
    from kbengine.search.store import repaired_index, shared_index  # Whoosh loads only when a search runs

    filters: dict[str, Any] = {"kind": kind, "lang": lang, "tags": tuple(tags), "audience": audience,
                               "drafts": drafts, "limit": limit, "usage": usage}
    try:
        found = shared_index(kb).search(query, **filters)
    except QueryError:
        raise
    except Exception:  # a damaged segment shows only when it is read: rebuild, then search again
        index = repaired_index(kb)
        try:
            found = index.search(query, **filters)
        finally:
            index.close()
    hits = [_hit(match.shown, match.score, match.snippet) for match in found.matches]
    return SearchResults(query, hits, found.total, found.suggestion)


def _load_whoosh() -> None:
    """Import whoosh the first time a search needs it, without urllib.request: whoosh.compat
    imports it (with http.client, email and ssl, a tenth of a whole `kb search`) only for a
    download helper kbengine never calls, so it gets a stand-in that imports it on use."""
    if "whoosh.compat" in sys.modules or "urllib.request" in sys.modules:
        return
    import urllib

    def urlretrieve(*args: Any, **kwargs: Any) -> Any:
        import urllib.request

        return urllib.request.urlretrieve(*args, **kwargs)

    stand_in = types.ModuleType("urllib.request")
    stand_in.urlretrieve = urlretrieve  # type: ignore[attr-defined]
    sys.modules["urllib.request"] = stand_in
    try:
        import whoosh.compat  # noqa: F401
    finally:
        del sys.modules["urllib.request"]  # the next `import urllib.request` loads the real one
        if getattr(urllib, "request", None) is stand_in:
            del urllib.request


def _hit(shown: dict[str, Any], score: float, snippet: str) -> SearchHit:
    return SearchHit(shown["kind"], shown["id"], shown["title"], shown["summary"], shown["path"],
                     shown["lang"], score, snippet, shown["category"], tuple(shown["tags"]),
                     shown["audience"])


def search_unchanged(root: Path, stamp: str, query: str, *, kind: str | None = None,
                     lang: str | None = None, tags: Iterable[str] = (), audience: str | None = None,
                     limit: int = 10, drafts: bool = False,
                     usage: Usage | None = None) -> SearchResults | None:
    """search() on the index of the KB at `root` without compiling the KB, when the index was made
    from exactly the files of `stamp` (see source_stamp); None when anything changed."""
    _load_whoosh()
    from kbengine.search.store import open_unchanged

    index = open_unchanged(root, stamp)
    if index is None:
        return None
    try:
        found = index.search(query, kind=kind, lang=lang, tags=tuple(tags), audience=audience,
                             drafts=drafts, limit=limit, usage=usage)
    except QueryError:
        raise
    except Exception:  # a damaged index: the compiled path checks it and rebuilds it
        return None
    finally:
        index.close()
    hits = [_hit(match.shown, match.score, match.snippet) for match in found.matches]
    return SearchResults(query, hits, found.total, found.suggestion)


def learned_usage(root: Path) -> Usage | None:
    """What the KB's session store says answered which queries (see kbengine.search.usage);
    None when there are no sessions to learn from."""
    import os

    from kbengine.layout import CACHE_DIR, CONFIG_FILE

    try:  # reading (and validating) kb.yaml costs more than a search: only when it names a store
        named = "sessions:" in (root / CONFIG_FILE).read_text("utf-8", errors="replace")
    except OSError:
        named = False
    if not (named or os.environ.get("KB_DATABASE_URL") or os.environ.get("KB_SESSIONS")) \
            and not _default_sessions_folder(root).is_dir():
        return None  # nothing recorded yet: no need to load the session store's modules
    from kbengine.model import Config
    from kbengine.search.usage import load_usage
    from kbengine.walk.store import folder_of, is_folder, open_store, store_url

    try:
        url = store_url(root, None if named else Config())
        if is_folder(url) and not folder_of(url).is_dir():
            return None
        store = open_store(url)
    except Exception:  # learning is a bonus: a store that cannot be opened never stops a search
        return None
    try:
        return load_usage(store, root / CACHE_DIR / "search-usage.json")
    except Exception:
        return None
    finally:
        store.close()


def _default_sessions_folder(root: Path) -> Path:
    """Where the session store of a KB with no store configured lives (kbengine.walk.store.store_url
    says the same; here without loading it)."""
    import os

    from kbengine.read.slugs import slugify

    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data).expanduser() / "kbengine" / "sessions" / (slugify(root.name) or "kb")


def source_stamp(root: Path) -> str:
    """A digest of the KB's files (names, sizes, times) and kbengine's version."""
    _load_whoosh()
    from kbengine.search.store import source_stamp as stamp_of

    return stamp_of(root)


def record_sources(kb: KnowledgeBase, stamp: str) -> None:
    """After a search of `kb`: the next search_unchanged with `stamp` may skip the compile."""
    _load_whoosh()
    from kbengine.search.store import record_sources as record

    record(kb, stamp)


def search_folder(query: str, root: Path | str | None = None, **filters: Any) -> SearchResults:
    """Find the KB at `root` (default: from the current folder up), compile it and search it."""
    from kbengine.compiler import compile_kb, find_root

    folder = find_root(Path(root) if root is not None else Path.cwd())
    if folder is None:
        raise FileNotFoundError(f"no KB (kb.yaml, articles/ or trees/) at or above {root or Path.cwd()}")
    return search(compile_kb(folder), query, **filters)


class _CallableModule(types.ModuleType):
    """Importing kbengine.search replaces the package's `search` function with this module, so the
    module itself answers `kbengine.search(query, root=None, **filters)` too."""

    def __call__(self, query: str, root: Path | str | None = None, **filters: Any) -> SearchResults:
        return search_folder(query, root, **filters)


sys.modules[__name__].__class__ = _CallableModule
