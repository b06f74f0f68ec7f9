"""Which answer states the troubleshooters have pages for, so `when` guards hold without JavaScript.

A step reached with facts (set by earlier answers) gets a page per set of facts it can be
reached with, found by the same exploration as `kb check` (`reachable_states`). Facts carry
into the trees that gotos enter, as in `kb walk`. A step's pages only track the facts that
a guard on that step or any step after it can read (in its tree or the trees its gotos
enter), so paths that differ only in facts nobody checks any more share one page, and
trees without guards get no extra pages.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kbengine.check.guards import Facts, frozen_facts, states_across_trees
from kbengine.model import Node, Tree, goto_entry
from kbengine.read.slugs import slugify

FrozenFacts = frozenset[tuple[str, Any]]
Step = tuple[str, str]  # (tree id, node id)
_RESERVED = re.compile(r"contact-\d+")  # the hand-over pages beside the state pages
_NO_FACTS: FrozenFacts = frozenset()


@dataclass
class TreeStates:
    """Per step (tree id, node id): the fact names its pages track, and the sub-path of each
    state's page."""

    kept: dict[Step, frozenset[str]] = field(default_factory=dict)
    slugs: dict[Step, dict[FrozenFacts, str]] = field(default_factory=dict)
    facts: dict[Step, list[Facts]] = field(default_factory=dict)

    def slug(self, tree_id: str, node_id: str, facts: Facts) -> str:
        """Sub-path of the page for this step with these facts; "" for the page without facts
        (also the fallback for a state no page was made for)."""
        kept = self.kept.get((tree_id, node_id), frozenset())
        key = frozen_facts({name: value for name, value in facts.items() if name in kept})
        return self.slugs.get((tree_id, node_id), {}).get(key, "")

    def pages(self, tree_id: str, node_id: str) -> list[tuple[Facts, str]]:
        """(facts, sub-path) of every state page of a step, not counting the one without facts."""
        slugs = self.slugs.get((tree_id, node_id), {})
        return [(facts, slugs[frozen_facts(facts)])
                for facts in self.facts.get((tree_id, node_id), []) if facts]


def plan_states(trees: dict[str, Tree]) -> TreeStates:
    """Every (step, facts) a reader can reach from each tree's first step, through public steps."""
    kept = _kept_names(trees)
    by_tree = {tid: {nid: kept[(tid, nid)] for nid in tree.nodes} for tid, tree in trees.items()}
    found = states_across_trees(trees, enter=_public, kept=by_tree)
    states = TreeStates(kept)
    for tree_id, by_node in found.items():
        for node_id, reached in by_node.items():
            states.facts[(tree_id, node_id)] = reached
            states.slugs[(tree_id, node_id)] = _slugs(reached)
    return states


def _public(node: Node) -> bool:
    return node.audience == "public"  # an internal step is a hand-over: the reader stops there


def _kept_names(trees: dict[str, Tree]) -> dict[Step, frozenset[str]]:
    """{step: fact names read by a guard on it or on any step it can lead to, across gotos}."""
    names = {(tid, nid): {name for answer in node.answers for name in answer.when}
             for tid, tree in trees.items() for nid, node in tree.nodes.items()}
    following = {}
    for tid, tree in trees.items():
        for nid, node in tree.nodes.items():
            entry = goto_entry(node, trees)
            following[(tid, nid)] = [(tid, target) for target in node.targets()] + ([entry] if entry else [])
    changed = True
    while changed:  # until no step learns a new name from the steps after it (loops included)
        changed = False
        for step, after in following.items():
            for other in after:
                extra = names.get(other, set()) - names[step]
                if extra:
                    names[step] |= extra
                    changed = True
    return {step: frozenset(found) for step, found in names.items()}


def facts_slug(facts: Facts) -> str:
    """`{os: windows, client: new}` -> `client-new-os-windows`."""
    return "-".join(slugify(f"{name} {_text(value)}") for name, value in sorted(facts.items()))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _digest(facts: Facts, size: int) -> str:
    canonical = json.dumps(sorted(facts.items()), default=str, ensure_ascii=False)
    return hashlib.blake2b(canonical.encode("utf-8"), digest_size=size).hexdigest()


def _slugs(reached: list[Facts]) -> dict[FrozenFacts, str]:
    """A distinct sub-path per set of facts; a short hash is added where slugs would clash
    (e.g. `Windows` and `windows`) or would look like a hand-over page."""
    plain = {frozen_facts(facts): (facts, facts_slug(facts)) for facts in reached if facts}
    counts = Counter(slug for _, slug in plain.values())
    for size in (0, 3, 8, 16):
        slugs = {}
        for key, (facts, slug) in plain.items():
            if size and (counts[slug] > 1 or not slug or _RESERVED.fullmatch(slug)):
                slug = "-".join(filter(None, [slug, _digest(facts, size)]))
            slugs[key] = slug
        if _distinct(list(slugs.values())):
            break
    slugs[_NO_FACTS] = ""
    return slugs


def _distinct(slugs: list[str]) -> bool:
    return all(slugs) and len(set(slugs)) == len(slugs) and not any(map(_RESERVED.fullmatch, slugs))
