"""`kb server` content: search, articles and trees over HTTP, scoped by sign-in, and its errors."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kbengine.server.app import create_app

PUBLIC = """
    ---
    title: Printer status lights
    summary: What each light on the printer means.
    ---
    Green is fine. See [[toner-codes]] and [the queue](clear-queue.md).
    """
INTERNAL = """
    ---
    title: Printer toner codes
    audience: internal
    ---
    Toner codes for second line.
    """
DRAFT = """
    ---
    title: Printer queue draft
    status: draft
    ---
    Not ready.
    """
TREE = """
    title: Printer does not print
    start: power
    nodes:
      power:
        ask: Is the printer on?
        article: status-lights
        answers:
          "Yes": fixed
          "No": service-menu
      fixed:
        solved: It printed.
      service-menu:
        audience: internal
        do: Open the service menu with the second-line code.
        next: fixed
    """
SECRET_TREE = """
    title: Reset the printer spooler
    audience: internal
    start: reset
    nodes:
      reset:
        solved: Reset.
    """


@pytest.fixture
def kb_root(write_kb: Any) -> Path:
    return write_kb({"articles/printing/status-lights.md": PUBLIC,
                     "articles/printing/toner-codes.md": INTERNAL, "articles/printing/clear-queue.md": DRAFT,
                     "trees/printer.yaml": TREE,
                     "trees/print-server.yaml": SECRET_TREE})


@pytest.fixture
def client(kb_root: Path, tmp_path: Path) -> TestClient:
    return TestClient(create_app(kb_root, f"sqlite:///{tmp_path / 'desk.db'}", reload_interval=0))


def token(client: TestClient, name: str = "ann", role: str = "agent") -> dict[str, str]:
    app: Any = client.app
    return {"Authorization": f"Bearer {app.state.users.add(name, role)}"}


def test_anonymous_search_finds_public_content_only(client: TestClient) -> None:
    hits = client.get("/api/v1/search", params={"q": "printer"}).json()["hits"]
    assert {hit["id"] for hit in hits} == {"status-lights", "printer"}


def test_an_agent_search_finds_internal_content_too_in_kb_search_json_shape(client: TestClient) -> None:
    found = client.get("/api/v1/search", params={"q": "printer"}, headers=token(client)).json()
    assert {hit["id"] for hit in found["hits"]} == {"status-lights", "toner-codes", "printer", "print-server"}
    assert set(found) == {"query", "total", "suggestion", "hits"}
    assert {"kind", "id", "title", "summary", "path", "lang", "score", "snippet"} <= set(found["hits"][0])


def test_an_internal_article_is_404_for_anonymous_and_served_to_an_agent(client: TestClient) -> None:
    anonymous = client.get("/api/v1/articles/toner-codes")
    assert anonymous.status_code == 404
    assert anonymous.json()["error"]["message"] == "there is no article 'toner-codes'"
    agent = client.get("/api/v1/articles/toner-codes", headers=token(client))
    assert agent.status_code == 200 and agent.json()["audience"] == "internal"


def test_drafts_are_served_to_nobody(client: TestClient) -> None:
    assert client.get("/api/v1/articles/clear-queue", headers=token(client, role="admin")).status_code == 404


def test_an_article_comes_as_markdown_and_html_with_links_the_caller_may_follow(client: TestClient) -> None:
    public = client.get("/api/v1/articles/status-lights").json()
    assert public["markdown"].startswith("Green is fine.")
    assert "<p>Green is fine." in public["html"]
    assert "/api/v1/articles/toner-codes" not in public["html"] and "clear-queue" not in public["html"]
    agent = client.get("/api/v1/articles/status-lights", headers=token(client)).json()
    assert 'href="/api/v1/articles/toner-codes"' in agent["html"]


def test_article_html_is_safe(write_kb: Any, tmp_path: Path) -> None:
    evil = "# Evil\n\n<script>alert(1)</script><a href='javascript:x'>y</a>\n"
    root = write_kb({"articles/x/evil.md": evil})
    client = TestClient(create_app(root, f"sqlite:///{tmp_path / 'desk.db'}"))
    html = client.get("/api/v1/articles/evil").json()["html"]
    assert "<script" not in html and "javascript:" not in html


def test_trees_lists_what_the_caller_may_walk(client: TestClient) -> None:
    assert [t["id"] for t in client.get("/api/v1/trees").json()["trees"]] == ["printer"]
    agent = client.get("/api/v1/trees", headers=token(client)).json()["trees"]
    assert [t["id"] for t in agent] == ["print-server", "printer"]


def test_a_tree_hides_internal_nodes_from_anonymous_callers(client: TestClient) -> None:
    tree = client.get("/api/v1/trees/printer").json()
    assert [node["id"] for node in tree["nodes"]] == ["power", "fixed"]
    assert tree["nodes"][0]["answers"] == [{"number": 1, "label": "Yes", "next": "fixed"},
                                           {"number": 2, "label": "No", "next": None}]
    assert tree["nodes"][0]["article"]["url"] == "/api/v1/articles/status-lights"
    agent = client.get("/api/v1/trees/printer", headers=token(client)).json()
    assert [node["id"] for node in agent["nodes"]] == ["power", "fixed", "service-menu"]


def test_an_internal_tree_is_404_for_anonymous(client: TestClient) -> None:
    response = client.get("/api/v1/trees/print-server")
    assert response.status_code == 404 and response.json()["error"]["trees"] == ["printer"]


def test_a_bad_token_is_401_even_on_public_content(client: TestClient) -> None:
    for header in ("Bearer kb_wrong", "Basic abc", "Bearer "):
        response = client.get("/api/v1/trees", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_revoked_token_stops_working_at_once(client: TestClient) -> None:
    headers = token(client, "bob")
    assert client.get("/api/v1/trees", headers=headers).status_code == 200
    app: Any = client.app
    app.state.users.revoke("bob")
    assert client.get("/api/v1/trees", headers=headers).status_code == 401


def test_a_malformed_query_is_a_json_422_not_a_500(client: TestClient) -> None:
    for params in ({"q": "printer", "kind": "video"}, {"q": ""}, {"q": "x", "limit": "many"},
                   {"q": "x" * 600}, {"q": "'; DROP TABLE kb_users; --"}):
        response = client.get("/api/v1/search", params=params)
        assert response.status_code in (200, 422), params
        assert response.headers["content-type"] == "application/json"
    wrong_kind = client.get("/api/v1/search", params={"q": "printer", "kind": "video"}).json()
    assert wrong_kind["error"]["allowed"] == ["article", "tree"]


def test_an_unknown_address_and_a_wrong_method_are_json_errors(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = client.delete("/api/v1/trees")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"


def test_a_huge_body_is_413_before_it_is_read(kb_root: Path, tmp_path: Path) -> None:
    client = TestClient(create_app(kb_root, f"sqlite:///{tmp_path / 'desk.db'}", max_body=2048))
    response = client.post("/api/v1/walks", content=b"x" * 5000, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"

    def chunks() -> Any:  # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b"y" * 1000

    assert client.post("/api/v1/walks", content=chunks()).status_code == 413


def test_no_cors_headers_unless_configured(kb_root: Path, tmp_path: Path) -> None:
    origin = {"Origin": "https://desk.example.org"}
    plain = TestClient(create_app(kb_root, f"sqlite:///{tmp_path / 'a.db'}"))
    assert "access-control-allow-origin" not in plain.get("/api/v1/trees", headers=origin).headers
    allowed = TestClient(create_app(kb_root, f"sqlite:///{tmp_path / 'b.db'}",
                                    cors_origins=["https://desk.example.org"]))
    response = allowed.get("/api/v1/trees", headers=origin)
    assert response.headers["access-control-allow-origin"] == "https://desk.example.org"


def test_openapi_and_the_docs_page_are_served(client: TestClient) -> None:
    described = client.get("/api/v1/openapi.json").json()
    paths = {"/api/v1/search", "/api/v1/articles/{article_id}", "/api/v1/trees/{tree_id}"}
    assert paths <= set(described["paths"])
    assert "swagger" in client.get("/api/v1/docs").text.lower()


def test_health_says_ok_with_the_kb_size(client: TestClient) -> None:
    assert client.get("/health").json() | {"version": ""} == {"status": "ok", "version": "", "articles": 3,
                                                               "trees": 2, "reloads": 0}


def test_content_is_compiled_again_when_a_file_changes(client: TestClient, kb_root: Path) -> None:
    assert client.get("/api/v1/articles/new-one").status_code == 404
    time.sleep(0.01)
    (kb_root / "articles/printing/new-one.md").write_text("# A new article\n\nFresh.\n", "utf-8")
    assert client.get("/api/v1/articles/new-one").json()["title"] == "A new article"
    assert client.get("/health").json()["reloads"] == 1


def test_each_request_is_logged_as_one_json_line(client: TestClient,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    import json

    with caplog.at_level("INFO", logger="kbengine.server.access"):
        client.get("/api/v1/trees", params={"q": "private words"}, headers=token(client, "carol"))
    line = json.loads(caplog.records[-1].getMessage())
    seen = (line["method"], line["path"], line["status"], line["user"])
    assert seen == ("GET", "/api/v1/trees", 200, "carol")
    assert "private" not in caplog.records[-1].getMessage()
