"""`kb list`: the trees and articles of a KB, with filters and JSON for scripts."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kbengine.cli import cli
from tests.conftest import REPO, WriteKB, copy_bundled

SMALL = {
    "articles/accounts/reset.md": "---\ntitle: Reset a password\n---\nBody.\n",
    "articles/accounts/unlock.md": "---\ntitle: Unlock an account\naudience: internal\n---\nBody.\n",
    "articles/accounts/wachtwoord.md": "---\ntitle: Wachtwoord vergeten\nlang: nl\n---\nTekst.\n",
    "trees/locked.yaml": "title: Locked out\nstart: q\nnodes:\n  q:\n    solved: Unlocked.\n",
}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["list", *args])
    return result.exit_code, result.output


def test_list_shows_trees_first_then_articles_by_title(write_kb: WriteKB) -> None:
    root = write_kb(SMALL)
    code, out = run("--root", str(root))
    ids = [line.split()[1] for line in out.splitlines()]
    assert code == 0 and ids == ["locked", "reset", "unlock", "wachtwoord"]


def test_list_marks_internal_content_and_public_leaves_it_out(write_kb: WriteKB) -> None:
    root = write_kb(SMALL)
    _, out = run("articles", "--root", str(root))
    assert "(internal)" in next(line for line in out.splitlines() if " unlock " in line)
    _, public = run("articles", "--public", "--root", str(root))
    assert "unlock" not in public and "reset" in public


def test_list_json_filters_by_kind_and_language(write_kb: WriteKB) -> None:
    root = write_kb(SMALL)
    code, out = run("articles", "--lang", "nl", "--json", "--root", str(root))
    items = json.loads(out)["items"]
    assert code == 0 and [(i["kind"], i["id"], i["lang"]) for i in items] == [("article", "wachtwoord", "nl")]


def test_list_trees_of_the_bundled_kb_names_every_tree_file(tmp_path: Path) -> None:
    _, out = run("trees", "--json", "--root", str(copy_bundled(tmp_path / "kb")))
    listed = {item["path"] for item in json.loads(out)["items"]}
    assert listed == {p.relative_to(REPO).as_posix() for p in (REPO / "trees").glob("*.yaml")}
