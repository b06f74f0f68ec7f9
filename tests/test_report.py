"""The figures of `kb report` (kbengine/report/) against values computed by hand.

The record set below is written line by line in record format 1 (each event with its state); its
figures are worked out in the comments next to each assertion.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kbengine.compiler import compile_kb
from kbengine.report import (
    Reading,
    WalkFigures,
    build_report,
    in_period,
    p90,
    period_of,
    read_walks,
    report_tables,
)
from kbengine.report.settings import ReportSettings
from kbengine.services.report import reading_for
from kbengine.walk.jsonl import JsonlStore
from kbengine.walk.recording import start_walk
from kbengine.walk.store import open_store

HARDWARE = {"team": "Workplace hardware", "priority": "P3", "reason": "No power"}
NETWORK = {"team": "Network", "priority": "P2", "reason": "VPN gateway down"}


def write_walk(folder: Path, session_id: str, *, start: str, steps: list[tuple[str, int]],
               outcome: str = "in_progress", tree: str = "printer", end: str = "power",
               escalation: dict[str, str] | None = None, offset: timedelta | None = None,
               **start_fields: Any) -> None:
    """A record: a start at `start`, then each (event, seconds after the start); the last one
    carries `outcome`. `offset` writes the steps' times in another UTC offset than the start."""
    began = datetime.fromisoformat(start)
    lines: list[dict[str, Any]] = [{
        "event": "start", "format": 1, "session": session_id, "at": start, "tree": tree,
        "tree_title": tree.title(), "ticket": "INC0099887", "agent": "ann", **start_fields}]
    for number, (event, seconds) in enumerate(steps, start=1):
        at = began + timedelta(seconds=seconds)
        if offset is not None:
            at = at.astimezone(UTC)
        last = number == len(steps)
        state: dict[str, Any] = {
            "tree": tree, "node": end if last else "step", "kind": "ask",
            "outcome": outcome if last else "in_progress", "path": [],
            "inputs": {"phone": "+31 6 12345678"}, "facts": {},
            "notes": [{"text": "Caller Jan de Vries", "tree": tree, "node": "power", "at": start}]}
        if last and escalation:
            state.update(kind="escalate", escalation=escalation)
        details = {"answer": {"answer": "Yes"}, "input": {"name": "phone", "value": "+31 6 12345678"}}
        lines.append({"event": event, "at": at.isoformat(), "tree": tree, "node": "step", "state": state,
                      **details.get(event, {})})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{session_id}.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))


def write_week(folder: Path) -> None:
    """Eight walks, seven on Monday 2024-05-06 and one on Wednesday 2024-05-08."""
    write_walk(folder, "s1", start="2024-05-06T09:00:00+02:00", steps=[("answer", 30), ("answer", 120)],
               outcome="solved", end="fixed")
    write_walk(folder, "s2", start="2024-05-06T10:00:00+02:00", steps=[("answer", 60), ("input", 300)],
               outcome="escalated", end="hardware", escalation=HARDWARE)
    write_walk(folder, "s3", start="2024-05-06T11:00:00+02:00", steps=[("answer", 10), ("abandon", 40)],
               outcome="abandoned", end="power")
    write_walk(folder, "s4", tree="vpn", start="2024-05-06T12:00:00+02:00",
               steps=[("answer", 20), ("answer", 600)], outcome="solved", end="fixed")
    write_walk(folder, "s5", tree="vpn", start="2024-05-06T13:00:00+02:00",
               steps=[("answer", 45), ("answer", 900)], outcome="escalated", end="gateway",
               escalation=NETWORK)
    write_walk(folder, "s6", tree="vpn", start="2024-05-08T09:00:00+02:00", steps=[])
    write_walk(folder, "s7", start="2024-05-06T14:00:00+02:00", steps=[("done", 5), ("abandon", 8)],
               outcome="abandoned", end="check")
    # late on Monday in New York: Tuesday in UTC, and its steps are written in UTC
    write_walk(folder, "s8", start="2024-05-06T23:30:00-05:00", steps=[("answer", 15), ("abandon", 20)],
               outcome="abandoned", end="power", offset=timedelta(0))


def figures(folder: Path) -> list[WalkFigures]:
    return list(read_walks(JsonlStore(folder)))


@pytest.fixture
def week(tmp_path: Path) -> dict[str, Any]:
    write_week(tmp_path)
    return build_report(figures(tmp_path), by="day")


def test_sessions_are_counted_by_outcome(week: dict[str, Any]) -> None:
    assert week["sessions"] == {"total": 8, "solved": 2, "escalated": 2, "abandoned": 3, "in_progress": 1}


def test_first_line_resolution_is_solved_over_solved_and_escalated(week: dict[str, Any]) -> None:
    # 2 solved / (2 solved + 2 escalated); the 3 abandoned and 1 in progress are left out
    assert week["first_line_resolution"] == 0.5


def test_response_time_is_start_to_the_first_step_across_utc_offsets(week: dict[str, Any]) -> None:
    # first steps after 30, 60, 10, 20, 45, 5 and 15 s (s8's in another offset); s6 took none
    # sorted 5 10 15 20 30 45 60: median 20, p90 = the ceil(0.9 * 7) = 7th = 60
    assert week["times"]["response"] == {"count": 7, "median_seconds": 20.0, "p90_seconds": 60.0}


def test_resolution_time_is_start_to_the_solved_end(week: dict[str, Any]) -> None:
    # s1 120 s, s4 600 s: median 360, p90 the 2nd of 2 = 600
    assert week["times"]["resolution"] == {"count": 2, "median_seconds": 360.0, "p90_seconds": 600.0}


def test_time_to_hand_over_is_start_to_escalated(week: dict[str, Any]) -> None:
    # s2 300 s, s5 900 s
    assert week["times"]["handover"] == {"count": 2, "median_seconds": 600.0, "p90_seconds": 900.0}


def test_escalations_are_counted_by_team_priority_reason_and_node_with_shares(week: dict[str, Any]) -> None:
    escalations = week["escalations"]
    assert escalations["total"] == 2
    assert escalations["by_team"] == [{"team": "Network", "count": 1, "share": 0.5},
                                      {"team": "Workplace hardware", "count": 1, "share": 0.5}]
    assert [row["priority"] for row in escalations["by_priority"]] == ["P2", "P3"]
    assert [row["reason"] for row in escalations["by_reason"]] == ["No power", "VPN gateway down"]
    assert escalations["by_node"] == [
        {"tree": "printer", "node": "hardware", "count": 1, "share": 0.5},
        {"tree": "vpn", "node": "gateway", "count": 1, "share": 0.5}]


def test_each_tree_has_its_walks_outcomes_rate_median_and_most_common_abandoned_stop(
        week: dict[str, Any]) -> None:
    printer, vpn = week["trees"]
    assert printer == {"tree": "printer", "walks": 5, "solved": 1, "escalated": 1, "abandoned": 3,
                       "in_progress": 0, "first_line_resolution": 0.5, "median_resolution_seconds": 120.0,
                       "abandoned_most_at": {"tree": "printer", "node": "power", "count": 2}}
    assert vpn["walks"] == 3 and vpn["in_progress"] == 1 and vpn["abandoned_most_at"] is None
    assert vpn["median_resolution_seconds"] == 600.0


def test_trends_per_day_are_in_the_agents_local_date_oldest_first_with_quiet_days_as_zero(
        week: dict[str, Any]) -> None:
    # s8 started on Monday evening in New York (Tuesday in UTC): it counts on Monday
    assert [(row["period"], row["sessions"], row["first_line_resolution"]) for row in week["trends"]] == [
        ("2024-05-06", 7, 0.5), ("2024-05-07", 0, None), ("2024-05-08", 1, None)]


def test_trends_per_iso_week_and_month(tmp_path: Path) -> None:
    write_week(tmp_path)
    write_walk(tmp_path, "s9", start="2024-06-03T09:00:00+02:00", steps=[("answer", 1)], outcome="solved")
    walks = figures(tmp_path)
    by_week = build_report(walks, by="week")["trends"]
    assert [row["period"] for row in by_week] == [f"2024-W{n}" for n in range(19, 24)]
    assert (by_week[0]["sessions"], by_week[1]["sessions"], by_week[-1]["sessions"]) == (8, 0, 1)
    assert [(row["period"], row["sessions"]) for row in build_report(walks, by="month")["trends"]] == [
        ("2024-05", 8), ("2024-06", 1)]


@pytest.mark.parametrize(("moment", "by", "name"), [
    (datetime(2024, 12, 30), "week", "2025-W01"),  # ISO weeks cross years
    (datetime(2024, 5, 6), "day", "2024-05-06"), (datetime(2024, 5, 6), "month", "2024-05")])
def test_a_start_falls_in_its_day_iso_week_or_month(moment: datetime, by: str, name: str) -> None:
    assert period_of(moment, by) == name


def test_p90_is_the_nearest_rank() -> None:
    assert p90([float(n) for n in range(1, 11)]) == 9.0  # 9 of 10 values are at or below 9
    assert p90([float(n) for n in range(1, 12)]) == 10.0  # ceil(9.9) = 10th of 11
    assert p90([]) is None


def test_a_session_counts_in_the_period_it_started(tmp_path: Path) -> None:
    write_week(tmp_path)
    monday = datetime(2024, 5, 6, tzinfo=UTC)
    tuesday = monday + timedelta(days=1)
    started = [w for w in figures(tmp_path) if in_period(w, monday, tuesday)]
    # s8 started Tuesday 04:30 UTC, s6 on Wednesday
    assert len(started) == 6


def test_an_empty_period_gives_zeros_and_no_rates() -> None:
    report = build_report([], by="week")
    assert report["sessions"] == {"total": 0, "solved": 0, "escalated": 0, "abandoned": 0, "in_progress": 0}
    assert report["first_line_resolution"] is None
    assert report["times"]["response"] == {"count": 0, "median_seconds": None, "p90_seconds": None}
    assert report["escalations"]["total"] == 0 and report["trees"] == [] and report["trends"] == []


def test_a_record_with_an_edited_time_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "s1.jsonl"
    path.write_text('{"event": "start", "at": "yesterday morning", "tree": "printer"}\n')
    damaged: list[str] = []
    assert list(read_walks(JsonlStore(tmp_path), damaged=damaged.append)) == []
    assert len(damaged) == 1 and "s1.jsonl" in damaged[0] and "yesterday morning" in damaged[0]


def test_the_tables_show_no_inputs_notes_tickets_agents_or_session_ids(tmp_path: Path) -> None:
    write_week(tmp_path)
    text = repr(build_report(figures(tmp_path))) + repr(report_tables(build_report(figures(tmp_path))))
    for personal in ("INC0099887", "+31 6 12345678", "Jan de Vries", "ann", "s1"):
        assert personal not in text


def test_a_format_2_record_is_read_from_its_changes_with_back_inputs_and_articles(tmp_path: Path) -> None:
    """Format 2 events say where a step arrived (`to`, `outcome`); `back` returns to an earlier stop."""
    power = {"tree": "printer", "node": "power", "kind": "ask", "prompt": "Is it on?"}
    hardware = {"tree": "printer", "node": "hw", "kind": "escalate", "prompt": "",
                "escalation": {"team": "Workplace hardware", "priority": "P3", "reason": "No power"}}
    lines = [
        {"event": "start", "format": 2, "at": "2024-05-06T09:00:00+02:00", "tree": "printer", "agent": "ann",
         "to": power, "outcome": "in_progress"},
        {"event": "answer", "at": "2024-05-06T09:00:30+02:00", "tree": "printer", "node": "power",
         "answer": "No", "to": {**power, "node": "queue", "kind": "do"}, "outcome": "in_progress"},
        {"event": "back", "at": "2024-05-06T09:00:40+02:00", "to": 0},
        {"event": "answer", "at": "2024-05-06T09:01:00+02:00", "tree": "printer", "node": "power",
         "answer": "It will not switch on", "to": hardware, "outcome": "in_progress"},
        {"event": "input", "at": "2024-05-06T09:05:00+02:00", "tree": "printer", "node": "hw",
         "name": "asset_tag", "value": " PR40404 ", "to": hardware, "outcome": "escalated"},
        {"event": "note", "at": "2024-05-06T09:06:00+02:00", "text": "Caller Jan de Vries"},
    ]
    path = tmp_path / "f2.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    links = {("printer", "power"): "printer-status-lights", ("printer", "queue"): "clear-print-queue"}
    reading = Reading(links, frozenset({"asset_tag"}))
    (walk,) = read_walks(JsonlStore(tmp_path), reading=reading)
    assert (walk.outcome, walk.response, walk.ended) == ("escalated", 30.0, 300.0)
    assert (walk.end_tree, walk.end_node, walk.team, walk.priority, walk.reason) == (
        "printer", "hw", "Workplace hardware", "P3", "No power")
    # the queue step was reached before the back step, so its article was shown too
    assert walk.articles == ("printer-status-lights", "clear-print-queue")
    assert walk.collected == (("asset_tag", "PR40404"),) and walk.session == "f2"


def test_an_article_opened_during_a_walk_counts_as_used(tmp_path: Path) -> None:
    lines = [{"event": "start", "at": "2024-05-06T09:00:00+02:00", "tree": "vpn"},
             {"event": "article_opened", "at": "2024-05-06T09:00:10+02:00", "article": "vpn-basics"}]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert next(read_walks(JsonlStore(tmp_path))).articles == ("vpn-basics",)


@pytest.mark.parametrize("backend", ["jsonl", "sqlite"])
def test_a_recorded_walk_counts_the_articles_its_steps_link_and_the_agent_opened(
        write_kb: Any, tmp_path: Path, backend: str) -> None:
    """Recorded by the walk services themselves (format 2), read from a folder or a database."""
    root = write_kb({"trees/printer.yaml": """
        title: Printer
        start: power
        nodes:
          power:
            ask: Is it on?
            article: status-lights
            answers: {"Yes": fixed}
          fixed:
            solved: Fine.
        """, "articles/status-lights.md": "# Status lights\n", "articles/toner.md": "# Toner\n"})
    kb = compile_kb(root)
    url = str(tmp_path / "records") if backend == "jsonl" else f"sqlite:///{tmp_path / 'desk.db'}"
    store = open_store(url)
    recorded = start_walk(kb, store, "printer")
    recorded.walk.opened("toner")  # read by searching, at the first step
    recorded.walk.answer("Yes")
    recorded.close()
    (walk,) = read_walks(store, reading=reading_for(kb, ReportSettings()))
    store.close()
    assert walk.outcome == "solved" and walk.articles == ("status-lights", "toner")
