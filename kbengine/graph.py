"""The knowledge graph: articles, trees, nodes, tags and categories with typed edges, and
the views the other stages ask of it. Edges only: the rules that read it live in check/.

Graph node keys: `article:<id>`, `tree:<id>`, `node:<tree>#<node>`, `tag:<tag>`,
`category:<id>`, `file:<path>`. Every edge has a `kind`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import networkx as nx

from kbengine.links import LinkResolver, is_local, relative_target
from kbengine.model import Article, Config, Tree, goto_entry


def article_key(article_id: str) -> str:
    return f"article:{article_id}"


def tree_key(tree_id: str) -> str:
    return f"tree:{tree_id}"


def node_key(tree_id: str, node_id: str) -> str:
    return f"node:{tree_id}#{node_id}"


@dataclass
class KBGraph:
    """The graph plus the questions the other stages ask of it."""

    graph: nx.MultiDiGraph = field(default_factory=nx.MultiDiGraph)

    def _neighbours(self, key: str, kinds: set[str], *, incoming: bool) -> list[str]:
        if key not in self.graph:
            return []
        edges = (self.graph.in_edges(key, data="kind") if incoming
                 else self.graph.out_edges(key, data="kind"))
        found = [(source if incoming else target) for source, target, kind in edges if kind in kinds]
        return list(dict.fromkeys(found))

    def backlinks(self, article_id: str) -> list[str]:
        """Ids of articles that link to this article."""
        keys = self._neighbours(article_key(article_id), {"links_to"}, incoming=True)
        return [k.split(":", 1)[1] for k in keys if k.startswith("article:")]

    def used_in_trees(self, article_id: str) -> list[str]:
        """Ids of trees with a step that points at this article."""
        keys = self._neighbours(article_key(article_id), {"explains"}, incoming=True)
        return list(dict.fromkeys(self.graph.nodes[k]["tree"] for k in keys))

    def related(self, article_id: str, limit: int = 5) -> list[str]:
        """Related article ids: the explicit list first, then links both ways, then shared tags."""
        key = article_key(article_id)
        if key not in self.graph:
            return []
        ranked = self._neighbours(key, {"related"}, incoming=False)
        ranked += self._neighbours(key, {"links_to"}, incoming=False)
        ranked += self._neighbours(key, {"links_to", "related"}, incoming=True)
        lang = self.graph.nodes[key].get("lang")
        shared: dict[str, int] = {}
        for tag in self._neighbours(key, {"tagged"}, incoming=False):
            for other in self._neighbours(tag, {"tagged"}, incoming=True):
                shared[other] = shared.get(other, 0) + 1
        ranked += sorted(shared, key=lambda k: (-shared[k], k))
        result = []
        for other in dict.fromkeys(ranked):
            data = self.graph.nodes.get(other, {})
            if other != key and other.startswith("article:") and data.get("lang") == lang:
                result.append(other.split(":", 1)[1])
        return result[:limit]

    def translations(self, key: str) -> dict[str, str]:
        """{lang: graph key} of every version of an article or tree, this one included."""
        if key not in self.graph:
            return {}
        group = {key}
        frontier = [key]
        while frontier:
            current = frontier.pop()
            for other in (self._neighbours(current, {"translation_of"}, incoming=False)
                          + self._neighbours(current, {"translation_of"}, incoming=True)):
                if other not in group:
                    group.add(other)
                    frontier.append(other)
        return {self.graph.nodes[k].get("lang", ""): k for k in sorted(group)}

    def dependents(self, path: str) -> set[str]:
        """Paths of files whose output changes when the file at `path` changes."""
        defined = [k for k, p in self.graph.nodes(data="path") if p == path]
        result = {path}
        for key in defined:
            for source, _, kind in self.graph.in_edges(key, data="kind"):
                if kind in {"links_to", "related", "explains", "goto", "translation_of", "has_node"}:
                    owner = self.graph.nodes[source].get("path")
                    if owner:
                        result.add(owner)
        file = f"file:{path}"
        if file in self.graph:
            result |= {self.graph.nodes[s].get("path", "") for s in self.graph.predecessors(file)}
        return result - {""}


def build_graph(config: Config, articles: Mapping[str, Article], trees: Mapping[str, Tree],
                links: LinkResolver) -> KBGraph:
    """Every article, tree, step, tag and category, and the typed edges between them.

    References that lead nowhere get no edge; check/ reports them. Sets `article_id` on each
    link that opens an article (links are parsed once and cached, so it is set afresh)."""
    g = nx.MultiDiGraph()
    for cat in config.categories.values():
        g.add_node(f"category:{cat.id}", kind="category", title=cat.title)
    for article in articles.values():
        g.add_node(article_key(article.id), kind="article", path=article.path, lang=article.lang,
                   public=article.is_public, title=article.title)
    for article in articles.values():
        _add_article(g, article, articles, links)
    for tree in trees.values():
        _add_tree(g, tree, articles, trees)
    return KBGraph(g)


def _add_article(g: nx.MultiDiGraph, article: Article, articles: Mapping[str, Article],
                 links: LinkResolver) -> None:
    key = article_key(article.id)
    if article.category:
        g.add_edge(key, f"category:{article.category}", kind="in_category")
    for tag in article.tags:
        g.add_edge(key, f"tag:{tag}", kind="tagged")
    for link in article.links:
        link.article_id = links.resolve(article.path, link).article_id
        if link.article_id:
            g.add_edge(key, article_key(link.article_id), kind="links_to")
        elif link.kind in ("image", "include") and is_local(link.target.strip()):
            g.add_edge(key, f"file:{relative_target(article.path, link.target)}", kind="embeds")
    for other in article.related:
        if other in articles:
            g.add_edge(key, article_key(other), kind="related")
    if article.translation_of and article.translation_of in articles:
        g.add_edge(key, article_key(article.translation_of), kind="translation_of")


def _add_tree(g: nx.MultiDiGraph, tree: Tree, articles: Mapping[str, Article],
              trees: Mapping[str, Tree]) -> None:
    key = tree_key(tree.id)
    g.add_node(key, kind="tree", path=tree.path, lang=tree.lang, public=tree.is_public,
               title=tree.title)
    if tree.category:
        g.add_edge(key, f"category:{tree.category}", kind="in_category")
    for tag in tree.tags:
        g.add_edge(key, f"tag:{tag}", kind="tagged")
    if tree.translation_of and tree.translation_of in trees:
        g.add_edge(key, tree_key(tree.translation_of), kind="translation_of")
    for node in tree.nodes.values():
        g.add_node(node_key(tree.id, node.id), kind="node", tree=tree.id, node=node.id,
                   node_kind=node.kind, path=tree.path)
        g.add_edge(key, node_key(tree.id, node.id), kind="has_node")
    if tree.start in tree.nodes:
        g.add_edge(key, node_key(tree.id, tree.start), kind="starts_at")
    for node in tree.nodes.values():
        source = node_key(tree.id, node.id)
        for answer in node.exits():
            if answer.next in tree.nodes:
                labels = {"label": answer.label} if node.kind == "ask" else {}
                g.add_edge(source, node_key(tree.id, answer.next),
                           kind="answer" if node.kind == "ask" else "next", **labels)
        entry = goto_entry(node, trees)
        if entry and entry[1] in trees[entry[0]].nodes:
            g.add_edge(source, node_key(*entry), kind="goto")
        if node.article and node.article in articles:
            g.add_edge(source, article_key(node.article), kind="explains")
