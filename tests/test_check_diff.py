"""`kb diff`: content changes between two git revisions, read with git (no checkout)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbengine.cli import cli
from kbengine.services.diff import DiffError, diff_revisions
from tests.conftest import WriteKB

TREE = """
    title: Printer
    start: power
    nodes:
      power:
        ask: Is the printer on?
        answers: {"Yes": printed, "No": escalate}
      printed:
        ask: Did the test page print?
        answers: {"Yes": fixed, "No": escalate}
      fixed: {solved: Printing again}
      escalate: {escalate: {team: Second line}}
    """
ARTICLE = "---\ntitle: Clear the print queue\n---\nCancel every job.\n"


def commit(root: Path, message: str) -> None:
    for command in (["add", "-A"], ["-c", "user.name=Writer", "-c", "user.email=w@example.org",
                                     "commit", "-q", "-m", message]):
        subprocess.run(["git", *command], cwd=root, check=True)


@pytest.fixture
def repo(write_kb: WriteKB) -> Path:
    root = write_kb({"trees/printer.yaml": TREE, "articles/printing/clear-queue.md": ARTICLE})
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    commit(root, "first")
    return root


def test_a_rewired_answer_is_named_with_the_end_it_now_reaches(repo: Path) -> None:
    tree = repo / "trees" / "printer.yaml"
    tree.write_text(tree.read_text("utf-8").replace('"Yes": fixed', '"Yes": escalate'), "utf-8")
    commit(repo, "second")
    diff = diff_revisions(repo, "HEAD~1", "HEAD")
    assert [(c.kind, c.text) for c in diff.trees] == [
        ("answer rewired", "node 'printed': answer 'Yes' now leads to 'escalate' (was 'fixed')"),
        ("end reached differently", "answers 'Yes' > 'Yes' now end at 'escalate' (was 'fixed')")]
    assert diff.articles == []


def test_article_changes_and_new_escalations_in_the_working_tree(repo: Path) -> None:
    article = repo / "articles" / "printing" / "clear-queue.md"
    article.write_text(ARTICLE.replace("Clear the print queue", "Empty the print queue")
                       .replace("---\n", "---\nstatus: draft\n", 1) + "See [[toner]].\n", "utf-8")
    tree = repo / "trees" / "printer.yaml"
    tree.write_text(tree.read_text("utf-8") + "  hardware: {escalate: {team: Hardware, priority: P2}}\n",
                    "utf-8")
    diff = diff_revisions(repo, "HEAD")
    assert ("escalation added", "node 'hardware' added (escalation to Hardware)") in [
        (c.kind, c.text) for c in diff.trees]
    assert [(c.kind, c.text) for c in diff.articles] == [
        ("article retitled", "title 'Clear the print queue' -> 'Empty the print queue'"),
        ("status changed", "status 'published' -> 'draft'"),
        ("link breaks", "articles/printing/clear-queue.md:6: [[toner]] names no article or tree")]


def test_a_renamed_file_is_an_id_renamed_not_a_removal(repo: Path) -> None:
    subprocess.run(["git", "mv", "articles/printing/clear-queue.md", "articles/printing/empty-queue.md"],
                   cwd=repo, check=True)
    commit(repo, "rename")
    diff = diff_revisions(repo, "HEAD~1", "HEAD")
    assert [(c.kind, c.text) for c in diff.articles] == [
        ("id renamed", "article id 'clear-queue' -> 'empty-queue'"),
        ("article moved", "path 'articles/printing/clear-queue.md' -> 'articles/printing/empty-queue.md'")]


def test_markdown_and_json_formats_for_a_pull_request(repo: Path) -> None:
    tree = repo / "trees" / "printer.yaml"
    text = tree.read_text("utf-8")
    tree.write_text(text.replace('{"Yes": fixed, "No": escalate}', '{"Yes": fixed, "No": fixed}'), "utf-8")
    commit(repo, "second")
    revisions = ["diff", "HEAD~1", "HEAD", "--root", str(repo)]
    markdown = CliRunner().invoke(cli, [*revisions, "--format", "markdown"])
    assert markdown.exit_code == 0
    assert markdown.output.startswith("### Content changes: `HEAD~1` → `HEAD`")
    assert ("- `printer`\n  - answer rewired: node 'printed': answer 'No' now leads to 'fixed'"
            in markdown.output)
    data = json.loads(CliRunner().invoke(cli, [*revisions, "--json"]).output)
    assert data["trees"][0]["kind"] == "answer rewired" and data["articles"] == []


def test_an_unknown_revision_is_a_plain_error(repo: Path) -> None:
    with pytest.raises(DiffError, match="'nope' is not a commit"):
        diff_revisions(repo, "nope")
    result = CliRunner().invoke(cli, ["diff", "nope", "--root", str(repo)])
    assert result.exit_code == 1 and "Traceback" not in result.output
