"""Session records: where they live, durable per-event writing, reading, listing, purging, hand-over."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kbengine.model import Config
from kbengine.walk.handover import handover, handover_markdown
from kbengine.walk.records import (
    Session,
    SessionError,
    SessionRecord,
    list_sessions,
    load_session,
    parse_age,
    purge,
    read_events,
    sessions_folder,
)


def test_the_default_folder_is_in_the_data_home_named_after_the_kb_folder(tmp_path: Path) -> None:
    environ = {"XDG_DATA_HOME": str(tmp_path / "data")}
    folder = sessions_folder(tmp_path / "Service Desk KB", Config(), environ)
    assert folder == tmp_path / "data" / "kbengine" / "sessions" / "service-desk-kb"


def test_the_default_data_home_is_local_share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert sessions_folder(tmp_path / "kb", Config(), {}) == tmp_path / ".local/share/kbengine/sessions/kb"


def test_sessions_in_kb_yaml_is_relative_to_the_kb(tmp_path: Path) -> None:
    config = Config(sessions="../records")
    assert sessions_folder(tmp_path / "kb", config, {}) == tmp_path / "records"


def test_kb_sessions_in_the_environment_wins(tmp_path: Path) -> None:
    config = Config(sessions="../records")
    environ = {"KB_SESSIONS": str(tmp_path / "env")}
    assert sessions_folder(tmp_path / "kb", config, environ) == tmp_path / "env"


def test_a_sessions_folder_inside_the_build_cache_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SessionError, match=r"\.kb"):
        sessions_folder(tmp_path, Config(sessions=".kb/sessions"), {})


def test_the_folder_is_read_from_kb_yaml_when_no_config_is_given(write_kb: Any) -> None:
    root = write_kb({}, config="title: T\nsessions: records\n")
    assert sessions_folder(root, None, {}) == root / "records"


def start_event(**extra: Any) -> dict[str, Any]:
    return {"at": "2024-05-01T10:00:00+00:00", "tree": "printer", "tree_title": "Printer does not print",
            "tree_hash": "abc", "ticket": "", "agent": "ann", **extra}


def test_each_event_is_on_disk_as_soon_as_it_is_appended(tmp_path: Path) -> None:
    record = SessionRecord.create(tmp_path, "s1", start_event())
    record.append({"event": "answer", "at": "2024-05-01T10:00:05+00:00", "answer": "Yes"})
    lines = (tmp_path / "s1.jsonl").read_text().splitlines()  # read before close
    assert [json.loads(line)["event"] for line in lines] == ["start", "answer"]
    assert json.loads(lines[0])["session"] == "s1"
    record.close()


def test_records_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    SessionRecord.create(tmp_path / "new", "s1", start_event()).close()
    assert (tmp_path / "new" / "s1.jsonl").stat().st_mode & 0o077 == 0


def test_a_line_cut_short_by_a_crash_is_left_out(tmp_path: Path) -> None:
    path = tmp_path / "s1.jsonl"
    path.write_text(json.dumps({"event": "start", **start_event()}) + "\n" + '{"event": "ans')
    assert [e["event"] for e in read_events(path)] == ["start"]


def test_a_file_that_is_not_a_record_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "s1.jsonl"
    path.write_text('{"event": "answer"}\n')
    with pytest.raises(SessionError, match="not a session record"):
        read_events(path)


def write_session(folder: Path, session_id: str, *, last: str = "2024-05-01T10:04:12+00:00",
                  outcome: str = "escalated", **start: Any) -> None:
    state = {"tree": "printer", "node": "hardware", "kind": "escalate", "prompt": "", "outcome": outcome,
             "path": [{"tree": "printer", "node": "power", "kind": "ask", "prompt": "Is the printer on?",
                       "answer": "It will not switch on", "at": last},
                      {"tree": "printer", "node": "check", "kind": "do", "prompt": "Check the cable.",
                       "answer": "done", "at": last}],
             "facts": {"power_fault": True}, "inputs": {"asset_tag": "AB12345"},
             "notes": [{"text": "Caller in room 3.14", "tree": "printer", "node": "power", "at": last}],
             "escalation": {"team": "Workplace hardware", "priority": "P3", "reason": "No power"}}
    record = SessionRecord.create(folder, session_id, start_event(**start))
    record.append({"event": "input", "at": last, "name": "asset_tag", "value": "AB12345", "state": state})
    record.close()


def test_sessions_are_listed_and_filtered_by_tree_outcome_ticket_and_date(tmp_path: Path) -> None:
    write_session(tmp_path, "a", ticket="INC1", last="2024-04-01T10:00:00+00:00")
    write_session(tmp_path, "b", outcome="solved", last="2024-05-02T10:00:00+00:00")
    write_session(tmp_path, "c", tree="vpn", last="2024-05-03T10:00:00+00:00")
    assert [s.id for s in list_sessions(tmp_path)] == ["a", "b", "c"]
    assert [s.id for s in list_sessions(tmp_path, tree="vpn")] == ["c"]
    assert [s.id for s in list_sessions(tmp_path, outcome="solved")] == ["b"]
    assert [s.id for s in list_sessions(tmp_path, ticket="inc1")] == ["a"]
    since = datetime(2024, 5, 1, tzinfo=UTC)
    assert [s.id for s in list_sessions(tmp_path, since=since)] == ["b", "c"]


def test_a_session_is_found_by_a_unique_beginning_of_its_id(tmp_path: Path) -> None:
    write_session(tmp_path, "20240501-100000-aaaa")
    write_session(tmp_path, "20240501-100000-bbbb")
    assert load_session(tmp_path, "20240501-100000-a").id == "20240501-100000-aaaa"
    with pytest.raises(SessionError, match="matches 2 sessions"):
        load_session(tmp_path, "20240501")
    with pytest.raises(SessionError, match="no session"):
        load_session(tmp_path, "nope")


@pytest.mark.parametrize(("text", "age"), [("90d", timedelta(days=90)), ("12w", timedelta(weeks=12)),
                                           ("36h", timedelta(hours=36))])
def test_ages_are_read_in_hours_days_and_weeks(text: str, age: timedelta) -> None:
    assert parse_age(text) == age


def test_an_age_without_a_unit_is_refused() -> None:
    with pytest.raises(SessionError, match="90d"):
        parse_age("90")


def test_purge_deletes_records_whose_last_event_is_older_than_the_age(tmp_path: Path) -> None:
    write_session(tmp_path, "old", last="2024-01-01T10:00:00+00:00")
    write_session(tmp_path, "new", last="2024-04-20T10:00:00+00:00")
    now = datetime(2024, 5, 1, tzinfo=UTC)
    assert [p.stem for p in purge(tmp_path, timedelta(days=90), now, dry_run=True)] == ["old"]
    assert (tmp_path / "old.jsonl").exists()
    assert [p.stem for p in purge(tmp_path, timedelta(days=90), now)] == ["old"]
    assert sorted(p.stem for p in tmp_path.iterdir()) == ["new"]


def test_the_hand_over_has_symptom_steps_inputs_notes_outcome_escalation_and_duration(
        tmp_path: Path) -> None:
    write_session(tmp_path, "s1", ticket="INC0012345")
    data = handover(load_session(tmp_path, "s1"))
    assert data["symptom"] == "Printer does not print"
    assert data["duration"] == "4 min 12 s" and data["duration_seconds"] == 252
    assert data["escalation"]["team"] == "Workplace hardware"
    text = handover_markdown(data)
    for expected in ("## Printer does not print", "INC0012345", "Escalated", "**Workplace hardware**",
                     "priority P3", "No power", "1. Is the printer on? — **It will not switch on**",
                     "2. Check the cable. — **done**", "asset_tag: `AB12345`", "Caller in room 3.14",
                     "4 min 12 s"):
        assert expected in text


def test_a_session_without_any_step_reads_as_in_progress(tmp_path: Path) -> None:
    SessionRecord.create(tmp_path, "s1", start_event()).close()
    session = Session("s1", tmp_path / "s1.jsonl", read_events(tmp_path / "s1.jsonl"))
    assert session.outcome == "in_progress"
    assert "(no steps taken)" in handover_markdown(handover(session))
