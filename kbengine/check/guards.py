"""Rules on `set` facts and `when` guards: walk each tree with the facts its answers set,
and find questions where, on some path, every answer is hidden."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from kbengine.check.registry import diagnostic
from kbengine.model import Diagnostic, Node, Tree, goto_entry

# Trees are small; this bounds the facts-by-node search on pathological content.
MAX_STATES = 5000


Facts = dict[str, Any]


def frozen_facts(facts: Facts) -> frozenset[tuple[str, Any]]:
    """Facts as a hashable value (list values become tuples)."""
    return frozenset((k, tuple(v) if isinstance(v, list) else v) for k, v in facts.items())


def reachable_states(tree: Tree, entries: Iterable[tuple[str, Facts]] | None = None, *,
                     enter: Callable[[Node], bool] | None = None,
                     kept: Mapping[str, Collection[str]] | None = None) -> dict[str, list[Facts]]:
    """{node id: facts it can be reached with}, following answers and `do` steps from `entries`
    (default: the start with no facts). Nodes `enter` refuses are neither listed nor followed;
    with `kept` ({node id: fact names}), a node tracks only those facts (paths differing in
    others merge there)."""
    def keep(node_id: str, facts: Facts) -> Facts:
        if kept is None:
            return facts
        names = kept.get(node_id, ())
        return {k: v for k, v in facts.items() if k in names}

    states: dict[str, list[Facts]] = {}
    seen: set[tuple[str, frozenset[tuple[str, Any]]]] = set()
    queue: deque[tuple[str, Facts]] = deque()

    def reach(node_id: str, facts: Facts) -> None:
        node = tree.nodes.get(node_id)
        facts = keep(node_id, facts)
        state = (node_id, frozen_facts(facts))
        if node is None or state in seen or (enter is not None and not enter(node)):
            return
        seen.add(state)
        states.setdefault(node_id, []).append(facts)
        queue.append((node_id, facts))

    for node_id, facts in [(tree.start, {})] if entries is None else entries:
        reach(node_id, facts)
    while queue and len(seen) < MAX_STATES:
        node_id, facts = queue.popleft()
        for answer in tree.nodes[node_id].exits():
            if answer.allowed(facts):
                reach(answer.next, {**facts, **answer.set})
    return states


def states_across_trees(trees: Mapping[str, Tree], *, enter: Callable[[Node], bool] | None = None,
                        kept: Mapping[str, Mapping[str, Collection[str]]] | None = None,
                        ) -> dict[str, dict[str, list[Facts]]]:
    """`reachable_states` of every tree from its start, plus the facts that gotos carry into
    the trees they enter (as in `kb walk`). `kept` is per tree, as in `reachable_states`."""
    seeds: dict[str, list[tuple[str, Facts]]] = {tid: [(tree.start, {})] for tid, tree in trees.items()}
    seeded = {(tid, tree.start, frozen_facts({})) for tid, tree in trees.items()}
    found: dict[str, dict[str, list[Facts]]] = {}
    pending = deque(trees)
    while pending:
        tree_id = pending.popleft()
        tree = trees[tree_id]
        found[tree_id] = reachable_states(tree, seeds[tree_id], enter=enter,
                                          kept=kept[tree_id] if kept else None)
        for node_id, reached in found[tree_id].items():
            entry = goto_entry(tree.nodes[node_id], trees)
            if entry is None:
                continue
            target, start = entry
            names = kept[target].get(start, ()) if kept else None
            for facts in reached:
                carried = facts if names is None else {k: v for k, v in facts.items() if k in names}
                key = (target, start, frozen_facts(carried))
                if key not in seeded and len(seeded) < MAX_STATES:
                    seeded.add(key)
                    seeds[target].append((start, carried))
                    if target not in pending:
                        pending.append(target)
    return found


def check_guards(trees: Mapping[str, Tree]) -> list[Diagnostic]:
    """KB416: a question that shows no answer on some path; KB417: a guard on a fact never set."""
    diagnostics: list[Diagnostic] = []
    facts_set = {name for tree in trees.values() for node in tree.nodes.values()
                 for answer in node.answers for name in answer.set}
    for tree in trees.values():
        for node in tree.nodes.values():
            for answer in node.answers:
                for name in answer.when:
                    if name not in facts_set:
                        diagnostics.append(diagnostic(
                            "KB417", tree.path, answer.line, answer.col,
                            f"answer '{answer.label}' is shown only when '{name}' is set, "
                            "but no answer sets it", f"add set: {{{name}: ...}} to an earlier answer"))
    for tree_id, reached_by_node in states_across_trees(trees).items():
        diagnostics.extend(_dead_ends(trees[tree_id], reached_by_node))
    return diagnostics


def _dead_ends(tree: Tree, reached_by_node: dict[str, list[Facts]]) -> list[Diagnostic]:
    diagnostics = []
    for node_id, reached in reached_by_node.items():
        node = tree.nodes[node_id]
        if node.kind != "ask" or not node.answers:
            continue
        facts = next((f for f in reached if not any(a.allowed(f) for a in node.answers)), None)
        if facts is not None:
            held = ", ".join(f"{k}={v}" for k, v in sorted(facts.items())) or "no facts set"
            diagnostics.append(diagnostic("KB416", tree.path, node.line, node.col,
                                          f"question '{node_id}' shows no answer when reached with {held}",
                                          "give one answer no when:, or make the guards cover every case"))
    return diagnostics
