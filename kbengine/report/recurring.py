"""Recurring problems: what turns up in the recent window far more often than its own baseline
says it should (docs/report.md#recurring-problems).

For each thing — a tree, an end node, an escalation team or reason, a collected value such as
an asset tag — the walks in the window are counted (W) and so are those in the baseline before
it (B). At the baseline's rate the window should hold λ = (B + 1) × window / baseline walks;
the +1 keeps a thing never seen before from being infinitely surprising. The thing recurs when
W ≥ min_count and P(X ≥ W) < p_value for X ~ Poisson(λ).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kbengine.report.figures import WalkFigures
from kbengine.report.settings import RecurringRule, age_text

# on a tie, the most specific thing first: one printer says more than the tree it is walked in
KINDS = ("collected value", "end node", "escalation reason", "escalation team", "tree")


def poisson_tail(count: int, expected: float) -> float:
    """P(X >= count) for X ~ Poisson(expected), accurate far into the tail."""
    if count <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    term = math.exp(-expected + count * math.log(expected) - math.lgamma(count + 1))
    if count <= expected:  # the tail is large: one minus the head is precise enough
        head, k = 0.0, count
        while k > 0:  # the terms below `count`, walked down from term(count)
            term *= k / expected
            k -= 1
            head += term
        return max(0.0, 1.0 - head)
    tail, k = 0.0, count
    while term > tail * 1e-17:  # past the mean the terms only shrink
        tail += term
        k += 1
        term *= expected / k
    return tail


@dataclass(frozen=True, slots=True)
class Recurring:
    """One thing that recurs: how often in the window, against what its baseline led to expect."""

    kind: str
    what: str
    window_count: int
    baseline_count: int
    expected: float
    p_value: float
    since: datetime  # the first walk about it in the window
    sessions: tuple[str, ...]  # the walks behind it, oldest first

    def as_dict(self, *, with_sessions: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind, "what": self.what, "window_count": self.window_count,
            "baseline_count": self.baseline_count, "expected": round(self.expected, 3),
            "p_value": float(f"{self.p_value:.3g}"), "since": self.since.isoformat()}
        if with_sessions:
            data["sessions"] = list(self.sessions)
        return data


def things(walk: WalkFigures) -> Iterator[tuple[str, str, str]]:
    """(kind, key, as shown) for everything about a walk that may recur; collected values compare
    without case or surrounding space."""
    yield "tree", walk.tree, walk.tree
    if walk.outcome in ("solved", "escalated") and walk.end_node:
        place = f"{walk.end_tree}#{walk.end_node}"
        yield "end node", place, place
    if walk.outcome == "escalated":
        if walk.team:
            yield "escalation team", walk.team, walk.team
        if walk.reason:
            yield "escalation reason", walk.reason, walk.reason
    for name, value in walk.collected:
        yield "collected value", f"{name}\0{value.strip().casefold()}", f"{name}: {value.strip()}"


def as_of(walks: Sequence[WalkFigures], until: datetime | None) -> datetime | None:
    """Where the window ends: `until` when given, else the newest start (so old records work too)."""
    if until is not None:
        return until
    return max((walk.started for walk in walks), default=None)


def find_recurring(walks: Iterable[WalkFigures], rule: RecurringRule, end: datetime) -> list[Recurring]:
    """Everything that recurs in the window that ends at `end`, most surprising first."""
    window_start = end - rule.window
    baseline_start = window_start - rule.baseline
    baseline: dict[tuple[str, str], int] = defaultdict(int)
    window: dict[tuple[str, str], list[WalkFigures]] = defaultdict(list)
    shown: dict[tuple[str, str], str] = {}
    for walk in walks:
        if not baseline_start <= walk.started <= end:
            continue
        recent = walk.started >= window_start
        for kind, key, label in things(walk):
            if recent:
                window[kind, key].append(walk)
                shown.setdefault((kind, key), label)
            else:
                baseline[kind, key] += 1
    scale = rule.window / rule.baseline
    found = []
    for (kind, key), recent_walks in window.items():
        count = len(recent_walks)
        if count < rule.min_count:
            continue
        expected = (baseline[kind, key] + 1) * scale
        p_value = poisson_tail(count, expected)
        if p_value < rule.p_value:
            recent_walks.sort(key=lambda walk: walk.started)
            found.append(Recurring(kind, shown[kind, key], count, baseline[kind, key], expected, p_value,
                                   recent_walks[0].started, tuple(walk.session for walk in recent_walks)))
    found.sort(key=lambda item: (item.p_value, -item.window_count, KINDS.index(item.kind), item.what))
    return found


def rule_data(rule: RecurringRule, end: datetime | None) -> dict[str, Any]:
    """The rule as the JSON output states it next to what it found."""
    return {"as_of": end and end.isoformat(), "window": age_text(rule.window),
            "baseline": age_text(rule.baseline), "min_count": rule.min_count, "p_value": rule.p_value,
            "inputs": list(rule.inputs)}
