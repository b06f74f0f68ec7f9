"""The knowledge graph: articles, trees, nodes, tags and categories with typed edges,
and the rules that check it (broken references, reachability, loops with no exit).

Graph node keys: `article:<id>`, `tree:<id>`, `node:<tree>#<node>`, `tag:<tag>`,
`category:<id>`, `file:<path>`. Every edge has a `kind`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

import networkx as nx

from kbengine.check.guards import check_guards
from kbengine.model import Article, Config, Diagnostic, Tree

_EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)
_PAGE_EXT = (".md", ".markdown")


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


@dataclass
class Compiled:
    """What the graph stage hands on: the graph and its findings."""

    graph: KBGraph
    diagnostics: list[Diagnostic]


def build_graph(config: Config, articles: dict[str, Article], trees: dict[str, Tree],
                files: Iterable[str]) -> Compiled:
    """Resolve references, build the graph and run every graph rule."""
    diagnostics: list[Diagnostic] = []
    g = nx.MultiDiGraph()
    for cat in config.categories.values():
        g.add_node(f"category:{cat.id}", kind="category", title=cat.title)
    _resolve_links(articles, trees, set(files), diagnostics)
    for article in articles.values():
        key = article_key(article.id)
        g.add_node(key, kind="article", path=article.path, lang=article.lang,
                   public=article.is_public, title=article.title)
    for article in articles.values():
        _add_article_edges(g, config, article, articles, diagnostics)
    for tree in trees.values():
        _add_tree(g, tree, articles, trees, diagnostics)
    _check_tree_flow(g, trees, diagnostics)
    _check_goto_cycles(trees, diagnostics)
    diagnostics.extend(check_guards(trees))
    _check_translations(articles, trees, diagnostics)
    return Compiled(KBGraph(g), diagnostics)


def _add_article_edges(g: nx.MultiDiGraph, config: Config, article: Article,
                       articles: dict[str, Article], diagnostics: list[Diagnostic]) -> None:
    key = article_key(article.id)
    if article.category:
        if config.categories and article.category not in config.categories:
            line, col = article.where("category")
            diagnostics.append(Diagnostic(
                article.path, line, col, "KB508", "warning",
                f"category '{article.category}' is not listed in kb.yaml",
                "add it under categories: in kb.yaml, or use one that is"))
        g.add_edge(key, f"category:{article.category}", kind="in_category")
    for tag in article.tags:
        g.add_edge(key, f"tag:{tag}", kind="tagged")
    for link in article.links:
        if link.article_id:
            g.add_edge(key, article_key(link.article_id), kind="links_to")
            _check_public_link(article, link.article_id, articles, link.line, link.col, diagnostics)
        elif link.kind in ("image", "include") and not _EXTERNAL.match(link.target):
            g.add_edge(key, f"file:{_relative_target(article.path, link.target)}", kind="embeds")
    for index, other in enumerate(article.related):
        line, col = article.where("related", index)
        if other not in articles:
            diagnostics.append(Diagnostic(article.path, line, col, "KB506", "warning",
                                          f"related article '{other}' does not exist",
                                          "use the id of an existing article"))
            continue
        g.add_edge(key, article_key(other), kind="related")
        _check_public_link(article, other, articles, line, col, diagnostics)
    if article.translation_of and article.translation_of in articles:
        g.add_edge(key, article_key(article.translation_of), kind="translation_of")


def _check_public_link(article: Article, target_id: str, articles: dict[str, Article],
                       line: int, col: int, diagnostics: list[Diagnostic]) -> None:
    target = articles[target_id]
    if article.is_public and not target.is_public:
        why = target.audience if target.audience != "public" else target.status
        diagnostics.append(Diagnostic(
            article.path, line, col, "KB507", "warning",
            f"public article links the {why} article '{target_id}', which is not on the public site",
            "link a public article instead, or make this article internal"))


def _relative_target(source: str, target: str) -> str:
    target = unquote(target.split("#", 1)[0].split("?", 1)[0]).replace("\\", "/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def _resolve_links(articles: dict[str, Article], trees: dict[str, Tree], files: set[str],
                   diagnostics: list[Diagnostic]) -> None:
    by_path = {a.path: a.id for a in articles.values()}
    folded = {f.lower(): f for f in files}
    for article in articles.values():
        for link in article.links:
            link.article_id = None  # links are parsed once and cached; resolve them afresh
            if link.kind == "wiki":
                if link.target in articles:
                    link.article_id = link.target
                elif link.target not in trees:
                    diagnostics.append(Diagnostic(
                        article.path, link.line, link.col, "KB502", "warning",
                        f"[[{link.target}]] names no article or tree",
                        "use the id of an existing article (its file name without .md)"))
                continue
            raw = link.target.strip()
            if not raw or raw.startswith(("#", "/")) or _EXTERNAL.match(raw):
                continue  # anchors, site-absolute and external links are not ours to check
            target = _relative_target(article.path, raw)
            is_page = target.lower().endswith(_PAGE_EXT)
            if link.kind == "page" and not is_page:
                continue
            found = target if target in files else None
            if found is None and target.lower() in folded:
                found = folded[target.lower()]
                diagnostics.append(Diagnostic(
                    article.path, link.line, link.col, "KB504", "warning",
                    f"link '{raw}' only matches '{found}' when letter case is ignored",
                    "write the path exactly as the file is named; servers are case-sensitive"))
            elif found is not None and "\\" in raw:
                diagnostics.append(Diagnostic(
                    article.path, link.line, link.col, "KB504", "warning",
                    f"link '{raw}' uses backslashes", "write paths with forward slashes"))
            if found is None:
                code, what = {"image": ("KB503", "image"), "include": ("KB505", "included file")}.get(
                    link.kind, ("KB501", "linked page"))
                diagnostics.append(Diagnostic(
                    article.path, link.line, link.col, code, "warning",
                    f"{what} '{raw}' not found", "check the path, relative to this file"))
            elif link.kind == "page":
                link.article_id = by_path.get(found)


def _add_tree(g: nx.MultiDiGraph, tree: Tree, articles: dict[str, Article],
              trees: dict[str, Tree], diagnostics: list[Diagnostic]) -> None:
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
    if tree.start and tree.start in tree.nodes:
        g.add_edge(key, node_key(tree.id, tree.start), kind="starts_at")
    elif tree.start and tree.start not in tree.unreadable:
        line, col = tree.where("start")
        diagnostics.append(Diagnostic(tree.path, line, col, "KB403", "error",
                                      f"start node '{tree.start}' does not exist",
                                      f"use one of: {_some(tree.nodes)}"))
    for node in tree.nodes.values():
        source = node_key(tree.id, node.id)
        for answer in node.answers:
            if answer.next in tree.nodes:
                g.add_edge(source, node_key(tree.id, answer.next), kind="answer", label=answer.label)
            elif answer.next not in tree.unreadable:
                diagnostics.append(Diagnostic(
                    tree.path, answer.line, answer.col, "KB404", "error",
                    f"answer '{answer.label}' leads to node '{answer.next}', which does not exist",
                    f"use one of: {_some(tree.nodes)}"))
        if node.next:
            if node.next in tree.nodes:
                g.add_edge(source, node_key(tree.id, node.next), kind="next")
            elif node.next not in tree.unreadable:
                line, col = tree.where("nodes", node.id, "next")
                diagnostics.append(Diagnostic(
                    tree.path, line, col, "KB404", "error",
                    f"next step '{node.next}' of '{node.id}' does not exist",
                    f"use one of: {_some(tree.nodes)}"))
        if node.goto:
            _add_goto(g, tree, node.id, node.goto, trees, diagnostics)
        if node.article:
            line, col = tree.where("nodes", node.id, "article")
            target = articles.get(node.article)
            if target is None:
                diagnostics.append(Diagnostic(
                    tree.path, line, col, "KB413", "warning",
                    f"step '{node.id}' points at article '{node.article}', which does not exist",
                    "use the id of an existing article"))
            else:
                g.add_edge(source, article_key(node.article), kind="explains")
                if tree.is_public and node.audience == "public" and not target.is_public:
                    why = target.audience if target.audience != "public" else target.status
                    diagnostics.append(Diagnostic(
                        tree.path, line, col, "KB414", "warning",
                        f"public step '{node.id}' points at the {why} article '{node.article}'",
                        "point at a public article, or mark the step audience: internal"))
        for index, item in enumerate(node.collect):
            if item.pattern:
                try:
                    re.compile(item.pattern)
                except re.error as error:
                    line, col = tree.where("nodes", node.id, "collect", index, "pattern")
                    diagnostics.append(Diagnostic(
                        tree.path, line, col, "KB415", "error",
                        f"pattern of input '{item.name}' is not a valid regular expression: {error}",
                        "test the pattern, e.g. ^[A-Z]{2}\\d{5}$ for an asset tag"))


def _add_goto(g: nx.MultiDiGraph, tree: Tree, node_id: str, goto: str, trees: dict[str, Tree],
              diagnostics: list[Diagnostic]) -> None:
    target_tree, _, target_node = goto.partition("#")
    line, col = tree.where("nodes", node_id, "goto")
    other = trees.get(target_tree)
    if other is None:
        diagnostics.append(Diagnostic(tree.path, line, col, "KB405", "error",
                                      f"goto '{goto}': there is no tree '{target_tree}'",
                                      f"use one of: {_some(trees)}"))
        return
    target_node = target_node or other.start
    if target_node not in other.nodes:
        diagnostics.append(Diagnostic(tree.path, line, col, "KB405", "error",
                                      f"goto '{goto}': tree '{target_tree}' has no node '{target_node}'",
                                      f"use one of: {_some(other.nodes)}"))
        return
    g.add_edge(node_key(tree.id, node_id), node_key(target_tree, target_node), kind="goto")


def _check_tree_flow(g: nx.MultiDiGraph, trees: dict[str, Tree],
                     diagnostics: list[Diagnostic]) -> None:
    """Unreachable nodes (warning) and nodes from which no end can be reached (error)."""
    flow = nx.DiGraph()
    for source, target, kind in g.edges(data="kind"):
        if kind in ("answer", "next", "goto"):
            flow.add_edge(source, target)
    ends = [k for k, kind in g.nodes(data="node_kind") if kind in ("solved", "escalate")]
    # a step leading to an unreadable node may well end there: its own error is enough
    ends += [node_key(t.id, n.id) for t in trees.values() for n in t.nodes.values()
             if set(n.targets()) & set(t.unreadable)]
    can_end = set(ends)
    reverse = flow.reverse(copy=False)
    for end in ends:
        if end in reverse:
            can_end |= nx.descendants(reverse, end)
    for tree in trees.values():
        reachable: set[str] = set()
        if tree.start in tree.nodes:
            start = node_key(tree.id, tree.start)
            reachable = {start} | (nx.descendants(flow, start) if start in flow else set())
        for node in tree.nodes.values():
            key = node_key(tree.id, node.id)
            if reachable and key not in reachable:
                diagnostics.append(Diagnostic(
                    tree.path, node.line, node.col, "KB406", "warning",
                    f"node '{node.id}' cannot be reached from the start",
                    "lead an answer or next to it, or delete it"))
            # a step with no way on at all has its own error (KB404, KB405, KB408, KB410);
            # "no end can be reached" would only repeat it
            elif key not in can_end and key in flow and flow.out_degree(key):
                diagnostics.append(Diagnostic(
                    tree.path, node.line, node.col, "KB407", "error",
                    f"no solved or escalate end can be reached from node '{node.id}'",
                    "a loop needs a way out: give one of its steps an answer that leads to an end"))


def _check_goto_cycles(trees: dict[str, Tree], diagnostics: list[Diagnostic]) -> None:
    between = nx.DiGraph()
    for tree in trees.values():
        for node in tree.nodes.values():
            target = node.goto_tree
            if target and target in trees and target != tree.id:
                between.add_edge(tree.id, target, node=node.id)
    for component in nx.strongly_connected_components(between):
        if len(component) < 2:
            continue
        cycle = " -> ".join(sorted(component))
        for source in sorted(component):
            for target in between.successors(source):
                if target in component:
                    node = trees[source].nodes[between.edges[source, target]["node"]]
                    diagnostics.append(Diagnostic(
                        trees[source].path, node.line, node.col, "KB412", "error",
                        f"goto cycle between trees: {cycle}",
                        "trees that send people back and forth never finish; end one of them"))


def _check_translations(articles: dict[str, Article], trees: dict[str, Tree],
                        diagnostics: list[Diagnostic]) -> None:
    items: list[tuple[Article | Tree, dict[str, Article] | dict[str, Tree]]] = [
        (a, articles) for a in articles.values()] + [(t, trees) for t in trees.values()]
    for item, pool in items:
        if not item.translation_of:
            continue
        line, col = item.where("translation_of")
        original = pool.get(item.translation_of)
        if original is None:
            diagnostics.append(Diagnostic(
                item.path, line, col, "KB601", "warning",
                f"translation_of names '{item.translation_of}', which does not exist",
                "use the id of the original in the other language"))
        elif original.lang == item.lang:
            diagnostics.append(Diagnostic(
                item.path, line, col, "KB602", "warning",
                f"'{item.translation_of}' is in the same language ({item.lang})",
                "set lang: on the translation"))


def _some(ids: Iterable[str]) -> str:
    names = sorted(ids)
    return ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
