"""One article or tree by its id, with what the graph knows about it (`kb show`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from kbengine.graph import article_key, tree_key
from kbengine.kb import KnowledgeBase
from kbengine.model import Article, Tree
from kbengine.services.errors import UnknownItem


def find_item(kb: KnowledgeBase, item_id: str) -> Article | Tree:
    """The article (first) or tree with this id; UnknownItem with suggestions if none."""
    item = kb.articles.get(item_id) or kb.trees.get(item_id)
    if item is None:
        raise UnknownItem(item_id, [*kb.articles, *kb.trees])
    return item


def item_record(kb: KnowledgeBase, item: Article | Tree) -> dict[str, Any]:
    return article_record(kb, item) if isinstance(item, Article) else tree_record(kb, item)


def article_record(kb: KnowledgeBase, article: Article) -> dict[str, Any]:
    """An article as JSON-ready data, with its place in the graph."""
    record = {key: value for key, value in asdict(article).items() if key != "locations"}
    record["kind"] = "article"
    record["backlinks"] = kb.graph.backlinks(article.id)
    record["used_in_trees"] = kb.graph.used_in_trees(article.id)
    record["related_articles"] = kb.graph.related(article.id)
    record["translations"] = translations(kb, article_key(article.id))
    return record


def tree_record(kb: KnowledgeBase, tree: Tree) -> dict[str, Any]:
    record = {key: value for key, value in asdict(tree).items() if key != "locations"}
    record["kind"] = "tree"
    record["translations"] = translations(kb, tree_key(tree.id))
    return record


def translations(kb: KnowledgeBase, key: str) -> dict[str, str]:
    """{lang: id} of the other language versions of an article or tree (graph key)."""
    return {lang: other.split(":", 1)[1] for lang, other in kb.graph.translations(key).items()
            if other != key}
