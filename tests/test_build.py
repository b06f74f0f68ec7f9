"""Compiling a KB: finding the root and the files, unique ids, and the cache in .kb/."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from kbengine import cache
from kbengine import compiler as build
from kbengine.compiler import compile_kb, compile_outline, discover, find_root, load_content
from kbengine.kb import CACHE_DIR, KnowledgeBase
from tests.conftest import WriteKB

FILES = {
    "articles/accounts/reset-password.md": "# Reset your password\nSee [[account-locked]].\n",
    "articles/accounts/account-locked.md": "# Account locked\n",
    "articles/printing/clear-queue.md": "# Clear the print queue\n",
    "trees/printer.yaml": "title: Printer\nstart: a\nnodes:\n  a:\n    solved: Done\n",
}


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count how often each file is parsed, by wrapping the loaders compile_kb calls."""
    counts: Counter[str] = Counter()
    for name in ("load_article", "load_tree", "load_config"):
        original = getattr(build, name)

        def counting(rel: str, *args: object, _original=original) -> object:
            counts[rel] += 1
            return _original(rel, *args)

        monkeypatch.setattr(build, name, counting)
    return counts


def touch_edit(path: Path, text: str) -> None:
    path.write_text(text, "utf-8")
    stat = path.stat()  # make the edit visible even on a coarse file-system clock
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_first_compile_parses_every_file_and_writes_the_cache(write_kb: WriteKB,
                                                              parses: Counter[str]) -> None:
    root = write_kb(FILES)
    kb = compile_kb(root)
    assert set(parses) == {"kb.yaml", *FILES} and set(parses.values()) == {1}
    assert (root / CACHE_DIR / "compiled.pickle").is_file()
    assert sorted(kb.articles) == ["account-locked", "clear-queue", "reset-password"]


def test_unchanged_kb_recompiles_from_cache_without_parsing(write_kb: WriteKB, parses: Counter[str]) -> None:
    root = write_kb(FILES)
    first = compile_kb(root)
    parses.clear()
    second = compile_kb(root)
    assert parses == Counter()
    assert second.fingerprint == first.fingerprint
    assert sorted(second.articles) == sorted(first.articles)


def test_edited_file_is_parsed_again_and_no_other(write_kb: WriteKB, parses: Counter[str]) -> None:
    root = write_kb(FILES)
    first = compile_kb(root)
    parses.clear()
    touch_edit(root / "articles/accounts/account-locked.md", "# Your account is locked\n")
    kb = compile_kb(root)
    assert parses == Counter({"articles/accounts/account-locked.md": 1})
    assert kb.articles["account-locked"].title == "Your account is locked"
    assert kb.fingerprint != first.fingerprint
    assert kb.graph.backlinks("account-locked") == ["reset-password"]  # links resolved afresh


def test_new_and_deleted_files_are_noticed(write_kb: WriteKB, parses: Counter[str]) -> None:
    root = write_kb(FILES)
    compile_kb(root)
    parses.clear()
    (root / "articles/accounts/account-locked.md").unlink()
    (root / "articles/printing/printer-offline.md").write_text("# Printer offline\n", "utf-8")
    kb = compile_kb(root)
    assert parses == Counter({"articles/printing/printer-offline.md": 1})
    assert "account-locked" not in kb.articles and "printer-offline" in kb.articles
    assert [d.code for d in kb.diagnostics] == ["KB502"]  # the wiki link now points nowhere


def test_new_image_changes_the_result_without_parsing(write_kb: WriteKB, parses: Counter[str]) -> None:
    root = write_kb({"articles/a.md": "# A\n![x](media/x.png)\n"})
    assert [d.code for d in compile_kb(root).diagnostics] == ["KB503"]
    parses.clear()
    (root / "articles/media").mkdir()
    (root / "articles/media/x.png").write_bytes(b"png")
    assert compile_kb(root).diagnostics == []
    assert parses == Counter()


def test_deleting_the_cache_is_safe(write_kb: WriteKB, parses: Counter[str]) -> None:
    root = write_kb(FILES)
    first = compile_kb(root)
    shutil.rmtree(root / CACHE_DIR)
    parses.clear()
    again = compile_kb(root)
    assert set(parses) == {"kb.yaml", *FILES}
    assert again.fingerprint == first.fingerprint and sorted(again.articles) == sorted(first.articles)


@pytest.mark.parametrize("garbage", [b"", b"not a pickle", b"\x80\x05\x95truncated"])
@pytest.mark.parametrize("damaged", ["compiled.pickle", "content-*.pickle", "parsed.pickle"])
def test_corrupt_cache_is_ignored_and_replaced(write_kb: WriteKB, parses: Counter[str],
                                                damaged: str, garbage: bytes) -> None:
    root = write_kb(FILES)
    first = compile_kb(root)
    for path in (root / CACHE_DIR).glob(damaged):
        path.write_bytes(garbage)
    if damaged == "parsed.pickle":  # parse results lost: after an edit every file is read again
        edited = root / "articles" / "printing" / "clear-queue.md"
        edited.write_text(edited.read_text("utf-8") + "\nEdited.\n", "utf-8")
    parses.clear()
    kb = compile_kb(root)
    if damaged == "parsed.pickle":
        assert set(parses) == {"kb.yaml", *FILES}
    assert kb.diagnostics == [] and sorted(kb.articles) == sorted(first.articles)
    assert kb.graph.graph.number_of_edges() == first.graph.graph.number_of_edges()
    compile_kb(root)
    parses.clear()
    assert sorted(compile_kb(root).articles) == sorted(first.articles)
    assert parses == Counter()


def test_a_warm_outline_leaves_articles_and_graph_in_the_cache_until_asked(write_kb: WriteKB) -> None:
    root = write_kb(FILES)
    first = compile_kb(root)
    warm = compile_outline(root)
    assert not isinstance(warm, KnowledgeBase) and sorted(warm.article_ids) == sorted(first.articles)
    full = load_content(warm)
    assert sorted(full.articles) == sorted(first.articles)
    assert full.graph.graph.number_of_nodes() == first.graph.graph.number_of_nodes()


def test_content_of_another_compile_is_not_mixed_in(write_kb: WriteKB) -> None:
    root = write_kb(FILES)
    compile_kb(root)
    warm = compile_outline(root)
    (root / "articles" / "printing" / "late.md").write_text("# Written meanwhile\n", "utf-8")
    compile_kb(root)  # another process recompiles: the cache now holds 'late'
    assert "late" not in load_content(warm).articles


def test_cache_from_another_version_is_ignored(write_kb: WriteKB, parses: Counter[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_kb(FILES)
    compile_kb(root)
    for module in (build, cache):
        monkeypatch.setattr(module, "cache_key", lambda: "another-version")
    parses.clear()
    compile_kb(root)
    assert set(parses) == {"kb.yaml", *FILES}


def test_no_cache_parses_everything_and_writes_nothing(write_kb: WriteKB, parses: Counter[str]) -> None:
    root = write_kb(FILES)
    compile_kb(root, use_cache=False)
    assert not (root / CACHE_DIR).exists() and set(parses.values()) == {1}


def test_kb_where_the_cache_cannot_be_written_still_compiles(write_kb: WriteKB) -> None:
    root = write_kb(FILES)
    (root / CACHE_DIR).write_text("a file where the cache folder should be", "utf-8")
    kb = compile_kb(root)
    assert len(kb.articles) == 3 and kb.diagnostics == []
    assert (root / CACHE_DIR).is_file()


def test_new_default_language_reparses_articles(write_kb: WriteKB) -> None:
    root = write_kb(FILES)
    assert {a.lang for a in compile_kb(root).articles.values()} == {"en"}
    touch_edit(root / "kb.yaml", "title: Help\nlanguages: [nl, en]\n")
    assert {a.lang for a in compile_kb(root).articles.values()} == {"nl"}


def test_colliding_file_names_get_path_ids_with_a_warning(write_kb: WriteKB) -> None:
    root = write_kb({"articles/accounts/problem-with-your-account.md": "# A\n",
                     "articles/printing/problem-with-your-account.md": "# B\n"})
    kb = compile_kb(root)
    assert sorted(kb.articles) == ["accounts/problem-with-your-account", "printing/problem-with-your-account"]
    assert [(d.path, d.line, d.code, d.severity) for d in kb.diagnostics] == [
        ("articles/accounts/problem-with-your-account.md", 1, "KB302", "warning"),
        ("articles/printing/problem-with-your-account.md", 1, "KB302", "warning")]
    (root / "articles/printing/problem-with-your-account.md").unlink()
    kb = compile_kb(root)  # the survivor gets its short id back, from the cached parse
    assert sorted(kb.articles) == ["problem-with-your-account"] and kb.diagnostics == []


def test_explicit_duplicate_id_is_an_error_at_the_id(write_kb: WriteKB) -> None:
    kb = compile_kb(write_kb({"articles/a.md": "---\nid: vpn\n---\n# A\n",
                              "articles/b.md": "---\ntitle: B\nid: vpn\n---\n# B\n",
                              "articles/vpn.md": "# VPN\n"}))
    assert kb.articles["vpn"].path == "articles/a.md"
    assert [(d.path, d.line, d.col, d.code) for d in kb.diagnostics] == [
        ("articles/b.md", 3, 5, "KB301"), ("articles/vpn.md", 1, 1, "KB301")]


def test_duplicate_tree_id_is_an_error(write_kb: WriteKB) -> None:
    tree = "title: T\nid: printer\nstart: a\nnodes:\n  a:\n    solved: Done\n"
    kb = compile_kb(write_kb({"trees/a.yaml": tree, "trees/b.yaml": tree}))
    assert [(d.path, d.line, d.code) for d in kb.diagnostics] == [("trees/b.yaml", 2, "KB301")]


def test_discover_skips_hidden_files_and_include_folders(write_kb: WriteKB) -> None:
    root = write_kb({"articles/a.md": "# A\n", "articles/.draft.md": "# D\n",
                     "articles/includes/part.md": "x", "articles/media/a.png": "png",
                     "trees/t.yml": "x", "trees/notes.txt": "x"})
    articles, trees, others, _ = discover(root)
    assert articles == ["articles/a.md"] and trees == ["trees/t.yml"]
    assert others == ["articles/includes/part.md", "articles/media/a.png", "trees/notes.txt"]


def test_find_root_walks_up_to_kb_yaml(write_kb: WriteKB, tmp_path: Path) -> None:
    root = write_kb(FILES)
    assert find_root(root / "articles" / "accounts") == root.resolve()
    bare = tmp_path / "bare"
    (bare / "trees" / "deep").mkdir(parents=True)
    assert find_root(bare / "trees" / "deep") == bare.resolve()
    assert find_root(Path("/")) is None


def test_kb_without_kb_yaml_uses_defaults(write_kb: WriteKB) -> None:
    kb = compile_kb(write_kb({"articles/a.md": "# A\n"}, config=None))
    assert kb.config.title == "Help centre" and kb.diagnostics == []


def test_unreadable_file_is_a_diagnostic(write_kb: WriteKB) -> None:
    root = write_kb(FILES)
    (root / "articles/broken-link.md").symlink_to(root / "articles/missing-target.md")
    kb = compile_kb(root)
    assert [(d.path, d.code) for d in kb.diagnostics] == [("articles/broken-link.md", "KB106")]


def test_bundled_kb_compiles_without_errors(bundled_kb: build.KnowledgeBase) -> None:
    assert bundled_kb.errors == []
    assert len(bundled_kb.articles) >= 30 and len(bundled_kb.trees) >= 10
