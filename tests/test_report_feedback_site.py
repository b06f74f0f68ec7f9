"""The help site's "Was this helpful?" form: only when kb.yaml has server_url, a plain form post
(no JavaScript) whose fields kb server takes, and the vote reaches the content report."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from kbengine.cli import cli
from kbengine.compiler import compile_kb
from kbengine.server.app import create_app
from kbengine.site import build_site
from tests.test_server_walks import ARTICLE, TREE

SERVER = "https://desk.example.org"


class Forms(HTMLParser):
    """The forms of a page: action, method and the fields a browser would send (one submit button)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.forms.append({"action": found.get("action"), "method": found.get("method"), "fields": {},
                               "buttons": []})
        elif self.forms and tag == "input" and found.get("type") == "hidden":
            self.forms[-1]["fields"][found["name"]] = found.get("value", "")
        elif self.forms and tag == "textarea":
            self.forms[-1]["fields"][found["name"]] = ""
        elif self.forms and tag == "button":
            self.forms[-1]["buttons"].append((found.get("name"), found.get("value")))


def feedback_form(page: Path) -> dict[str, Any] | None:
    parser = Forms()
    parser.feed(page.read_text("utf-8"))
    return next((form for form in parser.forms if str(form["action"]).endswith("/api/v1/feedback")), None)


def site(write_kb: Any, tmp_path: Path, config: str) -> Path:
    files = {"trees/printer.yaml": TREE, "articles/printing/status-lights.md": ARTICLE}
    root = write_kb(files, config=config)
    build_site(compile_kb(root), tmp_path / "site", search=False)
    return root


@pytest.mark.parametrize("config", ["title: Help\n", "title: Help\nserver_url: mailto:desk@example.org\n"])
def test_without_a_server_url_there_is_no_feedback_form(write_kb: Any, tmp_path: Path, config: str) -> None:
    site(write_kb, tmp_path, config)
    pages = list((tmp_path / "site").rglob("*.html"))
    assert pages and not any("api/v1/feedback" in page.read_text("utf-8") for page in pages)


def test_the_form_on_an_article_posts_a_vote_that_reaches_the_content_report(write_kb: Any,
                                                                              tmp_path: Path) -> None:
    config = f"title: Help\nbase_url: https://help.example.org/\nserver_url: {SERVER}/\n"
    root = site(write_kb, tmp_path, config)
    (article,) = [p for p in (tmp_path / "site").rglob("index.html") if "status-lights" in str(p)]
    form = feedback_form(article)
    assert form is not None and form["action"] == f"{SERVER}/api/v1/feedback" and form["method"] == "post"
    assert form["fields"]["kind"] == "article" and form["fields"]["article"] == "status-lights"
    assert form["buttons"] == [("helpful", "yes"), ("helpful", "no")]
    database = f"sqlite:///{tmp_path / 'desk.db'}"
    client = TestClient(create_app(root, database, reload_interval=0))
    sent = {**form["fields"], "comment": "Amber is missing", "helpful": "no"}  # the "No" button pressed
    response = client.post("/api/v1/feedback", data=sent)
    assert response.status_code == 201 and form["fields"]["return"] in response.text
    result = CliRunner().invoke(cli, ["report", "content", "--root", str(root), "--database", database,
                                      "--json"])
    row = next(row for row in json.loads(result.stdout)["articles"] if row["id"] == "status-lights")
    assert row["feedback"] == {"helpful": 0, "not_helpful": 1, "comments": ["Amber is missing"]}


@pytest.mark.parametrize("node", ["fixed", "hardware"])
def test_troubleshooter_ends_ask_too_and_steps_on_the_way_do_not(write_kb: Any, tmp_path: Path,
                                                                  node: str) -> None:
    site(write_kb, tmp_path, f"title: Help\nserver_url: {SERVER}\n")
    pages = [p for p in (tmp_path / "site").rglob("*.html") if "printer" in str(p)]
    forms = [form for form in map(feedback_form, pages) if form]
    assert {"kind": "tree", "tree": "printer", "node": node} in [
        {key: form["fields"][key] for key in ("kind", "tree", "node")} for form in forms]
    assert not [form for form in forms if form["fields"]["node"] in ("power", "queue", "printed")]


def test_a_server_url_that_is_not_a_link_is_a_located_error(write_kb: Any) -> None:
    root = write_kb({"articles/a.md": "# A\n"}, config="title: Help\nserver_url: javascript:alert(1)\n")
    result = CliRunner().invoke(cli, ["check", "--root", str(root)])
    assert result.exit_code == 1
    assert re.search(r"kb\.yaml:2:\d+: error KB702 server_url", result.output), result.output
