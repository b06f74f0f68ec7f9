"""Rules on how a walk can go, read from the graph's flow edges: nodes no walk reaches (KB406),
loops with no way to an end (KB407) and gotos that send people between trees in a circle (KB412)."""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx

from kbengine.check.registry import diagnostic
from kbengine.graph import KBGraph, node_key
from kbengine.model import Diagnostic, Node, Tree

_FLOW = ("answer", "next", "goto")


def check_flow(graph: KBGraph, trees: Mapping[str, Tree]) -> list[Diagnostic]:
    flow = nx.DiGraph()
    for source, target, kind in graph.graph.edges(data="kind"):
        if kind in _FLOW:
            flow.add_edge(source, target)
    steps = {node_key(t.id, n.id): (t, n) for t in trees.values() for n in t.nodes.values()}
    unreached = _unreachable(flow, trees)
    diagnostics = [diagnostic("KB406", tree.path, node.line, node.col,
                              f"node '{node.id}' cannot be reached from the start",
                              "lead an answer or next to it, or delete it")
                   for key, (tree, node) in steps.items() if key in unreached]
    return [*diagnostics, *_loops_with_no_end(flow, steps, unreached), *_goto_cycles(trees)]


def _unreachable(flow: nx.DiGraph, trees: Mapping[str, Tree]) -> set[str]:
    """Keys of the steps a walk of their tree never reaches (an unstartable tree has none)."""
    found: set[str] = set()
    for tree in trees.values():
        if tree.start not in tree.nodes:
            continue  # no start: KB403 says so, and every node would follow
        start = node_key(tree.id, tree.start)
        reachable = {start} | (nx.descendants(flow, start) if start in flow else set())
        found |= {node_key(tree.id, n) for n in tree.nodes} - reachable
    return found


def _loops_with_no_end(flow: nx.DiGraph, steps: Mapping[str, tuple[Tree, Node]],
                       unreached: set[str]) -> list[Diagnostic]:
    """One KB407 per loop that nothing leads out of, at its first step; the steps leading into
    such a loop are not reported again."""
    ends = {key for key, (tree, node) in steps.items() if node.kind in ("solved", "escalate")
            # a step leading to an unreadable node may well end there: its own error is enough
            or set(node.targets()) & set(tree.unreadable)}
    can_end = set(ends)
    for end in ends:
        if end in flow:
            can_end |= nx.ancestors(flow, end)
    stuck = flow.subgraph(k for k in flow if k not in can_end and k in steps and k not in unreached)
    diagnostics = []
    for loop in nx.strongly_connected_components(stuck):
        first = min(loop, key=lambda k: (steps[k][0].path, steps[k][1].line, k))
        # a step with no way on at all has its own error (KB404, KB405, KB408, KB410)
        if len(loop) == 1 and not stuck.has_edge(first, first):
            continue
        if any(target not in loop for key in loop for target in stuck.successors(key)):
            continue  # it leads on into another stuck loop, which is the one reported
        tree, node = steps[first]
        names = sorted(steps[k][1].id if steps[k][0] is tree else f"{steps[k][0].id}#{steps[k][1].id}"
                       for k in loop)
        diagnostics.append(diagnostic(
            "KB407", tree.path, node.line, node.col,
            f"no solved or escalate end can be reached from the loop {', '.join(names)}",
            "a loop needs a way out: give one of its steps an answer that leads to an end"))
    return diagnostics


def _goto_cycles(trees: Mapping[str, Tree]) -> list[Diagnostic]:
    between = nx.DiGraph()
    for tree in trees.values():
        for node in tree.nodes.values():
            target = node.goto_tree
            if target and target in trees and target != tree.id:
                between.add_edge(tree.id, target, node=node.id)
    diagnostics = []
    for component in nx.strongly_connected_components(between):
        if len(component) < 2:
            continue
        cycle = " -> ".join(sorted(component))
        for source in sorted(component):
            for target in between.successors(source):
                if target in component:
                    node = trees[source].nodes[between.edges[source, target]["node"]]
                    diagnostics.append(diagnostic(
                        "KB412", trees[source].path, node.line, node.col,
                        f"goto cycle between trees: {cycle}",
                        "trees that send people back and forth never finish; end one of them"))
    return diagnostics
