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


def recurring_table(report: dict[str, Any], *, with_sessions: bool = True, shown: int = 5) -> Table:
    """Recurring problems, most surprising first; the session ids (the first `shown`) only for leads."""
    headers = ("recurring", "what", "in window", "baseline", "expected", "since", "p")
    rows = [(row["kind"], row["what"], str(row["window_count"]), str(row["baseline_count"]),
             f"{row['expected']:.2f}", row["since"][:16].replace("T", " "), f"{row['p_value']:.1g}")
            + ((_some(row["sessions"], shown),) if with_sessions else ())
            for row in report.get("recurring", [])]
    rule = report.get("recurring_rule") or {}
    title = (f"Recurring problems (last {rule.get('window', '?')} against the {rule.get('baseline', '?')} "
             f"before, p < {rule.get('p_value', '?')}, at least {rule.get('min_count', '?')})")
    return Table(title, headers + (("sessions",) if with_sessions else ()), rows)


def _some(sessions: Sequence[str], shown: int) -> str:
    more = len(sessions) - shown
    return " ".join(sessions[:shown]) + (f" (+{more} more, see --json)" if more > 0 else "")


def report_tables(report: dict[str, Any], *, with_sessions: bool = True) -> list[Table]:
    """The report in reading order, recurring problems first, figures formatted for people."""
    sessions, times, escalations = report["sessions"], report["times"], report["escalations"]
    total = sessions["total"]
    tables = [
        recurring_table(report, with_sessions=with_sessions),
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


def content_tables(report: dict[str, Any]) -> list[Table]:
    """The content report in reading order: use, never used, stale, lost walks, what readers said."""
    used = [row for row in report["articles"] if row["walks"]]
    said = [row for row in report["articles"] if row["feedback"]]
    return [
        Table(f"Articles used in walks (link rate of all walks: {percent(report['link_rate'])})",
              ("article", "walks", "solved walks", "link rate", "last used"),
              [(row["id"], str(row["walks"]), str(row["solved_walks"]), percent(row["link_rate"]),
                row["last_used"][:10]) for row in used]),
        Table("Never used in a walk", ("article", "owner"),
              [(row["id"], row["owner"]) for row in report["never_used"]]),
        Table("Stale articles by owner", ("owner", "article", "updated", "age"),
              [(group["owner"], row["id"], row["updated"] or "(no date)",
                f"{row['age_days']} days" if row["age_days"] is not None else "")
               for group in report["stale"] for row in group["articles"]]),
        Table("Tree steps where walks are abandoned", ("tree", "step", "abandoned", "walks", "share"),
              [(row["tree"], f"{row['node_tree']}#{row['node']}", str(row["abandoned"]), str(row["walks"]),
                percent(row["share"])) for row in report["abandonment"]]),
        Table("Was this helpful? (help site)", ("article or step", "yes", "no", "comments"),
              [(row["id"], str(row["feedback"]["helpful"]), str(row["feedback"]["not_helpful"]),
                " | ".join(row["feedback"]["comments"])) for row in said]
              + [(end, str(votes["helpful"]), str(votes["not_helpful"]), " | ".join(votes["comments"]))
                 for end, votes in report["tree_ends"].items()]),
        Table("Searches that found nothing (help site)", ("search", "times", "last"),
              [(row["query"], str(row["count"]), row["last"][:10])
               for row in report["searches_without_results"]]),
    ]
