"""Rules on a tree's references: its start, where answers and steps lead, gotos, articles and
input patterns (KB403-KB405, KB413-KB415)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from kbengine.check.registry import diagnostic
from kbengine.check.suggest import did_you_mean
from kbengine.model import Article, Diagnostic, Tree


def check_tree_references(trees: Mapping[str, Tree], articles: Mapping[str, Article]) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    for tree in trees.values():
        diagnostics += _start(tree)
        for node_id, node in tree.nodes.items():
            for answer in node.answers:
                if answer.next not in tree.nodes and answer.next not in tree.unreadable:
                    diagnostics.append(diagnostic(
                        "KB404", tree.path, answer.line, answer.col,
                        f"answer '{answer.label}' leads to node '{answer.next}', which does not exist",
                        _choose(answer.next, tree.nodes)))
            if node.next and node.next not in tree.nodes and node.next not in tree.unreadable:
                line, col = tree.where("nodes", node_id, "next")
                diagnostics.append(diagnostic(
                    "KB404", tree.path, line, col,
                    f"next step '{node.next}' of '{node_id}' does not exist",
                    _choose(node.next, tree.nodes)))
            if node.goto:
                diagnostics += _goto(tree, node_id, node.goto, trees)
            if node.article:
                diagnostics += _article(tree, node_id, node.article, articles)
            for index, item in enumerate(node.collect):
                if item.pattern:
                    try:
                        re.compile(item.pattern)
                    except re.error as error:
                        line, col = tree.where("nodes", node_id, "collect", index, "pattern")
                        diagnostics.append(diagnostic(
                            "KB415", tree.path, line, col,
                            f"pattern of input '{item.name}' is not a valid regular expression: {error}",
                            "test the pattern, e.g. ^[A-Z]{2}\\d{5}$ for an asset tag"))
    return diagnostics


def _start(tree: Tree) -> list[Diagnostic]:
    if not tree.start or tree.start in tree.nodes or tree.start in tree.unreadable:
        return []
    line, col = tree.where("start")
    return [diagnostic("KB403", tree.path, line, col, f"start node '{tree.start}' does not exist",
                       _choose(tree.start, tree.nodes))]


def _goto(tree: Tree, node_id: str, goto: str, trees: Mapping[str, Tree]) -> list[Diagnostic]:
    target_tree, _, target_node = goto.partition("#")
    line, col = tree.where("nodes", node_id, "goto")
    other = trees.get(target_tree)
    if other is None:
        return [diagnostic("KB405", tree.path, line, col,
                           f"goto '{goto}': there is no tree '{target_tree}'",
                           _choose(target_tree, trees))]
    target_node = target_node or other.start
    if target_node in other.nodes:
        return []
    return [diagnostic("KB405", tree.path, line, col,
                       f"goto '{goto}': tree '{target_tree}' has no node '{target_node}'",
                       _choose(target_node, other.nodes))]


def _article(tree: Tree, node_id: str, article_id: str, articles: Mapping[str, Article]) -> list[Diagnostic]:
    line, col = tree.where("nodes", node_id, "article")
    target = articles.get(article_id)
    if target is None:
        return [diagnostic("KB413", tree.path, line, col,
                           f"step '{node_id}' points at article '{article_id}', which does not exist",
                           did_you_mean(article_id, articles) or "use the id of an existing article")]
    node = tree.nodes[node_id]
    if tree.is_public and node.audience == "public" and not target.is_public:
        why = target.audience if target.audience != "public" else target.status
        return [diagnostic("KB414", tree.path, line, col,
                           f"public step '{node_id}' points at the {why} article '{article_id}'",
                           "point at a public article, or mark the step audience: internal")]
    return []


def _choose(wanted: str, ids: Iterable[str]) -> str:
    """A did-you-mean when one id is close, else the ids to choose from."""
    names = sorted(ids)
    return did_you_mean(wanted, names) or ("use one of: " + ", ".join(names[:8])
                                           + (", ..." if len(names) > 8 else ""))
