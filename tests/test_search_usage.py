"""Learning from use: what answered similar queries before is lifted, within a bound."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kbengine.compiler import compile_kb
from kbengine.kb import KnowledgeBase
from kbengine.search import learned_usage, search
from kbengine.search.usage import LIFT_MAX, Usage, answered_queries, load_usage, query_words
from kbengine.walk.events import Arrival, Position, Start
from kbengine.walk.jsonl import JsonlStore
from kbengine.walk.recording import start_walk
from kbengine.walk.store import Session, SessionStore, open_store

FILES = {
    "articles/vpn-home.md": "# VPN from home\n\nConnect the VPN client from home; it drops on wifi.\n",
    "articles/vpn-office.md": "# VPN in the office\n\nThe VPN client is not needed in the office.\n",
}


def test_the_lift_grows_with_similar_answered_queries_and_stops_at_its_bound() -> None:
    usage = Usage.of([("vpn keeps dropping", "article:a")] * 5 + [("printer jam", "article:b")])
    words = query_words("vpn dropping")
    assert usage.lift(words, "article:a") == 1 + LIFT_MAX  # many similar: the whole lift, no more
    assert usage.lift(words, "article:b") == 1.0  # answered other queries only
    assert usage.lift(words, "article:c") == 1.0  # never answered anything
    once = Usage.of([("vpn keeps dropping", "article:a")])
    assert 1.0 < once.lift(words, "article:a") < 1 + LIFT_MAX


def test_what_answered_before_ranks_first_among_close_matches(write_kb) -> None:
    kb = compile_kb(write_kb(FILES))
    assert search(kb, "vpn client").hits[0].id == "vpn-office"
    usage = Usage.of([("vpn client", "article:vpn-home")] * 3)
    assert search(kb, "vpn client", usage=usage).hits[0].id == "vpn-home"


def test_new_content_with_a_much_better_match_is_not_buried(write_kb) -> None:
    kb = compile_kb(write_kb({**FILES, "articles/tunnelblick.md":
                              "# Tunnelblick VPN client\n\nTunnelblick is the VPN client on a Mac.\n"}))
    usage = Usage.of([("tunnelblick vpn client", "article:vpn-home")] * 10)
    assert search(kb, "tunnelblick vpn client", usage=usage).hits[0].id == "tunnelblick"


def walk(store: JsonlStore, tree: str, query: str, outcome: str) -> None:
    arrival = Arrival(Position(tree, "end", "solved" if outcome == "solved" else "escalate", ""), outcome)
    store.create(Start(at="2026-11-30T09:00:00+00:00", session=f"{tree}-{query[:3]}-{outcome}", tree=tree,
                       query=query, arrival=arrival))


def test_solved_walks_started_from_a_search_are_read_from_the_store(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path / "sessions")
    walk(store, "vpn", "vpn drops", "solved")
    walk(store, "vpn", "vpn slow", "escalated")  # not solved: answered nothing
    walk(store, "printer", "", "solved")  # not started from a search
    assert answered_queries(store) == [("vpn drops", "tree:vpn")]
    cache = tmp_path / "usage.json"
    assert load_usage(store, cache).answered == Usage.of(answered_queries(store)).answered
    assert cache.is_file()  # the next search reads the summary, not every record
    walk(store, "vpn", "vpn drops again", "solved")
    assert len(load_usage(store, cache).answered["tree:vpn"]) == 2  # a new session is seen


def test_kb_search_learns_from_the_kbs_session_folder(write_kb, tmp_path: Path, monkeypatch) -> None:
    tree = "title: VPN {}\nstart: end\nnodes:\n  end: {{solved: ok}}\n"
    root = write_kb({"trees/home.yaml": tree.format("from home"),
                     "trees/office.yaml": tree.format("in the office")})
    monkeypatch.setenv("KB_SESSIONS", str(tmp_path / "sessions"))
    assert learned_usage(root) is None  # no sessions yet
    store = JsonlStore(tmp_path / "sessions")
    for _ in range(3):
        walk(store, "office", "vpn", "solved")
    usage = learned_usage(root)
    assert usage is not None and usage.lift(query_words("vpn"), "tree:office") == 1 + LIFT_MAX


def test_the_quick_check_for_sessions_looks_where_the_store_keeps_them(tmp_path: Path, monkeypatch) -> None:
    from kbengine.model import Config
    from kbengine.search import _default_sessions_folder
    from kbengine.walk.store import store_url

    for name in ("KB_DATABASE_URL", "KB_SESSIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    root = tmp_path / "IT Help Desk"
    assert _default_sessions_folder(root) == Path(store_url(root, Config()))


# Opened articles: what the agent read last before a solved walk answered its query too

VPN_TREE = """
title: VPN keeps dropping
start: works
nodes:
  works:
    ask: Does the VPN stay up on the office wifi?
    answers: {"Yes": fixed, "No": second-line}
  fixed:
    solved: It was the home router.
  second-line:
    escalate: {team: Network}
"""


@pytest.fixture(params=["jsonl", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionStore]:
    """The same behaviour on a JSON Lines folder, SQLite and a real PostgreSQL (tests/postgres.py)."""
    url = {"jsonl": str(tmp_path / "sessions"), "sqlite": f"sqlite:///{tmp_path / 'desk.db'}"}.get(
        request.param) or str(request.getfixturevalue("postgres_url"))
    opened = open_store(url)
    yield opened
    opened.close()


def recorded_walk(kb: KnowledgeBase, store: SessionStore, query: str, read: list[str], answer: str = "Yes",
                  *, back: bool = False, after: str = "") -> str:
    """A walk of the VPN tree started from `query`, reading `read` at its first step (then going back
    and answering again with `back`), answered with `answer`, then reading `after`."""
    recorded = start_walk(kb, store, "vpn", query=query)
    try:
        for article in read:
            recorded.walk.opened(article)
        if back:
            recorded.walk.answer("No")
            recorded.walk.back()
        recorded.walk.answer(answer)
        if after:
            recorded.walk.opened(after)
    finally:
        recorded.close()
    return recorded.session_id


@pytest.fixture
def vpn_kb(write_kb: Any) -> KnowledgeBase:
    return compile_kb(write_kb({**FILES, "trees/vpn.yaml": VPN_TREE}))


def test_the_article_read_last_before_the_solution_answered_the_query(vpn_kb: KnowledgeBase,
                                                                      store: SessionStore) -> None:
    recorded_walk(vpn_kb, store, "vpn drops at home", ["vpn-office", "vpn-home"], after="vpn-office")
    assert answered_queries(store) == [("vpn drops at home", "tree:vpn"),
                                       ("vpn drops at home", "article:vpn-home")]


def test_walks_that_did_not_end_solved_teach_nothing(vpn_kb: KnowledgeBase, store: SessionStore) -> None:
    recorded_walk(vpn_kb, store, "vpn drops", ["vpn-home"], answer="No")  # escalated
    abandoned = start_walk(vpn_kb, store, "vpn", query="vpn drops")
    abandoned.walk.opened("vpn-home")
    abandoned.walk.abandon()
    abandoned.close()
    assert answered_queries(store) == []


def test_an_article_read_before_going_back_did_not_solve_it(vpn_kb: KnowledgeBase,
                                                           store: SessionStore) -> None:
    recorded_walk(vpn_kb, store, "vpn drops", ["vpn-home"], back=True)
    assert answered_queries(store) == [("vpn drops", "tree:vpn")]


def test_a_solved_walk_lifts_the_article_it_read_for_similar_queries_only(vpn_kb: KnowledgeBase,
                                                                         store: SessionStore,
                                                                         tmp_path: Path) -> None:
    before = [hit.id for hit in search(vpn_kb, "vpn client", kind="article").hits]
    unrelated = [hit.id for hit in search(vpn_kb, "vpn in the office", kind="article").hits]
    assert before[0] == "vpn-office"
    for _ in range(3):
        recorded_walk(vpn_kb, store, "VPN client", ["vpn-home"])
    usage = load_usage(store, tmp_path / "usage.json")
    assert search(vpn_kb, "vpn client", kind="article", usage=usage).hits[0].id == "vpn-home"
    assert search(vpn_kb, "the vpn client drops", kind="article", usage=usage).hits[0].id == "vpn-home"
    after = search(vpn_kb, "vpn in the office", kind="article", usage=usage).hits
    assert [hit.id for hit in after] == unrelated  # not similar: as before


def test_a_much_better_match_still_wins_over_what_was_read_before(write_kb: Any, store: SessionStore,
                                                                  tmp_path: Path) -> None:
    kb = compile_kb(write_kb({**FILES, "trees/vpn.yaml": VPN_TREE, "articles/tunnelblick.md":
                              "# Tunnelblick VPN client\n\nTunnelblick is the VPN client on a Mac.\n"}))
    for _ in range(6):
        recorded_walk(kb, store, "tunnelblick vpn client", ["vpn-home"])
    usage = load_usage(store, tmp_path / "usage.json")
    assert usage.lift(query_words("tunnelblick vpn client"), "article:vpn-home") == 1 + LIFT_MAX
    assert search(kb, "tunnelblick vpn client", usage=usage).hits[0].id == "tunnelblick"


def test_the_kept_summary_changes_when_a_walk_is_solved(vpn_kb: KnowledgeBase, store: SessionStore,
                                                        tmp_path: Path) -> None:
    cache = tmp_path / "usage.json"
    walk = start_walk(vpn_kb, store, "vpn", query="vpn drops")
    walk.walk.opened("vpn-home")
    assert load_usage(store, cache).answered == {}  # in progress: nothing learned yet, and kept so
    walk.walk.answer("Yes")  # the same session, solved: on a database only its events changed
    walk.close()
    assert set(load_usage(store, cache).answered) == {"tree:vpn", "article:vpn-home"}


class CountedStore(JsonlStore):
    """A real folder store that notes which records it reads."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.reads: list[str] = []

    def read(self, session_id: str) -> Session:
        self.reads.append(session_id)
        return super().read(session_id)


def test_only_the_sessions_added_or_changed_since_are_read_again(vpn_kb: KnowledgeBase,
                                                                 tmp_path: Path) -> None:
    store, cache = CountedStore(tmp_path / "sessions"), tmp_path / "usage.json"
    first = recorded_walk(vpn_kb, store, "vpn drops", ["vpn-home"])
    load_usage(store, cache)
    store.reads.clear()
    second = recorded_walk(vpn_kb, store, "vpn drops again", ["vpn-home"])
    store.reads.clear()
    usage = load_usage(store, cache)
    assert store.reads == [second] and first != second  # the first one's answers came from the summary
    assert len(usage.answered["article:vpn-home"]) == 2


def test_a_deleted_session_is_forgotten_and_a_damaged_summary_rebuilt(vpn_kb: KnowledgeBase,
                                                                      store: SessionStore,
                                                                      tmp_path: Path) -> None:
    cache = tmp_path / "usage.json"
    gone = recorded_walk(vpn_kb, store, "vpn drops", ["vpn-home"])
    kept = recorded_walk(vpn_kb, store, "vpn slow", [])
    assert set(load_usage(store, cache).answered) == {"tree:vpn", "article:vpn-home"}
    store.delete(gone)
    assert set(load_usage(store, cache).answered) == {"tree:vpn"}
    summary = json.loads(cache.read_text("utf-8"))
    summary["sessions"][kept][1] = [["vpn slow"]]  # not a (query, key) pair
    damaged = tmp_path / "damaged.json"
    damaged.write_text(json.dumps(summary), "utf-8")
    assert set(load_usage(store, damaged).answered) == {"tree:vpn"}  # read again, not trusted
