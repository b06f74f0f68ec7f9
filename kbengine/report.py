"""Figures for team leads over session records: outcomes, first-line resolution, times,
escalations, per tree and over time. Pure: sessions in, plain data out (docs/report.md).

Nothing personal leaves this module: no inputs, notes, tickets, agents or session ids.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from kbengine.walk.events import OUTCOMES
from kbengine.walk.handover import format_duration
from kbengine.walk.store import Session

PERIODS = ("day", "week", "month")
TREND_FIELDS = ("period", "sessions", "solved", "escalated", "first_line_resolution")


class DamagedRecord(Exception):
    """A record whose content cannot be counted (a field someone edited into the wrong shape)."""


@dataclass(frozen=True, slots=True)
class WalkFigures:
    """What the report needs from one session, and nothing personal."""

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


def walk_figures(session: Session) -> WalkFigures:
    """The figures of one session; DamagedRecord when its fields are not in the documented shape."""
    started = _moment(session.started, "the start")
    outcome = session.outcome
    if outcome not in OUTCOMES:
        raise DamagedRecord(f"unknown outcome '{outcome}'")
    replayed = session.replayed
    response = _seconds(started, replayed.first_step_at, "the first step")
    ended = _seconds(started, replayed.ended_at, "the end")
    state = session.state
    escalation = state.get("escalation") if outcome == "escalated" else None
    if escalation is not None and not isinstance(escalation, dict):
        raise DamagedRecord("its escalation is not a team, priority and reason")
    escalation = escalation or {}
    return WalkFigures(session.tree, outcome, started, response, ended,
                       str(state.get("tree") or session.tree), str(state.get("node") or ""),
                       str(escalation.get("team") or ""), str(escalation.get("priority") or ""),
                       str(escalation.get("reason") or ""))


def _moment(stamp: Any, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        raise DamagedRecord(f"the time of {what} is not a date and time: '{stamp}'") from None
    return moment if moment.tzinfo else moment.astimezone()


def _seconds(started: datetime, stamp: str | None, what: str) -> float | None:
    return None if stamp is None else (_moment(stamp, what) - started).total_seconds()


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
        "escalations": {
            "total": len(escalated),
            "by_team": _shares("team", (w.team for w in escalated)),
            "by_priority": _shares("priority", (w.priority for w in escalated)),
            "by_reason": _shares("reason", (w.reason for w in escalated)),
            "by_node": [{"tree": tree, "node": node, "count": count, "share": _share(count, len(escalated))}
                        for (tree, node), count in _ranked((w.end_tree, w.end_node) for w in escalated)],
        },
        "trees": [_tree(tree, [w for w in walks if w.tree == tree])
                  for tree in sorted({w.tree for w in walks})],
        "trends": _trends(walks, by),
    }


def _outcomes(walks: Sequence[WalkFigures]) -> dict[str, int]:
    counts = Counter(w.outcome for w in walks)
    return {"total": len(walks), **{outcome: counts[outcome] for outcome in OUTCOMES}}


def _flr(walks: Sequence[WalkFigures]) -> float | None:
    """solved / (solved + escalated); None when neither happened (no rate to give)."""
    counts = Counter(w.outcome for w in walks)
    finished = counts["solved"] + counts["escalated"]
    return round(counts["solved"] / finished, 4) if finished else None


def _share(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def _ranked(values: Iterable[Any]) -> list[tuple[Any, int]]:
    """Values with their counts, most frequent first, then alphabetical (stable output)."""
    return sorted(Counter(values).items(), key=lambda item: (-item[1], item[0]))


def _shares(name: str, values: Iterable[str]) -> list[dict[str, Any]]:
    ranked = _ranked(values)
    total = sum(count for _, count in ranked)
    return [{name: value, "count": count, "share": _share(count, total)} for value, count in ranked]


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


def _tree(tree: str, walks: Sequence[WalkFigures]) -> dict[str, Any]:
    counts = _outcomes(walks)
    stops = _ranked((w.end_tree, w.end_node) for w in walks if w.outcome == "abandoned")
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


@dataclass(frozen=True, slots=True)
class Table:
    """One section of the report as a titled table: what the text, Markdown and CSV outputs print."""

    title: str
    headers: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]


def report_tables(report: dict[str, Any]) -> list[Table]:
    """The report in reading order, figures formatted for people."""
    sessions, times, escalations = report["sessions"], report["times"], report["escalations"]
    total = sessions["total"]
    tables = [
        Table("Sessions", ("outcome", "sessions", "share"),
              [(o.replace("_", " "), str(sessions[o]), percent(_share(sessions[o], total))) for o in OUTCOMES]
              + [("total", str(total), ""),
                 ("first-line resolution", "", percent(report["first_line_resolution"]))]),
        Table("Times", ("time", "walks", "median", "p90"),
              [(label, str(times[key]["count"]), duration(times[key]["median_seconds"]),
                duration(times[key]["p90_seconds"]))
               for key, label in (("response", "response (to the first step)"),
                                  ("resolution", "resolution (to solved)"),
                                  ("handover", "hand-over (to escalated)"))]),
    ]
    for key, title in (("team", "Escalations by team"), ("priority", "Escalations by priority"),
                       ("reason", "Escalations by reason")):
        tables.append(Table(title, (key, "escalations", "share"),
                            [(row[key] or "(none given)", str(row["count"]), percent(row["share"]))
                             for row in escalations[f"by_{key}"]]))
    tables.append(Table("Escalations by node", ("tree", "node", "escalations", "share"),
                        [(row["tree"], row["node"], str(row["count"]), percent(row["share"]))
                         for row in escalations["by_node"]]))
    tables.append(Table("Per tree", ("tree", "walks", "solved", "escalated", "abandoned", "FLR",
                                     "median resolution", "abandoned most at"),
                        [(row["tree"], str(row["walks"]), str(row["solved"]), str(row["escalated"]),
                          str(row["abandoned"]), percent(row["first_line_resolution"]),
                          duration(row["median_resolution_seconds"]), _stop(row["abandoned_most_at"]))
                         for row in report["trees"]]))
    tables.append(trends_table(report))
    return tables


def trends_table(report: dict[str, Any]) -> Table:
    """The trends with the rate as a percentage (the CSV output keeps the numbers)."""
    return Table("Trends", ("period", "sessions", "solved", "escalated", "FLR"),
                 [(row["period"], str(row["sessions"]), str(row["solved"]), str(row["escalated"]),
                   percent(row["first_line_resolution"])) for row in report["trends"]])


def _stop(stop: dict[str, Any] | None) -> str:
    if not stop:
        return ""
    return f"{stop['tree']}#{stop['node']} ({stop['count']})"


def percent(rate: float | None) -> str:
    """`62.5%`; a dash when there is no rate (nothing to divide by)."""
    return "–" if rate is None else f"{rate * 100:.1f}%"


def duration(seconds: float | None) -> str:
    """`4 min 12 s` like the hand-over; a dash when there is no time."""
    return "–" if seconds is None else format_duration(round(seconds))
