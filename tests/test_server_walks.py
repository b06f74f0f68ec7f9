"""`kb server` walks, sessions and the report over HTTP: each step recorded in the store, every
object checked against the caller, every mistake a JSON error with the right status."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kbengine.server.app import create_app

TREE = """
    title: Printer does not print
    start: power
    nodes:
      power:
        ask: Is the printer on?
        article: status-lights
        answers:
          "Yes": queue
          "No": hardware
      queue:
        do: Cancel every job in the queue.
        next: printed
      printed:
        ask: Did the test page print?
        answers: {"Yes": fixed, "No": hardware}
      fixed:
        solved: It printed.
      hardware:
        escalate: {team: Workplace hardware, priority: P3}
        collect:
          - {name: asset_tag, prompt: Asset tag, pattern: '^[A-Z]{2}\\d{5}$'}
    """
ARTICLE = """
    ---
    title: Printer status lights
    summary: What each light means.
    ---
    Green is fine.
    """


@pytest.fixture
def kb_root(write_kb: Any) -> Path:
    return write_kb({"trees/printer.yaml": TREE, "articles/printing/status-lights.md": ARTICLE})


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same suite on SQLite and on a real PostgreSQL (tests/postgres.py; skipped when there is
    none, a failure with KB_REQUIRE_POSTGRES=1)."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'desk.db'}"


@pytest.fixture
def client(kb_root: Path, database: str) -> TestClient:
    return TestClient(create_app(kb_root, database, reload_interval=0))


def sign_in(client: TestClient, name: str = "ann", role: str = "agent") -> dict[str, str]:
    app: Any = client.app
    return {"Authorization": f"Bearer {app.state.users.add(name, role)}"}


@pytest.fixture
def ann(client: TestClient) -> dict[str, str]:
    return sign_in(client)


def start(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/walks", json={"tree": "printer", **body}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def step(client: TestClient, headers: dict[str, str], walk_id: str, action: str, **body: Any) -> Any:
    return client.post(f"/api/v1/walks/{walk_id}/{action}", json=body, headers=headers)


def test_a_new_walk_describes_its_first_step(client: TestClient, ann: dict[str, str]) -> None:
    state = start(client, ann, ticket="INC1")
    assert (state["kind"], state["prompt"], state["outcome"]) == (
        "ask",
        "Is the printer on?",
        "in_progress",
    )
    assert state["answers"] == [{"number": 1, "label": "Yes"}, {"number": 2, "label": "No"}]
    assert state["article"] == {
        "id": "status-lights",
        "title": "Printer status lights",
        "url": "/api/v1/articles/status-lights",
        "summary": "What each light means.",
    }
    assert state["id"] == state["session"] and "record" not in state
    assert client.get(f"/api/v1/walks/{state['id']}", headers=ann).json()["node"] == "power"


def test_a_walk_to_a_solution_answers_by_label_and_by_number(
    client: TestClient, ann: dict[str, str]
) -> None:
    walk_id = start(client, ann)["id"]
    assert step(client, ann, walk_id, "answer", answer="yes").json()["kind"] == "do"
    assert step(client, ann, walk_id, "answer", answer="done").json()["node"] == "printed"
    solved = step(client, ann, walk_id, "answer", answer=1).json()
    assert solved["outcome"] == "solved" and solved["handover"]["outcome"] == "solved"


def test_a_walk_to_an_escalation_collects_inputs_and_hands_over(
    client: TestClient, ann: dict[str, str]
) -> None:
    walk_id = start(client, ann, ticket="INC42")["id"]
    waiting = step(client, ann, walk_id, "answer", answer="No").json()
    assert waiting["waiting_for"]["kind"] == "input" and waiting["collect"][0]["name"] == "asset_tag"
    wrong = step(client, ann, walk_id, "input", name="asset_tag", value="nope")
    assert wrong.status_code == 422 and "expected form" in wrong.json()["error"]["message"]
    assert step(client, ann, walk_id, "note", text="Caller on the 3rd floor").status_code == 200
    done = step(client, ann, walk_id, "input", name="asset_tag", value="NL12345").json()
    assert done["outcome"] == "escalated"
    assert done["handover"]["escalation"]["team"] == "Workplace hardware"
    markdown = client.get(f"/api/v1/walks/{walk_id}/handover", params={"format": "md"}, headers=ann)
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "INC42" in markdown.text and "NL12345" in markdown.text and "3rd floor" in markdown.text
    data = client.get(f"/api/v1/walks/{walk_id}/handover", headers=ann).json()
    assert data["inputs"] == {"asset_tag": "NL12345"} and data["ticket"] == "INC42"


def test_a_wrong_answer_is_422_with_the_allowed_answers(client: TestClient, ann: dict[str, str]) -> None:
    walk_id = start(client, ann)["id"]
    for answer in ("Maybe", 7, "'; DROP TABLE sessions; --"):
        response = step(client, ann, walk_id, "answer", answer=answer)
        assert response.status_code == 422
        assert response.json()["error"]["allowed"] == ["Yes", "No"]
    assert client.get(f"/api/v1/walks/{walk_id}", headers=ann).json()["path"] == []


def test_back_and_restart(client: TestClient, ann: dict[str, str]) -> None:
    walk_id = start(client, ann)["id"]
    step(client, ann, walk_id, "answer", answer="Yes")
    assert step(client, ann, walk_id, "back").json()["node"] == "power"
    assert step(client, ann, walk_id, "back").status_code == 422  # the first step: nowhere to go back to
    step(client, ann, walk_id, "answer", answer="No")
    assert step(client, ann, walk_id, "restart").json()["node"] == "power"


def test_an_ended_walk_takes_no_more_answers(client: TestClient, ann: dict[str, str]) -> None:
    walk_id = start(client, ann)["id"]
    for answer in ("Yes", "done", "Yes"):
        step(client, ann, walk_id, "answer", answer=answer)
    late = step(client, ann, walk_id, "answer", answer="Yes")
    assert late.status_code == 409 and late.json()["error"]["code"] == "conflict"


def test_unknown_trees_and_walks_are_404(client: TestClient, ann: dict[str, str]) -> None:
    missing_tree = client.post("/api/v1/walks", json={"tree": "nope"}, headers=ann)
    assert missing_tree.status_code == 404 and missing_tree.json()["error"]["trees"] == ["printer"]
    for walk_id in ("20990101-000000-abcd", "../../etc/passwd", "x" * 80):
        assert client.get(f"/api/v1/walks/{walk_id}", headers=ann).status_code == 404
        assert step(client, ann, walk_id, "answer", answer="Yes").status_code == 404


def test_malformed_bodies_are_400_or_422(client: TestClient, ann: dict[str, str]) -> None:
    headers = {**ann, "Content-Type": "application/json"}
    broken = client.post("/api/v1/walks", content=b'{"tree": ', headers=headers)
    assert (
        broken.status_code == 400
        and broken.json()["error"]["message"] == "the request body is not valid JSON"
    )
    missing = client.post("/api/v1/walks", json={"ticket": "INC1"}, headers=ann)
    assert missing.status_code == 422 and missing.json()["error"]["problems"][0]["where"] == "body.tree"
    walk_id = start(client, ann)["id"]
    assert step(client, ann, walk_id, "answer", answer=["Yes"]).status_code == 422
    assert step(client, ann, walk_id, "note", text="").status_code == 422


def test_walks_need_a_token_and_belong_to_their_agent(client: TestClient, ann: dict[str, str]) -> None:
    assert client.post("/api/v1/walks", json={"tree": "printer"}).status_code == 401
    walk_id = start(client, ann)["id"]
    bob = sign_in(client, "bob")
    assert client.get(f"/api/v1/walks/{walk_id}", headers=bob).status_code == 404
    assert step(client, bob, walk_id, "answer", answer="Yes").status_code == 404
    assert client.get("/api/v1/sessions", headers=bob).json()["sessions"] == []
    lead = sign_in(client, "lee", "lead")
    assert [s["session"] for s in client.get("/api/v1/sessions", headers=lead).json()["sessions"]] == [
        walk_id
    ]


def test_an_article_read_during_a_walk_is_recorded_with_the_words_searched(
    client: TestClient, ann: dict[str, str]
) -> None:
    from kbengine.walk.events import ArticleOpened

    walk_id = start(client, ann, query="printer blinks orange")["id"]
    read = client.post(f"/api/v1/walks/{walk_id}/articles/status-lights", headers=ann)
    assert read.status_code == 200 and read.json()["title"] == "Printer status lights"  # as GET /articles/ID
    client.post(f"/api/v1/walks/{walk_id}/articles/status-lights", headers=ann)  # again at once: once
    app: Any = client.app
    session = app.state.store.read(walk_id)
    assert session.start.query == "printer blinks orange"
    assert [e.article for e in session.events if isinstance(e, ArticleOpened)] == ["status-lights"]
    assert client.post(f"/api/v1/walks/{walk_id}/articles/nope", headers=ann).status_code == 404
    assert client.post(f"/api/v1/walks/{walk_id}/articles/status-lights").status_code == 401
    bob = sign_in(client, "bob")
    assert client.post(f"/api/v1/walks/{walk_id}/articles/status-lights", headers=bob).status_code == 404
    too_long = client.post("/api/v1/walks", json={"tree": "printer", "query": "x" * 501}, headers=ann)
    assert too_long.status_code == 422


def test_the_servers_search_learns_from_its_own_solved_walks(write_kb: Any, database: str) -> None:
    root = write_kb({"trees/printer.yaml": TREE,
                     "articles/vpn-home.md": "# VPN from home\n\nConnect the VPN client from home.\n",
                     "articles/vpn-office.md": "# VPN in the office\n\nThe VPN client is not needed.\n"})
    client = TestClient(create_app(root, database, reload_interval=0))
    ann = sign_in(client)

    def first(query: str) -> str:
        found = client.get("/api/v1/search", params={"q": query, "kind": "article"}, headers=ann)
        return str(found.json()["hits"][0]["id"])

    assert first("vpn client") == "vpn-office"
    for _ in range(3):
        walk_id = start(client, ann, query="vpn client")["id"]
        client.post(f"/api/v1/walks/{walk_id}/articles/vpn-home", headers=ann)
        for answer in ("Yes", "done", "Yes"):
            state = step(client, ann, walk_id, "answer", answer=answer).json()
        assert state["outcome"] == "solved"
    assert first("vpn client") == "vpn-home"
    assert first("vpn in the office") == "vpn-office"


def test_sessions_are_listed_with_filters_and_shown_with_their_hand_over(
    client: TestClient, ann: dict[str, str]
) -> None:
    solved = start(client, ann)["id"]
    for answer in ("Yes", "done", "Yes"):
        step(client, ann, solved, "answer", answer=answer)
    open_walk = start(client, ann)["id"]
    listed = client.get("/api/v1/sessions", params={"outcome": "solved"}, headers=ann).json()["sessions"]
    assert [s["session"] for s in listed] == [solved] and listed[0]["agent"] == "ann"
    assert len(client.get("/api/v1/sessions", params={"since": "1d"}, headers=ann).json()["sessions"]) == 2
    assert client.get("/api/v1/sessions", params={"outcome": "lost"}, headers=ann).status_code == 422
    assert client.get("/api/v1/sessions", params={"since": "yesterday"}, headers=ann).status_code == 422
    shown = client.get(f"/api/v1/sessions/{open_walk}", headers=ann).json()
    assert shown["outcome"] == "in_progress" and shown["handover"]["session"] == open_walk


def test_the_report_is_for_leads(client: TestClient, ann: dict[str, str]) -> None:
    walk_id = start(client, ann)["id"]
    step(client, ann, walk_id, "answer", answer="No")
    step(client, ann, walk_id, "input", name="asset_tag", value="NL12345")
    assert client.get("/api/v1/report", headers=ann).status_code == 403
    report = client.get(
        "/api/v1/report", params={"by": "day"}, headers=sign_in(client, "lee", "lead")
    ).json()
    assert report["sessions"]["escalated"] == 1
    assert report["escalations"]["by_team"][0]["team"] == "Workplace hardware"
    assert (
        client.get(
            "/api/v1/report", params={"by": "year"}, headers=sign_in(client, "al", "admin")
        ).status_code
        == 422
    )


def test_a_walk_keeps_its_tree_version_when_the_kb_changes(
    client: TestClient, ann: dict[str, str], kb_root: Path
) -> None:
    walk_id = start(client, ann)["id"]
    tree_file = kb_root / "trees/printer.yaml"
    tree_file.write_text(tree_file.read_text("utf-8").replace('"Yes": queue', '"On": queue'), "utf-8")
    assert (
        client.get("/api/v1/trees/printer", headers=ann).json()["nodes"][0]["answers"][0]["label"] == "On"
    )
    assert step(client, ann, walk_id, "answer", answer="Yes").json()["node"] == "queue"
    assert start(client, ann)["answers"][0]["label"] == "On"  # a new walk takes the new version


def test_a_walk_continues_on_another_server_over_the_same_database(kb_root: Path, database: str) -> None:
    first = TestClient(create_app(kb_root, database))
    ann = sign_in(first)
    walk_id = start(first, ann)["id"]
    step(first, ann, walk_id, "answer", answer="Yes")
    second = TestClient(create_app(kb_root, database))  # another worker, or the same after a restart
    assert step(second, ann, walk_id, "answer", answer="done").json()["node"] == "printed"
    events = [s["steps"] for s in second.get("/api/v1/sessions", headers=ann).json()["sessions"]]
    assert events == [2]


def test_an_escalation_over_http_is_in_kb_report_next_to_a_terminal_walk(
    client: TestClient, ann: dict[str, str], kb_root: Path, database: str
) -> None:
    walk_id = start(client, ann)["id"]
    step(client, ann, walk_id, "answer", answer="No")
    step(client, ann, walk_id, "input", name="asset_tag", value="NL12345")
    terminal = subprocess.run(
        [
            "kb",
            "walk",
            "printer",
            "--root",
            str(kb_root),
            "--database",
            database,
            "--answer",
            "Yes",
            "--answer",
            "Yes",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(terminal.stdout)["outcome"] == "solved", terminal.stderr
    report = subprocess.run(
        ["kb", "report", "--root", str(kb_root), "--database", database, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    figures = json.loads(report.stdout)
    assert (figures["sessions"]["escalated"], figures["sessions"]["solved"]) == (1, 1), report.stderr
