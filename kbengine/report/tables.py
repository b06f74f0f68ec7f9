"""The report as titled tables with figures formatted for people: what the text, Markdown and
HTML outputs print (the JSON output keeps the numbers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kbengine.report.figures import OUTCOMES, share
from kbengine.walk.handover import format_duration


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
              [(o.replace("_", " "), str(sessions[o]), percent(share(sessions[o], total))) for o in OUTCOMES]
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
