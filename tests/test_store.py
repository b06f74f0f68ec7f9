"""The session store: one suite run against every backend (JSON Lines folder, SQLite, a real PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kbengine.cli import cli
from kbengine.compiler import compile_kb
from kbengine.kb import KnowledgeBase
from kbengine.walk.events import Answer, Arrival, Note, Position, Start, event_data
from kbengine.walk.jsonl import JsonlStore
from kbengine.walk.recording import collect_walks, rebuild_walk, resume_walk, run_scripted, start_walk
from kbengine.walk.store import (
    Holder,
    SessionError,
    SessionLocked,
    SessionMissing,
    SessionMoved,
    SessionStore,
    open_store,
)

PRINTER = """
    title: Printer does not print
    start: power
    nodes:
      power:
        ask: Is the printer on?
        answers:
          "Yes": fixed
          "No": hardware
          Let me look again: power
      fixed:
        solved: It printed.
      hardware:
        escalate: {team: Workplace hardware, priority: P3}
        collect:
          - {name: asset_tag, prompt: Asset tag, pattern: '^[A-Z]{2}\\d{5}$'}
    """


def _url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "jsonl":
        return str(tmp_path / "sessions")
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'sessions.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["jsonl", "sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return _url(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return _url(request.param, request, tmp_path)


@pytest.fixture
def store(url: str) -> Any:
    opened = open_store(url)
    yield opened
    opened.close()


@pytest.fixture
def kb(write_kb: Any) -> KnowledgeBase:
    return compile_kb(write_kb({"trees/printer.yaml": PRINTER}))


def start(session: str = "20240501-100000-aaaa", at: str = "2024-05-01T10:00:00+00:00",
          **fields: Any) -> Start:
    return Start(at=at, session=session, tree=fields.pop("tree", "printer"), tree_title="Printer",
                 arrival=Arrival(Position("printer", "power", "ask", "Is the printer on?")), **fields)


def answer(label: str, at: str, node: str = "fixed", outcome: Any = "solved") -> Answer:
    kind = {"fixed": "solved", "hardware": "escalate"}.get(node, "ask")
    return Answer(at=at, tree="printer", node="power", answer=label,
                  arrival=Arrival(Position("printer", node, kind, ""), outcome))


def test_a_session_reads_back_as_it_was_written(store: SessionStore) -> None:
    session_id = store.create(start(ticket="INC1"))
    store.append(session_id, Note(at="2024-05-01T10:00:03+00:00", text="Caller in B2", tree="printer",
                                  node="power"))
    store.append(session_id, answer("Yes", "2024-05-01T10:00:05+00:00"))
    session = store.read(session_id)
    assert [e.name for e in session.events] == ["start", "note", "answer"]
    assert session.events[2] == answer("Yes", "2024-05-01T10:00:05+00:00")
    assert (session.outcome, session.ticket, session.state["node"]) == ("solved", "INC1", "fixed")
    assert session.state["notes"][0]["text"] == "Caller in B2"


def test_a_taken_id_is_drawn_again(store: SessionStore) -> None:
    first = store.create(start())
    second = store.create(start())
    assert first == "20240501-100000-aaaa" and second != first and len(store.ids()) == 2


def test_sessions_are_listed_oldest_first_and_filtered(store: SessionStore) -> None:
    a = store.create(start("20240401-100000-aaaa", "2024-04-01T10:00:00+00:00", ticket="INC1"))
    b = store.create(start("20240502-100000-bbbb", "2024-05-02T10:00:00+00:00"))
    store.append(b, answer("Yes", "2024-05-02T10:01:00+00:00"))
    c = store.create(start("20240503-100000-cccc", "2024-05-03T10:00:00+00:00", tree="vpn"))
    assert [s.id for s in store.list_sessions()] == [a, b, c]
    assert [s.id for s in store.list_sessions(tree="vpn")] == [c]
    assert [s.id for s in store.list_sessions(outcome="solved")] == [b]
    assert [s.id for s in store.list_sessions(ticket="inc1")] == [a]
    assert [s.id for s in store.list_sessions(since=datetime(2024, 5, 1, tzinfo=UTC))] == [b, c]


def test_a_session_is_found_by_a_unique_beginning_of_its_id(store: SessionStore) -> None:
    store.create(start("20240501-100000-aaaa"))
    store.create(start("20240501-100000-bbbb"))
    assert store.load("20240501-100000-b").id == "20240501-100000-bbbb"
    with pytest.raises(SessionError, match="matches 2 sessions"):
        store.load("20240501")
    with pytest.raises(SessionError, match="no session 'nope'"):
        store.load("nope")


def test_purge_removes_sessions_whose_last_event_is_older_than_the_age(store: SessionStore) -> None:
    old = store.create(start("20240101-100000-aaaa", "2024-01-01T10:00:00+00:00"))
    new = store.create(start("20240420-100000-bbbb", "2024-04-20T10:00:00+00:00"))
    now = datetime(2024, 5, 1, tzinfo=UTC)
    assert store.purge(timedelta(days=90), now, dry_run=True) == [old]
    assert store.purge(timedelta(days=90), now) == [old]
    assert store.ids() == [new]


def test_a_held_session_is_refused_to_a_second_walk_naming_who_holds_it(store: SessionStore) -> None:
    session_id = store.create(start())
    first, second = Holder("ann", "desk-1", 101, "2024-05-01T10:00:00+00:00", "a" * 16), Holder.here("bob")
    store.lock(session_id, first)
    with pytest.raises(SessionLocked, match=r"open by ann on desk-1 \(process 101\) since 2024-05-01 10:00"):
        store.lock(session_id, second)
    assert store.read(session_id).id == session_id  # still readable
    store.unlock(session_id, first)
    store.lock(session_id, second)


def test_two_agents_resuming_the_same_session_the_second_is_refused(url: str, kb: KnowledgeBase) -> None:
    one, two = open_store(url), open_store(url)
    try:
        walk = start_walk(kb, one, "printer")
        walk.close()
        first = resume_walk(kb, one, walk.session_id, agent="ann")
        with pytest.raises(SessionLocked, match=f"session {walk.session_id} is open by ann"):
            resume_walk(kb, two, walk.session_id, agent="bob")
        run_scripted(first, ["Let me look again"], {})
        first.close()
        again = resume_walk(kb, two, walk.session_id, agent="bob")
        assert run_scripted(again, ["Yes"], {})["outcome"] == "solved"
        again.close()
        assert [s.name for s in one.read(walk.session_id).events] == [
            "start", "resume", "answer", "resume", "answer"]
    finally:
        one.close()
        two.close()


def test_a_step_is_written_only_on_the_record_it_was_taken_on(store: SessionStore, kb: KnowledgeBase) -> None:
    """Two requests for one walk, on two workers: the one that writes second took its step on a
    record that has moved on; it is refused, nothing of it is written, and it can take it again."""
    walk_id = start_walk(kb, store, "printer", hold=False).session_id
    first, second = rebuild_walk(kb, store, store.read(walk_id)), rebuild_walk(kb, store, store.read(walk_id))
    first.walk.answer("Let me look again")
    second.walk.answer("Yes")
    first.save()
    with pytest.raises(SessionMoved):
        second.save()
    assert [e.name for e in store.read(walk_id).events] == ["start", "answer"]
    again = rebuild_walk(kb, store, store.read(walk_id))
    again.walk.answer("Yes")
    again.save()
    assert again.session().outcome == "solved" == store.read(walk_id).outcome
    assert [s.id for s in store.list_sessions(outcome="solved")] == [walk_id]


def test_a_step_is_refused_while_a_terminal_walk_holds_the_session(store: SessionStore,
                                                                    kb: KnowledgeBase) -> None:
    held = start_walk(kb, store, "printer", agent="ann")
    step = rebuild_walk(kb, store, store.read(held.session_id))
    step.walk.answer("Yes")
    with pytest.raises(SessionLocked, match="open by ann"):
        step.save()
    held.close()
    step.save()
    assert store.read(held.session_id).outcome == "solved"


def test_a_missing_session_is_told_apart_from_an_unreadable_one(store: SessionStore) -> None:
    with pytest.raises(SessionMissing, match="no session '20240501-100000-ffff'"):
        store.read("20240501-100000-ffff")
    with pytest.raises(SessionMissing):
        store.load("20240501-100000-ffff")


def test_a_database_of_revision_0002_is_brought_up_to_date_with_its_sessions(
        database_url: str, kb: KnowledgeBase) -> None:
    """Sessions and holds recorded before the summary columns (migration 0003) keep working."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from kbengine.walk.database import MIGRATIONS
    from kbengine.walk.database import database_url as engine_url

    engine = create_engine(engine_url(database_url))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    solved = [start(ticket="INC7"), answer("Yes", "2024-05-01T10:00:05+00:00")]
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO sessions (id, tree, ticket, agent, started, last_utc) VALUES "
                                "('20240501-100000-aaaa', 'printer', 'INC7', 'ann', "
                                "'2024-05-01T10:00:00+00:00', '2024-05-01 10:00:05')"))
        for seq, event in enumerate(solved):
            connection.execute(text("INSERT INTO session_events (session_id, seq, event, at, data) VALUES "
                                    "('20240501-100000-aaaa', :seq, :event, :at, :data)"),
                               {"seq": seq, "event": event.name, "at": event.at,
                                "data": json.dumps(event_data(event))})
        connection.execute(text("INSERT INTO session_locks VALUES ('20240501-100000-aaaa', 'tok', 'ann', "
                                "'desk-9', 1, '2024-05-01T10:00:00+00:00', :now)"),
                           {"now": datetime.now(UTC).replace(tzinfo=None)})
    engine.dispose()
    store = open_store(database_url)
    try:
        found = store.list_sessions(outcome="solved", ticket="inc7")
        assert [s.id for s in found] == ["20240501-100000-aaaa"]
        with pytest.raises(SessionLocked, match="open by ann on desk-9"):
            store.lock("20240501-100000-aaaa", Holder.here("bob"))
        store.append("20240501-100000-aaaa", Note(at="2024-05-01T10:01:00+00:00", text="again"))
        assert len(store.read("20240501-100000-aaaa").events) == 3
    finally:
        store.close()


LOCKER = """
import sys, time
from kbengine.walk.store import Holder, open_store
store = open_store(sys.argv[1])
store.lock(sys.argv[2], Holder.here("carol"))
print("locked", flush=True)
time.sleep(120)
"""


def test_a_lock_held_by_another_process_holds_until_that_process_dies(store: SessionStore, url: str) -> None:
    session_id = store.create(start())
    other = subprocess.Popen([sys.executable, "-c", LOCKER, url, session_id], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "locked"
        with pytest.raises(SessionLocked, match=f"open by carol on .* \\(process {other.pid}\\)"):
            store.lock(session_id, Holder.here("dave"))
    finally:
        other.kill()  # SIGKILL: no chance to let go of the lock
        other.wait()
    store.lock(session_id, Holder.here("dave"))


def test_reports_read_every_backend_alike(store: SessionStore, kb: KnowledgeBase) -> None:
    for answers in (["Yes"], ["No"], []):
        walk = start_walk(kb, store, "printer")
        run_scripted(walk, answers, {"asset_tag": "AB12345"})
        walk.close()
    walks, skipped = collect_walks(store, None, None)
    assert skipped == 0
    assert sorted(w.outcome for w in walks) == ["escalated", "in_progress", "solved"]
    assert {w.team for w in walks if w.outcome == "escalated"} == {"Workplace hardware"}


def test_a_record_of_500_steps_stays_far_under_a_megabyte(tmp_path: Path, kb: KnowledgeBase) -> None:
    store = JsonlStore(tmp_path)
    walk = start_walk(kb, store, "printer")
    run_scripted(walk, ["Let me look again"] * 500, {})
    walk.close()
    size = store.path(walk.session_id).stat().st_size
    assert size < 300_000, size
    assert len(store.read(walk.session_id).state["path"]) == 500


def test_import_copies_jsonl_records_into_a_database_once(tmp_path: Path, kb: KnowledgeBase,
                                                           database_url: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    url = database_url
    folder = JsonlStore(tmp_path / "records")
    for answers in (["Yes"], ["No"]):
        walk = start_walk(kb, folder, "printer")
        run_scripted(walk, answers, {})
        walk.close()
    monkeypatch.setenv("KB_DATABASE_URL", url)
    command = ["sessions", "import", str(tmp_path / "records"), "--root", str(kb.root), "--json"]
    first, again = CliRunner().invoke(cli, command), CliRunner().invoke(cli, command)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["sessions"] == 2 and json.loads(again.stdout)["sessions"] == 0
    database = open_store(url)
    assert database.ids() == folder.ids()
    assert [s.state for s in database.sessions()] == [s.state for s in folder.sessions()]
    database.close()


def test_without_postgresql_the_suite_skips_unless_ci_requires_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from postgres import unavailable

    monkeypatch.delenv("KB_REQUIRE_POSTGRES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no PostgreSQL"):
        unavailable("initdb is missing")
    monkeypatch.setenv("KB_REQUIRE_POSTGRES", "1")
    with pytest.raises(pytest.fail.Exception, match="required"):
        unavailable("initdb is missing")
