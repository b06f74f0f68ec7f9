"""`kb graph`: the whole graph, an article's neighbourhood and a tree's flow, as JSON, DOT, Mermaid."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from kbengine.cli import cli
from kbengine.cli.output import mermaid_text
from tests.conftest import WriteKB

FILES = {
    "articles/printing/clear-queue.md": """\
        ---
        title: Clear the print queue
        tags: [printing]
        related: [printer-lights]
        ---
        See [[printer-lights]].
        """,
    "articles/printing/printer-lights.md": "---\ntitle: Printer lights\n---\nBlinking.\n",
    "articles/printing/wachtrij-legen.md": """\
        ---
        title: Wachtrij legen
        lang: nl
        translation_of: clear-queue
        ---
        Tekst.
        """,
    "articles/printing/far-away.md": "---\ntitle: Far away\n---\nSee [[printer-lights]].\n",
    "articles/accounts/unrelated.md": "---\ntitle: Unrelated\n---\nNothing.\n",
    "trees/printer.yaml": """\
        title: Printer does not print
        start: power
        nodes:
          power:
            ask: 'Is the "printer" on [green light] #1?'
            answers:
              Yes: queue
              'No [none] "at all" #2': broken
          queue:
            do: Clear the queue.
            article: clear-queue
            next: fixed
          fixed:
            solved: It prints.
          broken:
            escalate: Second line
        """,
}


def kb(*args: str, root: Path) -> Result:
    result = CliRunner().invoke(cli, ["graph", *args, "--root", str(root)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def graph_json(*args: str, root: Path) -> dict[str, Any]:
    result = kb(*args, root=root)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def edges(data: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(e["source"], e["target"], e["kind"]) for e in data["edges"]}


def test_whole_graph_is_json_by_default(write_kb: WriteKB) -> None:
    data = graph_json(root=write_kb(FILES))
    nodes = {n["id"]: n for n in data["nodes"]}
    article = nodes["article:clear-queue"]
    assert (article["kind"], article["title"], article["path"]) == (
        "article", "Clear the print queue", "articles/printing/clear-queue.md")
    assert nodes["node:printer#queue"]["title"] == "Clear the queue."
    assert nodes["tag:printing"]["kind"] == "tag"
    assert ("node:printer#queue", "article:clear-queue", "explains") in edges(data)
    answers = [e for e in data["edges"] if e["kind"] == "answer"]
    assert {e["label"] for e in answers} == {"Yes", 'No [none] "at all" #2'}


def test_whole_graph_as_dot_quotes_every_name(write_kb: WriteKB) -> None:
    result = kb("--format", "dot", root=write_kb(FILES))
    assert result.exit_code == 0
    assert result.stdout.startswith("digraph kb {") and result.stdout.rstrip().endswith("}")
    assert '"article:clear-queue" -> "article:printer-lights" [kind="links_to"];' in result.stdout
    assert r'label="Is the \"printer\" on [green light] #1?"' in result.stdout


def test_article_neighbourhood_has_links_trees_related_and_translations(write_kb: WriteKB) -> None:
    data = graph_json("clear-queue", root=write_kb(FILES))
    ids = {n["id"] for n in data["nodes"]}
    assert ids == {"article:clear-queue", "article:printer-lights", "article:wachtrij-legen",
                   "tree:printer"}
    assert ("tree:printer", "article:clear-queue", "explains") in edges(data)
    assert ("article:wachtrij-legen", "article:clear-queue", "translation_of") in edges(data)


def test_depth_reaches_further(write_kb: WriteKB) -> None:
    root = write_kb(FILES)
    assert "article:far-away" not in {n["id"] for n in graph_json("clear-queue", root=root)["nodes"]}
    deeper = {n["id"] for n in graph_json("clear-queue", "--depth", "2", root=root)["nodes"]}
    assert "article:far-away" in deeper and "article:unrelated" not in deeper


def test_tree_flow_has_its_steps_and_answer_edges(write_kb: WriteKB) -> None:
    data = graph_json("printer", root=write_kb(FILES))
    assert {n["id"] for n in data["nodes"]} == {"tree:printer", "node:printer#power",
                                               "node:printer#queue", "node:printer#fixed",
                                               "node:printer#broken"}
    assert edges(data) == {("tree:printer", "node:printer#power", "starts_at"),
                           ("node:printer#power", "node:printer#queue", "answer"),
                           ("node:printer#power", "node:printer#broken", "answer"),
                           ("node:printer#queue", "node:printer#fixed", "next")}


def test_tree_flow_as_mermaid_escapes_quotes_brackets_and_hashes(write_kb: WriteKB) -> None:
    result = kb("printer", "--format", "mermaid", root=write_kb(FILES))
    lines = result.stdout.splitlines()
    assert lines[0] == "flowchart TD"
    question = "Is the #34;printer#34; on #91;green light#93; #35;1?"
    assert f'{{"{question}"}}' in result.stdout  # a question is a rhombus
    assert '-->|"No #91;none#93; #34;at all#34; #35;2"|' in result.stdout
    # outside the codes, no label holds a quote, bracket or # that Mermaid would read
    for line in lines[1:]:
        for label in re.findall(r'"([^"]*)"', line):
            assert not re.search(r'[\[\]{}()|<>]|#(?!\d+;)', label), line


def test_mermaid_text_writes_every_special_character_as_a_code() -> None:
    assert mermaid_text('a "b" [c] #d <e> | `f`') == (
        '"a #34;b#34; #91;c#93; #35;d #60;e#62; #124; #96;f#96;"')
    assert mermaid_text("two\nlines") == '"two lines"'


def test_goto_depth_adds_the_other_tree(write_kb: WriteKB) -> None:
    files = dict(FILES)
    files["trees/lights.yaml"] = """\
        title: Lights
        start: go
        nodes:
          go: {goto: printer}
        """
    root = write_kb(files)
    shallow = {n["id"] for n in graph_json("lights", root=root)["nodes"]}
    assert "node:printer#power" in shallow and "node:printer#queue" not in shallow
    deep = {n["id"] for n in graph_json("lights", "--depth", "2", root=root)["nodes"]}
    assert "node:printer#queue" in deep


def test_unknown_id_exits_1_with_close_matches(write_kb: WriteKB) -> None:
    result = kb("clear-queu", root=write_kb(FILES))
    assert result.exit_code == 1
    assert "no article or tree has the id 'clear-queu'" in result.stderr
    assert "clear-queue" in result.stderr


def test_depth_below_one_is_a_usage_error(write_kb: WriteKB) -> None:
    assert kb("printer", "--depth", "0", root=write_kb(FILES)).exit_code == 2


def test_bundled_tree_as_mermaid(bundled_root: Path) -> None:
    result = kb("printer-not-printing", "--format", "mermaid", root=bundled_root)
    assert result.exit_code == 0
    assert result.stdout.startswith("flowchart TD\n")
    assert '-->|"FollowMe"|' in result.stdout and "-.->" in result.stdout  # its goto


def test_bundled_whole_graph_edges_join_known_nodes(bundled_root: Path) -> None:
    data = graph_json("--json", root=bundled_root)
    ids = {n["id"] for n in data["nodes"]}
    assert {"article:clear-print-queue", "tree:printer-not-printing"} <= ids
    assert all(e["source"] in ids and e["target"] in ids for e in data["edges"])
