"""Path coverage: every path through each tree, and how much of it the tree's examples walk.

A path runs from the start along answers the guards allow (with the facts earlier answers set)
to an end: a solved or escalate step, or a goto that leaves the tree. A loop is taken at most
once per path (no step more than twice), so every tree has finitely many paths. Examples are
walked by the walk engine itself, as in KB418.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kbengine.model import Tree
from kbengine.walk.engine import Walk, WalkError, drive

MAX_PATHS = 10_000  # per tree; beyond it the count is reported as a lower bound
_END_KINDS = ("solved", "escalate", "goto")
Path = tuple[tuple[str, str | None], ...]  # (node id, answer label taken there or None)


@dataclass
class Measure:
    covered: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 if not self.total else round(100 * self.covered / self.total, 1)

    def as_dict(self) -> dict[str, Any]:
        return {"covered": self.covered, "total": self.total, "percent": self.percent}


@dataclass
class TreeCoverage:
    """What one tree's examples reach of its nodes, answers, ends and paths."""

    tree: str
    path: str
    nodes: Measure
    answers: Measure
    ends: Measure
    paths: Measure
    paths_capped: bool = False  # more than MAX_PATHS paths: `paths.total` is a lower bound
    missed_ends: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"tree": self.tree, "path": self.path, "nodes": self.nodes.as_dict(),
                "answers": self.answers.as_dict(), "ends": self.ends.as_dict(),
                "paths": {**self.paths.as_dict(), "capped": self.paths_capped},
                "missed_ends": self.missed_ends}


def tree_paths(tree: Tree, limit: int = MAX_PATHS) -> tuple[list[Path], bool]:
    """Every path from the start to an end (bounded loops), and whether `limit` cut them short."""
    found: list[Path] = []
    capped = False

    def walk(node_id: str, facts: dict[str, Any], path: Path, seen: dict[str, int]) -> None:
        nonlocal capped
        node = tree.nodes.get(node_id)
        if node is None or seen.get(node_id, 0) >= 2:
            return
        if len(found) >= limit:
            capped = True
            return
        seen = {**seen, node_id: seen.get(node_id, 0) + 1}
        if node.kind in _END_KINDS:
            found.append((*path, (node_id, None)))
            return
        for answer in node.exits():
            if answer.allowed(facts):
                label = answer.label if node.kind == "ask" else None
                walk(answer.next, {**facts, **answer.set}, (*path, (node_id, label)), seen)

    walk(tree.start, {}, (), {})
    return found, capped


def walked(trees: Mapping[str, Tree], tree: Tree) -> list[Path]:
    """The path each example of `tree` takes within it (examples that cannot start are skipped)."""
    result = []
    for example in tree.examples:
        try:
            walk = Walk(trees, tree.id, clock=lambda: "")
        except WalkError:
            continue
        drive(walk, example.answers, example.inputs)
        steps: list[tuple[str, str | None]] = [
            (step.node, step.answer if step.kind == "ask" else None)
            for step in walk.state.path if step.tree == tree.id]
        if walk.state.tree == tree.id:
            steps.append((walk.state.node, None))
        result.append(tuple(steps))
    return result


def tree_coverage(trees: Mapping[str, Tree], tree: Tree) -> TreeCoverage:
    paths, capped = tree_paths(tree)
    taken = walked(trees, tree)
    nodes_hit = {node for path in taken for node, _ in path}
    answers_hit = {(node, label) for path in taken for node, label in path if label is not None}
    all_answers = {(n.id, a.label) for n in tree.nodes.values() if n.kind == "ask" for a in n.answers}
    ends = [n.id for n in tree.nodes.values() if n.kind in _END_KINDS]
    return TreeCoverage(
        tree.id, tree.path,
        nodes=Measure(len(nodes_hit & set(tree.nodes)), len(tree.nodes)),
        answers=Measure(len(answers_hit & all_answers), len(all_answers)),
        ends=Measure(sum(end in nodes_hit for end in ends), len(ends)),
        paths=Measure(len(set(paths) & set(taken)), len(paths)),
        paths_capped=capped,
        missed_ends=[end for end in ends if end not in nodes_hit])


def coverage(trees: Mapping[str, Tree]) -> list[TreeCoverage]:
    """Coverage of every tree, in id order."""
    return [tree_coverage(trees, trees[tree_id]) for tree_id in sorted(trees)]
