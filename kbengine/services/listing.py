"""The KB's articles and trees as a catalogue: what `kb list` prints and an API lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kbengine.kb import KnowledgeBase
from kbengine.model import Article, Tree

Kind = Literal["article", "tree"]


@dataclass(frozen=True)
class Entry:
    kind: Kind
    id: str
    title: str
    summary: str
    lang: str
    category: str
    audience: str
    status: str
    path: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id, "title": self.title, "summary": self.summary,
                "lang": self.lang, "category": self.category, "audience": self.audience,
                "status": self.status, "path": self.path}


def catalogue(kb: KnowledgeBase, *, kinds: tuple[Kind, ...] = ("tree", "article"), lang: str | None = None,
              category: str | None = None, public_only: bool = False) -> list[Entry]:
    """Entries of the given kinds, trees first, each kind sorted by title; filters are all optional."""
    items: list[tuple[Kind, Article | Tree]] = []
    if "tree" in kinds:
        items += [("tree", tree) for tree in kb.trees.values()]
    if "article" in kinds:
        items += [("article", article) for article in kb.articles.values()]
    entries = [Entry(kind, item.id, item.title, item.summary, item.lang, item.category, item.audience,
                     item.status, item.path)
               for kind, item in items
               if (lang is None or item.lang == lang) and (category is None or item.category == category)
               and (not public_only or item.is_public)]
    return sorted(entries, key=lambda e: (kinds.index(e.kind), e.title.casefold(), e.id))
