"""The dashboard: the team report (and the content report, when a KB is at hand) as one
self-contained HTML page with inline SVG charts, each followed by its table (docs/report.md#dashboard).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from kbengine.report import charts
from kbengine.report.charts import Series
from kbengine.report.tables import Table, content_tables, duration, percent, recurring_table, report_tables


@dataclass(frozen=True)
class Section:
    """One part of the page: a heading, a chart or two, and the tables that give the same figures."""

    title: str
    charts: list[tuple[str, Markup]] = field(default_factory=list)  # caption, SVG
    tables: list[Table] = field(default_factory=list)
    note: str = ""
    alert: bool = False


def _tables(report: dict[str, Any]) -> dict[str, Table]:
    return {table.title.split(" (")[0]: table for table in report_tables(report)}


def _figure(caption: str, svg: str) -> tuple[str, Markup]:
    return caption, Markup(svg)  # drawn by charts.py, which escapes every label


def _trend_section(report: dict[str, Any], tables: dict[str, Table]) -> Section:
    trends = report["trends"]
    periods = [row["period"] for row in trends]
    others = [row["sessions"] - row["solved"] - row["escalated"] for row in trends]
    return Section("Sessions and first-line resolution over time", [
        _figure("Sessions per period", charts.columns(periods, [
            Series("solved", [row["solved"] for row in trends], "solved"),
            Series("escalated", [row["escalated"] for row in trends], "escalated"),
            Series("abandoned or in progress", others, "in_progress")])),
        _figure("First-line resolution per period: solved / (solved + escalated)",
                charts.line(periods, [row["first_line_resolution"] for row in trends]))],
        [tables["Trends"]])


def _outcome_section(report: dict[str, Any], tables: dict[str, Table]) -> Section:
    sessions = report["sessions"]
    names = ["solved", "escalated", "abandoned", "in_progress"]
    return Section("How walks ended", [_figure("Sessions by outcome", charts.bars(
        [name.replace("_", " ") for name in names],
        [Series("sessions", [sessions[name] for name in names])]))],
        [tables["Sessions"]])


def _time_section(report: dict[str, Any], tables: dict[str, Table]) -> Section:
    found = report["time_distribution"]
    made = [_figure(label, charts.columns([row["bucket"] for row in found[key]],
                                          [Series("walks", [row["count"] for row in found[key]])]))
            for key, label in (("response", "Response time (to the first step): walks per time"),
                               ("resolution", "Resolution time (to solved): walks per time"))]
    distribution = Table("Time distribution", ("time", "response: walks", "resolution: walks"),
                         [(row["bucket"], str(row["count"]), str(other["count"]))
                          for row, other in zip(found["response"], found["resolution"], strict=True)])
    return Section("Response and resolution times", made, [tables["Times"], distribution])


def _escalation_section(report: dict[str, Any], tables: dict[str, Table]) -> Section:
    escalations = report["escalations"]
    made = [_figure(f"Escalations by {key}", charts.bars(
        [row[key] or "(none given)" for row in escalations[f"by_{key}"]],
        [Series("escalations", [row["count"] for row in escalations[f"by_{key}"]], "escalated")]))
        for key in ("team", "reason")]
    return Section("Escalations by team and reason", made,
                   [tables[f"Escalations by {key}"] for key in ("team", "reason", "node")])


def _tree_section(report: dict[str, Any], tables: dict[str, Table]) -> Section:
    trees = report["trees"]
    names = ("solved", "escalated", "abandoned", "in_progress")
    return Section("Per tree, and the step where walks are abandoned", [_figure(
        "Walks per tree by outcome", charts.bars(
            [row["tree"] for row in trees],
            [Series(name.replace("_", " "), [row[name] for row in trees], name) for name in names]))],
        [tables["Per tree"]])


def _content_sections(content: dict[str, Any]) -> list[Section]:
    tables = content_tables(content)
    used = [row for row in content["articles"] if row["walks"]][:10]
    chart = [_figure("The ten articles used most in walks", charts.bars(
        [row["id"] for row in used],
        [Series("solved walks", [row["solved_walks"] for row in used], "solved"),
         Series("other walks", [row["walks"] - row["solved_walks"] for row in used], "in_progress")]))]
    return [Section("Articles used in walks", chart if used else [], [tables[0]],
                    note=f"Link rate: {percent(content['link_rate'])} of walks used an article."),
            Section("What readers of the help site said", [], tables[4:]),
            Section("Content that needs a writer", [], tables[1:4])]


def dashboard_sections(report: dict[str, Any], content: dict[str, Any] | None) -> list[Section]:
    """The page in reading order: recurring problems first, then the figures, then the content."""
    tables = _tables(report)
    rule = report["recurring_rule"]
    recurring = Section(
        "Recurring problems", [], [recurring_table(report, shown=1000)] if report["recurring"] else [],
        note=(f"Seen in the last {rule['window']} far more often than in the {rule['baseline']} before "
              f"(Poisson test, p < {rule['p_value']}, at least {rule['min_count']} walks)"
              + (f", as of {rule['as_of'][:16].replace('T', ' ')}." if rule["as_of"] else ".")
              + ("" if report["recurring"] else " Nothing recurs.")),
        alert=bool(report["recurring"]))
    parts = (_trend_section, _outcome_section, _time_section, _escalation_section, _tree_section)
    sections = [recurring, *(part(report, tables) for part in parts)]
    return sections + (_content_sections(content) if content else [])


def dashboard_html(report: dict[str, Any], content: dict[str, Any] | None, heading: str) -> str:
    """The whole page: styles inline, no script, nothing fetched."""
    environment = Environment(loader=PackageLoader("kbengine.report", "templates"),
                              autoescape=select_autoescape(default=True))
    figures = [("Sessions", str(report["sessions"]["total"])),
               ("First-line resolution", percent(report["first_line_resolution"])),
               ("Median response", duration(report["times"]["response"]["median_seconds"])),
               ("Median resolution", duration(report["times"]["resolution"]["median_seconds"])),
               ("Escalations", str(report["escalations"]["total"]))]
    return environment.get_template("dashboard.html").render(
        heading=heading, figures=figures, sections=dashboard_sections(report, content),
        skipped=report["skipped_records"])
