"""`kb walk` scripted mode and `kb sessions`, through click's CliRunner (no terminal)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from kbengine.cli import cli
from kbengine.walk.jsonl import JsonlStore
from kbengine.walk.store import Holder

PRINTER = """
    title: Printer does not print
    start: power
    nodes:
      power:
        ask: Is the printer on?
        answers:
          "Yes": queue
          No, an error light is on: error-light
          It will not switch on:
            next: hardware
            set: {power_fault: true}
      queue:
        do: Cancel every job in the queue, then print a test page.
        next: printed
      printed:
        ask: Did the test page print?
        answers: {"Yes": fixed, "No": hardware}
      fixed:
        solved: The queue was blocked by a stuck job.
      hardware:
        escalate: {team: Workplace hardware, priority: P3, reason: Printer broken}
        collect:
          - {name: asset_tag, prompt: Asset tag, pattern: '^[A-Z]{2}\\d{5}$'}
      error-light:
        goto: error-codes
    """

ERROR_CODES = """
    title: Printer error codes
    start: colour
    nodes:
      colour:
        ask: What colour is the light?
        answers: {Orange: fixed}
      fixed:
        solved: Cleared.
    """


@pytest.fixture
def kb_root(write_kb: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KB_SESSIONS", str(tmp_path / "sessions"))
    return write_kb({"trees/printer.yaml": PRINTER, "trees/error-codes.yaml": ERROR_CODES},
                    config="title: Test help\nsessions_retention: 30d\n")


def kb(root: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, [*args[:2], "--root", str(root), *args[2:]]
                                if args[0] == "sessions" else [args[0], "--root", str(root), *args[1:]])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def walk_json(root: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = kb(root, "walk", *args, "--json")
    return result.exit_code, json.loads(result.stdout)


def test_scripted_walk_to_a_solution_prints_the_state_as_json(kb_root: Path) -> None:
    code, state = walk_json(kb_root, "printer", "--answer", "Yes", "--answer", "yes")
    assert code == 0
    assert (state["outcome"], state["node"], state["tree"]) == ("solved", "fixed", "printer")
    assert [(s["node"], s["answer"]) for s in state["path"]] == [
        ("power", "Yes"), ("queue", "done"), ("printed", "Yes")]  # the action moved on by itself
    assert Path(state["record"]).is_file() and state["session"] in state["record"]


def test_scripted_walk_follows_a_goto_into_the_other_tree(kb_root: Path) -> None:
    code, state = walk_json(kb_root, "printer", "--answer", "No, an error light is on", "--answer", "Orange")
    assert code == 0 and (state["tree"], state["outcome"]) == ("error-codes", "solved")


def test_scripted_escalation_collects_inputs_and_reports_team_and_facts(kb_root: Path) -> None:
    code, state = walk_json(kb_root, "printer", "--answer", "It will not switch on",
                            "--input", "asset_tag=AB12345")
    assert code == 0 and state["outcome"] == "escalated"
    assert state["inputs"] == {"asset_tag": "AB12345"} and state["facts"] == {"power_fault": True}
    assert state["escalation"]["team"] == "Workplace hardware"


def test_an_unknown_answer_is_an_error_naming_the_valid_answers(kb_root: Path) -> None:
    code, state = walk_json(kb_root, "printer", "--answer", "Maybe")
    assert code == 1
    assert "Maybe" in state["error"] and '"It will not switch on"' in state["error"]
    assert state["waiting_for"]["answers"] == ["Yes", "No, an error light is on", "It will not switch on"]


def test_an_unknown_answer_in_text_mode_is_a_plain_message_on_stderr(kb_root: Path) -> None:
    result = kb(kb_root, "walk", "printer", "--answer", "Maybe")
    assert result.exit_code == 1
    assert "kb walk: 'Maybe' is not an answer" in result.stderr
    assert "Traceback" not in result.output


def test_an_input_failing_its_pattern_is_an_error(kb_root: Path) -> None:
    code, state = walk_json(kb_root, "printer", "--answer", "It will not switch on",
                            "--input", "asset_tag=12345")
    assert code == 1 and "does not match" in state["error"]
    assert state["outcome"] == "in_progress" and state["waiting_for"]["name"] == "asset_tag"


def test_running_out_of_answers_stops_in_progress_with_the_possible_answers(kb_root: Path) -> None:
    code, state = walk_json(kb_root, "printer", "--answer", "Yes")
    assert code == 0 and state["outcome"] == "in_progress" and "error" not in state
    assert state["waiting_for"] == {"kind": "answer", "prompt": "Did the test page print?",
                                    "answers": ["Yes", "No"]}


def test_running_out_of_answers_in_text_mode_says_where_and_what(kb_root: Path) -> None:
    result = kb(kb_root, "walk", "printer", "--answer", "Yes")
    assert result.exit_code == 0
    assert "Stopped at 'printed'" in result.stdout and 'Possible answers: "Yes", "No"' in result.stdout


def test_answers_left_over_after_the_end_are_an_error(kb_root: Path) -> None:
    code, state = walk_json(kb_root, "printer", "--answer", "Yes", "--answer", "Yes", "--answer", "Yes")
    assert code == 1 and "before the answer 'Yes' was used" in state["error"]


def test_a_stopped_scripted_walk_is_resumed_with_more_answers(kb_root: Path) -> None:
    _, first = walk_json(kb_root, "printer", "--answer", "Yes")
    code, state = walk_json(kb_root, "--resume", first["session"], "--answer", "No",
                            "--input", "asset_tag=AB12345")
    assert code == 0 and state["session"] == first["session"] and state["outcome"] == "escalated"
    assert [s["node"] for s in state["path"]] == ["power", "queue", "printed"]


def test_resume_after_the_tree_changed_warns_and_keeps_the_answers_that_still_fit(kb_root: Path) -> None:
    _, first = walk_json(kb_root, "printer", "--answer", "Yes", "--answer", "No")
    tree = kb_root / "trees" / "printer.yaml"
    tree.write_text(tree.read_text().replace('"No": hardware', '"Not at all": hardware'))
    record = Path(first["record"])
    lines = record.read_text().splitlines()
    record.write_text("\n".join(lines[:-1]) + "\n")  # as if killed before the escalation's inputs
    code, state = walk_json(kb_root, "--resume", first["session"])
    assert code == 0
    assert any("has changed" in w for w in state["warnings"])
    assert state["node"] == "printed" and state["waiting_for"]["answers"] == ["Yes", "Not at all"]


def test_a_finished_session_cannot_be_resumed(kb_root: Path) -> None:
    _, first = walk_json(kb_root, "printer", "--answer", "Yes", "--answer", "Yes")
    code, state = walk_json(kb_root, "--resume", first["session"])
    assert code == 1 and "already ended (solved)" in state["error"]


def test_an_unknown_tree_is_an_error_listing_the_trees(kb_root: Path) -> None:
    code, state = walk_json(kb_root, "scanner")
    assert code == 1 and "error-codes, printer" in state["error"]


def test_without_a_tree_and_without_a_terminal_is_a_usage_error(kb_root: Path) -> None:
    result = kb(kb_root, "walk")
    assert result.exit_code == 2 and "name the tree" in result.stderr


def test_an_input_without_a_name_is_a_usage_error(kb_root: Path) -> None:
    result = kb(kb_root, "walk", "printer", "--input", "AB12345")
    assert result.exit_code == 2 and "name=value" in result.stderr


def test_the_ticket_is_recorded_and_sessions_list_filters_on_it(kb_root: Path) -> None:
    walk_json(kb_root, "printer", "--ticket", "INC42", "--answer", "Yes")
    walk_json(kb_root, "printer", "--answer", "Yes", "--answer", "Yes")
    listed = json.loads(kb(kb_root, "sessions", "list", "--ticket", "INC42", "--json").stdout)
    assert [s["ticket"] for s in listed["sessions"]] == ["INC42"]
    solved = json.loads(kb(kb_root, "sessions", "list", "--outcome", "solved", "--json").stdout)
    assert len(solved["sessions"]) == 1 and solved["sessions"][0]["tree"] == "printer"
    text = kb(kb_root, "sessions", "list").stdout
    assert "INC42" in text and "2 sessions" in text


def test_the_callers_words_given_with_query_are_kept_with_the_session(kb_root: Path) -> None:
    _, state = walk_json(kb_root, "printer", "--query", "  printer shows offline ", "--answer", "Yes")
    data = json.loads(kb(kb_root, "sessions", "show", state["session"], "--json").stdout)
    assert data["events"][0]["event"] == "start" and data["events"][0]["query"] == "printer shows offline"
    refused = kb(kb_root, "walk", "--resume", state["session"], "--query", "other words")
    assert refused.exit_code == 2 and "a resumed session keeps the words it began with" in refused.output


def test_sessions_show_lists_every_event(kb_root: Path) -> None:
    _, state = walk_json(kb_root, "printer", "--answer", "Yes")
    shown = kb(kb_root, "sessions", "show", state["session"])
    assert "answer [printer#power] Yes" in shown.stdout and "done [printer#queue]" in shown.stdout
    data = json.loads(kb(kb_root, "sessions", "show", state["session"], "--json").stdout)
    assert [e["event"] for e in data["events"]] == ["start", "answer", "done"]


def test_sessions_export_gives_the_hand_over_in_markdown_and_json(kb_root: Path, tmp_path: Path) -> None:
    _, state = walk_json(kb_root, "printer", "--ticket", "INC7", "--answer", "It will not switch on",
                         "--input", "asset_tag=AB12345")
    markdown = kb(kb_root, "sessions", "export", state["session"]).stdout
    assert "## Printer does not print" in markdown and "**Workplace hardware**" in markdown
    assert "asset_tag: `AB12345`" in markdown and "INC7" in markdown
    target = tmp_path / "handover.json"
    kb(kb_root, "sessions", "export", state["session"], "--format", "json", "-o", str(target))
    data = json.loads(target.read_text())
    assert data["escalation"]["priority"] == "P3" and data["ticket"] == "INC7"


def test_sessions_show_of_an_unknown_id_is_a_plain_error(kb_root: Path) -> None:
    result = kb(kb_root, "sessions", "show", "nope")
    assert result.exit_code == 1 and "no session 'nope'" in result.stderr


def test_purge_uses_the_retention_in_kb_yaml_and_counts_what_it_removed(kb_root: Path,
                                                                        tmp_path: Path) -> None:
    _, state = walk_json(kb_root, "printer", "--answer", "Yes")
    record = Path(state["record"])
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    for event in lines:
        event["at"] = "2020-01-01T10:00:00+00:00"
    record.write_text("".join(json.dumps(e) + "\n" for e in lines))
    walk_json(kb_root, "printer", "--answer", "Yes")
    result = json.loads(kb(kb_root, "sessions", "purge", "--json").stdout)
    assert result["removed"] == 1 and result["older_than"] == "30d"
    assert not record.exists() and len(list((tmp_path / "sessions").iterdir())) == 1


def test_purge_without_an_age_or_retention_is_a_usage_error(write_kb: Any) -> None:
    root = write_kb({}, config="title: T\n")
    result = kb(root, "sessions", "purge")
    assert result.exit_code == 2 and "--older-than" in result.stderr


def test_a_bundled_tree_walks_to_an_escalation_with_its_inputs(bundled_root: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    monkeypatch.setenv("KB_SESSIONS", str(tmp_path / "sessions"))
    code, state = walk_json(
        bundled_root, "cannot-sign-in", "--answer", "On my Windows laptop",
        "--answer", "It says the password is incorrect", "--answer", "No",
        "--answer", "No, the reset fails or the new password is not accepted",
        "--input", "employee_number=123456", "--input", "callback_phone=+31 20 555 0100")
    assert code == 0, state
    assert state["outcome"] == "escalated" and state["facts"] == {"os": "windows"}
    assert state["escalation"]["team"] == "Second line - Identity and Access"


def test_a_session_another_walk_holds_is_refused_and_can_still_be_shown(kb_root: Path,
                                                                         tmp_path: Path) -> None:
    _, first = walk_json(kb_root, "printer", "--answer", "Yes")
    store = JsonlStore(tmp_path / "sessions")
    store.lock(first["session"], Holder("ann", "desk-7", 4242, "2024-05-01T10:00:00+00:00", "t" * 16))
    try:
        code, state = walk_json(kb_root, "--resume", first["session"], "--answer", "Yes")
        assert code == 1 and "is open by ann on desk-7 (process 4242)" in state["error"]
        shown = kb(kb_root, "sessions", "show", first["session"])
        assert shown.exit_code == 0 and "answer [printer#power] Yes" in shown.stdout
    finally:
        store.close()
    code, state = walk_json(kb_root, "--resume", first["session"], "--answer", "Yes")
    assert code == 0 and state["outcome"] == "solved"


def test_an_exported_hand_over_is_private_unless_a_mode_is_given(kb_root: Path, tmp_path: Path) -> None:
    _, state = walk_json(kb_root, "printer", "--answer", "It will not switch on",
                         "--input", "asset_tag=AB12345")
    private, shared = tmp_path / "private.md", tmp_path / "shared.md"
    export = ("sessions", "export", state["session"], "-o")
    assert kb(kb_root, *export, str(private)).exit_code == 0
    assert kb(kb_root, *export, str(shared), "--mode", "640").exit_code == 0
    assert (private.stat().st_mode & 0o777, shared.stat().st_mode & 0o777) == (0o600, 0o640)
    assert "AB12345" in private.read_text()
    wrong = kb(kb_root, "sessions", "export", state["session"], "-o", str(shared), "--mode", "rw")
    assert wrong.exit_code == 2 and "octal" in wrong.stderr


def test_walks_sessions_and_report_share_a_database_given_with_database(kb_root: Path,
                                                                       tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'desk.db'}"
    code, state = walk_json(kb_root, "printer", "--answer", "Yes", "--answer", "Yes", "--database", database)
    assert code == 0 and state["record"] == f"{database}#{state['session']}"
    listed = json.loads(kb(kb_root, "sessions", "list", "--database", database, "--json").stdout)
    assert [s["session"] for s in listed["sessions"]] == [state["session"]]
    assert not (tmp_path / "sessions").exists()  # nothing went to the folder
    report = CliRunner().invoke(cli, ["report", "--root", str(kb_root), "--database", database, "--json"])
    assert json.loads(report.stdout)["sessions"]["solved"] == 1


def test_a_store_url_kb_does_not_know_is_a_plain_error(kb_root: Path) -> None:
    result = kb(kb_root, "sessions", "list", "--database", "mysql://desk")
    assert result.exit_code == 1 and "is not a session store kb knows" in result.stderr
