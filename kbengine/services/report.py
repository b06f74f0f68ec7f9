"""`kb report` as a service: read the session records once, then give the team report (figures
and recurring problems) or the content report. Click-free: the CLI, the server and tests call these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from kbengine.compiler import KnowledgeBase
from kbengine.model import Config
from kbengine.report.content import content_health
from kbengine.report.feedback import Feedback, read_feedback, tally
from kbengine.report.figures import WalkFigures, build_report
from kbengine.report.recurring import as_of, find_recurring, rule_data
from kbengine.report.settings import ReportSettings, report_settings
from kbengine.report.stream import Filters, Reading, in_period, read_walks
from kbengine.walk.store import SessionStore


@dataclass
class Records:
    """The walks read from a session store, the damaged records left out, and the settings used."""

    store: SessionStore
    walks: list[WalkFigures]
    damaged: list[str] = field(default_factory=list)  # records left out, one sentence each
    notices: list[str] = field(default_factory=list)  # records counted without a line cut short
    feedback: list[Feedback] = field(default_factory=list)  # from the help site
    settings: ReportSettings = field(default_factory=ReportSettings)
    problems: list[str] = field(default_factory=list)  # settings in kb.yaml that were not usable


def reading_for(kb: KnowledgeBase | None, settings: ReportSettings) -> Reading:
    """The article each tree step links (from the compiled trees) and the inputs worth comparing."""
    links = {(tree.id, node.id): node.article for tree in (kb.trees.values() if kb else ())
             for node in tree.nodes.values() if node.article}
    return Reading(links, frozenset(settings.recurring.inputs))


def read_records(store: SessionStore, filters: Filters, config: Config | None = None,
                 kb: KnowledgeBase | None = None) -> Records:
    """Every walk that passes the filters except `since`: the recurring-problem rule needs the
    baseline before the period. Streams: one record in memory at a time."""
    settings, problems = report_settings(config.report if config else None)
    everything_before = Filters(None, filters.until, filters.trees, filters.agent, filters.ticket_prefix)
    damaged: list[str] = []
    notices: list[str] = []
    reading = reading_for(kb, settings)
    walks = list(read_walks(store, everything_before, reading, damaged.append, notices.append))
    feedback = list(read_feedback(store, notices.append))
    return Records(store, walks, damaged, notices, feedback, settings, problems)


def in_the_period(records: Records, since: datetime | None, until: datetime | None) -> list[WalkFigures]:
    return [walk for walk in records.walks if in_period(walk, since, until)]


def team_report(records: Records, since: datetime | None, until: datetime | None,
                by: str = "week") -> dict[str, Any]:
    """Every figure of `kb report --json`: recurring problems first, then the period's figures."""
    rule = records.settings.recurring
    end = as_of(records.walks, until)
    recurring = find_recurring(records.walks, rule, end) if end else []
    return {"period": {"since": since and since.isoformat(), "until": until and until.isoformat(), "by": by},
            "skipped_records": len(records.damaged),
            "recurring_rule": rule_data(rule, end),
            "recurring": [problem.as_dict() for problem in recurring],
            **build_report(in_the_period(records, since, until), by)}


def content_report(kb: KnowledgeBase, records: Records, since: datetime | None, until: datetime | None,
                   today: date | None = None) -> dict[str, Any]:
    """Every figure of `kb report content --json`, with the help site's feedback in the period."""
    votes = tally(records.feedback, since, until)
    today = today or datetime.now().astimezone().date()
    return {"period": {"since": since and since.isoformat(), "until": until and until.isoformat()},
            "skipped_records": len(records.damaged),
            **content_health(kb.articles, in_the_period(records, since, until), votes,
                             records.settings.content, today)}
