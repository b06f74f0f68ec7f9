"""The report on `kb server`: the lead's dashboard at /agent/dashboard, the report with recurring
problems at /api/v1/report, and the help site's feedback at /api/v1/feedback (stored without
anything personal, rate-limited, shown in the content report). SQLite and a real PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from click.testing import CliRunner
from fastapi.testclient import TestClient

from kbengine.cli import cli
from kbengine.server.feedback import RateLimit
from tests.test_server_walks import ARTICLE, TREE, client, database, sign_in, start, step

__all__ = ["client", "database"]  # the server suite's fixtures: SQLite and a real PostgreSQL


@pytest.fixture
def kb_root(write_kb: Any) -> Path:
    return write_kb({"trees/printer.yaml": TREE, "articles/printing/status-lights.md": ARTICLE},
                    config="title: Help\nbase_url: https://help.example.org/\n")


def escalate(client: TestClient, headers: dict[str, str], asset: str) -> str:
    walk_id = str(start(client, headers)["id"])
    step(client, headers, walk_id, "answer", answer="No")
    arrived = step(client, headers, walk_id, "input", name="asset_tag", value=asset).json()
    assert arrived["outcome"] == "escalated"
    return walk_id


def test_the_dashboard_is_for_leads_and_shows_recurring_problems_first(client: TestClient) -> None:
    ann = sign_in(client)
    walks = [escalate(client, ann, "PR40404") for _ in range(3)]
    assert client.get("/agent/dashboard").status_code == 401
    assert client.get("/agent/dashboard", headers=ann).status_code == 403
    response = client.get("/agent/dashboard", headers=sign_in(client, "lee", "lead"))
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    page = response.text
    assert re.findall(r"<h2[^>]*>([^<]+)</h2>", page)[0] == "Recurring problems"
    assert "asset_tag: PR40404" in page and all(walk in page for walk in walks)
    assert "<script" not in page and "Articles used in walks" in page
    assert client.get("/agent/dashboard", params={"since": "soon"},
                      headers=sign_in(client, "al", "admin")).json()["error"]["status"] == 422


def test_the_api_report_lists_recurring_problems(client: TestClient) -> None:
    ann = sign_in(client)
    for _ in range(3):
        escalate(client, ann, "PR40404")
    report = client.get("/api/v1/report", headers=sign_in(client, "lee", "lead")).json()
    assert [item["what"] for item in report["recurring"]][:1] == ["asset_tag: PR40404"]


def test_a_not_helpful_click_on_the_site_reaches_the_content_report(client: TestClient, kb_root: Path,
                                                                     database: str) -> None:
    response = client.post("/api/v1/feedback", data={
        "kind": "article", "article": "status-lights", "helpful": "no", "comment": "Which light is amber?",
        "return": "https://help.example.org/en/printing/status-lights/"},
        headers={"X-Forwarded-For": "203.0.113.9", "User-Agent": "Firefox"})
    assert response.status_code == 201 and "Thank you" in response.text
    assert 'href="https://help.example.org/en/printing/status-lights/"' in response.text
    result = CliRunner().invoke(cli, ["report", "content", "--root", str(kb_root), "--database", database,
                                      "--json"])
    article = next(row for row in json.loads(result.stdout)["articles"] if row["id"] == "status-lights")
    assert article["feedback"] == {"helpful": 0, "not_helpful": 1, "comments": ["Which light is amber?"]}
    page = client.get("/agent/dashboard", headers=sign_in(client, "lee", "lead")).text
    assert "Which light is amber?" in page
    app: Any = client.app
    with app.state.walks.store.engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text("SELECT * FROM kb_feedback")).mappings().all()
    stored = json.dumps([dict(row) for row in rows], default=str)
    assert len(rows) == 1
    assert "203.0.113" not in stored and "Firefox" not in stored and "testclient" not in stored


def test_feedback_links_back_only_to_the_help_site(client: TestClient) -> None:
    form = {"kind": "tree", "tree": "printer", "node": "fixed", "helpful": "yes",
            "return": "https://evil.example.com/help.example.org/"}
    assert "href" not in client.post("/api/v1/feedback", data=form).text


def test_bad_feedback_is_a_json_error(client: TestClient) -> None:
    response = client.post("/api/v1/feedback", json={"kind": "article", "helpful": "yes"})
    assert response.status_code == 422 and "needs the article's id" in response.json()["error"]["message"]
    response = client.post("/api/v1/feedback", content=b"{not json",
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"
    response = client.post("/api/v1/feedback", json={"kind": "search", "query": "toner empty"})
    assert response.status_code == 201 and response.json() == {
        "stored": {"at": response.json()["stored"]["at"], "kind": "search", "query": "toner empty"}}


def test_feedback_is_rate_limited_per_address(client: TestClient) -> None:
    form = {"kind": "search", "query": "toner"}
    statuses = [client.post("/api/v1/feedback", data=form).status_code for _ in range(11)]
    assert statuses == [201] * 10 + [429]


def test_the_rate_limit_forgets_an_address_after_its_minute() -> None:
    limit = RateLimit(limit=2, window=60)
    assert [limit.allow("a", now) for now in (0, 1, 2)] == [True, True, False]
    assert limit.allow("b", 2)  # another address has its own allowance
    assert limit.allow("a", 61) and limit.allow("a", 61.5) and not limit.allow("a", 61.6)
    limit.allow("c", 200)
    assert set(limit._recent) == {"c"}  # nothing older than a minute is kept
