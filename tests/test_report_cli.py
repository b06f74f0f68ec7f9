"""`kb report` through click's CliRunner (no terminal): filters, formats, empty periods,
damaged records, privacy, and a report over walks recorded by `kb walk` itself."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from test_report import write_walk, write_week
from test_walk_cli import ERROR_CODES, PRINTER

from kbengine.cli import cli

PERSONAL = ("INC0099887", "+31 6 12345678", "Jan de Vries", "ann", "s1", "s2")


@pytest.fixture
def records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "sessions"
    monkeypatch.setenv("KB_SESSIONS", str(folder))
    write_week(folder)
    return folder


def report(*args: str) -> Result:
    result = CliRunner().invoke(cli, ["report", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def report_json(*args: str) -> dict[str, Any]:
    result = report(*args, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_the_text_report_has_every_section_in_plain_text_when_piped(records: Path) -> None:
    result = report()
    assert result.exit_code == 0
    for title in ("Sessions", "Times", "Escalations by team", "Escalations by priority",
                  "Escalations by reason", "Escalations by node", "Per tree", "Trends"):
        assert f"\n{title}\n" in result.stdout
    assert "first-line resolution            50.0%" in result.stdout
    assert "printer#power (2)" in result.stdout
    assert "\x1b[" not in result.stdout and "┃" not in result.stdout


def test_since_and_until_keep_the_sessions_started_in_between(records: Path) -> None:
    # --until 2024-05-07 includes all of the 7th; s6 started on the 8th
    assert report_json("--since", "2024-05-05", "--until", "2024-05-07")["sessions"]["total"] == 7
    assert report_json("--since", "2024-05-08")["sessions"]["total"] == 1


def test_tree_is_repeatable_and_agent_and_ticket_prefix_filter(records: Path) -> None:
    write_walk(records, "other", tree="mail", start="2024-05-06T09:00:00+02:00", steps=[("answer", 1)],
               outcome="solved", agent="bob", ticket="RITM0001")
    assert report_json("--tree", "vpn")["sessions"]["total"] == 3
    assert report_json("--tree", "vpn", "--tree", "mail")["sessions"]["total"] == 4
    assert report_json("--agent", "bob")["sessions"]["total"] == 1
    assert report_json("--ticket-prefix", "ritm")["sessions"]["total"] == 1
    assert report_json("--ticket-prefix", "INC")["sessions"]["total"] == 8


def test_json_has_the_period_and_every_figure(records: Path) -> None:
    data = report_json("--since", "2024-05-01T00:00:00+00:00", "--by", "month")
    assert data["period"] == {"since": "2024-05-01T00:00:00+00:00", "until": None, "by": "month"}
    assert data["first_line_resolution"] == 0.5
    assert data["times"]["resolution"]["median_seconds"] == 360.0
    assert data["trends"] == [{"period": "2024-05", "sessions": 8, "solved": 2, "escalated": 2,
                               "first_line_resolution": 0.5}]
    assert data["skipped_records"] == 0


def test_markdown_has_a_heading_and_a_table_per_section(records: Path) -> None:
    text = report("--format", "md").stdout
    assert text.startswith("## Session report: 8 sessions started 2024-05-06 to 2024-05-08")
    assert ("### Escalations by team\n\n| team | escalations | share |\n|---|---|---|\n"
            "| Network | 1 | 50.0% |") in text


def test_csv_is_the_trends_table_with_rates_as_fractions(records: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(report("--format", "csv", "--by", "day").stdout)))
    assert [(r["period"], r["sessions"], r["first_line_resolution"]) for r in rows] == [
        ("2024-05-06", "7", "0.5"), ("2024-05-07", "0", ""), ("2024-05-08", "1", "")]


def test_an_empty_period_is_a_sentence_and_exit_0_with_zeros_in_json(records: Path) -> None:
    result = report("--since", "2020-01-01", "--until", "2020-01-31")
    assert result.exit_code == 0 and result.stdout.startswith("No sessions since 2020-01-01")
    data = report_json("--since", "2020-01-01", "--until", "2020-01-31")
    assert data["sessions"]["total"] == 0 and data["escalations"]["total"] == 0 and data["trends"] == []


def test_no_sessions_folder_at_all_is_an_empty_report(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_SESSIONS", str(tmp_path / "never-written"))
    result = report()
    assert result.exit_code == 0 and result.stdout.startswith("No sessions in ")


def test_a_record_with_a_line_cut_short_is_counted_with_one_warning(records: Path) -> None:
    (records / "cut-short.jsonl").write_text(
        '{"event": "start", "at": "2024-05-06T09:00:00+02:00", "tree": "x"}\n{"event": "ans')
    result = report("--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["sessions"]["total"] == 9 and data["skipped_records"] == 0
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1 and "cut-short.jsonl" in warnings[0] and "left out" in warnings[0]


@pytest.mark.parametrize(("name", "content"), [
    ("not-json.jsonl", "hello\n"),
    ("edited-time.jsonl", '{"event": "start", "at": "Monday morning", "tree": "x"}\n'),
    ("edited-outcome.jsonl", '{"event": "start", "at": "2024-05-06T09:00:00+02:00", "tree": "x"}\n'
                             '{"event": "abandon", "at": "2024-05-06T09:00:01+02:00", '
                             '"state": {"outcome": "maybe"}}\n'),
])
def test_a_damaged_record_is_skipped_with_one_warning_naming_the_file(records: Path, name: str,
                                                                      content: str) -> None:
    (records / name).write_text(content)
    result = report("--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["sessions"]["total"] == 8
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1 and name in warnings[0] and "skipped" in warnings[0]


@pytest.mark.parametrize("output", ["text", "md", "csv", "json"])
def test_no_output_shows_inputs_notes_tickets_agents_or_session_ids(records: Path, output: str) -> None:
    text = report("--format", output, "--by", "day").stdout
    for personal in PERSONAL:
        assert personal not in text


@pytest.mark.parametrize(("args", "message"), [(["--since", "last week"], "--since"),
                                               (["--until", "soon"], "--until"),
                                               (["--by", "year"], "--by")])
def test_bad_options_are_usage_errors(records: Path, args: list[str], message: str) -> None:
    result = report(*args)
    assert result.exit_code == 2 and message in result.stderr


def test_help_reads_as_a_manual_with_examples_and_exit_codes() -> None:
    text = report("--help").stdout
    assert "Examples:" in text and "Exit status:" in text and "docs/report.md" in text


def test_a_report_over_walks_recorded_by_kb_walk(write_kb: Any, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_SESSIONS", str(tmp_path / "walks"))
    root = write_kb({"trees/printer.yaml": PRINTER, "trees/error-codes.yaml": ERROR_CODES})
    runner = CliRunner()
    for answers in (["Yes", "Yes"], ["No, an error light is on", "Orange"], ["Yes"]):
        runner.invoke(cli, ["walk", "printer", "--root", str(root), "--json",
                            *[arg for answer in answers for arg in ("--answer", answer)]])
    runner.invoke(cli, ["walk", "printer", "--root", str(root), "--json", "--answer", "It will not switch on",
                        "--input", "asset_tag=AB12345"])
    data = report_json("--root", str(root))
    assert data["sessions"] == {"total": 4, "solved": 2, "escalated": 1, "abandoned": 0, "in_progress": 1}
    assert data["escalations"]["by_team"][0]["team"] == "Workplace hardware"
    assert data["escalations"]["by_node"] == [{"tree": "printer", "node": "hardware", "count": 1,
                                               "share": 1.0}]
    assert data["times"]["response"]["count"] == 4


def test_a_report_over_walks_of_the_bundled_kb(bundled_root: Path, bundled_kb: Any, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_SESSIONS", str(tmp_path / "walks"))
    runner = CliRunner()
    for tree in bundled_kb.trees.values():
        start = tree.nodes[tree.start]
        answers = ["--answer", start.answers[0].label] if start.kind == "ask" and start.answers else []
        runner.invoke(cli, ["walk", tree.id, "--root", str(bundled_root), "--json", *answers])
    data = report_json("--root", str(bundled_root))
    assert data["sessions"]["total"] == len(bundled_kb.trees) == len(data["trees"])
    assert data["skipped_records"] == 0
    assert {row["tree"] for row in data["trees"]} == set(bundled_kb.trees)


def test_on_a_terminal_the_tables_are_drawn_by_rich(records: Path) -> None:
    import pexpect

    child = pexpect.spawn("kb", ["report"], env={**os.environ, "KB_SESSIONS": str(records)},
                          encoding="utf-8", dimensions=(60, 200), timeout=20)
    child.expect("Session report: 8 sessions")
    child.expect("┃")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
