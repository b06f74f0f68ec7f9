"""Learning from use: what answered similar queries before is lifted, within a bound."""

from __future__ import annotations

import json
from pathlib import Path

from kbengine.compiler import compile_kb
from kbengine.search import search
from kbengine.search.usage import LIFT_MAX, Usage, answered_queries, load_usage, query_words

FILES = {
    "articles/vpn-home.md": "# VPN from home\n\nConnect the VPN client from home; it drops on wifi.\n",
    "articles/vpn-office.md": "# VPN in the office\n\nThe VPN client is not needed in the office.\n",
}


def write_record(folder: Path, name: str, events: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), "utf-8")


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


def test_solved_walks_and_opened_articles_are_read_from_the_records(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    write_record(folder, "s1", [
        {"event": "start", "format": 1, "session": "s1", "tree": "vpn", "query": "vpn drops"},
        {"event": "answer", "state": {"tree": "vpn", "outcome": "solved"}}])
    write_record(folder, "s2", [
        {"event": "start", "format": 1, "session": "s2", "tree": "vpn", "query": "vpn slow"},
        {"event": "answer", "state": {"tree": "vpn", "outcome": "escalated"}}])
    write_record(folder, "s3", [
        {"event": "start", "format": 1, "session": "s3", "tree": "printer"},
        {"event": "open", "article": "toner", "query": "toner warning"}])
    assert sorted(answered_queries(folder)) == [("toner warning", "article:toner"), ("vpn drops", "tree:vpn")]
    cache = tmp_path / "usage.json"
    assert load_usage(folder, cache).answered == Usage.of(answered_queries(folder)).answered
    assert cache.is_file()  # the next search reads the summary, not every record
