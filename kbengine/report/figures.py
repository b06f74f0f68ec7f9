"""Figures for team leads over per-session summaries: outcomes, first-line resolution, times,
escalations, per tree and over time. Pure: summaries in, plain data out (docs/report.md).

Nothing personal leaves this module: no inputs, notes, tickets, agents or session ids.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from kbengine.walk.events import OUTCOMES

PERIODS = ("day", "week", "month")
TREND_FIELDS = ("period", "sessions", "solved", "escalated", "first_line_resolution")


@dataclass(frozen=True, slots=True)
class WalkFigures:
    """What the reports need from one session: one of these is kept per session, never its events."""

    tree: str
    outcome: str
    started: datetime
    response: float | None  # seconds from the start to the agent's first step
    ended: float | None  # seconds from the start to the solved or escalated end
    end_tree: str
    end_node: str
    team: str = ""
    priority: str = ""
    reason: str = ""
    session: str = ""  # shown only behind a recurring problem, to agents and leads
    articles: tuple[str, ...] = ()  # articles linked at the steps reached, or opened
    collected: tuple[tuple[str, str], ...] = ()  # (input, value) for the inputs kb.yaml names


def in_period(walk: WalkFigures, since: datetime | None, until: datetime | None) -> bool:
    """A session belongs to the period in which it started: since <= start < until."""
    return (since is None or walk.started >= since) and (until is None or walk.started < until)


def build_report(walks: Sequence[WalkFigures], by: str = "week") -> dict[str, Any]:
    """Every figure of the report as plain data (the --json output)."""
    escalated = [w for w in walks if w.outcome == "escalated"]
    return {
        "sessions": _outcomes(walks),
        "first_line_resolution": _flr(walks),
        "times": {
            "response": _spread(w.response for w in walks),
            "resolution": _spread(w.ended for w in walks if w.outcome == "solved"),
            "handover": _spread(w.ended for w in escalated),
        },
        "time_distribution": {
            "response": histogram(w.response for w in walks),
            "resolution": histogram(w.ended for w in walks if w.outcome == "solved"),
        },
        "escalations": {
            "total": len(escalated),
            "by_team": _shares("team", (w.team for w in escalated)),
            "by_priority": _shares("priority", (w.priority for w in escalated)),
            "by_reason": _shares("reason", (w.reason for w in escalated)),
            "by_node": [{"tree": tree, "node": node, "count": count, "share": share(count, len(escalated))}
                        for (tree, node), count in ranked((w.end_tree, w.end_node) for w in escalated)],
        },
        "trees": [_tree(tree, group) for tree, group in sorted(_by_tree(walks).items())],
        "trends": _trends(walks, by),
    }


def _by_tree(walks: Iterable[WalkFigures]) -> dict[str, list[WalkFigures]]:
    groups: dict[str, list[WalkFigures]] = defaultdict(list)
    for walk in walks:
        groups[walk.tree].append(walk)
    return groups


def _outcomes(walks: Sequence[WalkFigures]) -> dict[str, int]:
    counts = Counter(w.outcome for w in walks)
    return {"total": len(walks), **{outcome: counts[outcome] for outcome in OUTCOMES}}


def _flr(walks: Sequence[WalkFigures]) -> float | None:
    """solved / (solved + escalated); None when neither happened (no rate to give)."""
    counts = Counter(w.outcome for w in walks)
    finished = counts["solved"] + counts["escalated"]
    return round(counts["solved"] / finished, 4) if finished else None


def share(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def ranked(values: Iterable[Any]) -> list[tuple[Any, int]]:
    """Values with their counts, most frequent first, then alphabetical (stable output)."""
    return sorted(Counter(values).items(), key=lambda item: (-item[1], item[0]))


def _shares(name: str, values: Iterable[str]) -> list[dict[str, Any]]:
    counted = ranked(values)
    total = sum(count for _, count in counted)
    return [{name: value, "count": count, "share": share(count, total)} for value, count in counted]


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: Sequence[float]) -> float | None:
    """Nearest rank: the smallest value with at least 90% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])


def _spread(values: Iterable[float | None]) -> dict[str, Any]:
    known = [v for v in values if v is not None]
    return {"count": len(known), "median_seconds": median(known), "p90_seconds": p90(known)}


# upper bounds in seconds of the time distribution's buckets; the last is open-ended
BUCKETS = (60, 120, 300, 600, 1200, 1800, 3600, None)


def bucket_label(low: int, high: int | None) -> str:
    """`1-2 min`, `under 1 min`, `60+ min`."""
    if high is None:
        return f"{low // 60}+ min"
    return f"under {high // 60} min" if low == 0 else f"{low // 60}-{high // 60} min"


def histogram(values: Iterable[float | None]) -> list[dict[str, Any]]:
    """How many times fall in each bucket of BUCKETS (a time on a bound counts in the next bucket)."""
    counts = [0] * len(BUCKETS)
    for value in values:
        if value is None:
            continue
        counts[next(i for i, high in enumerate(BUCKETS) if high is None or value < high)] += 1
    lows = (0, *(high for high in BUCKETS[:-1] if high is not None))
    return [{"bucket": bucket_label(low, high), "from_seconds": low, "below_seconds": high, "count": count}
            for low, high, count in zip(lows, BUCKETS, counts, strict=True)]


def _tree(tree: str, walks: Sequence[WalkFigures]) -> dict[str, Any]:
    counts = _outcomes(walks)
    stops = ranked((w.end_tree, w.end_node) for w in walks if w.outcome == "abandoned")
    return {"tree": tree, "walks": counts["total"],
            **{outcome: counts[outcome] for outcome in OUTCOMES},
            "first_line_resolution": _flr(walks),
            "median_resolution_seconds": median([w.ended for w in walks
                                                 if w.outcome == "solved" and w.ended is not None]),
            "abandoned_most_at": ({"tree": stops[0][0][0], "node": stops[0][0][1], "count": stops[0][1]}
                                  if stops else None)}


def period_of(moment: datetime, by: str) -> str:
    """The day (2024-05-01), ISO week (2024-W18) or month (2024-05) of a start, in the agent's local time."""
    if by == "day":
        return f"{moment:%Y-%m-%d}"
    if by == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{moment:%Y-%m}"


def _periods(first: date, last: date, by: str) -> list[str]:
    """Every period from the first to the last, so a quiet day shows as a zero, not a gap."""
    names: list[str] = []
    day = first
    while day <= last:
        name = period_of(datetime(day.year, day.month, day.day), by)
        if not names or names[-1] != name:
            names.append(name)
        day += timedelta(days=1)
    return names


def _trends(walks: Sequence[WalkFigures], by: str) -> list[dict[str, Any]]:
    if not walks:
        return []
    days = [w.started.date() for w in walks]
    groups: dict[str, list[WalkFigures]] = {name: [] for name in _periods(min(days), max(days), by)}
    for walk in walks:
        groups[period_of(walk.started, by)].append(walk)
    return [dict(zip(TREND_FIELDS, (name, len(group), _outcomes(group)["solved"],
                                    _outcomes(group)["escalated"], _flr(group)), strict=True))
            for name, group in groups.items()]
