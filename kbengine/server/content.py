"""Articles, trees and search as the API and MCP serve them, scoped to the caller: anonymous callers
see exactly what the public site shows (published, public audience); signed-in callers also see
internal content. Drafts and archived content are never served."""

from __future__ import annotations

from typing import Any

from kbengine.kb import KnowledgeBase
from kbengine.model import Article, Node, Tree
from kbengine.search import KINDS, QueryError, search
from kbengine.search.usage import Usage
from kbengine.server.auth import Caller
from kbengine.server.errors import NotFound, Unprocessable
from kbengine.site.i18n import translations
from kbengine.site.markdown import CALLOUT_KINDS, ArticleRenderer
from kbengine.site.render import CALLOUT_TITLES

API = "/api/v1"


def article_url(article_id: str) -> str:
    return f"{API}/articles/{article_id}"


def tree_url(tree_id: str) -> str:
    return f"{API}/trees/{tree_id}"


def may_see(caller: Caller, item: Article | Tree | Node) -> bool:
    """The static site's rule for anonymous callers; published content of any audience for the rest."""
    if isinstance(item, Node):
        return item.audience == "public" or caller.may("internal")
    if item.status != "published":
        return False
    return item.is_public or caller.may("internal")


def find_article(kb: KnowledgeBase, caller: Caller, article_id: str) -> Article:
    """The article with this id, or NotFound: an article the caller may not see does not exist for them."""
    article = kb.articles.get(article_id)
    if article is None or not may_see(caller, article):
        raise NotFound(f"there is no article '{article_id}'")
    return article


def find_tree(kb: KnowledgeBase, caller: Caller, tree_id: str) -> Tree:
    tree = kb.trees.get(tree_id)
    if tree is None or not may_see(caller, tree):
        raise NotFound(f"there is no tree '{tree_id}'", trees=sorted(t.id for t in visible_trees(kb, caller)))
    return tree


def visible_trees(kb: KnowledgeBase, caller: Caller) -> list[Tree]:
    return [tree for tree in kb.trees.values() if may_see(caller, tree)]


def search_hits(kb: KnowledgeBase, caller: Caller, query: str, *, kind: str | None = None,
                lang: str | None = None, limit: int = 10, usage: Usage | None) -> dict[str, Any]:
    """`kb search --json` for this caller: anonymous callers search public content only. `usage`:
    what the server's walks say answered before (Walks.usage)."""
    if kind is not None and kind not in KINDS:
        raise Unprocessable(f"kind must be one of: {', '.join(KINDS)}", allowed=list(KINDS))
    if not query.strip():
        raise Unprocessable("give some words to search for: ?q=printer+offline")
    try:
        results = search(kb, query, kind=kind, lang=lang, audience=caller.audience, limit=limit,
                         usage=usage)
    except QueryError as error:
        raise Unprocessable(str(error)) from None
    return results.as_dict()


class _ApiLinks:
    """Link targets in Markdown as this caller may follow them: API URLs, or plain words."""

    def __init__(self, kb: KnowledgeBase, caller: Caller) -> None:
        self.kb = kb
        self.caller = caller
        self.by_path = {a.path.lower(): a for a in kb.articles.values()}

    def wiki(self, target: str) -> tuple[str, str] | None:
        article = self.kb.articles.get(target)
        if article is not None and may_see(self.caller, article):
            return article_url(article.id), article.title
        tree = self.kb.trees.get(target)
        if tree is not None and may_see(self.caller, tree):
            return tree_url(tree.id), tree.title
        return None

    def page(self, path: str) -> str | None:
        article = self.by_path.get(path.lower())
        return article_url(article.id) if article is not None and may_see(self.caller, article) else None

    def file(self, path: str) -> str | None:
        return None  # the API serves no files; the words of the link stay


def render_html(kb: KnowledgeBase, caller: Caller, markdown: str, source: str, lang: str) -> str:
    """Safe HTML of Markdown written in `source`, by the static site's renderer."""
    gettext = translations(lang).gettext
    labels = {kind: gettext(CALLOUT_TITLES[kind]) for kind in CALLOUT_KINDS}
    renderer = ArticleRenderer(kb.root, _ApiLinks(kb, caller), labels)
    return renderer.render(markdown, source).html


def article_view(kb: KnowledgeBase, caller: Caller, article: Article) -> dict[str, Any]:
    """An article as JSON: its metadata, Markdown body and safe HTML, and where it leads."""
    related = [other for other in (kb.articles.get(i) for i in kb.graph.related(article.id))
               if other is not None and may_see(caller, other)]
    return {
        "kind": "article", "id": article.id, "title": article.title, "summary": article.summary,
        "url": article_url(article.id), "lang": article.lang, "category": article.category,
        "tags": list(article.tags), "audience": article.audience, "updated": article.updated,
        "owner": article.owner, "markdown": article.body,
        "html": render_html(kb, caller, article.body, article.path, article.lang),
        "related": [{"id": a.id, "title": a.title, "url": article_url(a.id)} for a in related],
    }


def article_link(kb: KnowledgeBase, caller: Caller, article_id: str | None) -> dict[str, Any] | None:
    """id, title, URL and summary of an article the caller may see, else None."""
    article = kb.articles.get(article_id or "")
    if article is None or not may_see(caller, article):
        return None
    return {"id": article.id, "title": article.title, "url": article_url(article.id),
            "summary": article.summary}


def tree_summary(tree: Tree) -> dict[str, Any]:
    return {"id": tree.id, "title": tree.title, "summary": tree.summary, "url": tree_url(tree.id),
            "lang": tree.lang, "category": tree.category, "tags": list(tree.tags),
            "symptoms": list(tree.symptoms), "audience": tree.audience}


def tree_view(kb: KnowledgeBase, caller: Caller, tree: Tree) -> dict[str, Any]:
    """A tree with the nodes this caller may see; an answer into a hidden node shows no target."""
    shown = {node_id: node for node_id, node in tree.nodes.items() if may_see(caller, node)}
    return {**tree_summary(tree), "start": tree.start,
            "nodes": [_node_view(kb, caller, node, shown) for node in shown.values()]}


def _node_view(kb: KnowledgeBase, caller: Caller, node: Node, shown: dict[str, Node]) -> dict[str, Any]:
    view: dict[str, Any] = {"id": node.id, "kind": node.kind, "prompt": node.prompt, "text": node.text,
                            "article": article_link(kb, caller, node.article)}
    if node.kind == "ask":
        view["answers"] = [{"number": number, "label": answer.label,
                            "next": answer.next if answer.next in shown else None}
                           for number, answer in enumerate(node.answers, start=1)]
    if node.kind == "do":
        view["next"] = node.next if node.next in shown else None
    if node.kind == "goto":
        view["goto"] = node.goto
    if node.escalation is not None:
        view["escalation"] = {"team": node.escalation.team, "priority": node.escalation.priority,
                              "reason": node.escalation.reason}
    if node.collect:
        view["collect"] = [{"name": c.name, "prompt": c.prompt, "pattern": c.pattern} for c in node.collect]
    return view
