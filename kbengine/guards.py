"""Rules on `set` facts and `when` guards: walk each tree with the facts its answers set,
and find questions where, on some path, every answer is hidden."""

from __future__ import annotations

from collections import deque
from typing import Any

from kbengine.model import Diagnostic, Tree

# Trees are small; this bounds the facts-by-node search on pathological content.
MAX_STATES = 5000


def _frozen(facts: dict[str, Any]) -> frozenset[tuple[str, Any]]:
    return frozenset((k, tuple(v) if isinstance(v, list) else v) for k, v in facts.items())


def check_guards(trees: dict[str, Tree]) -> list[Diagnostic]:
    """KB416: a question that shows no answer on some path; KB417: a guard on a fact never set."""
    diagnostics: list[Diagnostic] = []
    facts_set = {name for tree in trees.values() for node in tree.nodes.values()
                 for answer in node.answers for name in answer.set}
    for tree in trees.values():
        for node in tree.nodes.values():
            for answer in node.answers:
                for name in answer.when:
                    if name not in facts_set:
                        diagnostics.append(Diagnostic(
                            tree.path, answer.line, answer.col, "KB417", "warning",
                            f"answer '{answer.label}' is shown only when '{name}' is set, "
                            "but no answer sets it", f"add set: {{{name}: ...}} to an earlier answer"))
        diagnostics.extend(_dead_ends(tree))
    return diagnostics


def _dead_ends(tree: Tree) -> list[Diagnostic]:
    if tree.start not in tree.nodes:
        return []
    seen = {(tree.start, _frozen({}))}
    queue: deque[tuple[str, dict[str, Any]]] = deque([(tree.start, {})])
    reported: set[str] = set()
    diagnostics = []
    while queue and len(seen) < MAX_STATES:
        node_id, facts = queue.popleft()
        node = tree.nodes[node_id]
        moves: list[tuple[str, dict[str, Any]]] = []
        if node.kind == "ask":
            shown = [a for a in node.answers if a.allowed(facts)]
            if not shown and node.answers and node_id not in reported:
                reported.add(node_id)
                held = ", ".join(f"{k}={v}" for k, v in sorted(facts.items())) or "no facts set"
                diagnostics.append(Diagnostic(
                    tree.path, node.line, node.col, "KB416", "error",
                    f"question '{node_id}' shows no answer when reached with {held}",
                    "give one answer no when:, or make the guards cover every case"))
            moves = [(a.next, {**facts, **a.set}) for a in shown]
        elif node.kind == "do" and node.next:
            moves = [(node.next, facts)]
        for target, new_facts in moves:
            state = (target, _frozen(new_facts))
            if target in tree.nodes and state not in seen:
                seen.add(state)
                queue.append((target, new_facts))
    return diagnostics
