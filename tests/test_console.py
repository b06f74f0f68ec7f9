"""The agent console at /agent/ driven in-process with plain form posts (as a browser without JavaScript
does): sign-in, search, walks to a solution and an escalation, the hand-over, the ticket, recent calls,
continuing a help-site path, and the same states as the JSON API."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kbengine.server.app import create_app
from kbengine.server.console.sitepath import SitePath, SitePathError, parse_site_path
from tests.test_server_walks import TREE  # the printer tree the API's tests walk

DUTCH_TREE = """
    title: Printer drukt niet af
    lang: nl
    start: aan
    nodes:
      aan:
        ask: Staat de printer aan?
        answers: {"Ja": klaar, "Nee": hardware}
      klaar:
        solved: Hij drukt weer af.
      hardware:
        escalate: {team: Werkplek, priority: P3}
        collect:
          - {name: asset_tag, prompt: Inventarisnummer, pattern: '^[A-Z]{2}\\d{5}$'}
    """
PUBLIC = """
    ---
    title: Printer status lights
    summary: What each light means.
    ---
    Green is fine. See [[unlock-printer]].
    """
INTERNAL = """
    ---
    title: Unlock a printer in the print server
    audience: internal
    ---
    Only for the desk.
    """


@pytest.fixture
def client(write_kb: Any, tmp_path: Path) -> TestClient:
    root = write_kb({"trees/printer.yaml": TREE, "trees/printer-nl.yaml": DUTCH_TREE,
                     "articles/printing/status-lights.md": PUBLIC,
                     "articles/printing/unlock-printer.md": INTERNAL})
    return TestClient(create_app(root, f"sqlite:///{tmp_path / 'desk.db'}", reload_interval=0))


def token(client: TestClient, name: str = "ann", role: str = "agent") -> str:
    app: Any = client.app
    return str(app.state.users.add(name, role))


def signed_in(client: TestClient, name: str = "ann") -> str:
    """Sign in through the form; the form key of the pages that follow."""
    client.post("/agent/sign-in", data={"token": token(client, name)})
    return form_key(client.get("/agent/").text)


def form_key(page: str) -> str:
    found = re.search(r'name="form_key" value="([^"]+)"', page)
    assert found, "the page has a form with its key"
    return found.group(1)


def step_title(page: str) -> str:
    found = re.search(r'<h1 id="step-title"[^>]*>(.*?)</h1>', page, re.DOTALL)
    assert found, page
    return unescape(found.group(1)).strip()


def start(client: TestClient, key: str, tree: str = "printer", **fields: str) -> str:
    response = client.post("/agent/walks", data={"form_key": key, "tree": tree, **fields},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def post(client: TestClient, url: str, key: str, **fields: str) -> Any:
    return client.post(url, data={"form_key": key, **fields})


# Signing in

def test_without_signing_in_the_console_asks_for_a_token(client: TestClient) -> None:
    response = client.get("/agent/walks/x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/agent/sign-in?next=/agent/walks/x"
    assert 'type="password"' in client.get("/agent/sign-in").text


def test_an_unknown_token_is_refused_with_a_page_that_says_what_to_do(client: TestClient) -> None:
    response = client.post("/agent/sign-in", data={"token": "kb_nothing"})
    assert response.status_code == 401 and "kb users add" in response.text
    assert "kb_console" not in response.headers.get("set-cookie", "")


def test_signing_in_keeps_the_token_in_a_strict_http_only_cookie(client: TestClient) -> None:
    response = client.post("/agent/sign-in", data={"token": token(client), "next": "/agent/"},
                           follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert response.status_code == 303 and response.headers["location"] == "/agent/"
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/agent" in cookie


def test_sign_in_never_redirects_to_another_site(client: TestClient) -> None:
    response = client.post("/agent/sign-in", data={"token": token(client), "next": "//evil.example/"},
                           follow_redirects=False)
    assert response.headers["location"] == "/agent/"


def test_a_revoked_token_signs_the_agent_out(client: TestClient) -> None:
    signed_in(client)
    app: Any = client.app
    app.state.users.revoke("ann")
    assert client.get("/agent/", follow_redirects=False).status_code == 303


def test_a_form_without_the_agents_key_or_from_another_site_is_refused(client: TestClient) -> None:
    key = signed_in(client)
    walk = start(client, key)
    assert post(client, f"{walk}/answer", "forged", answer="1").status_code == 403
    other_site = client.post(f"{walk}/answer", data={"form_key": key, "answer": "1"},
                             headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert other_site.status_code == 403
    assert step_title(client.get(walk).text) == "Is the printer on?"  # nothing was answered


# Searching and starting

def test_search_finds_public_and_internal_content_and_starts_a_tree(client: TestClient) -> None:
    key = signed_in(client)
    page = client.get("/agent/", params={"q": "printer"}).text
    assert "Printer status lights" in page and "Unlock a printer in the print server" in page
    assert page.count("Agents only") == 1  # the internal article is marked as such
    assert 'name="tree" value="printer"' in page  # a tree result starts a walk
    partial = client.get("/agent/", params={"q": "printer", "partial": "1"}).text
    assert "<html" not in partial and "Printer status lights" in partial
    assert step_title(client.get(start(client, key)).text) == "Is the printer on?"


def test_a_walk_starts_from_the_callers_words_and_keeps_them_as_a_note(client: TestClient) -> None:
    key = signed_in(client)
    response = client.post("/agent/walks", data={"form_key": key, "symptom": "printer does not print"})
    assert step_title(response.text) == "Is the printer on?"
    assert "Caller: printer does not print" in response.text


def recorded(client: TestClient, walk: str) -> Any:
    """The session record of the walk at this console address, as the store keeps it."""
    app: Any = client.app
    return app.state.store.read(walk.rsplit("/", 1)[-1])


def test_a_walk_started_from_a_search_result_keeps_the_words_searched(client: TestClient) -> None:
    key = signed_in(client)
    page = client.get("/agent/", params={"q": "printer won't print"}).text
    assert 'name="query" value="printer won&#39;t print"' in page  # the result's start form carries them
    walk = start(client, key, query="printer won't print")
    assert recorded(client, walk).start.query == "printer won't print"  # search learns when it is solved
    words = client.post("/agent/walks", data={"form_key": key, "symptom": "printer does not print"},
                        follow_redirects=False).headers["location"]
    assert recorded(client, words).start.query == "printer does not print"


def test_an_article_opened_beside_a_walk_is_recorded_once(client: TestClient) -> None:
    from kbengine.walk.events import ArticleOpened

    key = signed_in(client)
    walk = start(client, key)
    client.get(walk)  # the step's own article is shown, not opened by the agent
    page = client.get(walk, params={"q": "unlock", "article": "unlock-printer"}).text
    assert 'id="article-title" lang="en">Unlock a printer in the print server' in page
    assert f'href="{walk}?article=unlock-printer#article"' in page  # the search result opens beside it
    client.get(walk, params={"article": "unlock-printer"})  # a reload is not a second reading
    client.get(walk, params={"article": "no-such-article"})
    opened = [event.article for event in recorded(client, walk).events if isinstance(event, ArticleOpened)]
    assert opened == ["unlock-printer"]
    post(client, f"{walk}/answer", key, answer="1")
    client.get(walk, params={"article": "unlock-printer"})  # read again at a later step: counted again
    opened = [event for event in recorded(client, walk).events if isinstance(event, ArticleOpened)]
    assert [(event.article, event.node) for event in opened] == [("unlock-printer", "power"),
                                                                  ("unlock-printer", "queue")]


def test_words_no_tree_fits_are_answered_on_the_page(client: TestClient) -> None:
    key = signed_in(client)
    response = client.post("/agent/walks", data={"form_key": key, "symptom": "zzzz qqqq"})
    assert response.status_code == 422 and "No troubleshooting tree fits these words" in response.text


# Walking

def test_a_walk_to_a_solution_shows_the_breadcrumb_and_the_hand_over(client: TestClient) -> None:
    key = signed_in(client)
    walk = start(client, key, ticket="INC1")
    page = client.get(walk).text
    assert 'id="article-title" lang="en">Printer status lights' in page  # the step's article beside it
    assert f'href="{walk}?article=unlock-printer"' in page  # its wiki link opens beside the walk
    action = "Cancel every job in the queue."
    assert step_title(post(client, f"{walk}/answer", key, answer="1").text) == action
    page = post(client, f"{walk}/answer", key, answer="1").text
    assert "Is the printer on? — <b>Yes</b>" in page and f"{action} — <b>done</b>" in page
    page = post(client, f"{walk}/answer", key, answer="1").text
    handover = unescape(re.search(r'<textarea id="handover-text"[^>]*>(.*?)</textarea>', page, re.DOTALL)[1])
    assert handover.startswith("Printer does not print\n") and "Ticket: INC1" in handover
    assert "Outcome: Solved" in handover and "**" not in handover
    assert "- **Outcome:** Solved" in unescape(page)  # the Markdown beside it


def test_back_and_a_note_and_a_wrong_answer(client: TestClient) -> None:
    key = signed_in(client)
    walk = start(client, key)
    post(client, f"{walk}/answer", key, answer="1")
    assert step_title(post(client, f"{walk}/back", key).text) == "Is the printer on?"
    note = "caller is on the 3rd floor"
    assert note in post(client, f"{walk}/note", key, text=note).text
    wrong = post(client, f"{walk}/answer", key, answer="7")
    assert wrong.status_code == 422 and "not an answer" in unescape(wrong.text)


def test_an_escalation_refuses_an_input_in_words_then_hands_over(client: TestClient) -> None:
    key = signed_in(client)
    walk = start(client, key)
    page = post(client, f"{walk}/answer", key, answer="2").text
    assert "Expected: two letters and five digits, like AB12345" in page
    refused = post(client, f"{walk}/input", key, asset_tag="12345")
    assert refused.status_code == 422
    assert ("Asset tag: “12345” does not have the expected form. Expected: two letters"
            in unescape(refused.text))
    assert 'value="12345"' in refused.text  # what was typed stays in the field
    done = post(client, f"{walk}/input", key, asset_tag="NL12345").text
    assert "Escalated to Workplace hardware, priority P3" in unescape(done)
    assert "asset_tag: NL12345" in done


def test_the_ticket_can_be_given_after_the_end_and_goes_into_the_hand_over(client: TestClient) -> None:
    key = signed_in(client)
    walk = start(client, key)
    post(client, f"{walk}/answer", key, answer="2")
    post(client, f"{walk}/input", key, asset_tag="NL12345")
    page = post(client, f"{walk}/ticket", key, ticket="INC0099").text
    assert "Ticket: INC0099" in page
    api = {"Authorization": f"Bearer {token(client, 'lead', 'lead')}"}
    [summary] = client.get("/api/v1/sessions", headers=api).json()["sessions"]
    assert summary["ticket"] == "INC0099"


def test_a_dutch_tree_walks_in_dutch(client: TestClient) -> None:
    key = signed_in(client)
    page = client.get(start(client, key, "printer-nl")).text
    assert '<html lang="nl">' in page and "Vraag" in page and "Notitie voor de overdracht" in page
    page = post(client, f"{start(client, key, 'printer-nl')}/answer", key, answer="2").text
    assert "Verwacht: twee letters en vijf cijfers, zoals AB12345" in page


def test_my_recent_calls_lists_my_own_calls_to_continue(client: TestClient) -> None:
    key = signed_in(client)
    walk = start(client, key)
    other = TestClient(client.app)
    other_key = signed_in(other, "bob")
    start(other, other_key)
    page = client.get("/agent/").text
    recent = page.split('id="recent-title"')[1]
    assert recent.count("/agent/walks/") == 1 and f'href="{walk}"' in recent and "Unfinished" in recent
    assert other.get(walk).status_code == 404  # another agent's walk is not there for bob


def test_an_unknown_walk_is_a_page_not_json(client: TestClient) -> None:
    signed_in(client)
    response = client.get("/agent/walks/20240101-000000-0000")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "There is no page here." in client.get("/agent/nothing/here").text


# From the help site to the desk

@pytest.mark.parametrize(("pasted", "path"), [
    ("printer:1.1", SitePath("printer", (1, 1))),
    ("https://help.example.org/help/trees/printer/printed/?kb-path=printer:1.1", SitePath("printer", (1, 1))),
    ("https://help.example.org/help/trees/printer/#kb-path=printer:2", SitePath("printer", (2,))),
    ("  printer:  ", SitePath("printer", ())),
])
def test_a_help_site_path_is_read_from_a_link_or_a_reference(pasted: str, path: SitePath) -> None:
    assert parse_site_path(pasted) == path


@pytest.mark.parametrize("pasted", ["", "hello", "https://help.example.org/help/", "printer:1..2", "a:b"])
def test_text_without_a_path_says_what_to_paste(pasted: str) -> None:
    with pytest.raises(SitePathError, match=r"printer-not-printing:2\.1"):
        parse_site_path(pasted)


def test_a_pasted_site_path_continues_the_walk_with_the_readers_answers(client: TestClient) -> None:
    key = signed_in(client)
    response = client.post("/agent/continue", data={
        "form_key": key, "reference": "https://help.example.org/trees/printer/printed/?kb-path=printer:1.1"})
    assert step_title(response.text) == "Did the test page print?"
    assert "Is the printer on? — <b>Yes</b>" in response.text  # the reader's answers, in the breadcrumb
    assert "Continued from the help site (kb-path=printer:1.1)" in response.text


def test_a_site_path_that_no_longer_fits_stops_where_it_does(client: TestClient) -> None:
    key = signed_in(client)
    page = client.post("/agent/continue", data={"form_key": key, "reference": "printer:1.1.5"}).text
    assert step_title(page) == "Did the test page print?"
    assert "step 3 of the reader&#39;s path no longer fits" in page


def test_a_site_path_of_an_unknown_tree_is_answered_on_the_page(client: TestClient) -> None:
    key = signed_in(client)
    response = client.post("/agent/continue", data={"form_key": key, "reference": "scanner:1"})
    assert response.status_code == 422 and "there is no tree &#39;scanner&#39;" in response.text


# The console and the API are one service

def _comparable(state: dict[str, Any]) -> dict[str, Any]:
    """A walk state without what differs between two walks of the same answers (ids and times)."""
    different = {"id", "session", "handover", "notes"}
    kept = {key: value for key, value in state.items() if key not in different}
    kept["path"] = [{k: v for k, v in step.items() if k != "at"} for step in state["path"]]
    return kept


def test_a_walk_in_the_console_and_one_over_the_api_pass_through_the_same_states(client: TestClient) -> None:
    key = signed_in(client)
    api = {"Authorization": f"Bearer {token(client, 'api-agent')}"}
    answers = ["1", "1", "2"]  # Yes, done, No: to the escalation
    console_walk = start(client, key)
    api_state = client.post("/api/v1/walks", json={"tree": "printer"}, headers=api).json()
    lead = {"Authorization": f"Bearer {token(client, 'lead', 'lead')}"}

    def console_state() -> dict[str, Any]:
        return dict(client.get(f"/api/v1/walks/{console_walk.rsplit('/', 1)[1]}", headers=lead).json())

    assert _comparable(console_state()) == _comparable(api_state)
    for answer in answers:
        post(client, f"{console_walk}/answer", key, answer=answer)
        api_state = client.post(f"/api/v1/walks/{api_state['id']}/answer", json={"answer": answer},
                                headers=api).json()
        assert _comparable(console_state()) == _comparable(api_state)
    post(client, f"{console_walk}/input", key, asset_tag="NL12345")
    api_state = client.post(f"/api/v1/walks/{api_state['id']}/input",
                            json={"name": "asset_tag", "value": "NL12345"}, headers=api).json()
    assert _comparable(console_state()) == _comparable(api_state)
    assert console_state()["outcome"] == "escalated"


def test_the_apis_text_hand_over_is_the_plain_text_of_the_console(client: TestClient) -> None:
    key = signed_in(client)
    walk = start(client, key)
    for answer in ("1", "1", "1"):
        post(client, f"{walk}/answer", key, answer=answer)
    lead = {"Authorization": f"Bearer {token(client, 'lead', 'lead')}"}
    text = client.get(f"/api/v1/walks/{walk.rsplit('/', 1)[1]}/handover", params={"format": "text"},
                      headers=lead)
    assert text.headers["content-type"].startswith("text/plain")
    assert "Outcome: Solved" in text.text and "**" not in text.text


def test_the_console_speaks_the_agents_choice_else_their_browsers_language(client: TestClient) -> None:
    signed_in(client)
    dutch = client.get("/agent/", headers={"Accept-Language": "nl-NL,nl;q=0.9"}).text
    assert "Mijn recente gesprekken" in dutch
    client.get("/agent/language/en?next=/agent/")
    assert "My recent calls" in client.get("/agent/", headers={"Accept-Language": "nl"}).text
    assert client.get("/agent/language/nl?next=https://evil.example/",
                      follow_redirects=False).headers["location"] == "/agent/"


@pytest.mark.parametrize("body", [b"", b"\xff\xfe\x00garbage", b"answer=" + b"x" * 5000,
                                  b"&".join(b"f%d=1" % n for n in range(80)), b"name=%ZZ&value=%00"])
def test_a_malformed_form_is_a_page_with_a_status_never_a_crash(client: TestClient, body: bytes) -> None:
    key = signed_in(client)
    walk = start(client, key)
    for action in ("answer", "back", "restart", "note", "ticket", "input"):
        for sent in (body, body + b"&form_key=" + key.encode()):
            response = client.post(f"{walk}/{action}", content=sent, follow_redirects=False,
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert response.status_code in (303, 403, 422), (action, sent[:20], response.status_code)
            assert response.status_code == 303 or response.headers["content-type"].startswith("text/html")
    for url in ("/agent/walks", "/agent/continue", "/agent/sign-in"):
        response = client.post(url, content=body,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert 400 <= response.status_code < 500, (url, response.status_code)


def test_articles_and_trees_open_on_their_own_pages(client: TestClient) -> None:
    signed_in(client)
    internal = client.get("/agent/articles/unlock-printer")
    assert internal.status_code == 200
    assert "Only for the desk." in internal.text and "Agents only" in internal.text
    assert 'name="tree" value="printer"' in client.get("/agent/trees/printer").text
    assert client.get("/agent/articles/nothing").status_code == 404
