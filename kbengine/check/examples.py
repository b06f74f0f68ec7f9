"""Tree examples: writers' tests that walk a tree with given answers and say where it must end.

Run at compile time by the walk engine itself, so an example passes exactly when an agent
giving the same answers would end up there.
"""

from __future__ import annotations

from collections.abc import Mapping

from kbengine.check.registry import diagnostic
from kbengine.model import Diagnostic, Tree, TreeExample
from kbengine.walk.engine import Walk, WalkError, drive, quoted


def check_examples(trees: Mapping[str, Tree]) -> list[Diagnostic]:
    """KB418 for every example whose walk does not end where (or how) it says."""
    diagnostics = []
    for tree in trees.values():
        for number, example in enumerate(tree.examples, start=1):
            problem = _run(trees, tree, example)
            if problem:
                diagnostics.append(diagnostic("KB418", tree.path, example.line, example.col,
                                              f"example {number}: {problem}",
                                              "fix the tree, or the example if the tree changed on purpose"))
    return diagnostics


def _run(trees: Mapping[str, Tree], tree: Tree, example: TreeExample) -> str | None:
    try:
        walk = Walk(trees, tree.id, clock=lambda: "")
    except WalkError:
        return None  # the tree itself is broken; kb check reports that where it is
    error, _ = drive(walk, example.answers, example.inputs)
    if error:
        return error
    state = walk.state
    here = state.node if state.tree == tree.id else f"{state.tree}#{state.node}"
    wanted_node = example.ends_at
    if wanted_node and "#" not in wanted_node:
        wanted_node = f"{tree.id}#{wanted_node}"
    if (wanted_node and wanted_node != f"{state.tree}#{state.node}") or (
            example.outcome and example.outcome != state.outcome):
        expected = " ".join(filter(None, [f"at '{example.ends_at}'" if example.ends_at else "",
                                          f"({example.outcome})" if example.outcome else ""]))
        if state.outcome == "in_progress":
            answers = [a.label for a in walk.choices()]
            item = walk.pending_input()
            waiting = (f", waiting for one of {quoted(answers)}" if answers
                       else f", waiting for the input '{item.name}'" if item else "")
            return f"should end {expected} but stops at '{here}'{waiting}"
        return f"should end {expected} but ends at '{here}' ({state.outcome})"
    return None
