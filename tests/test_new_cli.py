"""`kb new article|tree`: a new draft with every field, never overwriting, never a traceback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from click.testing import CliRunner, Result

from kbengine.cli import cli
from kbengine.compiler import compile_kb
from kbengine.read.sources import load_article
from kbengine.read.yamlfile import parse_yaml
from kbengine.scaffold import Draft, article_text, yaml_text
from tests.conftest import WriteKB, copy_bundled

ORIGINAL = """\
---
title: Clear the print queue
tags: [printing, queue]
category: printing
lang: en
audience: internal
---
Cancel every job.
"""


def kb(*args: str, root: Path) -> Result:
    result = CliRunner().invoke(cli, [*args, "--root", str(root)])
    # every outcome is an exit status with a message, never an escaped exception
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def check_strict(root: Path) -> Result:
    return CliRunner().invoke(cli, ["check", "--strict", "--root", str(root)])


def test_new_article_is_a_draft_with_every_field(write_kb: WriteKB) -> None:
    root = write_kb({})
    result = kb("new", "article", "Printer jams", "--category", "printing", root=root)
    assert result.exit_code == 0
    path = root / "articles/printing/printer-jams.md"
    article, problems = load_article("articles/printing/printer-jams.md", path.read_bytes())
    assert article is not None and not problems
    assert (article.title, article.category, article.lang, article.status, article.audience) == (
        "Printer jams", "printing", "en", "draft", "public")
    assert article.summary == "" and article.tags == [] and article.related == []
    assert len(article.updated) == 10 and article.updated[4] == "-"
    text = path.read_text("utf-8")
    assert "summary: \"\"  # TODO" in text and "owner:" in text
    assert [h.text for h in article.headings] == ["What you see", "Fix it", "Still not working?"]
    assert "articles/printing/printer-jams.md" in result.output
    assert "draft" in result.output and "kb check" in result.output and "kb serve" in result.output


def test_new_article_passes_check_strict(write_kb: WriteKB) -> None:
    root = write_kb({})
    kb("new", "article", "Printer jams", "--category", "printing", root=root)
    result = check_strict(root)
    assert result.exit_code == 0, result.output


def test_new_article_in_dutch_has_dutch_headings(write_kb: WriteKB) -> None:
    root = write_kb({})
    kb("new", "article", "Papier loopt vast", "--category", "printing", "--lang", "nl", root=root)
    article = compile_kb(root).articles["papier-loopt-vast"]
    assert article.lang == "nl"
    assert [h.text for h in article.headings] == ["Wat je ziet", "Zo los je het op",
                                                  "Werkt het nog steeds niet?"]


def test_new_article_json_names_path_id_and_kind(write_kb: WriteKB) -> None:
    root = write_kb({})
    result = kb("new", "article", "Printer jams", "--category", "printing", "--internal",
                "--id", "jams", "--json", root=root)
    assert json.loads(result.stdout) == {"path": "articles/printing/jams.md", "id": "jams",
                                         "kind": "article"}
    assert compile_kb(root).articles["jams"].audience == "internal"


def test_owner_comes_from_git_config(write_kb: WriteKB) -> None:
    root = write_kb({})
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "config", "user.name", "Ada Writer"], check=True)
    kb("new", "article", "Printer jams", "--category", "printing", root=root)
    assert compile_kb(root).articles["printer-jams"].owner == "Ada Writer"


def test_unknown_category_is_a_usage_error_listing_the_categories(write_kb: WriteKB) -> None:
    root = write_kb({})
    result = kb("new", "article", "Printer jams", "--category", "printers", root=root)
    assert result.exit_code == 2
    assert "accounts, printing" in result.stderr
    assert not (root / "articles").exists()


def test_no_category_without_a_terminal_is_a_usage_error(write_kb: WriteKB) -> None:
    root = write_kb({})
    result = kb("new", "article", "Printer jams", root=root)
    assert result.exit_code == 2
    assert "--category" in result.stderr and "printing" in result.stderr


def test_existing_file_is_never_overwritten(write_kb: WriteKB) -> None:
    root = write_kb({"articles/printing/printer-jams.md": ORIGINAL})
    result = kb("new", "article", "Printer jams", "--category", "printing", root=root)
    assert result.exit_code == 1
    assert "articles/printing/printer-jams.md" in result.stderr
    assert (root / "articles/printing/printer-jams.md").read_text("utf-8") == ORIGINAL


def test_id_taken_by_a_tree_or_an_article_elsewhere_is_refused(write_kb: WriteKB) -> None:
    root = write_kb({"articles/accounts/printer-jams.md": ORIGINAL})
    result = kb("new", "article", "Printer jams", "--category", "printing", root=root)
    assert result.exit_code == 1 and "articles/accounts/printer-jams.md" in result.stderr
    assert not (root / "articles/printing").exists()
    kb("new", "tree", "Jammed", root=root)
    result = kb("new", "article", "Jammed", "--category", "printing", root=root)
    assert result.exit_code == 1 and "trees/jammed.yaml" in result.stderr


def test_hostile_titles_stay_inside_articles(write_kb: WriteKB) -> None:
    root = write_kb({})
    for title, name in [("../../etc/passwd", "etc-passwd"), ("<script>alert(1)</script>",
                                                              "script-alert-1-script")]:
        result = kb("new", "article", title, "--category", "printing", "--json", root=root)
        assert json.loads(result.stdout)["path"] == f"articles/printing/{name}.md"
    assert sorted(p.name for p in root.rglob("*.md")) == ["etc-passwd.md", "script-alert-1-script.md"]
    assert compile_kb(root).articles["script-alert-1-script"].title == "<script>alert(1)</script>"


def test_title_without_letters_or_digits_asks_for_an_id(write_kb: WriteKB) -> None:
    root = write_kb({})
    result = kb("new", "article", "???", "--category", "printing", root=root)
    assert result.exit_code == 2 and "--id" in result.stderr


def test_an_id_with_a_path_in_it_is_refused(write_kb: WriteKB) -> None:
    root = write_kb({})
    result = kb("new", "article", "Jams", "--category", "printing", "--id", "../jams", root=root)
    assert result.exit_code == 2 and "not an id" in result.stderr
    assert not (root / "articles").exists()


def test_unwritable_folder_is_a_plain_error(write_kb: WriteKB) -> None:
    # a file where the category folder should be: writing fails even for root
    root = write_kb({"articles/printing": "not a folder"})
    result = kb("new", "article", "Printer jams", "--category", "printing", root=root)
    assert result.exit_code == 1
    assert result.stderr.startswith("kb new article: cannot write articles/printing/printer-jams.md")


def test_translation_copies_category_tags_and_audience(write_kb: WriteKB) -> None:
    root = write_kb({"articles/printing/clear-queue.md": ORIGINAL})
    result = kb("new", "article", "Wachtrij legen", "--translation-of", "clear-queue", root=root)
    assert result.exit_code == 0, result.output
    built = compile_kb(root)
    article = built.articles["wachtrij-legen"]
    assert (article.lang, article.category, article.tags, article.audience, article.translation_of) == (
        "nl", "printing", ["printing", "queue"], "internal", "clear-queue")
    assert not built.diagnostics


def test_translation_of_a_missing_article_is_refused(write_kb: WriteKB) -> None:
    root = write_kb({})
    result = kb("new", "article", "Wachtrij legen", "--translation-of", "clear-queue", root=root)
    assert result.exit_code == 2 and "clear-queue" in result.stderr


def test_translation_in_the_original_language_is_refused(write_kb: WriteKB) -> None:
    root = write_kb({"articles/printing/clear-queue.md": ORIGINAL})
    result = kb("new", "article", "Clear it", "--translation-of", "clear-queue", "--lang", "en",
                root=root)
    assert result.exit_code == 2 and "in en already" in result.stderr


def test_new_tree_passes_check_strict_and_its_example_runs(write_kb: WriteKB) -> None:
    root = write_kb({})
    result = kb("new", "tree", "Printer jams", "--category", "printing", root=root)
    assert result.exit_code == 0 and "trees/printer-jams.yaml" in result.output
    assert check_strict(root).exit_code == 0
    tree = compile_kb(root).trees["printer-jams"]
    assert tree.status == "draft" and tree.category == "printing"
    assert [n.kind for n in tree.nodes.values()] == ["ask", "do", "ask", "solved", "escalate"]
    assert [c.name for c in tree.nodes["hand-over"].collect] == ["asset_tag"]
    assert len(tree.examples) == 1
    # the example really runs: break the path it walks and check must fail
    path = root / "trees/printer-jams.yaml"
    path.write_text(path.read_text("utf-8").replace("Yes: fixed", "Yes: hand-over"), "utf-8")
    failed = check_strict(root)
    assert failed.exit_code == 1 and "KB418" in failed.output


def test_new_dutch_tree_passes_check_strict(write_kb: WriteKB) -> None:
    root = write_kb({})
    kb("new", "tree", "Printer loopt vast", "--lang", "nl", root=root)
    assert check_strict(root).exit_code == 0
    tree = compile_kb(root).trees["printer-loopt-vast"]
    assert [a.label for a in tree.nodes["first-question"].answers] == ["Ja", "Nee"]


def test_new_tree_refuses_an_existing_file(write_kb: WriteKB) -> None:
    root = write_kb({})
    kb("new", "tree", "Printer jams", root=root)
    before = (root / "trees/printer-jams.yaml").read_text("utf-8")
    result = kb("new", "tree", "Printer jams", "--json", root=root)
    assert result.exit_code == 1 and "trees/printer-jams.yaml" in result.stderr
    assert (root / "trees/printer-jams.yaml").read_text("utf-8") == before


def test_new_content_in_the_bundled_kb_passes_check_strict(tmp_path: Path) -> None:
    root = copy_bundled(tmp_path / "kb")
    assert check_strict(root).exit_code == 0  # the bundled KB is clean to begin with
    kb("new", "article", "Toner is empty", "--category", "printing", root=root)
    kb("new", "article", "Toner is leeg", "--translation-of", "toner-is-empty", root=root)
    kb("new", "tree", "Toner warning", "--category", "printing", root=root)
    result = check_strict(root)
    assert result.exit_code == 0, result.output
    assert compile_kb(root).articles["toner-is-leeg"].translation_of == "toner-is-empty"


def test_yaml_text_reads_back_as_the_same_text() -> None:
    for text in ["Printer jams", "Yes", "2024", "true", "Null", "a: b", "#1 issue", "'quoted'",
                 "[x]", "", " padded ", "Wi-Fi & VPN", 'say "hi"', "Überweisung", "- item"]:
        doc, problems = parse_yaml(f"value: {yaml_text(text)}", "x.yaml")
        assert doc is not None and not problems and doc.data["value"] == text, text


def test_article_text_writes_translation_of_only_when_given() -> None:
    draft = Draft(title="Jams", category="printing", lang="en", updated="2026-01-01")
    assert "translation_of" not in article_text(draft)
    draft.translation_of = "clear-queue"
    assert "translation_of: clear-queue" in article_text(draft)
