"""Session records in a JSON Lines folder: where they live, durable writing, reading (format 1 too),
listing, purging, the hand-over. The behaviour every store shares is in test_store.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kbengine.model import Config
from kbengine.walk.events import Start
from kbengine.walk.handover import handover, handover_markdown
from kbengine.walk.jsonl import JsonlStore
from kbengine.walk.store import SessionError, parse_age, sessions_folder, store_url


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


def test_a_database_url_in_kb_yaml_is_used_and_a_sqlite_file_is_relative_to_the_kb(tmp_path: Path) -> None:
    assert store_url(tmp_path, Config(sessions="sqlite:///records.db"), None, {}) == \
        f"sqlite:///{tmp_path / 'records.db'}"
    assert store_url(tmp_path, Config(sessions="postgresql://kb@db/desk"), None, {}) == "postgresql://kb@db/desk"


def test_the_database_option_wins_over_the_environment_which_wins_over_kb_yaml(tmp_path: Path) -> None:
    config = Config(sessions="records")
    environ = {"KB_DATABASE_URL": "sqlite:////tmp/env.db", "KB_SESSIONS": str(tmp_path / "folder")}
    assert store_url(tmp_path, config, "sqlite:////tmp/option.db", environ) == "sqlite:////tmp/option.db"
    assert store_url(tmp_path, config, None, environ) == "sqlite:////tmp/env.db"
    assert store_url(tmp_path, config, None, {}) == str(tmp_path / "records")


def start_event(**extra: Any) -> dict[str, Any]:
    return {"event": "start", "format": 1, "at": "2024-05-01T10:00:00+00:00", "tree": "printer",
            "tree_title": "Printer does not print", "tree_hash": "abc", "ticket": "", "agent": "ann", **extra}


def test_each_event_is_on_disk_as_soon_as_it_is_appended(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path)
    session_id = store.create(Start(at="2024-05-01T10:00:00+00:00", session="s1", tree="printer"))
    store.append(session_id, Start(at="2024-05-01T10:00:05+00:00", session="s1", tree="printer"))
    lines = (tmp_path / "s1.jsonl").read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["start", "start"]
    assert json.loads(lines[0])["session"] == "s1" and json.loads(lines[0])["format"] == 2


def test_records_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    JsonlStore(tmp_path / "new").create(Start(at="2024-05-01T10:00:00+00:00", session="s1", tree="printer"))
    assert (tmp_path / "new" / "s1.jsonl").stat().st_mode & 0o077 == 0
    assert (tmp_path / "new").stat().st_mode & 0o077 == 0


def test_a_line_cut_short_by_a_crash_is_left_out_and_counted(tmp_path: Path) -> None:
    (tmp_path / "s1.jsonl").write_text(json.dumps(start_event()) + "\n" + '{"event": "ans')
    session = JsonlStore(tmp_path).read("s1")
    assert [e.name for e in session.events] == ["start"] and session.damaged == 1


def test_an_event_appended_after_a_cut_line_starts_on_a_line_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "s1.jsonl").write_text(json.dumps(start_event()) + "\n" + '{"event": "ans')
    store = JsonlStore(tmp_path)
    store.append("s1", Start(at="2024-05-01T10:00:09+00:00", session="s1", tree="printer"))
    session = store.read("s1")
    assert [e.name for e in session.events] == ["start", "start"] and session.damaged == 1


def test_a_file_that_is_not_a_record_is_reported(tmp_path: Path) -> None:
    (tmp_path / "s1.jsonl").write_text('{"event": "answer"}\n')
    with pytest.raises(SessionError, match="not a session record"):
        JsonlStore(tmp_path).read("s1")


def write_session(folder: Path, session_id: str, *, last: str = "2024-05-01T10:04:12+00:00",
                  outcome: str = "escalated", **start: Any) -> None:
    """A record in format 1, where every event repeats the whole state."""
    state = {"tree": "printer", "node": "hardware", "kind": "escalate", "prompt": "", "outcome": outcome,
             "path": [{"tree": "printer", "node": "power", "kind": "ask", "prompt": "Is the printer on?",
                       "answer": "It will not switch on", "at": last},
                      {"tree": "printer", "node": "check", "kind": "do", "prompt": "Check the cable.",
                       "answer": "done", "at": last}],
             "facts": {"power_fault": True}, "inputs": {"asset_tag": "AB12345"},
             "notes": [{"text": "Caller in room 3.14", "tree": "printer", "node": "power", "at": last}],
             "escalation": {"team": "Workplace hardware", "priority": "P3", "reason": "No power"}}
    lines = [start_event(session=session_id, **start),
             {"event": "input", "at": last, "tree": "printer", "node": "hardware", "name": "asset_tag",
              "value": "AB12345", "state": state}]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{session_id}.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_format_1_records_that_repeat_the_state_are_still_read(tmp_path: Path) -> None:
    write_session(tmp_path, "old")
    session = JsonlStore(tmp_path).read("old")
    assert session.outcome == "escalated" and session.state["inputs"] == {"asset_tag": "AB12345"}
    assert session.summary()["steps"] == 2


def test_sessions_are_listed_and_filtered_by_tree_outcome_ticket_and_date(tmp_path: Path) -> None:
    write_session(tmp_path, "a", ticket="INC1", last="2024-04-01T10:00:00+00:00")
    write_session(tmp_path, "b", outcome="solved", last="2024-05-02T10:00:00+00:00")
    write_session(tmp_path, "c", tree="vpn", last="2024-05-03T10:00:00+00:00")
    store = JsonlStore(tmp_path)
    assert [s.id for s in store.list_sessions()] == ["a", "b", "c"]
    assert [s.id for s in store.list_sessions(tree="vpn")] == ["c"]
    assert [s.id for s in store.list_sessions(outcome="solved")] == ["b"]
    assert [s.id for s in store.list_sessions(ticket="inc1")] == ["a"]
    since = datetime(2024, 5, 1, tzinfo=UTC)
    assert [s.id for s in store.list_sessions(since=since)] == ["b", "c"]


def test_a_session_is_found_by_a_unique_beginning_of_its_id(tmp_path: Path) -> None:
    write_session(tmp_path, "20240501-100000-aaaa")
    write_session(tmp_path, "20240501-100000-bbbb")
    store = JsonlStore(tmp_path)
    assert store.load("20240501-100000-a").id == "20240501-100000-aaaa"
    with pytest.raises(SessionError, match="matches 2 sessions"):
        store.load("20240501")
    with pytest.raises(SessionError, match="no session"):
        store.load("nope")
    with pytest.raises(SessionError, match="not a session id"):
        store.load("../etc/passwd")


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
    store = JsonlStore(tmp_path)
    assert store.purge(timedelta(days=90), now, dry_run=True) == ["old"]
    assert (tmp_path / "old.jsonl").exists()
    assert store.purge(timedelta(days=90), now) == ["old"]
    assert sorted(p.stem for p in tmp_path.iterdir()) == ["new"]


def test_the_hand_over_has_symptom_steps_inputs_notes_outcome_escalation_and_duration(
        tmp_path: Path) -> None:
    write_session(tmp_path, "s1", ticket="INC0012345")
    data = handover(JsonlStore(tmp_path).load("s1"))
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
    store = JsonlStore(tmp_path)
    store.create(Start(at="2024-05-01T10:00:00+00:00", session="s1", tree="printer"))
    session = store.read("s1")
    assert session.outcome == "in_progress"
    assert "(no steps taken)" in handover_markdown(handover(session))
