"""The JSON API under /api/v1: thin handlers over the services in content.py and walks.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from kbengine.server import content
from kbengine.server.deps import KB, Who

router = APIRouter(prefix=content.API)


@router.get("/search", tags=["content"])
def search(kb: KB, who: Who, q: Annotated[str, Query(max_length=500)] = "",
           kind: Annotated[str | None, Query(description="article or tree")] = None,
           lang: Annotated[str | None, Query(max_length=20)] = None,
           limit: Annotated[int, Query(ge=1, le=100)] = 10) -> dict[str, Any]:
    """Ranked articles and trees for the words people use, as `kb search --json`."""
    return content.search_hits(kb, who, q, kind=kind, lang=lang, limit=limit)


@router.get("/articles/{article_id}", tags=["content"])
def article(kb: KB, who: Who, article_id: str) -> dict[str, Any]:
    """One article: its Markdown and safe HTML."""
    return content.article_view(kb, who, content.find_article(kb, who, article_id))


@router.get("/trees", tags=["content"])
def trees(kb: KB, who: Who) -> dict[str, Any]:
    """Every troubleshooting tree the caller may read and walk."""
    found = sorted(content.visible_trees(kb, who), key=lambda tree: tree.id)
    return {"trees": [content.tree_summary(tree) for tree in found]}


@router.get("/trees/{tree_id}", tags=["content"])
def tree(kb: KB, who: Who, tree_id: str) -> dict[str, Any]:
    """One tree with the nodes and answers the caller may see."""
    return content.tree_view(kb, who, content.find_tree(kb, who, tree_id))
