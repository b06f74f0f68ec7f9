"""`kb diff`: what changed in the content between two versions of a KB, in the writers' terms.

Trees: nodes and answers added, removed, relabelled or rewired, ends that the same answers now
reach differently, new escalations. Articles: added, removed, retitled, moved, status or
audience changed, ids renamed, and links that break.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kbengine.check.coverage import tree_paths
from kbengine.compiler import compile_kb, compile_snapshot
from kbengine.kb import KnowledgeBase
from kbengine.model import Article, Node, Tree
from kbengine.read.git import GitError, files_at
from kbengine.services.errors import ServiceError

# codes of diagnostics that mean a reference leads nowhere
_BROKEN = {"KB404", "KB405", "KB413", "KB501", "KB502", "KB503", "KB505", "KB506", "KB601"}


class DiffError(ServiceError):
    """The revisions cannot be read (not a git repository, unknown revision)."""


@dataclass
class Change:
    """One change, in words, with where it is in the newer version."""

    kind: str  # e.g. "answer rewired", "article retitled"
    item: str  # the tree or article id
    text: str
    path: str = ""


@dataclass
class ContentDiff:
    old: str
    new: str
    trees: list[Change] = field(default_factory=list)
    articles: list[Change] = field(default_factory=list)

    @property
    def changes(self) -> list[Change]:
        return [*self.trees, *self.articles]

    def as_dict(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "trees": [asdict(c) for c in self.trees],
                "articles": [asdict(c) for c in self.articles]}


def diff_revisions(root: Path, old: str, new: str | None = None) -> ContentDiff:
    """The content diff of the KB at `root` from git revision `old` to `new` (default: the
    files as they are now)."""
    try:
        before = compile_snapshot(root, files_at(root, old))
        after = compile_snapshot(root, files_at(root, new)) if new else compile_kb(root)
    except GitError as error:
        raise DiffError(str(error)) from None
    return diff_kbs(before, after, old, new or "working tree")


def diff_kbs(before: KnowledgeBase, after: KnowledgeBase, old: str = "old", new: str = "new") -> ContentDiff:
    result = ContentDiff(old, new)
    for tree_id in sorted(set(before.trees) | set(after.trees)):
        result.trees += _tree_changes(before.trees.get(tree_id), after.trees.get(tree_id))
    result.articles += _article_changes(before.articles, after.articles)
    for change in _new_broken_links(before, after):
        (result.trees if change.path.startswith("trees/") else result.articles).append(change)
    return result


def _what(node: Node) -> str:
    if node.escalation:
        return f"escalation to {node.escalation.team}"
    if node.goto:
        return f"go to {node.goto}"
    return f"{node.kind} '{node.prompt}'"


def _tree_changes(old: Tree | None, new: Tree | None) -> list[Change]:
    if new is None:
        assert old is not None
        return [Change("tree removed", old.id, f"tree '{old.title}' removed", old.path)]
    if old is None:
        return [Change("tree added", new.id, f"tree '{new.title}' added ({len(new.nodes)} nodes)", new.path)]
    changes: list[Change] = []

    def note(kind: str, text: str) -> None:
        changes.append(Change(kind, new.id, text, new.path))

    if old.title != new.title:
        note("tree retitled", f"title '{old.title}' -> '{new.title}'")
    if old.start != new.start:
        note("start changed", f"starts at '{new.start}' (was '{old.start}')")
    for node_id in sorted(set(old.nodes) - set(new.nodes)):
        note("node removed", f"node '{node_id}' removed ({_what(old.nodes[node_id])})")
    for node_id in sorted(set(new.nodes) - set(old.nodes)):
        node = new.nodes[node_id]
        note("escalation added" if node.kind == "escalate" else "node added",
             f"node '{node_id}' added ({_what(node)})")
    for node_id in sorted(set(old.nodes) & set(new.nodes)):
        changes += [Change(kind, new.id, text, new.path)
                    for kind, text in _node_changes(old.nodes[node_id], new.nodes[node_id])]
    changes += [Change("end reached differently", new.id, text, new.path) for text in _ends_moved(old, new)]
    return changes


def _node_changes(old: Node, new: Node) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    where = f"node '{new.id}'"
    if old.kind != new.kind:
        found.append(("node changed kind", f"{where} is now {new.kind} (was {old.kind})"))
    if old.prompt != new.prompt and old.kind == new.kind:
        found.append(("node reworded", f"{where}: '{old.prompt}' -> '{new.prompt}'"))
    if new.escalation and (old.escalation is None or (old.escalation.team, old.escalation.priority)
                           != (new.escalation.team, new.escalation.priority)):
        was = f" (was {old.escalation.team} {old.escalation.priority})".rstrip() if old.escalation else ""
        found.append(("escalation changed", f"{where} hands over to {new.escalation.team} "
                                            f"{new.escalation.priority}".rstrip() + was))
    old_answers = {a.label: a.next for a in old.answers}
    new_answers = {a.label: a.next for a in new.answers}
    gone = {label: target for label, target in old_answers.items() if label not in new_answers}
    came = {label: target for label, target in new_answers.items() if label not in old_answers}
    for label, target in list(came.items()):
        renamed = next((was for was, before in gone.items() if before == target), None)
        if renamed is not None:
            found.append(("answer relabelled", f"{where}: answer '{renamed}' -> '{label}' (to '{target}')"))
            del gone[renamed], came[label]
    found += [("answer removed", f"{where}: answer '{label}' (to '{target}') removed")
              for label, target in gone.items()]
    found += [("answer added", f"{where}: answer '{label}' added, to '{target}'")
              for label, target in came.items()]
    for label in old_answers.keys() & new_answers.keys():
        if old_answers[label] != new_answers[label]:
            found.append(("answer rewired", f"{where}: answer '{label}' now leads to "
                                            f"'{new_answers[label]}' (was '{old_answers[label]}')"))
    if old.next != new.next and old.kind == new.kind == "do":
        found.append(("step rewired", f"{where}: next step is '{new.next}' (was '{old.next}')"))
    if old.goto != new.goto and old.kind == new.kind == "goto":
        found.append(("goto rewired", f"{where}: goes to '{new.goto}' (was '{old.goto}')"))
    return found


def _ends_by_answers(tree: Tree) -> dict[tuple[str, ...], str]:
    """{answers given along a path: the end it reaches} for every path of the tree."""
    paths, _ = tree_paths(tree)
    return {tuple(label for _, label in path if label is not None): path[-1][0] for path in paths}


def _ends_moved(old: Tree, new: Tree) -> list[str]:
    before, after = _ends_by_answers(old), _ends_by_answers(new)
    return [f"answers {' > '.join(repr(a) for a in answers) or '(none)'} now end at '{after[answers]}' "
            f"(was '{before[answers]}')"
            for answers in sorted(before.keys() & after.keys()) if before[answers] != after[answers]]


def _article_changes(old: dict[str, Article], new: dict[str, Article]) -> list[Change]:
    changes: list[Change] = []
    removed = {i: a for i, a in old.items() if i not in new}
    added = {i: a for i, a in new.items() if i not in old}
    for new_id, article in list(added.items()):
        # the same file, or the same body under a new name: an id renamed, not a new article
        was = next((i for i, a in removed.items() if a.path == article.path or a.body == article.body), None)
        if was is not None:
            changes.append(Change("id renamed", new_id, f"article id '{was}' -> '{new_id}'", article.path))
            changes += _article_fields(removed.pop(was), article)
            del added[new_id]
    changes += [Change("article removed", i, f"article '{a.title}' removed ({a.path})", a.path)
                for i, a in sorted(removed.items())]
    changes += [Change("article added", i, f"article '{a.title}' added", a.path)
                for i, a in sorted(added.items())]
    for article_id in sorted(old.keys() & new.keys()):
        changes += _article_fields(old[article_id], new[article_id])
    return changes


def _article_fields(old: Article, new: Article) -> list[Change]:
    changes = []
    for name, kind in (("title", "article retitled"), ("path", "article moved"),
                       ("status", "status changed"), ("audience", "audience changed")):
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            changes.append(Change(kind, new.id, f"{name} '{before}' -> '{after}'", new.path))
    return changes


def _new_broken_links(before: KnowledgeBase, after: KnowledgeBase) -> list[Change]:
    """References that lead nowhere now and did not before (messages compared, not lines)."""
    def broken(kb: KnowledgeBase) -> dict[tuple[str, str], Any]:
        return {(d.path, d.message): d for d in kb.diagnostics if d.code in _BROKEN}

    was = broken(before)
    return [Change("link breaks", d.path, f"{d.path}:{d.line}: {d.message}", d.path)
            for key, d in sorted(broken(after).items()) if key not in was]
