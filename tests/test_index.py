"""The index in .kb/index: built on first use, updated incrementally, rebuilt whole when damaged."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kbengine.compiler import compile_kb
from kbengine.search import search
from kbengine.search.documents import plain_text
from kbengine.search.store import index_folder, open_index, update_index

ARTICLES = {
    "articles/printing/clear-queue.md": """\
        ---
        title: Clear a stuck print queue
        tags: [printing]
        ---
        Cancel every job in the queue, then print a test page.
        """,
    "articles/network/vpn.md": """\
        ---
        title: Connect to the VPN
        ---
        Open GlobalProtect and sign in.
        """,
}


def ids(kb_root: Path, query: str) -> list[str]:
    return [hit.id for hit in search(compile_kb(kb_root), query).hits]


def test_plain_text_drops_markup_and_keeps_words() -> None:
    text = plain_text("# Title\n\nSee [[vpn|the VPN page]] and [docs](x.md), **bold** `code`.\n"
                      "![a screenshot](a.png)\n<b>html</b>\n```\nfenced words\n```")
    assert text == "Title See the VPN page and docs , bold code . a screenshot html fenced words"
    assert "[[" not in plain_text("[[vpn]] [[a|b]]")


def test_first_search_builds_the_index_in_the_kb_folder(write_kb) -> None:
    root = write_kb(ARTICLES)
    assert ids(root, "print queue") == ["clear-queue"]
    assert (index_folder(root) / "kbengine-index.json").is_file()


def test_unchanged_kb_opens_without_updating(write_kb) -> None:
    kb = compile_kb(write_kb(ARTICLES))
    assert update_index(kb).rebuilt
    assert update_index(kb) == update_index(kb)
    assert update_index(kb).added == update_index(kb).changed == 0


def test_an_edited_article_is_the_only_document_reindexed(write_kb) -> None:
    root = write_kb(ARTICLES)
    update_index(compile_kb(root))
    path = root / "articles/network/vpn.md"
    path.write_text(path.read_text("utf-8").replace("GlobalProtect", "Tunnelblick"), "utf-8")
    update = update_index(compile_kb(root))
    assert (update.rebuilt, update.added, update.changed, update.removed) == (False, 0, 1, 0)
    assert ids(root, "tunnelblick") == ["vpn"]
    assert ids(root, "globalprotect") == []


def test_added_and_removed_articles_are_found_and_forgotten(write_kb) -> None:
    root = write_kb(ARTICLES)
    update_index(compile_kb(root))
    (root / "articles/network/vpn.md").unlink()
    (root / "articles/network/wifi.md").write_text("# Connect to the wifi\n\nPick Corp-WiFi.\n", "utf-8")
    update = update_index(compile_kb(root))
    assert (update.added, update.changed, update.removed) == (1, 0, 1)
    assert ids(root, "vpn") == []
    assert ids(root, "wifi") == ["wifi"]


def test_a_new_language_rebuilds_the_index(write_kb) -> None:
    root = write_kb(ARTICLES)
    update_index(compile_kb(root))
    (root / "articles/network/vpn-de.md").write_text("---\nlang: de\n---\n# VPN verbinden\n", "utf-8")
    assert update_index(compile_kb(root)).rebuilt
    assert ids(root, "verbinden") == ["vpn-de"]


def test_an_index_in_an_older_format_is_rebuilt(write_kb) -> None:
    root = write_kb(ARTICLES)
    update_index(compile_kb(root))
    record = index_folder(root) / "kbengine-index.json"
    meta = json.loads(record.read_text("utf-8"))
    record.write_text(json.dumps({**meta, "schema": "1:" + meta["schema"].partition(":")[2]}), "utf-8")
    assert update_index(compile_kb(root)).rebuilt
    assert ids(root, "print queue") == ["clear-queue"]


def test_a_damaged_index_is_rebuilt_with_a_warning(write_kb, caplog: pytest.LogCaptureFixture) -> None:
    root = write_kb(ARTICLES)
    update_index(compile_kb(root))
    (root / "articles/network/vpn.md").write_text("# Connect to the VPN\n\nNew text.\n", "utf-8")
    for path in index_folder(root).iterdir():
        if path.name != "kbengine-index.json":
            path.write_bytes(b"\0garbage")
    with caplog.at_level(logging.WARNING, logger="kbengine"):
        assert ids(root, "print queue") == ["clear-queue"]
    assert "damaged" in caplog.text and "rebuilding" in caplog.text


def test_an_index_without_its_record_is_rebuilt_with_a_warning(write_kb, caplog) -> None:
    root = write_kb(ARTICLES)
    update_index(compile_kb(root))
    (index_folder(root) / "kbengine-index.json").unlink()
    with caplog.at_level(logging.WARNING, logger="kbengine"):
        assert ids(root, "vpn") == ["vpn"]
    assert "incomplete" in caplog.text


def test_a_killed_writer_does_not_lock_the_index(write_kb) -> None:
    root = write_kb(ARTICLES)
    update_index(compile_kb(root))
    # a process that takes the write lock and dies without releasing it
    script = ("import os, sys; from whoosh.index import open_dir; "
              "w = open_dir(sys.argv[1]).writer(); os.kill(os.getpid(), 9)")
    killed = subprocess.run([sys.executable, "-c", script, str(index_folder(root))], check=False)
    assert killed.returncode != 0
    (root / "articles/network/vpn.md").write_text("# Connect to the VPN\n\nUse Tunnelblick.\n", "utf-8")
    started = time.monotonic()
    assert ids(root, "tunnelblick") == ["vpn"]
    assert time.monotonic() - started < 3


def test_a_rebuild_leaves_no_folders_behind(write_kb) -> None:
    root = write_kb(ARTICLES)
    update_index(compile_kb(root))
    (index_folder(root) / "kbengine-index.json").write_text("{}", "utf-8")  # forces a rebuild
    update_index(compile_kb(root))
    folders = sorted(p.name for p in (root / ".kb").iterdir() if not p.name.endswith(".pickle"))
    assert folders == ["index"]


def test_a_killed_rebuilds_leftover_is_swept_away(write_kb) -> None:
    root = write_kb(ARTICLES)
    leftover = root / ".kb" / "index-new-killed"
    leftover.mkdir(parents=True)
    (leftover / "_MAIN_1.toc").write_bytes(b"half")
    old = time.time() - 3600
    os.utime(leftover, (old, old))
    update_index(compile_kb(root))
    assert not leftover.exists()


def test_a_kb_whose_cache_folder_cannot_be_written_is_searched_from_memory(write_kb, caplog) -> None:
    root = write_kb(ARTICLES)
    (root / ".kb").write_text("not a folder", "utf-8")
    with caplog.at_level(logging.WARNING, logger="kbengine"):
        assert ids(root, "print queue") == ["clear-queue"]
    assert "from memory" in caplog.text


def test_archived_articles_are_not_indexed(write_kb) -> None:
    root = write_kb({**ARTICLES, "articles/network/old-vpn.md": "---\nstatus: archived\n---\n# Old VPN\n"})
    index, _ = open_index(compile_kb(root))
    with index.ix.searcher() as searcher:
        keys = {fields["key"] for fields in searcher.all_stored_fields()}
    index.close()
    assert keys == {"article:clear-queue", "article:vpn"}
