"""Searching the KB: the one code path behind `kb search`, the walk's first question and `kb serve`.

    from kbengine.search import search
    results = search(kb, "printer says offline", lang="en", audience="public")

Snippets are plain text with each matched word marked as [[word]]; `SearchHit.snippet_parts()`
splits them for a renderer. The query syntax is described in docs/search.md.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kbengine.kb import KnowledgeBase

MARK_START, MARK_END = "[[", "]]"
_MARKED = re.compile(re.escape(MARK_START) + r"(.*?)" + re.escape(MARK_END))
KINDS = ("article", "tree")
AUDIENCES = ("public", "internal")


class QueryError(ValueError):
    """A query that cannot be run; the message says what is wrong, in plain words."""


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One ranked article or tree."""

    kind: str  # "article" or "tree"
    id: str
    title: str
    summary: str
    path: str
    lang: str
    score: float
    snippet: str  # plain text; matched words marked as [[word]]
    category: str = ""
    tags: tuple[str, ...] = ()
    audience: str = "public"

    def snippet_parts(self) -> list[tuple[str, bool]]:
        """The snippet as (text, matched) pieces, for highlighting without parsing marks."""
        parts: list[tuple[str, bool]] = []
        position = 0
        for match in _MARKED.finditer(self.snippet):
            if match.start() > position:
                parts.append((self.snippet[position:match.start()], False))
            parts.append((match.group(1), True))
            position = match.end()
        if position < len(self.snippet):
            parts.append((self.snippet[position:], False))
        return parts

    @property
    def plain_snippet(self) -> str:
        return "".join(text for text, _ in self.snippet_parts())

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "title": self.title, "summary": self.summary,
                "path": self.path, "lang": self.lang, "score": round(self.score, 4),
                "snippet": self.snippet, "category": self.category, "tags": list(self.tags),
                "audience": self.audience}


@dataclass(slots=True)
class SearchResults:
    query: str
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0  # every match, not only the hits shown
    suggestion: str | None = None  # "did you mean" query, when a word looks misspelled

    def as_dict(self) -> dict[str, Any]:
        return {"query": self.query, "total": self.total, "suggestion": self.suggestion,
                "hits": [hit.as_dict() for hit in self.hits]}


def search(kb: KnowledgeBase, query: str, *, kind: str | None = None, lang: str | None = None,
           tags: Iterable[str] = (), audience: str | None = None, limit: int = 10,
           drafts: bool = False) -> SearchResults:
    """Rank the KB's articles and trees for `query`; raises QueryError for a malformed query.

    audience: None = everything published (what agents see), "public" = public and published
    only, "internal" = internal content only. Drafts only with drafts=True; archived never.
    """
    if kind not in (None, *KINDS):
        raise ValueError(f"kind must be None, 'article' or 'tree', not {kind!r}")
    if audience not in (None, *AUDIENCES):
        raise ValueError(f"audience must be None, 'public' or 'internal', not {audience!r}")
    from kbengine.search.index import shared_index  # Whoosh is loaded only when a search runs

    found = shared_index(kb).search(query, kind=kind, lang=lang, tags=tuple(tags), audience=audience,
                                    drafts=drafts, limit=limit)
    hits = [hit for hit in (_hit(kb, match.key, match.score, match.snippet) for match in found.matches)
            if hit is not None]
    return SearchResults(query, hits, found.total, found.suggestion)


def _hit(kb: KnowledgeBase, key: str, score: float, snippet: str) -> SearchHit | None:
    kind, _, item_id = key.partition(":")
    item = kb.articles.get(item_id) if kind == "article" else kb.trees.get(item_id)
    if item is None:
        return None
    return SearchHit(kind, item.id, item.title, item.summary, item.path, item.lang, score, snippet,
                     item.category, tuple(item.tags), item.audience)


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
