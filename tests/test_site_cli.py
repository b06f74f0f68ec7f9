"""`kb build` and `kb serve` as a user runs them: exit codes, messages, JSON, atomic swaps."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbengine.cli import cli
from kbengine.cli.serve import _watch, source_state
from kbengine.site.server import PreviewState
from tests.conftest import WriteKB
from tests.test_site_build import SITE_KB, SUPPORT_CONFIG


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_build_prints_a_json_summary(write_kb: WriteKB, tmp_path: Path) -> None:
    root = write_kb(SITE_KB, SUPPORT_CONFIG)
    code, out, _err = run("build", "--root", str(root), "--json", "--no-search")
    summary = json.loads(out)
    assert code == 0 and summary["pages"] > 10 and summary["bytes"] > 0
    assert summary["languages"] == ["en", "nl"] and summary["out"] == str(root / "site")
    assert (root / "site" / "en" / "index.html").is_file()


def test_build_is_quiet_when_piped_except_for_the_result(write_kb: WriteKB) -> None:
    root = write_kb(SITE_KB, SUPPORT_CONFIG)
    code, out, err = run("build", "--root", str(root), "--no-search")
    assert code == 0 and out.startswith("Built ") and out.count("\n") == 1
    assert "Rendering" not in err and "\r" not in err and "\x1b" not in err  # no progress bar


def test_build_refuses_a_kb_with_errors_and_says_why(write_kb: WriteKB, tmp_path: Path) -> None:
    root = write_kb({"trees/broken.yaml": "title: Broken\nstart: nowhere\nnodes:\n  a: {solved: ok}\n"})
    code, _out, err = run("build", "--root", str(root))
    assert code == 1 and "Traceback" not in err
    assert "trees/broken.yaml:2:8: error KB403" in err and "not built" in err
    assert not (root / "site").exists()


def test_build_with_warnings_builds_and_counts_them(write_kb: WriteKB) -> None:
    files = dict(SITE_KB)
    files["articles/printing/typo.md"] = "# Typo\n\nSee [[no-such-article]].\n"
    root = write_kb(files, SUPPORT_CONFIG)
    _, report, _ = run("check", "--root", str(root), "--format", "json")
    warnings = [d for d in json.loads(report)["diagnostics"] if d["severity"] == "warning"]
    assert any(d["code"] == "KB502" and d["path"] == "articles/printing/typo.md" for d in warnings)
    code, _out, err = run("build", "--root", str(root), "--no-search")
    counted = re.search(r"(\d+) warning\(s\)", err)
    assert code == 0 and counted and int(counted.group(1)) == len(warnings)


def test_build_will_not_overwrite_a_folder_it_did_not_build(write_kb: WriteKB, tmp_path: Path) -> None:
    root = write_kb(SITE_KB, SUPPORT_CONFIG)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    code, _out, err = run("build", "--root", str(root), "--out", str(precious))
    assert code == 1 and "refusing to replace" in err and "Traceback" not in err
    assert (precious / "notes.txt").read_text() == "keep me"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_a_killed_build_leaves_the_previous_site_as_it_was(tmp_path: Path) -> None:
    """A second build updates the site in place, keeping each file's old version beside it: what a
    killed build changed is put back before anything else reads or builds the site."""
    from benchmarks.generate import generate
    from kbengine.site.output import remove_leftovers

    root = tmp_path / "kb"
    generate(root, articles=1200, trees=10, seed=1)
    subprocess.run([sys.executable, "-m", "kbengine", "build", "--root", str(root), "--no-search"],
                   check=True, capture_output=True)
    before = _snapshot(root / "site")
    for article in sorted((root / "articles").rglob("*.md"))[:50]:
        article.write_text(article.read_text() + "\nEdited.\n")
    build = subprocess.Popen([sys.executable, "-m", "kbengine", "build", "--root", str(root)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(root.glob(".site.undo-*/files/en/articles")) and time.monotonic() < deadline:
        time.sleep(0.01)
    build.send_signal(signal.SIGKILL)
    build.wait()
    assert list(root.glob(".site.undo-*")), "the build was not caught midway"
    remove_leftovers(root / "site")  # what the next build, or kb serve, does first
    assert _snapshot(root / "site") == before
    subprocess.run([sys.executable, "-m", "kbengine", "build", "--root", str(root), "--no-search"],
                   check=True, capture_output=True)
    assert not list(root.glob(".site.*")), "the next build clears what the killed one left"


@contextmanager
def serving(root: Path, *options: str) -> Iterator[str]:
    """Run `kb serve` on a free port; yield the address it prints."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen([sys.executable, "-m", "kbengine", "serve", "--root", str(root), "--port", "0",
                               *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = server.stdout.readline()  # type: ignore[union-attr]
        address = re.search(r"at (http://127\.0\.0\.1:\d+/\S*)", line)
        assert address, line + server.stderr.read()  # type: ignore[union-attr]
        yield address.group(1)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url) as response:
        return response.read().decode()


def test_serve_rebuilds_when_an_article_changes(write_kb: WriteKB) -> None:
    root = write_kb(SITE_KB, SUPPORT_CONFIG)
    with serving(root, "--no-search") as address:
        assert "Add a network printer" in fetch(address + "en/articles/add-printer/")
        article = root / "articles" / "printing" / "add-printer.md"
        article.write_text(article.read_text().replace("Add a network printer", "Add the FollowMe printer"))
        deadline = time.monotonic() + 30
        while "Add the FollowMe printer" not in fetch(address + "en/articles/add-printer/"):
            assert time.monotonic() < deadline, "the site was not rebuilt"
            time.sleep(0.2)


def test_an_edit_made_while_the_first_site_is_built_is_rebuilt(write_kb: WriteKB, tmp_path: Path) -> None:
    root = write_kb(SITE_KB, SUPPORT_CONFIG)
    state = source_state(root)  # as kb serve takes it: before it reads the KB and builds
    article = root / "articles" / "printing" / "add-printer.md"
    article.write_text(article.read_text().replace("Add a network printer", "Add the FollowMe printer"))
    out, stop = tmp_path / "site", threading.Event()
    watcher = threading.Thread(target=_watch,
                               args=(root, out, False, False, PreviewState(), stop, state, 0.1))
    watcher.start()  # only now: the edit came before the watcher's first look
    try:
        page = out / "en" / "articles" / "add-printer" / "index.html"
        deadline = time.monotonic() + 60
        while not page.is_file() or "Add the FollowMe printer" not in page.read_text():
            assert time.monotonic() < deadline, "the edit made during the first build was never built"
            time.sleep(0.2)
    finally:
        stop.set()
        watcher.join(10)


def test_serve_builds_and_serves_below_the_base_path(write_kb: WriteKB) -> None:
    root = write_kb(SITE_KB, SUPPORT_CONFIG + "base_url: /help/\n")
    with serving(root, "--no-watch") as address:
        assert address.endswith("/help/")
        with urllib.request.urlopen(address + "en/articles/add-printer/") as response:
            assert "Add a network printer" in response.read().decode()
        with urllib.request.urlopen(address + "pagefind/pagefind.js") as response:
            assert response.status == 200
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(address + "en/articles/nope/")
        assert missing.value.code == 404 and "Page not found" in missing.value.read().decode()
