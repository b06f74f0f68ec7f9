"""`kb report content` and the help site's feedback (kbengine/report/content.py, feedback.py):
article reuse and link rate worked out by hand, stale and unused articles of the bundled KB,
steps that lose walks, and a "not helpful" vote reaching the report."""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbengine.cli import cli
from kbengine.compiler import KnowledgeBase
from kbengine.model import Article, Config
from kbengine.report import Filters, WalkFigures
from kbengine.report.content import abandonment, article_use, stale_articles
from kbengine.report.feedback import (
    FeedbackError,
    append_feedback,
    feedback_file,
    feedback_from,
    read_feedback,
    tally,
)
from kbengine.report.settings import ContentLimits
from kbengine.services.report import content_report, read_records
from kbengine.walk.jsonl import JsonlStore
from tests.conftest import copy_bundled
from tests.test_report_recurring import record

MONDAY = datetime.fromisoformat("2024-05-06T09:00:00+02:00")


def walk(hours: int, outcome: str, articles: tuple[str, ...] = (), tree: str = "printer",
         node: str = "end") -> WalkFigures:
    return WalkFigures(tree, outcome, MONDAY + timedelta(hours=hours), None, None, tree, node,
                       articles=articles)


def test_article_use_counts_walks_solved_walks_link_rate_and_last_use() -> None:
    walks = [walk(0, "solved", ("a",)), walk(1, "escalated", ("a", "b")), walk(2, "solved"),
             walk(3, "abandoned", ("b",))]
    use = article_use(walks)
    # a: used in walks 1 and 2 (of 4), solved in 1 of them, last at 10:00
    assert use["a"] == {"walks": 2, "solved_walks": 1, "link_rate": 0.5,
                        "last_used": "2024-05-06T10:00:00+02:00"}
    assert use["b"] == {"walks": 2, "solved_walks": 0, "link_rate": 0.5,
                        "last_used": "2024-05-06T12:00:00+02:00"}
    assert list(use) == ["a", "b"]


def article(article_id: str, updated: str, owner: str = "", status: str = "published") -> Article:
    return Article(id=article_id, path=f"articles/{article_id}.md", title=article_id.title(), body="",
                   updated=updated, owner=owner, status=status)


def test_stale_articles_are_older_than_the_limit_or_undated_grouped_by_owner() -> None:
    articles = [article("fresh", "2024-04-01", "Desk"), article("old", "2023-01-31", "Desk"),
                article("older", "2022-06-01", "Network"), article("undated", ""),
                article("gone", "2020-01-01", status="archived")]
    stale = stale_articles(articles, ContentLimits(stale_after=timedelta(days=365)), date(2024, 5, 6))
    # the cut-off is 2023-05-07: "fresh" is newer, "gone" is archived
    assert stale == [
        {"owner": "(no owner)", "articles": [{"id": "undated", "title": "Undated",
                                             "path": "articles/undated.md", "updated": None,
                                             "age_days": None}]},
        {"owner": "Desk", "articles": [{"id": "old", "title": "Old", "path": "articles/old.md",
                                       "updated": "2023-01-31", "age_days": 461}]},
        {"owner": "Network", "articles": [{"id": "older", "title": "Older", "path": "articles/older.md",
                                          "updated": "2022-06-01", "age_days": 705}]},
    ]


def test_a_step_where_a_share_of_a_trees_walks_is_abandoned_is_named() -> None:
    walks = ([walk(h, "solved") for h in range(3)]
             + [walk(3 + h, "abandoned", node="power") for h in range(2)]
             + [walk(10 + h, "abandoned", tree="vpn", node="gateway") for h in range(3)])
    found = abandonment(walks, ContentLimits(abandonment=0.25, min_walks=5))
    # printer: 2 of 5 abandoned at power (40%); vpn: 3 of 3, but fewer than 5 walks
    assert found == [{"tree": "printer", "node_tree": "printer", "node": "power", "abandoned": 2, "walks": 5,
                      "share": 0.4}]


def test_feedback_is_validated_and_stores_nothing_personal(tmp_path: Path) -> None:
    now = datetime.fromisoformat("2024-05-06T09:41:27+02:00")
    vote = feedback_from({"kind": "article", "article": "unlock-account", "helpful": "no",
                          "comment": "x" * 900, "email": "jan@example.org"}, now)
    append_feedback(JsonlStore(tmp_path), vote)
    line = feedback_file(tmp_path).read_text("utf-8")
    assert json.loads(line) == {"at": "2024-05-06T09:41+02:00", "kind": "article",
                                "article": "unlock-account", "helpful": False, "comment": "x" * 500}
    assert "jan@example.org" not in line
    assert oct(feedback_file(tmp_path).stat().st_mode & 0o777) == "0o600"
    for form, problem in [({"kind": "rating"}, "kind must be one of"),
                          ({"kind": "article", "helpful": "yes"}, "needs the article's id"),
                          ({"kind": "tree", "tree": "printer", "helpful": "maybe"}, "yes or no"),
                          ({"kind": "search", "query": "  "}, "needs its query"),
                          ({"kind": "article", "article": "a" * 300, "helpful": "yes"}, "longer than 200")]:
        with pytest.raises(FeedbackError, match=problem):
            feedback_from(form, now)


def test_feedback_is_tallied_per_article_per_tree_end_and_per_search(tmp_path: Path) -> None:
    now = datetime.fromisoformat("2024-05-06T09:00:00+02:00")
    for form in [{"kind": "article", "article": "a", "helpful": "yes"},
                 {"kind": "article", "article": "a", "helpful": "no", "comment": "Step 3 is wrong"},
                 {"kind": "tree", "tree": "printer", "node": "fixed", "helpful": "yes"},
                 {"kind": "search", "query": "Toner  empty"}, {"kind": "search", "query": "toner empty"}]:
        append_feedback(JsonlStore(tmp_path), feedback_from(form, now))
    feedback_file(tmp_path).open("a").write("{not json\n")
    damaged: list[str] = []
    votes = tally(read_feedback(JsonlStore(tmp_path), damaged.append))
    assert votes["articles"]["a"].as_dict() == {"helpful": 1, "not_helpful": 1,
                                                "comments": ["Step 3 is wrong"]}
    assert votes["ends"]["printer#fixed"].as_dict() == {"helpful": 1, "not_helpful": 0, "comments": []}
    assert votes["searches"] == [{"query": "Toner empty", "count": 2, "last": "2024-05-06T09:00+02:00"}]
    assert len(damaged) == 1 and "line 6 is not a feedback entry" in damaged[0]
    assert tally(read_feedback(JsonlStore(tmp_path)), since=now + timedelta(minutes=1))["articles"] == {}


@pytest.fixture
def bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bundled KB with its records in sessions/, stale after 90 days, and two walks in
    cannot-sign-in: one solved through the keyboard step (caps-lock-keyboard-layout), one abandoned."""
    root = copy_bundled(tmp_path / "kb")
    with (root / "kb.yaml").open("a") as config:
        config.write("sessions: sessions\nreport:\n  content: {stale_after: 90d}\n")
    monkeypatch.chdir(root)
    monkeypatch.delenv("KB_SESSIONS", raising=False)
    folder = root / "sessions"
    for session, outcome, node in [("w1", "solved", "keyboard"), ("w2", "abandoned", "start")]:
        record(folder, session, MONDAY, "cannot-sign-in", outcome, node)
    return root


def test_the_content_report_names_used_unused_and_stale_articles_of_the_bundled_kb(
        bundled: Path, bundled_kb: KnowledgeBase) -> None:
    kb = bundled_kb
    config = Config(report={"content": {"stale_after": "90d"}})
    records = read_records(JsonlStore(bundled / "sessions"), Filters(), config, kb)
    report = content_report(kb, records, None, None, today=date(2026, 11, 30))
    used = {row["id"]: row for row in report["articles"] if row["walks"]}
    assert used == {"caps-lock-keyboard-layout": {
        "id": "caps-lock-keyboard-layout", "title": kb.articles["caps-lock-keyboard-layout"].title,
        "owner": kb.articles["caps-lock-keyboard-layout"].owner, "archived": False, "walks": 1,
        "solved_walks": 1, "link_rate": 0.5, "last_used": "2024-05-06T09:00:00+02:00", "feedback": None}}
    assert report["link_rate"] == 0.5
    never = {row["id"] for row in report["never_used"]}
    assert "unlock-account" in never and "caps-lock-keyboard-layout" not in never
    assert len(never) == len([a for a in kb.articles.values() if a.status != "archived"]) - 1
    cutoff = date(2026, 9, 1)  # 90 days before 30 November 2026
    stale = {row["id"] for group in report["stale"] for row in group["articles"]}
    assert stale == {a.id for a in kb.articles.values()
                     if a.status != "archived" and (not a.updated or date.fromisoformat(a.updated) < cutoff)}
    assert stale and len(stale) < len(kb.articles)


def test_a_not_helpful_vote_on_the_site_shows_in_kb_report_content(bundled: Path) -> None:
    append_feedback(JsonlStore(bundled / "sessions"), feedback_from({
        "kind": "article", "article": "unlock-account", "helpful": "no", "comment": "The link is broken"}))
    runner = CliRunner()
    data = json.loads(runner.invoke(cli, ["report", "content", "--json"]).stdout)
    row = next(row for row in data["articles"] if row["id"] == "unlock-account")
    assert row["feedback"] == {"helpful": 0, "not_helpful": 1, "comments": ["The link is broken"]}
    text = runner.invoke(cli, ["report", "content"]).stdout
    assert re.search(r"unlock-account\s+0\s+1\s+The link is broken", text)
    assert "Stale articles by owner" in text and "Never used in a walk" in text
    assert os.environ.get("KB_SESSIONS") is None
