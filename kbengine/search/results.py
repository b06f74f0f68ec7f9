"""What a search returns: ranked hits with marked snippets, and their JSON shape (no Whoosh here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

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
